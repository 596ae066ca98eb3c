"""``CapturedMessage`` and :func:`read`: the per-message API over a capture file."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sipstatus._errors import SipParseError
from sipstatus._message import SipRequest, SipResponse
from sipstatus._parse import parse
from sipstatus.capture._errors import CaptureError
from sipstatus.capture._head import Head, scan_head
from sipstatus.capture._packets import sip_payloads
from sipstatus.capture._pcap import MAX_RECORD_BYTES, CaptureFile


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


class _FirstProblem:
    """Keeps the first problem of a reading and counts the others."""

    __slots__ = ("count", "first")

    def __init__(self) -> None:
        self.first: CaptureError | None = None
        self.count = 0

    def __call__(self, problem: CaptureError) -> None:
        if self.first is None:
            self.first = problem
        self.count += 1

    def raised_alone(self, first: CaptureError) -> CaptureError:
        """The first problem, raised at the end of the reading, counting the others."""
        more = f" (and {self.count - 1} more problems)" if self.count > 1 else ""
        return CaptureError(first.reason + more, frame=first.frame, offset=first.offset,
                            path=first.path)

    def raised_with(self, fatal: CaptureError, first: CaptureError) -> CaptureError:
        """Damage that ended the reading, naming the problems met before it."""
        earlier = f"{self.count} earlier problem{'s' if self.count > 1 else ''}"
        return CaptureError(f"{fatal.reason} (after {earlier}, the first "
                            f"at frame {first.frame}, byte offset {first.offset}: "
                            f"{first.reason})", frame=fatal.frame, offset=fatal.offset,
                            path=fatal.path)


def read(path: str | os.PathLike[str], *, port: int | None = None,
         max_record: int = MAX_RECORD_BYTES,
         on_problem: Callable[[CaptureError], None] | None = None,
         ) -> Iterator[CapturedMessage]:
    """Yield every SIP message in the capture at ``path``, in capture order.

    pcap or pcapng, plain or gzip-compressed. ``port`` keeps only traffic from or to that port
    (SIP is otherwise recognised on any port by its start line). A record longer than
    ``max_record`` bytes is skipped without being read into memory.

    Only :class:`CaptureError` is raised. Damage that ends the reading (a truncated file,
    corrupt gzip data, an impossible block length) raises it after everything before the
    damage was yielded. Problems after which reading goes on (a damaged record whose length is
    known, a record over ``max_record``, a link type that is not read) are passed to
    ``on_problem`` as they are met; without ``on_problem``, the first one is raised after the
    last message, saying how many more there were.
    """
    problems = _FirstProblem()
    capture = CaptureFile(path, max_record=max_record, on_problem=on_problem or problems)
    try:
        for frame, sec, nsec, src, sport, dst, dport, transport, data, problem, _cut in (
                sip_payloads(capture, port)):
            head = scan_head(data)
            if head is None:  # a stream cut by a hole or a close: no start line left
                continue
            message, error = _parse(data)
            if error is None and problem:
                error = SipParseError(problem, rule="capture framing (RFC 3261 §18.3)")
            yield CapturedMessage(frame, sec + nsec / 1e9, src, sport, dst, dport, transport,
                                  data, message, error, head)
    except CaptureError as fatal:
        if problems.first is None:
            raise
        raise problems.raised_with(fatal, problems.first) from None
    if problems.first is not None:
        raise problems.raised_alone(problems.first)
