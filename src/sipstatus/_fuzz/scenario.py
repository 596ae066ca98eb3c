"""Stateful fuzzing (``--scenario``): play a real SIP flow well formed up to one step, send a
generated or broken message at that step, then finish the flow or tear it down cleanly.

Scenarios and their steps (docs/fuzzing.md, "Scenarios"):

* ``request``: one request outside any dialog (the default mode, ``run.run_send``);
* ``invite``: INVITE → 1xx/2xx → ACK → one request in the dialog → BYE, as the UAC.
  Each case draws one step of :data:`STEPS` ``["invite"]`` from the seed: ``invite/invite``
  (the INVITE itself), ``invite/cancel`` (CANCEL once a provisional response came),
  ``invite/ack`` (the ACK of the 2xx), ``invite/reinvite``, ``invite/update``,
  ``invite/info``, ``invite/options``, ``invite/message``, ``invite/refer`` (a request in
  the dialog, then BYE) or ``invite/bye``. Every other message of the case is well formed.
* ``register``: REGISTER → 401/407 → REGISTER with Digest credentials (``_fuzz.digest``,
  for the first challenge whose algorithm it computes) → 200 → a refresh (same Call-ID,
  CSeq one higher, the same nonce with the next ``nc``) → the removal (Expires 0). Steps
  ``register/initial``, ``register/auth``, ``register/refresh``, ``register/unregister``; a
  REGISTER challenged again, or broken and not answered 2xx (or 401/407 for the first one),
  is sent once more, well formed and with fresh credentials.
* ``prack``: INVITE requiring 100rel → the first reliable provisional response (RFC 3262)
  PRACKed in the early dialog (``RAck``) → 200 → ACK → BYE. Steps ``prack/invite``,
  ``prack/prack`` (a broken PRACK not answered 2xx is followed by a good one), ``prack/ack``,
  ``prack/bye``.
* ``subscribe`` (``_fuzz.subscribe``): SUBSCRIBE → 2xx → the target's NOTIFYs answered →
  a refresh → the un-SUBSCRIBE (Expires 0), as the subscriber (RFC 6665). Steps
  ``subscribe/subscribe``, ``subscribe/notify`` (our response to the first NOTIFY: the
  step's ``tx`` is a ``build.Answer``, and its message a response), ``subscribe/refresh``,
  ``subscribe/unsubscribe``.
* ``answer`` (``_fuzz.answer``, ``--answer`` only, not part of ``all``; played by
  ``run.run_answer_scenario``): the target's call answered as the UAS: 180, 200 until the
  ACK, our INFO and OPTIONS in the dialog, 200 to its re-INVITE and BYE. Steps
  ``answer/ringing``, ``answer/ok``, ``answer/info``, ``answer/options``,
  ``answer/reinvite``, ``answer/bye``.

Transactions (RFC 3261 §17.1): over UDP a request is retransmitted after T1, 2·T1, 4·T1 ...
(an INVITE until a provisional response comes, Timer A; other requests up to T2 = 8·T1 between
sends, Timer E) and given up after 64·T1 (Timer B/F); over TCP it is sent once and waited
for 64·T1. A broken message that gets no answer at all within ``--reply-wait`` is taken as
dropped (a stack is free to drop what it cannot parse). Requests the target sends meanwhile
are answered (200 to BYE and to requests of the dialog, 481 otherwise), a retransmitted 2xx
to the INVITE is ACKed again.

State findings (besides ``target-dead``, ``malformed-reply`` and ``server-error``):

* ``answered-unknown-dialog``: a 2xx to a broken request whose Call-ID, From tag or To tag is
  not the dialog's (the target answered in a dialog it cannot know);
* ``cseq-backwards``: a request of the target in the dialog with a CSeq below its previous
  one (§12.2.2);
* ``2xx-after-cancel``: a 2xx to the INVITE after the target answered the CANCEL with 200
  (§9.2: a 200 to the CANCEL means the INVITE gets 487);
* ``server-error-in-dialog``: a 5xx to a broken request in the dialog (PRACK included).

A finding keeps the whole sequence of the case (every message sent and received, the broken
one marked with the well-formed message it was made from) in one reproducer file, which
``replay_sequence`` plays against a fresh target: the same flow with new identifiers, the
saved broken message re-aimed at the new dialog (``dialog.adapt``) at the saved step.
"""

