"""The ``calls`` rows: each call the scan engine released (``capture/_calls``: outcome, times,
message count, exactly as ``sipstatus scan --calls`` has them), joined by its ``call_key``
with what the lake gathered from the call's messages (caller and callee, the final reason
phrase, the Q.850 cause, who hung up, resends, the captures it spans).

The join is the lake's reduce step: every value here is a function of one call's messages
and the engine's verdict on that call, so calls can be put together wherever their
messages meet.

A call of several legs (``capture/_legs``) is one row: ``call_key`` its first leg's Call-ID,
``call_ids`` its legs in the order first seen. The facts are gathered per leg and joined
(:func:`joined`): caller, callee, final reason, Q.850 cause and who hung up are the first
leg's (as are the engine's outcome and times), each from a later leg only when the first has
none; resends add up; the captures are those of every leg, in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sipstatus.capture._calls import Call

#: What a row gives for a side of the call when it knows nothing of it.
UNKNOWN = ""


def party(user: str, host: str) -> str:
    """``user@host``, or whichever of the two is known."""
    return f"{user}@{host}" if user and host else user or host


@dataclass(slots=True)
class CallFacts:
    """What the messages of one call say beyond the engine's ``Call`` (mutable while the
    call is alive, like ``Call`` itself)."""

    caller: str
    callee: str
    caller_tag: str  # the From tag of the call's first INVITE: the caller's side
    final_reasons: dict[int, str] = field(default_factory=dict)  # INVITE final code -> phrase
    q850_cause: int | None = None
    bye_tag: str | None = None  # the From tag of the first BYE: who hung up
    resends: int = 0
    captures: list[str] = field(default_factory=list)

    def add(self, capture: str, resend: bool, method: str, status_code: int,
            cseq_method: str, reason: str, from_tag: str, q850_cause: int | None) -> None:
        """Take in one message of the call."""
        if resend:
            self.resends += 1
        captures = self.captures
        if not captures or (captures[-1] != capture and capture not in captures):
            captures.append(capture)
        if self.q850_cause is None and q850_cause is not None:
            self.q850_cause = q850_cause
        if method == "BYE":
            if self.bye_tag is None:
                self.bye_tag = from_tag
        elif status_code >= 200 and cseq_method == "INVITE":
            self.final_reasons.setdefault(status_code, reason)


def joined(legs: list[CallFacts | None]) -> CallFacts | None:
    """The facts of a call of several legs, from those of its legs (the first seen first)."""
    known = [facts for facts in legs if facts is not None]
    if not known:
        return None
    first = legs[0] or CallFacts(UNKNOWN, UNKNOWN, UNKNOWN)
    call = CallFacts(first.caller, first.callee, first.caller_tag,
                     dict(first.final_reasons), first.q850_cause, first.bye_tag)
    for facts in known:
        call.resends += facts.resends
        for capture in facts.captures:
            if capture not in call.captures:
                call.captures.append(capture)
        if call.q850_cause is None:
            call.q850_cause = facts.q850_cause
    return call


def _micros(ns: int | None) -> int | None:
    return None if ns is None else ns // 1000


def call_values(call: Call, facts: CallFacts | None) -> tuple[object, ...]:
    """One ``calls`` row, in the order of the schema's columns."""
    if facts is None:  # a call the lake saw no message of (cannot happen in one process)
        facts = CallFacts(UNKNOWN, UNKNOWN, UNKNOWN)
    code = call.final_code
    ended_by = None
    if call.ended:
        ended_by = "caller" if facts.bye_tag == facts.caller_tag else "callee"
    setup = call.setup_ms
    duration = call.duration_ms
    indicative = call.indicative_ns
    return (
        call.call_id, list(call.call_ids), facts.caller, facts.callee,
        _micros(call.start_ns), _micros(call.invite_ns), _micros(call.answered_ns),
        _micros(call.last_ns), call.outcome(), code or None,
        facts.final_reasons.get(code, "") if code else "", facts.q850_cause, ended_by,
        round((indicative - call.start_ns) / 1e6, 3) if indicative is not None else None,
        round(setup, 3) if setup is not None else None,
        round(duration / 1000, 6) if duration is not None else None,
        call.messages, facts.resends, list(facts.captures),
    )
