"""HEP v3 (Homer Encapsulation Protocol): one packet decoded into :class:`HepPacket`, and back.

Wire format (the HEP3 specification, Kamailio's ``sipcapture/hep.h`` and heplify-server's
``decoder/hep.go``; docs/hep.md says where they disagree)::

    "HEP3" | total length (uint16, the whole packet) | chunk | chunk | ...
    chunk = vendor id (uint16, 0 = generic) | type (uint16) | length (uint16, the 6-byte
            chunk header included) | value

All numbers are big-endian. The generic chunk types 0x0001-0x0013 are decoded into fields of
:class:`HepPacket`; vendor chunks (vendor id not 0) and generic types this module does not
know (heplify's 0x0017 TCP flags, 0x0018 IP TOS, 0x0020 MOS ...) are kept, undecoded, in
``extra`` so that a packet re-encodes to what it was. A chunk type that appears twice: the
last one wins (as in both Kamailio and heplify-server).

Malformed input raises :class:`HepError` (and nothing else, for any bytes): a packet shorter
than its header, a magic other than ``HEP3``, a total length unlike the packet's size, a chunk
header or value running past the end, a chunk length under 6 (a zero-length chunk included),
the reserved generic type 0, a fixed-size chunk of the wrong size (family, protocol and
payload type 1 byte, ports, keep-alive and VLAN 2, IPv4 addresses, times and node id 4, IPv6
addresses 16), an IP family other than 2 (IPv4) or 10 (IPv6) or disagreeing with the address
chunks, both a payload and a compressed payload, and a compressed payload that is not a
gzip (or zlib) stream or expands past ``max_payload`` bytes (decompression stops there: no
gzip bomb is ever expanded).
"""

from __future__ import annotations

import operator
import socket
import struct
import zlib
from dataclasses import dataclass

from sipstatus.hep._errors import HepError

MAGIC = b"HEP3"
#: The most a HEP packet can hold: its total length is a 16-bit field.
MAX_PACKET = 65_535
#: Default bound on a decompressed payload (chunk 0x0010).
MAX_PAYLOAD = 1 << 20

# Generic chunk types (vendor id 0).
IP_FAMILY = 0x0001
IP_PROTOCOL = 0x0002
IPV4_SRC = 0x0003
IPV4_DST = 0x0004
IPV6_SRC = 0x0005
IPV6_DST = 0x0006
SRC_PORT = 0x0007
DST_PORT = 0x0008
TIME_SEC = 0x0009
TIME_USEC = 0x000A
PAYLOAD_TYPE = 0x000B
NODE_ID = 0x000C
KEEP_ALIVE = 0x000D
AUTH_KEY = 0x000E
PAYLOAD = 0x000F
COMPRESSED_PAYLOAD = 0x0010
CORRELATION_ID = 0x0011
VLAN = 0x0012
NODE_NAME = 0x0013

#: Chunk type names, as docs/hep.md gives them.
CHUNK_NAMES = {
    IP_FAMILY: "IP family", IP_PROTOCOL: "IP protocol", IPV4_SRC: "IPv4 source address",
    IPV4_DST: "IPv4 destination address", IPV6_SRC: "IPv6 source address",
    IPV6_DST: "IPv6 destination address", SRC_PORT: "source port",
    DST_PORT: "destination port", TIME_SEC: "timestamp seconds",
    TIME_USEC: "timestamp microseconds", PAYLOAD_TYPE: "payload type",
    NODE_ID: "capture node id", KEEP_ALIVE: "keep-alive timer", AUTH_KEY: "authentication key",
    PAYLOAD: "payload", COMPRESSED_PAYLOAD: "compressed payload",
    CORRELATION_ID: "correlation id", VLAN: "VLAN id", NODE_NAME: "capture node name",
}

# IP families (the values of chunk 0x0001, as Linux's AF_INET / AF_INET6) and payload types.
FAMILY_IPV4 = 2
FAMILY_IPV6 = 10
PAYLOAD_SIP = 1
#: Payload types known by name (heplify, heplify-server, HEPop).
PAYLOAD_TYPES = {1: "sip", 5: "rtcp", 32: "report", 34: "rtp agent report", 35: "rtcp-xr",
                 38: "horaclifix", 53: "dns", 54: "isup", 99: "report", 100: "log"}