from __future__ import annotations

import hashlib
import random
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from sipstatus._errors import SipParseError
from sipstatus._fuzz import build as b
from sipstatus._fuzz.dialog import LOCAL_USER, adapt, adapt_answer, write
from sipstatus._fuzz.digest import Credentials, authorization, supported
from sipstatus._fuzz.flow import (
    IN_DIALOG,
    SCENARIOS,
    STEPS,
    At,
    ClientTransaction,
    Coverage,
    Event,
    Flow,
    MakeStep,
    ack_reinvite,
    acknowledge,
    bye,
    code_of,
    judge_received,
    request,
    stepper,
    unknown_dialog,
)
from sipstatus._fuzz.model import (
    ENDLESS_MESSAGE,
    TWO_XX_AFTER_CANCEL,
    VALID,
    Case,
    Finding,
    Mutation,
)
from sipstatus._fuzz.subscribe import play_subscribe
from sipstatus._fuzz.transport import Conversation
from sipstatus._fuzz.verdict import judge
from sipstatus._fuzz.wire import Wire, status_code
from sipstatus._message import SipResponse
from sipstatus._parse import parse
from sipstatus._values import Challenge

__all__ = ["IN_DIALOG", "SCENARIOS", "STEPS", "Coverage", "Event", "MakeStep"]

#: Expires of the ``register`` scenario's bindings (seconds): short, so that a binding whose
#: removal failed soon lapses by itself.
REGISTER_EXPIRES = 60
#: The first line of a reproducer file of a sequence.
MAGIC = b"SIPSTATUS-SEQUENCE/1"


def play_invite(flow: Flow, make: MakeStep) -> None:
    """The ``invite`` scenario (module docstring): INVITE, ACK, requests in the dialog, BYE;
    the case's step (``flow.step``) gets the message ``make`` draws."""
    step, dialog = flow.step, flow.dialog
    at = stepper(flow, make)
    invite, _ = dialog.invite()
    extra, body = dialog.body("INVITE")
    data, original, broken = at("invite/invite", invite, (),
                                lambda: write(invite, (), extra, body))
    cancelling = step in ("invite/cancel", "invite/ack-error")
    tx = flow.transact(data, original, until_provisional=cancelling, broken=broken)
    if broken:
        flow.broken_tx = tx
    if cancelling and tx.final is None and tx.responses:
        started = time.monotonic()
        cancel, _ = dialog.cancel(invite)
        data, original, broken = at("invite/cancel", cancel, (),
                                    lambda: write(cancel, (), (), None))
        ctx = flow.transact(data, original, broken=broken)
        flow.broken_tx = ctx if broken else None
        flow.wait(tx, original, started=started)
        flow.close(ctx)
        if (code_of(ctx.final) == 200 and 200 <= code_of(tx.final) < 300
                and tx.final_at > ctx.final_at):
            flow.events.append(Event(TWO_XX_AFTER_CANCEL, tx.final,
                                     "the INVITE got a 2xx after its CANCEL got 200 "
                                     "(RFC 3261 §9.2: it should have got 487)"))
    flow.close(tx)
    if not acknowledge(flow, dialog, invite, tx.final, "invite", at):
        return
    if step in IN_DIALOG and step != "invite/bye":
        for name in preceding(step):
            if dialog.confirmed:
                request(flow, name, IN_DIALOG[name], at)
        if step == "invite/bye-crossing":
            crossing_bye(flow, at)
        elif dialog.confirmed:
            request(flow, step, IN_DIALOG[step], at)
    bye(flow, "invite/bye", at)


#: Requests in the dialog played well formed before the one that is broken, at most.
PRECEDING_REQUESTS = 2
_REQUEST_STEPS = tuple(s for s in STEPS["invite"] if IN_DIALOG.get(s, "BYE") != "BYE")


