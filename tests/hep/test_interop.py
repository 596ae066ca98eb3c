"""HEP against real peers on loopback, started and stopped here (by process group id):

- ``sipstatus scan --hep-out`` feeds sngrep in HEP listen mode (``-L``, saving with ``-O``),
  and sngrep's pcap holds the original messages, message for message;
- Kamailio with ``siptrace`` (HEP v3, ``trace_mode`` 1) proxies SIPp calls and mirrors them to
  ``sipstatus scan hep://127.0.0.1:PORT``, and what sipstatus receives is what a loopback
  capture of the same calls (dumpcap) shows at the proxy, message for message.

Skipped, saying which, where sngrep, kamailio, sipp (sip-tester) or dumpcap (tshark) are
missing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from fuzz_support import free_port, need, started, stop, wait_for_udp_sip

from sipstatus.capture import CapturedMessage, read
from sipstatus.capture._head import scan_head
from sipstatus.capture._packets import sip_payloads
from sipstatus.capture._pcap import CaptureFile

pytestmark = pytest.mark.network

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "captures"
HERE = Path(__file__).resolve().parent


def _key(m: CapturedMessage) -> tuple[object, ...]:
    return (m.data, m.sport, m.dport)


def _microseconds(path: Path) -> list[int]:
    """The time of each SIP message of a capture, in whole microseconds (HEP's resolution)."""
    return [sec * 1_000_000 + nsec // 1000
            for _f, sec, nsec, *_rest, data, _p, _c in sip_payloads(CaptureFile(path))
            if scan_head(data) is not None]


def _sipstatus(*argv: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as err:
        return subprocess.Popen([sys.executable, "-m", "sipstatus", *argv],
                                stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL,
                                start_new_session=True)


def _wait_for(path: Path, text: str, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        time.sleep(0.05)
    raise AssertionError(f"{path.name} never said {text!r}: {path.read_text(errors='replace')}")


def test_hep_out_feeds_sngrep_message_for_message(tmp_path: Path) -> None:
    program = need("sngrep", "sngrep")
    captures = [FIXTURES / "sipp-kamailio-udp-calls.pcapng", FIXTURES / "sipp-kamailio-tcp.pcap",
                FIXTURES / "sipp-kamailio-ipv6.pcapng"]
    port = free_port()
    saved = tmp_path / "sngrep.pcap"
    # -N: no interface, -q: quiet; with -L sngrep opens no device (a "dead" pcap handle).
    argv = [program, "-N", "-q", "-L", f"udp:127.0.0.1:{port}", "-O", str(saved)]
    with started(argv, tmp_path / "sngrep.log", ready=0.5) as process:
        sender = _sipstatus("scan", *map(str, captures), "--hep-out",
                            f"hep://127.0.0.1:{port}", "--rate", "400", "--node-id", "9",
                            "--format", "json", log=tmp_path / "send.log")
        try:
            out, _ = sender.communicate(timeout=60)
        finally:
            stop(sender)
        time.sleep(0.5)  # sngrep's last packets
        assert process.poll() is None, "sngrep exited"
        stop(process)  # sngrep writes its pcap as it goes and closes it at SIGTERM
    summary = json.loads(out)
    original = [m for capture in captures for m in read(capture)]
    assert summary["hep"]["sent"] == {"to": f"hep://127.0.0.1:{port}",
                                      "messages": len(original), "failed": 0}
    got = list(read(saved))
    assert [_key(m) for m in got] == [_key(m) for m in original]
    # sngrep 1.6 writes IPv6 messages received over HEP with 0.0.0.0 addresses (docs/hep.md)
    assert [(m.src, m.dst) for m in got] == [
        (m.src, m.dst) if ":" not in m.src else ("0.0.0.0", "0.0.0.0") for m in original]
    assert [round(m.time * 1e6) for m in got] == [
        us for capture in captures for us in _microseconds(capture)]
    # sngrep writes what it received over HEP as UDP datagrams, whatever the HEP protocol
    assert {m.transport for m in got} == {"udp"}


def _dumpcap(port: int, out: Path, log: Path) -> subprocess.Popen[bytes] | None:
    program = need("dumpcap", "tshark")
    with log.open("wb") as err:
        process = subprocess.Popen([program, "-i", "lo", "-f", f"udp port {port}", "-w",
                                    str(out)], stdout=subprocess.DEVNULL, stderr=err,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        text = log.read_text(errors="replace")
        if "Capturing on" in text:
            return process
        if process.poll() is not None:
            return None  # no permission to capture here
        time.sleep(0.05)
    stop(process)
    return None


def test_kamailio_siptrace_mirrors_sipp_calls_to_the_listener(tmp_path: Path) -> None:
    kamailio = need("kamailio", "kamailio")
    sipp = need("sipp", "sip-tester")
    proxy, uas, uac, hep = free_port(), free_port(), free_port(), free_port()
    cfg = tmp_path / "kamailio.cfg"
    cfg.write_text((HERE / "kamailio-siptrace.cfg").read_text()
                   .replace("@HEP_PORT@", str(hep)).replace("@UAS_PORT@", str(uas)))
    calls = 10
    reference = tmp_path / "loopback.pcapng"
    log = tmp_path / "listen.log"
    listener = _sipstatus("scan", f"hep://127.0.0.1:{hep}", "--duration", "60", "--format",
                          "jsonl", log=log)
    dumpcap: subprocess.Popen[bytes] | None = None
    try:
        _wait_for(log, "listening for HEP")
        dumpcap = _dumpcap(proxy, reference, tmp_path / "dumpcap.log")
        k_argv = [kamailio, "-f", str(cfg), "-DD", "-E", "-m", "64", "-M", "8",
                  "-Y", str(tmp_path), "-w", str(tmp_path), "-l", f"udp:127.0.0.1:{proxy}"]
        s_argv = [sipp, "-sn", "uas", "-i", "127.0.0.1", "-p", str(uas), "-nostdin", "-aa"]
        with started(k_argv, tmp_path / "kamailio.log"), \
                started(s_argv, tmp_path / "uas.log"):
            wait_for_udp_sip(proxy)  # an OPTIONS relayed to the UAS, answered: all are up
            run = subprocess.run([sipp, "-sn", "uac", f"127.0.0.1:{proxy}", "-i", "127.0.0.1",
                                  "-p", str(uac), "-m", str(calls), "-r", "20", "-nostdin",
                                  "-timeout", "30s"], capture_output=True, timeout=60,
                                 check=False)
            assert run.returncode == 0, run.stdout[-2000:]
            time.sleep(1.0)  # the last mirrored packets
    finally:
        if dumpcap is not None:
            stop(dumpcap)
        listener.send_signal(signal.SIGINT)  # Ctrl-C: the listener ends with its summary
        try:
            out, _ = listener.communicate(timeout=30)
        finally:
            stop(listener)
    assert listener.returncode == 0, log.read_text()
    assert "HEP: " in log.read_text() and "0 malformed" in log.read_text()
    records = [json.loads(line) for line in out.decode().splitlines()]
    fields = ("src", "sport", "dst", "dport", "kind", "method", "status_code", "call_id",
              "cseq_seq", "cseq_method", "via_branch")

    def calls_only(rows: list[dict[str, object]]) -> Counter[tuple[object, ...]]:
        return Counter(tuple(row[f] for f in fields) for row in rows
                       if row["cseq_method"] != "OPTIONS")  # the readiness probes

    got = calls_only(records)
    # SIPp's own count: per call, 7 messages on each side of the proxy but for the UAS's
    # missing 100 Trying (INVITE, 100, 180, 200, ACK, BYE, 200 / INVITE, 180, 200, ACK,
    # BYE, 200).
    assert sum(got.values()) == calls * 13
    assert len({key[7] for key in got}) == calls
    if dumpcap is None:
        pytest.skip("dumpcap cannot capture on lo here: compared with SIPp's counts only")
    captured = subprocess.run([sys.executable, "-m", "sipstatus", "scan", str(reference),
                               "--format", "jsonl"], capture_output=True, check=False)
    expected = calls_only([json.loads(line) for line in captured.stdout.decode().splitlines()])
    assert got == expected


def test_listener_cli_counts_and_ends(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "listen.log"
    listener = _sipstatus("scan", f"hep+tcp://127.0.0.1:{port}", "--count", "180",
                          "--duration", "60", "--format", "json", log=log)
    try:
        _wait_for(log, "listening for HEP")
        sender = subprocess.run(
            [sys.executable, "-m", "sipstatus", "scan",
             str(FIXTURES / "sipp-kamailio-udp-calls.pcapng"), "--hep-out",
             f"hep+tcp://127.0.0.1:{port}", "--node-name", "edge-1"],
            capture_output=True, timeout=60, check=False, env={**os.environ})
        assert sender.returncode == 0, sender.stderr
        out, _ = listener.communicate(timeout=30)
    finally:
        stop(listener)
    summary = json.loads(out)
    plain = json.loads(subprocess.run(
        [sys.executable, "-m", "sipstatus", "scan", "--format", "json",
         str(FIXTURES / "sipp-kamailio-udp-calls.pcapng")], capture_output=True,
        check=False).stdout)
    assert listener.returncode == 0
    assert summary["hep"]["received"]["sip"] == 180 and summary["hep"]["interrupted"] is False
    for key in ("messages", "resent", "status_codes", "methods", "setup_time_ms", "calls"):
        assert summary[key] == plain[key], key
