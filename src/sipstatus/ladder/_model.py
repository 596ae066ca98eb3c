"""The ladder model every format draws: columns (hosts), arrows (messages) and the notes of
each call, built once from :class:`~sipstatus.capture.CapturedMessage`\\ s.

Columns. A column is one SIP element. Every address:port a message was sent from or to is an
endpoint; two endpoints are one element (``by="element"``, the default) when a message shows
it. A request's top Via sent-by naming the same IP address as the request's source ties the
source endpoint to that address and port (default 5060; 5061 for a TLS Via or a sips:
Contact); so does its Contact when the request has one Via (it crossed no proxy, so the
Contact is its sender's); and so does a response's top Via for the response's destination.
A response's Contact is never used (a proxy forwards the callee's). Only the same IP address
merges (never across NAT; addresses compared in one spelling), so an element that sends from
an ephemeral TCP port and listens on 5060 is one column. ``by="address"`` keeps every
endpoint apart. Columns appear in the order of their first message; each has a short label
(A, B, ... Z, AA ...), a name (its first endpoint) and all its endpoints (for the legend).

Arrows. One per message, in the order given, but retransmissions are folded into the arrow
they repeat (``count`` > 1, the frames of the copies in ``frames``). A retransmission is what
tshark's SIP dissector flags as resent (``TsharkLedger``, the rule of ``scan``'s ``resend``
field, UDP only), folded into the latest arrow of the same Call-ID, direction, CSeq and
method or code.

Notes. Per call (Call-ID starting with an INVITE, or the legs the scan ties into one call:
``capture._legs``), from the scan's own call tracker
(``capture._calls``): outcome, final code, post-dial delay (from the call's first INVITE to
the first response other than 100, 401 and 407: RFC 6076 SRD), setup time (to the final
response) and duration (2xx to BYE). Per arrow, from the classifier: for a final response of
300 or more, the advice's action and its values (Retry-After, redirect targets, the Reason
header's cause and text); for a request, its Reason header.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

from sipstatus._classify import classify
from sipstatus._codes import Action
from sipstatus._message import SipResponse
from sipstatus._values import ReasonValue
from sipstatus.capture._calls import Call, Calls
from sipstatus.capture._errors import CaptureError
from sipstatus.capture._records import CapturedMessage
from sipstatus.capture._scan import Scan
from sipstatus.capture._transactions import TsharkLedger
from sipstatus.ladder._palette import colour_key
from sipstatus.ladder._sdp import sdp_summary

BY = ("element", "address")


@dataclass(frozen=True, slots=True)
class Column:
    """One host of the ladder: ``label`` (A, B ...), ``name`` (its first address:port) and
    every address:port merged into it, in order of appearance."""

    label: str
    name: str
    addresses: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Arrow:
    """One message (and its folded retransmissions).

    ``src``/``dst`` are column indexes; ``since_first`` is seconds since the ladder's first
    message, ``delta`` seconds since the previous arrow; ``colour`` a key of the palette;
    ``dialog`` the index of its Call-ID in :attr:`Ladder.dialogs`; ``text`` the message as
    captured (UTF-8, undecodable octets replaced).
    """

    frame: int
    frames: tuple[int, ...]
    time: float
    since_first: float
    delta: float
    src: int
    dst: int
    src_address: str
    dst_address: str
    transport: str
    kind: str
    method: str
    code: int
    label: str
    colour: str
    call_id: str
    dialog: int
    sdp: str
    note: str
    text: str

    @property
    def count(self) -> int:
        """How many times the message was seen (1 + retransmissions)."""
        return len(self.frames)

    @property
    def title(self) -> str:
        """The start line, with ``×n`` when retransmissions were folded."""
        return self.label + (f" ×{self.count}" if self.count > 1 else "")

    @property
    def timing(self) -> str:
        """``12.345 +0.120``: seconds since the first message, and since the previous."""
        return f"{self.since_first:.3f} +{self.delta:.3f}"


@dataclass(frozen=True, slots=True)
class CallNote:
    """What the scan's call tracker says of one call (times in milliseconds)."""

    call_id: str
    dialog: int
    outcome: str
    final_code: int
    pdd_ms: float | None
    setup_ms: float | None
    duration_ms: float | None
    legs: tuple[str, ...] = ()  # the Call-IDs of a call of several legs, first seen first

    @property
    def text(self) -> str:
        parts = [f"outcome: {self.outcome}"]
        if self.legs:
            parts.append(f"{len(self.legs)} legs: " + ", ".join(self.legs))
        if self.final_code:
            parts.append(f"final {self.final_code}")
        for name, value in (("PDD", self.pdd_ms), ("setup", self.setup_ms),
                            ("duration", self.duration_ms)):
            if value is not None:
                parts.append(f"{name} {value:.0f} ms")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Ladder:
    columns: tuple[Column, ...]
    arrows: tuple[Arrow, ...]
    dialogs: tuple[str, ...]  # Call-IDs in order of their first message
    calls: tuple[CallNote, ...]
    start: float  # capture time of the first message (seconds since the epoch)
    by: str = "element"

    def column_of(self, address: str) -> Column:
        """The column holding ``address`` (``addr:port``)."""
        for column in self.columns:
            if address in column.addresses:
                return column
        raise KeyError(address)


