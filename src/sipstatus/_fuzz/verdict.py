"""Judge what a fuzz target sends back: well formed or not, and what kind of answer it is.

A message is well formed when ``sipstatus.parse(data, strict=True)`` accepts it; a response
is then classified with ``classify`` (category and action, RFC 3261 §21). Only messages of at
most ``MAX_MESSAGE`` bytes are parsed, so the parser's linear time bounds the time spent judging
one (the transport never hands over a longer one; a longer replay file is called malformed
unread).
"""

from __future__ import annotations

from dataclasses import dataclass

from sipstatus._classify import classify
from sipstatus._errors import SipParseError
from sipstatus._fuzz.wire import MAX_MESSAGE, status_code
from sipstatus._message import SipResponse
from sipstatus._parse import parse


@dataclass(frozen=True, slots=True)
class Verdict:
    """What sipstatus makes of one message from the target."""

    well_formed: bool
    status_code: int | None
    classification: tuple[tuple[str, str], ...] | None
    problem: str | None


def classification(subject: SipResponse | int) -> tuple[tuple[str, str], ...] | None:
    """Code, category and action of a response or status code, or None if it has none."""
    try:
        result = classify(subject)
    except (SipParseError, ValueError, TypeError):
        return None
    return (
        ("code", str(result.code)),
        ("category", result.category.name.lower()),
        ("action", str(result.advice.action.value)),
    )


def judge(data: bytes) -> Verdict:
    code = status_code(data)
    parsed: object = None
    if len(data) > MAX_MESSAGE:
        problem: str | None = (f"{len(data)} bytes, more than the {MAX_MESSAGE} bytes judged "
                               "of one message")
    else:
        try:
            parsed, problem = parse(data, strict=True), None
        except SipParseError as exc:
            problem = str(exc)
    found = None
    if code is not None:
        found = classification(parsed if isinstance(parsed, SipResponse) else code)
    return Verdict(
        well_formed=problem is None,
        status_code=code,
        classification=found,
        problem=problem,
    )


def rejects(data: bytes) -> bool:
    """Whether sipstatus calls ``data`` malformed (a case counts as malformed only if so)."""
    return not judge(data).well_formed
