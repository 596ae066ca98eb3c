"""HEP as a capture source: the SIP messages carried by HEP packets, as the same plain tuples
(:data:`Payload`) that ``capture._packets.sip_payloads`` yields for plain SIP, with the
addresses, ports, time and transport taken from the HEP chunks, not from the outer packet.

Three sources:

- :func:`capture_payloads`: HEP packets in a pcap/pcapng file, on UDP or TCP to or from one
  port (9060 by default), IP fragments put back together, TCP streams framed by the HEP total
  length (in-order bytes; a gap, a packet the capture missed, drops the partial packet and the
  framer resynchronises on the next ``HEP3``);
- :class:`HepListener`: a UDP (``hep://HOST:PORT``) or TCP (``hep+tcp://HOST:PORT``)
  listener, until a count of SIP messages, a duration, or a stop event;
- any iterable of HEP packets' bytes (:func:`packet_payloads`).

A packet whose payload type is not SIP (1) is counted by type in :class:`HepStats` and
skipped, as is a packet with no payload (a keep-alive). A malformed packet is counted and
reported to ``on_problem`` with where it came from (frame and byte offset, or peer and packet
number); reading and listening go on.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import sys
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sipstatus.capture._ip import Defragmenter, transport
from sipstatus.capture._legs import Correlated
from sipstatus.capture._link import network_offset
from sipstatus.capture._pcap import CaptureFile
from sipstatus.hep._codec import MAGIC, MAX_PACKET, PAYLOAD_SIP, correlation_of, decode_message
from sipstatus.hep._errors import HepError

# frame, seconds, nanoseconds, src, sport, dst, dport, transport, data, framing problem,
# eviction flag: the shape of capture._packets.Payload.
Payload = tuple[int, int, int, str, int, str, int, str, bytes, str, str]

#: The port HEP collectors listen on (Homer, heplify-server, sngrep's examples).
HEP_PORT = 9060
#: Receive buffer asked for a UDP listener (the kernel may give less; see HepListener).
RCVBUF = 64 << 20
#: TCP connections a listener holds, and TCP streams a capture reader follows: each holds at
#: most one unfinished packet (64 KiB), so 16 MiB at most.
MAX_CONNECTIONS = 256
MAX_STREAMS = 256
_UDP = struct.Struct("!HHH").unpack_from
_TCP = struct.Struct("!HHIxxxxH").unpack_from
_U16 = struct.Struct("!H").unpack_from
_MASK32 = 0xFFFFFFFF


@dataclass(slots=True)
class HepStats:
    """What a HEP source met: ``packets`` decoded, ``sip`` messages handed on, ``other``
    payload types (type → packets), ``empty`` packets without payload, ``malformed``
    packets, ``skipped_bytes`` of a stream that were not a HEP packet."""

    packets: int = 0
    sip: int = 0
    other: Counter[int] = field(default_factory=Counter)
    empty: int = 0
    malformed: int = 0
    skipped_bytes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"packets": self.packets, "sip": self.sip,
                "other_payload_types": {str(k): v for k, v in sorted(self.other.items())},
                "no_payload": self.empty, "malformed": self.malformed,
                "skipped_bytes": self.skipped_bytes}


_TRANSPORTS = {None: "udp", 17: "udp", 6: "tcp", 132: "sctp"}


def raw_payload(raw: bytes, frame: int, stats: HepStats) -> Payload | None:
    """The SIP message a packet carries, as a :data:`Payload`; ``None`` (counted in
    ``stats``) for another payload type or no payload; :class:`HepError` if malformed."""
    ptype, sec, usec, src, sport, dst, dport, proto, data = decode_message(raw)
    stats.packets += 1
    if ptype is not None and ptype != PAYLOAD_SIP:
        stats.other[ptype] += 1
        return None
    if not data:
        stats.empty += 1
        return None
    stats.sip += 1
    if usec >= 1_000_000:  # not normalised by the sender
        sec, usec = sec + usec // 1_000_000, usec % 1_000_000
    transport = _TRANSPORTS.get(proto) or str(proto)
    correlation = correlation_of(raw)
    if correlation:  # a hint tying the message's call to another leg (capture/_legs)
        data = Correlated(data)
        data.correlation_id = correlation
    return (frame, sec, usec * 1000, src, sport, dst, dport, transport, data, "", "")


def packet_payloads(packets: Iterable[bytes], stats: HepStats,
                    on_problem: Callable[[str], None], where: str = "") -> Iterator[Payload]:
    """The SIP messages of HEP packets given as bytes (the n-th packet is frame n)."""
    for frame, raw in enumerate(packets, 1):
        try:
            payload = raw_payload(raw, frame, stats)
        except HepError as exc:
            stats.malformed += 1
            on_problem(f"{where}packet {frame}: malformed HEP: {exc}")
            continue
        if payload is not None:
            yield payload


class HepFramer:
    """Cuts a byte stream into HEP packets by their total length. Bytes that do not start a
    packet (no ``HEP3``, or a length under 6) are skipped up to the next ``HEP3``."""

    __slots__ = ("buf", "offset")

    def __init__(self) -> None:
        self.buf = bytearray()
        self.offset = 0  # stream offset of buf[0]

    def reset(self) -> int:
        """Forget the buffered bytes (a gap in the stream); returns how many."""
        lost = len(self.buf)
        self.offset += lost
        self.buf.clear()
        return lost

    def feed(self, data: bytes) -> Iterator[tuple[int, bytes | None, int]]:
        """Yield ``(stream offset, packet, skipped)`` for each packet completed by ``data``;
        ``packet`` is ``None`` when ``skipped`` bytes had to be passed over first."""
        buf = self.buf
        buf += data
        while len(buf) >= 6:
            if buf[:4] != MAGIC or _U16(buf, 4)[0] < 6:
                skip = buf.find(MAGIC, 1)
                if skip < 0:
                    skip = len(buf) - 3
                del buf[:skip]
                self.offset += skip
                yield self.offset - skip, None, skip
                continue
            length = _U16(buf, 4)[0]
            if len(buf) < length:
                break
            packet = bytes(buf[:length])
            del buf[:length]
            self.offset += length
            yield self.offset - length, packet, 0


class _Stream:
    __slots__ = ("framer", "next_seq")

    def __init__(self, next_seq: int) -> None:
        self.next_seq = next_seq
        self.framer = HepFramer()


def capture_payloads(capture: CaptureFile, stats: HepStats,
                     on_problem: Callable[[str], None], hep_port: int = HEP_PORT,
                     ) -> Iterator[Payload]:
    """The SIP messages carried by the HEP packets of a capture file, on UDP or TCP from or
    to ``hep_port``. The frame is that of the packet (for TCP, of the segment completing
    it). :class:`CaptureError` for damage that ends the file's reading, as ``read()``."""
    defrag = Defragmenter()
    streams: OrderedDict[tuple[bytes, int, bytes, int], _Stream] = OrderedDict()
    path = capture.path
    for frame, sec, _nsec, linktype, data in capture:
        version, offset = network_offset(linktype, data)
        if not version:
            continue
        decoded = transport(version, data, offset, defrag, sec)
        if decoded is None:
            continue
        proto, src, dst, segment = decoded
        if proto == 17 and len(segment) >= 8:
            sport, dport, length = _UDP(segment, 0)
            if sport != hep_port and dport != hep_port:
                continue
            raw = segment[8:length] if 8 <= length <= len(segment) else segment[8:]
            payload = _one(raw, frame, stats, on_problem, path)
            if payload is not None:
                yield payload
        elif proto == 6 and len(segment) >= 20:
            sport, dport, seq, offset_flags = _TCP(segment, 0)
            if sport != hep_port and dport != hep_port:
                continue
            body = segment[(offset_flags >> 10) & 0x3C:]
            flags = offset_flags & 0x3F
            key = (src, sport, dst, dport)
            stream = streams.get(key)
            if flags & 0x02:  # SYN: the stream starts after it
                streams[key] = _Stream((seq + 1) & _MASK32)
                continue
            if stream is None:
                stream = streams[key] = _Stream(seq)
                if len(streams) > MAX_STREAMS:
                    streams.popitem(last=False)
            else:
                streams.move_to_end(key)
            ahead = (seq - stream.next_seq) & _MASK32
            if ahead and ahead < 1 << 31:  # a gap: the capture missed bytes
                stats.skipped_bytes += stream.framer.reset()
            elif ahead:  # a retransmission, or an overlap: only the new bytes
                behind = (1 << 32) - ahead
                body = body[behind:] if behind < len(body) else b""
                seq = stream.next_seq
            stream.next_seq = (seq + len(body)) & _MASK32
            if body:
                for at, raw_packet, skipped in stream.framer.feed(body):
                    if raw_packet is None:
                        stats.skipped_bytes += skipped
                        continue
                    payload = _one(raw_packet, frame, stats, on_problem, path, at)
                    if payload is not None:
                        yield payload
            if flags & 0x05:  # FIN or RST
                streams.pop(key, None)


