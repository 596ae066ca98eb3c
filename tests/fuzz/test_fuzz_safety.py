"""The fuzzer cannot be turned against anyone, nor held by its target (issue 11).

* Every address that is not unicast is refused before any socket exists: literals in every
  form, and host names (the resolver is a parameter, so nothing is resolved or sent here).
* A message that never ends (TCP, both modes) is an ``endless-message`` finding within
  bounded bytes, time and memory, and the run goes on; judging one reply is bounded too.
* A flooding target is told from a dead one: the probe's answer is matched by its own Call-ID
  and branch, everything else is drained and counted.
* ``--out`` is checked before the run, refuses what it should, never follows a symbolic link
  and writes ``report.json`` atomically.

Everything talks to loopback only; every peer is a thread or a process stopped by the test.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fuzz_support import FAULTY_TARGET, free_port, started, wait_for_udp_sip

from sipstatus import _cli
from sipstatus._fuzz.build import Endpoint
from sipstatus._fuzz.model import ENDLESS_MESSAGE, MALFORMED_REPLY, TARGET_DEAD, Case, Finding
from sipstatus._fuzz.probe import KEPT, Prober
from sipstatus._fuzz.report import REPORT, OutputError, prepare
from sipstatus._fuzz.run import Outcome, Settings
from sipstatus._fuzz.target import (
    Target,
    TargetError,
    embedded_ipv4,
    local_broadcasts,
    parse_target,
)
from sipstatus._fuzz.transport import (
    MAX_PEERS,
    Endless,
    Inbox,
    Pacer,
    TcpConversation,
)
from sipstatus._fuzz.verdict import judge
from sipstatus._fuzz.wire import MAX_MESSAGE, Framer, frame

FAST = ["--rate", "1000", "--probe-timeout", "0.5", "--reply-wait", "0.05", "-q"]
REQUEST = (b"MESSAGE sip:fuzzer@127.0.0.1 SIP/2.0\r\n"
           b"Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-uac-1\r\nMax-Forwards: 70\r\n"
           b"From: <sip:uac@127.0.0.1>;tag=u1\r\nTo: <sip:fuzzer@127.0.0.1>\r\n"
           b"Call-ID: uac-1@127.0.0.1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n")
ENDLESS_HEAD = b"INVITE sip:x@127.0.0.1 SIP/2.0\r\n" + b"X-Filler: " + b"a" * 60_000


# -- no socket, no packet: refusals ------------------------------------------------------


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any socket made during the test fails it."""

    def tripwire(*args: object, **kwargs: object) -> socket.socket:
        raise AssertionError("a socket was made")

    monkeypatch.setattr(socket, "socket", tripwire)


NOT_UNICAST = [
    "udp:[::ffff:224.0.0.1]:5060",
    "tcp:[::ffff:255.255.255.255]:5060",
    "udp:[::ffff:0.0.0.0]:5060",
    "udp:[::ffff:239.255.255.250]:1900",
    "udp:[::224.0.0.1]:5060",  # IPv4-compatible
    "udp:[::255.255.255.255]:5060",
    "udp:[64:ff9b::224.0.0.251]:5353",  # NAT64
    "udp:[::]:5060",
    "udp:0.0.0.0:5060",
    "udp:0.1.2.3:5060",
    "udp:224.0.0.1:5060",
    "udp:[ff02::1]:5060",
    "udp:[FF05::1:3]:547",
    "udp:255.255.255.255:5060",
]