_SIZES = {IP_FAMILY: 1, IP_PROTOCOL: 1, IPV4_SRC: 4, IPV4_DST: 4, IPV6_SRC: 16, IPV6_DST: 16,
          SRC_PORT: 2, DST_PORT: 2, TIME_SEC: 4, TIME_USEC: 4, PAYLOAD_TYPE: 1, NODE_ID: 4,
          KEEP_ALIVE: 2, VLAN: 2}
#: Chunk length (header included) of each fixed-size generic type, by type; 0: variable,
#: -1: the reserved type 0.
_SIZE_OF = [-1] + [(_SIZES[t] + 6) if t in _SIZES else 0 for t in range(1, NODE_NAME + 1)]
_HEADER = struct.Struct("!4sH")
_header_at = _HEADER.unpack_from
_CHUNK = struct.Struct("!HHH")
_chunk_at = _CHUNK.unpack_from
_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")
_MAX_NAMES = 8192
_names: dict[bytes, str] = {}


def _address(raw: bytes) -> str:
    name = _names.get(raw)
    if name is None:
        name = socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, raw)
        if len(_names) < _MAX_NAMES:
            _names[raw] = name
    return name


@dataclass(frozen=True, slots=True)
class HepPacket:
    """One HEP v3 packet. A field is ``None`` when its chunk is absent.

    ``src_ip`` / ``dst_ip`` are address texts (IPv4 dotted, IPv6 as ``inet_ntop`` writes it),
    from chunks 0x0003/0x0004 or 0x0005/0x0006. ``auth_key``, ``correlation_id`` and
    ``node_name`` are the chunks' bytes decoded as UTF-8 with surrogate escapes (lossless:
    any bytes come back on encoding). ``compressed``: the payload travels gzip-compressed in
    chunk 0x0010 (decoded, ``payload`` holds it expanded). ``extra``: vendor chunks and
    unknown generic chunks as ``(vendor id, type, value)``, in the order met.
    """

    ip_family: int | None = None
    ip_protocol: int | None = None
    src_ip: str | None = None
    dst_ip: str | None = None
    src_port: int | None = None
    dst_port: int | None = None
    time_sec: int | None = None
    time_usec: int | None = None
    payload_type: int | None = None
    node_id: int | None = None
    keep_alive: int | None = None
    auth_key: str | None = None
    payload: bytes | None = None
    compressed: bool = False
    correlation_id: str | None = None
    vlan: int | None = None
    node_name: str | None = None
    extra: tuple[tuple[int, int, bytes], ...] = ()

    @property
    def transport(self) -> str:
        """``"udp"`` (protocol 17, or none given), ``"tcp"`` (6), ``"sctp"`` (132), or the
        protocol number in decimal."""
        proto = self.ip_protocol
        if proto is None or proto == 17:
            return "udp"
        if proto == 6:
            return "tcp"
        if proto == 132:
            return "sctp"
        return str(proto)

    def __bytes__(self) -> bytes:
        return encode(self)


def _text(value: bytes) -> str:
    return value.decode("utf-8", "surrogateescape")


def _chunks(data: bytes) -> tuple[list[int], list[tuple[int, int, bytes]], _Layout | None]:
    """Walk the chunks of ``data``: the position (of the header) of the last chunk of each
    generic type this module decodes, indexed by type (0: absent), the other chunks, and the
    layout its fixed-size chunks matched if none came after it (its values can then be read
    in one unpack). Every structural check is here."""
    size = len(data)
    if size < 6:
        raise HepError(f"a packet of {size} bytes is shorter than the HEP header", offset=0,
                       expected='"HEP3" and a 16-bit total length (6 bytes)')
    magic, length = _header_at(data, 0)
    if magic != MAGIC:
        raise HepError(f"magic {magic!r} is not HEP v3", offset=0, expected='"HEP3"')
    if length != size:
        raise HepError(f"total length field says {length} bytes but the packet has {size}",
                       offset=4, expected=f"{size}")
    extra: list[tuple[int, int, bytes]] = []
    sizes = _SIZE_OF
    chunk_at = _chunk_at
    pos = 6
    # Fast path: senders write their fixed-size chunks in the same order every time, so the
    # chunk headers of the last such run seen are checked in one unpack and one comparison
    # (the checks of the walk below hold for them by construction: vendor 0, a known type,
    # its exact length, inside the packet).
    last = _layout
    layout: _Layout | None = last
    if size >= last.end and last.headers(data, 6) == last.expected:
        where = last.where.copy()
        pos = last.end
        learn = False
    else:
        where = [0] * (NODE_NAME + 1)
        learn = True
        layout = None
    while pos < size:
        if pos + 6 > size:
            raise HepError(f"a chunk header runs past the end of the packet ({size} bytes)",
                           offset=pos, expected="a 6-byte chunk header")
        vendor, ctype, clen = chunk_at(data, pos)
        end = pos + clen
        if clen < 6 or end > size:
            if clen < 6:
                raise HepError(f"chunk length {clen} is shorter than the chunk header",
                               offset=pos, expected="a chunk length of at least 6")
            raise HepError(f"a chunk of {clen} bytes runs past the end of the packet "
                           f"({size} bytes)", offset=pos,
                           expected=f"a chunk length of at most {size - pos}")
        if vendor == 0 and ctype <= NODE_NAME:
            want = sizes[ctype]
            if want:
                if clen != want:
                    if want < 0:
                        raise HepError("generic chunk type 0 is reserved", offset=pos,
                                       expected="a chunk type from 0x0001")
                    raise HepError(f"chunk 0x{ctype:04x} ({CHUNK_NAMES[ctype]}) has "
                                   f"{clen - 6} value bytes", offset=pos, expected=f"{want - 6}")
                layout = None  # a fixed-size chunk after the layout: read by position
            where[ctype] = pos
        else:
            extra.append((vendor, ctype, data[pos + 6:end]))
        pos = end
    if learn:
        _learn(data)
    return where, extra, layout