def _one(raw: bytes, frame: int, stats: HepStats, on_problem: Callable[[str], None],
         path: str, at: int | None = None) -> Payload | None:
    try:
        return raw_payload(raw, frame, stats)
    except HepError as exc:
        stats.malformed += 1
        where = f" (stream offset {at})" if at is not None else ""
        on_problem(f"{path}: frame {frame}{where}: malformed HEP: {exc}")
        return None


def parse_url(url: str) -> tuple[str, str, int]:
    """``("udp" or "tcp", host, port)`` of ``hep://HOST:PORT`` or ``hep+tcp://HOST:PORT``
    (``hep+udp://`` is ``hep://``); ``ValueError`` for anything else."""
    parts = urlsplit(url)
    scheme = {"hep": "udp", "hep+udp": "udp", "hep+tcp": "tcp"}.get(parts.scheme.lower())
    try:
        port = parts.port
    except ValueError:
        port = None
    if scheme is None or not parts.hostname or port is None or parts.path not in ("", "/"):
        raise ValueError(f"{url!r} is not hep://HOST:PORT or hep+tcp://HOST:PORT")
    return scheme, parts.hostname, port


def is_hep_url(text: str) -> bool:
    return text.lower().startswith(("hep://", "hep+udp://", "hep+tcp://"))


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


