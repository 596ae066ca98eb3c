"""One case of a stateful scenario as it is played: the conversation with the target, its
client transactions (RFC 3261 §17.1), the dialog, the per-step coverage and the record of every
message; and the steps every flow shares (``stepper``, the ACK of an INVITE's final response, a
request in the dialog, BYE). The scenarios themselves are in :mod:`scenario`."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sipstatus._fuzz import build as b
from sipstatus._fuzz.dialog import Dialog, cseq_number, identifiers, write
from sipstatus._fuzz.digest import Credentials
from sipstatus._fuzz.model import (
    ANSWERED_UNKNOWN_DIALOG,
    CSEQ_BACKWARDS,
    MALFORMED_REPLY,
    SERVER_ERROR,
    SERVER_ERROR_IN_DIALOG,
    VALID,
    Mutation,
)
from sipstatus._fuzz.transport import Conversation, Endless
from sipstatus._fuzz.verdict import judge, rejects
from sipstatus._fuzz.wire import Wire, call_id, cseq_method, status_code, top_via_branch

#: The scenarios and their steps, in the order a flow plays them.
STEPS: dict[str, tuple[str, ...]] = {
    "request": ("request",),
    "invite": ("invite/invite", "invite/cancel", "invite/ack-error", "invite/ack",
               "invite/reinvite", "invite/update", "invite/info", "invite/options",
               "invite/message", "invite/refer", "invite/bye-crossing", "invite/bye"),
    "register": ("register/initial", "register/auth", "register/refresh",
                 "register/unregister"),
    "prack": ("prack/invite", "prack/prack", "prack/ack", "prack/bye"),
    "subscribe": ("subscribe/subscribe", "subscribe/notify", "subscribe/refresh",
                  "subscribe/unsubscribe"),
    "answer": ("answer/ringing", "answer/ok", "answer/info", "answer/options",
               "answer/reinvite", "answer/bye"),
}
#: The scenarios of ``--answer`` (sipstatus as the UAS, :mod:`answer`).
ANSWER_SCENARIOS: tuple[str, ...] = ("answer",)
#: The scenarios that play the UAC (``--scenario all``).
SCENARIOS: tuple[str, ...] = tuple(s for s in STEPS if s not in ANSWER_SCENARIOS)
#: The method of each step that sends a request in the dialog.
IN_DIALOG: dict[str, str] = {
    "invite/reinvite": "INVITE", "invite/update": "UPDATE", "invite/info": "INFO",
    "invite/options": "OPTIONS", "invite/message": "MESSAGE", "invite/refer": "REFER",
    "invite/bye-crossing": "BYE", "invite/bye": "BYE", "prack/prack": "PRACK",
    "prack/bye": "BYE", "subscribe/refresh": "SUBSCRIBE", "subscribe/unsubscribe": "SUBSCRIBE",
}
#: Messages kept in one case's sequence (more are counted, not kept).
MAX_RECORDS = 64
#: Messages from the target judged (and answered) per case; more (a flood) still complete
#: the case's transactions but are otherwise dropped and counted in ``drained``.
MAX_RECEIVED = 64
#: ACKs kept to answer retransmitted final responses of recent calls.
MAX_ACKS = 64
#: Seconds to listen after a message that gets no response (an ACK) for what the target
#: sends next (a retransmitted 2xx, a malformed reply).
ACK_WAIT = 0.05
#: New connections a case may open when the target closed its TCP connection (say, after
#: the broken message), so that the flow still ends cleanly.
MAX_RECONNECTIONS = 2

MakeStep = Callable[[str, b.Transaction, tuple[b.Header, ...]], Mutation]


@dataclass
class StepStats:
    """What happened at one step over a run: how often it was reached (its message sent),
    fuzzed (the case's step), and the responses it got (status codes; ``none`` when a
    transaction got no final response)."""

    reached: int = 0
    fuzzed: int = 0
    responses: Counter[str] = field(default_factory=Counter)


class Coverage:
    """Per scenario: cases, and per step its :class:`StepStats` (report.json ``scenarios``)."""

    def __init__(self) -> None:
        self.cases: Counter[str] = Counter()
        self.reconnections: Counter[str] = Counter()
        self.steps: dict[str, dict[str, StepStats]] = {}

    def step(self, scenario: str, name: str) -> StepStats:
        steps = self.steps.setdefault(scenario, {s: StepStats() for s in STEPS[scenario]})
        return steps[name]

    def as_dict(self) -> dict[str, Any]:
        return {
            scenario: {
                "cases": self.cases[scenario],
                "reconnections": self.reconnections[scenario],
                "steps": {
                    name: {"reached": s.reached, "fuzzed": s.fuzzed,
                           "responses": dict(sorted(s.responses.items()))}
                    for name, s in steps.items()
                },
            }
            for scenario, steps in sorted(self.steps.items())
        }


@dataclass(frozen=True, slots=True)
class Event:
    """Something found during a case, before the case is closed into a :class:`Case`."""

    kind: str
    reply: bytes | None
    detail: str


@dataclass
class ClientTransaction:
    """A client transaction: its matching keys and what came back."""

    branches: frozenset[str]
    methods: frozenset[str]
    step: str
    responses: list[bytes] = field(default_factory=list)
    final: bytes | None = None
    final_at: int = 0  # order of arrival, to tell what came first

    def matches(self, data: bytes) -> bool:
        return (top_via_branch(data) in self.branches
                and (cseq_method(data) or "") in self.methods)


class Flow:
    """One case of a scenario: the conversation with the target, the client transactions,
    the dialog, and the record of every message."""

    def __init__(self, conversation: Conversation, scenario: str, step: str, t1: float,
                 patience: float, coverage: Coverage, prefix: str, target: b.Endpoint,
                 pace: Callable[[], None], acks: dict[str, bytes] | None = None,
                 credentials: Credentials | None = None,
                 reopen: Callable[[Conversation], Conversation] | None = None) -> None:
        self.conversation = conversation
        # Over TCP: closes a conversation the target ended and opens the next one.
        self.reopen = reopen if conversation.local.transport == "TCP" else None
        self.reconnections = 0
        self.endless: Endless | None = None  # a message that did not end, on any connection
        self.credentials = credentials
        self.pace = pace
        self.scenario = scenario
        self.step = step
        self.t1 = t1
        self.patience = patience
        self.coverage = coverage
        self.records: list[tuple[str, str, bytes]] = []
        self.dropped = 0  # messages not kept in the sequence
        self.drained = 0  # messages from the target neither judged nor answered
        self.now_step = step
        self.open: list[ClientTransaction] = []
        self.arrivals = 0
        self.dialog = Dialog(conversation.local, target, prefix)
        # Call-ID -> the ACK of its 2xx, to send again when the 2xx comes again (shared
        # between the cases of a run, so a late retransmission of an earlier call is ACKed)
        self.acks: dict[str, bytes] = {} if acks is None else acks
        # Call-ID -> the well-formed ACK of the INVITE's non-2xx final response, sent again
        # when that response comes again (§17.1.1.2: the transaction is Completed)
        self.error_acks: dict[str, bytes] = {}
        self.events: list[Event] = []
        self.received: list[tuple[str, bytes]] = []
        self.mutation: Mutation | None = None
        self.broken_tx: ClientTransaction | None = None
        self.broken_data: bytes | None = None  # the step's message, recorded as "broken"
        # A scenario's own answers to the target's requests (a subscriber's to NOTIFY): it
        # sees each request first (it may set the dialog up) and the replies it returns, in
        # order, replace the 200/481 below; None leaves the request to them.
        self.answerer: Callable[[Wire], list[bytes] | None] | None = None

    # --- the record --------------------------------------------------------------------

    def note(self, kind: str, data: bytes) -> None:
        if len(self.records) < MAX_RECORDS:
            self.records.append((kind, self.now_step, data))
        else:
            self.dropped += 1

    def send(self, data: bytes, kind: str = "sent") -> None:
        if kind == "sent" and data is self.broken_data:
            kind, self.broken_data = "broken", None
        if (self.conversation.refused and self.reopen is not None
                and self.reconnections < MAX_RECONNECTIONS):
            self.endless = self.endless or self.conversation.endless
            self.conversation = self.reopen(self.conversation)
            self.reconnections += 1
            self.coverage.reconnections[self.scenario] += 1
            self.note("reconnected", b"")
        self.note(kind, data)
        self.pace()
        self.conversation.send(data)

    def reach(self, name: str, broken: Mutation | None = None) -> None:
        self.now_step = name
        stats = self.coverage.step(self.scenario, name)
        stats.reached += 1
        if broken is not None:
            stats.fuzzed += 1

    # --- receiving ------------------------------------------------------------------------

    def receive(self, deadline: float) -> bytes | None:
        data = self.conversation.receive(deadline)
        if data is None:
            return None
        self.arrivals += 1
        flood = len(self.received) >= MAX_RECEIVED
        if flood:
            self.drained += 1
        else:
            self.note("received", data)
            self.received.append((self.now_step, data))
        for tx in self.open:
            if tx.matches(data) and status_code(data) is not None:
                tx.responses.append(data)
                code = status_code(data) or 0
                self.coverage.step(self.scenario, tx.step).responses[str(code)] += 1
                if code >= 200 and tx.final is None:
                    tx.final, tx.final_at = data, self.arrivals
                elif code >= 200 and not flood:
                    self.stray(data)  # a retransmitted final response
                return data
        if not flood:
            self.stray(data)
        return data

    def stray(self, data: bytes) -> None:
        """A message that answers no open transaction: the target's requests are answered,
        a retransmitted 2xx to an INVITE is ACKed again."""
        code = status_code(data)
        if code is not None:
            if cseq_method(data) == "INVITE" and code >= 200:
                acks = self.acks if code < 300 else self.error_acks
                ack = acks.get(call_id(data) or "")
                if ack is not None:
                    self.send(ack)
            return
        wire = Wire.split(data)
        method = wire.method
        if method is None or method == "ACK" or not wire.terminated:
            return
        replies = self.answerer(wire) if self.answerer is not None else None
        cid = call_id(data)
        ours = cid == self.dialog.call_id and self.dialog.remote_tag is not None
        number = cseq_number(data)
        if ours and method != "CANCEL" and number is not None:
            last = self.dialog.remote_cseq
            if last is not None and number < last:
                self.events.append(Event(CSEQ_BACKWARDS, data,
                                         f"{method} with CSeq {number} after CSeq {last} in "
                                         "the same dialog (RFC 3261 §12.2.2)"))
            self.dialog.remote_cseq = max(number, last or 0)
        if ours and method == "BYE":
            self.dialog.terminated = True
        if replies is not None:
            for reply in replies:
                self.send(reply)
            return
        code, reason = (200, "OK") if ours else (481, "Call/Transaction Does Not Exist")
        try:
            reply = b.echo_response(wire, code, reason, None, (), None, b.Style())
        except (ValueError, UnicodeError):
            return
        self.send(reply)

    def listen(self, seconds: float) -> None:
        """Take in what the target sends for ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.receive(deadline) is None:
                break

    # --- transactions -----------------------------------------------------------------

    def transact(self, data: bytes, original: bytes, *, until_provisional: bool = False,
                 broken: bool = False,
                 until: Callable[[ClientTransaction], bool] | None = None) -> ClientTransaction:
        """Run a client transaction (RFC 3261 §17.1): send ``data``, retransmit over UDP,
        until a final response (or, with ``until_provisional``, any response) or Timer B/F."""
        tx = self.start(data, original)
        self.wait(tx, data, until_provisional=until_provisional, broken=broken, until=until)
        return tx

    def start(self, data: bytes, original: bytes) -> ClientTransaction:
        """Open a client transaction and send its request; ``wait`` sees it through."""
        method = Wire.split(original).method or ""
        branches = {top_via_branch(data), top_via_branch(original)}
        methods = {method, cseq_method(data) or method}
        tx = ClientTransaction(frozenset(x for x in branches if x), frozenset(methods),
                               self.now_step)
        self.open.append(tx)
        self.send(data)
        return tx

    def wait(self, tx: ClientTransaction, data: bytes, *, until_provisional: bool = False,
             broken: bool = False, started: float | None = None,
             until: Callable[[ClientTransaction], bool] | None = None) -> None:
        invite = "INVITE" in tx.methods
        udp = self.conversation.local.transport == "UDP"
        start = time.monotonic() if started is None else started
        end = start + 64 * self.t1
        interval, retransmit = self.t1, start + self.t1
        while tx.final is None:
            now = time.monotonic()
            if broken and not tx.responses and now >= start + self.patience:
                break
            if now >= end or self.conversation.refused:
                break
            if until_provisional and tx.responses:
                return
            if until is not None and until(tx):
                return
            deadline = end if not udp else min(end, retransmit)
            if broken and not tx.responses:
                deadline = min(deadline, start + self.patience)
            self.receive(deadline)
            if udp and time.monotonic() >= retransmit and tx.final is None:
                if invite and tx.responses:
                    retransmit = end  # Timer A stops with a provisional response
                else:
                    self.send(data, "retransmitted")
                    interval = 8 * self.t1 if tx.responses else min(2 * interval, 8 * self.t1)
                    retransmit = time.monotonic() + interval
        if tx.final is None and not until_provisional:
            self.coverage.step(self.scenario, tx.step).responses["none"] += 1

    def close(self, tx: ClientTransaction) -> None:
        with contextlib.suppress(ValueError):
            self.open.remove(tx)


