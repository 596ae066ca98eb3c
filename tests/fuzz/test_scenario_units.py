"""The pieces of stateful fuzzing without a network: the dialog's route set and requests
(RFC 3261 §12), re-aiming a saved broken message at a new dialog, the reproducer format, the
seeded steps, and the command line's refusals."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sipstatus import _cli
from sipstatus._fuzz import build as b
from sipstatus._fuzz import scenario
from sipstatus._fuzz.dialog import Dialog, adapt, addresses, identifiers, tag_of, uri_of, write
from sipstatus._fuzz.digest import Credentials
from sipstatus._fuzz.model import Case, Mutation
from sipstatus._fuzz.transport import Conversation
from sipstatus._fuzz.wire import Wire

LOCAL = b.Endpoint("UDP", "127.0.0.1", 40001)
TARGET = b.Endpoint("UDP", "127.0.0.1", 5060)
OK = (b"SIP/2.0 200 OK\r\n"
      b"Via: SIP/2.0/UDP 127.0.0.1:40001;branch=z9hG4bK-x-1;rport\r\n"
      b"Record-Route: <sip:p2.example.net;lr>, <sip:p1.example.net;lr;ftag=1>\r\n"
      b"Record-Route: <sip:p0.example.net;lr>\r\n"
      b"From: <sip:sipstatus-fuzz@127.0.0.1:40001>;tag=x-tag\r\n"
      b'To: "Bob" <sip:service@127.0.0.1:5060>;tag=bob-7\r\n'
      b"Call-ID: x@127.0.0.1\r\nCSeq: 1 INVITE\r\n"
      b"Contact: <sip:bob@192.0.2.7:5062;transport=udp>;expires=60\r\n"
      b"Content-Length: 0\r\n\r\n")


def test_the_dialog_follows_the_2xx() -> None:
    dialog = Dialog(LOCAL, TARGET, "x")
    invite, _ = dialog.invite()
    assert dialog.confirm(OK)
    assert dialog.remote_tag == "bob-7"
    assert dialog.remote_target == "sip:bob@192.0.2.7:5062;transport=udp"
    # Record-Route in reverse order (§12.1.2): the UAC's first hop is the last entry.
    assert dialog.route_set == ("sip:p0.example.net;lr", "sip:p1.example.net;lr;ftag=1",
                                "sip:p2.example.net;lr")
    tx, routes = dialog.in_dialog("INFO")
    data = write(tx, routes, (), None)
    wire = Wire.split(data)
    assert wire.start == b"INFO sip:bob@192.0.2.7:5062;transport=udp SIP/2.0"
    assert [wire.value_at(i) for i in wire.indexes("route")] == [
        b"<sip:p0.example.net;lr>", b"<sip:p1.example.net;lr;ftag=1>",
        b"<sip:p2.example.net;lr>"]
    assert wire.value("cseq") == b"2 INFO"
    assert identifiers(data) == ("x@127.0.0.1", "x-tag", "bob-7")
    assert tx.vias[0].branch != invite.vias[0].branch
    ack, _ = dialog.ack_2xx(invite.cseq)
    assert ack.cseq == 1 and ack.method == "ACK"
    cancel, _ = dialog.cancel(invite)
    assert cancel.vias == invite.vias and cancel.cseq == invite.cseq


def test_strict_routing_puts_the_first_route_in_the_request_uri() -> None:
    dialog = Dialog(LOCAL, TARGET, "y")
    dialog.confirm(OK.replace(b";lr>, <sip:p1", b">, <sip:p1").replace(
        b"<sip:p0.example.net;lr>", b"<sip:p0.example.net>"))
    uri, routes = dialog.routing()
    assert uri == "sip:p0.example.net"
    assert [r.value for r in routes] == ["<sip:p1.example.net;lr;ftag=1>",
                                         "<sip:p2.example.net>",
                                         "<sip:bob@192.0.2.7:5062;transport=udp>"]


def test_no_to_tag_no_dialog() -> None:
    assert not Dialog(LOCAL, TARGET, "z").confirm(OK.replace(b";tag=bob-7", b""))


def test_tolerant_readers() -> None:
    assert addresses(b'"a, b" <sip:x@y>, <sip:z;lr>') == [b'"a, b" <sip:x@y>', b"<sip:z;lr>"]
    assert uri_of(b"<sip:x@y;lr>;p=1") == "sip:x@y;lr"
    assert uri_of(b"sip:x@y;p=1") == "sip:x@y"
    assert uri_of(b"<sip:x@y") is None and uri_of(b"<sip:\x00>") is None
    assert tag_of(b"<sip:a@b;tag=uri>;tag=hdr") == "hdr"
    assert tag_of(b"<sip:a@b>") is None and tag_of(None) is None


def test_adapt_re_aims_a_broken_message() -> None:
    old, new = Dialog(LOCAL, TARGET, "old"), Dialog(
        b.Endpoint("UDP", "127.0.0.1", 50002), TARGET, "new")
    for dialog, tag in ((old, b"t1"), (new, b"t2")):
        dialog.invite()
        dialog.confirm(OK.replace(b"bob-7", tag))
    before = write(*old.in_dialog("BYE"), (), None)
    after = write(*new.in_dialog("BYE"), (), None)
    broken = before.replace(b"Content-Length: 0", b"Content-Length: -1").replace(
        b"tag=t1", b"tag=t1\x00")
    adapted = adapt(broken, before, after)
    assert b"Content-Length: -1" in adapted and b"\x00" in adapted
    assert identifiers(adapted)[0] == "new@127.0.0.1"
    assert b"t1" not in adapted and b"old" not in adapted and b"40001" not in adapted
    assert b"tag=t2\x00" in adapted


def test_a_sequence_file_round_trips_and_refuses_garbage(tmp_path: Path) -> None:
    case = Case(3, b"BROKEN\r\n\r\n", "nul-byte", scenario="invite", step="invite/info",
                original=b"GOOD", sequence=(("sent", "invite/invite", b"INVITE ...\r\n"),
                                           ("original", "invite/info", b"GOOD"),
                                           ("broken", "invite/info", b"BROKEN\r\n\r\n")))
    data = scenario.encode(case)
    assert scenario.is_sequence(data)
    saved = scenario.decode(data)
    assert saved == scenario.Saved("invite", "invite/info", "nul-byte", b"GOOD",
                                   b"BROKEN\r\n\r\n")
    for bad in (b"INVITE sip:a SIP/2.0\r\n\r\n", data[:-3],
                data.replace(b"invite/info nul", b"invite/nope nul"),
                data.split(b"original")[0]):
        with pytest.raises(ValueError):
            scenario.decode(bad)
    bad_file = tmp_path / "bad.sip"
    bad_file.write_bytes(data[:-3])
    assert _cli.main(["fuzz", "--replay", str(bad_file), "udp:127.0.0.1:9"]) == 2


def test_steps_come_from_the_seed() -> None:
    draws = [[scenario.steps_of("invite", seed)() for _ in range(30)] for seed in (5, 5, 6)]
    assert draws[0] == draws[1] != draws[2]
    assert set(draws[0]) <= set(scenario.STEPS["invite"])


def test_the_command_line_refuses_scenarios_with_answer(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert _cli.main(["fuzz", "--answer", "--scenario", "invite", "udp:127.0.0.1:9"]) == 2
    assert "--scenario goes without --answer" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _cli.main(["fuzz", "--scenario", "nope", "udp:127.0.0.1:9"])
    saved = tmp_path / "seq.sip"
    saved.write_bytes(scenario.encode(Case(1, b"x", "valid", scenario="invite",
                                           step="invite/bye", original=b"x",
                                           sequence=(("original", "invite/bye", b"x"),
                                                     ("broken", "invite/bye", b"x")))))
    assert _cli.main(["fuzz", "--answer", "--replay", str(saved), "udp:127.0.0.1:9"]) == 2
    assert "replay it without --answer" in capsys.readouterr().err
    assert _cli.main(["fuzz", "--user", "alice", "udp:127.0.0.1:9"]) == 2
    assert "--user and --password go with --scenario register" in capsys.readouterr().err
    assert _cli.main(["fuzz", "--replay", str(tmp_path / "none.sip"), "--user", "alice",
                      "udp:127.0.0.1:9"]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert _cli.main(["fuzz", "--scenario", "register", "--user", "a b",
                      "udp:127.0.0.1:9"]) == 2
    assert "not a SIP user name" in capsys.readouterr().err
    assert _cli.main(["fuzz", "--scenario", "all", "--password", "a\nb",
                      "udp:127.0.0.1:9"]) == 2
    assert "control character" in capsys.readouterr().err


# --- the invite flow against a scripted UAS (no network) ------------------------------------

Script = Callable[[bytes, "FakeUas"], list[bytes]]


class FakeUas:
    """A Conversation whose peer is ``script``: each message sent gets the replies it
    returns (the script may also queue requests of its own)."""

    def __init__(self, script: Script) -> None:
        self.local = LOCAL
        self.refused = False
        self.endless = None
        self.script = script
        self.queue: list[bytes] = []
        self.got: list[bytes] = []
        self.tag = "uas-1"

    def send(self, data: bytes) -> None:
        self.got.append(data)
        self.queue += self.script(data, self)

    def receive(self, deadline: float) -> bytes | None:
        if self.queue:
            return self.queue.pop(0)
        time.sleep(max(0.0, min(deadline - time.monotonic(), 0.001)))
        return None

    def close(self) -> None:
        pass

    def answer(self, request: bytes, code: int, tag: bool = True) -> bytes:
        wire = Wire.split(request)
        return b.echo_response(wire, code, b.default_reason(code),
                               self.tag if tag else None,
                               (b.Header("Contact", "<sip:uas@127.0.0.1:5060>"),)
                               if wire.method == "INVITE" else (), None, b.Style())

    def sent(self, method: str) -> list[bytes]:
        return [m for m in self.got if m.startswith(method.encode() + b" ")]


def _valid(name: str, tx: b.Transaction, routes: tuple[b.Header, ...]) -> Mutation:
    data = write(tx, routes, (), None)
    return Mutation(data, "valid", data)


def _play(uas: FakeUas, step: str, make: scenario.MakeStep = _valid
          ) -> tuple[Case, list[scenario.Event], scenario.Coverage]:
    coverage = scenario.Coverage()
    case, events, _ = scenario.play(uas, "invite", step, make, 0.002, 0.05, coverage, "t",
                                    TARGET, 1, lambda: None)
    return case, events, coverage


def _method(data: bytes) -> str:
    return data.split(b" ", 1)[0].decode()


def _plain(data: bytes, uas: FakeUas) -> list[bytes]:
    method = _method(data)
    if method == "ACK" or data.startswith(b"SIP/"):
        return []
    if method == "INVITE":
        return [uas.answer(data, 180), uas.answer(data, 200)]
    return [uas.answer(data, 200, tag=False)]


def test_a_whole_call_reaches_its_steps() -> None:
    uas = FakeUas(_plain)
    case, events, coverage = _play(uas, "invite/info")
    assert events == [] and case.label == "valid" and case.step == "invite/info"
    # The two requests before INFO in the step order come first, well formed.
    assert scenario.preceding("invite/info") == ("invite/reinvite", "invite/update")
    assert [_method(m) for m in uas.got] == ["INVITE", "ACK", "INVITE", "ACK", "UPDATE",
                                             "INFO", "BYE"]
    steps = coverage.as_dict()["invite"]["steps"]
    assert steps["invite/invite"] == {"reached": 1, "fuzzed": 0,
                                      "responses": {"180": 1, "200": 1}}
    assert steps["invite/reinvite"] == {"reached": 1, "fuzzed": 0,
                                        "responses": {"180": 1, "200": 1}}
    assert steps["invite/update"] == {"reached": 1, "fuzzed": 0, "responses": {"200": 1}}
    assert steps["invite/info"] == {"reached": 1, "fuzzed": 1, "responses": {"200": 1}}
    assert steps["invite/bye"]["responses"] == {"200": 1}
    cseqs = [Wire.split(m).value("cseq") for m in uas.got]
    assert cseqs == [b"1 INVITE", b"1 ACK", b"2 INVITE", b"2 ACK", b"3 UPDATE", b"4 INFO",
                     b"5 BYE"]
    bye = Wire.split(uas.sent("BYE")[0])
    assert bye.start == b"BYE sip:uas@127.0.0.1:5060 SIP/2.0"  # the remote target
    assert b";tag=uas-1" in (bye.value("to") or b"")
    assert [k for k, _, _ in case.sequence].count("broken") == 1


def test_udp_retransmits_until_answered() -> None:
    seen: list[int] = []

    def late(data: bytes, uas: FakeUas) -> list[bytes]:
        if _method(data) == "INVITE":
            seen.append(1)
            if len(seen) < 3:
                return []  # the first two sends get lost
        return _plain(data, uas)

    uas = FakeUas(late)
    case, _, _ = _play(uas, "invite/bye")
    assert len(uas.sent("INVITE")) == 3
    assert [k for k, s, _ in case.sequence if s == "invite/invite"].count("retransmitted") == 2


def test_a_2xx_after_the_cancel_was_answered() -> None:
    def racing(data: bytes, uas: FakeUas) -> list[bytes]:
        method = _method(data)
        if method == "INVITE":
            uas.invite = data  # type: ignore[attr-defined]
            return [uas.answer(data, 180)]
        if method == "CANCEL":
            return [uas.answer(data, 200, tag=False),
                    uas.answer(uas.invite, 200)]  # type: ignore[attr-defined]
        return _plain(data, uas)

    uas = FakeUas(racing)
    _, events, coverage = _play(uas, "invite/cancel")
    assert [e.kind for e in events] == ["2xx-after-cancel"]
    assert [_method(m) for m in uas.got] == ["INVITE", "CANCEL", "ACK", "BYE"]
    assert coverage.as_dict()["invite"]["steps"]["invite/cancel"]["responses"] == {"200": 1}


def test_a_cseq_going_backwards_and_requests_are_answered() -> None:
    def chatty(data: bytes, uas: FakeUas) -> list[bytes]:
        if _method(data) != "ACK":
            return _plain(data, uas)
        requests = []
        for number in (5, 3):
            info = (f"INFO sip:sipstatus-fuzz@127.0.0.1:40001 SIP/2.0\r\n"
                    f"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-uas-{number}\r\n"
                    f"From: <sip:service@127.0.0.1:5060>;tag=uas-1\r\n"
                    f"To: <sip:sipstatus-fuzz@127.0.0.1:40001>;tag=t-tag\r\n"
                    f"Call-ID: t@127.0.0.1\r\nCSeq: {number} INFO\r\n"
                    f"Content-Length: 0\r\n\r\n").encode()
            requests.append(info)
        return requests

    uas = FakeUas(chatty)
    _, events, _ = _play(uas, "invite/options")
    assert [e.kind for e in events] == ["cseq-backwards"]
    answers = [m for m in uas.got if m.startswith(b"SIP/2.0 200") and b"INFO" in m]
    assert len(answers) == 2


def test_a_2xx_to_a_request_of_another_dialog() -> None:
    def retagged(name: str, tx: b.Transaction, routes: tuple[b.Header, ...]) -> Mutation:
        data = write(tx, routes, (), None)
        return Mutation(data.replace(b"tag=uas-1", b"tag=uas-X"), "byte-flip", data)

    uas = FakeUas(_plain)
    _, events, _ = _play(uas, "invite/message", retagged)
    assert [e.kind for e in events] == ["answered-unknown-dialog"]
    assert "To tag" in events[0].detail


def test_a_5xx_to_a_broken_request_in_the_dialog() -> None:
    def broken(name: str, tx: b.Transaction, routes: tuple[b.Header, ...]) -> Mutation:
        data = write(tx, routes, (), None)
        return Mutation(data.replace(b"Content-Length: 0", b"Content-Length: -1"),
                        "content-length-negative", data)

    def failing(data: bytes, uas: FakeUas) -> list[bytes]:
        if b"Content-Length: -1" in data:
            return [uas.answer(data, 500, tag=False)]
        return _plain(data, uas)

    uas = FakeUas(failing)
    _, events, _ = _play(uas, "invite/refer", broken)
    assert [e.kind for e in events] == ["server-error-in-dialog"]


def test_the_command_line_offers_every_scenario() -> None:
    import argparse

    from sipstatus._cli import fuzz as fuzz_command

    subparsers = argparse.ArgumentParser().add_subparsers()
    fuzz_command.register(subparsers)
    fuzz = subparsers._name_parser_map["fuzz"]
    from sipstatus._fuzz.flow import ANSWER_SCENARIOS

    [action] = [a for a in fuzz._actions if "--scenario" in a.option_strings]
    assert tuple(action.choices or ()) == (*scenario.SCENARIOS, *ANSWER_SCENARIOS, "all")
    assert fuzz_command.SCENARIOS == scenario.SCENARIOS
    assert fuzz_command.ANSWER_SCENARIOS == ANSWER_SCENARIOS


def test_a_broken_bye_that_did_not_end_the_call_is_followed_by_a_good_one() -> None:
    def retagged(name: str, tx: b.Transaction, routes: tuple[b.Header, ...]) -> Mutation:
        data = write(tx, routes, (), None)
        return Mutation(data.replace(b"tag=uas-1", b"tag=uas-X"), "byte-flip", data)

    def strict(data: bytes, uas: FakeUas) -> list[bytes]:
        if b"tag=uas-X" in data:
            return [uas.answer(data, 481, tag=False)]
        return _plain(data, uas)

    uas = FakeUas(strict)
    case, events, coverage = _play(uas, "invite/bye", retagged)
    assert events == [] and case.label == "byte-flip"
    byes = uas.sent("BYE")
    assert len(byes) == 2 and b"tag=uas-X" in byes[0] and b"tag=uas-1" in byes[1]
    assert Wire.split(byes[1]).value("cseq") == b"3 BYE"
    assert coverage.as_dict()["invite"]["steps"]["invite/bye"] == {
        "reached": 1, "fuzzed": 1, "responses": {"200": 1, "481": 1}}


# --- the register flow against a scripted registrar (no network) ----------------------------


class Registrar:
    """A registrar script for FakeUas: REGISTER without valid credentials gets 401 with a
    Digest challenge (a new nonce each time), valid credentials (checked with hashlib here,
    independently of sipstatus._fuzz.digest) get 200."""

    def __init__(self, algorithm: str = "MD5", qop: bool = True, code: int = 401,
                 password: str = "secret", stale_after: int = 0) -> None:
        self.algorithm, self.qop, self.code = algorithm, qop, code
        self.password = password
        self.stale_after = stale_after  # accept only this many requests per nonce (0: any)
        self.nonces: dict[str, int] = {}
        self.checked: list[bool] = []

    def check(self, value: str, uri: str) -> bool:
        import re as re_

        params = dict(re_.findall(r'(\w+)="?([^",]*)"?', value.split(" ", 1)[1]))
        nonce = params.get("nonce", "")
        if nonce not in self.nonces:
            return False
        self.nonces[nonce] += 1
        if self.stale_after and self.nonces[nonce] > self.stale_after:
            return False
        name = {"MD5": "md5", "SHA-256": "sha256"}[self.algorithm]

        def h(text: str) -> str:
            return hashlib.new(name, text.encode()).hexdigest()

        ha1 = h(f"{params['username']}:sip.test:{self.password}")
        ha2 = h(f"REGISTER:{params['uri']}")
        if self.qop:
            expected = h(f"{ha1}:{nonce}:{params['nc']}:{params['cnonce']}:auth:{ha2}")
        else:
            expected = h(f"{ha1}:{nonce}:{ha2}")
        return params["uri"] == uri and params["response"] == expected

    def __call__(self, data: bytes, uas: FakeUas) -> list[bytes]:
        wire = Wire.split(data)
        if wire.method != "REGISTER":
            return []
        header = "authorization" if self.code == 401 else "proxy-authorization"
        value = wire.value(header)
        uri = wire.start.split(b" ")[1].decode()
        if value is not None:
            good = self.check(value.decode(), uri)
            self.checked.append(good)
            if good:
                return [uas.answer(data, 200)]
        nonce = f"n{len(self.nonces) + 1}"
        self.nonces[nonce] = 0
        name = "WWW-Authenticate" if self.code == 401 else "Proxy-Authenticate"
        qop = ', qop="auth"' if self.qop else ""
        challenge = (f'Digest realm="sip.test", nonce="{nonce}", algorithm={self.algorithm}'
                     f'{qop}, opaque="op-1"')
        return [b.echo_response(wire, self.code, b.default_reason(self.code), uas.tag,
                                (b.Header(name, challenge),), None, b.Style())]


def _register(uas: FakeUas, step: str, make: scenario.MakeStep = _valid,
              password: str = "secret") -> tuple[Case, list[scenario.Event], dict[str, Any]]:
    coverage = scenario.Coverage()
    case, events, _ = scenario.play(uas, "register", step, make, 0.002, 0.05, coverage, "r",
                                    TARGET, 1, lambda: None,
                                    credentials=Credentials("alice", password))
    return case, events, coverage.as_dict()["register"]["steps"]


@pytest.mark.parametrize(("algorithm", "qop", "code"),
                         [("MD5", True, 401), ("SHA-256", True, 407), ("MD5", False, 401)])
def test_a_registration_answers_its_challenge(algorithm: str, qop: bool, code: int) -> None:
    registrar = Registrar(algorithm, qop, code)
    uas = FakeUas(registrar)
    case, events, steps = _register(uas, "register/refresh")
    assert events == [] and case.label == "valid"
    assert registrar.checked == [True, True, True]  # auth, refresh, unregister
    assert steps == {
        "register/initial": {"reached": 1, "fuzzed": 0, "responses": {str(code): 1}},
        "register/auth": {"reached": 1, "fuzzed": 0, "responses": {"200": 1}},
        "register/refresh": {"reached": 1, "fuzzed": 1, "responses": {"200": 1}},
        "register/unregister": {"reached": 1, "fuzzed": 0, "responses": {"200": 1}},
    }
    sent = [Wire.split(m) for m in uas.sent("REGISTER")]
    assert [w.value("cseq") for w in sent] == [b"1 REGISTER", b"2 REGISTER", b"3 REGISTER",
                                               b"4 REGISTER"]
    assert len({w.value("call-id") for w in sent}) == 1
    header = "authorization" if code == 401 else "proxy-authorization"
    if qop:  # the same nonce, counted up
        assert [b"nc=0000000" + str(n).encode() in (w.value(header) or b"")
                for n, w in zip((1, 2, 3), sent[1:], strict=True)] == [True] * 3
    assert sent[0].value(header) is None
    assert sent[3].value("expires") == b"0" and b";expires=0" in (sent[3].value("contact")
                                                                 or b"")


def test_a_refresh_challenged_again_is_authenticated_again() -> None:
    registrar = Registrar(stale_after=1)  # every nonce is good for one request only
    uas = FakeUas(registrar)
    _, _, steps = _register(uas, "register/auth")
    assert registrar.checked == [True, False, True, False, True]
    assert steps["register/refresh"] == {"reached": 2, "fuzzed": 0,
                                         "responses": {"200": 1, "401": 1}}
    assert steps["register/unregister"]["responses"] == {"200": 1, "401": 1}


def test_a_wrong_password_stops_after_the_second_challenge() -> None:
    uas = FakeUas(Registrar())
    case, _, steps = _register(uas, "register/unregister", password="wrong")
    assert case.label == "unreached"
    assert steps["register/auth"] == {"reached": 2, "fuzzed": 0, "responses": {"401": 2}}
    assert steps["register/refresh"]["reached"] == 0


def test_a_broken_register_that_failed_is_followed_by_a_good_one_and_replays() -> None:
    def broken(name: str, tx: b.Transaction, routes: tuple[b.Header, ...]) -> Mutation:
        data = write(tx, routes, (), None)
        return Mutation(data.replace(b"REGISTER sip:", b"REGISTER  sip:", 1),
                        "extra-space", data)

    registrar = Registrar()

    def picky(data: bytes, uas: FakeUas) -> list[bytes]:
        if data.startswith(b"REGISTER  "):
            return [uas.answer(data, 400, tag=False)]
        return registrar(data, uas)

    uas = FakeUas(picky)
    case, _, steps = _register(uas, "register/auth", broken)
    assert steps["register/auth"]["responses"] == {"400": 1, "200": 1}
    assert steps["register/unregister"]["responses"] == {"200": 1}
    saved = scenario.decode(scenario.encode(case))
    assert saved.step == "register/auth" and b"Authorization: Digest" in saved.broken

    # The replay re-aims the broken message, its Digest response included, at a new flow
    # whose registrar chose other nonces.
    again = Registrar()
    again.nonces["n0"] = 0
    uas2 = FakeUas(again)
    case2, _, _ = _register(uas2, "register/auth", scenario.replayer(saved))
    assert case2.label == "extra-space"
    [replayed] = [m for m in uas2.got if m.startswith(b"REGISTER  ")]
    assert b'nonce="n2"' in replayed and b'nonce="n1"' not in replayed
    assert again.check(Wire.split(replayed).value("authorization").decode(),  # type: ignore[union-attr]
                       "sip:127.0.0.1:5060")


# --- the prack flow against a scripted UAS with 100rel (no network) -------------------------


class Reliable:
    """A UAS script that answers an INVITE requiring 100rel with a reliable 183 (RSeq
    ``rseq``), then, once the PRACK with the right RAck came, 200 to the PRACK and 200 to the
    INVITE; a PRACK with another RAck gets 481. Without 100rel in Require: 420."""

    def __init__(self, rseq: int = 7) -> None:
        self.rseq = rseq
        self.invite = b""

    def __call__(self, data: bytes, uas: FakeUas) -> list[bytes]:
        wire = Wire.split(data)
        if wire.method == "INVITE":
            if b"100rel" not in (wire.value("require") or b""):
                return [uas.answer(data, 420, tag=False)]
            self.invite = data
            reliable = (b.Header("Contact", "<sip:uas@127.0.0.1:5060>"),
                        b.Header("Require", "100rel"), b.Header("RSeq", str(self.rseq)))
            return [uas.answer(data, 100, tag=False),
                    b.echo_response(wire, 183, "Session Progress", uas.tag, reliable, None,
                                    b.Style())]
        if wire.method == "PRACK":
            if wire.value("rack") != f"{self.rseq} 1 INVITE".encode():
                return [uas.answer(data, 481, tag=False)]
            return [uas.answer(data, 200, tag=False), uas.answer(self.invite, 200)]
        return _plain(data, uas)


def _prack(uas: FakeUas, step: str, make: scenario.MakeStep = _valid
           ) -> tuple[Case, list[scenario.Event], dict[str, Any]]:
    coverage = scenario.Coverage()
    case, events, _ = scenario.play(uas, "prack", step, make, 0.002, 0.05, coverage, "p",
                                    TARGET, 1, lambda: None)
    return case, events, coverage.as_dict()["prack"]["steps"]


def test_a_reliable_provisional_response_is_pracked() -> None:
    uas = FakeUas(Reliable())
    case, events, steps = _prack(uas, "prack/prack")
    assert events == [] and case.label == "valid"
    assert [_method(m) for m in uas.got] == ["INVITE", "PRACK", "ACK", "BYE"]
    invite = Wire.split(uas.sent("INVITE")[0])
    assert invite.value("require") == b"100rel" and invite.value("supported") == b"100rel"
    prack = Wire.split(uas.sent("PRACK")[0])
    assert prack.value("rack") == b"7 1 INVITE" and prack.value("cseq") == b"2 PRACK"
    assert prack.start == b"PRACK sip:uas@127.0.0.1:5060 SIP/2.0"  # the early remote target
    assert b";tag=uas-1" in (prack.value("to") or b"")
    assert steps == {
        "prack/invite": {"reached": 1, "fuzzed": 0,
                         "responses": {"100": 1, "183": 1, "200": 1}},
        "prack/prack": {"reached": 1, "fuzzed": 1, "responses": {"200": 1}},
        "prack/ack": {"reached": 1, "fuzzed": 0, "responses": {}},
        "prack/bye": {"reached": 1, "fuzzed": 0, "responses": {"200": 1}},
    }
    assert Wire.split(uas.sent("BYE")[0]).value("cseq") == b"3 BYE"


def test_without_100rel_the_flow_ends_at_the_invite() -> None:
    uas = FakeUas(_plain_no_100rel)
    case, _, steps = _prack(uas, "prack/prack")
    assert case.label == "unreached"
    assert [_method(m) for m in uas.got] == ["INVITE", "ACK"]
    assert steps["prack/invite"]["responses"] == {"420": 1}
    assert steps["prack/prack"]["reached"] == 0


def _plain_no_100rel(data: bytes, uas: FakeUas) -> list[bytes]:
    if _method(data) == "INVITE":
        return [uas.answer(data, 420, tag=False)]
    return _plain(data, uas)


def test_a_broken_prack_is_followed_by_a_good_one_and_replays_with_the_new_rseq() -> None:
    def broken(name: str, tx: b.Transaction, routes: tuple[b.Header, ...]) -> Mutation:
        data = write(tx, routes, (), None)
        return Mutation(data.replace(b"Max-Forwards: 70", b"Max-Forwards: 7O"), "byte-flip",
                        data)

    def picky(rseq: int) -> Script:
        reliable = Reliable(rseq)

        def answer(data: bytes, uas: FakeUas) -> list[bytes]:
            if b"Max-Forwards: 7O" in data:
                return [uas.answer(data, 400, tag=False)]
            return reliable(data, uas)

        return answer

    uas = FakeUas(picky(7))
    case, events, steps = _prack(uas, "prack/prack", broken)
    assert events == [] and case.label == "byte-flip"
    assert [_method(m) for m in uas.got] == ["INVITE", "PRACK", "PRACK", "ACK", "BYE"]
    assert steps["prack/prack"]["responses"] == {"400": 1, "200": 1}
    saved = scenario.decode(scenario.encode(case))
    uas2 = FakeUas(picky(42))
    _prack(uas2, "prack/prack", scenario.replayer(saved))
    first = Wire.split(uas2.sent("PRACK")[0])
    assert first.value("max-forwards") == b"7O" and first.value("rack") == b"42 1 INVITE"


def test_the_step_keeps_its_own_headers() -> None:
    from sipstatus._fuzz.cases import step_cases

    dialog = Dialog(LOCAL, TARGET, "s")
    dialog.invite()
    dialog.confirm(OK)
    tx, routes = dialog.in_dialog("PRACK")
    draw = step_cases(3, 0.0)
    for _ in range(5):
        wire = Wire.split(draw(tx, (*routes, b.Header("RAck", "9 1 INVITE"))).data)
        assert [wire.value_at(i) for i in wire.indexes("rack")] == [b"9 1 INVITE"]


def test_every_round_of_cases_breaks_every_step_once() -> None:
    for name, steps in scenario.STEPS.items():
        draw = scenario.steps_of(name, 9)
        for _ in range(3):
            assert sorted(draw() for _ in steps) == sorted(steps)


def _cancelled(data: bytes, uas: FakeUas) -> list[bytes]:
    """A UAS that rings and, once cancelled, answers the CANCEL 200 and the INVITE 487;
    its 487 comes again until the ACK matches the INVITE's transaction (its branch)."""
    method = _method(data)
    if method == "INVITE":
        uas.invite = data  # type: ignore[attr-defined]
        return [uas.answer(data, 180)]
    if method == "CANCEL":
        return [uas.answer(data, 200), uas.answer(uas.invite, 487)]  # type: ignore[attr-defined]
    if method == "ACK" and Wire.split(data).value("via") != Wire.split(
            uas.invite).value("via"):  # type: ignore[attr-defined]
        return [uas.answer(uas.invite, 487)]  # type: ignore[attr-defined]
    return []


