"""Judge what a fuzz target sends back: well formed or not, and what kind of answer it is.

A message is parsed with ``sipstatus.parse(data, strict=True)``; a response is classified with
``sipstatus.classify``. While the parser is not part of the package (it is being written),
a minimal check stands in: a start line as RFC 3261 §7.1/§7.2 writes it, a closed header
section, and a Content-Length that matches the body. ``judge().checked_by`` says which one
decided, and the report carries it.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sipstatus import SipParseError
from sipstatus._fuzz_wire import find_header, status_code

_REQUEST_LINE = re.compile(rb"[A-Za-z0-9.!%*_+`'~-]+ [^ \r\n]+ SIP/2\.0\r\n")
_STATUS_LINE = re.compile(rb"SIP/2\.0 [1-6][0-9][0-9] [^\r\n]*\r\n")


@dataclass(frozen=True, slots=True)
class Verdict:
    """What sipstatus makes of one message from the target."""

    well_formed: bool
    status_code: int | None
    classification: tuple[tuple[str, str], ...] | None
    problem: str | None
    checked_by: str


def _lookup(name: str) -> Callable[..., Any] | None:
    """``sipstatus.<name>`` once the package exports it. ``classify`` falls back to its own
    module, which is complete before the package exports it."""
    found: object = getattr(importlib.import_module("sipstatus"), name, None)
    if found is None and name == "classify":
        found = getattr(importlib.import_module("sipstatus._classify"), name, None)
    return found if callable(found) else None


def checker() -> str:
    """``"sipstatus.parse(strict=True)"`` or ``"minimal status-line check"``."""
    return "sipstatus.parse(strict=True)" if _lookup("parse") else "minimal status-line check"


def _minimal(data: bytes) -> str | None:
    """The stand-in check: returns the problem, or None."""
    if not (_STATUS_LINE.match(data) or _REQUEST_LINE.match(data)):
        return "start line is not 'SIP/2.0 <1xx-6xx> <reason>' or '<method> <uri> SIP/2.0'"
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return "header section not closed by an empty line"
    length = find_header(data[: end + 4], "content-length")
    body = len(data) - end - 4
    if length is not None and (not length.isdigit() or int(length) != body):
        return f"Content-Length {length.decode('latin-1')!r} but {body} body bytes"
    return None


def classification(subject: object) -> tuple[tuple[str, str], ...] | None:
    """Category and action of a response (``classify()``), or None if it cannot be had."""
    classify = _lookup("classify")
    if classify is None:
        return None
    try:
        result = classify(subject)
    except (SipParseError, ValueError, TypeError):
        return None
    category = getattr(result, "category", None)
    advice = getattr(result, "advice", None)
    action = getattr(advice, "action", None)
    pairs = [("code", str(getattr(result, "code", "")))]
    if category is not None:
        pairs.append(("category", str(getattr(category, "name", category)).lower()))
    if action is not None:
        pairs.append(("action", str(getattr(action, "value", action))))
    return tuple(pairs)


def judge(data: bytes) -> Verdict:
    code = status_code(data)
    parse = _lookup("parse")
    if parse is None:
        problem = _minimal(data)
        label = "minimal status-line check"
        parsed: object = None
    else:
        label = "sipstatus.parse(strict=True)"
        try:
            parsed = parse(data, strict=True)
            problem = None
        except SipParseError as exc:
            parsed, problem = None, str(exc)
    subject: object = parsed if parsed is not None and code is not None else code
    return Verdict(
        well_formed=problem is None,
        status_code=code,
        classification=classification(subject) if code is not None else None,
        problem=problem,
        checked_by=label,
    )


def rejects(data: bytes) -> bool:
    """Whether sipstatus calls ``data`` malformed (a case counts as malformed only if so)."""
    return not judge(data).well_formed
