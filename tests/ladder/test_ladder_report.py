"""The report's numbers are the scan's: its embedded data and its tables equal
``sipstatus scan --summary --format json``, ``--calls`` and ``--metrics``; it fetches
nothing; the command line."""

from __future__ import annotations

import json
import re
import struct
from html.parser import HTMLParser
from pathlib import Path

import pytest
from ladder_support import CAPTURES, FIXTURES, cli, records

from sipstatus.ladder import report
from sipstatus.ladder._report import report_and_numbers


class Tables(HTMLParser):
    """The cells of every table with an id, and the data of the JSON script."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.data = ""
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._in_data = False
        self.arrows = 0
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "table" and attributes.get("id"):
            self._table = attributes["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table and "ladder-row" not in (attributes.get("class") or ""):
            self.tables[self._table].append([])
        elif tag == "td" and self._table and self.tables[self._table]:
            self._cell = []
        elif tag == "script" and attributes.get("id") == "sipstatus-data":
            self._in_data = True
        elif tag == "g" and "msg" in (attributes.get("class") or "").split():
            self.arrows += 1
        for name in ("src", "href"):
            if attributes.get(name):
                self.sources.append(str(attributes[name]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._table:
            self.tables[self._table][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None
        elif tag == "script":
            self._in_data = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._in_data:
            self.data += data


def read_report(html: str) -> Tables:
    tables = Tables()
    tables.feed(html)
    tables.tables = {name: [row for row in rows if row] for name, rows in tables.tables.items()}
    return tables


def scan_json(*args: str) -> str:
    return cli("scan", *args)[1]


def check_numbers(html: str, capture: str) -> None:
    """The report's data and tables against the scan's own outputs for ``capture``."""
    page = read_report(html)
    data = json.loads(page.data)
    summary = json.loads(scan_json("--summary", "--format", "json", capture))
    calls = [json.loads(line) for line in
             scan_json("--calls", "--format", "jsonl", capture).splitlines()]
    metrics = [json.loads(line) for line in
               scan_json("--metrics", "--format", "jsonl", capture).splitlines()]
    assert data == {"summary": summary, "calls": calls, "metrics": metrics}
    totals = dict(map(tuple, page.tables["totals"]))  # type: ignore[arg-type]
    assert totals["messages"] == str(summary["messages"])
    assert totals["resent"] == str(summary["resent"])
    assert totals["calls"] == str(summary["calls"]["total"])
    assert totals["setup avg ms"] == str(summary["setup_time_ms"]["avg"])
    assert {row[0]: int(row[2]) for row in page.tables["codes"]} == {
        code: count for code, count in summary["status_codes"].items()}
    assert {row[0]: int(row[1]) for row in page.tables["methods"]} == summary["methods"]
    assert {row[0]: int(row[1]) for row in page.tables["per-code"]} == summary["status_codes"]
    assert sum(int(row[1]) for row in page.tables["per-class"]) == sum(
        summary["status_codes"].values())
    outcomes = {row[0]: int(row[1]) for row in page.tables["outcomes"]}
    assert outcomes == {k: v for k, v in summary["calls"].items() if k != "total"}
    assert [row[0] for row in page.tables["metrics"]] == [m["name"] for m in metrics]
    for row, metric in zip(page.tables["metrics"], metrics, strict=True):
        if "percent" in metric:
            assert row[2] == ("" if metric["percent"] is None else str(metric["percent"]))
            assert row[3:5] == [str(metric["numerator"]), str(metric["denominator"])]
        else:
            assert row[5] == str(metric["success_ms"]["count"])
    assert [row[0] for row in page.tables["calls"]] == [call["call_id"] for call in calls]
    assert [row[1] for row in page.tables["calls"]] == [call["outcome"] for call in calls]
    # every call's ladder is in the page: one arrow per message of the call minus resends
    wanted = {call["call_id"] for call in calls}
    assert page.arrows == sum(1 for r in records(Path(capture).name)
                              if r["call_id"] in wanted and not r["resend"])
    # nothing to fetch
    assert page.sources == []
    assert not re.search(r"(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", html.replace(
        "http://www.w3.org/2000/svg", ""))


@pytest.mark.parametrize("name", FIXTURES)
def test_report_numbers_are_the_scans(name: str) -> None:
    capture = str(CAPTURES / name)
    check_numbers(report(capture), capture)


def test_the_report_command(tmp_path: Path) -> None:
    capture = str(CAPTURES / "sipp-kamailio-udp-calls.pcapng")
    out = tmp_path / "report.html"
    assert cli("report", capture, "-o", str(out), "--title", "A & B") == (0, "")
    html = out.read_text(encoding="utf-8")
    assert "<title>A &amp; B</title>" in html
    check_numbers(html, capture)
    assert cli("report", str(tmp_path / "missing.pcap"), "-o", str(out))[0] == 1
    damaged = tmp_path / "damaged.pcapng"
    damaged.write_bytes(Path(capture).read_bytes()[:20000])
    assert cli("report", str(damaged), "-o", str(out))[0] == 1
    text, numbers = report_and_numbers(damaged)
    assert numbers["summary"]["capture_error"]
    assert 'class="error"' in text
    with pytest.raises(SystemExit):
        cli("report", capture)  # -o is required


def test_a_report_of_several_captures() -> None:
    one = CAPTURES / "sipp-kamailio-fragments.pcapng"
    two = CAPTURES / "sipp-kamailio-ipv6.pcapng"
    html, numbers = report_and_numbers([one, two])
    assert numbers["summary"]["captures"] == [str(one), str(two)]
    assert "sipp-kamailio-fragments.pcapng, sipp-kamailio-ipv6.pcapng" in html


def test_a_capture_with_a_warning(tmp_path: Path) -> None:
    # one record of a link type no one reads: a warning, after which reading goes on
    odd = tmp_path / "odd.pcap"
    odd.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 147)
                    + struct.pack("<IIII", 1, 0, 4, 4) + b"\0\0\0\0")
    html, numbers = report_and_numbers(odd)
    assert numbers["summary"]["warnings"] and 'class="warning"' in html
    assert cli("report", str(odd), "-o", str(tmp_path / "r.html"))[0] == 1  # as scan
    assert cli("ladder", str(odd))[0] == 1  # the problem is said on stderr
