"""Framing and parsing whole messages: ``parse``, ``parse_response``, ``parse_request``,
``parse_status_line`` and ``iter_messages``.

The frame (start line, header field lines, folding, the empty line, the body) is found
with plain string operations: that is all the grammar's ``sip_head`` rule fixes before
the header values, and it is checked to agree with the grammar by a differential property
test (tests/parse/test_envelope_differential.py). Header values are checked against their
grammar rules here in strict mode, and on first use of a typed accessor otherwise.

Strict mode (``strict=True``) accepts exactly RFC 3261 as clarified by RFC 4475 and
RFC 5118. Lenient mode (the default) accepts what real devices send and records each
tolerated fault in ``.defects``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

from sipstatus import _typed
from sipstatus._errors import SipParseError, error_at, position
from sipstatus._fastpath import rule_regex, terminal_regex
from sipstatus._grammar import parser
from sipstatus._headers import _ANY_FIELD, Headers, header_key
from sipstatus._headers import _KEYS as _COMPACT_KEYS
from sipstatus._message import (
    EMPTY_ALLOWED,
    VALUE_RULES,
    SipRequest,
    SipResponse,
    StatusLine,
    new_message,
)


@dataclass(frozen=True, slots=True)
class Limits:
    """Size limits checked before parsing; ``None`` switches one off.

    The defaults suit SIP: a message larger than a UDP datagram's 65,535 octets
    (RFC 3261 §18.1.1, RFC 768) is not SIP traffic one expects to parse, and no real
    header section needs more than a few dozen fields or lines of several kilobytes.
    """

    max_message_size: int | None = 65_535
    max_headers: int | None = 256
    max_line_length: int | None = 8_192
    # The three, "no limit" as sys.maxsize: what the parser compares against.
    _bounds: tuple[int, int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_bounds", tuple(
            sys.maxsize if limit is None else limit
            for limit in (self.max_message_size, self.max_headers, self.max_line_length)))


DEFAULT_LIMITS = Limits()

Message = SipRequest | SipResponse

_STATUS_RULE = "Status-Line (RFC 3261 §7.2)"
_REQUEST_RULE = "Request-Line (RFC 3261 §7.1)"
_HEADER_RULE = "message-header (RFC 3261 §7.3)"
_FRAME_RULE = "SIP-message (RFC 3261 §7)"
_VERSION = re.compile(r"SIP/[0-9]+\.[0-9]+", re.I)
_CODE = re.compile(r"[0-9]{3}")


def parse(data: bytes | bytearray | memoryview | str, *, strict: bool = False,
          limits: Limits = DEFAULT_LIMITS) -> SipRequest | SipResponse:
    """Parse one SIP message, request or response.

    ``data`` is one datagram's worth of octets (a ``str`` is encoded as UTF-8): octets after
    the body that Content-Length frames are ignored (RFC 3261 §18.3); without
    Content-Length the body runs to the end. Raises :class:`SipParseError`, and nothing
    else, for any input that is not a SIP message.
    """
    raw = data if type(data) is bytes else _as_bytes(data)
    return _parse_one(raw, strict, limits, False)[0]


def parse_response(data: bytes | bytearray | memoryview | str, *, strict: bool = False,
                   limits: Limits = DEFAULT_LIMITS) -> SipResponse:
    """Parse one SIP response; a request is a :class:`SipParseError`."""
    raw = data if type(data) is bytes else _as_bytes(data)
    message = _parse_one(raw, strict, limits, False)[0]
    if not isinstance(message, SipResponse):
        raise SipParseError(
            "expected a response (SIP-Version first), got a request at line 1, column 1",
            rule=_STATUS_RULE, expected="SIP-Version")
    return message


def parse_request(data: bytes | bytearray | memoryview | str, *, strict: bool = False,
                  limits: Limits = DEFAULT_LIMITS) -> SipRequest:
    """Parse one SIP request; a response is a :class:`SipParseError`."""
    raw = data if type(data) is bytes else _as_bytes(data)
    message = _parse_one(raw, strict, limits, False)[0]
    if not isinstance(message, SipRequest):
        raise SipParseError(
            "expected a request (Method first), got a response at line 1, column 1",
            rule=_REQUEST_RULE, expected="Method")
    return message


def parse_status_line(line: bytes | bytearray | memoryview | str) -> StatusLine:
    """Parse a Status-Line (RFC 3261 §7.2); the trailing CRLF is optional."""
    data = _as_bytes(line)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    text = data.decode("latin-1")
    if data.count(b"\n") != 1 or data.count(b"\r") != 1:
        first_break = min(i for i in (text.find("\r"), text.find("\n")) if i >= 0)
        raise error_at(data, first_break, "expected a single line", rule=_STATUS_RULE)
    version, code, reason = _status_line(text[:-2], data, 0, strict=True, defects=[])
    return StatusLine(version, code, reason)


def iter_messages(data: bytes | bytearray | memoryview | str, *, strict: bool = False,
                  limits: Limits = DEFAULT_LIMITS) -> Iterator[SipRequest | SipResponse]:
    """Parse messages written back to back, as on a TCP stream (RFC 3261 §18.3).

    Each message's body is framed by its Content-Length (a message without one is taken to
    have no body). Stops with :class:`SipParseError` at the first broken message.
    """
    whole = rest = _as_bytes(data)
    while rest.strip(b"\r\n"):
        base = len(whole) - len(rest)
        try:
            message, rest = _parse_one(rest, strict, limits, True)
        except SipParseError as exc:
            raise (exc.moved(whole, base) if base else exc) from None
        yield message


def _as_bytes(data: bytes | bytearray | memoryview | str) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8", "surrogateescape")
    if isinstance(data, bytearray | memoryview):
        return bytes(data)
    raise TypeError(f"expected bytes or str, not {type(data).__name__}")


def _parse_one(data: bytes, strict: bool, limits: Limits,
               stream: bool) -> tuple[SipRequest | SipResponse, bytes]:
    # RFC 3261 §7.5: CRLFs before the start line (keep-alives) are ignored.
    skip = 0
    while data.startswith(b"\r\n", skip):
        skip += 2
    max_size, max_headers, max_line = limits._bounds
    if len(data) - skip > max_size:
        raise error_at(data, skip + max_size,
                       f"message larger than the limit of {max_size} octets", rule=_FRAME_RULE)
    text = data.decode("latin-1")
    defects: list[str] = []

    first = _HEAD_END_OR_FAULT.search(text, skip)
    end = first.start() if first is not None and first.lastindex is None else -1
    line_count = text.count("\n", skip, end)
    if end >= 0 and text.count("\r", skip, end) == line_count:
        # The common case: CRLF line ends, no folding, nothing stray.
        status = None if strict else _STATUS_LINE.match(text, skip)
        # At most ``end``: a message may have no header lines at all.
        line_end = text.find("\r\n", skip) if status is None else status.end() - 2
        headers = Headers(text[line_end:end], line_end)
        body_start = end + 4
        head_end: int | None = body_start  # header lines kept as received
        if end - skip > max_line:
            _check_line_length(text[skip:end].split("\r\n"), data, skip, 2, max_line)
    else:
        start, headers, body_start, line_count = _frame_slowly(
            text, data, skip, text.find("\r\n\r\n", skip), strict, limits, defects)
        head_end = None
        status = None
    if line_count > max_headers:
        raise error_at(data, skip, f"more than {max_headers} header lines", rule=_FRAME_RULE)

    found = _CONTENT_LENGTH.findall(headers._text)
    if len(found) == 1 and found[0].rstrip("\r") == str(len(data) - body_start):
        body, rest = data[body_start:], b""  # the common case: one length, all the body
    else:
        body, rest = _frame_body(data, headers, body_start, strict, stream, defects)

    if status is not None:  # the common case of a response, read with the framing
        code, reason = status.groups()
        message: SipRequest | SipResponse = new_message(
            SipResponse, "SIP/2.0", int(code), reason if reason.isascii() else (
                _typed.people_text(reason)), headers, body, tuple(defects) if defects else (),
            data, head_end)
        return message, rest  # (read ahead only when lenient: nothing left to check)
    if head_end is not None:
        start = text[skip:line_end]
    if start[:4].upper() == "SIP/":
        version, code, reason = _status_line(start, data, skip, strict=strict, defects=defects)
        message = new_message(
            SipResponse, version, code, reason, headers, body, tuple(defects), data, head_end)
    else:
        method, uri, version = _request_line(start, data, skip, strict=strict, defects=defects)
        message = new_message(SipRequest, method, uri, version, headers, body,
                              tuple(defects), data, head_end)
    if strict:
        check_strict(message)
    return message, rest


# The first of: the empty line ending the header section (CRLF CRLF), or (group 1) a
# continuation line (RFC 3261 §7.3.1) or a CR not followed by LF. When the empty line
# comes first and the header section has as many CRs as LFs, every LF follows a CR: the
# section is cleanly cut into lines by CRLF. (One regex pass with a literal first octet:
# cheaper than finding the empty line, counting CRLFs and looking for "\n " apart.)
_HEAD_END_OR_FAULT = re.compile(r"\r(?:\n\r\n|(\n[ \t]|(?!\n)))")
# Content-Length values, each with its line's CR (see _headers._ValuePatterns).
_CONTENT_LENGTH = re.compile(r"\n(?:content-length|l)[ \t]*:[ \t]*(.*)", re.I)


def _check_line_length(lines: list[str], data: bytes, skip: int, newline: int,
                       limit: int) -> None:
    offset = skip
    for line in lines:
        if len(line) > limit:
            raise error_at(data, offset + limit,
                           f"line longer than the limit of {limit} octets", rule=_FRAME_RULE)
        offset += len(line) + newline


def _frame_slowly(text: str, data: bytes, skip: int, end: int, strict: bool, limits: Limits,
                  defects: list[str]) -> tuple[str, Headers, int, int]:
    """Frame a header section with folding, or (lenient only) bare LFs, stray CRs, or no
    empty line at the end. Returns start line, headers, body offset, header line count."""
    newline = "\r\n"
    body_start = end + 4 if end >= 0 else -1
    lf_end = text.find("\n\n", skip)
    if not strict and lf_end >= 0 and (end < 0 or lf_end < end):
        defects.append("bare LF line endings")
        newline, end, body_start = "\n", lf_end, lf_end + 2
    if end < 0:
        if strict or not text[skip:].strip():
            raise error_at(data, len(data),
                           "expected an empty line (CRLF) ending the header section",
                           rule=_FRAME_RULE, expected="CRLF")
        defects.append("no empty line after the header section")
        end = len(text.rstrip("\r\n"))
        body_start = len(text)
    head = text[skip:end]
    if newline == "\n":
        head = head.replace("\r\n", "\n")
    lines = head.split(newline)
    if limits.max_line_length is not None and len(head) > limits.max_line_length:
        _check_line_length(lines, data, skip, len(newline), limits.max_line_length)
    start = lines[0]
    offset = skip
    if "\r" in start or "\n" in start:
        start = _stray(start, data, offset, strict, defects)
    offset += len(lines[0]) + len(newline)
    parts: list[str] = []
    folds: list[tuple[int, int]] = []  # (position, shift): only where the shift changes
    length = 0  # length of the normalised text so far
    shift = 0
    for line in lines[1:]:
        line_offset = offset
        offset += len(line) + len(newline)
        if "\r" in line or "\n" in line:
            line = _stray(line, data, line_offset, strict, defects)
        if line[:1] in (" ", "\t"):
            # RFC 3261 §7.3.1: a continuation line; the fold becomes one SP.
            if not parts:
                if strict:
                    raise error_at(data, line_offset, "continuation line before any header",
                                   rule=_HEADER_RULE, expected="a header name")
                defects.append(f"continuation line before any header: {line.strip()!r}")
                continue
            piece = line.lstrip(" \t")
            if not piece:
                continue
            previous = parts[-1].rstrip(" \t")
            length -= len(parts[-1]) - len(previous)
            parts[-1] = previous + " "
            length += 1
            shift = line_offset + len(line) - len(piece) - length
            folds.append((length, shift))
            parts.append(piece)
            length += len(piece)
        else:
            if line_offset - 2 - length != shift or not folds:
                shift = line_offset - 2 - length
                folds.append((length, shift))
            parts.append("\r\n" + line)
            length += 2 + len(line)
    headers = Headers("".join(parts), 0, tuple(folds))
    return start, headers, body_start, len(lines) - 1


def _stray(line: str, data: bytes, offset: int, strict: bool, defects: list[str]) -> str:
    """A bare CR or LF inside a line: an error when strict, dropped otherwise."""
    index = min(i for i in (line.find("\r"), line.find("\n")) if i >= 0)
    if strict:
        raise error_at(data, offset + index, "bare CR or LF inside a line",
                       rule=_HEADER_RULE, expected="CRLF")
    defects.append(f"bare CR or LF inside line {position(data, offset)[0]}")
    return line.replace("\r", "").replace("\n", "")


def _frame_body(data: bytes, headers: Headers, body_start: int, strict: bool, stream: bool,
                defects: list[str]) -> tuple[bytes, bytes]:
    lengths = headers.fields_named("content-length")
    available = len(data) - body_start
    if not lengths:
        if stream:
            defects.append("no Content-Length on a stream: body taken as empty")
            return b"", data[body_start:]
        return data[body_start:], b""
    values = {item.value for item in lengths}
    if len(values) > 1:
        first = lengths[1]
        raise error_at(data, first.offset,
                       "conflicting Content-Length values " + ", ".join(
                           repr(v) for v in sorted(values)) + " (RFC 4475 §3.3.9)",
                       rule="Content-Length (RFC 3261 §20.14)")
    if len(lengths) > 1 and not strict:
        # Repeated single-value headers parse (RFC 4475 §3.3.8 is valid-but-semantic-error);
        # equal Content-Lengths still frame the body, so only lenient mode notes it.
        defects.append("Content-Length given twice")
    text = lengths[0].value
    if not text.isdigit() or not text.isascii():
        if strict:
            raise error_at(data, lengths[0].offset,
                           f"expected digits in Content-Length, got {text!r}",
                           rule="Content-Length (RFC 3261 §20.14)", expected="digits")
        defects.append(f"invalid Content-Length {text!r}: body taken to the end")
        if stream:
            raise error_at(data, lengths[0].offset,
                           "cannot frame a stream with an invalid Content-Length",
                           rule="Content-Length (RFC 3261 §20.14)", expected="digits")
        return data[body_start:], b""
    length = int(text)
    if length > available:
        if strict or stream:
            raise error_at(data, len(data),
                           f"Content-Length {length} is larger than the {available} octets "
                           "that follow the header section",
                           rule="Content-Length (RFC 3261 §18.3)", expected="more body octets",
                           partial=None)
        defects.append(f"Content-Length {length} exceeds the {available} octets of body")
        return data[body_start:], b""
    rest = data[body_start + length:]
    if rest and not stream and not strict and rest.strip(b"\r\n\x00 "):
        # RFC 3261 §18.3: a datagram's octets past Content-Length are discarded.
        defects.append(f"{len(rest)} octets after the body ignored")
    return data[body_start:body_start + length], rest


_STATUS = re.compile(r"(SIP/2\.0) ([1-6][0-9][0-9]) (.*)", re.S)
# The same Status-Line read in place, up to its CRLF (framing has ruled out stray CRs).
_STATUS_LINE = re.compile(r"SIP/2\.0 ([1-6][0-9][0-9]) (.*)\r\n")


def _status_line(line: str, data: bytes, offset: int, *, strict: bool,
                 defects: list[str]) -> tuple[str, int, str]:
    match = _STATUS.fullmatch(line)
    if match is not None and (not strict or rule_regex("status_line").fullmatch(line + "\r\n")):
        reason = match.group(3)
        return "SIP/2.0", int(match.group(2)), reason if reason.isascii() else (
            _typed.people_text(reason))
    if strict:
        text = line + "\r\n"
        if not rule_regex("status_line").fullmatch(text):
            _raise_from_lark(text, "status_line", data, offset, _STATUS_RULE)
        version, code, reason = line.split(" ", 2)
    else:
        parts = line.split(" ", 2)
        if len(parts) == 3 and _VERSION.fullmatch(parts[0]) and _CODE.fullmatch(parts[1]):
            version, code, reason = parts
        else:
            words = line.split(None, 2)
            if len(words) < 2 or not _VERSION.fullmatch(words[0]):
                _raise_from_lark(line + "\r\n", "status_line", data, offset, _STATUS_RULE)
            version, code = words[0], words[1]
            reason = words[2] if len(words) > 2 else ""
            if not _CODE.fullmatch(code):
                _raise_from_lark(line + "\r\n", "status_line", data, offset, _STATUS_RULE)
            defects.append("malformed spacing in the Status-Line")
    status = int(code)
    if not 100 <= status <= 699:
        raise error_at(data, offset + len(version) + 1,
                       f"Status-Code {status} outside 100-699 (RFC 3261 §21)",
                       rule=_STATUS_RULE, expected="Status-Code 100-699")
    version = version.upper()
    if strict and version != "SIP/2.0":
        raise error_at(data, offset, f"unsupported version {version} (505, RFC 3261 §8.2.2)",
                       rule=_STATUS_RULE, expected="SIP/2.0")
    if version != "SIP/2.0":
        defects.append(f"unsupported version {version}")
    return version, status, _typed.people_text(reason)


def _request_line(line: str, data: bytes, offset: int, *, strict: bool,
                  defects: list[str]) -> tuple[str, str, str]:
    parts = line.split(" ")
    if strict:
        text = line + "\r\n"
        if not rule_regex("request_line").fullmatch(text):
            _raise_from_lark(text, "request_line", data, offset, _REQUEST_RULE)
    elif len(parts) != 3 or not all(parts):
        parts = line.split()
        if len(parts) != 3:
            _raise_from_lark(line + "\r\n", "request_line", data, offset, _REQUEST_RULE)
        defects.append("extra white space in the Request-Line")
    method, uri, version = parts
    if not terminal_regex("METHOD").fullmatch(method):
        _raise_from_lark(line + "\r\n", "request_line", data, offset, _REQUEST_RULE)
    if not _VERSION.fullmatch(version):
        _raise_from_lark(line + "\r\n", "request_line", data, offset, _REQUEST_RULE)
    version = version.upper()
    if version != "SIP/2.0":
        if strict:
            at = offset + len(method) + len(uri) + 2
            raise error_at(data, at, f"unsupported version {version} (505, RFC 3261 §8.2.2)",
                           rule=_REQUEST_RULE, expected="SIP/2.0")
        defects.append(f"unsupported version {version}")
    return method, _typed.people_text(uri), version


def _raise_from_lark(text: str, rule: str, data: bytes, offset: int, name: str) -> None:
    """Let the LALR parser find and describe the fault in ``text`` (at ``offset``)."""
    from lark.exceptions import UnexpectedInput

    try:
        parser().parse(text, start=rule)
    except UnexpectedInput as exc:
        at = offset + min(exc.pos_in_stream or 0, len(text))
        raise error_at(data, at, _typed.expected_text(exc), rule=name,
                       expected=_typed.expected_text(exc)) from None
    # The grammar accepts what the fast path could not read: that is a bug of ours.
    raise error_at(data, offset, f"could not read the {name}", rule=name)  # pragma: no cover


_EXTENSION = "extension-header (RFC 3261 §25.1)"


def check_strict(message: SipRequest | SipResponse) -> None:
    """Every header line and value against the grammar, then the value ranges and
    cross-header checks that RFC 4475 §3.1.2 lists as errors; raise at the first fault.

    The common case (everything valid) runs on the raw (name, value) pairs with the
    compiled rule regexes; a fault is then located and described through the slow path."""
    headers = message.headers
    pairs = _ANY_FIELD.findall(headers._text)
    if headers._text.count("\n") != len(pairs):
        _raise_first_fault(message)
    header_name = terminal_regex("HEADER_NAME").fullmatch
    header_value = terminal_regex("HEADER_VALUE").fullmatch
    ranged = False  # a value range or cross-header fault seen: locate it below
    for raw_name, raw_value in pairs:
        name = raw_name.rstrip(" \t")
        value = raw_value.rstrip(" \t")
        key = name.lower()
        if len(key) == 1:
            key = _COMPACT_KEYS.get(key, key)
        rule = VALUE_RULES.get(key)
        if rule is not None:
            if (value or key not in EMPTY_ALLOWED) and not rule_regex(rule).fullmatch(value):
                # The regex unrolls nested comments only COMMENT_DEPTH deep (_fastpath): a
                # miss is a fault only if Lark rejects the value too.
                _raise_first_fault(message, regex_missed=True)
            if key in _RANGE_CHECKED and _out_of_range(message, key, value):
                ranged = True
        elif value and not header_value(value):
            _raise_first_fault(message)
        if not header_name(name):
            _raise_first_fault(message)
    if ranged:
        for at, text, rule_name in semantic_faults(message):
            raise error_at(message._raw, at, text, rule=rule_name)


def _out_of_range(message: SipRequest | SipResponse, key: str, value: str) -> bool:
    """A quick look for the faults :func:`semantic_faults` describes (value grammar-valid)."""
    if key == "cseq":
        seq, method = value.split(None, 1)
        return int(seq) > _MAX_CSEQ or (isinstance(message, SipRequest)
                                       and method != message.method)
    if key == "max-forwards":
        return int(value) > 255
    if key in ("expires", "min-expires"):
        return int(value) > _MAX_DELTA
    return ("ttl" in value.lower()) if key == "via" else ("expires" in value.lower())


def _raise_first_fault(message: SipRequest | SipResponse, *, regex_missed: bool = False) -> None:
    """Find the first fault of a message that failed a fast check, and raise it.

    ``regex_missed``: the failed check was a value rule's regex, which accepts a subset of
    its rule (comments nested deeper than COMMENT_DEPTH are Lark's to judge); if Lark
    accepts every value, there is no fault and this returns."""
    data = message._raw
    for offset, line in _stray_lines(message.headers):
        raise error_at(data, offset, f"expected a header field, got {line!r}",
                       rule=_HEADER_RULE, expected="header-name HCOLON header-value")
    header_name = terminal_regex("HEADER_NAME")
    header_value = terminal_regex("HEADER_VALUE")
    for item in message.headers.fields:
        if not header_name.fullmatch(item.name):
            raise error_at(data, item.offset - 1, f"invalid header name {item.name!r}",
                           rule=_HEADER_RULE, expected="a header name (token)")
        key = item.key
        rule = VALUE_RULES.get(key)
        if rule is not None:
            if item.value or key not in EMPTY_ALLOWED:
                _typed.validate_value(rule, item.value, data=data, offset=item.offset,
                                      header=item.name)
        elif item.value and not header_value.fullmatch(item.value):
            bad = _first_bad_octet(item.value)
            raise error_at(data, item.offset + bad, f"invalid octet in {item.name} header",
                           rule=_EXTENSION, expected="TEXT-UTF8char, UTF8-CONT or LWS")
    if not regex_missed:  # pragma: no cover - the exact checks and the slow path disagree
        raise error_at(data, 0, "could not locate the fault", rule=_HEADER_RULE)


def _stray_lines(headers: Headers) -> list[tuple[int, str]]:
    """Lines of the header section that are not ``name: value`` fields."""
    text = headers._text
    if text.count("\n") == len(headers.fields):
        return []
    named = {item.offset for item in headers.fields}
    found = []
    position = 0
    for line in text.split("\r\n")[1:]:
        position += 2
        colon = line.find(":")
        after = line[colon + 1:]
        value_at = position + colon + 1 + len(after) - len(after.lstrip(" \t"))
        if colon < 0 or headers._offset(value_at) not in named:
            found.append((headers._offset(position), _typed.people_text(line)))
        position += len(line)
    return found


def _first_bad_octet(value: str) -> int:
    """Where the longest prefix of ``value`` that HEADER_VALUE accepts ends (linear)."""
    match = terminal_regex("HEADER_VALUE").match(value)
    return match.end() if match is not None else 0


_MAX_CSEQ = 2**31 - 1  # RFC 3261 §8.1.1.5
_MAX_DELTA = 2**32 - 1  # RFC 3261 §20.19, §10.2.1.1


def semantic_faults(message: SipRequest | SipResponse) -> list[tuple[int, str, str]]:
    """Faults that the ABNF cannot see: (offset, message, rule). Headers must be valid."""
    faults: list[tuple[int, str, str]] = []
    for item in message.headers.fields:
        key = item.key
        if key not in _RANGE_CHECKED:
            continue
        value = item.value
        if key == "cseq":
            seq_text, method = value.split(None, 1)
            if int(seq_text) > _MAX_CSEQ:
                faults.append((item.offset, f"CSeq number {seq_text} is not below 2**31 "
                               "(RFC 3261 §8.1.1.5)", "CSeq (RFC 3261 §20.16)"))
            if isinstance(message, SipRequest) and method.strip() != message.method:
                faults.append((item.offset + value.index(method, len(seq_text)),
                               f"CSeq method {method.strip()} differs from the request method "
                               f"{message.method} (RFC 3261 §8.1.1.5)",
                               "CSeq (RFC 3261 §20.16)"))
        elif key == "max-forwards":
            if int(value) > 255:
                faults.append((item.offset, f"Max-Forwards {value} is above 255 "
                               "(RFC 3261 §20.22)", "Max-Forwards (RFC 3261 §20.22)"))
        elif key in ("expires", "min-expires"):
            if int(value) > _MAX_DELTA:
                faults.append((item.offset, f"{item.name} {value} is above 2**32-1 "
                               "(RFC 3261 §10.2.1.1)", f"{item.name} (RFC 3261 §20.19)"))
        elif key == "contact" and "expires" in value.lower():
            for entry in _typed.contact_list(value):
                if entry.expires is not None and entry.expires > _MAX_DELTA:
                    faults.append((item.offset, f"Contact expires {entry.expires} is above "
                                   "2**32-1 (RFC 3261 §20.10)", "Contact (RFC 3261 §20.10)"))
        elif key == "via" and "ttl" in value.lower():
            for via in _typed.via_list(value):
                ttl = via.params.get("ttl")
                if ttl is not None and int(ttl) > 255:
                    faults.append((item.offset, f"Via ttl {ttl} is above 255 (RFC 3261 "
                                   "§20.42)", "Via (RFC 3261 §20.42)"))
    return faults


_RANGE_CHECKED = frozenset(("cseq", "max-forwards", "expires", "min-expires", "contact", "via"))


def check_message(message: SipRequest | SipResponse) -> list[str]:
    """Every fault strict mode would raise for, as defect strings (lenient ``.defects``)."""
    found: list[str] = [f"not a header field, kept out: {line!r}"
                        for _, line in _stray_lines(message.headers)]
    if isinstance(message, SipRequest):
        line = f"{message.method} {message.uri} {message.version}\r\n"
        try:
            _request_line(line[:-2], line.encode("utf-8", "surrogateescape"), 0, strict=True,
                          defects=[])
        except SipParseError as exc:
            found.append(f"Request-Line: {exc}")
    for item in message.headers.fields:
        rule = VALUE_RULES.get(header_key(item.name))
        if rule is None or (not item.value and item.key in EMPTY_ALLOWED):
            continue
        try:
            _typed.validate_value(rule, item.value, data=message._raw, offset=item.offset,
                                  header=item.name)
        except SipParseError as exc:
            found.append(str(exc))
    if not found:
        found.extend(f"{text} at line {position(message._raw, at)[0]}"
                     for at, text, _rule in semantic_faults(message))
    return found