def code_of(data: bytes | None) -> int:
    return status_code(data) or 0 if data is not None else 0


At = Callable[[str, b.Transaction, tuple[b.Header, ...], Callable[[], bytes]],
              tuple[bytes, bytes, bool]]


def stepper(flow: Flow, make: MakeStep) -> At:
    """``at(name, tx, headers, plain)``: the message of step ``name`` (sent, original,
    broken?): the one ``make`` draws from ``tx`` and ``headers`` (Route, and what the step
    needs, which the drawn headers do not repeat) at the case's step, else ``plain()``."""

    def at(name: str, tx: b.Transaction, routes: tuple[b.Header, ...],
           plain: Callable[[], bytes]) -> tuple[bytes, bytes, bool]:
        if name != flow.step:
            flow.reach(name)
            message = plain()
            return message, message, False
        mutation = make(name, tx, routes)
        flow.mutation = mutation
        flow.reach(name, mutation)
        return mutation.data, mutation.original, mutation.label != VALID

    return at


def acknowledge(flow: Flow, dialog: Dialog, invite: b.Transaction, final: bytes | None,
                scenario: str, at: At) -> bool:
    """ACK the INVITE's final response: a non-2xx in its transaction (step
    ``<scenario>/ack-error`` where the scenario has it), a 2xx as the dialog's own request
    (step ``<scenario>/ack``). True when the dialog is confirmed."""
    code = code_of(final)
    if final is None or code < 200:
        return False
    if code >= 300:
        name = f"{scenario}/ack-error"
        if name in STEPS[scenario]:
            ack_error(flow, invite, final, name, at)
        else:
            flow.now_step = f"{scenario}/invite"
            ack_error(flow, invite, final)
        return False
    if not dialog.confirm(final):
        return False
    ack, routes = dialog.ack_2xx(invite.cseq)
    data, original, broken = at(f"{scenario}/ack", ack, routes,
                                lambda: write(ack, routes, (), None))
    flow.acks[dialog.call_id] = original
    while len(flow.acks) > MAX_ACKS:
        del flow.acks[next(iter(flow.acks))]
    flow.send(data)
    flow.listen(ACK_WAIT if not broken else max(ACK_WAIT, flow.patience))
    return True


