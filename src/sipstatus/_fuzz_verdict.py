"""Judge what a fuzz target sends back: well formed or not, and what kind of answer it is.

A message is well formed when ``sipstatus.parse(data, strict=True)`` accepts it; a response
is then classified with ``classify`` (category and action, RFC 3261 §21).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sipstatus
from sipstatus import SipParseError
from sipstatus._fuzz_wire import status_code


@dataclass(frozen=True, slots=True)
class Verdict:
    """What sipstatus makes of one message from the target."""

    well_formed: bool
    status_code: int | None
    classification: tuple[tuple[str, str], ...] | None
    problem: str | None


def _classify() -> Callable[..., Any]:
    """``sipstatus.classify`` once the package exports it, else its own module's."""
    found: object = getattr(sipstatus, "classify", None)
    if callable(found):
        return found
    from sipstatus._classify import classify

    return classify


def classification(subject: object) -> tuple[tuple[str, str], ...] | None:
    """Code, category and action of a response or status code, or None if it has none."""
    try:
        result = _classify()(subject)
    except (SipParseError, ValueError, TypeError):
        return None
    return (
        ("code", str(result.code)),
        ("category", result.category.name.lower()),
        ("action", str(result.advice.action.value)),
    )


def judge(data: bytes) -> Verdict:
    code = status_code(data)
    try:
        parsed: object = sipstatus.parse(data, strict=True)
        problem = None
    except SipParseError as exc:
        parsed, problem = None, str(exc)
    subject = parsed if isinstance(parsed, sipstatus.SipResponse) else code
    return Verdict(
        well_formed=problem is None,
        status_code=code,
        classification=classification(subject) if code is not None else None,
        problem=problem,
    )


def rejects(data: bytes) -> bool:
    """Whether sipstatus calls ``data`` malformed (a case counts as malformed only if so)."""
    return not judge(data).well_formed