def preceding(step: str) -> tuple[str, ...]:
    """The in-dialog request steps played, well formed, before ``step``'s request: those
    before it in the step order, the last :data:`PRECEDING_REQUESTS` of them (a BYE comes
    after them all). So a broken request meets a dialog whose CSeq has moved on and whose
    session a re-INVITE or UPDATE has changed, not only a fresh one."""
    before = _REQUEST_STEPS if step not in _REQUEST_STEPS else (
        _REQUEST_STEPS[:_REQUEST_STEPS.index(step)])
    return before[len(before) - PRECEDING_REQUESTS:] if before else ()


def crossing_bye(flow: Flow, at: At) -> None:
    """Step ``invite/bye-crossing``: a re-INVITE, and the BYE sent before its final response
    (RFC 3261 §15.1.2: the UAS still answers the pending re-INVITE, 487 recommended). The
    re-INVITE's final response, whatever comes, is ACKed; a broken BYE that did not end the
    call is followed by a well-formed one (step ``invite/bye``)."""
    dialog = flow.dialog
    if not dialog.confirmed:
        return
    tx, routes = dialog.in_dialog("INVITE")
    extra, body = dialog.body("INVITE")
    reinvite = write(tx, routes, extra, body)
    flow.reach("invite/reinvite")
    pending = flow.start(reinvite, reinvite)
    request(flow, "invite/bye-crossing", "BYE", at)
    flow.now_step = "invite/reinvite"
    flow.wait(pending, reinvite)
    flow.close(pending)
    ack_reinvite(flow, tx, pending.final)


# --- prack --------------------------------------------------------------------------------

#: The INVITE of the ``prack`` scenario asks for reliable provisional responses (RFC 3262 §4).
RELIABLE = (b.Header("Supported", "100rel"), b.Header("Require", "100rel"))


def rseq_of(response: bytes) -> int | None:
    """The RSeq of a reliable provisional response (RFC 3262 §7.1: 1xx but 100, ``100rel``
    in Require, an RSeq of 1 to 2**31 - 1), or None."""
    code = status_code(response)
    if code is None or not 101 <= code < 200:
        return None
    wire = Wire.split(response)
    required = b",".join(wire.value_at(i) for i in wire.indexes("require"))
    if b"100rel" not in {part.strip().lower() for part in required.split(b",")}:
        return None
    value = (wire.value("rseq") or b"").strip()
    if not value.isdigit() or len(value) > 10 or not 1 <= int(value) < 2**31:
        return None
    return int(value)


def play_prack(flow: Flow, make: MakeStep) -> None:
    """The ``prack`` scenario (module docstring): INVITE requiring 100rel, PRACK of the first
    reliable provisional response, the 2xx ACKed, BYE."""
    dialog = flow.dialog
    at = stepper(flow, make)
    invite, _ = dialog.invite()
    extra, body = dialog.body("INVITE")
    data, original, broken = at("prack/invite", invite, RELIABLE,
                                lambda: write(invite, RELIABLE, extra, body))
    reliable: list[tuple[bytes, int]] = []

    def reliable_came(tx: ClientTransaction) -> bool:
        for response in tx.responses:
            rseq = rseq_of(response)
            if rseq is not None:
                reliable.append((response, rseq))
                return True
        return False

    tx = flow.transact(data, original, broken=broken, until=reliable_came)
    if broken:
        flow.broken_tx = tx
    if reliable and tx.final is None and dialog.confirm(reliable[0][0]):  # the early dialog
        rseq = reliable[0][1]
        rack = (b.Header("RAck", f"{rseq} {invite.cseq} INVITE"),)
        prack, routes = dialog.in_dialog("PRACK")
        sent, made, bad = at("prack/prack", prack, (*routes, *rack),
                             lambda: write(prack, (*routes, *rack), (), None))
        ptx = flow.transact(sent, made, broken=bad)
        flow.close(ptx)
        if bad:
            flow.broken_tx = ptx
            if 200 <= code_of(ptx.final) < 300:
                unknown_dialog(flow, sent, made, ptx.final or b"")
            else:  # the broken PRACK did not do: the UAS still waits for one
                again, routes = dialog.in_dialog("PRACK")
                message = write(again, (*routes, *rack), (), None)
                flow.close(flow.transact(message, message))
        flow.wait(tx, original)
    flow.close(tx)
    if not acknowledge(flow, dialog, invite, tx.final, "prack", at):
        return
    bye(flow, "prack/bye", at)


