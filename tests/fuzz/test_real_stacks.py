"""The fuzzer against real SIP stacks on loopback, started and stopped here: Kamailio (with
tests/fuzz/kamailio.cfg, UDP and TCP) in the default mode, SIPp as a UAC in --answer mode,
``--scenario invite`` through Kamailio as a record-routing stateful proxy
(tests/fuzz/kamailio-proxy.cfg) in front of SIPp as a UAS (UDP and TCP), and
``--scenario register`` against Kamailio as a registrar with Digest authentication
(tests/fuzz/kamailio-registrar.cfg; MD5 and SHA-256, qop=auth), ``--scenario prack``
against SIPp as a UAS that sends a reliable 183 (tests/fuzz/sipp-uas-100rel.xml), straight
and behind Kamailio, and ``--scenario subscribe`` against SIPp as a notifier
(tests/fuzz/sipp-notifier.xml), straight and behind Kamailio.
Skipped, with the reason, where the Debian packages kamailio / sip-tester are missing."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fuzz_support import (
    KAMAILIO_CFG,
    KAMAILIO_PROXY_CFG,
    KAMAILIO_REGISTRAR_CFG,
    SIPP_NOTIFIER,
    SIPP_UAS_100REL,
    SIPP_UAS_DIALOG,
    free_port,
    need,
    started,
    wait_for_udp_sip,
    wait_listening,
)

from sipstatus import _cli
from sipstatus._fuzz import scenario
from sipstatus._fuzz.model import Case

pytestmark = pytest.mark.network

INVITE_STEPS = ("invite/invite", "invite/cancel", "invite/ack-error", "invite/ack",
                "invite/reinvite", "invite/update", "invite/info", "invite/options",
                "invite/message", "invite/refer", "invite/bye-crossing", "invite/bye")
FAST = ["--rate", "500", "--probe-timeout", "0.5", "--reply-wait", "0.03", "-q"]


@pytest.fixture(scope="module")
def kamailio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    program = need("kamailio", "kamailio")
    work = tmp_path_factory.mktemp("kamailio")
    port = free_port()
    argv = [program, "-f", str(KAMAILIO_CFG), "-DD", "-E", "-m", "64", "-M", "8",
            "-Y", str(work), "-w", str(work),
            "-l", f"udp:127.0.0.1:{port}", "-l", f"tcp:127.0.0.1:{port}"]
    with started(argv, work / "kamailio.log") as process:
        wait_for_udp_sip(port)
        yield port
        assert process.poll() is None, "kamailio exited during the tests"


def _run(argv: list[str], out: Path) -> tuple[int, dict[str, Any]]:
    """Fuzz into ``out``, a new or empty directory (the fuzzer refuses one with a log in it)."""
    status = _cli.main(["fuzz", *argv, "--out", str(out), *FAST])
    return status, json.loads((out / "report.json").read_text())


@pytest.mark.parametrize(("transport", "cases"), [("udp", 120), ("tcp", 40)])
def test_kamailio_run_completes_its_cases(
    kamailio: int, transport: str, cases: int, tmp_path: Path
) -> None:
    status, report = _run([f"{transport}:127.0.0.1:{kamailio}", "--cases", str(cases),
                           "--seed", "11"], tmp_path)
    assert report["stopped"] == "cases" and report["cases"] == cases
    assert report["target_alive"] is True
    assert not [f for f in report["findings"] if f["kind"] == "target-dead"]
    assert status == (1 if report["findings"] else 0)
    assert report["labels"]["valid"] > 0 and len(report["labels"]) > 10
    for finding in report["findings"]:
        assert finding["kind"] in ("malformed-reply", "server-error")
        assert finding["reply"] and (tmp_path / finding["file"]).is_file()


def test_sipp_uac_is_answered(tmp_path: Path) -> None:
    program = need("sipp", "sip-tester")
    ours, theirs = free_port(), free_port()
    argv = [program, "-sn", "uac", f"127.0.0.1:{ours}", "-i", "127.0.0.1", "-p", str(theirs),
            "-aa", "-r", "50", "-m", "100000", "-nostdin", "-timeout", "60s"]
    with started(argv, tmp_path / "sipp.log") as process:
        wait_for_udp_sip(theirs)  # -aa: SIPp answers OPTIONS once it is up
        status, report = _run(["--answer", "--listen", f"127.0.0.1:{ours}",
                               f"udp:127.0.0.1:{theirs}", "--cases", "60", "--seed", "2",
                               "--malformed-ratio", "0", "--idle-timeout", "5"], tmp_path / "out")
        assert process.poll() is None, "sipp exited"
    assert report["mode"] == "answer"
    assert report["stopped"] == "cases" and report["cases"] == 60
    assert report["labels"] == {"valid": 60} and report["target_alive"] is True
    assert status == (1 if report["findings"] else 0)


def test_sipp_uac_over_tcp_is_answered(tmp_path: Path) -> None:
    program = need("sipp", "sip-tester")
    ours, theirs = free_port(), free_port()
    result: dict[str, Any] = {}

    def fuzz() -> None:  # over TCP the UAC needs us listening before it starts
        result["run"] = _run(["--answer", "--listen", f"127.0.0.1:{ours}",
                              f"tcp:127.0.0.1:{theirs}", "--cases", "40", "--seed", "2",
                              "--malformed-ratio", "0", "--idle-timeout", "10"], tmp_path / "out")

    thread = threading.Thread(target=fuzz)
    thread.start()
    wait_listening(ours)
    argv = [program, "-sn", "uac", f"127.0.0.1:{ours}", "-i", "127.0.0.1", "-p", str(theirs),
            "-t", "t1", "-aa", "-r", "50", "-m", "100000", "-nostdin", "-timeout", "60s"]
    with started(argv, tmp_path / "sipp.log"):
        thread.join(60)  # (SIPp -t t1 exits once we close its connection: that is the end)
        assert not thread.is_alive()
    status, report = result["run"]
    assert report["stopped"] == "cases" and report["cases"] == 40
    assert report["labels"] == {"valid": 40} and report["target_alive"] is True
    assert status == (1 if report["findings"] else 0)



@pytest.fixture(scope="module")
def proxied_uas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """Kamailio (stateful, record-routing) on a free port, relaying to a SIPp UAS that stays
    in the dialog (tests/fuzz/sipp-uas-dialog.xml: CANCEL, re-INVITE, UPDATE, INFO, OPTIONS,
    MESSAGE, REFER and BYE answered)."""
    kamailio = need("kamailio", "kamailio")
    sipp = need("sipp", "sip-tester")
    work = tmp_path_factory.mktemp("proxy")
    port, uas = free_port(), free_port()
    uas_argv = [sipp, "-sf", str(SIPP_UAS_DIALOG), "-i", "127.0.0.1", "-p", str(uas), "-aa",
                "-nostdin", "-m", "100000"]
    proxy_argv = [kamailio, "-f", str(KAMAILIO_PROXY_CFG), "-DD", "-E", "-m", "64", "-M", "8",
                  "-Y", str(work), "-w", str(work), "-A", f'UAS="sip:127.0.0.1:{uas}"',
                  "-l", f"udp:127.0.0.1:{port}", "-l", f"tcp:127.0.0.1:{port}"]
    with started(uas_argv, work / "sipp.log") as sipp_process, \
            started(proxy_argv, work / "kamailio.log") as proxy_process:
        wait_for_udp_sip(uas)
        wait_for_udp_sip(port)
        yield port
        assert sipp_process.poll() is None, "sipp exited during the tests"
        assert proxy_process.poll() is None, "kamailio exited during the tests"


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_invite_scenario_reaches_every_step(
    proxied_uas: int, transport: str, tmp_path: Path
) -> None:
    rounds = 2  # each round of as many cases as steps breaks every step once
    cases = rounds * len(INVITE_STEPS)
    status, report = _run([f"{transport}:127.0.0.1:{proxied_uas}", "--scenario", "invite",
                           "--probe-user", "service", "--cases", str(cases), "--seed", "5",
                           "--t1", "0.01"], tmp_path)
    assert report["stopped"] == "cases" and report["cases"] == cases
    assert report["target_alive"] is True  # (the SIPp UAS behind the proxy: --probe-user)
    assert status == (1 if report["findings"] else 0)
    steps = report["scenarios"]["invite"]["steps"]
    assert tuple(steps) == INVITE_STEPS
    for name, stats in steps.items():
        assert stats["reached"] >= 1 and 1 <= stats["fuzzed"] <= rounds, name
    # What answered each step: Kamailio's 100, SIPp's 180 and 200 (487 once cancelled),
    # 200 to the requests in the dialog, 202 to REFER; a broken message may go unanswered.
    invite = steps["invite/invite"]
    assert invite["reached"] == cases
    assert invite["responses"]["200"] >= cases - invite["fuzzed"] - 2 * rounds
    assert invite["responses"]["487"] >= 1 and steps["invite/cancel"]["responses"]["200"] >= 1
    for name in ("invite/reinvite", "invite/update", "invite/info", "invite/options",
                 "invite/message", "invite/bye", "invite/bye-crossing"):
        assert steps[name]["responses"].get("200", 0) >= 1, name
    assert steps["invite/refer"]["responses"].get("202", 0) >= 1
    assert steps["invite/ack"]["reached"] >= cases - 3 * rounds
    for finding in report["findings"]:
        assert finding["scenario"] == "invite" and finding["step"] in steps
        assert finding["kind"] != "target-dead"
        assert (tmp_path / finding["file"]).read_bytes().startswith(b"SIPSTATUS-SEQUENCE/1 ")


SIPP_CRASH = Path(__file__).parents[2] / "fixtures" / "findings" / (
    "sipp-3.6.1-uas-bye-via-flood.sip")


def test_the_sipp_crash_is_found_behind_the_proxy(tmp_path: Path) -> None:
    """The stateful run's finding (fixtures/findings/README.md): a BYE with 1,797 Via values
    in the call kills SIPp behind Kamailio. The proxy answers plain probes itself;
    ``--probe-user`` reaches SIPp and sees it gone. The same call with the well-formed BYE
    leaves SIPp alive."""
    kamailio = need("kamailio", "kamailio")
    sipp = need("sipp", "sip-tester")
    saved = scenario.decode(SIPP_CRASH.read_bytes())
    assert (saved.step, saved.label) == ("invite/bye", "via-flood")
    control = tmp_path / "control.sip"
    control.write_bytes(scenario.encode(Case(
        1, saved.original, "valid", scenario="invite", step=saved.step,
        sequence=(("original", saved.step, saved.original),
                  ("broken", saved.step, saved.original)))))
    port, uas = free_port(), free_port()
    uas_argv = [sipp, "-sf", str(SIPP_UAS_DIALOG), "-i", "127.0.0.1", "-p", str(uas), "-aa",
                "-nostdin", "-m", "100000"]
    proxy_argv = [kamailio, "-f", str(KAMAILIO_PROXY_CFG), "-DD", "-E", "-m", "64", "-M", "8",
                  "-Y", str(tmp_path), "-w", str(tmp_path), "-A", f'UAS="sip:127.0.0.1:{uas}"',
                  "-l", f"udp:127.0.0.1:{port}"]
    target = f"udp:127.0.0.1:{port}"
    replay = ["--probe-user", "service", "--t1", "0.01", "--probe-timeout", "0.5", "-q"]
    with started(uas_argv, tmp_path / "sipp.log") as uas_process, \
            started(proxy_argv, tmp_path / "kamailio.log"):
        wait_for_udp_sip(uas)
        wait_for_udp_sip(port)
        assert _cli.main(["fuzz", "--replay", str(control), target, *replay]) == 0
        assert uas_process.poll() is None
        status = _cli.main(["fuzz", "--replay", str(SIPP_CRASH), target, "--out",
                            str(tmp_path / "out"), *replay])
        assert uas_process.wait(5) == -signal.SIGSEGV
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert status == 1 and report["target_alive"] is False
    assert [(f["kind"], f["step"]) for f in report["findings"]
            if f["kind"] == "target-dead"] == [("target-dead", "invite/bye")]


@pytest.fixture(scope="module", params=["MD5", "SHA-256"])
def registrar(request: pytest.FixtureRequest,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str]]:
    """Kamailio as a registrar: every user's password is "secret", Digest with qop=auth and
    the algorithm of the parameter."""
    kamailio = need("kamailio", "kamailio")
    work = tmp_path_factory.mktemp("registrar")
    port = free_port()
    sha = ["-A", "SHA256"] if request.param == "SHA-256" else []
    argv = [kamailio, "-f", str(KAMAILIO_REGISTRAR_CFG), "-DD", "-E", "-m", "64", "-M", "8",
            "-Y", str(work), "-w", str(work), "-A", 'PASSWORD="secret"', *sha,
            "-l", f"udp:127.0.0.1:{port}", "-l", f"tcp:127.0.0.1:{port}"]
    with started(argv, work / "kamailio.log") as process:
        wait_for_udp_sip(port)
        yield port, request.param
        assert process.poll() is None, "kamailio exited during the tests"


def _challenge(port: int) -> bytes:
    """The WWW-Authenticate value the registrar answers a plain REGISTER with."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect(("127.0.0.1", port))
        sock.settimeout(2)
        local = sock.getsockname()[1]
        sock.send((f"REGISTER sip:127.0.0.1:{port} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK-check;rport\r\n"
                   "Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=1\r\n"
                   "To: <sip:alice@127.0.0.1>\r\nCall-ID: check\r\nCSeq: 1 REGISTER\r\n"
                   "Content-Length: 0\r\n\r\n").encode())
        reply = sock.recv(65535)
    [line] = [h for h in reply.split(b"\r\n") if h.startswith(b"WWW-Authenticate:")]
    return line


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_register_scenario_authenticates_refreshes_and_unregisters(
    registrar: tuple[int, str], transport: str, tmp_path: Path
) -> None:
    port, algorithm = registrar
    challenge = _challenge(port)  # (no algorithm parameter: MD5, RFC 7616 §3.3)
    assert (b"algorithm=SHA-256" in challenge) == (algorithm == "SHA-256")
    assert b'qop="auth"' in challenge
    cases = 10
    status, report = _run([f"{transport}:127.0.0.1:{port}", "--scenario", "register",
                           "--user", "alice", "--password", "secret", "--cases", str(cases),
                           "--seed", "5", "--t1", "0.01"], tmp_path)
    assert report["stopped"] == "cases" and report["cases"] == cases
    assert report["target_alive"] is True
    assert status == (1 if report["findings"] else 0)
    steps = report["scenarios"]["register"]["steps"]
    assert list(steps) == ["register/initial", "register/auth", "register/refresh",
                           "register/unregister"]
    assert sum(s["fuzzed"] for s in steps.values()) <= cases
    for name, stats in steps.items():  # (each round of 4 cases breaks every step once)
        assert stats["reached"] >= 1 and stats["fuzzed"] >= 1, name
    # Every case that sent a well-formed first REGISTER got the challenge and answered it
    # (a broken answer is followed by a well-formed one), refreshed and removed its binding.
    # Over TCP a broken message may also end the connection, and with it the rest of its case.
    initial = steps["register/initial"]  # (a broken one not challenged is sent again)
    assert cases <= initial["reached"] <= cases + initial["fuzzed"]
    assert initial["responses"]["401"] >= cases - initial["fuzzed"]
    lost = initial["fuzzed"]
    for name in ("register/auth", "register/refresh", "register/unregister"):
        lost += steps[name]["fuzzed"] if transport == "tcp" else 0
        assert steps[name]["responses"].get("200", 0) >= max(1, cases - lost), name
    for finding in report["findings"]:
        assert finding["scenario"] == "register" and finding["step"] in steps
        assert finding["kind"] != "target-dead"


