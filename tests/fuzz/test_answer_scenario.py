"""``--answer --scenario answer``: sipstatus as the UAS of the calls a UAC places.

Units play calls from an in-process fake UAC over loopback sockets (UDP and TCP); the
real-stack tests put SIPp (Debian sip-tester) in the UAC's place with
tests/fuzz/sipp-uac-dialog.xml, over UDP and TCP, and assert the step counts."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from fuzz_support import HERE, free_port, need, started, wait_listening

from sipstatus import _cli
from sipstatus._fuzz import answer, scenario
from sipstatus._fuzz import build as b
from sipstatus._fuzz.dialog import identifiers, tag_of, write
from sipstatus._fuzz.flow import ANSWER_SCENARIOS, STEPS, Coverage
from sipstatus._fuzz.model import Case, Mutation
from sipstatus._fuzz.target import Target
from sipstatus._fuzz.transport import Inbox
from sipstatus._fuzz.verdict import rejects
from sipstatus._fuzz.wire import Framer, Wire, call_id, cseq_method, status_code

SIPP_UAC_DIALOG = HERE / "sipp-uac-dialog.xml"
ANSWER_STEPS = STEPS["answer"]
T1 = 0.005
PATIENCE = 0.03


# --- a fake UAC ------------------------------------------------------------------------------


class FakeUac:
    """A UAC on loopback placing calls to ``port`` one after another, in a thread: INVITE
    (with ``record_route``), ACK of the 200, 200 to INFO and OPTIONS, a re-INVITE, BYE. What
    sipstatus' strict parser rejects it drops (as a stack may), or answers ``broken_code``
    when that is set; over UDP it retransmits INVITE and BYE every 20 ms until answered, and
    leaves the first ``ignore_oks`` 200s to its INVITE unACKed. ``bye_cseq`` is its BYE's
    CSeq number (its re-INVITE's is 2). Out-of-dialog OPTIONS (the probes) get 200."""

    def __init__(self, transport: str, port: int, *, record_route: tuple[str, ...] = (),
                 broken_code: int | None = None, ignore_oks: int = 0, bye_cseq: int = 3,
                 calls: int = 1000) -> None:
        self.transport = transport
        self.record_route = record_route
        self.broken_code = broken_code
        self.ignore_oks = ignore_oks
        self.bye_cseq = bye_cseq
        self.calls = calls
        self.got: list[bytes] = []  # everything received
        self.done = 0  # calls that ended with a 200 to the BYE
        self.stop = threading.Event()
        kind = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
        self.sock = socket.socket(socket.AF_INET, kind)
        if transport == "udp":
            self.sock.bind(("127.0.0.1", 0))
        self.port = port
        self.framer = Framer(1 << 20)
        self.thread = threading.Thread(target=self.run, daemon=True)

    # -- wire
    def send(self, data: bytes) -> None:
        with suppress(ConnectionRefusedError):  # (UDP: before the fuzzer listens)
            if self.transport == "udp":
                self.sock.send(data)
            else:
                self.sock.sendall(data)

    def receive(self, seconds: float) -> bytes | None:
        end = time.monotonic() + seconds
        while True:
            if self.transport == "tcp":
                message = self.framer.next()
                if message is not None:
                    return message
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65535)
            except (TimeoutError, OSError):
                return None
            if self.transport == "udp":
                return chunk
            if not chunk:
                return None
            self.framer.feed(chunk)

    # -- the calls
    def start(self) -> FakeUac:
        self.sock.connect(("127.0.0.1", self.port))
        self.here = self.sock.getsockname()[1]
        self.thread.start()
        return self

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        self.sock.close()

    def run(self) -> None:
        number = 0
        while not self.stop.is_set() and number < self.calls:
            number += 1
            try:
                self.call(number)
            except OSError:
                return

    def request(self, method: str, number: int, cseq: int, uri: str, to_tag: str | None,
                branch: str, body: bool = False) -> bytes:
        proto = self.transport.upper()
        to_param = f";tag={to_tag}" if to_tag else ""
        lines = [f"{method} {uri} SIP/2.0",
                 f"Via: SIP/2.0/{proto} 127.0.0.1:{self.here};branch=z9hG4bK-{branch}",
                 "Max-Forwards: 70",
                 f"From: <sip:uac@127.0.0.1:{self.here}>;tag=uac-{number}",
                 f"To: <sip:service@127.0.0.1:{self.port}>{to_param}",
                 f"Call-ID: call-{number}-{self.here}@127.0.0.1",
                 f"CSeq: {cseq} {method}"]
        if method == "INVITE":
            lines.append(f"Contact: <sip:uac@127.0.0.1:{self.here};transport={self.transport}>")
        if method == "INVITE" and to_tag is None:
            lines += [f"Record-Route: {route}" for route in self.record_route]
        sdp = (b"v=0\r\no=uac 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               b"m=audio 6000 RTP/AVP 0\r\n") if body else b""
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(sdp)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + sdp

    def transact(self, data: bytes, method: str, cseq: int,
                 serve: Callable[[bytes], None]) -> bytes | None:
        """Send ``data`` until its final response (retransmitted over UDP until any
        response); requests meanwhile go to ``serve``."""
        end = time.monotonic() + 2.0
        self.send(data)
        again = time.monotonic() + 0.02
        answered = False
        while time.monotonic() < end and not self.stop.is_set():
            message = self.receive(min(0.02, max(0.0, again - time.monotonic())) or 0.001)
            if message is None:
                if self.transport == "udp" and not answered and time.monotonic() >= again:
                    self.send(data)
                    again = time.monotonic() + 0.02
                continue
            self.got.append(message)
            if status_code(message) is None:
                serve(message)
                continue
            if rejects(message):
                continue
            wire = Wire.split(message)
            if cseq_method(message) != method or wire.value("cseq") != f"{cseq} {method}".encode():
                continue
            answered = True
            if (status_code(message) or 0) >= 200:
                return message
        return None

    def serve(self, request: bytes) -> None:
        method = Wire.split(request).method
        if method in (None, "ACK"):
            return
        code = 200
        if rejects(request):
            if self.broken_code is None:
                return
            code = self.broken_code
        with suppress(ValueError, UnicodeError):
            self.send(b.echo_response(Wire.split(request), code, b.default_reason(code), None,
                                      (), None, b.Style()))

    def call(self, number: int) -> None:
        uri = f"sip:service@127.0.0.1:{self.port}"
        invite = self.request("INVITE", number, 1, uri, None, f"{number}-1", body=True)
        ignored = 0
        ok = self.transact(invite, "INVITE", 1, self.serve)
        while ok is not None and ignored < self.ignore_oks:
            ignored += 1
            ok = self.transact(b"", "INVITE", 1, self.serve) if self.transport == "tcp" else \
                self.wait_for(ok)
        if ok is None or status_code(ok) != 200:
            return
        tag = tag_of(Wire.split(ok).value("to"))
        self.send(self.request("ACK", number, 1, uri, tag, f"{number}-2"))
        # INFO and OPTIONS from sipstatus, answered by serve; then the re-INVITE.
        served: list[bytes] = []

        def serve(request: bytes) -> None:
            served.append(request)
            self.serve(request)

        end = time.monotonic() + 2.0
        while time.monotonic() < end and not self.stop.is_set():
            if any(Wire.split(m).method == "OPTIONS" and call_id(m) == call_id(invite)
                   for m in served):
                break
            message = self.receive(0.02)
            if message is not None:
                self.got.append(message)
                if status_code(message) is None:
                    serve(message)
        reinvite = self.request("INVITE", number, 2, uri, tag, f"{number}-3", body=True)
        if self.transact(reinvite, "INVITE", 2, serve) is None:
            return
        self.send(self.request("ACK", number, 2, uri, tag, f"{number}-4"))
        bye = self.request("BYE", number, self.bye_cseq, uri, tag, f"{number}-5")
        if self.transact(bye, "BYE", self.bye_cseq, serve) is not None:
            self.done += 1

    def wait_for(self, ok: bytes) -> bytes | None:
        """(UDP) the 200 again: a retransmission."""
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            message = self.receive(0.05)
            if message is None:
                continue
            self.got.append(message)
            if status_code(message) == 200 and cseq_method(message) == "INVITE":
                return message
        return None


# --- playing cases directly ------------------------------------------------------------------


def _valid_request(_name: str, tx: b.Transaction, routes: tuple[b.Header, ...]) -> Mutation:
    data = write(tx, routes, (), None)
    return Mutation(data, "valid", data)


def _valid_response(_name: str, plain: bytes) -> Mutation:
    return Mutation(plain, "valid", plain)


VALID = answer.Makers(_valid_request, _valid_response)


def _broken_response(name: str, plain: bytes) -> Mutation:
    """A response the fake UAC drops: its CSeq has no number."""
    return Mutation(plain.replace(b"CSeq: ", b"CSeq: x"), "bad-cseq", plain)


def _broken_request(_name: str, tx: b.Transaction, routes: tuple[b.Header, ...]) -> Mutation:
    data = write(tx, routes, (), None)
    return Mutation(data.replace(b"Max-Forwards: 70", b"Max-Forwards: abc"), "bad-max-forwards",
                    data)


@contextmanager
def _calls(transport: str, **options: Any) -> Iterator[tuple[Inbox, FakeUac]]:
    """An inbox listening on loopback and a fake UAC calling it (with ``options``)."""
    listen = Target(transport, "127.0.0.1", 0)
    if transport == "udp":
        # The inbox's socket is connected to the UAC's: bind the UAC first.
        uac = FakeUac(transport, 0, **options)
        inbox = Inbox(Target("udp", "127.0.0.1", uac.sock.getsockname()[1]), listen)
        uac.port = inbox.local.port
    else:
        inbox = Inbox(Target("tcp", "127.0.0.1", 5060), listen)  # (its IP address counts)
        uac = FakeUac(transport, inbox.local.port, **options)
    uac.start()
    try:
        yield inbox, uac
    finally:
        uac.close()
        inbox.close()


def _play(inbox: Inbox, step: str, makers: answer.Makers = VALID,
          coverage: Coverage | None = None, answered: dict[answer.Key, bytes] | None = None,
          ) -> tuple[Case, list[scenario.Event], Coverage]:
    coverage = Coverage() if coverage is None else coverage
    played = answer.play(inbox, step, makers, T1, PATIENCE, coverage, f"t-{time.monotonic()}",
                         b.Endpoint(inbox.target.transport.upper(), "127.0.0.1",
                                    inbox.target.port),
                         1, lambda: None, {} if answered is None else answered,
                         time.monotonic() + 5)
    assert played is not None, "no call came"
    case, events, _ = played
    return case, events, coverage


def _responses(coverage: Coverage) -> dict[str, dict[str, int]]:
    steps = coverage.as_dict()["answer"]["steps"]
    return {name: steps[name]["responses"] for name in steps}


def _ours(uac: FakeUac, method: str) -> list[bytes]:
    return [m for m in uac.got if Wire.split(m).method == method]


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_a_call_reaches_every_step_with_the_dialog_of_the_uas(transport: str) -> None:
    routes = ("<sip:p1.example.net;lr>", "<sip:p2.example.net;lr>")
    with _calls(transport, record_route=routes) as (inbox, uac):
        case, events, coverage = _play(inbox, "answer/bye")
        deadline = time.monotonic() + 2
        while uac.done < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert events == [] and case.label == "valid" and uac.done >= 1
    steps = coverage.as_dict()["answer"]["steps"]
    assert list(steps) == list(ANSWER_STEPS)
    assert all(s["reached"] == 1 for s in steps.values())
    assert steps["answer/bye"]["fuzzed"] == 1
    assert _responses(coverage) == {
        "answer/ringing": {"none": 1}, "answer/ok": {"ACK": 1}, "answer/info": {"200": 1},
        "answer/options": {"200": 1}, "answer/reinvite": {"ACK": 1},
        "answer/bye": {"none": 1}}
    # Our requests in the dialog (RFC 3261 §12.2.1.1): to its Contact, through its
    # Record-Route in order (§12.1.1), From our To tag, To its From tag, our own CSeq space.
    info, options = _ours(uac, "INFO")[0], _ours(uac, "OPTIONS")
    wire = Wire.split(info)
    assert wire.start == (f"INFO sip:uac@127.0.0.1:{uac.here};transport={transport} "
                          "SIP/2.0").encode()
    assert [wire.value_at(i) for i in wire.indexes("route")] == [r.encode() for r in routes]
    ok = next(m for m in uac.got if status_code(m) == 200 and cseq_method(m) == "INVITE")
    our_tag = tag_of(Wire.split(ok).value("to"))
    cid, from_tag, to_tag = identifiers(info)
    assert (from_tag, to_tag) == (our_tag, "uac-1") and cid == call_id(ok)
    assert wire.value("from") == f"<sip:service@127.0.0.1:{uac.port}>;tag={our_tag}".encode()
    assert wire.value("cseq") == b"1 INFO"
    assert [Wire.split(m).value("cseq") for m in options if call_id(m) == cid] == [b"2 OPTIONS"]
    assert Wire.split(ok).value("contact") is not None and b"v=0" in ok
    kinds = [kind for kind, _, _ in case.sequence]
    assert kinds.count("original") == 1 and "broken" in kinds


def test_over_udp_the_2xx_is_retransmitted_until_the_ack() -> None:
    with _calls("udp", ignore_oks=2) as (inbox, uac):
        case, events, coverage = _play(inbox, "answer/info")
    oks = [m for m in uac.got if status_code(m) == 200 and cseq_method(m) == "INVITE"
           and Wire.split(m).value("cseq") == b"1 INVITE"]
    assert len(oks) >= 3
    assert any(kind == "retransmitted" and step == "answer/ok"
               for kind, step, _ in case.sequence)
    assert _responses(coverage)["answer/ok"] == {"ACK": 1}
    assert events == []


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_a_broken_200_it_drops_is_followed_by_a_good_one(transport: str) -> None:
    with _calls(transport) as (inbox, _uac):
        case, events, coverage = _play(inbox, "answer/ok",
                                       answer.Makers(_valid_request, _broken_response))
    assert case.label == "bad-cseq" and case.step == "answer/ok"
    responses = _responses(coverage)
    # The broken 200 got no ACK within --reply-wait (over UDP its INVITE may come again),
    # the well-formed one did; the call went on to the end.
    assert responses["answer/ok"]["ACK"] == 1
    assert sum(responses["answer/ok"].values()) == 2
    assert responses["answer/bye"] == {"none": 1}
    assert [k for k, _, _ in case.sequence].count("broken") == 1
    assert all(e.kind == "malformed-reply" for e in events)


def test_a_broken_200_to_the_bye_that_it_drops_brings_the_bye_again() -> None:
    with _calls("udp") as (inbox, uac):
        _, _, coverage = _play(inbox, "answer/bye",
                               answer.Makers(_valid_request, _broken_response))
        deadline = time.monotonic() + 2
        while uac.done < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert uac.done == 1
    assert _responses(coverage)["answer/bye"].get("BYE-again", 0) + _responses(
        coverage)["answer/bye"].get("none", 0) >= 1


def test_a_5xx_to_a_broken_request_and_a_cseq_going_backwards() -> None:
    with _calls("udp", broken_code=500, bye_cseq=1) as (inbox, uac):
        _, events, coverage = _play(inbox, "answer/info",
                                    answer.Makers(_broken_request, _valid_response))
    assert sorted(e.kind for e in events) == ["cseq-backwards", "server-error-in-dialog"]
    # The broken INFO got its 500; a well-formed INFO followed it (the UAC may wait for one).
    assert _responses(coverage)["answer/info"] == {"200": 1, "500": 1}
    assert len([m for m in _ours(uac, "INFO") if not rejects(m)]) == 1


def test_a_2xx_to_a_request_of_another_dialog() -> None:
    def retagged(_name: str, tx: b.Transaction, routes: tuple[b.Header, ...]) -> Mutation:
        data = write(tx, routes, (), None)
        tag = tx.to.tag or ""
        return Mutation(data.replace(f";tag={tag}".encode(), b";tag=someone-else"),
                        "wrong-tag", data)

    with _calls("udp") as (inbox, _uac):
        _, events, _ = _play(inbox, "answer/options", answer.Makers(retagged, _valid_response))
    assert [e.kind for e in events] == ["answered-unknown-dialog"]
    assert "To tag" in events[0].detail


def test_every_round_of_cases_breaks_every_answer_step_once() -> None:
    draw = scenario.steps_of("answer", 3)
    for _ in range(2):
        assert sorted(draw() for _ in ANSWER_STEPS) == sorted(ANSWER_STEPS)
    assert ANSWER_SCENARIOS == ("answer",) and "answer" not in scenario.SCENARIOS


def test_replay_re_aims_the_saved_broken_message_at_the_new_call(tmp_path: Path) -> None:
    with _calls("udp") as (inbox, _uac):
        case, _, _ = _play(inbox, "answer/reinvite",
                           answer.Makers(_valid_request, _broken_response))
    saved = scenario.decode(scenario.encode(case))
    assert (saved.scenario, saved.step, saved.label) == ("answer", "answer/reinvite", "bad-cseq")
    with _calls("udp") as (inbox, _uac):
        again, _, _ = _play(inbox, saved.step,
                            answer.replaying(saved.broken, saved.original, saved.label))
    assert again.label == "bad-cseq"
    broken = next(data for kind, _, data in again.sequence if kind == "broken")
    assert b"CSeq: x2 INVITE" in broken
    reinvite = next(data for kind, _, data in again.sequence if kind == "received"
                    and data.startswith(b"INVITE ") and b"CSeq: 2 INVITE" in data)
    assert identifiers(broken)[:2] == identifiers(reinvite)[:2]
    assert call_id(broken) != call_id(saved.broken)


# --- the command line ------------------------------------------------------------------------


def test_the_command_line_pairs_the_answer_scenario_with_answer(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = "udp:127.0.0.1:9"
    assert _cli.main(["fuzz", "--scenario", "answer", target]) == 2
    assert "--scenario answer goes with --answer" in capsys.readouterr().err
    assert _cli.main(["fuzz", "--answer", "--scenario", "prack", target]) == 2
    assert "--scenario goes without --answer" in capsys.readouterr().err
    assert _cli.main(["fuzz", "--answer", "--scenario", "all", target]) == 2
    assert "--scenario goes without --answer" in capsys.readouterr().err
    assert _cli.main(["fuzz", "--answer", "--scenario", "answer", "--scenario", "request",
                      target]) == 2
    assert "not both" in capsys.readouterr().err
    saved = tmp_path / "answer.sip"
    saved.write_bytes(scenario.encode(Case(1, b"x", "bad", scenario="answer",
                                           step="answer/ok", original=b"x",
                                           sequence=(("original", "answer/ok", b"x"),
                                                     ("broken", "answer/ok", b"x")))))
    assert _cli.main(["fuzz", "--replay", str(saved), target]) == 2
    assert "replay it with --answer" in capsys.readouterr().err


def test_a_run_finds_the_5xx_and_its_reproducer_finds_it_again(tmp_path: Path) -> None:
    cases = len(ANSWER_STEPS)
    with _uac_for_cli("udp", broken_code=500) as (listen, target):
        status = _cli.main(["fuzz", "--answer", "--scenario", "answer", "--listen", listen,
                            target, "--cases", str(cases), "--seed", "5", "--t1", "0.005",
                            "--malformed-ratio", "1", "--reply-wait", "0.03", "--rate", "1000",
                            "--probe-timeout", "0.5", "--idle-timeout", "3",
                            "--out", str(tmp_path / "out"), "-q"])
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["mode"] == "answer" and report["cases"] == cases
    steps = report["scenarios"]["answer"]["steps"]
    assert [steps[name]["fuzzed"] for name in ANSWER_STEPS] == [1] * cases
    assert all(steps[name]["reached"] >= 1 for name in ANSWER_STEPS)
    errors = [f for f in report["findings"] if f["kind"] == "server-error-in-dialog"]
    assert status == 1 and errors and errors[0]["step"] in ("answer/info", "answer/options")
    with _uac_for_cli("udp", broken_code=500) as (listen, target):
        again = _cli.main(["fuzz", "--answer", "--listen", listen, target, "--replay",
                           str(tmp_path / "out" / errors[0]["file"]), "--t1", "0.005",
                           "--reply-wait", "0.03", "--probe-timeout", "0.5",
                           "--idle-timeout", "3", "--out", str(tmp_path / "again"), "-q"])
    replayed = json.loads((tmp_path / "again" / "report.json").read_text())
    assert again == 1
    assert [f["kind"] for f in replayed["findings"]] == ["server-error-in-dialog"]


@contextmanager
def _uac_for_cli(transport: str, **options: Any) -> Iterator[tuple[str, str]]:
    """A fake UAC calling a port the command line will listen on: (--listen, TARGET)."""
    ours = free_port()
    uac = FakeUac(transport, ours, **options)
    uac.start()
    theirs = uac.sock.getsockname()[1]  # (its INVITEs come again until the fuzzer listens)
    try:
        yield f"127.0.0.1:{ours}", f"{transport}:127.0.0.1:{theirs}"
    finally:
        uac.close()


# --- SIPp as the UAC -------------------------------------------------------------------------

FAST = ["--rate", "1000", "--probe-timeout", "0.5", "--reply-wait", "0.03", "--t1", "0.01",
        "-q"]



@pytest.mark.network
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_sipp_uac_reaches_every_step_of_the_answer_scenario(
    transport: str, tmp_path: Path
) -> None:
    program = need("sipp", "sip-tester")
    ours, theirs = free_port(), free_port()
    cases = 2 * len(ANSWER_STEPS)
    result: dict[str, Any] = {}

    def fuzz() -> None:
        out = tmp_path / "out"
        status = _cli.main(["fuzz", "--answer", "--scenario", "answer", "--listen",
                            f"127.0.0.1:{ours}", f"{transport}:127.0.0.1:{theirs}",
                            "--cases", str(cases), "--seed", "7", "--idle-timeout", "10",
                            "--out", str(out), *FAST])
        result["run"] = status, json.loads((out / "report.json").read_text())

    # SIPp places one call at a time (-l 1); a call it gives up on (a broken message it
    # took as unexpected, or a lost one) ends after -recv_timeout and its BYE.
    argv = [program, "-sf", str(SIPP_UAC_DIALOG), f"127.0.0.1:{ours}", "-i", "127.0.0.1",
            "-p", str(theirs), "-aa", "-r", "100", "-l", "1", "-m", "100000", "-nostdin",
            "-timeout", "60s", "-recv_timeout", "2000"]
    thread = threading.Thread(target=fuzz)
    thread.start()
    if transport == "tcp":
        wait_listening(ours)  # over TCP the UAC needs us listening before it starts
        # A connection per call: a broken Content-Length then throws only that call's
        # stream out of step (with -t t1 every later call on the one connection suffers).
        argv += ["-t", "tn", "-max_socket", "100"]
    with started(argv, tmp_path / "sipp.log") as process:
        thread.join(60)
        assert not thread.is_alive()
        assert process.poll() is None, "sipp exited"
    status, report = result["run"]
    assert report["stopped"] == "cases" and report["cases"] == cases
    assert report["target_alive"] is True
    assert status == (1 if report["findings"] else 0)
    steps = report["scenarios"]["answer"]["steps"]
    assert list(steps) == list(ANSWER_STEPS)
    # Each round of 6 cases breaks each step once (a step the call did not reach is not
    # counted). Every call gets its 180; a broken message may make SIPp give the call up
    # (a 180 read as a failure, a response it did not expect) or, over TCP, lose the next
    # message when a Content-Length is wrong: the rest of that case is lost.
    assert all(s["fuzzed"] >= 1 for s in steps.values()), steps
    assert steps["answer/ringing"]["reached"] == cases
    assert steps["answer/ringing"]["fuzzed"] == 2
    lost = steps["answer/ringing"]["fuzzed"]
    assert steps["answer/ok"]["reached"] >= cases - lost
    lost += steps["answer/ok"]["fuzzed"]
    assert steps["answer/ok"]["responses"].get("ACK", 0) >= cases - lost
    for name in ("answer/info", "answer/options"):
        assert steps[name]["responses"].get("200", 0) >= max(1, cases - lost), name
        lost += steps[name]["fuzzed"]
    assert steps["answer/reinvite"]["responses"].get("ACK", 0) >= max(1, cases - lost)
    lost += steps["answer/reinvite"]["fuzzed"]
    bye = steps["answer/bye"]
    assert bye["reached"] >= max(1, cases - lost)
    assert sum(bye["responses"].values()) >= bye["reached"]
    for step in ("answer/ringing", "answer/bye"):
        assert set(steps[step]["responses"]) <= {"none", "INVITE-again", "BYE-again", "ACK",
                                                 "ACK-non-2xx", "BYE", "CANCEL",
                                                 "malformed"}, step
    for finding in report["findings"]:
        assert finding["scenario"] == "answer" and finding["step"] in steps
        assert finding["kind"] != "target-dead"