@pytest.mark.parametrize("spec", NOT_UNICAST)
def test_the_cli_refuses_non_unicast_literals_before_any_socket(
    spec: str, no_sockets: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli.main(["fuzz", spec, "--cases", "1"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"sipstatus fuzz: target {spec!r}: ") and err.endswith("; refusing\n")
    assert err.count("\n") == 1


@pytest.mark.parametrize(("resolved", "reason"), [
    (["::ffff:224.0.0.1"], "IPv4 224.0.0.1 in an IPv6 form: a multicast address"),
    (["192.0.2.10", "224.0.0.1"], "a multicast address"),  # every address is judged
    (["2001:db8::1", "ff02::1"], "a multicast address"),
    (["::ffff:255.255.255.255"], "the broadcast address"),
    (["0.0.0.0"], "the unspecified address"),
    (["::"], "the unspecified address"),
    (["::ffff:0.0.0.0"], "the unspecified address"),
    (["192.0.2.255"], "the broadcast address of a local subnet (eth9 192.0.2.1/24)"),
    (["::ffff:192.0.2.255"], "the broadcast address of a local subnet"),
])
def test_host_names_are_judged_on_every_address_they_resolve_to(
    resolved: list[str], reason: str, no_sockets: None
) -> None:
    asked: list[str] = []

    def resolver(host: str) -> list[str]:
        asked.append(host)
        return resolved

    def broadcasts() -> dict[ipaddress.IPv4Address, str]:
        return {ipaddress.IPv4Address("192.0.2.255"): "eth9 192.0.2.1/24"}

    with pytest.raises(TargetError) as refused:
        parse_target("udp:sip.test:5060", resolver, broadcasts)
    assert asked == ["sip.test"]
    message = str(refused.value)
    assert message.startswith("target 'udp:sip.test:5060': 'sip.test' resolves to ")
    assert reason in message and message.endswith("; refusing")


def test_a_unicast_host_name_gives_its_first_address(no_sockets: None) -> None:
    target = parse_target("tcp:sip.test:5070", lambda host: ["192.0.2.10", "2001:db8::1"],
                          dict)
    assert target == Target("tcp", "192.0.2.10", 5070)
    mapped = parse_target("udp:sip.test:5060", lambda host: ["::ffff:127.0.0.1"], dict)
    assert mapped.host == "::ffff:7f00:1"  # loopback in an IPv6 form is unicast


def test_a_resolver_failure_is_a_usage_error(no_sockets: None) -> None:
    def failing(host: str) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(TargetError, match=r"cannot resolve 'nowhere\.test'"):
        parse_target("udp:nowhere.test:5060", failing, dict)
    with pytest.raises(TargetError, match="resolves to no address"):
        parse_target("udp:nowhere.test:5060", lambda host: [], dict)


def test_ipv4_in_ipv6_forms() -> None:
    def v6(text: str) -> ipaddress.IPv6Address:
        return ipaddress.IPv6Address(text)

    assert embedded_ipv4(v6("::ffff:192.0.2.1")) == ipaddress.IPv4Address("192.0.2.1")
    assert embedded_ipv4(v6("::192.0.2.1")) == ipaddress.IPv4Address("192.0.2.1")
    assert embedded_ipv4(v6("64:ff9b::192.0.2.1")) == ipaddress.IPv4Address("192.0.2.1")
    assert embedded_ipv4(v6("::1")) is None and embedded_ipv4(v6("::")) is None
    assert embedded_ipv4(v6("2001:db8::c000:201")) is None


def test_the_directed_broadcast_of_a_local_subnet_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    known = local_broadcasts()
    if not known:
        pytest.skip("this host's subnets cannot be read (not Linux, or no IPv4 interface)")
    address = min(known)
    for spec in (f"udp:{address}:5060", f"tcp:[::ffff:{address}]:5060"):
        assert _cli.main(["fuzz", spec]) == 2
        err = capsys.readouterr().err
        assert "the broadcast address of a local subnet" in err and known[address] in err


# -- bounded reads: endless messages ---------------------------------------------------------

MEASURED = """\
import resource, sys
from sipstatus import _cli
status = _cli.main(sys.argv[1:])
print("peak-kib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
sys.exit(status)
"""
BASELINE = """\
import resource
import hypothesis
from sipstatus._fuzz import cases, report, run
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.fixture(scope="module")
def baseline_kib() -> int:
    """Peak RSS of a process that has imported the fuzzer and done nothing."""
    done = subprocess.run([sys.executable, "-c", BASELINE], capture_output=True, timeout=60,
                          check=True)
    return int(done.stdout)


def _fuzz_measured(argv: list[str], timeout: float) -> tuple[int, str, int]:
    """``sipstatus fuzz argv`` in a child process: exit status, stderr and peak RSS (KiB).
    A child still running at ``timeout`` (held by its peer: the bug) fails the test."""
    done = subprocess.run([sys.executable, "-c", MEASURED, "fuzz", *argv], capture_output=True,
                          text=True, timeout=timeout)
    peak = int(done.stderr.rsplit("peak-kib ", 1)[1])
    return done.returncode, done.stderr, peak


def _finishes(work: Callable[[], object], within: float = 30) -> object:
    """``work()``'s result, failing the test if it is still running after ``within`` seconds.
    A liveness check (a wait that ignores its deadline runs as long as its peer likes), with
    a margin of tens of times the deadlines involved: not a measure of speed."""
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(work()), daemon=True)
    thread.start()
    thread.join(within)
    assert not thread.is_alive(), f"still running after {within} s"
    assert result, "the work raised (see the thread's traceback above)"
    return result[0]


@pytest.mark.parametrize("shape", ["head", "body"])
def test_an_endless_reply_is_a_finding_and_the_run_goes_on(
    shape: str, baseline_kib: int, tmp_path: Path
) -> None:
    port = free_port()
    argv = [sys.executable, str(FAULTY_TARGET), str(port), "--endless", shape]
    with started(argv, tmp_path / "target.log"):
        wait_for_udp_sip(port)
        status, err, peak = _fuzz_measured(
            [f"tcp:127.0.0.1:{port}", "--cases", "3", "--malformed-ratio", "0",
             "--out", str(tmp_path / "out"), *FAST], timeout=30)
    assert status == 1, err
    report = json.loads((tmp_path / "out" / REPORT).read_text())
    assert report["stopped"] == "cases" and report["cases"] == 3
    assert report["target_alive"] is True
    assert [f["kind"] for f in report["findings"]] == [ENDLESS_MESSAGE] * 3
    assert [f["case"] for f in report["findings"]] == [1, 2, 3]
    first = report["findings"][0]
    assert first["reply"].startswith("SIP/2.0 200 OK\r\n") and len(first["reply"]) <= 1024
    assert str(MAX_MESSAGE) in first["detail"] and "connection closed" in first["detail"]
    assert (tmp_path / "out" / first["file"]).is_file()
    assert peak < baseline_kib + 32 * 1024, f"peak {peak} KiB, baseline {baseline_kib} KiB"


def _stream_endless(port: int, first: bytes, stop: threading.Event) -> None:
    """Connect to the fuzzer's listen port, send ``first`` (and read the answer if it is a
    request), then stream a never-ending header section until the fuzzer closes."""
    end = time.monotonic() + 10
    while not stop.is_set() and time.monotonic() < end:
        try:
            conn = socket.create_connection(("127.0.0.1", port), timeout=1)
            break
        except OSError:
            time.sleep(0.05)
    else:
        return
    with conn:
        conn.settimeout(10)  # the fuzzer's first answer waits for its case generator
        try:
            if first:
                conn.sendall(first)
                conn.recv(65535)  # the fuzzer's answer
            conn.sendall(ENDLESS_HEAD[:40])
            while not stop.is_set():
                conn.sendall(b"X-More: " + b"b" * 4_000 + b"\r\n")
        except OSError:
            return


@pytest.fixture
def streamer() -> Iterator[Callable[[int, bytes], None]]:
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start(port: int, first: bytes) -> None:
        thread = threading.Thread(target=_stream_endless, args=(port, first, stop), daemon=True)
        thread.start()
        threads.append(thread)

    yield start
    stop.set()
    for thread in threads:
        thread.join(5)
        assert not thread.is_alive()


def test_answer_mode_an_endless_request_cannot_hold_the_fuzzer(
    baseline_kib: int, streamer: Callable[[int, bytes], None]
) -> None:
    listen, target = free_port(), free_port()
    streamer(listen, b"")
    status, err, peak = _fuzz_measured(
        ["--answer", "--listen", f"127.0.0.1:{listen}", f"tcp:127.0.0.1:{target}",
         "--idle-timeout", "1.5", "--cases", "1", *FAST], timeout=30)
    assert status == 2
    assert "sent no request in 1.5 s (a message never ended: no end of its header section" \
           in err
    assert peak < baseline_kib + 32 * 1024, f"peak {peak} KiB, baseline {baseline_kib} KiB"


def test_answer_mode_an_endless_request_after_a_case_is_a_finding(
    tmp_path: Path, streamer: Callable[[int, bytes], None]
) -> None:
    listen, target = free_port(), free_port()
    argv = [sys.executable, str(FAULTY_TARGET), str(target), "--endless", "head"]
    with started(argv, tmp_path / "target.log"):  # answers the probes (OPTIONS over TCP)
        wait_for_udp_sip(target)
        streamer(listen, REQUEST)
        status = _finishes(lambda: _cli.main([
            "fuzz", "--answer", "--listen", f"127.0.0.1:{listen}", f"tcp:127.0.0.1:{target}",
            "--idle-timeout", "1.5", "--cases", "5", "--malformed-ratio", "0",
            "--out", str(tmp_path / "out"), *FAST]))
    assert status == 1
    report = json.loads((tmp_path / "out" / REPORT).read_text())
    assert report["stopped"] == "target-idle" and report["cases"] == 1
    assert [(f["kind"], f["case"]) for f in report["findings"]] == [(ENDLESS_MESSAGE, 1)]
    assert report["findings"][0]["reply"].startswith("INVITE sip:x@127.0.0.1 SIP/2.0\r\n")


def test_answer_mode_an_unfinished_request_is_given_up_after_its_time() -> None:
    inbox = Inbox(Target("tcp", "127.0.0.1", 9), Target("tcp", "127.0.0.1", 0),
                  message_time=0.3)
    try:
        with socket.create_connection(("127.0.0.1", inbox.local.port)) as slow:
            slow.sendall(b"OPTIONS sip:x SIP/2.0\r\n")
            deadline = time.monotonic() + 1.0
            assert _finishes(lambda: inbox.receive(deadline)) is None
            (endless,) = inbox.take_endless()
            assert endless.detail.startswith("unfinished after 0.")
            assert endless.sample == b"OPTIONS sip:x SIP/2.0\r\n"
            assert inbox.peers == []
    finally:
        inbox.close()


def test_answer_mode_holds_a_bounded_number_of_connections() -> None:
    inbox = Inbox(Target("tcp", "127.0.0.1", 9), Target("tcp", "127.0.0.1", 0))
    clients = []
    try:
        for _ in range(MAX_PEERS + 4):
            clients.append(socket.create_connection(("127.0.0.1", inbox.local.port), 2))
            inbox.receive(time.monotonic() + 0.05)  # accepts it
        assert len(inbox.peers) == MAX_PEERS
    finally:
        inbox.close()
        for client in clients:
            client.close()


def test_a_stream_of_keepalives_holds_a_reply_only_until_its_deadline() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def spew() -> None:
        conn, _ = server.accept()
        with conn:
            try:
                while not stop.is_set():
                    conn.sendall(b"\r\n" * 32_768)
            except OSError:
                return

    thread = threading.Thread(target=spew, daemon=True)
    thread.start()
    conversation = TcpConversation(Target("tcp", "127.0.0.1", server.getsockname()[1]), 1.0)
    try:
        deadline = time.monotonic() + 0.3
        assert _finishes(lambda: conversation.receive(deadline)) is None
        assert conversation.framer.pending == 0 and conversation.endless is None
    finally:
        conversation.close()
        stop.set()
        thread.join(5)
        server.close()


def test_the_framer_is_linear_and_bounded() -> None:
    def bytewise(size: int) -> float:  # one byte at a time: no rescanning
        head = b"SIP/2.0 200 OK\r\nX: " + b"a" * size + b"\r\n\r\n"
        framer = Framer()
        start = time.process_time()
        for byte in range(len(head)):
            framer.feed(head[byte:byte + 1])
            assert framer.next() is None or byte == len(head) - 1
        return time.process_time() - start

    small, large = bytewise(MAX_MESSAGE // 8 - 40), bytewise(MAX_MESSAGE - 40)
    assert large / max(small, 1e-6) < 8 * 3  # n against 8n: linear gives about 8
    endless = Framer()
    endless.feed(b"\r\n\r\n" + b"X" * (MAX_MESSAGE + 1))
    assert endless.next() is None and endless.overrun
    announced = Framer()
    announced.feed(b"SIP/2.0 200 OK\r\nContent-Length: 999999\r\n\r\nbody")
    assert announced.next() is None and announced.overrun and announced.length is not None
    # the one-shot framer keeps its meaning: no limit, keep-alives dropped
    assert frame(b"\r\n\r\nA B SIP/2.0\r\n\r\nrest") == (b"A B SIP/2.0\r\n\r\n", b"rest")


def test_judging_is_bounded() -> None:
    too_long = judge(b"SIP/2.0 200 OK\r\n" + b"X: y\r\n" * 20_000)
    assert not too_long.well_formed and too_long.status_code == 200
    assert f"more than the {MAX_MESSAGE} bytes judged" in (too_long.problem or "")
    base = (b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
            b"From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\n"
            b"Call-ID: x\r\nCSeq: 1 OPTIONS\r\n")
    hostile = [
        base + (b'Contact: "' + b'\\"' * 4_000 + b"<sip:a@b>\r\n") * 7,
        base + (b"Server: a " + b"(a" * 4_000 + b"\r\n") * 7,
        base + (b"Via: " + b"SIP/2.0/UDP h;branch=z9hG4bK1," * 250 + b"SIP/2.0/UDP \r\n") * 7,
    ]
    for data in hostile:
        assert len(data) <= MAX_MESSAGE
        verdict = _finishes(lambda data=data: judge(data + b"Content-Length: 0\r\n\r\n"))
        assert not verdict.well_formed


# -- floods ----------------------------------------------------------------------------------


class FakeConversation:
    """A UDP-like conversation: ``incoming`` is what waits to be read; ``answer_with`` turns a
    sent probe into the target's answer, queued behind whatever is already waiting."""

    def __init__(self, incoming: Iterator[bytes],
                 answer_with: Callable[[bytes], bytes | None]) -> None:
        self.local = Endpoint("UDP", "127.0.0.1", 40000)
        self.refused = False
        self.endless: Endless | None = None
        self.incoming = incoming
        self.answers: deque[bytes] = deque()
        self.answer_with = answer_with
        self.reads = 0

    def send(self, data: bytes) -> None:
        answer = self.answer_with(data)
        if answer is not None:
            self.answers.append(answer)

    def receive(self, deadline: float) -> bytes | None:
        self.reads += 1
        flood = next(self.incoming, None)
        if flood is not None and self.reads % 50:
            return flood
        return self.answers.popleft() if self.answers else flood

    def close(self) -> None:
        pass


def _unrelated(count: int | None) -> Iterator[bytes]:
    serial = 0
    while count is None or serial < count:
        serial += 1
        yield (b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-f%d\r\n"
               b"Call-ID: flood-%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
               % (serial, serial))


def _echo(branch_from: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    """The target's answer to a probe: its Via (as ``branch_from`` makes it) and Call-ID."""

    def answer(probe: bytes) -> bytes:
        lines = probe.split(b"\r\n")
        via = next(line for line in lines if line.startswith(b"Via: "))
        call = next(line for line in lines if line.startswith(b"Call-ID: "))
        return (b"SIP/2.0 200 OK\r\n" + branch_from(via) + b"\r\n" + call
                + b"\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")

    return answer


def _prober(conversation: FakeConversation, timeout: float, retries: int = 0) -> Prober:
    return Prober(lambda: conversation, lambda _c: None, Endpoint("UDP", "127.0.0.1", 5060),
                  Pacer(1e6), timeout, retries, seed=1)


def test_a_flood_does_not_hide_the_probe_answer() -> None:
    conversation = FakeConversation(_unrelated(None), _echo(lambda via: via))
    result = _prober(conversation, timeout=2.0).probe()
    assert result.alive and result.attempts == 1
    assert len(result.others) == KEPT and result.drained > 1_000


def test_the_probe_answer_needs_its_own_branch() -> None:
    def other_branch(via: bytes) -> bytes:
        return via.replace(b"branch=z9hG4bK-sipstatus", b"branch=z9hG4bK-other")

    conversation = FakeConversation(iter(()), _echo(other_branch))
    result = _prober(conversation, timeout=0.2).probe()
    assert not result.alive  # the near miss (the probe's Call-ID, another branch) is no answer


@pytest.mark.parametrize(("status", "alive"), [(b"200 OK", True), (b"404 Not Found", True),
                                               (b"503 Service Unavailable", False),
                                               (b"408 Request Timeout", False)])
def test_a_probe_user_is_reached_through_the_proxy(status: bytes, alive: bool) -> None:
    sent: list[bytes] = []

    def proxy(probe: bytes) -> bytes:
        sent.append(probe)
        return _echo(lambda via: via)(probe).replace(b"200 OK", status, 1)

    conversation = FakeConversation(iter(()), proxy)
    prober = Prober(lambda: conversation, lambda _c: None, Endpoint("UDP", "127.0.0.1", 5060),
                    Pacer(1e6), 0.2, 1, seed=1, user="service")
    result = prober.probe()
    assert result.alive is alive and result.attempts == (1 if alive else 2)
    assert all(p.startswith(b"OPTIONS sip:service@127.0.0.1:5060 SIP/2.0\r\n") for p in sent)
    assert all(b"\r\nTo: <sip:service@127.0.0.1:5060>\r\n" in p for p in sent)
    without = _prober(FakeConversation(iter(()), proxy), timeout=0.2).probe()
    assert without.alive  # without a probe user, the proxy's own answer shows it alive


def test_a_flooding_target_that_never_answers_is_dead_in_bounded_time() -> None:
    conversation = FakeConversation(_unrelated(None), lambda probe: None)
    result = _finishes(_prober(conversation, timeout=0.2, retries=1).probe)
    assert not result.alive and result.attempts == 2 and result.drained > 0


def test_a_udp_flood_is_no_dead_target(tmp_path: Path) -> None:
    port = free_port()
    argv = [sys.executable, str(FAULTY_TARGET), str(port), "--flood", "20000"]
    with started(argv, tmp_path / "target.log") as process:
        wait_for_udp_sip(port)
        status = _finishes(lambda: _cli.main([
            "fuzz", f"udp:127.0.0.1:{port}", "--cases", "6", "--malformed-ratio", "0",
            "--rate", "20", "--probe-timeout", "0.5", "--probe-retries", "0",
            "--reply-wait", "0.05", "-q", "--out", str(tmp_path / "out")]), within=60)
        assert process.poll() is None
    report = json.loads((tmp_path / "out" / REPORT).read_text())
    assert status == 0 and report["findings"] == []
    assert report["stopped"] == "cases" and report["cases"] == 6
    assert report["target_alive"] is True and report["drained"] > 0


# -- --out -----------------------------------------------------------------------------------


def _outcome(*findings: Finding) -> Outcome:
    return Outcome(cases=len(findings), findings=findings, target_alive=True, elapsed=0.5,
                   stopped="cases", labels=(("valid", len(findings)),))


SETTINGS = Settings(target=Target("udp", "127.0.0.1", 5060))
DEAD = Finding(Case(1, b"INVITE a\r\n", "nul-byte"), TARGET_DEAD, None, None, "silence",
               preceding=(Case(0, b"OPTIONS b\r\n", "valid"),))
BAD = Finding(Case(2, b"BYE c\r\n", "valid", answered=b"BYE d"), MALFORMED_REPLY, b"x", None,
              "bad")


def _run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = _cli.main(["fuzz", "udp:[::1]:9", "--cases", "1", *argv])
    return status, capsys.readouterr().err


def test_out_is_checked_before_the_run(
    tmp_path: Path, no_sockets: None, capsys: pytest.CaptureFixture[str]
) -> None:
    full = tmp_path / "full"
    full.mkdir()
    (full / "notes.txt").write_text("mine")
    status, err = _run_cli(["--out", str(full)], capsys)
    assert status == 2
    assert err == (f"sipstatus fuzz: --out {full}: not empty (1 entries); give --overwrite "
                   "to replace an earlier run's report and finding files\n")
    a_file = tmp_path / "a-file"
    a_file.write_text("in the way")
    status, err = _run_cli(["--out", str(a_file)], capsys)
    assert status == 2 and err == f"sipstatus fuzz: --out {a_file}: exists and is not a directory\n"
    status, err = _run_cli(["--out", str(a_file / "below")], capsys)
    assert status == 2 and err.endswith(": Not a directory\n")
    status, err = _run_cli(["--overwrite"], capsys)
    assert status == 2 and err == "sipstatus fuzz: --overwrite goes with --out\n"
    assert a_file.read_text() == "in the way" and (full / "notes.txt").read_text() == "mine"


def test_out_refuses_symbolic_links(
    tmp_path: Path, no_sockets: None, capsys: pytest.CaptureFixture[str]
) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    status, err = _run_cli(["--out", str(link), "--overwrite"], capsys)
    assert status == 2 and "is a symbolic link; refusing" in err
    victim = tmp_path / "victim"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / REPORT).symlink_to(victim)
    status, err = _run_cli(["--out", str(out), "--overwrite"], capsys)
    assert status == 2 and "report.json is not a regular file" in err
    (out / REPORT).unlink()
    (out / "finding-0001-target-dead-nul-byte.sip").symlink_to(victim)
    with pytest.raises(OutputError, match="is not a regular file"):
        prepare(out, overwrite=True)
    assert victim.read_text() == "precious"


def test_overwrite_replaces_only_the_fuzzers_own_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    prepare(out).write(SETTINGS, _outcome(DEAD, BAD))
    first = sorted(p.name for p in out.iterdir())
    assert first == ["finding-0001-target-dead-nul-byte.sip",
                     "finding-0001-target-dead-nul-byte.sip.before-1",
                     "finding-0002-malformed-reply-valid.sip",
                     "finding-0002-malformed-reply-valid.sip.request", REPORT]
    (out / "notes.txt").write_text("mine")
    (out / "finding-notes").mkdir()
    with pytest.raises(OutputError, match="not empty"):
        prepare(out)
    again = prepare(out, overwrite=True)
    assert again.kept == ("finding-notes", "notes.txt")
    again.write(SETTINGS, _outcome(BAD))
    assert sorted(p.name for p in out.iterdir()) == [
        "finding-0001-malformed-reply-valid.sip", "finding-0001-malformed-reply-valid.sip.request",
        "finding-notes", "notes.txt", REPORT]
    report = json.loads((out / REPORT).read_text())
    assert [f["file"] for f in report["findings"]] == ["finding-0001-malformed-reply-valid.sip"]


def test_report_is_written_atomically_and_never_through_a_link(tmp_path: Path) -> None:
    out = tmp_path / "out"
    checked = prepare(out)
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (out / "finding-0001-target-dead-nul-byte.sip").symlink_to(victim)  # after the check
    with pytest.raises(OutputError, match="cannot write finding-0001"):
        checked.write(SETTINGS, _outcome(DEAD))
    assert victim.read_text() == "precious"
    assert not (out / REPORT).exists()

    clean = tmp_path / "clean"
    checked = prepare(clean)
    (clean / REPORT).mkdir()  # in the way of the final rename, after the check
    (clean / REPORT / "x").write_text("")
    with pytest.raises(OutputError):
        checked.write(SETTINGS, _outcome())
    assert sorted(p.name for p in clean.iterdir()) == [REPORT]  # no temporary file left


def test_a_directory_gone_during_the_run_is_an_output_error(tmp_path: Path) -> None:
    out = tmp_path / "out"
    checked = prepare(out)
    out.rmdir()
    with pytest.raises(OutputError, match="cannot open"):
        checked.write(SETTINGS, _outcome(DEAD))
