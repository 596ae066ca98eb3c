"""Write synthetic captures from code: SIP messages in UDP or TCP, in IPv4 or IPv6, in any of
the link layers sipstatus reads, as pcap (either byte order, micro- or nanoseconds) or pcapng
(several interfaces), optionally gzip-compressed. Addresses are from the documentation ranges
(RFC 5737, RFC 3849).

Used by the tests and by bench/bench_scan.py; it is test tooling, not part of the package.
"""

from __future__ import annotations

import gzip
import socket
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ETHERNET, NULL, RAW, LINUX_SLL, LINUX_SLL2, LOOP = 1, 0, 101, 113, 276, 108
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


@dataclass(frozen=True, slots=True)
class Frame:
    """One captured frame: link-layer bytes, its time and interface."""

    time_ns: int
    data: bytes
    linktype: int = ETHERNET
    interface: int = 0


# --- SIP ---------------------------------------------------------------------------------


def request(method: str, *, call_id: str = "call-1@192.0.2.10", cseq: int = 1,
            cseq_method: str | None = None, branch: str = "z9hG4bK-1",
            from_tag: str = "ft1", to_tag: str = "", body: bytes = b"",
            uri: str = "sip:bob@192.0.2.20", transport: str = "UDP",
            extra: Sequence[str] = ()) -> bytes:
    to = "<sip:bob@192.0.2.20>" + (f";tag={to_tag}" if to_tag else "")
    lines = [
        f"{method} {uri} SIP/2.0",
        f"Via: SIP/2.0/{transport} 192.0.2.10:5060;branch={branch}",
        "Max-Forwards: 70",
        f"From: \"Alice\" <sip:alice@192.0.2.10>;tag={from_tag}",
        f"To: {to}",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} {cseq_method or method}",
        "Contact: <sip:alice@192.0.2.10:5060>",
        *extra,
        f"Content-Length: {len(body)}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def response(code: int, reason: str, *, call_id: str = "call-1@192.0.2.10", cseq: int = 1,
             method: str = "INVITE", branch: str = "z9hG4bK-1", from_tag: str = "ft1",
             to_tag: str = "tt1", body: bytes = b"", transport: str = "UDP",
             extra: Sequence[str] = ()) -> bytes:
    lines = [
        f"SIP/2.0 {code} {reason}",
        f"Via: SIP/2.0/{transport} 192.0.2.10:5060;branch={branch}",
        f"From: \"Alice\" <sip:alice@192.0.2.10>;tag={from_tag}",
        "To: <sip:bob@192.0.2.20>" + (f";tag={to_tag}" if to_tag else ""),
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} {method}",
        *extra,
        f"Content-Length: {len(body)}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# --- IP and transport --------------------------------------------------------------------


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _addr(text: str) -> bytes:
    return socket.inet_pton(socket.AF_INET6 if ":" in text else socket.AF_INET, text)


def _pseudo(src: str, dst: str, proto: int, length: int) -> bytes:
    if ":" in src:
        return _addr(src) + _addr(dst) + struct.pack("!IxxxB", length, proto)
    return _addr(src) + _addr(dst) + struct.pack("!xBH", proto, length)


def udp(src: str, sport: int, dst: str, dport: int, payload: bytes) -> bytes:
    """A UDP datagram (header + payload) with a correct checksum."""
    header = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    csum = _checksum(_pseudo(src, dst, 17, 8 + len(payload)) + header + payload) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), csum) + payload


def tcp(src: str, sport: int, dst: str, dport: int, seq: int, payload: bytes = b"", *,
        flags: int = PSH | ACK, ack: int = 1) -> bytes:
    """A TCP segment with a 20-byte header and a correct checksum."""
    def build(csum: int) -> bytes:
        return struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack, 5 << 4, flags,
                           65535, csum, 0) + payload
    csum = _checksum(_pseudo(src, dst, 6, 20 + len(payload)) + build(0))
    return build(csum)