# --- register -----------------------------------------------------------------------------


class _Registration:
    """The ``register`` scenario's state: the binding's Call-ID and CSeq (RFC 3261 §10.2:
    one Call-ID, CSeq one higher per REGISTER), the latest Digest challenge and how often its
    nonce was used (``nc``)."""

    def __init__(self, flow: Flow, make: MakeStep) -> None:
        self.flow = flow
        self.make = make
        self.credentials = flow.credentials or Credentials(LOCAL_USER, "")
        self.challenge: tuple[str, Challenge] | None = None
        self.uses = 0
        self.first = True
        target = flow.dialog.target
        self.uri = b.SipUri(target.host_ref, None, target.port).render()
        self.aor = b.SipUri(target.host_ref, self.credentials.username)

    def authorization(self, uri: str) -> tuple[b.Header, ...]:
        if self.challenge is None:
            return ()
        header, challenge = self.challenge
        self.uses += 1
        seed = f"{self.flow.dialog.prefix}:{self.uses}".encode()
        value = authorization(
            self.credentials, method="REGISTER", uri=uri, realm=challenge.realm or "",
            nonce=challenge.nonce or "", algorithm=challenge.algorithm, qop=challenge.qop,
            opaque=challenge.params.get("opaque"), nc=self.uses,
            cnonce=hashlib.sha256(seed).hexdigest()[:16])
        return (b.Header(header, value),)

    def attempt(self, name: str, expires: int, plain: bool = False) -> tuple[int, bool]:
        """One REGISTER of step ``name`` (the step's drawn message unless ``plain``), with
        credentials for the latest challenge: its final status code (0: none) and whether
        the message sent was broken."""
        flow, dialog = self.flow, self.flow.dialog
        if not self.first:
            dialog.cseq += 1
        self.first = False
        local = dialog.local
        params: tuple[tuple[str, str | None], ...] = (
            ("transport", local.transport.lower()),)
        contact = b.Address(b.SipUri(local.host_ref, self.credentials.username, local.port,
                                     params=params),
                            params=(("expires", "0"),) if expires == 0 else ())
        tx = b.Transaction("REGISTER", self.uri, (dialog.via(dialog.branch()),),
                           b.Address(self.aor, params=(("tag", dialog.local_tag),)),
                           b.Address(self.aor), dialog.call_id, dialog.cseq, contact=contact)
        auth = self.authorization(self.uri)
        if name == flow.step and not plain and flow.mutation is None:
            mutation = self.make(name, tx, auth)
            flow.mutation = mutation
            flow.reach(name, mutation)
            data, original = mutation.data, mutation.original
            broken = mutation.label != VALID
        else:
            flow.reach(name)
            data = original = write(tx, auth, (b.Header("Expires", str(expires)),), None)
            broken = False
        transaction = flow.transact(data, original, broken=broken)
        flow.close(transaction)
        if broken:
            flow.broken_tx = transaction
        code = code_of(transaction.final)
        if code in (401, 407) and transaction.final is not None:
            found = challenge_of(transaction.final)
            if found is not None:
                self.challenge, self.uses = found, 0
        return code, broken

    def ensure(self, name: str, expires: int) -> int:
        """Step ``name``; a broken REGISTER that failed, or one challenged again (a new or
        stale nonce), is followed by a well-formed one with fresh credentials."""
        code, broken = self.attempt(name, expires)
        if not 200 <= code < 300 and (broken or code in (401, 407)):
            code, _ = self.attempt(name, expires, plain=True)
        return code


