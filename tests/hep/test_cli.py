"""``sipstatus scan`` with HEP, in this process: usage errors, --hep-out from a plain capture to
a listener, a TCP listener ended by --count, and Ctrl-C (SIGINT) ending a listener cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
from fuzz_support import free_port

from sipstatus import _cli
from sipstatus.capture import read
from sipstatus.capture._packets import sip_payloads
from sipstatus.capture._pcap import CaptureFile
from sipstatus.capture._scan import Scan
from sipstatus.hep import HepListener, HepSender, packet_of
from sipstatus.hep._scan import ListenerSource, run_sources

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "captures"
CALLS = FIXTURES / "sipp-kamailio-udp-calls.pcapng"


@pytest.mark.parametrize(("argv", "words"), [
    (["scan", str(CALLS), "--count", "3"], "--count and --duration go with"),
    (["scan", str(CALLS), "--node-id", "3"], "--node-id, --node-name and --rate go with"),
    (["scan", "hep://nowhere", "--duration", "1"], "is not hep://HOST:PORT"),
    (["scan", str(CALLS), "--hep-out", "udp://127.0.0.1:9"], "is not hep://HOST:PORT"),
    (["scan", "--hep", str(CALLS), "--format", "parquet", "--out", "x"], "--format parquet"),
])
def test_usage_errors(argv: list[str], words: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli.main(argv) == 2
    assert words in capsys.readouterr().err


@pytest.mark.parametrize("option", [["--count", "0"], ["--hep-port", "70000"],
                                    ["--node-id", "-1"], ["--duration", "soon"],
                                    ["--rate", "0"], ["--hep-port", "x"]])
def test_bad_option_values(option: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        _cli.main(["scan", str(CALLS), *option])
    assert exit_.value.code == 2
    assert "sipstatus scan: error: argument" in capsys.readouterr().err


def test_hep_out_sends_a_plain_capture_to_a_listener(capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    count = len(list(read(CALLS)))
    with HepListener("hep://127.0.0.1:0") as listener:
        scan = Scan(calls=True)
        source = ListenerSource(listener, count=count, duration=30)
        thread = threading.Thread(target=lambda: [None for _ in run_sources(scan, [source])])
        thread.start()
        status = _cli.main(["scan", str(CALLS), "--hep-out", f"hep://127.0.0.1:{listener.port}",
                            "--node-id", "2001", "--node-name", "edge-1", "--rate", "5000",
                            "--port", "15060"])
        thread.join(30)
    captured = capsys.readouterr()
    assert status == 0 and not thread.is_alive()
    assert f"sent {count} SIP messages as HEP v3 to hep://127.0.0.1:" in captured.err
    assert "SIP messages" in captured.out  # the usual text summary
    assert scan.summary.messages == count == listener.stats.sip


def _send_when_listening(port: int, payloads: list[object], done: threading.Event) -> None:
    end = time.monotonic() + 20
    while time.monotonic() < end:
        try:
            with HepSender(f"hep+tcp://127.0.0.1:{port}") as sender:
                for payload in payloads:
                    sender.send(payload)  # type: ignore[arg-type]
            break
        except ConnectionRefusedError:
            time.sleep(0.02)
    done.set()


def test_tcp_listener_ends_at_its_count(capsys: pytest.CaptureFixture[str]) -> None:
    payloads = list(sip_payloads(CaptureFile(CALLS)))
    port = free_port()
    done = threading.Event()
    thread = threading.Thread(target=_send_when_listening, args=(port, payloads, done))
    thread.start()
    status = _cli.main(["scan", f"hep+tcp://127.0.0.1:{port}", "--count", str(len(payloads)),
                        "--duration", "30", "--format", "json", "--calls"])
    thread.join(30)
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert status == 0, captured.err
    assert summary["messages"] == len(payloads) and summary["hep"]["interrupted"] is False
    assert summary["hep"]["received"]["sip"] == len(payloads)
    assert len(summary["call_list"]) == summary["calls"]["total"] > 0
    assert "listening for HEP on hep+tcp://127.0.0.1:" in captured.err


def test_ctrl_c_ends_a_listener_with_its_summary(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    packet = packet_of(next(iter(sip_payloads(CaptureFile(CALLS)))))

    def interrupt() -> None:
        end = time.monotonic() + 20
        while time.monotonic() < end:
            try:
                with socket.create_connection(("127.0.0.1", port)) as conn:
                    conn.sendall(bytes(packet))
                break
            except ConnectionRefusedError:
                time.sleep(0.02)
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=interrupt)
    thread.start()
    before = signal.getsignal(signal.SIGINT)
    status = _cli.main(["scan", f"hep+tcp://127.0.0.1:{port}", "--duration", "30",
                        "--format", "json"])
    thread.join(30)
    assert signal.getsignal(signal.SIGINT) is before  # the handler is put back
    summary = json.loads(capsys.readouterr().out)
    assert status == 0
    assert summary["hep"]["interrupted"] is True and summary["messages"] == 1