def _proxy_in_front(stack: contextlib.ExitStack, uas: int, tmp_path: Path) -> int:
    """Start Kamailio as a stateful proxy in front of the UAS on port ``uas`` (until the
    stack closes); its port, UDP and TCP."""
    port = free_port()
    stack.enter_context(started(
        [need("kamailio", "kamailio"), "-f", str(KAMAILIO_PROXY_CFG), "-DD", "-E", "-m", "64",
         "-M", "8", "-Y", str(tmp_path), "-w", str(tmp_path), "-A", f'UAS="sip:127.0.0.1:{uas}"',
         "-l", f"udp:127.0.0.1:{port}", "-l", f"tcp:127.0.0.1:{port}"],
        tmp_path / "kamailio.log"))
    wait_for_udp_sip(port)
    return port


THROUGH = [("udp", "direct"), ("tcp", "direct"), ("udp", "proxy"), ("tcp", "proxy")]


@pytest.mark.parametrize(("transport", "through"), THROUGH)
def test_prack_scenario_gets_the_reliable_provisional_response_acknowledged(
    transport: str, through: str, tmp_path: Path
) -> None:
    """SIPp with a reliable 183, straight or behind Kamailio as a stateful proxy (which relays
    the PRACK in the early dialog; the probe reaches SIPp with --probe-user)."""
    sipp = need("sipp", "sip-tester")
    uas = free_port()
    argv = [sipp, "-sf", str(SIPP_UAS_100REL), "-i", "127.0.0.1", "-p", str(uas), "-aa",
            "-nostdin", "-m", "100000"]
    direct_tcp = transport == "tcp" and through == "direct"
    if direct_tcp:
        argv += ["-t", "tn", "-max_socket", "100"]
    cases = 8
    with contextlib.ExitStack() as stack:
        process = stack.enter_context(started(argv, tmp_path / "sipp.log"))
        if direct_tcp:
            wait_listening(uas)
        else:
            wait_for_udp_sip(uas)
        port, probe = uas, []
        if through == "proxy":
            port, probe = _proxy_in_front(stack, uas, tmp_path), ["--probe-user", "service"]
        status, report = _run([f"{transport}:127.0.0.1:{port}", "--scenario", "prack",
                               "--cases", str(cases), "--seed", "3", "--t1", "0.01", *probe],
                              tmp_path / "out")
        assert process.poll() is None, "sipp exited"
    assert report["stopped"] == "cases" and report["cases"] == cases
    assert report["target_alive"] is True
    assert status == (1 if report["findings"] else 0)
    steps = report["scenarios"]["prack"]["steps"]
    assert list(steps) == ["prack/invite", "prack/prack", "prack/ack", "prack/bye"]
    for name, stats in steps.items():  # (each round of 4 cases breaks every step once)
        assert stats["reached"] >= 1 and stats["fuzzed"] >= 1, name
    # A well-formed INVITE gets the reliable 183 and, once PRACKed, its 200. A broken
    # message may make SIPp give the call up (an unexpected message), or over TCP end the
    # connection: the rest of that case is lost.
    invite = steps["prack/invite"]
    assert invite["reached"] == cases
    assert invite["responses"]["183"] >= cases - invite["fuzzed"]
    lost = invite["fuzzed"]
    for name in ("prack/prack", "prack/bye"):
        lost += steps[name]["fuzzed"] + (steps["prack/ack"]["fuzzed"] if name == "prack/bye"
                                         else 0)
        assert steps[name]["responses"].get("200", 0) >= max(1, cases - lost), name
    assert steps["prack/ack"]["reached"] >= 1
    for finding in report["findings"]:
        assert finding["scenario"] == "prack" and finding["step"] in steps
        assert finding["kind"] != "target-dead"


