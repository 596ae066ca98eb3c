"""The scan engine behind ``sipstatus scan`` and :func:`summarize` (its output formats are
in ``_writers``).

One pass over the capture; every bookkeeper holds only live state (open transactions, calls
in progress, tshark's per-direction states, pending fragments, TCP streams), each within its
share of one memory budget (``max_memory``, see ``_budget``), so memory stays bounded whatever
the size and the shape of the capture. What is dropped to hold the budget is counted in
``evicted``, and a message it affected carries the kinds of state it lost in its record.
Only what the chosen output needs is computed: a summary skips the RFC 3261 transaction table
unless calls or metrics are asked for.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from sipstatus._codes import lookup
from sipstatus._errors import SipParseError
from sipstatus._parse import parse
from sipstatus.capture._budget import DEFAULT_MAX_MEMORY, EVICTED_KINDS, MemoryBudget
from sipstatus.capture._calls import OUTCOMES, Call, Calls
from sipstatus.capture._errors import CaptureError
from sipstatus.capture._head import Head, scan_head
from sipstatus.capture._metrics import Metrics
from sipstatus.capture._packets import Payload, sip_payloads
from sipstatus.capture._pcap import MAX_RECORD_BYTES, CaptureFile
from sipstatus.capture._transactions import Transaction, Transactions, TsharkLedger

_quote: Callable[[str], str] = json.encoder.encode_basestring_ascii
#: Problems kept in words in a summary; the others are counted.
MAX_WARNINGS = 100



@dataclass(frozen=True, slots=True)
class CodeView:
    """What the code table says about a status code, as a scan reports it (``json`` is the
    ready-made JSONL fragment for its category and action)."""

    reason: str
    category: str
    action: str
    json: str = ""


def code_view(code: int, _cache: dict[int, CodeView] = {}) -> CodeView:  # noqa: B006
    view = _cache.get(code)
    if view is None:
        try:
            info = lookup(code)
        except ValueError:  # outside 100-699: no class, no advice
            view = CodeView("", "", "", '"category":"","action":""')
        else:
            category, action = info.category.label, str(info.action)
            view = CodeView(info.reason, category, action,
                            f'"category":{_quote(category)},"action":{_quote(action)}')
        _cache[code] = view
    return view


@dataclass(slots=True)
class Summary:
    """The counts of ``tshark -q -z sip,stat``, plus what sipstatus adds."""

    captures: list[str] = field(default_factory=list)
    messages: int = 0
    resent: int = 0
    status_codes: Counter[int] = field(default_factory=Counter)
    methods: Counter[str] = field(default_factory=Counter)
    setup_count: int = 0
    setup_total: int = 0
    setup_min: int = 0
    setup_max: int = 0
    broken: int = 0  # messages with a problem (framing, missing fields, parse error)
    udp: int = 0
    tcp: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    calls: int = 0
    capture_error: str | None = None  # the first of capture_errors
    capture_errors: list[str] = field(default_factory=list)  # damage that ended a capture
    damaged_records: int = 0  # records skipped as damaged, reading went on
    evicted: Counter[str] = field(default_factory=Counter)  # dropped to hold the bounds
    max_memory: int = DEFAULT_MAX_MEMORY
    warnings: list[str] = field(default_factory=list)  # the first MAX_WARNINGS problems
    warning_count: int = 0

    def warn(self, problem: str) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(problem)

    def add_setup(self, ms: int) -> None:
        if self.setup_count == 0 or ms < self.setup_min:
            self.setup_min = ms
        if self.setup_count == 0 or ms > self.setup_max:
            self.setup_max = ms
        self.setup_count += 1
        self.setup_total += ms

    def as_dict(self, *, with_calls: bool = False) -> dict[str, Any]:
        categories: Counter[str] = Counter()
        actions: Counter[str] = Counter()
        codes = {}
        for code in sorted(self.status_codes):
            count = self.status_codes[code]
            view = code_view(code)
            codes[str(code)] = count
            categories[view.category] += count
            actions[view.action] += count
        out: dict[str, Any] = {
            "captures": self.captures,
            "messages": self.messages,
            "resent": self.resent,
            "status_codes": codes,
            "methods": dict(sorted(self.methods.items(), key=lambda kv: (-kv[1], kv[0]))),
            # tshark's setup time: integer milliseconds, the average truncated
            "setup_time_ms": {
                "avg": self.setup_total // self.setup_count if self.setup_count else 0,
                "min": self.setup_min, "max": self.setup_max, "count": self.setup_count,
            },
            "categories": dict(sorted(categories.items())),
            "actions": dict(sorted(actions.items(), key=lambda kv: (-kv[1], kv[0]))),
            "transports": {"udp": self.udp, "tcp": self.tcp},
            "broken": self.broken,
        }
        if with_calls:
            out["calls"] = {"total": self.calls,
                            **{name: self.outcomes[name] for name in OUTCOMES}}
        out["damaged_records"] = self.damaged_records
        out["max_memory"] = self.max_memory
        out["evicted"] = {**dict.fromkeys(EVICTED_KINDS, 0), **self.evicted}
        unlisted = self.warning_count - len(self.warnings)
        out["warnings"] = [*self.warnings, *([f"... and {unlisted} more"] if unlisted else [])]
        out["capture_error"] = self.capture_error
        out["capture_errors"] = self.capture_errors
        return out

    def ended(self, damage: CaptureError) -> None:
        """Damage ended the reading of a capture; the scan goes on with the next one."""
        self.capture_errors.append(str(damage))
        if self.capture_error is None:
            self.capture_error = str(damage)


class Progressing(Protocol):
    """What a progress callback is told of the capture being read: its path, its size and
    how many of its bytes have been read (a :class:`CaptureFile`, or a :class:`MappedFile`
    whose map reports how far it got)."""

    @property
    def path(self) -> str: ...

    @property
    def size(self) -> int: ...

    def position(self) -> int: ...


#: Called every 1,024 messages with the capture being read and the messages so far.
ProgressCallback = Callable[[Progressing, int], None]


# frame, time, src, sport, dst, dport, transport, head, resend, response_time_ms, error,
# evicted (the kinds of state evicted that this message lost, comma-separated, or "")
Record = tuple[int, float, str, int, str, int, str, Head, bool, float | None, str, str]


class Scan:
    """One pass over one or more captures.

    ``records``: yield a :data:`Record` per message from :meth:`run`. ``calls`` / ``metrics``:
    follow RFC 3261 transactions and calls (``on_call`` receives every released call).
    ``validate``: parse every message with ``sipstatus.parse`` and report its errors.
    ``max_record``: a record longer than this, or than half the budget's share for state (a
    record held is about twice its size while it is decoded), is skipped unread (counted in
    ``evicted``). ``max_memory``: the memory budget (bytes) every kind of state shares (see
    ``_budget``); what is dropped to hold it is counted in ``evicted``.
    Problems after which reading goes on (damaged records, link types not read) become
    warnings of the summary.
    """

    def __init__(self, *, port: int | None = None, records: bool = False,
                 calls: bool = False, metrics: bool = False, validate: bool = False,
                 on_call: Callable[[Call], None] | None = None,
                 progress: ProgressCallback | None = None,
                 max_record: int = MAX_RECORD_BYTES,
                 max_memory: int = DEFAULT_MAX_MEMORY) -> None:
        self.port = port
        self.budget = MemoryBudget(max_memory)
        self.max_record = min(max_record, self.budget.state // 2)
        self.records = records
        self.validate = validate
        self.summary = Summary(max_memory=max_memory)
        evicted = self.summary.evicted
        self.on_call = on_call
        self.progress = progress
        # RFC 3261 transactions feed the records (response times) and the metrics; calls
        # alone can do with tshark's resend flag as their retransmission signal.
        self.follow_transactions = records or metrics
        self.follow = calls or metrics or self.follow_transactions
        self.follow_calls = calls or metrics
        running = ["resend_states"]
        if self.follow_transactions:
            running.append("transactions")
        if self.follow_calls:
            running.append("calls")
        if metrics:
            running.append("registrations")
        self._running = tuple(running)
        #: The share of tshark's resend ledger of each file (a per-file map needs it).
        self.ledger_bytes = self.budget.dialogs("resend_states", self._running)
        share = self.budget.dialogs
        self.metrics = Metrics(share("registrations", running), evicted) if metrics else None
        self._last_ns = 0
        # The bytes and capture time (ns) of the message whose record run() yielded last:
        # for a consumer that needs more than a record holds (sipstatus.lake).
        self.message_data: Any = b""
        self.message_ns = 0
        self.transactions = Transactions(self._released, share("transactions", running),
                                         evicted)
        self.calls = Calls(self._call_finished, share("calls", running), evicted)

    def _released(self, txn: Transaction) -> None:
        if self.metrics is not None:
            self.metrics.released(txn, self._last_ns)

    def _call_finished(self, call: Call) -> None:
        self.summary.calls += 1
        self.summary.outcomes[call.outcome()] += 1
        if self.metrics is not None:
            self.metrics.call(call)
        if self.on_call is not None:
            self.on_call(call)

    def run(self, paths: Iterable[str | os.PathLike[str]]) -> Iterator[Record]:
        """Scan each capture in turn. Damage that ends the reading of a capture (or a capture
        that cannot be opened) ends that capture only: it is kept in the summary
        (``capture_errors``) and the scan goes on with the next capture; once every capture is
        read, the first such :class:`CaptureError` is raised."""
        summary = self.summary
        first: CaptureError | None = None
        try:
            for path in paths:
                summary.captures.append(os.fspath(path))
                try:
                    yield from self._one(path)
                except CaptureError as damage:
                    summary.ended(damage)
                    first = first or damage
        finally:
            self._release_all()
        if first is not None:
            raise first

    def _release_all(self) -> None:
        """The end of the captures: every open transaction and call is released."""
        if self.follow_transactions:
            self.transactions.flush()
        if self.follow_calls:
            self.calls.flush(self._last_ns)

    def _problem(self, problem: CaptureError) -> None:
        self.summary.warn(str(problem))

    def _count_skipped(self, capture: CaptureFile) -> None:
        summary = self.summary
        summary.damaged_records += capture.damaged_records
        summary.evicted["records"] += capture.evicted_records
        summary.evicted["interfaces"] += capture.evicted_interfaces

    def _one(self, path: str | os.PathLike[str]) -> Iterator[Record]:
        """One capture; a file that cannot be opened or read is a :class:`CaptureError`."""
        try:
            capture = CaptureFile(path, max_record=self.max_record, on_problem=self._problem)
        except OSError as exc:
            raise _unreadable(path, exc) from None
        ledger = TsharkLedger(  # tshark's state is per file
            max_bytes=self.ledger_bytes, evicted=self.summary.evicted)
        try:
            yield from self._reduce(capture, map_capture(
                capture, ledger, port=self.port, budget=self.budget,
                evicted=self.summary.evicted, validate=self.validate,
                full_head=self.follow_transactions))
        except OSError as exc:
            raise _unreadable(path, exc) from None
        finally:
            self._count_skipped(capture)

    def run_mapped(self, files: Iterable[MappedFile]) -> Iterator[Record]:
        """As :meth:`run`, over captures whose per-file map (:func:`map_capture`) was run
        elsewhere (another process): only the state that crosses files (transactions, calls)
        and the counts are replayed here, in the order given, so the records and the summary
        are those of :meth:`run` over the same files. A file's ``error`` (the damage that ended
        its reading) is kept after its messages, and the first is raised at the end, as in
        :meth:`run`."""
        summary = self.summary
        first: CaptureError | None = None
        try:
            for mapped in files:
                summary.captures.append(mapped.path)
                try:
                    yield from self._reduce(mapped, mapped.messages)
                finally:
                    for warning in mapped.warnings:
                        summary.warn(warning)
                    summary.damaged_records += mapped.damaged_records
                    summary.evicted.update(mapped.evicted)
                if mapped.error is not None:
                    summary.ended(mapped.error)
                    first = first or mapped.error
        finally:
            self._release_all()
        if first is not None:
            raise first

    def _reduce(self, source: Progressing, mapped: Iterable[Mapped]) -> Iterator[Record]:
        """The part of a scan that depends on earlier messages of other files: counts,
        transactions, calls (``source``: the capture, for the progress callback)."""
        summary = self.summary
        follow = self.follow
        transactions = self.transactions if self.follow_transactions else None
        follow_calls = self.follow_calls
        metrics = self.metrics
        records = self.records
        progress = self.progress
        methods = summary.methods
        codes = summary.status_codes
        for (frame, sec, nsec, src, sport, dst, dport, transport, data, head, resend, setup,
             error, lost) in mapped:
            summary.messages += 1
            if progress is not None and not summary.messages & 1023:
                progress(source, summary.messages)
            if transport == "udp":
                summary.udp += 1
                if resend:
                    summary.resent += 1
                if setup:
                    summary.add_setup(setup)
            else:
                summary.tcp += 1
            if head.status_code:
                if 100 <= head.status_code <= 699:  # tshark drops codes outside 1xx-6xx
                    codes[head.status_code] += 1
            else:
                methods[head.method] += 1
            if error:
                summary.broken += 1
            if not follow:
                continue
            now_ns = sec * 1_000_000_000 + nsec
            self._last_ns = now_ns
            if transactions is None:
                self.calls.observe(head, now_ns, frame, src, sport, dst, dport, transport,
                                   resend)
                continue
            txn, repeated, elapsed, first_final, lost_txn = transactions.observe(
                head, now_ns, frame)
            if lost_txn:
                lost = _also(lost, "transactions")
            if first_final and metrics is not None and txn is not None:
                metrics.final_response(txn)
            if follow_calls and self.calls.observe(head, now_ns, frame, src, sport, dst, dport,
                                                   transport, repeated):
                lost = _also(lost, "calls")
            if records:
                self.message_data, self.message_ns = data, now_ns
                yield (frame, sec + nsec / 1e9, src, sport, dst, dport, transport, head, resend,
                       elapsed, error, lost)


# What the per-file map hands on for one message: frame, seconds, nanoseconds, src, sport,
# dst, dport, transport, data (the message bytes, or what a map made of them), head, resend
# (tshark's flag), setup time (ms, 0 but for an ACK), error, evicted (the kinds of per-file
# state lost, comma-separated, or "").
Mapped = tuple[int, int, int, str, int, str, int, str, Any, Head, bool, int, str, str]


def map_capture(capture: CaptureFile, ledger: TsharkLedger, *, port: int | None,
                budget: MemoryBudget, evicted: Counter[str], validate: bool = False,
                full_head: bool = True) -> Iterator[Mapped]:
    """The per-file part of a scan: every SIP message of ``capture`` with what needs no state
    beyond this file (link, IP and UDP layers, IP defragmentation and TCP reassembly, the head
    scan, tshark's resend ledger, which tshark keeps per file, and ``validate``). Its state
    is its own (``ledger`` is this file's; the shares of ``budget`` are fixed), so it may run
    in any process: :meth:`Scan.run_mapped` replays the rest."""
    return map_payloads(sip_payloads(capture, port, budget, evicted), ledger,
                        validate=validate, full_head=full_head)


def map_payloads(payloads: Iterable[Payload], ledger: TsharkLedger, *,
                 port: int | None = None, validate: bool = False,
                 full_head: bool = True) -> Iterator[Mapped]:
    """The per-file step of :func:`map_capture` over any source of SIP messages (a capture's
    layers, HEP): the head scan, tshark's resend ledger (UDP) and ``validate``; ``port``
    keeps only messages from or to it."""
    for payload in payloads:
        frame, sec, nsec, src, sport, dst, dport, transport, data, problem, lost = payload
        if port is not None and sport != port and dport != port:
            continue
        head = scan_head(data, full_head)
        if head is None:
            continue  # no start line: bytes left over by a cut stream, or not SIP
        resend, setup = False, 0
        if transport == "udp":
            resend, setup, lost = resend_of(ledger, head, frame, sec, nsec, src, sport, dst,
                                            dport, lost)
        error = problem or head.problem
        if validate:
            error = _validate(data) or error
        yield (frame, sec, nsec, src, sport, dst, dport, transport, data, head, resend, setup,
               error, lost)


def resend_of(ledger: TsharkLedger, head: Head, frame: int, sec: int, nsec: int, src: str,
              sport: int, dst: str, dport: int, lost: str) -> tuple[bool, int, str]:
    """A UDP message through its file's ``ledger``: tshark's resend flag, its setup time, and
    ``lost`` (the kinds of per-file state it lost) with ``resend_states`` if its state was
    evicted."""
    resend, setup, lost_state = ledger.observe(head, frame, sec, nsec, src, sport, dst, dport)
    return resend, setup, _also(lost, "resend_states") if lost_state else lost


@dataclass(slots=True)
class MappedFile:
    """One capture as its per-file map left it (see :meth:`Scan.run_mapped`): ``messages``
    (from :func:`map_capture`), the records it skipped as damaged, the per-file state it
    evicted (records, interfaces, fragments, TCP, resend states), its warnings in order,
    and the damage that ended its reading, if any. :meth:`Scan.run_mapped` reads all but
    ``messages`` once the messages are read (a file mapped in pieces knows them only then)."""

    path: str
    messages: Iterable[Mapped]
    damaged_records: int = 0
    evicted: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    error: CaptureError | None = None
    size: int = 0  # of the capture, in bytes (0: not known, as for a live source)
    read_to: Callable[[], int] = lambda: 0  # how far the map of the messages handed on got

    def position(self) -> int:
        """The bytes of the capture behind the messages handed on so far (for progress)."""
        return self.read_to()


def _unreadable(path: str | os.PathLike[str], exc: OSError) -> CaptureError:
    return CaptureError(f"cannot be read ({exc.strerror or exc})", frame=0, offset=0,
                        path=os.fspath(path))


def _also(kinds: str, kind: str) -> str:
    return f"{kinds},{kind}" if kinds else kind


def _validate(data: bytes) -> str:
    try:
        parse(data)
    except SipParseError as exc:
        return str(exc)
    return ""


def summarize(source: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *,
              port: int | None = None, calls: bool = False,
              max_record: int = MAX_RECORD_BYTES,
              max_memory: int = DEFAULT_MAX_MEMORY) -> dict[str, Any]:
    """Scan capture file(s) and return the summary as a JSON-ready dict.

    The counts follow ``tshark -q -z sip,stat``: ``messages`` (every SIP message),
    ``resent`` (UDP retransmissions as tshark flags them), ``status_codes`` and ``methods``
    (per message, retransmissions included), ``setup_time_ms`` (INVITE to ACK, integer
    milliseconds), without tshark's folding of unregistered codes into x99 buckets.
    ``calls=True`` adds call outcome totals. Damage that ends the reading of a capture ends
    that capture only: the others are read, then the first :class:`CaptureError` is raised;
    problems after which reading goes on are listed in ``warnings``,
    with ``damaged_records`` and ``evicted`` (``records`` longer than ``max_record`` bytes,
    skipped unread; pcapng ``interfaces`` beyond the number kept; and the state dropped to
    hold the memory budget of ``max_memory`` bytes: ``calls``, ``transactions``,
    ``resend_states``, ``registrations``, ``fragments``, ``tcp_bytes``, ``tcp_streams``)
    counting what was skipped.
    """
    paths = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    scan = Scan(port=port, calls=calls, max_record=max_record, max_memory=max_memory)
    for _ in scan.run(paths):
        pass
    return scan.summary.as_dict(with_calls=calls)