def ack_error(flow: Flow, invite: b.Transaction, final: bytes, name: str | None = None,
              at: At | None = None) -> None:
    """ACK a non-2xx final response to an INVITE in its transaction (§17.1.1.3); as step
    ``name`` when one is given. The well-formed ACK answers the response's retransmissions
    (a broken ACK the target did not match leaves its transaction retransmitting)."""
    ack = flow.dialog.ack_error(invite, final)
    original = write(ack, (), (), None)
    data, broken = original, False
    if name is not None and at is not None:
        data, original, broken = at(name, ack, (), lambda: original)
    flow.error_acks[invite.call_id] = original
    while len(flow.error_acks) > MAX_ACKS:
        del flow.error_acks[next(iter(flow.error_acks))]
    flow.send(data)
    if name is not None and at is not None:
        flow.listen(ACK_WAIT if not broken else max(ACK_WAIT, flow.patience))


def bye(flow: Flow, name: str, at: At) -> None:
    """End the call with a BYE (step ``name``); a broken BYE that did not end it is followed
    by a well-formed one."""
    dialog = flow.dialog
    if not dialog.confirmed:
        return
    request(flow, name, "BYE", at)
    broken = flow.broken_tx if flow.step == name else None
    if broken is not None and not 200 <= code_of(broken.final) < 300 and not dialog.terminated:
        tx, routes = dialog.in_dialog("BYE")
        flow.now_step = name
        message = write(tx, routes, (), None)
        flow.close(flow.transact(message, message))