def endpoint(address: str, port: int) -> str:
    """``10.0.0.1:5060``, ``[2001:db8::1]:5060``."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


@functools.lru_cache(maxsize=4096)
def _address(host: str | None) -> str:
    """An IP address in one spelling (``[2001:DB8:0::1]`` and ``2001:db8::1`` are one), or
    a host name lower-cased."""
    text = (host or "").strip("[]")
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        return text.lower()


class _Elements:
    """Union-find over endpoints: which address:port pairs are one element."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        parent = self.parent.setdefault(key, key)
        while parent != key:
            grand = self.parent[parent]
            self.parent[key] = grand
            key, parent = parent, grand
        return key

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


def _advertised(captured: CapturedMessage) -> list[tuple[str, str]]:
    """(endpoint seen on the wire, endpoint the message says is the same element)."""
    message = captured.message
    if message is None:
        return []
    request = captured.kind == "request"
    named: list[tuple[str, int | None, int]] = []  # host, port, default port
    try:
        vias = message.via
        if vias:
            via = vias[0]
            named.append((via.host, via.port, 5061 if via.transport == "TLS" else 5060))
        if request and len(vias) == 1:  # crossed no proxy: the Contact is the sender's
            named += [(c.uri.host or "", c.uri.port, 5061 if c.uri.scheme == "sips" else 5060)
                      for c in message.contact if not c.is_wildcard]
    except ValueError:  # an unreadable Via or Contact shows nothing
        return []
    pairs: list[tuple[str, str]] = []
    for index, (host, port, default) in enumerate(named):
        # the top Via: the request's sender, the response's addressee; a Contact: the sender
        ip, wire_port = ((captured.src, captured.sport) if request or index
                         else (captured.dst, captured.dport))
        if _address(host) == _address(ip):
            pairs.append((endpoint(ip, wire_port), endpoint(ip, port or default)))
    return pairs


def _body(captured: CapturedMessage) -> bytes:
    if captured.message is not None:
        return captured.message.body
    _, _, body = captured.data.partition(b"\r\n\r\n")
    return body


def _note(captured: CapturedMessage) -> str:
    """The classifier's word on a message: advice and values of a final response of 300 or
    more, the Reason header of a request."""
    message = captured.message
    code = captured.head.status_code
    parts: list[str] = []
    reasons: tuple[ReasonValue, ...] = ()
    if code >= 300:
        try:
            advice = classify(message if isinstance(message, SipResponse) else code).advice
        except ValueError:  # a code outside 100-699
            return ""
        if advice.action is not Action.NONE:
            parts.append(str(advice.action).replace("_", " "))
        if advice.retry_after is not None:
            parts.append(f"Retry-After {advice.retry_after} s")
        if advice.targets:
            parts.append("to " + ", ".join(str(t) for t in advice.targets))
        reasons = advice.reason_header
    elif message is not None and not code:
        try:
            reasons = message.reason_header
        except ValueError:
            reasons = ()
    if reasons:
        parts.append("Reason: " + "; ".join(_reason(r.protocol or r.text, r.cause,
                                                    r.reason_text) for r in reasons))
    return ", ".join(parts)


def _reason(protocol: str, cause: int | None, text: str | None) -> str:
    words = protocol
    if cause is not None:
        words += f" cause {cause}"
    if text:
        words += f" \u201c{text}\u201d"
    return words


@dataclass(slots=True)
class _Draft:
    """An arrow being built (its frames grow as retransmissions are folded in)."""

    captured: CapturedMessage
    src: str
    dst: str
    frames: list[int] = field(default_factory=list)