class _Layout:
    """A run of fixed-size generic chunks at the start of a packet: a struct unpacking their
    headers (values skipped), the headers expected, the positions they give, and the end."""

    __slots__ = ("end", "expected", "families", "family", "headers", "pick", "values",
                 "where")

    def __init__(self, chunks: list[tuple[int, int]]) -> None:
        fmt = "!" + "".join(f"HHH{length - 6}x" for _ctype, length in chunks)
        self.headers = struct.Struct(fmt).unpack_from
        self.expected = tuple(x for ctype, length in chunks for x in (0, ctype, length))
        self.where = [0] * (NODE_NAME + 1)
        pos = 6
        index: dict[int, int] = {}
        for n, (ctype, length) in enumerate(chunks):
            self.where[ctype] = pos
            pos += length
            index[ctype] = n  # the last of a type wins
        self.end = pos if chunks else MAX_PACKET + 1
        # The values in one unpack (the headers skipped), with the defaults of absent fields
        # after them (None, 0, b""), and the fields decode_message returns picked from them.
        self.values = struct.Struct("!" + "".join(
            f"6x{_VALUE_FORMATS[ctype]}" for ctype, _length in chunks)).unpack_from
        count = len(chunks)
        none, zero, empty = count, count + 1, count + 2
        get = index.get
        v4 = IPV4_SRC in index or IPV4_DST in index
        v6 = IPV6_SRC in index or IPV6_DST in index
        src = get(IPV6_SRC, empty) if v6 else get(IPV4_SRC, empty)
        dst = get(IPV6_DST, empty) if v6 else get(IPV4_DST, empty)
        self.family = get(IP_FAMILY, none)
        # the family values that agree with the address chunks (none if both families are)
        self.families = (frozenset() if v4 and v6 else
                         frozenset((FAMILY_IPV6,)) if v6 else
                         frozenset((FAMILY_IPV4,)) if v4 else
                         frozenset((FAMILY_IPV4, FAMILY_IPV6)))
        self.pick = operator.itemgetter(
            get(PAYLOAD_TYPE, none), get(TIME_SEC, zero), get(TIME_USEC, zero), src,
            get(SRC_PORT, zero), dst, get(DST_PORT, zero), get(IP_PROTOCOL, none))


def _learn(data: bytes) -> None:
    """Keep the run of fixed-size generic chunks that starts ``data`` (a well-formed packet)
    as the layout the next packets are checked against."""
    global _layout
    chunks: list[tuple[int, int]] = []
    pos = 6
    while pos + 6 <= len(data):
        vendor, ctype, clen = _chunk_at(data, pos)
        if vendor or ctype > NODE_NAME or _SIZE_OF[ctype] <= 0:
            break
        chunks.append((ctype, clen))
        pos += clen
    if len(chunks) >= 2:
        _layout = _Layout(chunks)


