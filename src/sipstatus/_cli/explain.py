"""``sipstatus explain`` (one response, code or status line) and ``sipstatus codes`` (the table).

Exit statuses follow ``_cli``: 0 done, 1 the input had a problem, 2 usage.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import re
import sys
from typing import Any

from sipstatus._classify import Advice, Classification, classify, target_text
from sipstatus._cli.textio import InputError, Utf8Out, clean, read_input
from sipstatus._codes import CODES, Category, CodeInfo
from sipstatus._parse import DEFAULT_LIMITS

__all__ = ["classification_to_dict", "register"]


def register(subparsers: Any) -> None:
    """Add the ``explain`` and ``codes`` sub-commands."""
    explain = subparsers.add_parser(
        "explain",
        help="say what a SIP response means and what to do next",
        description=(
            "Classify a SIP response and give next-step advice, with values taken from its "
            "headers. INPUT is a status code (486), a status line (\"SIP/2.0 486 Busy Here\"), "
            "a file holding a whole response, or - for standard input."
        ),
    )
    explain.add_argument("input", metavar="INPUT", help="CODE, \"STATUS LINE\", FILE or -")
    explain.add_argument("--json", action="store_true", help="print JSON for machines")
    explain.add_argument(
        "--owns-call-id", action=argparse.BooleanOptionalAction, default=None,
        help="this side generated the dialog's Call-ID (sets the 491 back-off window, "
             "RFC 3261 §14.1)")
    explain.set_defaults(func=run_explain)

    codes = subparsers.add_parser(
        "codes",
        help="list the SIP response codes",
        description="Print the table of SIP response codes with the RFC defining each.",
    )
    codes.add_argument(
        "--class", dest="klass", metavar="CLASS", type=_category_arg,
        help="only this class: 1-6, 4xx, or a name such as client-failure")
    codes.add_argument("--json", action="store_true", help="print JSON for machines")
    codes.set_defaults(func=run_codes)


# --- explain --------------------------------------------------------------------------------


#: The most that ``explain`` reads from a file or standard input: one message of the
#: default size limit (65,535 octets, RFC 3261 §18.1.1).
MAX_INPUT = DEFAULT_LIMITS.max_message_size or 65_535
_WHY = "the message-size limit, RFC 3261 §18.1.1"
# Text that starts like a Status-Line ("SIP/2.0 486 ..."): never taken for a path.
_STATUS_LINE_START = re.compile(r"[ \t]*SIP/[0-9]+\.[0-9]+(?:[ \t]|$)", re.IGNORECASE)
# File name endings that say "this is a file", even with spaces in the name.
_FILE_SUFFIXES = (".sip", ".txt", ".msg", ".raw", ".log", ".eml", ".bin", ".dat")


def _read_input(text: str) -> int | bytes:
    """A code, or the bytes of a status line or response (from a file, stdin or the text).

    In this order: ``-`` is standard input; digits are a code; an existing path is read as a
    file (anything but a directory: a FIFO or ``<(...)`` too); a path that is not there is
    a usage error when the text looks like one (a ``/`` and no white space, or a file
    ending such as ``.sip``), and is otherwise the status line or response it spells.
    """
    if text == "-":
        return read_input(text, MAX_INPUT, _WHY)
    if text.strip().isdigit():
        return int(text.strip())
    if "\n" not in text and "\r" not in text and text.strip():
        try:
            is_dir = os.path.isdir(text) if os.path.exists(text) else None
        except (OSError, ValueError):  # a name too long for a path, say: not a file
            is_dir = None
        if is_dir is True:
            raise InputError(f"{os.strerror(errno.EISDIR)}: {text}", 2)
        if is_dir is False:
            return read_input(text, MAX_INPUT, _WHY)
        if _looks_like_a_path(text):
            raise InputError(f"{os.strerror(errno.ENOENT)}: {text}", 2)
    return text.encode("utf-8", "surrogateescape")


def _looks_like_a_path(text: str) -> bool:
    if _STATUS_LINE_START.match(text):
        return False
    has_separator = "/" in text or os.sep in text
    return (has_separator and not any(c.isspace() for c in text)) or (
        text.rstrip().lower().endswith(_FILE_SUFFIXES))


def run_explain(args: argparse.Namespace) -> int:
    try:
        source = _read_input(args.input)
        result = classify(source, owns_call_id=args.owns_call_id)
    except InputError as exc:
        print(f"sipstatus explain: {exc}", file=sys.stderr)
        return exc.status
    except ValueError as exc:  # SipParseError is a ValueError
        print(f"sipstatus explain: {exc}", file=sys.stderr)
        return 1
    out = Utf8Out()
    if args.json:
        out.write(json.dumps(clean(classification_to_dict(result)), ensure_ascii=False,
                             indent=2, allow_nan=False) + "\n")
    else:
        out.write(render(result))
    out.flush()
    return 0


def _title(c: Classification) -> str:
    if c.known:
        return f"{c.code} {c.reason}"
    return f"{c.code} (unregistered; handled as {c.handled_as} {c.reason})"


def render(c: Classification) -> str:
    """The classification as a person reads it, one field per line."""
    a = c.advice
    rows: list[tuple[str, str]] = []
    if c.wire_reason is not None and c.wire_reason != c.reason:
        rows.append(("wire reason", repr(c.wire_reason)))
    rows.append(("class", f"{c.category.label}, {'final' if c.is_final else 'provisional'}"))
    rows.append(("defined in", f"{c.rfc} ({c.status})"))
    rows.append(("meaning", c.meaning))
    rows.append(("action", str(a.action)))
    rows.extend(_advice_rows(a))
    rows.append(("summary", a.summary))
    rows.append(("advice", c.info.advice))
    width = max(len(name) for name, _ in rows)
    lines = [_title(c)]
    lines.extend(f"  {name + ':':<{width + 1}} {value}" for name, value in rows)
    return "\n".join(lines) + "\n"


def _advice_rows(a: Advice) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    if a.retry_after is not None:
        rows.append(("retry after", f"{a.retry_after} s"))
    if a.backoff is not None:
        b = a.backoff
        rows.append(("back-off", f"{b.min_seconds:g} to {b.max_seconds:g} s, 10 ms steps"))
    rows.extend(("target", target_text(t)) for t in a.targets)
    rows.extend((c.header.lower(), str(c.challenge)) for c in a.challenges)
    if a.min_expires is not None:
        rows.append(("min-expires", f"{a.min_expires} s"))
    if a.min_se is not None:
        rows.append(("min-se", f"{a.min_se} s"))
    for name, values in (
        ("unsupported", a.unsupported), ("require", a.require), ("allow", a.allow),
        ("accept", tuple(str(v) for v in a.accept)),
        ("accept-encoding", tuple(str(v) for v in a.accept_encoding)),
        ("accept-language", tuple(str(v) for v in a.accept_language)),
        ("security-server", tuple(str(v) for v in a.security_server)),
    ):
        if values:
            rows.append((name, ", ".join(values)))
    rows.extend(("warning", str(w)) for w in a.warnings)
    rows.extend(("reason header", str(r)) for r in a.reason_header)
    rows.extend(("unreadable", u) for u in a.unreadable)
    return rows


def classification_to_dict(c: Classification) -> dict[str, Any]:
    """A JSON-ready dict of everything in the classification."""
    a = c.advice
    return {
        "code": c.code,
        "reason": c.reason,
        "wire_reason": c.wire_reason,
        "category": c.category.name.lower(),
        "class": c.category.value,
        "final": c.is_final,
        "known": c.known,
        "handled_as": c.handled_as,
        "status": str(c.status),
        "rfc": c.rfc,
        "meaning": c.meaning,
        "advice": {
            "action": str(a.action),
            "summary": a.summary,
            "text": c.info.advice,
            "retry_after": a.retry_after,
            "backoff": None if a.backoff is None else {
                "min_seconds": a.backoff.min_seconds,
                "max_seconds": a.backoff.max_seconds,
                "owns_call_id": a.backoff.owns_call_id,
            },
            "targets": [
                {"uri": str(t.uri), "q": t.q, "expires": t.expires} for t in a.targets],
            "challenges": [
                {"header": ch.header, "scheme": ch.scheme, "realm": ch.realm,
                 "qop": list(ch.qop), "params": dict(ch.params.pairs())}
                for ch in a.challenges],
            "min_expires": a.min_expires,
            "min_se": a.min_se,
            "unsupported": list(a.unsupported),
            "require": list(a.require),
            "accept": [str(m) for m in a.accept],
            "accept_encoding": [str(t) for t in a.accept_encoding],
            "accept_language": [str(t) for t in a.accept_language],
            "allow": list(a.allow),
            "security_server": [str(t) for t in a.security_server],
            "warnings": [
                {"code": w.code, "agent": w.agent, "text": w.warn_text} for w in a.warnings],
            "reason_header": [
                {"protocol": r.protocol, "cause": r.cause, "text": r.reason_text}
                for r in a.reason_header],
            "unreadable": list(a.unreadable),
        },
    }


# --- codes ----------------------------------------------------------------------------------


def _category_arg(text: str) -> Category:
    """``4``, ``4xx``, ``client-failure`` or ``CLIENT_FAILURE`` -> Category.CLIENT_FAILURE."""
    value = text.strip().lower().removesuffix("xx")
    if value.isdigit() and 1 <= int(value) <= 6:
        return Category(int(value))
    name = value.replace("-", "_").upper()
    if name in Category.__members__:
        return Category[name]
    choices = ", ".join(c.name.lower().replace("_", "-") for c in Category)
    raise argparse.ArgumentTypeError(f"not a class: {text!r} (use 1-6, 4xx, or {choices})")


def _code_row(info: CodeInfo) -> dict[str, Any]:
    return {
        "code": info.code,
        "reason": info.reason,
        "class": info.category.value,
        "category": info.category.name.lower(),
        "final": info.is_final,
        "status": str(info.status),
        "rfc": info.citation,
        "action": str(info.action),
        "handled_as": info.handled_as,
        "meaning": info.meaning,
    }


def run_codes(args: argparse.Namespace) -> int:
    infos = [i for i in CODES.values() if args.klass is None or i.category is args.klass]
    out = Utf8Out()
    if args.json:
        out.write(json.dumps([_code_row(i) for i in infos], ensure_ascii=False, indent=2)
                  + "\n")
        out.flush()
        return 0
    width = max(len(i.reason) for i in infos)
    current = None
    for info in infos:
        if info.category is not current:
            if current is not None:
                out.write("\n")
            current = info.category
            out.write(f"{current.label}\n")
        note = "" if info.status == "current" else f"  [{info.status}]"
        out.write(f"  {info.code}  {info.reason:<{width}}  {info.citation}{note}\n")
    out.flush()
    return 0
