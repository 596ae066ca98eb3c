"""`sipstatus scan`, `sipstatus.capture.read` with the parser, and a tshark cross-check."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pcapgen
import pytest

from sipstatus import SipRequest, SipResponse
from sipstatus._cli import main
from sipstatus._cli.terminal import Progress
from sipstatus.capture import read, summarize
from sipstatus.capture._writers import CALL_FIELDS, RECORD_FIELDS

Write = Callable[..., Path]
A, B = "192.0.2.10", "192.0.2.20"


def sample(line: pcapgen.Timeline | None = None) -> pcapgen.Timeline:
    line = line or pcapgen.Timeline()
    invite = pcapgen.request("INVITE", body=b"v=0\r\n")
    line.udp(A, B, invite, 0)
    line.udp(A, B, invite, 500)
    line.udp(B, A, pcapgen.response(180, "Ringing"), 100)
    line.udp(B, A, pcapgen.response(200, "OK"), 1000)
    line.udp(A, B, pcapgen.request("ACK", branch="z9hG4bK-2", to_tag="tt1"), 10)
    line.udp(A, B, pcapgen.request("BYE", cseq=2, branch="z9hG4bK-3", to_tag="tt1"), 5000)
    line.udp(B, A, pcapgen.response(200, "OK", cseq=2, method="BYE", branch="z9hG4bK-3"), 40)
    line.udp(A, B, pcapgen.request("OPTIONS", call_id="o@x", branch="z9hG4bK-o"), 10)
    line.udp(B, A, pcapgen.response(299, "Odd", call_id="o@x", method="OPTIONS",
                                    branch="z9hG4bK-o"), 10)
    return line


def scan(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["scan", "--no-progress", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_summary_text(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = scan(capsys, str(write(sample().pcap())))
    assert (status, err) == (0, "")
    assert "SIP messages: 9 (UDP 9, TCP 0)" in out
    assert "Resent messages: 1" in out
    assert re.search(r"200 OK +2 +2xx success, success", out)
    assert re.search(r"299 \(unregistered, handled as OK\) +1", out)
    assert re.search(r"INVITE +2", out)
    assert "average 1610 ms, min 1610 ms, max 1610 ms (1 calls)" in out
    assert re.search(r"answered +1", out)


def test_summary_json(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(sample().pcap())
    status, out, _ = scan(capsys, "--summary", "--format", "json", str(path))
    document = json.loads(out)
    assert status == 0
    assert {k: document[k] for k in ("messages", "resent", "status_codes", "methods",
                                     "setup_time_ms")} == {
        "messages": 9, "resent": 1,
        "status_codes": {"180": 1, "200": 2, "299": 1},
        "methods": {"INVITE": 2, "ACK": 1, "BYE": 1, "OPTIONS": 1},
        "setup_time_ms": {"avg": 1610, "min": 1610, "max": 1610, "count": 1},
    }
    assert document["calls"]["answered"] == 1
    assert summarize(path)["status_codes"] == document["status_codes"]


def test_jsonl_and_csv_records(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(write(sample().pcap()))
    _, out, _ = scan(capsys, "--format", "jsonl", path)
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 9 and all(tuple(row) == RECORD_FIELDS for row in rows)
    assert rows[1]["resend"] is True and rows[1]["method"] == "INVITE"
    ringing = rows[2]
    assert (ringing["kind"], ringing["status_code"], ringing["method"], ringing["cseq_method"],
            ringing["category"], ringing["action"], ringing["response_time_ms"]) == (
        "response", 180, "", "INVITE", "1xx provisional", "continue", 600.0)
    assert rows[0]["time"] == pytest.approx(1_700_000_000.0)
    assert (rows[0]["via_branch"], rows[0]["from_tag"], rows[3]["to_tag"]) == (
        "z9hG4bK-1", "ft1", "tt1")
    _, out, _ = scan(capsys, "--format", "csv", path)
    table = list(csv.DictReader(io.StringIO(out)))
    assert tuple(table[0]) == RECORD_FIELDS and len(table) == 9
    assert [row["status_code"] for row in table[:3]] == ["", "", "180"]


def test_calls_and_metrics(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(write(sample().pcap()))
    status, out, _ = scan(capsys, "--calls", "--format", "jsonl", path)
    (call,) = [json.loads(line) for line in out.splitlines()]
    assert status == 0 and tuple(call) == CALL_FIELDS
    assert (call["outcome"], call["ended"], call["final_code"], call["setup_ms"]) == (
        "answered", True, 200, 1600.0)
    _, out, _ = scan(capsys, "--calls", "--format", "json", path)
    document = json.loads(out)  # the call list is streamed into the one JSON object
    assert document["call_list"] == [call] and document["messages"] == 9
    _, out, _ = scan(capsys, "--metrics", "--format", "json", path)
    metrics = {m["name"]: m for m in json.loads(out)["metrics"]}
    assert set(metrics) == {"SER", "SEER", "ISA", "SCR", "SRD", "SDD", "SDT", "RRD", "IRA"}
    assert metrics["SER"]["percent"] == 100.0 and "Session Establishment" in (
        metrics["SER"]["definition"])
    _, out, _ = scan(capsys, "--summary", "--calls", "--metrics", path)
    assert "answered (ended)" in out and "RFC 6076 §4.6" in out and "SIP messages: 9" in out


def test_damaged_capture_gives_partial_results_and_exit_1(
        write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    data = sample().pcap()
    status, out, err = scan(capsys, "--format", "json", str(write(data[:-30])))
    assert status == 1
    document = json.loads(out)
    assert document["messages"] == 8
    assert "frame 9" in document["capture_error"] and "byte offset" in err
    status, out, err = scan(capsys, "--format", "jsonl", str(write(data[:-30])))
    assert status == 1 and len(out.splitlines()) == 8 and "frame 9" in err


def test_after_a_damaged_or_missing_capture_the_scan_goes_on(
        write: Write, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = sample().pcap()
    damaged, whole = str(write(data[:-30])), str(write(data))
    missing = str(tmp_path / "missing.pcap")
    status, out, err = scan(capsys, "--format", "json", damaged, missing, whole)
    assert status == 1
    document = json.loads(out)
    assert document["captures"] == [damaged, missing, whole]
    assert document["messages"] == 8 + 9  # what the damaged one held, then all of the last
    first, second = document["capture_errors"]
    assert document["capture_error"] == first
    assert first.startswith(f"{damaged}: ") and "frame 9" in first
    assert second.startswith(f"{missing}: cannot be read")
    assert first in err and second in err
    status, out, _ = scan(capsys, "--format", "jsonl", damaged, missing, whole)
    assert status == 1 and len(out.splitlines()) == 17


def test_broken_messages_exit_1(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    line = pcapgen.Timeline()
    line.udp(A, B, b"OPTIONS sip:b@x SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n")
    status, out, err = scan(capsys, "--format", "jsonl", str(write(line.pcap())))
    assert status == 1 and json.loads(out)["error"] == "no Call-ID"
    assert "1 broken SIP message" in err


def test_usage_errors(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(write(sample().pcap()))
    assert scan(capsys, "--calls", "--metrics", "--format", "csv", path)[0] == 2
    assert scan(capsys, "--summary", "--format", "csv", path)[0] == 2
    status, _, err = scan(capsys, "/nonexistent/file.pcap")
    assert status == 1 and "No such file" in err


def test_port_option(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    line = sample()
    line.udp(A, B, pcapgen.request("MESSAGE", call_id="m@x"), 1, sport=7000, dport=7001)
    path = str(write(line.pcap()))
    assert json.loads(scan(capsys, "--format", "json", path)[1])["messages"] == 10
    document = json.loads(scan(capsys, "--format", "json", "--port", "7001", path)[1])
    assert (document["messages"], document["methods"]) == (1, {"MESSAGE": 1})


def test_read_gives_parsed_messages_and_parse_errors(write: Write) -> None:
    line = sample()
    # A header line longer than the parser's limit (8 KiB) is a parse error.
    line.udp(A, B, b"OPTIONS sip:b@x SIP/2.0\r\nCall-ID: broken\r\nCSeq: 1 OPTIONS\r\n"
                   b"Subject: " + b"x" * 9000 + b"\r\n\r\n")
    records = list(read(write(line.pcap())))
    assert [r.frame for r in records] == list(range(1, 11))
    first = records[0]
    assert isinstance(first.message, SipRequest) and first.error is None
    assert first.message.method == "INVITE" and first.message.call_id == "call-1@192.0.2.10"
    assert isinstance(records[2].message, SipResponse)
    assert records[2].message.status_code == 180
    broken = records[-1]
    assert broken.message is None and broken.error is not None
    assert broken.head.call_id == "broken" and broken.kind == "request"


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
def test_summary_matches_tshark_sip_stat(write: Write) -> None:
    line = sample()
    up = pcapgen.TcpFlow(A, 40000, B, 5060)
    down = pcapgen.TcpFlow(B, 5060, A, 40000, isn=9000)
    line.add(up.syn())
    line.add(down.syn())
    register = pcapgen.request("REGISTER", call_id="r@x", branch="z9hG4bK-r", transport="TCP")
    line.add(up.send(register[:70]))
    line.add(up.send(register[70:] + register.replace(b"CSeq: 1", b"CSeq: 2")))
    line.add(down.send(pcapgen.response(401, "Unauthorized", call_id="r@x", method="REGISTER",
                                        branch="z9hG4bK-r", transport="TCP")))
    busy_invite = pcapgen.request("INVITE", call_id="b@x", branch="z9hG4bK-b")
    line.udp(A, B, busy_invite, 7)
    line.udp(B, A, pcapgen.response(486, "Busy Here", call_id="b@x", branch="z9hG4bK-b"), 33)
    line.udp(B, A, pcapgen.response(486, "Busy Here", call_id="b@x", branch="z9hG4bK-b"), 500)
    line.udp(A, B, pcapgen.request("ACK", call_id="b@x", branch="z9hG4bK-b", to_tag="tt1"), 1)
    path = write(pcapgen.gzipped(pcapgen.pcapng(line.frames)), ".pcapng.gz")
    text = subprocess.run(["tshark", "-q", "-z", "sip,stat", "-r", str(path)], check=True,
                          capture_output=True, text=True).stdout
    ours = summarize(path)
    assert f"Number of SIP messages: {ours['messages']}\n" in text
    assert f"Number of resent SIP messages: {ours['resent']}\n" in text
    for code, count in ours["status_codes"].items():
        assert re.search(rf"SIP {code} .*: +{count} Packets", text), code
    for method, count in ours["methods"].items():
        assert re.search(rf"  {method} +: +{count} Packets", text), method
    setup = ours["setup_time_ms"]
    assert f"Average setup time {setup['avg']} ms\n Min {setup['min']} ms\n Max " \
           f"{setup['max']} ms" in text


def test_progress_bar_draws_and_clears(write: Write) -> None:
    from sipstatus._cli.terminal import Progress
    from sipstatus.capture._pcap import CaptureFile

    path = write(sample().pcap())
    screen = io.StringIO()
    bar = Progress(screen)
    capture = CaptureFile(path)
    bar(capture, 42)
    bar(capture, 43)  # within 0.1 s of the last draw: skipped
    bar.clear()
    text = screen.getvalue()
    assert text.count("42 messages") == 1 and "43 messages" not in text
    assert "100%" in text and text.endswith("\r\033[K")


class _Reading:
    """A capture as the progress bar sees it."""

    def __init__(self, path: str, size: int, at: int) -> None:
        self.path, self.size, self.at = path, size, at

    def position(self) -> int:
        return self.at


def test_the_progress_bar_covers_the_whole_run(tmp_path: Path) -> None:
    first, second = tmp_path / "a.pcap", tmp_path / "b.pcap"
    first.write_bytes(bytes(3000))
    second.write_bytes(bytes(1000))
    out = io.StringIO()
    bar = Progress(out, [str(first), str(second)], interval=0)
    bar(_Reading(str(first), 3000, 1500), 1024)
    assert "38%" in bar.line and "1/2 a.pcap" in bar.line and "1,024 messages" in bar.line
    bar(_Reading(str(first), 3000, 3000), 2048)
    bar(_Reading(str(second), 1000, 1000), 3072)
    assert "100%" in bar.line and "2/2 b.pcap" in bar.line and "MB/s" in bar.line
    bar(_Reading("hep://127.0.0.1:9060", 0, 0), 4096)  # a source of unknown size
    assert "3/3" in bar.line and "100%" in bar.line
    bar.clear()
    assert out.getvalue().endswith("\r\033[K")