@pytest.mark.parametrize(("transport", "through"), THROUGH)
def test_subscribe_scenario_subscribes_refreshes_and_unsubscribes(
    transport: str, through: str, tmp_path: Path
) -> None:
    """SIPp as the notifier, straight or behind Kamailio (which relays SIPp's NOTIFYs to the
    subscriber's Contact by the route set; over TCP on the subscriber's own connection)."""
    sipp = need("sipp", "sip-tester")
    uas = free_port()
    argv = [sipp, "-sf", str(SIPP_NOTIFIER), "-i", "127.0.0.1", "-p", str(uas), "-aa",
            "-nostdin", "-m", "100000"]
    direct_tcp = transport == "tcp" and through == "direct"
    if direct_tcp:
        argv += ["-t", "tn", "-max_socket", "100"]
    cases = 8  # two rounds of the four steps
    with contextlib.ExitStack() as stack:
        process = stack.enter_context(started(argv, tmp_path / "sipp.log"))
        if direct_tcp:
            wait_listening(uas)
        else:
            wait_for_udp_sip(uas)
        port, probe = uas, []
        if through == "proxy":
            port, probe = _proxy_in_front(stack, uas, tmp_path), ["--probe-user", "service"]
        # (seed 1 draws no via-flood: SIPp as a UAS crashes on one, see docs/fuzzing.md)
        status, report = _run([f"{transport}:127.0.0.1:{port}", "--scenario", "subscribe",
                               "--cases", str(cases), "--seed", "1", "--t1", "0.01", *probe],
                              tmp_path / "out")
        assert process.poll() is None, "sipp exited"
    assert report["stopped"] == "cases" and report["cases"] == cases
    assert report["target_alive"] is True
    assert status == (1 if report["findings"] else 0)
    steps = report["scenarios"]["subscribe"]["steps"]
    assert list(steps) == ["subscribe/subscribe", "subscribe/notify", "subscribe/refresh",
                           "subscribe/unsubscribe"]
    assert all(s["reached"] >= 1 and s["fuzzed"] >= 1 for s in steps.values())
    # SIPp answers every SUBSCRIBE it can read 200 and sends its NOTIFY; a message it does
    # not expect (an answer to its NOTIFY that is not 1xx/200) makes it give the call up,
    # and it ignores the rest of that case: those are lost.
    subscribe = steps["subscribe/subscribe"]
    assert subscribe["reached"] == cases
    assert subscribe["responses"]["200"] >= cases - subscribe["fuzzed"]
    notify = steps["subscribe/notify"]
    assert notify["reached"] >= cases - subscribe["fuzzed"]
    assert set(notify["responses"]) <= {"resent"}  # what SIPp did with our answer
    lost = subscribe["fuzzed"] + notify["fuzzed"]
    for name in ("subscribe/refresh", "subscribe/unsubscribe"):
        lost += steps[name]["fuzzed"]
        assert steps[name]["responses"].get("200", 0) >= max(1, cases - lost), name
    for finding in report["findings"]:
        assert finding["scenario"] == "subscribe" and finding["step"] in steps
        assert finding["kind"] != "target-dead"
