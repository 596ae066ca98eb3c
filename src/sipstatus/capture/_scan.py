"""The scan engine behind ``sipstatus scan`` and :func:`summarize`, and its output formats.

One pass over the capture; every bookkeeper holds only live state (open transactions, calls
in progress, tshark's per-direction states), so memory stays bounded whatever the size of the
capture. Only what the chosen output needs is computed: a summary skips the RFC 3261
transaction table unless calls or metrics are asked for.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from sipstatus._codes import CODES, lookup
from sipstatus.capture._calls import OUTCOMES, Call, Calls
from sipstatus.capture._errors import CaptureError
from sipstatus.capture._head import Head, scan_head
from sipstatus.capture._metrics import Metric, Metrics
from sipstatus.capture._packets import Payload, sip_payloads
from sipstatus.capture._pcap import CaptureFile
from sipstatus.capture._transactions import Transaction, Transactions, TsharkLedger

RECORD_FIELDS = (
    "frame", "time", "src", "sport", "dst", "dport", "transport", "kind", "method",
    "status_code", "reason", "category", "action", "call_id", "cseq_seq", "cseq_method",
    "via_branch", "from_tag", "to_tag", "resend", "response_time_ms", "error",
)
CALL_FIELDS = (
    "call_id", "outcome", "ended", "final_code", "frame", "start", "src", "sport", "dst",
    "dport", "transport", "messages", "invites", "setup_ms", "duration_ms",
)
_quote: Callable[[str], str] = json.encoder.encode_basestring_ascii
_NO_CODE = '"category":"","action":""'


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
    capture_error: str | None = None

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
        out["capture_error"] = self.capture_error
        return out


# frame, time, src, sport, dst, dport, transport, head, resend, response_time_ms, error
Record = tuple[int, float, str, int, str, int, str, Head, bool, float | None, str]


class Scan:
    """One pass over one or more captures.

    ``records``: yield a :data:`Record` per message from :meth:`run`. ``calls`` / ``metrics``:
    follow RFC 3261 transactions and calls (``on_call`` receives every released call).
    ``validate``: parse every message with ``sipstatus.parse`` and report its errors.
    """

    def __init__(self, *, port: int | None = None, records: bool = False,
                 calls: bool = False, metrics: bool = False, validate: bool = False,
                 on_call: Callable[[Call], None] | None = None,
                 progress: Callable[[CaptureFile, int], None] | None = None) -> None:
        self.port = port
        self.records = records
        self.validate = validate
        self.summary = Summary()
        self.on_call = on_call
        self.progress = progress
        # RFC 3261 transactions feed the records (response times) and the metrics; calls
        # alone can do with tshark's resend flag as their retransmission signal.
        self.follow_transactions = records or metrics
        self.follow = calls or metrics or self.follow_transactions
        self.follow_calls = calls or metrics
        self.metrics = Metrics() if metrics else None
        self._last_ns = 0
        self.transactions = Transactions(on_release=self._released)
        self.calls = Calls(self._call_finished)

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
        """Scan each capture in turn. A damaged capture stops the scan: the counts so far
        stay in :attr:`summary` and the :class:`CaptureError` propagates."""
        try:
            for path in paths:
                self.summary.captures.append(os.fspath(path))
                capture = CaptureFile(path)
                ledger = TsharkLedger()  # tshark's state is per file
                yield from self._one(capture, ledger)
        except CaptureError as exc:
            self.summary.capture_error = str(exc)
            raise
        finally:
            if self.follow_transactions:
                self.transactions.flush()
            if self.follow_calls:
                self.calls.flush(self._last_ns)

    def _one(self, capture: CaptureFile, ledger: TsharkLedger) -> Iterator[Record]:
        summary = self.summary
        observe = ledger.observe
        follow = self.follow
        transactions = self.transactions if self.follow_transactions else None
        follow_calls = self.follow_calls
        metrics = self.metrics
        records = self.records
        validate = self.validate
        progress = self.progress
        methods = summary.methods
        codes = summary.status_codes
        payload: Payload
        for payload in sip_payloads(capture, self.port):
            frame, sec, nsec, src, sport, dst, dport, transport, data, problem = payload
            head = scan_head(data, transactions is not None)
            if head is None:
                continue  # bytes left over by a cut stream, without a start line
            summary.messages += 1
            if progress is not None and not summary.messages & 1023:
                progress(capture, summary.messages)
            if transport == "udp":
                summary.udp += 1
                resend, setup = observe(head, frame, sec, nsec, src, sport, dst, dport)
                if resend:
                    summary.resent += 1
                if setup:
                    summary.add_setup(setup)
            else:
                summary.tcp += 1
                resend = False
            if head.status_code:
                if 100 <= head.status_code <= 699:  # tshark drops codes outside 1xx-6xx
                    codes[head.status_code] += 1
            else:
                methods[head.method] += 1
            error = problem or head.problem
            if validate:
                error = _validate(data) or error
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
            txn, repeated, elapsed, first_final = transactions.observe(head, now_ns, frame)
            if first_final and metrics is not None and txn is not None:
                metrics.final_response(txn)
            if follow_calls:
                self.calls.observe(head, now_ns, frame, src, sport, dst, dport, transport,
                                   repeated)
            if records:
                yield (frame, sec + nsec / 1e9, src, sport, dst, dport, transport, head, resend,
                       elapsed, error)


def _validate(data: bytes) -> str:
    from sipstatus import SipParseError, parse

    try:
        parse(data)
    except SipParseError as exc:
        return str(exc)
    return ""


def summarize(source: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *,
              port: int | None = None, calls: bool = False) -> dict[str, Any]:
    """Scan capture file(s) and return the summary as a JSON-ready dict.

    The counts follow ``tshark -q -z sip,stat``: ``messages`` (every SIP message),
    ``resent`` (UDP retransmissions as tshark flags them), ``status_codes`` and ``methods``
    (per message, retransmissions included), ``setup_time_ms`` (INVITE to ACK, integer
    milliseconds), without tshark's folding of unregistered codes into x99 buckets.
    ``calls=True`` adds call outcome totals. A damaged capture raises :class:`CaptureError`.
    """
    paths = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    scan = Scan(port=port, calls=calls)
    for _ in scan.run(paths):
        pass
    return scan.summary.as_dict(with_calls=calls)


# --- output ------------------------------------------------------------------------------



def record_values(record: Record) -> tuple[object, ...]:
    frame, when, src, sport, dst, dport, transport, head, resend, rtime, error = record
    code = head.status_code
    view = code_view(code) if code else None
    return (
        frame, when, src, sport, dst, dport, transport, head.kind, head.method,
        code if code else None, head.reason, view.category if view else "",
        view.action if view else "", head.call_id, head.cseq_seq, head.cseq_method,
        head.via_branch, head.from_tag, head.to_tag, resend,
        round(rtime, 3) if rtime is not None else None, error,
    )


def write_jsonl(records: Iterable[Record], out: IO[str]) -> None:
    # Hand-formatted (one f-string per record, strings escaped by json's C encoder, compact
    # separators, written in batches): four times faster than json.dumps of a dict, and the
    # same JSON.
    batch: list[str] = []
    try:
        _jsonl_lines(records, batch, out)
    finally:  # a damaged capture ends the loop with an exception: keep what was read
        out.write("".join(batch))


def _jsonl_lines(records: Iterable[Record], batch: list[str], out: IO[str]) -> None:
    q = _quote
    add = batch.append
    for frame, when, src, sport, dst, dport, transport, head, resend, rtime, error in records:
        code = head.status_code
        seq = head.cseq_seq
        elapsed = "null" if rtime is None else repr(round(rtime, 3))
        # Addresses, transport, kind and the method (a token, RFC 3261 §25.1) never need
        # escaping; everything else read from the wire does.
        add(
            f'{{"frame":{frame},"time":{when!r},"src":"{src}","sport":{sport},'
            f'"dst":"{dst}","dport":{dport},"transport":"{transport}",'
            f'"kind":"{head.kind}","method":"{head.method}","status_code":{code or "null"},'
            f'"reason":{q(head.reason)},{code_view(code).json if code else _NO_CODE},'
            f'"call_id":{q(head.call_id)},"cseq_seq":{"null" if seq is None else seq},'
            f'"cseq_method":{q(head.cseq_method)},"via_branch":{q(head.via_branch)},'
            f'"from_tag":{q(head.from_tag)},"to_tag":{q(head.to_tag)},'
            f'"resend":{"true" if resend else "false"},"response_time_ms":{elapsed},'
            f'"error":{q(error)}}}\n')
        if len(batch) >= 256:
            out.write("".join(batch))
            batch.clear()


def write_csv(records: Iterable[Record], out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RECORD_FIELDS)
    for record in records:
        writer.writerow([_cell(v) for v in record_values(record)])


def call_values(call: Call) -> tuple[object, ...]:
    setup = call.setup_ms
    duration = call.duration_ms
    return (
        call.call_id, call.outcome(), call.ended, call.final_code or None, call.frame,
        round(call.start_ns / 1e9, 6), call.src, call.sport, call.dst, call.dport,
        call.transport, call.messages, call.invites,
        round(setup, 3) if setup is not None else None,
        round(duration, 3) if duration is not None else None,
    )


class CallWriter:
    """Writes each released call as it comes: no call list is kept in memory. For ``json``
    it opens the document's ``"call_list"`` array; :meth:`close` ends the array, and the
    caller writes the rest of the object."""

    def __init__(self, fmt: str, out: IO[str]) -> None:
        self.fmt = fmt
        self.out = out
        self.count = 0
        self._csv = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
        if self._csv is not None:
            self._csv.writerow(CALL_FIELDS)
        elif fmt == "json":
            out.write('{\n  "call_list": [')
        elif fmt == "text":
            out.write(f"{'outcome':<16} {'final':>5} {'start':>17} {'setup ms':>10} "
                      f"{'duration ms':>12} {'msgs':>5}  call-id\n")

    def __call__(self, call: Call) -> None:
        values = call_values(call)
        if self.fmt == "jsonl":
            self.out.write(json.dumps(dict(zip(CALL_FIELDS, values, strict=True)),
                                      separators=(",", ":")) + "\n")
        elif self._csv is not None:
            self._csv.writerow([_cell(v) for v in values])
        elif self.fmt == "json":
            row = json.dumps(dict(zip(CALL_FIELDS, values, strict=True)))
            self.out.write(("," if self.count else "") + "\n    " + row)
        else:
            outcome = call.outcome() + (" (ended)" if call.ended else "")
            setup = f"{call.setup_ms:.0f}" if call.setup_ms is not None else "-"
            duration = f"{call.duration_ms:.0f}" if call.duration_ms is not None else "-"
            self.out.write(f"{outcome:<16} {call.final_code or '-':>5} "
                           f"{call.start_ns / 1e9:>17.6f} {setup:>10} {duration:>12} "
                           f"{call.messages:>5}  {call.call_id}\n")
        self.count += 1

    def close(self) -> None:
        if self.fmt == "json":
            self.out.write("\n  ]" if self.count else "]")


def write_metrics(metrics: tuple[Metric, ...], fmt: str, out: IO[str]) -> None:
    if fmt == "jsonl":
        for metric in metrics:
            out.write(json.dumps(metric.as_dict(), separators=(",", ":")) + "\n")
        return
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("name", "rfc", "percent", "numerator", "denominator", "count",
                         "avg_ms", "min_ms", "max_ms", "failures", "definition"))
        for m in metrics:
            s = m.success or {}
            f = m.failure or {}
            writer.writerow([m.name, m.section, _blank(m.value), _blank(m.numerator),
                             _blank(m.denominator), _blank(s.get("count")),
                             _blank(s.get("avg")), _blank(s.get("min")), _blank(s.get("max")),
                             _blank(f.get("count")), m.definition])
        return
    out.write("RFC 6076 metrics\n")
    for m in metrics:
        if m.success is None:
            value = "n/a" if m.value is None else f"{m.value:.2f} %"
            line = f"{value}  ({m.numerator} of {m.denominator})"
        else:
            s = m.success
            line = (f"{s['count']} samples" if not s["count"] else
                    f"avg {s['avg']} ms, min {s['min']} ms, max {s['max']} ms "
                    f"({s['count']} samples)")
            if m.failure is not None:
                f = m.failure
                if "avg" in f and f["count"]:
                    line += (f"; failures avg {f['avg']} ms, min {f['min']} ms, "
                             f"max {f['max']} ms ({f['count']})")
                else:
                    line += f"; failures {f['count']}"
        out.write(f"  {m.name:<5} {line}\n        {m.section}: {m.definition}\n")


def _blank(value: object) -> object:
    return "" if value is None else value


def _cell(value: object) -> object:
    """A CSV cell: empty for None, true/false as in the JSON formats."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def write_summary_text(summary: dict[str, Any], out: IO[str]) -> None:
    """The summary for people: tshark's sip,stat numbers, with meaning."""
    w = out.write
    w(f"SIP messages: {summary['messages']} "
      f"(UDP {summary['transports']['udp']}, TCP {summary['transports']['tcp']})\n")
    w(f"Resent messages: {summary['resent']}\n")
    if summary["broken"]:
        w(f"Broken messages: {summary['broken']}\n")
    w("\nStatus codes\n")
    for code, count in summary["status_codes"].items():
        info = CODES.get(int(code))
        view = code_view(int(code))
        phrase = info.reason if info else f"(unregistered, handled as {view.reason})"
        w(f"  {code} {phrase:<34} {count:>8}  {view.category}, {view.action}\n")
    w("\nRequest methods\n")
    for method, count in summary["methods"].items():
        w(f"  {method:<38} {count:>8}\n")
    setup = summary["setup_time_ms"]
    w(f"\nSetup time (INVITE to ACK): average {setup['avg']} ms, min {setup['min']} ms, "
      f"max {setup['max']} ms ({setup['count']} calls)\n")
    w("\nResponses per category\n")
    for name, count in summary["categories"].items():
        w(f"  {name:<38} {count:>8}\n")
    w("\nResponses per advice\n")
    for name, count in summary["actions"].items():
        w(f"  {name:<38} {count:>8}\n")
    if "calls" in summary:
        calls = summary["calls"]
        w(f"\nCalls: {calls['total']}\n")
        for name in OUTCOMES:
            if calls[name]:
                w(f"  {name:<38} {calls[name]:>8}\n")


class Progress:
    """A one-line progress bar on a terminal (stderr), redrawn at most 10 times a second."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self._last = 0.0
        self.shown = False

    def __call__(self, capture: CaptureFile, messages: int) -> None:
        now = time.monotonic()
        if now - self._last < 0.1:
            return
        self._last = now
        done = capture.position()
        share = done / capture.size if capture.size else 1.0
        bar = "#" * int(share * 30)
        name = os.path.basename(capture.path)[-30:]
        self.out.write(f"\r{name} [{bar:<30}] {share:>4.0%} {messages} messages")
        self.out.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.out.write("\r\033[K")
            self.out.flush()


def stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