def build(messages: Iterable[CapturedMessage], *, by: str = "element") -> Ladder:
    """The ladder of ``messages`` (any iterable of captured messages, in capture order)."""
    if by not in BY:
        raise ValueError(f"by must be one of {', '.join(BY)}, not {by!r}")
    elements = _Elements()
    ledger = TsharkLedger()
    finished: list[Call] = []
    calls = Calls(finished.append)
    drafts: list[_Draft] = []
    latest: dict[tuple[object, ...], _Draft] = {}
    seen: list[str] = []  # endpoints on the wire, in order of appearance
    observed: set[str] = set()
    dialogs: dict[str, int] = {}
    last_ns = 0
    for captured in messages:
        head = captured.head
        src = endpoint(captured.src, captured.sport)
        dst = endpoint(captured.dst, captured.dport)
        for wire in (src, dst):
            if wire not in observed:
                observed.add(wire)
                seen.append(wire)
        if by == "element":
            for on_wire, named in _advertised(captured):
                elements.union(on_wire, named)
        sec = int(captured.time)
        nsec = round((captured.time - sec) * 1e9)
        resend = False
        if captured.transport == "udp":
            resend = ledger.observe(head, captured.frame, sec, nsec, captured.src,
                                    captured.sport, captured.dst, captured.dport)[0]
        last_ns = sec * 1_000_000_000 + nsec
        calls.observe(head, last_ns, captured.frame, captured.src, captured.sport,
                      captured.dst, captured.dport, captured.transport, resend)
        dialogs.setdefault(head.call_id, len(dialogs))
        key = (head.call_id, src, dst, head.cseq_seq, head.cseq_method, head.method,
               head.status_code)
        draft = latest.get(key) if resend else None
        if draft is None:
            draft = _Draft(captured, src, dst)
            drafts.append(draft)
            latest[key] = draft
        draft.frames.append(captured.frame)
    calls.flush(last_ns)
    return _freeze(drafts, seen, elements, dialogs, finished, by)


def legs_of(paths: Iterable[str], call_ids: Iterable[str], *, port: int | None = None
            ) -> set[str]:
    """``call_ids`` and the Call-IDs of every other leg of their calls in the captures at
    ``paths`` (the legs the scan ties together: ``capture._legs``), for ``--call-id``. What
    cannot be read is left to the reading of the messages to report."""
    wanted = set(call_ids)

    def released(call: Call) -> None:
        if call.legs and not wanted.isdisjoint(call.legs):
            wanted.update(call.legs)

    scan = Scan(port=port, calls=True, on_call=released)
    try:
        for _ in scan.run(paths):
            pass
    except CaptureError:
        pass
    return wanted


def _label(index: int) -> str:
    label = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        label = chr(65 + rest) + label
    return label


def _freeze(drafts: list[_Draft], seen: list[str], elements: _Elements,
            dialogs: dict[str, int], finished: list[Call], by: str) -> Ladder:
    groups: dict[str, list[str]] = {}
    for key in seen:
        groups.setdefault(elements.find(key), []).append(key)
    columns = tuple(Column(_label(i), members[0], tuple(members))
                    for i, members in enumerate(groups.values()))
    index = {root: i for i, root in enumerate(groups)}
    start = drafts[0].captured.time if drafts else 0.0
    arrows = []
    previous = start
    for draft in drafts:
        captured = draft.captured
        head = captured.head
        code = head.status_code
        body = _body(captured)
        arrows.append(Arrow(
            frame=captured.frame, frames=tuple(draft.frames), time=captured.time,
            since_first=captured.time - start, delta=captured.time - previous,
            src=index[elements.find(draft.src)], dst=index[elements.find(draft.dst)],
            src_address=draft.src, dst_address=draft.dst, transport=captured.transport,
            kind=head.kind, method=head.method, code=code,
            label=f"{code} {head.reason}".rstrip() if code else head.method,
            colour=colour_key(code), call_id=head.call_id, dialog=dialogs[head.call_id],
            sdp=sdp_summary(body), note=_note(captured),
            text=captured.data.decode("utf-8", "replace")))
        previous = captured.time
    notes = tuple(sorted(
        (CallNote(call.call_id, dialogs[call.call_id], call.outcome(), call.final_code,
                  _ms(call.indicative_ns, call.start_ns), call.setup_ms, call.duration_ms,
                  call.legs)
         for call in finished), key=lambda note: note.dialog))
    return Ladder(columns, tuple(arrows), tuple(dialogs), notes, start, by)


def _ms(end_ns: int | None, start_ns: int) -> float | None:
    return None if end_ns is None else (end_ns - start_ns) / 1e6