def challenge_of(response: bytes) -> tuple[str, Challenge] | None:
    """The header that answers a 401/407 (Authorization or Proxy-Authorization) and its first
    Digest challenge with an algorithm :mod:`digest` computes, read with the library's
    WWW-/Proxy-Authenticate accessors; None if there is none."""
    code = status_code(response)
    try:
        parsed = parse(response)
        if not isinstance(parsed, SipResponse):
            return None
        if code == 401:
            header, challenges = "Authorization", parsed.www_authenticate
        else:
            header, challenges = "Proxy-Authorization", parsed.proxy_authenticate
    except (SipParseError, ValueError):
        return None
    for challenge in challenges:
        if (challenge.scheme.lower() == "digest" and challenge.nonce is not None
                and supported(challenge.algorithm)):
            return header, challenge
    return None


def play_register(flow: Flow, make: MakeStep) -> None:
    """The ``register`` scenario (module docstring): REGISTER, the challenge answered, a
    refresh, the removal of the binding; the case's step gets the message ``make`` draws."""
    registration = _Registration(flow, make)
    code, broken = registration.attempt("register/initial", REGISTER_EXPIRES)
    if broken and code not in (401, 407) and not 200 <= code < 300:
        code, _ = registration.attempt("register/initial", REGISTER_EXPIRES, plain=True)
    if code in (401, 407) and registration.challenge is not None:
        code = registration.ensure("register/auth", REGISTER_EXPIRES)
    if not 200 <= code < 300:
        return
    registration.ensure("register/refresh", REGISTER_EXPIRES)
    registration.ensure("register/unregister", 0)


PLAYERS: dict[str, Callable[[Flow, MakeStep], None]] = {
    "invite": play_invite, "prack": play_prack, "register": play_register,
    "subscribe": play_subscribe}


def judge_flow(flow: Flow) -> list[Event]:
    """The findings of a finished case of a UAC scenario (``flow.judge_received``)."""
    return judge_received(flow, flow.dialog.call_id, flow.step in IN_DIALOG)


# --- reproducer files --------------------------------------------------------------------

_RECORD = re.compile(rb"([a-z]+) ([a-z/]+) ([0-9]{1,6})\r\n")


def encode(case: Case) -> bytes:
    """A case's sequence as a reproducer file: a first line naming scenario, step and label,
    then one record per message: ``<kind> <step> <length>`` CRLF, the bytes, CRLF. Kinds:
    ``sent``, ``retransmitted``, ``received``, ``original`` (the well-formed message the
    broken one was made from, never sent), ``broken`` and ``reconnected`` (no bytes: a new
    TCP connection)."""
    out = [MAGIC + f" {case.scenario} {case.step} {case.label}\r\n".encode()]
    for kind, step, data in case.sequence:
        out.append(f"{kind} {step} {len(data)}\r\n".encode() + data + b"\r\n")
    return b"".join(out)


@dataclass(frozen=True, slots=True)
class Saved:
    scenario: str
    step: str
    label: str
    original: bytes
    broken: bytes


def decode(data: bytes) -> Saved:
    """Read a reproducer file (ValueError if it is not one)."""
    first, _, rest = data.partition(b"\r\n")
    parts = first.split(b" ")
    if len(parts) != 4 or parts[0] != MAGIC:
        raise ValueError("not a sipstatus sequence file")
    scenario, step, label = (p.decode("ascii", "replace") for p in parts[1:])
    if scenario not in STEPS or step not in STEPS[scenario]:
        raise ValueError(f"unknown scenario or step: {scenario} {step}")
    original = broken = None
    offset = 0
    while offset < len(rest):
        match = _RECORD.match(rest, offset)
        if match is None:
            raise ValueError(f"unreadable record at byte {offset + len(first) + 2}")
        start = match.end()
        end = start + int(match.group(3))
        if rest[end:end + 2] != b"\r\n":
            raise ValueError(f"record at byte {offset + len(first) + 2} is cut short")
        kind = match.group(1)
        if kind == b"original" and original is None:
            original = rest[start:end]
        elif kind == b"broken" and broken is None:
            broken = rest[start:end]
        offset = end + 2
    if original is None or broken is None:
        raise ValueError("the file holds no broken message")
    return Saved(scenario, step, label, original, broken)