def ipv4(src: str, dst: str, proto: int, payload: bytes, *, ident: int = 1,
         frag_offset: int = 0, more: bool = False, dont_fragment: bool = False) -> bytes:
    flags = (0x2000 if more else 0) | (0x4000 if dont_fragment else 0) | (frag_offset // 8)
    def build(csum: int) -> bytes:
        return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, flags, 64, proto,
                           csum, _addr(src), _addr(dst))
    return build(_checksum(build(0))) + payload


def ipv6(src: str, dst: str, next_header: int, payload: bytes) -> bytes:
    """An IPv6 packet; ``payload`` may start with extension headers (``next_header`` names
    the first)."""
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), next_header, 64, _addr(src),
                       _addr(dst)) + payload


def hop_by_hop(next_header: int) -> bytes:
    """An 8-byte Hop-by-Hop Options header holding a PadN option."""
    return struct.pack("!BB", next_header, 0) + b"\x01\x04\0\0\0\0"


def ipv4_fragments(src: str, dst: str, proto: int, payload: bytes, size: int, *,
                   ident: int = 7) -> list[bytes]:
    """Cut ``payload`` into IPv4 fragments of ``size`` bytes (a multiple of 8)."""
    pieces = []
    for start in range(0, len(payload), size):
        chunk = payload[start:start + size]
        more = start + size < len(payload)
        pieces.append(ipv4(src, dst, proto, chunk, ident=ident, frag_offset=start, more=more))
    return pieces


def ipv6_fragments(src: str, dst: str, proto: int, payload: bytes, size: int, *,
                   ident: int = 7) -> list[bytes]:
    pieces = []
    for start in range(0, len(payload), size):
        chunk = payload[start:start + size]
        more = start + size < len(payload)
        header = struct.pack("!BxHI", proto, start | int(more), ident)
        pieces.append(ipv6(src, dst, 44, header + chunk))
    return pieces


# --- link layers -------------------------------------------------------------------------


def _ethertype(ip: bytes) -> int:
    return 0x86DD if ip[0] >> 4 == 6 else 0x0800


def ethernet(ip: bytes, *, vlans: Sequence[int] = ()) -> bytes:
    tags = b"".join(struct.pack("!HH", 0x8100, vid) for vid in vlans)
    return (b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + tags
            + struct.pack("!H", _ethertype(ip)) + ip)


def sll(ip: bytes) -> bytes:
    return struct.pack("!HHH8sH", 0, 1, 6, b"\x02\0\0\0\0\x01\0\0", _ethertype(ip)) + ip


def sll2(ip: bytes) -> bytes:
    return struct.pack("!HHIHBB8s", _ethertype(ip), 0, 1, 1, 0, 6, b"\x02\0\0\0\0\x01\0\0") + ip


def null(ip: bytes, *, big_endian: bool = False) -> bytes:
    family = 2 if ip[0] >> 4 == 4 else 30
    return struct.pack(">I" if big_endian else "<I", family) + ip


def link(linktype: int, ip: bytes) -> bytes:
    if linktype == ETHERNET:
        return ethernet(ip)
    if linktype == LINUX_SLL:
        return sll(ip)
    if linktype == LINUX_SLL2:
        return sll2(ip)
    if linktype == NULL:
        return null(ip)
    if linktype == LOOP:
        return null(ip, big_endian=True)
    return ip


def ip_packet(src: str, dst: str, proto: int, segment: bytes) -> bytes:
    return ipv6(src, dst, proto, segment) if ":" in src else ipv4(src, dst, proto, segment)


# --- TCP conversations -------------------------------------------------------------------


class TcpFlow:
    """One direction of a TCP connection: tracks the sequence number for you."""

    def __init__(self, src: str, sport: int, dst: str, dport: int, isn: int = 1000) -> None:
        self.src, self.sport, self.dst, self.dport = src, sport, dst, dport
        self.seq = isn

    def syn(self) -> bytes:
        segment = tcp(self.src, self.sport, self.dst, self.dport, self.seq, flags=SYN, ack=0)
        self.seq += 1
        return ip_packet(self.src, self.dst, 6, segment)

    def send(self, data: bytes, *, flags: int = PSH | ACK) -> bytes:
        segment = tcp(self.src, self.sport, self.dst, self.dport, self.seq, data, flags=flags)
        self.seq += len(data) + (1 if flags & FIN else 0)
        return ip_packet(self.src, self.dst, 6, segment)

    def at(self, seq: int, data: bytes, *, flags: int = PSH | ACK) -> bytes:
        """A segment at an explicit sequence number (retransmissions, overlaps, reordering)."""
        return ip_packet(self.src, self.dst, 6,
                         tcp(self.src, self.sport, self.dst, self.dport, seq, data, flags=flags))


