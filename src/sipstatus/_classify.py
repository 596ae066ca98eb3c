"""Classify a SIP response and say what to do next, with the numbers taken from its headers.

``classify()`` takes a bare status code, a status line, a whole response as text, or a parsed
``SipResponse``. The code alone decides the class, the meaning and the kind of next step (a
reason phrase is free text, RFC 3261 §7.2); the response's headers fill in the values that
step needs: how long to wait, where to redirect, which challenges to answer, which limits to
respect. A header that is present but unreadable does not stop the classification: it is
named in ``Advice.unreadable`` and the advice falls back to the generic step.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sipstatus._codes import CODES, Action, Category, CodeInfo, CodeStatus, lookup
from sipstatus._message import SipRequest, SipResponse
from sipstatus._parse import as_bytes, parse_response, parse_status_line
from sipstatus._split import MAX_DELTA
from sipstatus._values import (
    Challenge,
    ContactEntry,
    MediaType,
    Params,
    ReasonValue,
    RetryAfter,
    TokenWithParams,
    Uri,
    WarningValue,
)

__all__ = [
    "CODES",
    "Action",
    "Advice",
    "AuthChallenge",
    "Backoff",
    "Category",
    "Classification",
    "CodeInfo",
    "CodeStatus",
    "Target",
    "backoff_window",
    "classify",
    "lookup",
    "order_targets",
    "target_text",
]


@dataclass(frozen=True, slots=True)
class Target:
    """A redirect target from a Contact value (RFC 3261 §8.1.3.4, §20.10).

    ``expires`` is the Contact's ``expires`` parameter, or else the response's Expires
    header (RFC 3261 §21.3.3); ``None`` means neither was given.
    """

    uri: Uri
    q: float | None
    expires: int | None
    contact: ContactEntry

    def __str__(self) -> str:
        return str(self.uri)


@dataclass(frozen=True, slots=True)
class AuthChallenge:
    """One challenge of a 401/407 and the header it came in (RFC 3261 §22.2, §22.3).

    A WWW-Authenticate challenge is answered in Authorization, a Proxy-Authenticate one in
    Proxy-Authorization; a proxy may have merged both kinds into one response (§16.7 step 7).
    """

    header: str
    challenge: Challenge

    @property
    def scheme(self) -> str:
        return self.challenge.scheme

    @property
    def params(self) -> Params:
        return self.challenge.params

    @property
    def realm(self) -> str | None:
        return self.challenge.realm

    @property
    def qop(self) -> tuple[str, ...]:
        return self.challenge.qop

    @property
    def nonce(self) -> str | None:
        return self.challenge.nonce

    @property
    def algorithm(self) -> str | None:
        return self.challenge.algorithm

    @property
    def stale(self) -> bool:
        return self.challenge.stale

    @property
    def answer_header(self) -> str:
        """The request header that carries the answer."""
        return "Proxy-Authorization" if self.header == "Proxy-Authenticate" else "Authorization"

    def __str__(self) -> str:
        return str(self.challenge)


@dataclass(frozen=True, slots=True)
class Backoff:
    """The random wait before retrying after 491 Request Pending (RFC 3261 §14.1).

    The window depends on who generated the dialog's Call-ID: 2.1 to 4 s for that side, 0 to
    2 s for the other, drawn in units of 10 ms. When the caller did not say
    (``owns_call_id`` is ``None``) the window spans both, 0 to 4 s; pass ``owns_call_id`` to
    classify() for the RFC's exact window.
    """

    min_seconds: float
    max_seconds: float
    owns_call_id: bool | None
    step_seconds: float = 0.01

    def draw(self, rng: random.Random | None = None) -> float:
        """A random wait in the window, a whole number of 10 ms steps."""
        chooser = rng if rng is not None else random.SystemRandom()
        steps = round((self.max_seconds - self.min_seconds) / self.step_seconds)
        return round(self.min_seconds + chooser.randint(0, steps) * self.step_seconds, 2)


def backoff_window(owns_call_id: bool | None) -> Backoff:
    """The RFC 3261 §14.1 window for a UAC that did (or did not) generate the Call-ID."""
    if owns_call_id is None:
        return Backoff(0.0, 4.0, None)
    if owns_call_id:
        return Backoff(2.1, 4.0, True)
    return Backoff(0.0, 2.0, False)


@dataclass(frozen=True, slots=True)
class Advice:
    """The next step and the values it needs, read from the response.

    Values that the response did not carry (or that do not concern this code) are ``None``
    or empty. ``summary`` is one sentence a person can act on.
    """

    action: Action
    summary: str
    retry_after: int | None = None
    backoff: Backoff | None = None
    targets: tuple[Target, ...] = ()
    challenges: tuple[AuthChallenge, ...] = ()
    min_expires: int | None = None
    min_se: int | None = None
    unsupported: tuple[str, ...] = ()
    require: tuple[str, ...] = ()
    accept: tuple[MediaType, ...] = ()
    accept_encoding: tuple[TokenWithParams, ...] = ()
    accept_language: tuple[TokenWithParams, ...] = ()
    allow: tuple[str, ...] = ()
    security_server: tuple[TokenWithParams, ...] = ()
    warnings: tuple[WarningValue, ...] = ()
    reason_header: tuple[ReasonValue, ...] = ()
    unreadable: tuple[str, ...] = ()
    """Headers that were present but could not be read, as ``"Name: error"``."""


@dataclass(frozen=True, slots=True)
class Classification:
    """What a response is and what to do about it."""

    code: int
    category: Category
    reason: str
    wire_reason: str | None
    known: bool
    is_final: bool
    meaning: str
    rfc: str
    advice: Advice
    info: CodeInfo = field(repr=False)

    @property
    def handled_as(self) -> int:
        """The code whose handling applies (RFC 3261 §8.1.3.2 stand-in for unknown codes)."""
        return self.info.handled_as

    @property
    def status(self) -> CodeStatus:
        return self.info.status

    @property
    def summary(self) -> str:
        return self.advice.summary


# --- reading the response -------------------------------------------------------------------

_T = TypeVar("_T")


class _Reader:
    """Reads typed header accessors, turning a parse failure into a note instead of a crash."""

    def __init__(self, response: SipResponse) -> None:
        self.response = response
        self.unreadable: list[str] = []

    def get(self, read: Callable[[SipResponse], _T | None], header: str, default: _T) -> _T:
        try:
            value = read(self.response)
        except ValueError as exc:  # SipParseError is a ValueError
            self.unreadable.append(f"{header}: {exc}")
            return default
        return default if value is None else value


@dataclass(slots=True)
class _Values:
    """The header values gathered for one response, before the summary is written."""

    retry_after: RetryAfter | None = None
    targets: tuple[Target, ...] = ()
    challenges: tuple[AuthChallenge, ...] = ()
    min_expires: int | None = None
    min_se: int | None = None
    unsupported: tuple[str, ...] = ()
    require: tuple[str, ...] = ()
    accept: tuple[MediaType, ...] = ()
    accept_encoding: tuple[TokenWithParams, ...] = ()
    accept_language: tuple[TokenWithParams, ...] = ()
    allow: tuple[str, ...] = ()
    security_server: tuple[TokenWithParams, ...] = ()
    warnings: tuple[WarningValue, ...] = ()
    reason_header: tuple[ReasonValue, ...] = ()


def order_targets(contacts: Sequence[ContactEntry], expires: int | None) -> tuple[Target, ...]:
    """Contact values as redirect targets: each URI once, highest q first.

    RFC 3261 §16.6 orders targets by decreasing q and §8.1.3.4 / §16.5 add each URI only
    once. A Contact without q ranks as q=1 (the top of the scale); equal q keeps wire order.
    A Contact whose q is not an RFC qvalue (``q=7``, ``q=nan``) ranks after every other: its
    sender's preference is unknown. The wildcard ``*`` is not a target.
    """
    seen: set[str] = set()
    targets: list[Target] = []
    for contact in contacts:
        if contact.is_wildcard:
            continue
        key = str(contact.uri)
        if key in seen:
            continue
        seen.add(key)
        targets.append(Target(
            uri=contact.uri,
            q=contact.q,
            expires=contact.expires if contact.expires is not None else expires,
            contact=contact,
        ))
    targets.sort(key=_preference)
    return tuple(targets)


def _preference(target: Target) -> float:
    if target.q is not None:
        return -target.q
    return 1.0 if target.contact.has_invalid_q else -1.0


def _challenges(reader: _Reader, info: CodeInfo) -> tuple[AuthChallenge, ...]:
    # The code's own header first (WWW- for 401, Proxy- for 407), as the table lists them.
    accessors: dict[str, Callable[[SipResponse], tuple[Challenge, ...]]] = {
        "WWW-Authenticate": lambda r: r.www_authenticate,
        "Proxy-Authenticate": lambda r: r.proxy_authenticate,
    }
    found: list[AuthChallenge] = []
    none: tuple[Challenge, ...] = ()
    for header in info.advice_headers:
        values = reader.get(accessors[header], header, none)
        found.extend(AuthChallenge(header, value) for value in values)
    return tuple(found)


def _read_values(reader: _Reader, info: CodeInfo) -> _Values:
    wanted = info.advice_headers
    v = _Values()
    # Retry-After, Warning and Reason are read for every code: the server chose to send them.
    v.retry_after = reader.get(lambda r: r.retry_after, "Retry-After", None)
    if v.retry_after is not None and v.retry_after.seconds > MAX_DELTA:
        # delta-seconds stop at 2**32-1 (RFC 3261 §10.2.1.1): no wait can be advised.
        reader.unreadable.append(f"Retry-After: {v.retry_after.seconds} s is above 2**32-1")
        v.retry_after = None
    v.warnings = reader.get(lambda r: r.warning, "Warning", ())
    v.reason_header = reader.get(lambda r: r.reason_header, "Reason", ())
    if "Contact" in wanted and info.action in (Action.REDIRECT, Action.USER_CHOICE):
        expires = reader.get(lambda r: r.expires, "Expires", None) if "Expires" in wanted else None
        # Contact values are split lazily, so reading their URIs can fail too.
        v.targets = reader.get(lambda r: order_targets(r.contact, expires), "Contact", ())
    if info.action is Action.RETRY_WITH_CREDENTIALS:
        v.challenges = _challenges(reader, info)
    if "Min-Expires" in wanted:
        v.min_expires = reader.get(lambda r: r.min_expires, "Min-Expires", None)
    if "Min-SE" in wanted:
        v.min_se = reader.get(lambda r: r.min_se, "Min-SE", None)
    if "Unsupported" in wanted:
        v.unsupported = reader.get(lambda r: r.unsupported, "Unsupported", ())
    if "Require" in wanted:
        v.require = reader.get(lambda r: r.require, "Require", ())
    if "Accept" in wanted:
        v.accept = reader.get(lambda r: r.accept, "Accept", ())
    if "Accept-Encoding" in wanted:
        v.accept_encoding = reader.get(lambda r: r.accept_encoding, "Accept-Encoding", ())
    if "Accept-Language" in wanted:
        v.accept_language = reader.get(lambda r: r.accept_language, "Accept-Language", ())
    if "Allow" in wanted:
        v.allow = reader.get(lambda r: r.allow, "Allow", ())
    if "Security-Server" in wanted:
        v.security_server = reader.get(lambda r: r.security_server, "Security-Server", ())
    return v


# --- the summary sentence -------------------------------------------------------------------


def _sentence_case(phrase: str) -> str:
    """``"Busy Here"`` -> ``"Busy here"``; acronyms such as URI, SIP, OK stay as they are."""

    def word(w: str, first: bool) -> str:
        parts = []
        for part in w.replace("/", "-/-").split("-"):
            core = part.lstrip("(")
            title = len(core) > 1 and core[0].isupper() and core[1:].rstrip(")").islower()
            parts.append(part.lower() if title and not first else part)
            first = False
        return "-".join(parts).replace("-/-", "/")

    words = phrase.split(" ")
    return " ".join(word(w, i == 0) for i, w in enumerate(words))


def _quote(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'


def _retry_after_note(ra: RetryAfter) -> str:
    parts = ["Retry-After"]
    if ra.comment:
        parts.append(_quote(ra.comment))
    if ra.duration is not None:
        parts.append(f"available for {ra.duration} s")
    return ", ".join(parts)


def target_text(t: Target) -> str:
    """``sip:bob@example.com (q=0.5, valid 3600 s)``: a target as the summary shows it."""
    details = []
    q = t.contact.params.get("q")
    if t.contact.has_invalid_q:
        details.append(f"invalid q={q!r}")
    elif q is not None:
        details.append(f"q={q}")
    if t.expires is not None:
        details.append(f"valid {t.expires} s")
    return f"{t.uri}" + (f" ({', '.join(details)})" if details else "")


def _challenge_text(c: AuthChallenge) -> str:
    text = c.scheme
    if c.realm is not None:
        text += f" realm {_quote(c.realm)}"
    details = []
    if c.algorithm:
        details.append(f"algorithm {c.algorithm}")
    if c.qop:
        details.append(f"qop {', '.join(c.qop)}")
    if c.stale:
        details.append("stale nonce")
    return text + (f" ({'; '.join(details)})" if details else "")


def _token_text(t: TokenWithParams) -> str:
    q = t.params.get("q") if "q" in t.params else None
    return t.value + (f" (q={q})" if q is not None else "")


def _or_list(items: Sequence[str]) -> str:
    return " or ".join(items)


def _missing(header: str, unreadable: Sequence[str]) -> str:
    if any(u.startswith(f"{header}: ") for u in unreadable):
        return f"its {header} could not be read"
    return f"the response gave no {header}"


def _body(info: CodeInfo, v: _Values, backoff: Backoff | None,
          unreadable: Sequence[str] = ()) -> str:
    """The part of the summary after the colon: the step, filled in from the headers."""
    code, action, step = info.handled_as, info.action, info.step
    if backoff is not None:
        if backoff.owns_call_id is None:
            return ("wait a random 2.1 to 4 s if you generated the Call-ID, else 0 to 2 s "
                    "(10 ms steps), then retry once")
        return (f"wait a random {backoff.min_seconds:g} to {backoff.max_seconds:g} s "
                "(10 ms steps), then retry once")
    if action is Action.REDIRECT:
        if not v.targets:
            return "no Contact was given, so there is nowhere to redirect"
        listed = ", then ".join(target_text(t) for t in v.targets)
        if code == 305:
            return f"resend this request through the proxy {listed}"
        if code == 301:
            return f"retry at {listed} and update stored addresses"
        if code == 302:
            text = f"retry at {listed}"
            if all(t.expires is None for t in v.targets):
                text += "; no expiry was given, so use it once and do not cache it"
            return text
        return f"try {listed}"
    if code == 485 and v.targets:
        return ("let the user choose among "
                + ", ".join(target_text(t) for t in v.targets) + "; do not pick automatically")
    if action is Action.RETRY_WITH_CREDENTIALS:
        if not v.challenges:
            return "the response carries no challenge, so there is nothing to answer"
        count = len(v.challenges)
        noun = "challenge" if count == 1 else f"{count} challenges"
        listed = ", ".join(_challenge_text(c) for c in v.challenges)
        return f"answer the {noun} and resend with CSeq+1: {listed}"
    if code == 423:
        if v.min_expires is None:
            return f"{step}; {_missing('Min-Expires', unreadable)}"
        return f"resend with every expiry at least {v.min_expires} s (Min-Expires)"
    if code == 422:
        if v.min_se is None:
            return f"{step}; {_missing('Min-SE', unreadable)}, which RFC 4028 §6 requires"
        return f"resend with Session-Expires and Min-SE of at least {v.min_se} s (Min-SE)"
    if code == 420 and v.unsupported:
        return f"resend without {', '.join(v.unsupported)} (Unsupported)"
    if code == 421 and v.require:
        return (f"resend with {', '.join(v.require)} in Supported, if you implement them "
                "(Require)")
    if code == 415 and (v.accept or v.accept_encoding or v.accept_language):
        parts = []
        if v.accept:
            parts.append(f"{_or_list([str(m) for m in v.accept])} (Accept)")
        if v.accept_encoding:
            parts.append(f"{_or_list([_token_text(t) for t in v.accept_encoding])} "
                         "(Accept-Encoding)")
        if v.accept_language:
            parts.append(f"{_or_list([_token_text(t) for t in v.accept_language])} "
                         "(Accept-Language)")
        return "resend with a body it accepts: " + "; ".join(parts)
    if code == 405 and v.allow:
        return f"use one of {', '.join(v.allow)} (Allow)"
    if code == 494 and v.security_server:
        mechanisms = _or_list([_token_text(t) for t in v.security_server])
        return (f"set up {mechanisms} and resend with Security-Verify echoing the list "
                "(Security-Server)")
    text = step
    if v.allow and code == 501:
        text += f"; it allows {', '.join(v.allow)} (Allow)"
    if v.accept and code in (406, 488, 606):
        text += f"; it accepts {_or_list([str(m) for m in v.accept])} (Accept)"
    return text


def _with_retry_after(info: CodeInfo, body: str, ra: RetryAfter) -> str:
    """Fold Retry-After into the step; its meaning depends on the code (RFC 3261 §20.33)."""
    code, action, seconds, note = info.handled_as, info.action, ra.seconds, _retry_after_note(ra)
    if action is Action.RETRY_LATER:
        return f"retry in {seconds} s ({note})"
    if code == 503:
        return f"try another server and send this one nothing for {seconds} s ({note})"
    if code == 413:
        return f"{body}, or send it unchanged after {seconds} s ({note})"
    if code == 404:
        return f"{body} before {seconds} s have passed ({note})"
    if action is Action.GLOBAL_STOP:
        return f"{body}; the callee expects to be available in {seconds} s ({note})"
    return f"{body}; {note}: {seconds} s"


def _summary(info: CodeInfo, v: _Values | None, backoff: Backoff | None,
             unreadable: Sequence[str] = ()) -> str:
    """One sentence: the phrase, then the step. ``v`` is None for a bare code."""
    if info.known:
        head = _sentence_case(info.reason)
    else:
        head = f"Unregistered code {info.code}, handled as {info.handled_as}"
    if v is None:
        # A bare code: nothing is known of the headers, so the generic step (491 keeps its
        # window, which does not depend on the response).
        return f"{head}: {_body(info, _Values(), backoff) if backoff else info.step}"
    body = _body(info, v, backoff, unreadable)
    if v.retry_after is not None:
        body = _with_retry_after(info, body, v.retry_after)
    if "Warning" in info.advice_headers and v.warnings:
        body += "; " + "; ".join(f"Warning {w.code}: {_quote(w.warn_text)}" for w in v.warnings)
    return f"{head}: {body}"


# --- classify -------------------------------------------------------------------------------


def _from_text(text: bytes) -> tuple[int, str, SipResponse | None]:
    """A status line, or a whole response, given as bytes."""
    head, _, rest = text.partition(b"\n")
    if rest.strip():
        response = parse_response(text)
        return response.status_code, response.reason, response
    status = parse_status_line(head.rstrip(b"\r"))
    return status.status_code, status.reason, None


def classify(x: int | str | bytes | SipResponse | SipRequest, *,
             owns_call_id: bool | None = None) -> Classification:
    """Classify ``x``: a status code, a status line, a whole response, or a parsed response.

    A bare code gets the generic advice for that code; a response gets advice filled in from
    its headers. ``owns_call_id`` says whether this side generated the dialog's Call-ID, which
    sets the 491 back-off window (RFC 3261 §14.1).

    Raises ValueError for a code outside 100-699, SipParseError (a ValueError) for text that
    is not a status line or response, and TypeError for anything else, a request included
    (``SipRequest`` is in the signature only so that ``classify(parse(data))`` type-checks).
    """
    response: SipResponse | None
    wire_reason: str | None
    if isinstance(x, bool):
        raise TypeError("classify() takes a status code, a status line or a response, not bool")
    if isinstance(x, int):
        code, wire_reason, response = x, None, None
    elif isinstance(x, str):
        code, wire_reason, response = _from_text(as_bytes(x))
    elif isinstance(x, bytes | bytearray | memoryview):
        code, wire_reason, response = _from_text(bytes(x))
    elif isinstance(x, SipResponse):
        code, wire_reason, response = x.status_code, x.reason, x
    else:
        raise TypeError(
            f"classify() takes a status code, a status line or a response, "
            f"not {type(x).__name__}")
    info = lookup(code)
    unreadable: tuple[str, ...] = ()
    values = _Values()
    if response is not None:
        reader = _Reader(response)
        values = _read_values(reader, info)
        unreadable = tuple(reader.unreadable)
    backoff = backoff_window(owns_call_id) if info.action is Action.RETRY_AFTER_BACKOFF else None
    advice = Advice(
        action=info.action,
        summary=_summary(info, values if response is not None else None, backoff, unreadable),
        retry_after=values.retry_after.seconds if values.retry_after is not None else None,
        backoff=backoff,
        targets=values.targets,
        challenges=values.challenges,
        min_expires=values.min_expires,
        min_se=values.min_se,
        unsupported=values.unsupported,
        require=values.require,
        accept=values.accept,
        accept_encoding=values.accept_encoding,
        accept_language=values.accept_language,
        allow=values.allow,
        security_server=values.security_server,
        warnings=values.warnings,
        reason_header=values.reason_header,
        unreadable=unreadable,
    )
    return Classification(
        code=code,
        category=info.category,
        reason=info.reason,
        wire_reason=wire_reason,
        known=info.known,
        is_final=info.is_final,
        meaning=info.meaning,
        rfc=info.citation,
        advice=advice,
        info=info,
    )
