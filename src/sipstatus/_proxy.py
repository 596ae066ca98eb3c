"""The proxy's view: which response a forking proxy sends upstream (RFC 3261 §16.7).

``best_response()`` takes the responses a response context collected, in the order they
arrived, and applies §16.7 steps 5 to 7:

- a 2xx is forwarded at once (step 5), so it wins over anything stored;
- with no final response at all, the proxy sends 408 (step 6);
- a 6xx wins over every other class; the proxy cancels its pending branches (steps 5, 6);
- otherwise the lowest class present is chosen (step 6), and within 4xx a response that
  helps the client resubmit (401, 407, 415, 420, 484) is preferred;
- 503 is not relayed: another 5xx is preferred, and a lone 503 becomes 500 (step 6);
- a chosen 401/407 carries every WWW-/Proxy-Authenticate of all 401/407 responses (step 7);
- a chosen 3xx carries the Contacts of all 3xx responses, each URI once (§16.5, step 6).

"The proxy MAY select any response within that chosen class": where the RFC leaves the choice
open, the earliest response wins, so the result is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from sipstatus._classify import Classification, Target, classify, order_targets
from sipstatus._errors import SipParseError
from sipstatus._message import SipRequest, SipResponse
from sipstatus._values import Challenge, ContactEntry

__all__ = ["ProxyChoice", "best_response"]

# RFC 3261 §16.7 step 6: 4xx responses that carry what the client needs to resubmit.
RESUBMISSION_HINTS = (401, 407, 415, 420, 484)


@dataclass(frozen=True, slots=True)
class ProxyChoice:
    """The response a forking proxy forwards, and why.

    ``code`` is what goes upstream: 408 when nothing final arrived, 500 in place of a 503.
    ``response`` is the chosen input (``None`` when the proxy makes up the response itself)
    and ``index`` its position in the input. ``www_authenticate`` / ``proxy_authenticate``
    are the aggregated challenges of a 401/407 (step 7), ``contacts`` the merged 3xx targets,
    each as written (without modification), in arrival order; ``reasons`` cite each rule that
    decided.
    """

    code: int
    response: Response | None
    index: int | None
    classification: Classification
    reasons: tuple[str, ...]
    www_authenticate: tuple[Challenge, ...] = ()
    proxy_authenticate: tuple[Challenge, ...] = ()
    contacts: tuple[Target, ...] = ()
    cancel_pending: bool = False


Response = int | str | bytes | SipResponse | SipRequest  # a request: TypeError
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class _Entry:
    index: int
    item: Response
    code: int


def _header(entry: _Entry, read: Callable[[SipResponse], tuple[_T, ...]], header: str,
            reasons: list[str]) -> tuple[_T, ...]:
    # Only parsed responses have headers; codes and status lines contribute none.
    if not isinstance(entry.item, SipResponse):
        return ()
    try:
        return read(entry.item)
    except ValueError as exc:  # SipParseError: left out, and said so
        reasons.append(f"{header} of response #{entry.index} ({entry.code}) could not be "
                       f"read and is left out: {exc}")
        return ()


def best_response(responses: Iterable[Response]) -> ProxyChoice:
    """Pick the response a stateful forking proxy forwards (RFC 3261 §16.7 steps 5-7).

    ``responses`` are what the branches returned, in arrival order: parsed responses,
    status lines or bare codes (the last two carry no headers to aggregate).
    """
    items = list(responses)
    classified = [classify(item) for item in items]
    entries = [_Entry(i, item, c.code) for i, (item, c) in enumerate(zip(items, classified,
                                                                         strict=True))]
    reasons: list[str] = []
    provisional = [e for e in entries if e.code < 200]
    finals = [e for e in entries if e.code >= 200]
    if provisional:
        reasons.append(
            f"RFC 3261 §16.7 step 5: {len(provisional)} provisional response(s) are not "
            "candidates (a 100 is never forwarded; other 1xx go upstream at once)")

    if not finals:
        reasons.append("RFC 3261 §16.7 step 6: no final response in the context, "
                       "so the proxy sends 408 (Request Timeout)")
        return ProxyChoice(408, None, None, classify(408), tuple(reasons))

    successes = [e for e in finals if e.code < 300]
    if successes:
        chosen = successes[0]
        reasons.append(f"RFC 3261 §16.7 step 5: a 2xx is forwarded at once; {chosen.code} "
                       "is sent upstream")
        reasons.append("RFC 3261 §16.7 step 10: the proxy cancels its pending branches")
        return _choice(chosen.code, chosen, reasons, cancel=True)

    global_failures = [e for e in finals if e.code >= 600]
    if global_failures:
        chosen = global_failures[0]
        reasons.append(f"RFC 3261 §16.7 step 6: a 6xx wins over every other class; "
                       f"{chosen.code} is chosen")
        reasons.append("RFC 3261 §16.7 step 5: on a 6xx the proxy cancels its pending "
                       "branches and starts no new ones")
        return _choice(chosen.code, chosen, reasons, cancel=True)

    lowest = min(e.code // 100 for e in finals)
    in_class = [e for e in finals if e.code // 100 == lowest]
    reasons.append(f"RFC 3261 §16.7 step 6: no 6xx, so the lowest class present "
                   f"({lowest}xx) is chosen")
    chosen = in_class[0]
    forwarded = chosen.code
    if lowest == 4:
        helpful = [e for e in in_class if e.code in RESUBMISSION_HINTS]
        if helpful:
            chosen, forwarded = helpful[0], helpful[0].code
            reasons.append(f"RFC 3261 §16.7 step 6: within 4xx, {chosen.code} is preferred "
                           "because it helps the client resubmit")
    elif lowest == 5:
        others = [e for e in in_class if e.code != 503]
        if others:
            chosen, forwarded = others[0], others[0].code
            if len(others) < len(in_class):
                reasons.append(f"RFC 3261 §16.7 step 6: {chosen.code} is preferred over 503, "
                               "which a proxy does not relay upstream")
        else:
            forwarded = 500
            reasons.append("RFC 3261 §16.7 step 6: a 503 is not relayed upstream; "
                           "the proxy sends 500 (Server Internal Error) instead")
    return _choice(forwarded, chosen, reasons, finals=finals)


def _choice(forwarded: int, chosen: _Entry, reasons: list[str], *,
            finals: list[_Entry] | None = None, cancel: bool = False) -> ProxyChoice:
    www: tuple[Challenge, ...] = ()
    proxy: tuple[Challenge, ...] = ()
    contacts: tuple[Target, ...] = ()
    if finals is not None and forwarded in (401, 407):
        # Step 7: every challenge of every 401/407, unchanged, in arrival order.
        challengers = [e for e in finals if e.code in (401, 407)]
        www = tuple(c for e in challengers for c in _header(
            e, lambda r: r.www_authenticate, "WWW-Authenticate", reasons))
        proxy = tuple(c for e in challengers for c in _header(
            e, lambda r: r.proxy_authenticate, "Proxy-Authenticate", reasons))
        total = len(www) + len(proxy)
        if total:
            reasons.append(f"RFC 3261 §16.7 step 7: the {forwarded} carries all {total} "
                           f"challenge(s) of the {len(challengers)} 401/407 response(s)")
        else:
            reasons.append(f"RFC 3261 §16.7 step 7: the {forwarded} would carry the challenges "
                           f"of all {len(challengers)} 401/407 response(s), but none came "
                           "with challenges")
    if finals is not None and forwarded // 100 == 3:
        redirects = [e for e in finals if e.code // 100 == 3]
        merged: list[ContactEntry] = [
            c for e in redirects for c in _header(e, lambda r: r.contact, "Contact", reasons)]
        readable: list[ContactEntry] = []
        for contact in merged:
            try:
                _ = contact.uri
            except SipParseError as exc:  # a Contact whose URI cannot be split
                reasons.append(f"a merged Contact could not be read and is left out: {exc}")
            else:
                readable.append(contact)
        contacts = order_targets(readable, None)
        if len(redirects) > 1 or len(contacts) != len(merged):
            reasons.append(
                f"RFC 3261 §16.5, §16.7 step 6: the Contacts of {len(redirects)} 3xx "
                f"response(s) are merged, each URI once: {len(contacts)} target(s)")
    classification = classify(forwarded if forwarded != chosen.code else chosen.item)
    return ProxyChoice(
        code=forwarded,
        response=chosen.item,
        index=chosen.index,
        classification=classification,
        reasons=tuple(reasons),
        www_authenticate=www,
        proxy_authenticate=proxy,
        contacts=contacts,
        cancel_pending=cancel,
    )