def udp_packet(src: str, sport: int, dst: str, dport: int, payload: bytes) -> bytes:
    return ip_packet(src, dst, 17, udp(src, sport, dst, dport, payload))


# --- files -------------------------------------------------------------------------------


def pcap(frames: Iterable[Frame], *, linktype: int = ETHERNET, nanosecond: bool = False,
         big_endian: bool = False, snaplen: int = 262144) -> bytes:
    e = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
    out = [struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    for frame in frames:
        sec, ns = divmod(frame.time_ns, 1_000_000_000)
        frac = ns if nanosecond else ns // 1000
        out.append(struct.pack(e + "IIII", sec, frac, len(frame.data), len(frame.data)))
        out.append(frame.data)
    return b"".join(out)


def _block(e: str, btype: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    length = 12 + len(body)
    return struct.pack(e + "II", btype, length) + body + struct.pack(e + "I", length)


def _option(e: str, code: int, value: bytes) -> bytes:
    return struct.pack(e + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def pcapng(frames: Iterable[Frame], *, interfaces: Sequence[int] = (ETHERNET,),
           tsresol: int | None = None, big_endian: bool = False,
           simple: bool = False) -> bytes:
    """A one-section pcapng file. ``tsresol`` is the raw ``if_tsresol`` byte (default 6:
    microseconds). ``simple`` writes Simple Packet Blocks (no timestamps)."""
    e = ">" if big_endian else "<"
    out = [_block(e, 0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1))]
    res = 6 if tsresol is None else tsresol
    ticks = (1 << (res & 0x7F)) if res & 0x80 else 10 ** res
    for linktype in interfaces:
        options = b""
        if tsresol is not None:
            options = _option(e, 9, bytes([tsresol])) + _option(e, 0, b"")
        out.append(_block(e, 1, struct.pack(e + "HHI", linktype, 0, 262144) + options))
    out.append(_block(e, 4, b"\0\0\0\0"))  # an empty Name Resolution Block: to be skipped
    for frame in frames:
        if simple:
            out.append(_block(e, 3, struct.pack(e + "I", len(frame.data)) + frame.data))
            continue
        ts = frame.time_ns * ticks // 1_000_000_000
        body = struct.pack(e + "IIIII", frame.interface, ts >> 32, ts & 0xFFFFFFFF,
                           len(frame.data), len(frame.data)) + frame.data
        out.append(_block(e, 6, body))
    return b"".join(out)


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


class Timeline:
    """Frames in capture order with a running clock (milliseconds between frames)."""

    def __init__(self, start_ns: int = 1_700_000_000_000_000_000,
                 linktype: int = ETHERNET) -> None:
        self.now = start_ns
        self.linktype = linktype
        self.frames: list[Frame] = []

    def add(self, ip: bytes, after_ms: float = 1.0, *, linktype: int | None = None,
            vlans: Sequence[int] = ()) -> int:
        """Append one IP packet wrapped in the link layer; return its frame number."""
        self.now += int(after_ms * 1_000_000)
        kind = self.linktype if linktype is None else linktype
        data = ethernet(ip, vlans=vlans) if kind == ETHERNET else link(kind, ip)
        self.frames.append(Frame(self.now, data, kind))
        return len(self.frames)

    def udp(self, src: str, dst: str, message: bytes, after_ms: float = 1.0, *,
            sport: int = 5060, dport: int = 5060) -> int:
        return self.add(udp_packet(src, sport, dst, dport, message), after_ms)

    def pcap(self, **options: object) -> bytes:
        return pcap(self.frames, linktype=self.linktype, **options)  # type: ignore[arg-type]
