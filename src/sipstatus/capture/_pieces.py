"""One capture file mapped in pieces (runs of records cut by ``_pcap.split_capture``), exact.

A file's own state (IP defragmentation, TCP reassembly, tshark's resend ledger) runs through
the file in capture order, so it cannot be cut. What needs none of it can: the link and IP
layers of a packet that is not a fragment, a UDP datagram's SIP recognition and head scan.
:func:`map_piece` does that for one piece and hands on, in order, each UDP message (a
:data:`~sipstatus.capture._scan.Mapped` without the resend flag and setup time) and, raw,
every packet the file's state must see: an IP fragment (its record) and a TCP segment (what
reassembly takes of it), with the messages the piece's own, speculative, reassembly of it
framed there (a *hint*: their bytes, head and what the map made of them). :class:`PieceJoin`
takes the pieces' items in capture order
through one defragmenter, one TCP reassembler (the same budget shares as a one-process scan)
and one resend ledger, with the very steps of a one-process scan (``_packets.Layers``,
``_scan.resend_of``): its messages are those of :func:`~sipstatus.capture._scan.map_capture`
over the whole file. A message that the file's reassembly frames takes its head and data
from a hint of the same bytes, if there is one (both are functions of the bytes alone:
``scan_head`` and what the map makes of them), and is head-scanned here otherwise (a stream
that began before the piece, a hole, an eviction: the piece's framing may differ there).

Why only those packets: a packet that is not a fragment never reaches the defragmenter
(``_ip.transport``; its datagrams also expire only when a fragment arrives, by that
fragment's time), a UDP datagram never reaches TCP reassembly, and the ledger sees every
UDP message, in order, in :class:`PieceJoin`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sipstatus.capture._budget import MemoryBudget
from sipstatus.capture._errors import CaptureError
from sipstatus.capture._head import Head, scan_head
from sipstatus.capture._ip import FRAGMENT
from sipstatus.capture._packets import TCP_PROTO, UDP_PROTO, Layers
from sipstatus.capture._pcap import CaptureFile
from sipstatus.capture._scan import Mapped, resend_of
from sipstatus.capture._tcp import TcpReassembler
from sipstatus.capture._transactions import TsharkLedger

#: The kinds of raw item: an IP fragment's record; a TCP segment.
FRAGMENT_ITEM, TCP_ITEM = 0, 1
# A message a piece's speculative reassembly framed: its bytes, its head, what the map made
# of it (the bytes, or the lake's fields).
Hint = tuple[bytes, Head, Any]
# (FRAGMENT_ITEM, (frame, sec, nsec, linktype, data), ()) or
# (TCP_ITEM, (frame, sec, nsec, src, dst, (sport, dport, seq, flags, payload)), hints), raw
# addresses
RawItem = tuple[int, tuple[Any, ...], tuple[Hint, ...]]
#: What a piece's map hands on: a UDP message (a ``Mapped`` of 14 fields) or a raw item.
PieceItem = tuple[Any, ...]
_NO_HINTS: tuple[Hint, ...] = ()


def map_piece(capture: CaptureFile, *, port: int | None, budget: MemoryBudget,
              full_head: bool = True,
              on_unread: Callable[[int, CaptureError], None] | None = None,
              data_of: Callable[[bytes, Head], Any] = lambda data, head: data
              ) -> Iterator[PieceItem]:
    """The items of ``capture`` (a :class:`CaptureFile` reading one piece), in capture order
    (see the module docstring); the data of a UDP message or a hint is ``data_of(bytes,
    head)``. ``on_unread`` receives the first frame of each link type that is not read, in
    this piece (the join keeps the file's first). ``budget``: the scan's (the speculative
    reassembly holds its TCP share; what it drops is not counted: the file's is)."""
    layers = Layers(capture, port, None, None, on_unread)
    ip, udp, tcp_segment = layers.ip, layers.udp, layers.tcp_segment
    speculative = TcpReassembler(max_bytes=budget.tcp, evicted=Counter()).segment
    for record in capture:
        frame, sec, nsec, linktype, data = record
        decoded = ip(frame, sec, linktype, data)
        if decoded is None:
            continue
        if decoded is FRAGMENT:
            yield FRAGMENT_ITEM, record, _NO_HINTS
            continue
        proto, src, dst, segment = decoded
        if proto == UDP_PROTO:
            datagram = udp(frame, sec, nsec, src, dst, segment)
            if datagram is None:
                continue
            _, _, _, src_text, sport, dst_text, dport, _, message, _, _ = datagram
            head = scan_head(message, full_head)
            if head is not None:
                yield (frame, sec, nsec, src_text, sport, dst_text, dport, "udp",
                       data_of(message, head), head, False, 0, head.problem, "")
        elif proto == TCP_PROTO:
            found = tcp_segment(segment)
            if found is None:
                continue
            sport, dport, seq, flags, stream_bytes = found
            hints: list[Hint] = []
            for message, _, _ in speculative((src, sport, dst, dport), seq, flags,
                                             stream_bytes):
                head = scan_head(message, full_head)
                if head is not None:
                    hints.append((message, head, data_of(message, head)))
            yield TCP_ITEM, (frame, sec, nsec, src, dst, found), tuple(hints)


class PieceJoin:
    """A file's state carried through its pieces' items in capture order (see the module
    docstring): ``messages`` gives what :func:`~sipstatus.capture._scan.map_capture` gives
    over the whole file, with the data of a message that comes out here made by
    ``data_of(bytes, head)`` (a map's other messages carry what their map made of theirs).
    ``budget`` and ``ledger_bytes`` are the one-process scan's; what the state drops is
    counted in ``evicted``."""

    def __init__(self, path: str, *, port: int | None, budget: MemoryBudget,
                 ledger_bytes: int, evicted: Counter[str], full_head: bool = True,
                 data_of: Callable[[bytes, Head], Any] = lambda data, head: data) -> None:
        # never read: the layers name it in a report (none comes, all its link types read)
        capture = CaptureFile(path)
        self.layers = Layers.of_file(capture, port, budget, evicted)
        self.ledger = TsharkLedger(max_bytes=ledger_bytes, evicted=evicted)
        self.full_head = full_head
        self.data_of = data_of

    def messages(self, items: Iterable[PieceItem]) -> Iterator[Mapped]:
        ledger = self.ledger
        packet, tcp_messages = self.layers.packet, self.layers.tcp_messages
        full_head = self.full_head
        data_of = self.data_of
        for item in items:
            if len(item) != 3:  # a UDP message, mapped
                (frame, sec, nsec, src, sport, dst, dport, transport, data, head, _, _, error,
                 lost) = item
                resend, setup, lost = resend_of(ledger, head, frame, sec, nsec, src, sport,
                                                dst, dport, lost)
                yield (frame, sec, nsec, src, sport, dst, dport, transport, data, head, resend,
                       setup, error, lost)
                continue
            kind, raw, hints = item
            payloads = packet(*raw) if kind == FRAGMENT_ITEM else tcp_messages(*raw)
            for payload in payloads:
                (frame, sec, nsec, src, sport, dst, dport, transport, data, problem,
                 lost) = payload
                hint = _hint_for(data, hints) if hints else None
                if hint is not None:  # the same bytes: the same head, the same data
                    _, head, made = hint
                else:
                    head = scan_head(data, full_head)
                    if head is None:
                        continue  # bytes left over by a cut stream, without a start line
                    made = data_of(data, head)
                resend, setup = False, 0
                if transport == "udp":
                    resend, setup, lost = resend_of(ledger, head, frame, sec, nsec, src,
                                                    sport, dst, dport, lost)
                yield (frame, sec, nsec, src, sport, dst, dport, transport, made, head,
                       resend, setup, problem or head.problem, lost)


def _hint_for(data: bytes, hints: tuple[Hint, ...]) -> Hint | None:
    """The hint of the message ``data``: of the same bytes."""
    for hint in hints:
        if hint[0] == data:
            return hint
    return None
