"""From capture records to SIP payloads: link layer, IP, UDP or TCP, SIP recognition.

This is the hot loop of ``sipstatus scan``; it allocates nothing per packet beyond the slices
it must hand on. Its output is a plain tuple (:data:`Payload`) so that callers which only count
(the summary) pay for no object they do not use.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Callable, Iterator, Sequence

from sipstatus.capture._budget import MemoryBudget
from sipstatus.capture._errors import CaptureError
from sipstatus.capture._head import START_LINE
from sipstatus.capture._ip import Defragmenter, address, transport
from sipstatus.capture._link import LINKTYPES, linktype_name, network_offset
from sipstatus.capture._pcap import CaptureFile
from sipstatus.capture._tcp import TcpReassembler

# frame, seconds, nanoseconds, src, sport, dst, dport, transport, data, framing problem,
# eviction flag ("" or the kind of evicted state that cut the message: "tcp_bytes")
Payload = tuple[int, int, int, str, int, str, int, str, bytes, str, str]
# A TCP segment as reassembly takes it: sport, dport, sequence number, flags, payload.
Segment = tuple[int, int, int, int, bytes]

_UDP = struct.Struct("!HHH").unpack_from
_TCP = struct.Struct("!HHIxxxxH").unpack_from
UDP_PROTO, TCP_PROTO = 17, 6
_NO_PAYLOAD: tuple[Payload, ...] = ()


class Layers:
    """The layers under SIP of one capture file, packet by packet: link, IP (fragments
    reassembled by ``defrag``), UDP, TCP (streams reassembled and framed by ``tcp``), SIP
    recognition. :meth:`packet` is the whole step; its parts are public for a map that runs
    the stateless ones elsewhere (``_pieces``): without ``defrag``, :meth:`ip` answers
    :data:`~sipstatus.capture._ip.FRAGMENT` for a fragment.

    ``port`` keeps only packets from or to that port. The first frame of a link type that is
    not read is reported, once per link type, to ``on_unread`` (default: the capture's
    :meth:`~CaptureFile.report`).
    """

    __slots__ = ("capture", "defrag", "on_unread", "port", "tcp", "unread")

    def __init__(self, capture: CaptureFile, port: int | None, defrag: Defragmenter | None,
                 tcp: TcpReassembler | None,
                 on_unread: Callable[[int, CaptureError], None] | None = None) -> None:
        self.capture = capture
        self.port = port
        self.defrag = defrag
        self.tcp = tcp
        self.on_unread = on_unread
        self.unread: set[int] = set()

    @classmethod
    def of_file(cls, capture: CaptureFile, port: int | None, budget: MemoryBudget,
                evicted: Counter[str] | None) -> Layers:
        """The layers with a file's state: a defragmenter and a TCP reassembler, each
        holding at most its share of ``budget`` (what they drop is counted in
        ``evicted``)."""
        return cls(capture, port, Defragmenter(max_bytes=budget.fragments, evicted=evicted),
                   TcpReassembler(max_bytes=budget.tcp, evicted=evicted))

    def packet(self, frame: int, sec: int, nsec: int, linktype: int,
               data: bytes) -> Sequence[Payload]:
        """The SIP messages one record completes."""
        decoded = self.ip(frame, sec, linktype, data)
        if decoded is None:
            return _NO_PAYLOAD
        proto, src, dst, segment = decoded
        if proto == UDP_PROTO:
            payload = self.udp(frame, sec, nsec, src, dst, segment)
            return _NO_PAYLOAD if payload is None else (payload,)
        if proto == TCP_PROTO:
            found = self.tcp_segment(segment)
            if found is not None:
                return self.tcp_messages(frame, sec, nsec, src, dst, found)
        return _NO_PAYLOAD

    def ip(self, frame: int, sec: int, linktype: int,
           data: bytes) -> tuple[int, bytes, bytes, bytes] | None:
        """Link and IP layers: ``(protocol, src, dst, segment)`` with raw addresses, or
        ``None`` (not IP, not usable, a fragment held)."""
        version, offset = network_offset(linktype, data)
        if not version:
            if linktype not in LINKTYPES and linktype not in self.unread:
                self.unread.add(linktype)
                capture = self.capture
                problem = CaptureError(
                    f"link type {linktype_name(linktype)} is not one sipstatus reads: its "
                    f"frames are skipped (the offset is where the link type is declared)",
                    frame=frame, offset=capture.linktype_offsets.get(linktype, 0),
                    path=capture.path)
                if self.on_unread is None:
                    capture.report(problem)
                else:
                    self.on_unread(linktype, problem)
            return None
        return transport(version, data, offset, self.defrag, sec)

    def udp(self, frame: int, sec: int, nsec: int, src: bytes, dst: bytes,
            segment: bytes) -> Payload | None:
        """A UDP datagram: its SIP message, if it carries one."""
        if len(segment) < 8:
            return None
        sport, dport, length = _UDP(segment, 0)
        port = self.port
        if port is not None and sport != port and dport != port:
            return None
        payload = segment[8:length] if 8 <= length <= len(segment) else segment[8:]
        if START_LINE.match(payload) is None:
            return None
        return (frame, sec, nsec, address(src), sport, address(dst), dport, "udp", payload,
                "", "")

    def tcp_segment(self, segment: bytes) -> Segment | None:
        """What reassembly takes of a TCP segment, or ``None`` when it has nothing to do
        (too short, another port, a bare ACK)."""
        if len(segment) < 20:
            return None
        sport, dport, seq, offset_flags = _TCP(segment, 0)
        port = self.port
        if port is not None and sport != port and dport != port:
            return None
        payload = segment[(offset_flags >> 10) & 0x3C:]
        flags = offset_flags & 0x3F
        if not payload and not flags & 0x07:  # a bare ACK: nothing to do
            return None
        return sport, dport, seq, flags, payload

    def tcp_messages(self, frame: int, sec: int, nsec: int, src: bytes, dst: bytes,
                     segment: Segment) -> Sequence[Payload]:
        """The SIP messages a TCP segment completes (needs ``tcp``)."""
        sport, dport, seq, flags, payload = segment
        assert self.tcp is not None
        framed = self.tcp.segment((src, sport, dst, dport), seq, flags, payload)
        if not framed:
            return _NO_PAYLOAD
        src_text, dst_text = address(src), address(dst)
        return [(frame, sec, nsec, src_text, sport, dst_text, dport, "tcp", message, problem,
                 cut) for message, problem, cut in framed]


def sip_payloads(capture: CaptureFile, port: int | None = None,
                 budget: MemoryBudget | None = None,
                 evicted: Counter[str] | None = None) -> Iterator[Payload]:
    """Yield every SIP message of ``capture`` in capture order.

    ``port`` keeps only packets from or to that port. A UDP datagram is one message; a TCP
    stream is cut into messages by ``_tcp``. Non-SIP traffic is skipped silently; the first
    frame of a link type that is not read is reported to ``capture`` (once per link type).
    Fragments and TCP streams hold at most their shares of ``budget``; what they drop is
    counted in ``evicted``.
    """
    packet = Layers.of_file(capture, port, budget or MemoryBudget(), evicted).packet
    for frame, sec, nsec, linktype, data in capture:
        yield from packet(frame, sec, nsec, linktype, data)
