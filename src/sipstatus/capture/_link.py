"""Link layers: find the IP header inside a captured frame.

Supported link types (numbers from the tcpdump.org LINKTYPE registry):
0 BSD loopback/NULL (host byte order), 108 OpenBSD loopback (network byte order), 1 Ethernet
with any number of 802.1Q / 802.1ad / QinQ tags, 113 Linux cooked SLL (also with a VLAN tag),
276 Linux cooked SLL2, 101 / 12 / 14 raw IP, 228 raw IPv4, 229 raw IPv6.

:func:`network_offset` answers ``(ip_version, offset)``; version 0 means "not IP" (ARP, LLDP,
an unsupported link type, a frame too short): such frames are skipped, not errors (the caller
warns once per link type it does not read, named by :func:`linktype_name`).
"""

from __future__ import annotations

ETHERNET = 1
NULL = 0
LOOP = 108
LINUX_SLL = 113
LINUX_SLL2 = 276
RAW = 101
IPV4 = 228
IPV6 = 229

LINKTYPES = {
    NULL: "BSD loopback", ETHERNET: "Ethernet", 12: "raw IP", 14: "raw IP", RAW: "raw IP",
    LOOP: "OpenBSD loopback", LINUX_SLL: "Linux cooked (SLL)", LINUX_SLL2: "Linux cooked (SLL2)",
    IPV4: "raw IPv4", IPV6: "raw IPv6",
}
#: Names of common link types that are not read, for the warning that names them.
UNREAD_LINKTYPES = {
    6: "IEEE 802.5 Token Ring", 9: "PPP", 10: "FDDI", 50: "PPP in HDLC framing",
    51: "PPPoE", 104: "Cisco HDLC", 105: "IEEE 802.11", 107: "Frame Relay",
    119: "IEEE 802.11 Prism", 127: "IEEE 802.11 radiotap", 140: "SS7 MTP2",
    **{147 + n: f"USER{n}" for n in range(16)},
    163: "IEEE 802.11 AVS", 189: "Linux USB", 192: "PPI", 195: "IEEE 802.15.4",
    201: "Bluetooth HCI H4", 220: "Linux USB (memory-mapped)", 227: "SocketCAN",
    239: "Linux NFLOG", 249: "USBPcap", 252: "Wireshark upper PDU", 253: "Linux netlink",
}


def linktype_name(linktype: int) -> str:
    """``"147 (USER0)"``: the number, and the name when it is known."""
    name = LINKTYPES.get(linktype) or UNREAD_LINKTYPES.get(linktype)
    return f"{linktype} ({name})" if name else str(linktype)

_VLAN_TAGS = frozenset((0x8100, 0x88A8, 0x9100))
# Address-family values of IPv6 in NULL/LOOP headers: Linux 10, NetBSD/OpenBSD 24,
# FreeBSD 28, macOS 30.
_AF_INET6 = frozenset((10, 24, 28, 30))


def _by_version(data: bytes, offset: int) -> tuple[int, int]:
    if len(data) <= offset:
        return 0, 0
    version = data[offset] >> 4
    return (version, offset) if version == 4 or version == 6 else (0, 0)


def _by_ethertype(data: bytes, etype: int, offset: int) -> tuple[int, int]:
    while etype in _VLAN_TAGS and len(data) >= offset + 4:
        etype = (data[offset + 2] << 8) | data[offset + 3]
        offset += 4
    if etype == 0x0800:
        return 4, offset
    if etype == 0x86DD:
        return 6, offset
    return 0, 0


def network_offset(linktype: int, data: bytes) -> tuple[int, int]:
    """Return ``(4 or 6, offset of the IP header)`` for one frame, or ``(0, 0)`` if not IP."""
    if linktype == ETHERNET:
        if len(data) < 14:
            return 0, 0
        return _by_ethertype(data, (data[12] << 8) | data[13], 14)
    if linktype == LINUX_SLL:
        if len(data) < 16:
            return 0, 0
        return _by_ethertype(data, (data[14] << 8) | data[15], 16)
    if linktype == LINUX_SLL2:
        if len(data) < 20:
            return 0, 0
        return _by_ethertype(data, (data[0] << 8) | data[1], 20)
    if linktype in (NULL, LOOP):
        if len(data) < 4:
            return 0, 0
        # NULL is in the capturing host's byte order; a family is < 256, so whichever end
        # holds the non-zero byte tells the order.
        family = data[0] | data[3] if linktype == NULL else data[3]
        if family == 2:
            return _by_version(data, 4)
        if family in _AF_INET6:
            return _by_version(data, 4)
        return 0, 0
    if linktype == RAW or linktype == 12 or linktype == 14:
        return _by_version(data, 0)
    if linktype in (IPV4, IPV6):
        return _by_version(data, 0)
    return 0, 0
