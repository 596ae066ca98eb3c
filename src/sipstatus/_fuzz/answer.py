"""The ``answer`` scenario (``--answer --scenario answer``): sipstatus as the UAS of a call the
target places, well formed but for one step.

One case is one call: the target's INVITE → our 180 (step ``answer/ringing``) → our 200 with
SDP, Contact and a To tag (``answer/ok``), retransmitted over UDP until the ACK (RFC 3261
§13.3.1.4: after T1, 2·T1, ... up to T2 = 8·T1 between sends, given up after 64·T1, when
the call is ended with our BYE) → its ACK → our INFO (``answer/info``) and OPTIONS
(``answer/options``) in the dialog → our 200 to its re-INVITE (``answer/reinvite``, ACKed
like the first) → our 200 to its BYE (``answer/bye``).

* The dialog is the UAS's (§12.1.1): the remote tag is the INVITE's From tag, the remote
  target its Contact, the route set its Record-Route in order; our requests carry the INVITE's
  To URI and our tag in From, its From in To (§12.2.1.1), and CSeq numbers of our own.
* Everything goes back the way the target's messages came: the UDP socket connected to the
  target's address, or the TCP connection its latest request of the call came on. The
  Request-URI names its Contact, but nothing is ever sent there.
* A broken response is followed by the well-formed one unless the target showed it took it
  (an ACK for a broken 2xx); an ACK in the INVITE's own transaction (§17.1.1.3: it read our
  response as a final non-2xx) ends that INVITE there. A broken request that got no 2xx is
  followed by a well-formed one.
* At the steps that are our responses, ``responses`` counts what the target did next, once per
  response sent (the broken one and the well-formed one after it): ``ACK``, ``ACK-non-2xx``,
  ``BYE``, the request answered coming again (``INVITE-again``, ``BYE-again``: it did not
  take the response), another method of the call (``CANCEL``, ...), ``malformed``, or
  ``none`` within ``--reply-wait`` (for a 2xx: until 64·T1). At ``answer/info`` and
  ``answer/options`` they are status codes, as in the other scenarios.
* Findings: ``malformed-reply`` (a message of the call that the strict parser rejects),
  ``server-error-in-dialog`` (a 5xx to our broken INFO or OPTIONS), ``answered-unknown-dialog``
  (a 2xx to one whose Call-ID or tags were broken) and ``cseq-backwards`` (a request of the
  target in the call with a CSeq below its previous one, §12.2.2).

Requests the target sends meanwhile are answered: a retransmission with the well-formed
response its first copy got (§17.2.1, §17.2.2; kept across cases for late ones), other
requests of the call 200, requests of other dialogs 481, an out-of-dialog OPTIONS 200;
INVITEs of further calls get 100 Trying and wait for the next cases; requests of the call
left when it ends get 200 (a BYE while the call was up) or 481.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from sipstatus._fuzz import build as b
from sipstatus._fuzz.dialog import Dialog, adapt, addresses, cseq_number, tag_of, uri_of, write
from sipstatus._fuzz.flow import (
    STEPS,
    At,
    ClientTransaction,
    Coverage,
    Event,
    Flow,
    MakeStep,
    code_of,
    judge_received,
    stepper,
    unknown_dialog,
)
from sipstatus._fuzz.model import (
    CSEQ_BACKWARDS,
    VALID,
    Case,
    Mutation,
)
from sipstatus._fuzz.transport import Endless, Inbox, Reply
from sipstatus._fuzz.wire import Wire, call_id, find_header, status_code, top_via_branch

SCENARIO = "answer"
#: Our requests in the dialog, by step.
REQUESTS = {"answer/info": "INFO", "answer/options": "OPTIONS"}
#: Responses kept (across cases) to answer retransmitted requests.
MAX_ANSWERED = 128

MakeResponse = Callable[[str, bytes], Mutation]
#: A request's transaction as a server matches it (§17.2.3): top branch, Call-ID, CSeq.
Key = tuple[str | None, str | None, bytes | None]


@dataclass(frozen=True, slots=True)
class Makers:
    """What is sent at the case's step: ``request(name, tx, routes)`` for our requests,
    ``response(name, plain)`` for our responses (``plain``: the well-formed one)."""

    request: MakeStep
    response: MakeResponse


def replaying(broken: bytes, original: bytes, label: str) -> Makers:
    """``--replay``: at the saved step, the saved broken message re-aimed at the new call."""

    def request(_name: str, tx: b.Transaction, routes: tuple[b.Header, ...]) -> Mutation:
        new = write(tx, routes, (), None)
        return Mutation(adapt(broken, original, new), label, new)

    def response(_name: str, plain: bytes) -> Mutation:
        return Mutation(adapt(broken, original, plain), label, plain)

    return Makers(request, response)


def key_of(data: bytes) -> Key:
    return top_via_branch(data), call_id(data), find_header(data, "cseq")


class Line:
    """The call's conversation over the inbox: what the target sends, and sends go back the
    way the call's latest request came (the UDP socket connected to the target, or that
    request's TCP connection)."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.local = inbox.local
        self.refused = False
        self.endless: Endless | None = None
        self.reply: Reply | None = None
        self.latest: Reply | None = None  # how to answer the message received last

    def send(self, data: bytes) -> None:
        if self.reply is not None:
            self.reply(data)

    def receive(self, deadline: float) -> bytes | None:
        item = self.inbox.receive(deadline)
        if item is None:
            return None
        self.latest = item[1]
        return item[0]

    def close(self) -> None:
        """The inbox outlives the case."""


