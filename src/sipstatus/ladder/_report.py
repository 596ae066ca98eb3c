"""The HTML report of captures: one self-contained file (inline CSS and script, no fetch of
any kind when it is viewed) with the summary, bar charts of the responses per class and per
code, the RFC 6076 metrics, the calls (sortable, filterable) and each call's ladder, opened
from its row.

Its numbers are the scan's own: the summary and the calls come from one
``capture._scan.Scan`` run as ``sipstatus scan --summary --calls`` runs it, the metrics from
one run as ``sipstatus scan --metrics`` runs it; the report only lays them out. They are also
embedded as JSON (``<script type="application/json" id="sipstatus-data">``: ``summary`` as
``scan --summary --format json``, ``calls`` as ``scan --calls --format jsonl``, ``metrics`` as
``scan --metrics --format jsonl``), for tools.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from sipstatus._codes import CODES
from sipstatus.capture._calls import Call
from sipstatus.capture._errors import CaptureError
from sipstatus.capture._records import CapturedMessage, read
from sipstatus.capture._scan import Scan, code_view
from sipstatus.capture._writers import call_row
from sipstatus.ladder._html import SCRIPT as LADDER_SCRIPT
from sipstatus.ladder._html import STYLE as LADDER_STYLE
from sipstatus.ladder._html import view
from sipstatus.ladder._model import build
from sipstatus.ladder._palette import HEX, colour_key


def scan_numbers(paths: Sequence[str | os.PathLike[str]], *, port: int | None = None
                 ) -> dict[str, Any]:
    """The numbers of the report: ``summary``, ``calls`` and ``metrics``, from the scan as
    ``sipstatus scan`` computes them (a damaged capture: what was read, and the damage in
    ``summary["capture_error"]``)."""
    calls: list[Call] = []
    scan = Scan(port=port, calls=True, on_call=calls.append)
    error = _drain(scan, paths)
    summary = scan.summary.as_dict(with_calls=True)
    if error is not None:
        summary["capture_error"] = error
    metered = Scan(port=port, metrics=True)
    _drain(metered, paths)
    metrics = metered.metrics.results() if metered.metrics is not None else ()
    return {
        "summary": summary,
        "calls": [call_row(call) for call in calls],
        "metrics": [metric.as_dict() for metric in metrics],
    }


def _drain(scan: Scan, paths: Sequence[str | os.PathLike[str]]) -> str | None:
    try:
        deque(scan.run(paths), maxlen=0)  # records are off: this runs the scan to its end
    except CaptureError as exc:
        return str(exc)
    return None


def _messages(paths: Sequence[str | os.PathLike[str]], port: int | None
              ) -> dict[str, list[CapturedMessage]]:
    by_call: dict[str, list[CapturedMessage]] = {}
    for path in paths:
        try:
            for message in read(path, port=port, on_problem=lambda problem: None):
                by_call.setdefault(message.head.call_id, []).append(message)
        except CaptureError:  # the damage is in the summary; draw what was read
            pass
    return by_call


def report(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *,
           port: int | None = None, title: str = "") -> str:
    """The HTML report of the captures at ``paths`` (a damaged capture: the report of what
    was read, the damage in its summary). A missing or unreadable file raises ``OSError``."""
    return report_and_numbers(paths, port=port, title=title)[0]


def report_and_numbers(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *,
                       port: int | None = None, title: str = "",
                       ) -> tuple[str, dict[str, Any]]:
    """The report and the numbers in it (see :func:`scan_numbers`)."""
    paths = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    numbers = scan_numbers(paths, port=port)
    by_call = _messages(paths, port)
    title = title or "SIP report: " + ", ".join(os.path.basename(p) for p in map(str, paths))
    data = json.dumps(numbers, separators=(",", ":")).replace("</", "<\\/")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title><style>{LADDER_STYLE}{STYLE}</style></head><body>\n"
        f"<h1>{escape(title)}</h1>\n"
        + _summary(numbers["summary"]) + _charts(numbers["summary"])
        + _metrics(numbers["metrics"]) + _calls(numbers["calls"], by_call)
        + f'<script type="application/json" id="sipstatus-data">{data}</script>\n'
        f"<script>{LADDER_SCRIPT}{SCRIPT}</script>\n</body></html>\n"), numbers


STYLE = """
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #d0d7de;padding:.2em .6em;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
th.sort{cursor:pointer;background:#f6f8fa}
.bar{height:1em;display:inline-block;vertical-align:middle}
tr.call{cursor:pointer}tr.call:hover{background:#f6f8fa}
.sections{display:flex;flex-wrap:wrap;gap:2em}
"""

#: Sorting and filtering of the calls table; a row's click opens its ladder.
SCRIPT = """
(function(){
  var table = document.getElementById('calls');
  if (!table) return;
  var body = table.tBodies[0];
  function pairs(){
    var rows = Array.prototype.slice.call(body.rows), out = [];
    for (var i = 0; i < rows.length; i += 2) out.push([rows[i], rows[i + 1]]);
    return out;
  }
  table.querySelectorAll('th.sort').forEach(function(th, column){
    th.addEventListener('click', function(){
      var ascending = th.getAttribute('data-order') !== 'ascending';
      th.setAttribute('data-order', ascending ? 'ascending' : 'descending');
      var sorted = pairs().sort(function(a, b){
        var x = a[0].cells[column].getAttribute('data-value');
        var y = b[0].cells[column].getAttribute('data-value');
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return ascending ? c : -c;
      });
      sorted.forEach(function(p){ body.appendChild(p[0]); body.appendChild(p[1]); });
    });
  });
  document.getElementById('filter').addEventListener('input', function(event){
    var words = event.target.value.toLowerCase();
    pairs().forEach(function(p){
      var hit = p[0].textContent.toLowerCase().indexOf(words) >= 0;
      p[0].hidden = !hit;
      if (!hit) p[1].hidden = true;
    });
  });
  body.addEventListener('click', function(event){
    var row = event.target.closest('tr.call');
    if (row) row.nextElementSibling.hidden = !row.nextElementSibling.hidden;
  });
})();
"""


def _cell(value: object, *, number: bool = False) -> str:
    text = "" if value is None else str(value)
    css = ' class="n"' if number else ""
    return f'<td{css} data-value="{escape(text)}">{escape(text)}</td>'


def _table(table_id: str, headers: Sequence[str], rows: Iterable[Sequence[object]],
           numeric: Sequence[bool]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(_cell(v, number=n) for v, n in zip(row, numeric,
                                                                           strict=True))
                   + "</tr>" for row in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _summary(summary: dict[str, Any]) -> str:
    setup = summary["setup_time_ms"]
    totals = [("captures", ", ".join(summary["captures"])), ("messages", summary["messages"]),
              ("resent", summary["resent"]), ("udp", summary["transports"]["udp"]),
              ("tcp", summary["transports"]["tcp"]), ("broken", summary["broken"]),
              ("calls", summary["calls"]["total"]),
              ("setup avg ms", setup["avg"]), ("setup min ms", setup["min"]),
              ("setup max ms", setup["max"]), ("setup count", setup["count"])]
    codes = []
    for code, count in summary["status_codes"].items():
        info = CODES.get(int(code))
        view_ = code_view(int(code))
        codes.append((code, info.reason if info else f"(unregistered, as {view_.reason})",
                      count, view_.category, view_.action,
                      info.meaning if info else ""))
    out = ["<h2>Summary</h2>", '<div class="sections"><div>',
           _table("totals", ("measure", "value"), totals, (False, True))]
    if summary["capture_error"]:
        out.append(f'<p class="error">{escape(summary["capture_error"])}</p>')
    for warning in summary["warnings"]:
        out.append(f'<p class="warning">{escape(warning)}</p>')
    out += ["<h3>Call outcomes</h3>",
            _table("outcomes", ("outcome", "calls"),
                   [(k, v) for k, v in summary["calls"].items() if k != "total"],
                   (False, True)),
            "</div><div><h3>Responses per code</h3>",
            _table("codes", ("code", "reason", "count", "class", "advice", "meaning"), codes,
                   (True, False, True, False, False, False)),
            "<h3>Requests per method</h3>",
            _table("methods", ("method", "count"), summary["methods"].items(), (False, True)),
            "</div></div>"]
    return "\n".join(out) + "\n"


def _bars(table_id: str, rows: Sequence[tuple[str, int, str]]) -> str:
    top = max((count for _, count, _ in rows), default=0) or 1
    body = "".join(
        f'<tr><td>{escape(name)}</td><td class="n" data-value="{count}">{count}</td>'
        f'<td><span class="bar" style="width:{300 * count / top:.0f}px;'
        f'background:{colour}"></span></td></tr>' for name, count, colour in rows)
    return (f'<table id="{table_id}"><thead><tr><th>responses</th><th>count</th><th></th>'
            f"</tr></thead><tbody>{body}</tbody></table>")


def _charts(summary: dict[str, Any]) -> str:
    classes: dict[str, int] = {}
    for code, count in summary["status_codes"].items():
        key = colour_key(int(code))
        classes[key] = classes.get(key, 0) + count
    per_class = [(key, count, HEX[key]) for key, count in sorted(classes.items())]
    per_code = [(code, count, HEX[colour_key(int(code))])
                for code, count in summary["status_codes"].items()]
    return ('<h2>Responses</h2><div class="sections"><div><h3>Per class</h3>'
            + _bars("per-class", per_class) + "</div><div><h3>Per code</h3>"
            + _bars("per-code", per_code) + "</div></div>\n")


def _metrics(metrics: list[dict[str, Any]]) -> str:
    rows = []
    for metric in metrics:
        success = metric.get("success_ms") or {}
        failure = metric.get("failure_ms") or {}
        rows.append((metric["name"], metric["rfc"], metric.get("percent"),
                     metric.get("numerator"), metric.get("denominator"),
                     success.get("count"), success.get("avg"), success.get("min"),
                     success.get("max"), failure.get("count"), metric["definition"]))
    return ("<h2>RFC 6076 metrics</h2>"
            + _table("metrics", ("metric", "RFC", "percent", "numerator", "denominator",
                                 "count", "avg ms", "min ms", "max ms", "failures",
                                 "definition"),
                     rows, (False, False, *([True] * 8), False)) + "\n")


def _calls(calls: list[dict[str, Any]], by_call: dict[str, list[CapturedMessage]]) -> str:
    shown = ("call_id", "outcome", "ended", "final_code", "frame", "start", "src", "dst",
             "transport", "messages", "invites", "setup_ms", "duration_ms")
    numeric = {"final_code", "frame", "start", "messages", "invites", "setup_ms",
               "duration_ms"}
    head = "".join(f'<th class="sort">{escape(name)}</th>' for name in shown)
    rows = []
    for number, call in enumerate(calls):
        cells = "".join(_cell(call[name], number=name in numeric) for name in shown)
        messages = by_call.get(call["call_id"], [])
        if "call_ids" in call:  # a call of several legs: all of them, in time order
            messages = sorted((m for leg in call["call_ids"] for m in by_call.get(leg, [])),
                              key=lambda m: m.time)
        ladder = view(build(messages)) if messages else "<p>no messages read</p>"
        rows.append(f'<tr class="call" id="call-{number}" data-call-id='
                    f'"{escape(call["call_id"])}">{cells}</tr>'
                    f'<tr class="ladder-row" hidden><td colspan="{len(shown)}">{ladder}'
                    "</td></tr>")
    return (f"<h2>Calls ({len(calls)})</h2>"
            '<p><input id="filter" type="search" placeholder="filter calls" '
            'aria-label="filter calls"> Click a column to sort, a call to open its ladder.</p>'
            f'<table id="calls"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}'
            "</tbody></table>\n")