_VALUE_FORMATS = {IP_FAMILY: "B", IP_PROTOCOL: "B", IPV4_SRC: "4s", IPV4_DST: "4s",
                  IPV6_SRC: "16s", IPV6_DST: "16s", SRC_PORT: "H", DST_PORT: "H",
                  TIME_SEC: "I", TIME_USEC: "I", PAYLOAD_TYPE: "B", NODE_ID: "I",
                  KEEP_ALIVE: "H", VLAN: "H"}
_DEFAULTS = (None, 0, b"")
_layout = _Layout([])


def _value(data: bytes, where: list[int], ctype: int) -> bytes | None:
    pos = where[ctype]
    if not pos:
        return None
    return data[pos + 6:pos + _U16.unpack_from(data, pos + 4)[0]]


def _addresses(data: bytes, where: list[int]) -> tuple[int | None, str, str]:
    """The IP family (``None`` if absent) and the source and destination address texts
    (``""`` if absent), checked together."""
    pos = where[IP_FAMILY]
    fam = data[pos + 6] if pos else None
    if fam is not None and fam != FAMILY_IPV4 and fam != FAMILY_IPV6:
        raise HepError(f"IP family {fam} is neither IPv4 nor IPv6", offset=pos,
                       expected="2 (IPv4) or 10 (IPv6)")
    s4, d4, s6, d6 = where[IPV4_SRC:IPV6_DST + 1]
    if s6 or d6:
        if s4 or d4:
            raise HepError("both IPv4 and IPv6 address chunks", offset=max(s6, d6),
                           expected="the addresses of one family")
        if fam == FAMILY_IPV4:
            raise HepError(f"an IPv6 address in a packet of IP family {fam}",
                           offset=max(s6, d6), expected="IPv4 address chunks")
        return (fam, _address(data[s6 + 6:s6 + 22]) if s6 else "",
                _address(data[d6 + 6:d6 + 22]) if d6 else "")
    if (s4 or d4) and fam == FAMILY_IPV6:
        raise HepError(f"an IPv4 address in a packet of IP family {fam}",
                       offset=max(s4, d4), expected="IPv6 address chunks")
    return (fam, _address(data[s4 + 6:s4 + 10]) if s4 else "",
            _address(data[d4 + 6:d4 + 10]) if d4 else "")


def _payload(data: bytes, where: list[int], max_payload: int) -> bytes | None:
    pos = where[PAYLOAD]
    payload = data[pos + 6:pos + _U16.unpack_from(data, pos + 4)[0]] if pos else None
    packed = where[COMPRESSED_PAYLOAD]
    if packed:
        if payload is not None:
            raise HepError("both a payload and a compressed payload",
                           offset=max(pos, packed),
                           expected="one payload chunk (0x000f or 0x0010)")
        payload = _gunzip(_value(data, where, COMPRESSED_PAYLOAD) or b"", packed, max_payload)
    return payload


def _u8(data: bytes, where: list[int], ctype: int) -> int | None:
    pos = where[ctype]
    return data[pos + 6] if pos else None


def _u16_at(data: bytes, where: list[int], ctype: int) -> int | None:
    pos = where[ctype]
    return _U16.unpack_from(data, pos + 6)[0] if pos else None


def _u32_at(data: bytes, where: list[int], ctype: int) -> int | None:
    pos = where[ctype]
    return _U32.unpack_from(data, pos + 6)[0] if pos else None


def _text_at(data: bytes, where: list[int], ctype: int) -> str | None:
    value = _value(data, where, ctype)
    return _text(value) if value is not None else None


def decode(data: bytes | bytearray | memoryview, *, max_payload: int = MAX_PAYLOAD
           ) -> HepPacket:
    """Decode one HEP v3 packet (``data`` is exactly the packet: a datagram, or a frame cut
    from a stream by its length). Raises :class:`HepError`, and only that."""
    if type(data) is not bytes:
        data = bytes(data)
    where, extra, _layout_matched = _chunks(data)
    fam, src, dst = _addresses(data, where)
    return HepPacket(
        ip_family=fam, ip_protocol=_u8(data, where, IP_PROTOCOL),
        src_ip=src if where[IPV4_SRC] or where[IPV6_SRC] else None,
        dst_ip=dst if where[IPV4_DST] or where[IPV6_DST] else None,
        src_port=_u16_at(data, where, SRC_PORT), dst_port=_u16_at(data, where, DST_PORT),
        time_sec=_u32_at(data, where, TIME_SEC), time_usec=_u32_at(data, where, TIME_USEC),
        payload_type=_u8(data, where, PAYLOAD_TYPE), node_id=_u32_at(data, where, NODE_ID),
        keep_alive=_u16_at(data, where, KEEP_ALIVE),
        auth_key=_text_at(data, where, AUTH_KEY),
        payload=_payload(data, where, max_payload),
        compressed=bool(where[COMPRESSED_PAYLOAD]),
        correlation_id=_text_at(data, where, CORRELATION_ID),
        vlan=_u16_at(data, where, VLAN), node_name=_text_at(data, where, NODE_NAME),
        extra=tuple(extra))


