"""``sipstatus.hep.read``: the SIP messages carried by HEP packets, as ``CapturedMessage``s
(the per-message API of ``sipstatus.capture.read``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from sipstatus._errors import SipParseError
from sipstatus._parse import parse
from sipstatus.capture._head import scan_head
from sipstatus.capture._pcap import CaptureFile
from sipstatus.capture._records import CapturedMessage
from sipstatus.hep._source import HEP_PORT, HepStats, Payload, capture_payloads


def messages(payloads: Iterator[Payload]) -> Iterator[CapturedMessage]:
    """A :class:`CapturedMessage` (parsed with ``sipstatus.parse``) per SIP payload."""
    for frame, sec, nsec, src, sport, dst, dport, transport, data, _problem, _cut in payloads:
        head = scan_head(data)
        if head is None:
            continue
        try:
            message, error = parse(data), None
        except SipParseError as exc:
            message, error = None, exc
        yield CapturedMessage(frame, sec + nsec / 1e9, src, sport, dst, dport, transport,
                              data, message, error, head)


def read(path: str | os.PathLike[str], *, hep_port: int = HEP_PORT,
         on_problem: Callable[[str], None] | None = None,
         stats: HepStats | None = None) -> Iterator[CapturedMessage]:
    """Yield the SIP messages carried by the HEP packets of the capture at ``path`` (UDP or
    TCP from or to ``hep_port``), in capture order, with the addresses, ports, time and
    transport of their HEP chunks. Malformed HEP packets and damaged records go to
    ``on_problem`` (default: ignored; ``stats.malformed`` counts the packets); damage that
    ends the file's reading raises ``CaptureError`` after what came before it."""
    report = on_problem or (lambda _problem: None)
    capture = CaptureFile(path, on_problem=lambda problem: report(str(problem)))
    yield from messages(capture_payloads(capture, stats or HepStats(), report, hep_port))
