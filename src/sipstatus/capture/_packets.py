"""From capture records to SIP payloads: link layer, IP, UDP or TCP, SIP recognition.

This is the hot loop of ``sipstatus scan``; it allocates nothing per packet beyond the slices
it must hand on. Its output is a plain tuple (:data:`Payload`) so that callers which only count
(the summary) pay for no object they do not use.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Iterator

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

_UDP = struct.Struct("!HHH").unpack_from
_TCP = struct.Struct("!HHIxxxxH").unpack_from
_UDP_PROTO, _TCP_PROTO = 17, 6


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
    budget = budget or MemoryBudget()
    defrag = Defragmenter(max_bytes=budget.fragments, evicted=evicted)
    tcp = TcpReassembler(max_bytes=budget.tcp, evicted=evicted)
    match_start = START_LINE.match
    unread: set[int] = set()
    for frame, sec, nsec, linktype, data in capture:
        version, offset = network_offset(linktype, data)
        if not version:
            if linktype not in LINKTYPES and linktype not in unread:
                unread.add(linktype)
                capture.report(CaptureError(
                    f"link type {linktype_name(linktype)} is not one sipstatus reads: its "
                    f"frames are skipped (the offset is where the link type is declared)",
                    frame=frame, offset=capture.linktype_offsets.get(linktype, 0),
                    path=capture.path))
            continue
        decoded = transport(version, data, offset, defrag, sec)
        if decoded is None:
            continue
        proto, src, dst, segment = decoded
        if proto == _UDP_PROTO:
            if len(segment) < 8:
                continue
            sport, dport, length = _UDP(segment, 0)
            if port is not None and sport != port and dport != port:
                continue
            payload = segment[8:length] if 8 <= length <= len(segment) else segment[8:]
            if match_start(payload) is None:
                continue
            yield (frame, sec, nsec, address(src), sport, address(dst), dport, "udp", payload,
                   "", "")
        elif proto == _TCP_PROTO:
            if len(segment) < 20:
                continue
            sport, dport, seq, offset_flags = _TCP(segment, 0)
            if port is not None and sport != port and dport != port:
                continue
            payload = segment[(offset_flags >> 10) & 0x3C:]
            flags = offset_flags & 0x3F
            if not payload and not flags & 0x07:  # a bare ACK: nothing to do
                continue
            for message, problem, cut in tcp.segment((src, sport, dst, dport), seq, flags,
                                                     payload):
                yield (frame, sec, nsec, address(src), sport, address(dst), dport, "tcp",
                       message, problem, cut)
