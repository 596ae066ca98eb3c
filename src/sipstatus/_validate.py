"""Validation: header values against their grammar rules, and the range and cross-header
rules the ABNF cannot express (RFC 4475 §3.1.2 lists them as errors).

``check_strict`` raises at the first fault (strict parsing and ``validate()``);
``faults_in_words`` lists every fault as a defect string (lenient ``.defects``). Both take
what they check — the headers, the raw message, the request's start line — never a message,
so that the message layer sits above this one. Which rule each header follows, where it is
defined and which numbers are bounded comes from the header registry (``_registry``).

The common case (everything valid) runs on the raw (name, value) pairs with the regexes
compiled from the grammar (``_rule_regex``); only a value they miss goes to the LALR parser,
which decides and says exactly where and what was expected.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import NamedTuple

from sipstatus._errors import SipParseError, error_at, position
from sipstatus._grammar import lark_fault
from sipstatus._headers import FIELD_LINE, Headers
from sipstatus._registry import (
    EMPTY_ALLOWED,
    RANGE_CHECKED,
    SPECS,
    VALUE_RULES,
    citation,
    header_key,
)
from sipstatus._rule_regex import rule_regex, terminal_regex
from sipstatus._split import above, split_list, split_params
from sipstatus._startline import request_line

HEADER_RULE = "message-header (RFC 3261 §7.3)"
_EXTENSION = "extension-header (RFC 3261 §25.1)"


def validate_value(rule: str, value: str, *, data: bytes, offset: int, header: str) -> None:
    """Raise SipParseError unless ``value`` matches grammar rule ``rule``.

    ``data`` and ``offset`` (where the value starts in ``data``) place the error; ``header``
    is the header's name as written, cited with the section that defines it.
    """
    if rule_regex(rule).fullmatch(value):
        return
    fault = lark_fault(value, rule)
    if fault is None:
        return  # nested comments deeper than the regex unrolls: the grammar accepts it
    at, what = fault
    line, column = position(data, offset + at)
    raise SipParseError(f"invalid {header} header: {what} at line {line}, column {column}",
                        offset=offset + at, line=line, column=column,
                        rule=citation(header), expected=what)


class _HeaderCheck(NamedTuple):
    """How a header name, as written, is checked: whether the name is a token, the value's
    grammar regex (None: an extension header, any HEADER_VALUE), whether an empty value is
    allowed, and whether the registry bounds a number in it."""

    name_ok: bool
    key: str
    value_ok: Callable[[str], object]
    empty_allowed: bool
    range_checked: bool


# The checks of each name spelling met so far (a message has a dozen headers, a capture a few
# dozen spellings): one dict look-up a header instead of a case fold, three registry look-ups
# and two regex calls. Bounded: cleared when full, so hostile names cannot grow it.
_checks_by_name: dict[str, _HeaderCheck] = {}
_MAX_NAMES = 1024


def _header_check(spelling: str) -> _HeaderCheck:
    """The checks of a header name as written before the colon (white space included)."""
    check = _checks_by_name.get(spelling)
    if check is not None:
        return check
    name = spelling.rstrip(" \t")
    key = header_key(name)
    rule = VALUE_RULES.get(key)
    value_ok = (rule_regex(rule).fullmatch if rule is not None
                else terminal_regex("HEADER_VALUE").fullmatch)
    check = _HeaderCheck(terminal_regex("HEADER_NAME").fullmatch(name) is not None, key,
                         value_ok, rule is None or key in EMPTY_ALLOWED, key in RANGE_CHECKED)
    if len(_checks_by_name) >= _MAX_NAMES:
        _checks_by_name.clear()
    _checks_by_name[spelling] = check
    return check


def check_strict(headers: Headers, raw: bytes, method: str | None) -> None:
    """Every header line and value against the grammar, then the value ranges and the CSeq
    method of a request (``method``; None for a response); raise at the first fault."""
    section = headers.section
    pairs = FIELD_LINE.findall(section)
    if section.count("\n") != len(pairs):
        _raise_first_fault(headers, raw)
    ranged = False  # a value range or cross-header fault seen: locate it below
    for raw_name, raw_value in pairs:
        value = raw_value.rstrip(" \t")
        name_ok, key, value_ok, empty_allowed, range_checked = (
            _checks_by_name.get(raw_name) or _header_check(raw_name))
        if not name_ok:
            _raise_first_fault(headers, raw)
        if (value or not empty_allowed) and not value_ok(value):
            # The regex unrolls nested comments only COMMENT_DEPTH deep (_rule_regex): a
            # miss is a fault only if Lark rejects this value too.
            rule = VALUE_RULES.get(key)
            if rule is None or lark_fault(value, rule) is not None:
                _raise_first_fault(headers, raw)
        if range_checked and _may_be_out_of_range(key, value, method):
            ranged = True
    if ranged:
        for at, text, rule_name in semantic_faults(headers, method):
            raise error_at(raw, at, text, rule=rule_name)


def faults_in_words(headers: Headers, raw: bytes,
                    request: tuple[str, str, str] | None) -> list[str]:
    """Every fault strict mode would raise for, as defect strings (lenient ``.defects``).
    ``request`` is the request's (method, URI, version), None for a response."""
    found: list[str] = [f"not a header field, kept out: {line!r}"
                        for _, line in headers.stray_lines()]
    if request is not None:
        # The version was judged while framing (a defect there already); the method and the
        # Request-URI are checked here against the grammar.
        line = f"{request[0]} {request[1]} SIP/2.0"
        try:
            request_line(line, line.encode("utf-8", "surrogateescape"), 0, strict=True,
                         defects=[])
        except SipParseError as exc:
            found.append(f"Request-Line: {exc}")
    header_name = terminal_regex("HEADER_NAME")
    header_value = terminal_regex("HEADER_VALUE")
    for item in headers.fields:
        if not header_name.fullmatch(item.name):
            found.append(str(_bad_name(item.name, item.offset, raw)))
        key = item.key
        rule = VALUE_RULES.get(key)
        if rule is None:
            if item.value and not header_value.fullmatch(item.value):
                found.append(str(_bad_octet(item.name, item.value, item.offset, raw)))
            continue
        if not item.value and key in EMPTY_ALLOWED:
            continue
        try:
            validate_value(rule, item.value, data=raw, offset=item.offset, header=item.name)
        except SipParseError as exc:
            found.append(str(exc))
    if not found:
        method = request[0] if request is not None else None
        found.extend(f"{text} at line {position(raw, at)[0]}"
                     for at, text, _rule in semantic_faults(headers, method))
    return found