@dataclass
class ServerDialog(Dialog):
    """The UAS's dialog (§12.1.1), set up from the target's INVITE."""

    invite_call_id: str = ""
    local_uri: str = ""
    remote_uri: str = ""

    @property
    def call_id(self) -> str:
        return self.invite_call_id

    def from_(self) -> b.Address:
        return b.Address(_as_written(self.local_uri), params=(("tag", self.local_tag),))

    def to(self) -> b.Address:
        remote = b.Address(_as_written(self.remote_uri))
        return remote if self.remote_tag is None else remote.with_tag(self.remote_tag)


def _as_written(uri: str) -> b.SipUri:
    # The target's URI as it wrote it (any scheme, any parameters): SipUri renders
    # ``scheme:host``, so the rest goes in ``host``.
    scheme, _, rest = uri.partition(":")
    return b.SipUri(rest, scheme=scheme)


class AnswerFlow(Flow):
    """One case of the ``answer`` scenario: one call from the target, answered."""

    def __init__(self, line: Line, step: str, makers: Makers, t1: float, patience: float,
                 coverage: Coverage, prefix: str, target: b.Endpoint,
                 pace: Callable[[], None], answered: dict[Key, bytes]) -> None:
        super().__init__(line, SCENARIO, step, t1, patience, coverage, prefix, target, pace)
        self.line = line
        self.makers = makers
        self.now_step = STEPS[SCENARIO][0]  # the INVITE is recorded at the call's first step
        # (branch, Call-ID, CSeq) -> the well-formed response sent, shared between cases
        self.answered = answered
        self.call: ServerDialog | None = None
        self.invite: bytes | None = None
        self.pending: deque[bytes] = deque()  # the call's ACKs, INVITEs and BYEs, in order
        self.held: list[tuple[bytes, Reply]] = []  # INVITEs of further calls
        self.reaction: str | None = None  # what the target did after our latest response
        self.invites: set[str | None] = set()  # top branches of the call's INVITEs
        self.ok_sent: set[str | None] = set()  # ... that got our well-formed 200
        self.declined: set[str | None] = set()  # ... whose response it ACKed as a non-2xx

    # --- what the target sends -----------------------------------------------------------

    def stray(self, data: bytes) -> None:
        """Every message that answers none of our requests: the target's requests."""
        reply = self.line.latest
        if status_code(data) is not None or reply is None:
            return
        wire = Wire.split(data)
        method = wire.method
        cid = call_id(data)
        ours = self.call is not None and cid == self.call.call_id
        if method is None or not wire.terminated:
            if ours:
                self.react("malformed")
            return
        if ours:
            self.line.reply = reply
        again = self.answered.get(key_of(data))
        if again is not None and method != "ACK":  # a retransmission: its answer again
            if ours:
                self.react(f"{method}-again")
            self.send_to(reply, again)
            return
        if self.invite is None and method == "INVITE" and tag_of(wire.value("to")) is None:
            self.adopt(data, reply)
        elif ours:
            self.in_call(data, method)
        elif method == "INVITE" and tag_of(wire.value("to")) is None:
            # A further call waits for its case; 100 Trying stops its retransmissions and
            # tells it so (§17.2.1), each time it comes.
            if all(call_id(held) != cid for held, _ in self.held):
                self.held.append((data, reply))
            trying = self.plain(data, 100)
            if trying is not None:
                self.send_to(reply, trying)
        elif method != "ACK":
            code = 200 if method == "OPTIONS" and tag_of(wire.value("to")) is None else 481
            answer = self.plain(data, code)
            if answer is not None:
                self.send_to(reply, answer)

    def in_call(self, data: bytes, method: str) -> None:
        call = self.call
        assert call is not None
        number = cseq_number(data)
        if method not in ("ACK", "CANCEL") and number is not None:
            last = call.remote_cseq
            if last is not None and number < last:
                self.events.append(Event(CSEQ_BACKWARDS, data,
                                         f"{method} with CSeq {number} after CSeq {last} in "
                                         "the same dialog (RFC 3261 §12.2.2)"))
            call.remote_cseq = max(number, last or 0)
        if method == "INVITE" and key_of(data) == key_of(self.invite or b""):
            return  # the INVITE again, before anything answered it
        branch = top_via_branch(data)
        if method == "ACK" and branch in self.invites - self.ok_sent:
            # In the INVITE's transaction (§17.1.1.3): it took our response for a final
            # non-2xx one. That INVITE failed; nothing more is sent in its transaction.
            self.react("ACK-non-2xx")
            self.declined.add(branch)
            return
        self.react(method)
        if method == "INVITE":
            self.invites.add(branch)
        if method in ("ACK", "INVITE", "BYE"):
            if all(key_of(p) != key_of(data) for p in self.pending):
                self.pending.append(data)
            return
        answer = self.plain(data, 200)  # CANCEL (of an answered INVITE: no effect, §9.2),
        if answer is not None:  # INFO, OPTIONS, UPDATE, ... of the call
            self.answered_with(data, answer)
            self.send(answer)

    def react(self, what: str) -> None:
        if self.reaction is None:
            self.reaction = what

    def adopt(self, invite: bytes, reply: Reply) -> None:
        """The call: the dialog as the UAS sets it up from the INVITE (§12.1.1)."""
        wire = Wire.split(invite)
        self.invite = invite
        self.line.reply = reply
        local = self.line.local
        fallback = b.SipUri(local.host_ref, "service", local.port).render()
        remote = uri_of(wire.value("from") or b"") or fallback
        contacts = addresses(wire.value("contact") or b"")
        routes: list[str] = []
        for index in wire.indexes("record-route"):
            routes += [u for a in addresses(wire.value_at(index)) if (u := uri_of(a))]
        call = ServerDialog(local, self.dialog.target, self.dialog.prefix, cseq=0,
                            remote_tag=tag_of(wire.value("from")),
                            remote_target=(uri_of(contacts[0]) if contacts else None) or remote,
                            route_set=tuple(routes), remote_cseq=cseq_number(invite),
                            invite_call_id=call_id(invite) or "",
                            local_uri=uri_of(wire.value("to") or b"") or fallback,
                            remote_uri=remote)
        self.call = call
        self.dialog = call
        self.invites.add(top_via_branch(invite))

    def send_to(self, reply: Reply, data: bytes) -> None:
        self.note("sent", data)
        self.pace()
        reply(data)

    def take(self, methods: tuple[str, ...]) -> bytes | None:
        for data in self.pending:
            if Wire.split(data).method in methods:
                self.pending.remove(data)
                return data
        return None

    def expect(self, methods: tuple[str, ...], seconds: float) -> bytes | None:
        """The call's next request of one of ``methods`` within ``seconds``."""
        deadline = time.monotonic() + seconds
        while True:
            found = self.take(methods)
            if found is not None or time.monotonic() >= deadline:
                return found
            self.receive(deadline)

    # --- our responses -------------------------------------------------------------------

    def plain(self, request: bytes, code: int) -> bytes | None:
        """Our well-formed response to ``request`` (its Via, From, To, Call-ID, CSeq
        copied, §8.2.6.2); in the call, with our To tag, and to its INVITE with Contact,
        a 200 with SDP."""
        wire = Wire.split(request)
        extra: tuple[b.Header, ...] = (b.Header("Server", "sipstatus-fuzz"),)
        body = None
        ours = self.call is not None and call_id(request) == self.call.call_id
        tag = self.call.local_tag if self.call is not None and ours and code > 100 else None
        if wire.method == "INVITE" and 100 < code < 300 and self.call is not None and ours:
            extra = (b.Header("Contact", self.call.contact().render()), *extra)
            if code == 200:
                body = self.call.sdp(1 if request is self.invite else 2)
        try:
            return b.echo_response(wire, code, b.default_reason(code), tag, extra, body,
                                   b.Style())
        except (ValueError, UnicodeError):
            return None

    def answered_with(self, request: bytes, response: bytes) -> None:
        self.answered[key_of(request)] = response
        while len(self.answered) > MAX_ANSWERED:
            del self.answered[next(iter(self.answered))]

    def respond(self, name: str, request: bytes, plain: bytes) -> bool:
        """Send step ``name``'s response to ``request`` (the drawn one at the case's step);
        True when it is broken."""
        self.answered_with(request, plain)
        self.reaction = None
        if name != self.step or self.mutation is not None:
            self.reach(name)
            self.send(plain)
            return False
        self.now_step = name
        mutation = self.makers.response(name, plain)
        self.note("original", mutation.original)
        self.mutation = mutation
        self.reach(name, mutation)
        self.broken_data = mutation.data
        self.send(mutation.data)
        return mutation.label != VALID

    def count(self, name: str) -> None:
        self.coverage.step(SCENARIO, name).responses[self.reaction or "none"] += 1
        self.reaction = None

    def answer_once(self, name: str, request: bytes, code: int) -> None:
        """A response that nothing acknowledges (180, 200 to BYE): what the target does
        within ``--reply-wait`` is counted; a broken one is followed by the well-formed one
        unless the request came again (then that already went)."""
        plain = self.plain(request, code)
        if plain is None:
            return
        broken = self.respond(name, request, plain)
        self.listen(self.patience)
        again = self.reaction == f"{Wire.split(request).method}-again"
        self.count(name)
        if broken and not again:
            self.send(plain)
            self.listen(self.patience)
            self.count(name)

    def answer_2xx(self, name: str, invite: bytes) -> bytes | None:
        """Our 200 to an INVITE, retransmitted over UDP until the ACK (§13.3.1.4): the ACK,
        a BYE that came instead, or None (no ACK after 64·T1). A broken 200 goes once; without
        an ACK within ``--reply-wait`` the well-formed one follows."""
        plain = self.plain(invite, 200)
        if plain is None:
            return None
        branch = top_via_branch(invite)
        if self.respond(name, invite, plain):
            got = self.acknowledged(invite, self.patience, None)
            self.count(name)
            if got is not None or branch in self.declined:
                return got
            self.send(plain)
        self.ok_sent.add(branch)
        got = self.acknowledged(invite, 64 * self.t1, plain)
        self.count(name)
        return got

    def acknowledged(self, invite: bytes, seconds: float, again: bytes | None) -> bytes | None:
        number = cseq_number(invite)
        udp = self.line.local.transport == "UDP"
        start = time.monotonic()
        end, interval = start + seconds, self.t1
        retransmit = start + interval if again is not None and udp else end
        while top_via_branch(invite) not in self.declined:
            for data in list(self.pending):
                method = Wire.split(data).method
                if method == "BYE" or (method == "ACK" and cseq_number(data) == number):
                    self.pending.remove(data)
                    return data
            now = time.monotonic()
            if now >= end:
                return None
            self.receive(min(end, retransmit))
            if again is not None and time.monotonic() >= retransmit:
                self.send(again, "retransmitted")
                interval = min(2 * interval, 8 * self.t1)  # T2 = 8·T1 (4 s for 500 ms)
                retransmit = time.monotonic() + interval
        return None

    # --- our requests --------------------------------------------------------------------

    def drawn(self, name: str, tx: b.Transaction, routes: tuple[b.Header, ...]) -> Mutation:
        """Our request at the case's step, its original noted in the sequence."""
        mutation = self.makers.request(name, tx, routes)
        self.now_step = name
        self.note("original", mutation.original)
        self.broken_data = mutation.data
        return mutation

    def hung_up(self, _tx: ClientTransaction | None = None) -> bool:
        return (self.call is None or self.call.terminated
                or any(Wire.split(p).method == "BYE" for p in self.pending))

    def ask(self, name: str, at: At) -> None:
        """Our request of step ``name`` in the dialog; a broken one that got no 2xx is
        followed by a well-formed one (the target may still wait for it)."""
        call = self.call
        assert call is not None
        method = REQUESTS[name]
        tx, routes = call.in_dialog(method)
        extra, body = call.body(method)
        data, original, broken = at(name, tx, routes, lambda: write(tx, routes, extra, body))
        transaction = self.transact(data, original, broken=broken, until=self.hung_up)
        self.close(transaction)
        if not broken:
            return
        self.broken_tx = transaction
        final = transaction.final
        if final is not None and 200 <= code_of(final) < 300:
            unknown_dialog(self, data, original, final)
        elif not self.hung_up():
            again, routes = call.in_dialog(method)
            message = write(again, routes, extra, body)
            self.close(self.transact(message, message, until=self.hung_up))

    def finish(self) -> None:
        """Requests of the call still waiting when the case ends get their answer: a BYE
        200 while the call is up, anything else 481 (§12.2.2)."""
        call = self.call
        for data in self.pending:
            method = Wire.split(data).method
            if call is None or method == "ACK":
                continue
            code = 200 if method == "BYE" and not call.terminated else 481
            call.terminated = call.terminated or method == "BYE"
            answer = self.plain(data, code)
            if answer is not None:
                self.answered_with(data, answer)
                self.send(answer)
        self.pending.clear()

    def hang_up(self) -> None:
        """End the call with our BYE (the target never ACKed our 2xx, or never hung up)."""
        call = self.call
        assert call is not None
        tx, routes = call.in_dialog("BYE")
        message = write(tx, routes, (), None)
        counted, self.coverage = self.coverage, Coverage()  # our own BYE is no step
        try:
            self.close(self.transact(message, message))
        finally:
            self.coverage = counted
        call.terminated = True


