"""The output formats of ``sipstatus scan``: per-message records as JSONL or CSV, calls as they
are released (text, JSON, JSONL, CSV), RFC 6076 metrics, and the summary as text.

A call of several legs (``_legs``) is one call: ``call_id`` is its key (its first leg's
Call-ID); JSON and JSONL add ``call_ids``, the Call-IDs of its legs in the order first seen,
and CSV and text list them, space-separated, in the ``call_id`` cell (a Call-ID holds no
space). A call of one leg is written as before.

A record's ``evicted`` field names, comma-separated, the kinds of state the message lost to
the memory budget (``resend_states``: its resend flag may be missing; ``transactions``: its
response time; ``calls``: its call had been released before its outcome was settled;
``tcp_bytes``: its body was counted off, not held), or is empty."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from typing import IO, Any

from sipstatus._codes import CODES
from sipstatus.capture._calls import OUTCOMES, Call
from sipstatus.capture._metrics import Metric
from sipstatus.capture._scan import Record, code_view

RECORD_FIELDS = (
    "frame", "time", "src", "sport", "dst", "dport", "transport", "kind", "method",
    "status_code", "reason", "category", "action", "call_id", "cseq_seq", "cseq_method",
    "via_branch", "from_tag", "to_tag", "resend", "response_time_ms", "error", "evicted",
)
CALL_FIELDS = (
    "call_id", "outcome", "ended", "final_code", "frame", "start", "src", "sport", "dst",
    "dport", "transport", "messages", "invites", "setup_ms", "duration_ms",
)
_quote: Callable[[str], str] = json.encoder.encode_basestring_ascii
_NO_CODE = '"category":"","action":""'


def record_values(record: Record) -> tuple[object, ...]:
    frame, when, src, sport, dst, dport, transport, head, resend, rtime, error, evicted = record
    code = head.status_code
    view = code_view(code) if code else None
    return (
        frame, when, src, sport, dst, dport, transport, head.kind, head.method,
        code if code else None, head.reason, view.category if view else "",
        view.action if view else "", head.call_id, head.cseq_seq, head.cseq_method,
        head.via_branch, head.from_tag, head.to_tag, resend,
        round(rtime, 3) if rtime is not None else None, error, evicted,
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
    for (frame, when, src, sport, dst, dport, transport, head, resend, rtime, error,
         evicted) in records:
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
            f'"error":{q(error)},"evicted":"{evicted}"}}\n')
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


def call_row(call: Call) -> dict[str, object]:
    """A call as JSON and JSONL write it: the :data:`CALL_FIELDS`, and ``call_ids`` for a
    call of several legs."""
    row = dict(zip(CALL_FIELDS, call_values(call), strict=True))
    if call.legs:
        row["call_ids"] = list(call.legs)
    return row


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
        if self.fmt == "jsonl":
            self.out.write(json.dumps(call_row(call), separators=(",", ":")) + "\n")
        elif self._csv is not None:
            values = call_values(call)
            if call.legs:
                values = (" ".join(call.legs), *values[1:])
            self._csv.writerow([_cell(v) for v in values])
        elif self.fmt == "json":
            row = json.dumps(call_row(call))
            self.out.write(("," if self.count else "") + "\n    " + row)
        else:
            outcome = call.outcome() + (" (ended)" if call.ended else "")
            setup = f"{call.setup_ms:.0f}" if call.setup_ms is not None else "-"
            duration = f"{call.duration_ms:.0f}" if call.duration_ms is not None else "-"
            self.out.write(f"{outcome:<16} {call.final_code or '-':>5} "
                           f"{call.start_ns / 1e9:>17.6f} {setup:>10} {duration:>12} "
                           f"{call.messages:>5}  {' '.join(call.call_ids)}\n")
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
    _write_skipped(summary, w)


def _write_skipped(summary: dict[str, Any], w: Callable[[str], object]) -> None:
    """What the scan skipped, dropped or could not read, if anything."""
    evicted = summary["evicted"]
    counts = (("Damaged records skipped", summary["damaged_records"]),
              ("Records over the record budget, skipped unread", evicted["records"]),
              ("pcapng interfaces beyond the number kept", evicted["interfaces"]))
    dropped = [(_EVICTED_LABELS.get(kind, kind), count) for kind, count in evicted.items()
               if count and kind not in ("records", "interfaces")]
    if any(count for _, count in counts):
        w("\nSkipped\n")
    for label, count in counts:
        if count:
            w(f"  {label:<48} {count:>10}\n")
    if dropped:
        w(f"\nDropped to hold the memory budget of {budget_size(summary['max_memory'])} "
          f"(--max-memory)\n")
        for label, count in dropped:
            w(f"  {label:<48} {count:>10}\n")
    warnings = summary["warnings"]
    if warnings:
        w("\nWarnings\n")
        for warning in warnings:
            w(f"  {warning}\n")


_EVICTED_LABELS = {
    "calls": "Calls released before their outcome was settled",
    "transactions": "Transactions released early",
    "resend_states": "Resend states (tshark's) evicted",
    "registrations": "Registrations waiting for a 2xx evicted",
    "fragments": "IP fragments given up",
    "tcp_bytes": "TCP bytes dropped or counted off",
    "tcp_streams": "TCP streams forgotten",
    "call_links": "Links between call legs not made (bounds of a call)",
}


def budget_size(count: int) -> str:
    """A byte count as people write a budget: ``64 MiB``, ``1 GiB``, ``1000 bytes``."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale and count % scale == 0:
            return f"{count // scale} {unit}"
    return f"{count} bytes"