class HepListener:
    """A HEP collector on ``url`` (``hep://HOST:PORT`` UDP, ``hep+tcp://HOST:PORT`` TCP),
    bound when made (port 0: any free port, see ``port``). :meth:`payloads` yields the SIP
    messages received until ``count`` of them, ``duration`` seconds, or ``stop`` is set.
    The UDP socket asks for a receive buffer of ``rcvbuf`` bytes (``SO_RCVBUFFORCE`` where
    permitted, else ``SO_RCVBUF`` up to the system's limit; ``rcvbuf_granted`` says what the
    kernel gave). Frames are numbered from 1 in the order packets arrive."""

    def __init__(self, url: str, *, rcvbuf: int = RCVBUF) -> None:
        self.transport, self.host, port = parse_url(url)
        self.url = url
        family = _family(self.host)
        if self.transport == "udp":
            sock = socket.socket(family, socket.SOCK_DGRAM)
            self.rcvbuf_granted = _rcvbuf(sock, rcvbuf)
        else:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.rcvbuf_granted = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        try:
            sock.bind((self.host, port))
            if self.transport == "tcp":
                sock.listen(64)
        except OSError:
            sock.close()
            raise
        self.sock = sock
        self.port: int = sock.getsockname()[1]
        self.stats = HepStats()

    @property
    def name(self) -> str:
        scheme = "hep" if self.transport == "udp" else "hep+tcp"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> HepListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def payloads(self, on_problem: Callable[[str], None], *, count: int | None = None,
                 duration: float | None = None, stop: threading.Event | None = None
                 ) -> Iterator[Payload]:
        deadline = time.monotonic() + duration if duration is not None else None
        stop = stop or threading.Event()
        if count is not None and count <= 0:
            return
        if self.transport == "udp":
            yield from self._udp(on_problem, count, deadline, stop)
        else:
            yield from self._tcp(on_problem, count, deadline, stop)

    def _udp(self, on_problem: Callable[[str], None], count: int | None,
             deadline: float | None, stop: threading.Event) -> Iterator[Payload]:
        sock, stats = self.sock, self.stats
        recv = sock.recvfrom
        monotonic = time.monotonic
        frame = 0
        sock.settimeout(0.2)
        while not stop.is_set():
            if deadline is not None:
                left = deadline - monotonic()
                if left <= 0:
                    return
                sock.settimeout(min(0.2, left))
            try:
                raw, peer = recv(MAX_PACKET + 1)
            except TimeoutError:
                continue
            frame += 1
            try:
                payload = raw_payload(raw, frame, stats)
            except HepError as exc:
                stats.malformed += 1
                on_problem(f"{self.name}: packet {frame} from {peer[0]}:{peer[1]}: "
                           f"malformed HEP: {exc}")
                continue
            if payload is not None:
                yield payload
                if count is not None and stats.sip >= count:
                    return

    def _tcp(self, on_problem: Callable[[str], None], count: int | None,
             deadline: float | None, stop: threading.Event) -> Iterator[Payload]:
        stats = self.stats
        selector = selectors.DefaultSelector()
        self.sock.setblocking(False)
        selector.register(self.sock, selectors.EVENT_READ)
        peers: dict[socket.socket, tuple[str, HepFramer]] = {}
        frame = 0
        try:
            while not stop.is_set():
                timeout = 0.2
                if deadline is not None:
                    timeout = min(timeout, deadline - time.monotonic())
                    if timeout <= 0:
                        return
                for key, _events in selector.select(timeout):
                    if key.fileobj is self.sock:
                        try:
                            conn, addr = self.sock.accept()
                        except OSError:
                            continue
                        if len(peers) >= MAX_CONNECTIONS:
                            conn.close()
                            on_problem(f"{self.name}: connection from {addr[0]}:{addr[1]} "
                                       f"refused: {MAX_CONNECTIONS} connections open")
                            continue
                        conn.setblocking(False)
                        selector.register(conn, selectors.EVENT_READ)
                        peers[conn] = (f"{addr[0]}:{addr[1]}", HepFramer())
                        continue
                    conn = key.fileobj  # type: ignore[assignment]
                    peer, framer = peers[conn]
                    try:
                        data = conn.recv(1 << 18)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        data = b""
                    if not data:
                        if framer.buf:
                            stats.malformed += 1
                            on_problem(f"{self.name}: connection from {peer} closed inside a "
                                       f"HEP packet at stream offset {framer.offset}")
                        selector.unregister(conn)
                        conn.close()
                        del peers[conn]
                        continue
                    for at, raw, skipped in framer.feed(data):
                        if raw is None:
                            stats.skipped_bytes += skipped
                            stats.malformed += 1
                            on_problem(f"{self.name}: {skipped} bytes from {peer} at stream "
                                       f"offset {at} are not a HEP packet: skipped")
                            continue
                        frame += 1
                        try:
                            payload = raw_payload(raw, frame, stats)
                        except HepError as exc:
                            stats.malformed += 1
                            on_problem(f"{self.name}: packet {frame} from {peer} (stream "
                                       f"offset {at}): malformed HEP: {exc}")
                            continue
                        if payload is not None:
                            yield payload
                            if count is not None and stats.sip >= count:
                                return
        finally:
            for conn in peers:
                conn.close()
            selector.close()


def _rcvbuf(sock: socket.socket, size: int) -> int:
    # SO_RCVBUFFORCE (Linux, 33; not in Python's socket module) passes over rmem_max for a
    # process with CAP_NET_ADMIN; otherwise SO_RCVBUF is capped at rmem_max.
    force = getattr(socket, "SO_RCVBUFFORCE", 33 if sys.platform.startswith("linux") else None)
    done = False
    if force is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, force, size)
            done = True
        except OSError:
            pass
    if not done:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    return int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