def play_answer(flow: AnswerFlow, deadline: float) -> bool:
    """The call (module docstring); False when no INVITE came before ``deadline``."""
    while flow.invite is None:
        if time.monotonic() >= deadline:
            return False
        flow.receive(deadline)
    invite, call = flow.invite, flow.call
    assert call is not None
    wait = 64 * flow.t1
    flow.answer_once("answer/ringing", invite, 180)
    if top_via_branch(invite) in flow.declined:
        return True  # it took the 180 for a failure: no call
    got = flow.answer_2xx("answer/ok", invite)
    if got is None:
        if top_via_branch(invite) not in flow.declined:
            flow.hang_up()
        return True
    if Wire.split(got).method == "ACK":
        at = stepper(flow, flow.drawn)
        for name in REQUESTS:
            if not flow.hung_up():
                flow.ask(name, at)
        got = flow.expect(("INVITE", "BYE"), wait)
    if got is not None and Wire.split(got).method == "INVITE":
        reinvite = got
        got = flow.answer_2xx("answer/reinvite", reinvite)
        if got is None and top_via_branch(reinvite) in flow.declined:
            got = flow.expect(("BYE",), wait)  # the re-INVITE failed, the call goes on
        elif got is not None and Wire.split(got).method == "ACK":
            got = flow.expect(("BYE",), wait)
    if got is None:
        flow.hang_up()
        return True
    call.terminated = True
    flow.answer_once("answer/bye", got, 200)
    return True