def request(flow: Flow, name: str, method: str, at: At) -> None:
    """One request in the dialog (the ACK of a 2xx or non-2xx to a re-INVITE included)."""
    dialog = flow.dialog
    tx, routes = dialog.in_dialog(method)
    extra, body = dialog.body(method)
    data, original, broken = at(name, tx, routes, lambda: write(tx, routes, extra, body))
    transaction = flow.transact(data, original, broken=broken)
    flow.close(transaction)
    if broken:
        flow.broken_tx = transaction
    final = transaction.final
    code = code_of(final)
    if method == "BYE" and (200 <= code < 300 or (code == 481 and not broken)):
        dialog.terminated = True  # (a broken BYE's 481 may only mean its tags were broken)
    if method == "INVITE":
        ack_reinvite(flow, tx, final)
    if broken and final is not None and 200 <= code < 300:
        unknown_dialog(flow, data, original, final)


def ack_reinvite(flow: Flow, tx: b.Transaction, final: bytes | None) -> None:
    """ACK the final response to a request ``tx`` sent as a re-INVITE in the dialog."""
    code = code_of(final)
    if final is None or code < 200:
        return
    if code < 300:
        ack, routes = flow.dialog.ack_2xx(tx.cseq)
        flow.send(write(ack, routes, (), None))
    else:
        ack_error(flow, tx, final)


