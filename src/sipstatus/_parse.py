"""Framing and parsing whole messages: ``parse``, ``parse_response``, ``parse_request``,
``parse_status_line`` and ``iter_messages``.

The frame (start line, header field lines, folding, the empty line, the body) is found
with plain string operations: that is all the grammar's ``sip_head`` rule fixes before
the header values, and it is checked to agree with the grammar by a differential property
test (tests/parse/test_grammar_differential.py). Header values are checked against their
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

from sipstatus._base import people_text
from sipstatus._errors import SipParseError, error_at, position
from sipstatus._headers import VALUE_PATTERNS, Headers
from sipstatus._message import SipRequest, SipResponse, StatusLine, new_message
from sipstatus._rule_regex import rule_regex
from sipstatus._startline import REQUEST_RULE, STATUS_RULE, request_line, status_line
from sipstatus._validate import HEADER_RULE, check_strict


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

_FRAME_RULE = "SIP-message (RFC 3261 §7)"
# A Status-Line read in place, up to its CRLF (framing has ruled out stray CRs).
_STATUS_LINE = re.compile(r"SIP/2\.0 ([1-6][0-9][0-9]) (.*)\r\n")


def parse(data: bytes | bytearray | memoryview | str, *, strict: bool = False,
          limits: Limits = DEFAULT_LIMITS) -> SipRequest | SipResponse:
    """Parse one SIP message, request or response.

    ``data`` is one datagram's worth of octets (a ``str`` is encoded as UTF-8): octets after
    the body that Content-Length frames are ignored (RFC 3261 §18.3); without
    Content-Length the body runs to the end. Raises :class:`SipParseError`, and nothing
    else, for any input that is not a SIP message.
    """
    raw = data if type(data) is bytes else as_bytes(data)
    return _parse_one(raw, strict, limits, None)[0]


def parse_response(data: bytes | bytearray | memoryview | str, *, strict: bool = False,
                   limits: Limits = DEFAULT_LIMITS) -> SipResponse:
    """Parse one SIP response; a request is a :class:`SipParseError`."""
    raw = data if type(data) is bytes else as_bytes(data)
    message = _parse_one(raw, strict, limits, None)[0]
    if not isinstance(message, SipResponse):
        raise SipParseError(
            "expected a response (SIP-Version first), got a request at line 1, column 1",
            rule=STATUS_RULE, expected="SIP-Version")
    return message


def parse_request(data: bytes | bytearray | memoryview | str, *, strict: bool = False,
                  limits: Limits = DEFAULT_LIMITS) -> SipRequest:
    """Parse one SIP request; a response is a :class:`SipParseError`."""
    raw = data if type(data) is bytes else as_bytes(data)
    message = _parse_one(raw, strict, limits, None)[0]
    if not isinstance(message, SipRequest):
        raise SipParseError(
            "expected a request (Method first), got a response at line 1, column 1",
            rule=REQUEST_RULE, expected="Method")
    return message


def parse_status_line(line: bytes | bytearray | memoryview | str) -> StatusLine:
    """Parse a Status-Line (RFC 3261 §7.2); the trailing CRLF is optional."""
    data = as_bytes(line)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    text = data.decode("latin-1")
    if data.count(b"\n") != 1 or data.count(b"\r") != 1:
        first_break = min(i for i in (text.find("\r"), text.find("\n")) if i >= 0)
        raise error_at(data, first_break, "expected a single line", rule=STATUS_RULE)
    version, code, reason = status_line(text[:-2], data, 0, strict=True, defects=[])
    return StatusLine(version, code, reason)


def iter_messages(data: bytes | bytearray | memoryview | str, *, strict: bool = False,
                  limits: Limits = DEFAULT_LIMITS) -> Iterator[SipRequest | SipResponse]:
    """Parse messages written back to back, as on a TCP stream (RFC 3261 §18.3).

    Each message's body is framed by its Content-Length (a message without one is taken to
    have no body). ``limits`` apply to each message, not to the stream, and the stream is
    read in time linear in its length: each message is framed in place and only its own
    octets are parsed. CRLFs between messages (keep-alives, RFC 5626 §3.5.1) are skipped.
    Stops with :class:`SipParseError` at the first broken message; the error's offset, line
    and column are positions in the whole stream.
    """
    whole = as_bytes(data)
    max_size = limits._bounds[0]
    size = len(whole)
    head_end = _HEAD_END_CRLF if strict else _HEAD_END_ANY
    pos = 0
    while True:
        # RFC 3261 §7.5: CRLFs before the start line are ignored; a stream that has
        # nothing but CRs and LFs left is finished.
        keepalives = _KEEPALIVES.match(whole, pos)
        pos = pos if keepalives is None else keepalives.end()
        if _NOT_CRLF.search(whole, pos) is None:
            return
        # The message's own octets: through the empty line that ends its header section,
        # looked for no further than the size limit allows (the body follows, framed by
        # Content-Length in _stream_body). Without an empty line, the rest of the stream
        # is the message (lenient) or an error (strict), both found by _parse_one; more
        # than the limit is cut at limit + 1 octets so that _parse_one reports the size.
        bound = size if size - pos <= max_size else pos + max_size
        found = head_end.search(whole, pos, bound)
        if found is not None:
            stop = found.end()
        elif bound == size:
            stop = size
        else:
            stop = bound + 1
        try:
            message, pos = _parse_one(whole[pos:stop], strict, limits, (whole, pos))
        except SipParseError as exc:
            raise exc.moved(whole, pos) from None
        yield message


def as_bytes(data: bytes | bytearray | memoryview | str) -> bytes:
    """The octets of ``data``; a ``str`` is encoded as UTF-8, and the surrogate escapes of
    undecodable octets (U+DC80 to U+DCFF, as ``people_text`` gives them) become those octets
    again. Any other lone surrogate cannot be encoded: a :class:`SipParseError` at its place."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        try:
            return data.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            bad = _UNENCODABLE.search(data)
            index = bad.start() if bad is not None else 0
            done = data[:index].encode("utf-8", "surrogateescape")
            raise error_at(done, len(done),
                           f"character U+{ord(data[index]):04X} (a lone surrogate) cannot "
                           "be encoded in UTF-8", rule=_FRAME_RULE,
                           expected="UTF-8 text") from None
    if isinstance(data, bytearray | memoryview):
        return bytes(data)
    raise TypeError(f"expected bytes or str, not {type(data).__name__}")