def test_the_ack_of_a_487_is_a_step_and_a_broken_one_is_mended() -> None:
    def broken_branch(name: str, tx: b.Transaction, routes: tuple[b.Header, ...]) -> Mutation:
        data = write(tx, routes, (), None)
        return Mutation(data.replace(b";branch=", b";branch=x"), "branch-changed", data)

    uas = FakeUas(_cancelled)
    case, events, coverage = _play(uas, "invite/ack-error", broken_branch)
    assert [_method(m) for m in uas.got] == ["INVITE", "CANCEL", "ACK", "ACK"]
    broken, mended = uas.sent("ACK")
    assert case.data == broken and b";branch=xz9hG4bK" in broken
    invite = Wire.split(uas.got[0])
    for ack in (Wire.split(broken), Wire.split(mended)):
        assert ack.start == invite.start.replace(b"INVITE", b"ACK", 1)
        assert ack.value("cseq") == b"1 ACK"
        assert b";tag=uas-1" in (ack.value("to") or b"")  # the 487's To tag
    assert Wire.split(mended).value("via") == invite.value("via")  # (§17.1.1.3)
    steps = coverage.as_dict()["invite"]["steps"]
    assert steps["invite/ack-error"] == {"reached": 1, "fuzzed": 1, "responses": {}}
    assert steps["invite/invite"]["responses"] == {"180": 1, "487": 1}  # (then closed)
    assert steps["invite/ack"]["reached"] == 0 and steps["invite/bye"]["reached"] == 0
    assert events == []