def unknown_dialog(flow: Flow, data: bytes, original: bytes, final: bytes) -> None:
    sent, meant = identifiers(data), identifiers(original)
    names = ("Call-ID", "From tag", "To tag")
    changed = [n for n, s, m in zip(names, sent, meant, strict=True) if s != m]
    if changed:
        flow.events.append(Event(ANSWERED_UNKNOWN_DIALOG, final,
                                 f"a {status_code(final)} to a request whose "
                                 f"{' and '.join(changed)} is not the dialog's"))




def judge_received(flow: Flow, call: str | None, in_dialog: bool) -> list[Event]:
    """The findings of a finished case: its state events, malformed messages from the
    target, and 5xx answers to the broken message (``server-error-in-dialog`` when the
    broken message was sent ``in_dialog``). Messages of other calls than ``call`` (late
    retransmissions for an earlier case) are not judged; the same problem is reported once
    per case."""
    events = list(flow.events)
    mutation = flow.mutation
    broken = mutation is not None and mutation.label != VALID and rejects(mutation.data)
    ours = {call, None}
    if mutation is not None:
        ours.add(call_id(mutation.data))
    tx = flow.broken_tx
    seen: set[tuple[str, str]] = set()
    for _, message in flow.received:
        if call_id(message) not in ours:
            continue
        verdict = judge(message)
        event: Event | None = None
        if not verdict.well_formed:
            detail = verdict.problem or "rejected"
            if broken:
                detail += " (the case is malformed too: the reply may copy it)"
            event = Event(MALFORMED_REPLY, message, detail)
        elif (broken and tx is not None and message in tx.responses
              and verdict.status_code is not None and 500 <= verdict.status_code < 600):
            kind = SERVER_ERROR_IN_DIALOG if in_dialog else SERVER_ERROR
            event = Event(kind, message,
                          f"{verdict.status_code} to a malformed {flow.step} message")
        if event is not None and (event.kind, event.detail) not in seen:
            seen.add((event.kind, event.detail))
            events.append(event)
    return events