def judge_answer(flow: AnswerFlow) -> list[Event]:
    """The case's findings (``flow.judge_received``); a 5xx to our broken request is in the
    dialog."""
    return judge_received(flow, flow.call.call_id if flow.call is not None else None, True)


def play(inbox: Inbox, step: str, makers: Makers, t1: float, patience: float,
         coverage: Coverage, prefix: str, target: b.Endpoint, index: int,
         pace: Callable[[], None], answered: dict[Key, bytes],
         deadline: float) -> tuple[Case, list[Event], int] | None:
    """Answer the target's next call, broken at ``step``: the case, its findings (the
    caller probes) and how many messages were drained unjudged; None when no call came
    before ``deadline``. INVITEs of further calls go back to the inbox."""
    flow = AnswerFlow(Line(inbox), step, makers, t1, patience, coverage, prefix, target,
                      pace, answered)
    try:
        if not play_answer(flow, deadline):
            return None
        flow.finish()
    finally:
        for item in flow.held:
            inbox.push_back(item)
    coverage.cases[SCENARIO] += 1
    mutation = flow.mutation
    if mutation is None:
        label, data, original = "unreached", b"", b""
    else:
        label, data, original = mutation.label, mutation.data, mutation.original
    case = Case(index, data, label, scenario=SCENARIO, step=step, original=original,
                sequence=tuple(flow.records))
    return case, judge_answer(flow), flow.drained
