"""``CapturedMessage`` and :func:`read`: the per-message API over a capture file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from sipstatus._errors import SipParseError
from sipstatus._message import SipRequest, SipResponse
from sipstatus._parse import parse
from sipstatus.capture._head import Head, scan_head
from sipstatus.capture._packets import sip_payloads
from sipstatus.capture._pcap import CaptureFile


@dataclass(frozen=True, slots=True)
class CapturedMessage:
    """One SIP message found in a capture.

    ``frame`` is 1-based, as Wireshark numbers frames; a message reassembled from several IP
    fragments or TCP segments carries the frame that completed it, and several messages can
    share one frame. ``time`` is that frame's timestamp in seconds since the epoch.
    ``message`` is the parsed message, or ``None`` with ``error`` saying why it is broken.
    ``head`` holds what the tolerant capture-side scan read (kind, Call-ID, CSeq, ...), which
    is there even for a message the parser rejects.
    """

    frame: int
    time: float
    src: str
    sport: int
    dst: str
    dport: int
    transport: str  # "udp" or "tcp"
    data: bytes
    message: SipRequest | SipResponse | None
    error: SipParseError | None
    head: Head

    @property
    def kind(self) -> str:
        """``"request"`` or ``"response"``."""
        return self.head.kind


def _parse(data: bytes) -> tuple[SipRequest | SipResponse | None, SipParseError | None]:
    try:
        return parse(data), None
    except SipParseError as exc:
        return None, exc


def read(path: str | os.PathLike[str], *, port: int | None = None) -> Iterator[CapturedMessage]:
    """Yield every SIP message in the capture at ``path``, in capture order.

    pcap or pcapng, plain or gzip-compressed. ``port`` keeps only traffic from or to that port
    (SIP is otherwise recognised on any port by its start line). A damaged capture yields
    everything before the damage, then raises :class:`CaptureError`.
    """
    for frame, sec, nsec, src, sport, dst, dport, transport, data, problem in sip_payloads(
            CaptureFile(path), port):
        head = scan_head(data)
        if head is None:  # a stream cut by a hole or a close: no start line left
            continue
        message, error = _parse(data)
        if error is None and problem:
            error = SipParseError(problem, rule="capture framing (RFC 3261 §18.3)")
        yield CapturedMessage(frame, sec + nsec / 1e9, src, sport, dst, dport, transport, data,
                              message, error, head)