def is_sequence(data: bytes) -> bool:
    return data.startswith(MAGIC + b" ")


# --- one case ------------------------------------------------------------------------------


def play(conversation: Conversation, scenario: str, step: str, make: MakeStep, t1: float,
         patience: float, coverage: Coverage, prefix: str, target: b.Endpoint,
         index: int, pace: Callable[[], None], acks: dict[str, bytes] | None = None,
         credentials: Credentials | None = None,
         reopen: Callable[[Conversation], Conversation] | None = None
         ) -> tuple[Case, list[Event], int]:
    """Play one case of ``scenario`` broken at ``step``: the case (with its sequence), what
    was found in it (target-dead excepted: that is the caller's probe) and how many messages
    were drained unjudged. Over TCP, ``reopen`` gives a new connection for the rest of the
    flow when the target closed the one it had (:data:`flow.MAX_RECONNECTIONS` a case)."""
    flow = Flow(conversation, scenario, step, t1, patience, coverage, prefix, target, pace,
                acks, credentials, reopen)
    coverage.cases[scenario] += 1

    def made(name: str, tx: b.Transaction, routes: tuple[b.Header, ...]) -> Mutation:
        mutation = make(name, tx, routes)
        flow.now_step = name
        flow.note("original", mutation.original)
        flow.broken_data = mutation.data
        return mutation

    PLAYERS[scenario](flow, made)
    mutation = flow.mutation
    if mutation is None:  # the step was never reached: the case is the flow's first message
        label, data, original = "unreached", b"", b""
    else:
        label, data, original = mutation.label, mutation.data, mutation.original
    case = Case(index, data, label, scenario=scenario, step=step, original=original,
                sequence=tuple(flow.records))
    events = judge_flow(flow)
    endless = flow.endless or flow.conversation.endless
    if endless is not None:
        events.append(Event(ENDLESS_MESSAGE, endless.sample, endless.detail))
    return case, events, flow.drained


def case_prefix(run: str, index: int) -> str:
    """Call-ID, tags and branches of a case start with this: ``run`` (``run_token``) keeps
    them apart from an earlier run's against the same long-lived target."""
    return f"sipstatus-{run}-{index}"


def run_token(seed: int) -> str:
    return f"{seed}-{secrets.token_hex(4)}"


def replay_prefix() -> str:
    return f"sipstatus-replay-{secrets.token_hex(4)}"


def steps_of(scenario: str, seed: int) -> Callable[[], str]:
    """The steps of successive cases of ``scenario``: each round of as many cases as it has
    steps breaks every step once, in an order drawn from the seed."""
    rng = random.Random(f"sipstatus-steps-{scenario}-{seed}")
    steps = STEPS[scenario]
    order: list[str] = []

    def next_step() -> str:
        if not order:
            order.extend(rng.sample(steps, len(steps)))
        return order.pop()

    return next_step


def replayer(saved: Saved) -> MakeStep:
    """At the saved step, the saved broken message re-aimed at the new flow."""

    def make(name: str, tx: b.Transaction, routes: tuple[b.Header, ...]) -> Mutation:
        if isinstance(tx, b.Answer):  # a response to the target's request (subscribe/notify)
            data = adapt_answer(saved.broken, saved.original, tx.request)
            return Mutation(data, saved.label, adapt_answer(saved.original, saved.original,
                                                            tx.request))
        new = write(tx, routes, (), None)
        return Mutation(adapt(saved.broken, saved.original, new), saved.label, new)

    return make


def finding(case: Case, event: Event) -> Finding:
    verdict = judge(event.reply) if event.reply is not None else None
    return Finding(case, event.kind, event.reply,
                   verdict.classification if verdict is not None else None, event.detail)