# What decode_message returns: payload type (None if absent), seconds, microseconds, src,
# sport, dst, dport, IP protocol (None if absent), payload (None if absent).
Message = tuple[int | None, int, int, str, int, str, int, int | None, bytes | None]


def decode_message(data: bytes, *, max_payload: int = MAX_PAYLOAD) -> Message:
    """The fields a capture source needs of one packet, with exactly the checks of
    :func:`decode` (the same :class:`HepError` for the same bytes), without building a
    :class:`HepPacket`: the hot path of HEP sources. Absent numbers are 0, absent
    addresses ``""``."""
    where, _extra, layout = _chunks(data)
    if layout is not None:  # the values of the fixed-size chunks in one unpack
        values = layout.values(data, 6) + _DEFAULTS
        fam = values[layout.family]
        if (fam is None and layout.families) or fam in layout.families:
            ptype, tsec, tusec, src_raw, sport, dst_raw, dport, proto = layout.pick(values)
            return (ptype, tsec, tusec, _address(src_raw) if src_raw else "", sport,
                    _address(dst_raw) if dst_raw else "", dport, proto,
                    _payload(data, where, max_payload))
    _fam, src, dst = _addresses(data, where)  # raises what is wrong
    u16, u32 = _U16.unpack_from, _U32.unpack_from
    ptype, proto, sport, dport, tsec, tusec = (where[PAYLOAD_TYPE], where[IP_PROTOCOL],
                                               where[SRC_PORT], where[DST_PORT],
                                               where[TIME_SEC], where[TIME_USEC])
    return (data[ptype + 6] if ptype else None,
            u32(data, tsec + 6)[0] if tsec else 0, u32(data, tusec + 6)[0] if tusec else 0,
            src, u16(data, sport + 6)[0] if sport else 0,
            dst, u16(data, dport + 6)[0] if dport else 0,
            data[proto + 6] if proto else None, _payload(data, where, max_payload))


#: The header of a correlation id chunk (vendor 0, type 0x0011): where it is not in a
#: packet's bytes, the packet has none (a match may be in another chunk's value).
CORRELATION_HEADER = b"\x00\x00\x00\x11"


def correlation_of(data: bytes) -> str | None:
    """The correlation id (chunk 0x0011) of a packet :func:`decode_message` accepted."""
    if CORRELATION_HEADER not in data:
        return None
    where, _extra, _layout = _chunks(data)
    return _text_at(data, where, CORRELATION_ID)


def _gunzip(packed: bytes, offset: int, max_payload: int) -> bytes:
    """A gzip (or zlib) stream expanded to at most ``max_payload`` bytes."""
    inflate = zlib.decompressobj(32 + zlib.MAX_WBITS)  # gzip or zlib header, detected
    try:
        out = inflate.decompress(packed, max_payload + 1)
    except zlib.error as exc:
        raise HepError(f"compressed payload is not a gzip or zlib stream: {exc}",
                       offset=offset, expected="gzip data") from None
    if len(out) > max_payload:
        raise HepError(f"compressed payload expands past {max_payload} bytes", offset=offset,
                       expected=f"at most {max_payload} bytes once expanded")
    if not inflate.eof:
        raise HepError("compressed payload ends inside its gzip stream", offset=offset,
                       expected="a complete gzip stream")
    if inflate.unused_data:
        raise HepError(f"{len(inflate.unused_data)} bytes after the compressed payload's "
                       f"gzip stream", offset=offset, expected="one gzip stream")
    return out


def _number(value: int | None, size: int, name: str, offset: int) -> bytes:
    if value is None:
        return b""
    if not 0 <= value < 1 << (8 * size):
        raise HepError(f"cannot encode {name} {value}", offset=offset,
                       expected=f"an unsigned {8 * size}-bit number")
    return value.to_bytes(size, "big")