def test_a_bye_crosses_a_pending_re_invite() -> None:
    def holds_the_re_invite(data: bytes, uas: FakeUas) -> list[bytes]:
        method = _method(data)
        if method == "INVITE" and b";tag=" in (Wire.split(data).value("to") or b""):
            uas.pending = data  # type: ignore[attr-defined]
            return [uas.answer(data, 100, tag=False)]
        if method == "BYE":  # §15.1.2: the pending re-INVITE gets 487
            return [uas.answer(data, 200, tag=False),
                    uas.answer(uas.pending, 487, tag=False)]  # type: ignore[attr-defined]
        return _plain(data, uas)

    uas = FakeUas(holds_the_re_invite)
    case, events, coverage = _play(uas, "invite/bye-crossing")
    assert scenario.preceding("invite/bye-crossing") == ("invite/message", "invite/refer")
    assert [_method(m) for m in uas.got] == ["INVITE", "ACK", "MESSAGE", "REFER", "INVITE",
                                             "BYE", "ACK"]
    re_invite, ack = uas.got[4], uas.got[6]
    assert Wire.split(ack).value("cseq") == Wire.split(re_invite).value("cseq").replace(
        b"INVITE", b"ACK")
    assert Wire.split(ack).value("via") == Wire.split(re_invite).value("via")
    steps = coverage.as_dict()["invite"]["steps"]
    assert steps["invite/bye-crossing"] == {"reached": 1, "fuzzed": 1,
                                            "responses": {"200": 1}}
    assert steps["invite/reinvite"] == {"reached": 1, "fuzzed": 0,
                                        "responses": {"100": 1, "487": 1}}
    assert steps["invite/bye"]["reached"] == 0  # the call is over
    assert case.data == uas.sent("BYE")[0] and events == []


