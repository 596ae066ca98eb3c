"""Reading start lines: the Status-Line (RFC 3261 §7.2) and the Request-Line (§7.1).

Strict reading accepts what the grammar's ``status_line`` / ``request_line`` rules accept
(through their compiled regexes, with Lark describing any fault); lenient reading also
accepts extra white space and other versions, and records each tolerated fault.
"""

from __future__ import annotations

import re

from sipstatus._base import people_text
from sipstatus._errors import error_at
from sipstatus._grammar import lark_fault
from sipstatus._rule_regex import rule_regex, terminal_regex

STATUS_RULE = "Status-Line (RFC 3261 §7.2)"
REQUEST_RULE = "Request-Line (RFC 3261 §7.1)"
_VERSION = re.compile(r"SIP/[0-9]+\.[0-9]+", re.I)
_CODE = re.compile(r"[0-9]{3}")


_STATUS = re.compile(r"(SIP/2\.0) ([1-6][0-9][0-9]) (.*)", re.S)


def status_line(line: str, data: bytes, offset: int, *, strict: bool,
                 defects: list[str]) -> tuple[str, int, str]:
    match = _STATUS.fullmatch(line)
    if match is not None and (not strict or rule_regex("status_line").fullmatch(line + "\r\n")):
        reason = match.group(3)
        return "SIP/2.0", int(match.group(2)), reason if reason.isascii() else (
            people_text(reason))
    if strict:
        text = line + "\r\n"
        if not rule_regex("status_line").fullmatch(text):
            _raise_from_lark(text, "status_line", data, offset, STATUS_RULE)
        version, code, reason = line.split(" ", 2)
    else:
        parts = line.split(" ", 2)
        if len(parts) == 3 and _VERSION.fullmatch(parts[0]) and _CODE.fullmatch(parts[1]):
            version, code, reason = parts
        else:
            words = line.split(None, 2)
            if len(words) < 2 or not _VERSION.fullmatch(words[0]):
                _raise_from_lark(line + "\r\n", "status_line", data, offset, STATUS_RULE)
            version, code = words[0], words[1]
            reason = words[2] if len(words) > 2 else ""
            if not _CODE.fullmatch(code):
                _raise_from_lark(line + "\r\n", "status_line", data, offset, STATUS_RULE)
            defects.append("malformed spacing in the Status-Line")
    status = int(code)
    if not 100 <= status <= 699:
        raise error_at(data, offset + len(version) + 1,
                       f"Status-Code {status} outside 100-699 (RFC 3261 §21)",
                       rule=STATUS_RULE, expected="Status-Code 100-699")
    version = version.upper()
    if strict and version != "SIP/2.0":
        raise error_at(data, offset, f"unsupported version {version} (505, RFC 3261 §8.2.2)",
                       rule=STATUS_RULE, expected="SIP/2.0")
    if version != "SIP/2.0":
        defects.append(f"unsupported version {version}")
    return version, status, people_text(reason)


def request_line(line: str, data: bytes, offset: int, *, strict: bool,
                  defects: list[str]) -> tuple[str, str, str]:
    parts = line.split(" ")
    if strict:
        text = line + "\r\n"
        if not rule_regex("request_line").fullmatch(text):
            _raise_from_lark(text, "request_line", data, offset, REQUEST_RULE)
    elif len(parts) != 3 or not all(parts):
        parts = line.split()
        if len(parts) != 3:
            _raise_from_lark(line + "\r\n", "request_line", data, offset, REQUEST_RULE)
        defects.append("extra white space in the Request-Line")
    method, uri, version = parts
    if not terminal_regex("METHOD").fullmatch(method):
        _raise_from_lark(line + "\r\n", "request_line", data, offset, REQUEST_RULE)
    if not _VERSION.fullmatch(version):
        _raise_from_lark(line + "\r\n", "request_line", data, offset, REQUEST_RULE)
    version = version.upper()
    if version != "SIP/2.0":
        if strict:
            at = offset + len(method) + len(uri) + 2
            raise error_at(data, at, f"unsupported version {version} (505, RFC 3261 §8.2.2)",
                           rule=REQUEST_RULE, expected="SIP/2.0")
        defects.append(f"unsupported version {version}")
    return method, people_text(uri), version


def _raise_from_lark(text: str, rule: str, data: bytes, offset: int, name: str) -> None:
    """Let the LALR parser find and describe the fault in ``text`` (at ``offset``)."""
    fault = lark_fault(text, rule)
    if fault is not None:
        at, expected = fault
        raise error_at(data, offset + at, expected, rule=name, expected=expected)
    # The grammar accepts what the fast path could not read: that is a bug of ours.
    raise error_at(data, offset, f"could not read the {name}", rule=name)  # pragma: no cover
