"""`sipstatus scan` output formats, through the console script's entry point: RFC 6076
metrics and the call list give the same numbers in every format, the summary as one JSON
line, and --validate (the full grammar on every message)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pcapgen
import pytest

from sipstatus.__main__ import main

Write = Callable[..., Path]
A, B = "192.0.2.10", "192.0.2.20"
CALLS = Path(__file__).resolve().parents[2] / "fixtures" / "captures" / \
    "sipp-kamailio-udp-calls.pcapng"
CALL_COLUMNS = ["call_id", "outcome", "ended", "final_code", "frame", "start", "src", "sport",
                "dst", "dport", "transport", "messages", "invites", "setup_ms", "duration_ms"]


def scan(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["scan", "--no-progress", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def _number(text: str) -> float | int | None:
    if text == "":
        return None
    return float(text) if "." in text else int(text)


def test_metrics_are_the_same_in_every_format(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = scan(capsys, "--metrics", "--format", "json", str(CALLS))
    assert (status, err) == (0, "")
    reference = {m["name"]: m for m in json.loads(out)["metrics"]}
    assert list(reference) == ["SER", "SEER", "ISA", "SCR", "SRD", "SDD", "SDT", "RRD", "IRA"]
    assert (reference["SER"]["percent"], reference["SER"]["numerator"],
            reference["SER"]["denominator"]) == (21.05, 4, 19)

    _, out, _ = scan(capsys, "--metrics", "--format", "jsonl", str(CALLS))
    assert {m["name"]: m for m in map(json.loads, out.splitlines())} == reference

    _, out, _ = scan(capsys, "--metrics", "--format", "csv", str(CALLS))
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["name", "rfc", "percent", "numerator", "denominator", "count",
                             "avg_ms", "min_ms", "max_ms", "failures", "definition"]
    for row in rows:
        metric = reference[row["name"]]
        assert row["rfc"] == metric["rfc"] and row["definition"] == metric["definition"]
        for column in ("percent", "numerator", "denominator"):
            assert _number(row[column]) == metric.get(column)
        success, failure = metric.get("success_ms") or {}, metric.get("failure_ms") or {}
        for column, key in (("count", "count"), ("avg_ms", "avg"), ("min_ms", "min"),
                            ("max_ms", "max")):
            assert _number(row[column]) == success.get(key)
        assert _number(row["failures"]) == failure.get("count")

    _, out, _ = scan(capsys, "--metrics", str(CALLS))
    assert "  SER   21.05 %  (4 of 19)" in out.splitlines()
    good, bad = reference["SRD"]["success_ms"], reference["SRD"]["failure_ms"]
    assert (f"  SRD   avg {good['avg']} ms, min {good['min']} ms, max {good['max']} ms "
            f"({good['count']} samples); failures avg {bad['avg']} ms, min {bad['min']} ms, "
            f"max {bad['max']} ms ({bad['count']})") in out.splitlines()


def test_the_call_list_in_csv_and_jsonl(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = scan(capsys, "--calls", "--format", "jsonl", str(CALLS))
    assert status == 0
    calls = [json.loads(line) for line in out.splitlines()]
    _, out, _ = scan(capsys, "--calls", "--format", "csv", str(CALLS))
    table = list(csv.reader(io.StringIO(out)))
    assert table[0] == CALL_COLUMNS
    assert len(table) - 1 == len(calls) > 0
    for row, call in zip(table[1:], calls, strict=True):
        assert list(call) == CALL_COLUMNS
        written: dict[str, Any] = dict(zip(CALL_COLUMNS, row, strict=True))
        assert written["call_id"] == call["call_id"]
        assert written["outcome"] == call["outcome"]
        assert written["ended"] == str(call["ended"]).lower()
        assert _number(written["final_code"]) == call["final_code"]
        assert _number(written["setup_ms"]) == call["setup_ms"]


def _with_a_broken_message(write: Write) -> str:
    line = pcapgen.Timeline()
    line.udp(A, B, pcapgen.request("OPTIONS", call_id="o@x"), 0)
    line.udp(B, A, pcapgen.response(200, "OK", call_id="o@x", method="OPTIONS"), 1)
    # Read well enough by the capture-side scan; the parser's 8 KiB line limit rejects it.
    line.udp(A, B, b"OPTIONS sip:b@x SIP/2.0\r\nCall-ID: v@x\r\nCSeq: 1 OPTIONS\r\n"
                   b"Subject: " + b"x" * 9000 + b"\r\n\r\n", 1)
    return str(write(line.pcap()))


def test_validate_parses_every_message(write: Write,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = _with_a_broken_message(write)
    status, out, err = scan(capsys, "--format", "jsonl", path)
    assert (status, err) == (0, "")
    assert [json.loads(line)["error"] for line in out.splitlines()] == ["", "", ""]

    status, out, err = scan(capsys, "--validate", "--format", "jsonl", path)
    assert status == 1 and err == "sipstatus scan: 1 broken SIP message(s)\n"
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["error"] for r in records] == [
        "", "", "line longer than the limit of 8192 octets at line 4, column 8193"]
    assert records[2]["call_id"] == "v@x"

    status, out, _ = scan(capsys, "--validate", path)
    assert status == 1
    assert out.splitlines()[:3] == ["SIP messages: 3 (UDP 3, TCP 0)", "Resent messages: 0",
                                    "Broken messages: 1"]


def test_the_summary_as_one_json_line(write: Write,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = _with_a_broken_message(write)
    status, out, _ = scan(capsys, "--summary", "--format", "jsonl", path)
    assert status == 0
    [line] = out.splitlines()
    summary = json.loads(line)
    assert (summary["messages"], summary["status_codes"], summary["methods"]) == (
        3, {"200": 1}, {"OPTIONS": 2})
    assert (summary["broken"], summary["capture_error"]) == (0, None)
    _, document, _ = scan(capsys, "--summary", "--format", "json", path)
    assert json.loads(document) == summary