# Lone surrogates that ``surrogateescape`` cannot turn back into an octet.
_UNENCODABLE = re.compile("[\ud800-\udc7f\udd00-\udfff]")
# Framing a stream: keep-alive CRLFs, anything else, the end of a header section.
_KEEPALIVES = re.compile(rb"(?:\r\n)*")
_NOT_CRLF = re.compile(rb"[^\r\n]")
_HEAD_END_CRLF = re.compile(rb"\r\n\r\n")
# Lenient framing also ends a header section at LF LF, whichever of the two comes first
# (as _frame_slowly decides).
_HEAD_END_ANY = re.compile(rb"\r\n\r\n|\n\n")


def _parse_one(data: bytes, strict: bool, limits: Limits,
               stream: tuple[bytes, int] | None) -> tuple[SipRequest | SipResponse, int]:
    """Parse the message at the start of ``data``; return it and where it ends.

    One datagram (``stream`` None): ``data`` is all there is, and the end returned is
    ``len(data)``. On a stream (``stream`` is the whole stream and where ``data`` starts in
    it): ``data`` runs from the start line through the empty line ending the header section
    (or is the rest of the stream, when it has no empty line); the body is framed in the
    whole stream, the end returned is a position in it, and errors are placed in ``data``
    (with offsets past its end for faults of the body), for the caller to move.
    """
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
        status = _STATUS_LINE.match(text, skip)
        if strict and status is not None and not rule_regex("status_line").fullmatch(
                text, skip, status.end()):
            status = None  # status_line() below says what is wrong
        # At most ``end``: a message may have no header lines at all.
        line_end = text.find("\r\n", skip) if status is None else status.end() - 2
        section = text[line_end:end]
        headers = Headers(section, line_end)
        body_start = end + 4
        head_end: int | None = body_start  # header lines kept as received
        if end - skip > max_line:
            _check_line_length(text[skip:end].split("\r\n"), data, skip, 2, max_line)
    else:
        start, headers, body_start, line_count = _frame_slowly(
            text, data, skip, text.find("\r\n\r\n", skip), strict, limits, defects)
        head_end = None
        status = None
        section = headers.section
    if line_count > max_headers:
        raise error_at(data, skip, f"more than {max_headers} header lines", rule=_FRAME_RULE)

    if stream is not None:
        body, finish = _stream_body(stream, data, headers, body_start, strict, max_size,
                                    defects)
        if body:
            data += body  # the message's own octets: its head, then its body
    else:
        finish = len(data)
        found = _CONTENT_LENGTH.findall(section)
        if len(found) == 1 and found[0].rstrip("\r") == str(len(data) - body_start):
            body = data[body_start:]  # the common case: one length, all the body
        else:
            body = _frame_body(data, headers, body_start, strict, defects)

    if status is not None:  # the common case of a response, read with the framing
        code, reason = status.groups()
        message: SipRequest | SipResponse = new_message(
            SipResponse, "SIP/2.0", int(code), reason if reason.isascii() else (
                people_text(reason)), headers, body, tuple(defects) if defects else (),
            data, head_end)
        if strict:  # the Status-Line matched its grammar rule above
            check_strict(headers, data, None)
        return message, finish
    if head_end is not None:
        start = text[skip:line_end]
    method: str | None = None
    if start[:4].upper() == "SIP/":
        version, code, reason = status_line(start, data, skip, strict=strict, defects=defects)
        message = new_message(
            SipResponse, version, code, reason, headers, body, tuple(defects), data, head_end)
    else:
        method, uri, version = request_line(start, data, skip, strict=strict, defects=defects)
        message = new_message(SipRequest, method, uri, version, headers, body,
                              tuple(defects), data, head_end)
    if strict:
        check_strict(headers, data, method)
    return message, finish