def semantic_faults(headers: Headers, method: str | None) -> list[tuple[int, str, str]]:
    """Faults the ABNF cannot see, as (offset, message, rule): the registry's number limits
    and a request's CSeq method (RFC 3261 §8.1.1.5). The values must be grammar-valid."""
    faults: list[tuple[int, str, str]] = []
    for item in headers.fields:
        key = item.key
        if key not in RANGE_CHECKED:
            continue
        value = item.value
        rule = citation(item.name)
        for limit in SPECS[key].limits:
            if limit.param is None:
                number = value.split(None, 1)[0]
                if above(number, limit.maximum):
                    faults.append((item.offset, limit.fault.format(name=item.name,
                                                                   number=number), rule))
                continue
            if limit.param not in value.lower():
                continue
            for entry in split_list(value):
                found = split_params(entry)[1].get(limit.param)
                if (found is not None and found.isascii() and found.isdigit()
                        and above(found, limit.maximum)):
                    faults.append((item.offset, limit.fault.format(name=item.name,
                                                                   number=found), rule))
        if key == "cseq" and method is not None:
            seq_text, cseq_method = value.split(None, 1)
            if cseq_method.strip() != method:
                faults.append((item.offset + value.index(cseq_method, len(seq_text)),
                               f"CSeq method {cseq_method.strip()} differs from the request "
                               f"method {method} (RFC 3261 §8.1.1.5)", rule))
    return faults


def _may_be_out_of_range(key: str, value: str, method: str | None) -> bool:
    """A quick look for the faults :func:`semantic_faults` describes (value grammar-valid):
    True whenever it would find one, and seldom otherwise (it then finds none)."""
    for limit in SPECS[key].limits:
        param = limit.param
        if param is not None:
            if param not in value.lower():
                continue
            if '"' in value or "\\" in value or not value.isascii():
                return True  # quoted values are unquoted there: let it decide
            # A parameter is ";" name "=" value (white space around both; names compared
            # without case): any that could be such a parameter with too large a number.
            # Numbers of other shapes ("5x") are never faults there; reading them as digits
            # here only sends the value to semantic_faults.
            if any(above(digits, limit.maximum)
                   for digits in _param_numbers(param).findall(value)):
                return True
        else:
            number = value.split(None, 1)[0]
            # Fewer digits than the maximum is the usual case, and never above it.
            if len(number) >= _digits(limit.maximum) and above(number, limit.maximum):
                return True
    return key == "cseq" and method is not None and value.split(None, 1)[1] != method


@functools.cache
def _digits(number: int) -> int:
    return len(str(number))


@functools.cache
def _param_numbers(param: str) -> re.Pattern[str]:
    return re.compile(rf";[ \t]*+{re.escape(param)}[ \t]*+=[ \t]*+([0-9]++)", re.I | re.A)


def _raise_first_fault(headers: Headers, data: bytes) -> None:
    """Find the first fault of a header section that failed a fast check, and raise it."""
    for offset, line in headers.stray_lines():
        raise error_at(data, offset, f"expected a header field, got {line!r}",
                       rule=HEADER_RULE, expected="header-name HCOLON header-value")
    header_name = terminal_regex("HEADER_NAME")
    header_value = terminal_regex("HEADER_VALUE")
    for item in headers.fields:
        if not header_name.fullmatch(item.name):
            raise _bad_name(item.name, item.offset, data)
        key = item.key
        rule = VALUE_RULES.get(key)
        if rule is not None:
            if item.value or key not in EMPTY_ALLOWED:
                validate_value(rule, item.value, data=data, offset=item.offset,
                               header=item.name)
        elif item.value and not header_value.fullmatch(item.value):
            raise _bad_octet(item.name, item.value, item.offset, data)
    # The fast checks and the exact ones disagree: a bug of ours.
    raise error_at(data, 0, "could not locate the fault", rule=HEADER_RULE)  # pragma: no cover


def _bad_name(name: str, offset: int, data: bytes) -> SipParseError:
    return error_at(data, offset - 1, f"invalid header name {name!r}", rule=HEADER_RULE,
                    expected="a header name (token)")


def _bad_octet(name: str, value: str, offset: int, data: bytes) -> SipParseError:
    """An extension header's value with an octet HEADER_VALUE does not allow, placed at the
    end of its longest valid prefix (found in linear time)."""
    match = terminal_regex("HEADER_VALUE").match(value)
    bad = match.end() if match is not None else 0
    return error_at(data, offset + bad, f"invalid octet in {name} header", rule=_EXTENSION,
                    expected="TEXT-UTF8char, UTF8-CONT or LWS")
