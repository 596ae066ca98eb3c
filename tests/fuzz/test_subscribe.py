"""The ``subscribe`` scenario (sipstatus as the subscriber, RFC 6665) against a scripted
notifier, without a network: the steps, the NOTIFY before the 2xx, answers to NOTIFY drawn
and replayed, retransmitted NOTIFYs, a CSeq going backwards, a broken refresh mended."""

from __future__ import annotations

import pytest
from test_scenario_units import TARGET, FakeUas

from sipstatus._fuzz import build as b
from sipstatus._fuzz import scenario
from sipstatus._fuzz.cases import step_cases
from sipstatus._fuzz.dialog import tag_of, write
from sipstatus._fuzz.model import Case, Mutation
from sipstatus._fuzz.wire import Wire, status_code, top_via_branch


class Notifier:
    """A notifier: 200 to each SUBSCRIBE, then a NOTIFY (``terminated`` for Expires 0), its
    CSeq counting from ``cseq`` (down, with ``backwards``). ``early`` sends the first NOTIFY
    before the 200; a response with ``7O`` in it (a broken answer) gets the NOTIFY again."""

    def __init__(self, early: bool = False, backwards: bool = False, cseq: int = 100,
                 event: str = "message-summary") -> None:
        self.early, self.backwards, self.cseq, self.event = early, backwards, cseq, event
        self.notifies: list[bytes] = []
        self.last = b""

    def notify(self, subscribe: bytes, uas: FakeUas) -> bytes:
        wire = Wire.split(subscribe)
        self.cseq += -1 if self.backwards else 1
        state = "terminated;reason=timeout" if wire.value("expires") == b"0" else (
            "active;expires=60")
        tx = b.Transaction(
            "NOTIFY", "sip:sipstatus-fuzz@127.0.0.1:40001",
            (b.ViaHop("UDP", "127.0.0.1", 5060, f"z9hG4bK-n{len(self.notifies)}"),),
            b.Address(b.SipUri("127.0.0.1", "service", 5060), params=(("tag", uas.tag),)),
            b.Address(b.SipUri("127.0.0.1", "sipstatus-fuzz", 40001),
                      params=(("tag", tag_of(wire.value("from")) or ""),)),
            (wire.value("call-id") or b"").decode(), self.cseq,
            contact=b.Address(b.SipUri("127.0.0.1", "notifier", 5060)))
        extra = (b.Header("Record-Route", "<sip:p1.example.net;lr>"),
                 b.Header("Event", self.event), b.Header("Subscription-State", state))
        self.last = bytes(b.request(tx, extra, b.message_summary_body(True, 1, 0),
                                    b.Style()))
        self.notifies.append(self.last)
        return self.last

    def __call__(self, data: bytes, uas: FakeUas) -> list[bytes]:
        if data.startswith(b"SIP/"):
            return [self.last] if b"7O" in data else []
        ok = b.echo_response(Wire.split(data), 200, "OK", uas.tag,
                             (b.Header("Contact", "<sip:notifier@127.0.0.1:5060>"),
                              b.Header("Expires", "60")), None, b.Style())
        if self.early and not self.notifies:
            return [self.notify(data, uas), ok]
        return [ok, self.notify(data, uas)]


def _valid(name: str, tx: b.Transaction, routes: tuple[b.Header, ...]) -> Mutation:
    if isinstance(tx, b.Answer):
        data = b.echo_response(Wire.split(tx.request), 200, "OK", None, (), None, b.Style())
    else:
        data = write(tx, routes, (), None)
    return Mutation(data, "valid", data)


def _broken(name: str, tx: b.Transaction, routes: tuple[b.Header, ...]) -> Mutation:
    made = _valid(name, tx, routes)
    return Mutation(made.data.replace(b"SIP/2.0 200", b"SIP/2.0 2O0").replace(
        b"Max-Forwards: 70", b"Max-Forwards: 7O") + b"X-7O: 1\r\n", "byte-flip", made.data)


def _play(uas: FakeUas, step: str, make: scenario.MakeStep = _valid
          ) -> tuple[Case, list[scenario.Event], dict[str, dict[str, object]]]:
    coverage = scenario.Coverage()
    case, events, _ = scenario.play(uas, "subscribe", step, make, 0.002, 0.05, coverage, "s",
                                    TARGET, 1, lambda: None)
    return case, events, coverage.as_dict()["subscribe"]["steps"]


def _kinds(uas: FakeUas) -> list[str]:
    return [m.split(b" ", 2)[1 if m.startswith(b"SIP/") else 0].decode() for m in uas.got]