# The first of: the empty line ending the header section (CRLF CRLF), or (group 1) a
# continuation line (RFC 3261 §7.3.1) or a CR not followed by LF. When the empty line
# comes first and the header section has as many CRs as LFs, every LF follows a CR: the
# section is cleanly cut into lines by CRLF. (One regex pass with a literal first octet:
# cheaper than finding the empty line, counting CRLFs and looking for "\n " apart.)
_HEAD_END_OR_FAULT = re.compile(r"\r(?:\n\r\n|(\n[ \t]|(?!\n)))")
# Content-Length values, each with its line's CR.
_CONTENT_LENGTH = VALUE_PATTERNS["content-length"]


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
                                   rule=HEADER_RULE, expected="a header name")
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
                       rule=HEADER_RULE, expected="CRLF")
    defects.append(f"bare CR or LF inside line {position(data, offset)[0]}")
    return line.replace("\r", "").replace("\n", "")


def _frame_body(data: bytes, headers: Headers, body_start: int, strict: bool,
                defects: list[str]) -> bytes:
    """The body of a datagram: what Content-Length frames, or all that follows the head."""
    found = _content_length(data, headers, strict, False, defects)
    if found is None:
        return data[body_start:]
    length, shown = found
    available = len(data) - body_start
    if length > available:
        if strict:
            raise _too_long(data, len(data), shown, available)
        defects.append(f"Content-Length {shown} exceeds the {available} octets of body")
        return data[body_start:]
    rest = len(data) - body_start - length
    if rest and not strict and data[body_start + length:].strip(b"\r\n\x00 "):
        # RFC 3261 §18.3: a datagram's octets past Content-Length are discarded.
        defects.append(f"{rest} octets after the body ignored")
    return data[body_start:body_start + length]


def _stream_body(stream: tuple[bytes, int], head: bytes, headers: Headers, body_start: int,
                 strict: bool, max_size: int, defects: list[str]) -> tuple[bytes, int]:
    """The body of a message on a stream, which starts at ``base`` of ``whole`` with the
    header section ``head`` (``body_start`` octets long): the body and where it ends in
    ``whole``. Errors are placed in ``head``, at offsets from its start."""
    whole, base = stream
    body_at = base + body_start
    found = _content_length(head, headers, strict, True, defects)
    if found is None:
        defects.append("no Content-Length on a stream: body taken as empty")
        return b"", body_at
    length, shown = found
    available = len(whole) - body_at
    if length > available:
        raise _too_long(head, len(whole) - base, shown, available)
    if body_start + length > max_size:
        raise error_at(head, max_size, f"message larger than the limit of {max_size} octets",
                       rule=_FRAME_RULE)
    return whole[body_at:body_at + length], body_at + length


def _content_length(data: bytes, headers: Headers, strict: bool, stream: bool,
                    defects: list[str]) -> tuple[int, str] | None:
    """The length Content-Length gives the body, and its digits as they are shown in
    messages: None when there is none (or, lenient and not on a stream, when it is
    unreadable: the body then runs to the end of the datagram)."""
    lengths = headers.fields_named("content-length")
    if not lengths:
        return None
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
        return None
    digits = text.lstrip("0") or "0"
    if len(digits) > _MAX_DIGITS:
        # More octets than any input holds. (And int() refuses numbers of more than 4,300
        # digits, sys.get_int_max_str_digits(): such a length is never converted.)
        return sys.maxsize, (digits if len(digits) <= 40
                             else f"{digits[:20]}... ({len(digits)} digits)")
    return int(digits), digits


# A Content-Length of more digits than this is larger than any input (RFC 3261 §20.14
# sets no limit): it is compared as sys.maxsize and shown as text.
_MAX_DIGITS = 18


def _too_long(data: bytes, at: int, length: str, available: int) -> SipParseError:
    return error_at(data, at,
                    f"Content-Length {length} is larger than the {available} octets "
                    "that follow the header section",
                    rule="Content-Length (RFC 3261 §18.3)", expected="more body octets")