def encode(packet: HepPacket) -> bytes:
    """The HEP v3 bytes of ``packet`` (chunks in type order, ``extra`` last, the payload
    gzip-compressed in chunk 0x0010 if ``compressed``). Raises :class:`HepError` for a field
    out of range, an address that is not one, addresses of mixed or other families than
    ``ip_family``, or a packet longer than 65,535 bytes."""
    out = bytearray(b"HEP3\0\0")
    chunk = _CHUNK.pack

    def add(ctype: int, value: bytes, vendor: int = 0) -> None:
        if len(value) > MAX_PACKET - 6:
            raise HepError(f"chunk 0x{ctype:04x} of {len(value)} value bytes is too long",
                           offset=len(out), expected=f"at most {MAX_PACKET - 6} value bytes")
        out.extend(chunk(vendor, ctype, 6 + len(value)))
        out.extend(value)

    fam = packet.ip_family
    if fam is not None:
        if fam not in (FAMILY_IPV4, FAMILY_IPV6):
            raise HepError(f"cannot encode IP family {fam}", offset=len(out),
                           expected="2 (IPv4) or 10 (IPv6)")
        add(IP_FAMILY, bytes((fam,)))
    if packet.ip_protocol is not None:
        add(IP_PROTOCOL, _number(packet.ip_protocol, 1, "IP protocol", len(out)))
    families = set()
    for ctype, text in ((IPV4_SRC, packet.src_ip), (IPV4_DST, packet.dst_ip)):
        if text is None:
            continue
        raw = _pack_address(text, len(out))
        families.add(len(raw))
        add(ctype if len(raw) == 4 else ctype + 2, raw)
    if len(families) > 1 or (fam is not None and families
                             and families != {4 if fam == FAMILY_IPV4 else 16}):
        raise HepError("addresses of mixed families, or not of ip_family", offset=len(out),
                       expected="addresses of one family, that of ip_family")
    numbers: tuple[tuple[int, int | None, int], ...] = (
        (SRC_PORT, packet.src_port, 2), (DST_PORT, packet.dst_port, 2),
        (TIME_SEC, packet.time_sec, 4), (TIME_USEC, packet.time_usec, 4),
        (PAYLOAD_TYPE, packet.payload_type, 1), (NODE_ID, packet.node_id, 4),
        (KEEP_ALIVE, packet.keep_alive, 2))
    for ctype, number, size in numbers:
        if number is not None:
            add(ctype, _number(number, size, CHUNK_NAMES[ctype], len(out)))
    if packet.auth_key is not None:
        add(AUTH_KEY, packet.auth_key.encode("utf-8", "surrogateescape"))
    if packet.correlation_id is not None:
        add(CORRELATION_ID, packet.correlation_id.encode("utf-8", "surrogateescape"))
    if packet.vlan is not None:
        add(VLAN, _number(packet.vlan, 2, "VLAN id", len(out)))
    if packet.node_name is not None:
        add(NODE_NAME, packet.node_name.encode("utf-8", "surrogateescape"))
    for vendor, ctype, value in packet.extra:
        if vendor == 0 and ctype <= NODE_NAME:
            raise HepError(f"extra chunk 0x{ctype:04x} is a generic type this module decodes",
                           offset=len(out), expected="a vendor chunk or an unknown type")
        add(_u16(ctype, len(out)), value, _u16(vendor, len(out)))
    if packet.payload is not None:
        if packet.compressed:
            add(COMPRESSED_PAYLOAD, _gzip(packet.payload))
        else:
            add(PAYLOAD, packet.payload)
    elif packet.compressed:
        raise HepError("compressed is set but there is no payload", offset=len(out),
                       expected="a payload")
    if len(out) > MAX_PACKET:
        raise HepError(f"the packet would be {len(out)} bytes long", offset=0,
                       expected=f"at most {MAX_PACKET} bytes")
    out[4:6] = _U16.pack(len(out))
    return bytes(out)


def _u16(value: int, offset: int) -> int:
    if not 0 <= value <= 0xFFFF:
        raise HepError(f"cannot encode chunk field {value}", offset=offset,
                       expected="an unsigned 16-bit number")
    return value


def _gzip(data: bytes) -> bytes:
    deflate = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return deflate.compress(data) + deflate.flush()


def _pack_address(text: str, offset: int) -> bytes:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            return socket.inet_pton(family, text)
        except (OSError, ValueError):
            continue
    raise HepError(f"{text!r} is not an IPv4 or IPv6 address", offset=offset,
                   expected="an address text")
