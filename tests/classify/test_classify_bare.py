"""classify() on a bare code: the generic advice for that code, summaries pinned."""

from __future__ import annotations

import random

import pytest

from sipstatus._classify import Action, Backoff, Category, backoff_window, classify
from sipstatus._codes import CODES


def test_fields_of_a_bare_classification() -> None:
    c = classify(486)
    assert c.code == 486
    assert c.category is Category.CLIENT_FAILURE
    assert c.reason == "Busy Here"
    assert c.wire_reason is None
    assert c.known is True
    assert c.is_final is True
    assert c.rfc == "RFC 3261 §21.4.24"
    assert c.meaning == CODES[486].meaning
    a = c.advice
    assert a.action is Action.RETRY_LATER
    assert a.retry_after is None and a.backoff is None
    assert a.targets == () and a.challenges == () and a.warnings == ()
    assert a.summary == "Busy here: retry later or try another location such as voicemail"


@pytest.mark.parametrize(("code", "summary"), [
    (100, "Trying: the next hop has the request; stop retransmitting and wait for a final "
          "response"),
    (180, "Ringing: the callee is being alerted; keep waiting for the final response"),
    (200, "OK: the request succeeded; proceed"),
    (202, "Accepted (deprecated): handle it exactly like 200"),
    (302, "Moved temporarily: retry at the Contact address; cache it only for its expiry"),
    (401, "Unauthorized: resend with credentials for the challenge"),
    (402, "Payment required: handle it as 400 and fix the request before sending it again"),
    (414, "Request-URI too long: resend with a shorter Request-URI"),
    (417, "Unknown resource-priority: resend with a priority the server lists in "
          "Accept-Resource-Priority"),
    (423, "Interval too brief: resend with a longer expiry, at least Min-Expires"),
    (481, "Call/transaction does not exist: the dialog is gone; end it locally (BYE for an "
          "INVITE dialog) and do not retry"),
    (487, "Request terminated: the request was cancelled as asked; nothing to do"),
    (491, "Request pending: wait a random 2.1 to 4 s if you generated the Call-ID, else 0 to "
          "2 s (10 ms steps), then retry once"),
    (503, "Service unavailable: try another server; with no Retry-After, handle it as 500"),
    (504, "Server time-out: retry later or over another route"),
    (603, "Decline: stop; do not try other locations"),
    (431, "Unregistered code 431, handled as 400: fix the request before sending it again"),
    (155, "Unregistered code 155, handled as 183: the call is progressing; handle any early "
          "media and keep waiting"),
])
def test_bare_summaries(code: int, summary: str) -> None:
    assert classify(code).advice.summary == summary


def test_every_known_summary_starts_with_its_phrase() -> None:
    for code, info in CODES.items():
        summary = classify(code).advice.summary
        head, _, body = summary.partition(": ")
        assert head.lower() == info.reason.lower(), code
        # 491 states its RFC 3261 §14.1 window instead of the generic step.
        assert body == info.step or code == 491


@pytest.mark.parametrize(("owns", "window"), [
    (True, (2.1, 4.0)),   # RFC 3261 §14.1: the UAC generated the Call-ID
    (False, (0.0, 2.0)),  # the other side did
    (None, (0.0, 4.0)),   # not said: a window covering both
])
def test_491_backoff_window(owns: bool | None, window: tuple[float, float]) -> None:
    b = classify(491, owns_call_id=owns).advice.backoff
    assert b == Backoff(window[0], window[1], owns)
    assert b == backoff_window(owns)
    assert b.step_seconds == 0.01


def test_491_summary_with_a_known_role() -> None:
    assert classify(491, owns_call_id=True).advice.summary == (
        "Request pending: wait a random 2.1 to 4 s (10 ms steps), then retry once")
    assert classify(491, owns_call_id=False).advice.summary == (
        "Request pending: wait a random 0 to 2 s (10 ms steps), then retry once")


@pytest.mark.parametrize("owns", [True, False])
def test_backoff_draws_stay_in_the_window_in_10_ms_units(owns: bool) -> None:
    b = backoff_window(owns)
    rng = random.Random(3261)
    draws = [b.draw(rng) for _ in range(500)]
    assert all(b.min_seconds <= d <= b.max_seconds for d in draws)
    assert all(abs(d * 100 - round(d * 100)) < 1e-6 for d in draws)
    assert len(set(draws)) > 100  # random, not a constant


def test_backoff_only_for_491() -> None:
    assert all(classify(code).advice.backoff is None for code in CODES if code != 491)