def test_over_tcp_a_closed_connection_is_reopened_to_end_the_call() -> None:
    """A target that closes its TCP connection on the broken request: the flow's BYE goes
    out on a new connection (at most ``MAX_RECONNECTIONS`` a case)."""

    def closes_on_broken(data: bytes, uas: FakeUas) -> list[bytes]:
        if b"X-Broken" in data:
            uas.refused = True  # the peer closed the connection
            return []
        return _plain(data, uas)

    def broken(name: str, tx: b.Transaction, routes: tuple[b.Header, ...]) -> Mutation:
        data = write(tx, (*routes, b.Header("X-Broken", "1")), (), None)
        return Mutation(data, "x-broken", write(tx, routes, (), None))

    first = FakeUas(closes_on_broken)
    first.local = b.Endpoint("TCP", "127.0.0.1", 40001)
    opened: list[FakeUas] = []

    def reopen(closed: Conversation) -> Conversation:
        assert closed is (opened[-1] if opened else first) and closed.refused
        opened.append(FakeUas(closes_on_broken))
        opened[-1].local = first.local
        return opened[-1]

    coverage = scenario.Coverage()
    case, events, _ = scenario.play(first, "invite", "invite/info", broken, 0.002, 0.05,
                                    coverage, "t", TARGET, 1, lambda: None, reopen=reopen)
    assert [_method(m) for m in first.got] == ["INVITE", "ACK", "INVITE", "ACK", "UPDATE",
                                              "INFO"]
    assert len(opened) == 1 and [_method(m) for m in opened[0].got] == ["BYE"]
    report = coverage.as_dict()["invite"]
    assert report["reconnections"] == 1
    assert report["steps"]["invite/bye"]["responses"] == {"200": 1}
    assert [kind for kind, _, _ in case.sequence].count("reconnected") == 1
    assert events == []


def test_over_udp_nothing_is_reopened() -> None:
    calls: list[int] = []

    def reopen(closed: Conversation) -> Conversation:
        calls.append(1)
        return closed

    uas = FakeUas(lambda data, peer: [])
    uas.refused = True  # (an ICMP port unreachable: the target is gone)
    coverage = scenario.Coverage()
    scenario.play(uas, "invite", "invite/bye", _valid, 0.002, 0.01, coverage, "t", TARGET, 1,
                  lambda: None, reopen=reopen)
    assert calls == [] and coverage.as_dict()["invite"]["reconnections"] == 0