@pytest.mark.parametrize("early", [False, True])
def test_a_subscription_reaches_every_step(early: bool) -> None:
    notifier = Notifier(early=early)
    uas = FakeUas(notifier)
    case, events, steps = _play(uas, "subscribe/refresh")
    assert events == [] and case.label == "valid"
    assert _kinds(uas) == ["SUBSCRIBE", "200", "SUBSCRIBE", "200", "SUBSCRIBE", "200"]
    assert all(s["reached"] == 1 for s in steps.values())
    assert steps["subscribe/refresh"]["fuzzed"] == 1
    assert steps["subscribe/unsubscribe"]["responses"] == {"200": 1}
    assert steps["subscribe/notify"]["responses"] == {}
    first, refresh, unsubscribe = (Wire.split(m) for m in uas.sent("SUBSCRIBE"))
    assert [w.value("expires") for w in (first, refresh, unsubscribe)] == [b"60", b"60", b"0"]
    assert {w.value("event") for w in (first, refresh, unsubscribe)} == {b"message-summary"}
    assert tag_of(first.value("to")) is None
    assert tag_of(refresh.value("to")) == "uas-1" and refresh.value("cseq") == b"2 SUBSCRIBE"
    # the dialog's remote target and route set: from the NOTIFY (in order) or the 2xx
    assert refresh.start.split(b" ")[1] == (b"sip:notifier@127.0.0.1:5060")
    assert refresh.value("route") == (b"<sip:p1.example.net;lr>" if early else None)
    answers = [m for m in uas.got if m.startswith(b"SIP/")]
    assert [top_via_branch(a) for a in answers] == [top_via_branch(n)
                                                    for n in notifier.notifies]


def test_a_broken_answer_to_the_notify_is_resent_well_formed_and_replays() -> None:
    uas = FakeUas(Notifier())
    case, events, steps = _play(uas, "subscribe/notify", _broken)
    assert events == [] and case.label == "byte-flip"
    assert _kinds(uas) == ["SUBSCRIBE", "2O0", "200", "SUBSCRIBE", "200", "SUBSCRIBE", "200"]
    assert steps["subscribe/notify"] == {"reached": 1, "fuzzed": 1,
                                         "responses": {"resent": 1}}
    assert [kind for kind, step, _ in case.sequence if step == "subscribe/notify"][:3] == [
        "original", "broken", "received"]
    saved = scenario.decode(scenario.encode(case))
    notifier = Notifier(cseq=500)
    uas2 = FakeUas(notifier)
    uas2.tag = "uas-2"
    _play(uas2, "subscribe/notify", scenario.replayer(saved))
    again = Wire.split(next(m for m in uas2.got if m.startswith(b"SIP/2.0 2O0")))
    new = Wire.split(notifier.notifies[0])
    assert again.value("cseq") == b"501 NOTIFY" and again.value("via") == new.value("via")
    assert tag_of(again.value("from")) == "uas-2" and again.body == b"X-7O: 1\r\n"


def test_a_notify_whose_cseq_goes_backwards_is_found() -> None:
    uas = FakeUas(Notifier(backwards=True))
    _, events, _ = _play(uas, "subscribe/subscribe")
    assert [e.kind for e in events] == ["cseq-backwards", "cseq-backwards"]


def test_a_notify_of_another_event_package_gets_481() -> None:
    uas = FakeUas(Notifier(event="presence"))
    _, _, steps = _play(uas, "subscribe/notify")
    assert next(status_code(m) for m in uas.got if m.startswith(b"SIP/")) == 481
    assert steps["subscribe/notify"]["reached"] == 0


def test_a_broken_refresh_not_answered_2xx_is_followed_by_a_good_one() -> None:
    notifier = Notifier()

    def picky(data: bytes, uas: FakeUas) -> list[bytes]:
        if b"Max-Forwards: 7O" in data:
            return [uas.answer(data, 400, tag=False)]
        return notifier(data, uas)

    uas = FakeUas(picky)
    case, events, steps = _play(uas, "subscribe/unsubscribe", _broken)
    assert events == [] and case.label == "byte-flip"
    assert _kinds(uas) == ["SUBSCRIBE", "200", "SUBSCRIBE", "200", "SUBSCRIBE", "SUBSCRIBE",
                           "200"]
    assert steps["subscribe/unsubscribe"]["responses"] == {"400": 1, "200": 1}
    assert b"terminated" in notifier.notifies[-1]


def test_the_step_draws_answers_to_the_notify() -> None:
    subscribe = b.Transaction(
        "SUBSCRIBE", "sip:service@127.0.0.1", (b.ViaHop("UDP", "h", 1, "z9hG4bK-1"),),
        b.Address(b.SipUri("127.0.0.1", "sipstatus-fuzz"), params=(("tag", "a"),)),
        b.Address(b.SipUri("127.0.0.1", "service")), "c@h", 1)
    notify = Notifier().notify(write(subscribe, (), (), None), FakeUas(lambda data, uas: []))
    tx = b.Answer("NOTIFY", "sip:x", (), b.Address(b.SipUri("h")), b.Address(b.SipUri("h")),
                  "c@h", 101, request=notify, local=b.Endpoint("UDP", "127.0.0.1", 40001))
    draw = step_cases(5, 0.5)
    drawn = [draw(tx, ()) for _ in range(6)]
    assert all(m.original.startswith(b"SIP/2.0 ") for m in drawn)
    assert all(Wire.split(m.original).value("cseq") == b"101 NOTIFY" for m in drawn)
    assert {m.label for m in drawn} - {"valid"}
