"""The fuzzer against a small faulty target (tests/fuzz/faulty_target.py) that crashes on a
negative Content-Length: the crash is found, reported with its label, and the saved
reproducer crashes a fresh instance again on replay, while a valid message does not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fuzz_support import FAULTY_TARGET, free_port, started, wait_for_udp_sip

from sipstatus import _cli

FAST = ["--rate", "2000", "--probe-timeout", "0.3", "--reply-wait", "0.01", "-q"]
OPTIONS = (b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK1;"
           b"rport\r\nMax-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\n"
           b"To: <sip:127.0.0.1>\r\nCall-ID: replay-control\r\nCSeq: 1 OPTIONS\r\n"
           b"Content-Length: 0\r\n\r\n")


def test_crash_is_found_reported_and_replayed(
    faulty_target: tuple[int, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    port, process = faulty_target
    out = tmp_path / "out"
    status = _cli.main(["fuzz", f"udp:127.0.0.1:{port}", "--cases", "400", "--seed", "1",
                        "--out", str(out), *FAST])
    assert status == 1
    assert process.wait(5) == 139  # it did crash
    report = json.loads((out / "report.json").read_text())
    dead = [f for f in report["findings"] if f["kind"] == "target-dead"]
    assert len(dead) == 1
    assert dead[0]["label"] == "content-length-negative"
    assert report["target_alive"] is False
    assert report["stopped"] == "target-dead" and report["cases"] == dead[0]["case"]
    assert sum(report["labels"].values()) == report["cases"]
    for finding in report["findings"]:
        assert (out / finding["file"]).is_file()
    before = dead[0]["preceding"]
    assert [p["case"] for p in before] == list(range(dead[0]["case"] - 1, dead[0]["case"] - 6, -1))
    assert all((out / p["file"]).is_file() for p in before)
    reproducer = out / dead[0]["file"]
    assert b"Content-Length: -" in reproducer.read_bytes()

    # The reproducer kills a fresh instance again; a valid OPTIONS does not.
    control = tmp_path / "options.sip"
    control.write_bytes(OPTIONS)
    port = free_port()
    with started([sys.executable, str(FAULTY_TARGET), str(port)], tmp_path / "again.log") as p:
        wait_for_udp_sip(port)
        target = f"udp:127.0.0.1:{port}"
        assert _cli.main(["fuzz", "--replay", str(control), target, *FAST]) == 0
        assert p.poll() is None
        assert _cli.main(["fuzz", "--replay", str(reproducer), target, *FAST]) == 1
        assert p.wait(5) == 139


def test_a_silent_target_is_a_network_error(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()  # nothing listens there
    status = _cli.main(["fuzz", f"udp:127.0.0.1:{port}", "--cases", "3", *FAST])
    assert status == 2
    assert "does not answer OPTIONS" in capsys.readouterr().err


def test_same_seed_same_cases(
    faulty_target: tuple[int, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    port, _ = faulty_target
    labels = []
    for run in ("a", "b"):
        out = tmp_path / run
        _cli.main(["fuzz", f"udp:127.0.0.1:{port}", "--cases", "25", "--seed", "8",
                   "--malformed-ratio", "0.3", "--out", str(out), *FAST])
        labels.append(json.loads((out / "report.json").read_text())["labels"])
    assert labels[0] == labels[1] and sum(labels[0].values()) == 25
