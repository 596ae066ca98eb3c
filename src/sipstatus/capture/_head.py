"""A small, tolerant scan of a SIP message head: recognition, framing and the fields a capture
summary needs. It is not a parser and judges nothing; ``sipstatus.parse`` does that.

- Recognition (:data:`START_LINE`): a payload is SIP when it starts with a Status-Line
  (``SIP/2.0 SP 3DIGIT ...``) or a Request-Line (``token SP Request-URI SP SIP/2.0``) ended by
  a line break, the same test tshark's heuristic SIP dissector makes (RFC 3261 §7.1, §7.2).
  ``SIP/2.0`` must be upper case, as tshark requires.
- Framing on streams (:func:`message_length`): the head ends at the first empty line (CRLF CRLF;
  a bare LF LF is accepted when no CRLF CRLF comes first); the body is ``Content-Length`` bytes
  (long or compact form ``l``, any case, RFC 3261 §7.3.3, §20.14). Deviation: RFC 3261 §18.3
  makes Content-Length mandatory on streams; without a readable value the body is taken to be
  empty (what a stream peer must assume), and the message is flagged.
- Fields (:func:`scan_head`): start line, Call-ID, CSeq, the top Via's branch, From and To tags,
  Content-Length; header names case-insensitive, compact forms (``i v f t l``) understood,
  folded lines joined. Values are decoded as UTF-8 with replacement characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# group 1: status code, group 2: method
START_LINE = re.compile(
    rb"(?:SIP/2\.0 ([0-9]{3})(?:[ \t][^\r\n]*)?"
    rb"|([!%'*+\-.0-9A-Z_`a-z~]+) [^ \t\r\n]+ SIP/2\.0)\r?\n")
_CONTENT_LENGTH = re.compile(rb"\n(?:content-length|l)[ \t]*:[ \t]*([0-9]+)[ \t]*\r?\n", re.I)

_COMPACT = {b"i": b"call-id", b"l": b"content-length", b"v": b"via", b"f": b"from", b"t": b"to"}
_WANTED = frozenset((b"call-id", b"cseq", b"via", b"from", b"to", b"content-length"))
_BRANCH = re.compile(rb";[ \t]*branch[ \t]*=[ \t]*([^;, \t]+)", re.I)
_TAG = re.compile(rb";[ \t]*tag[ \t]*=[ \t]*([^;, \t>]+)", re.I)


def header_end(buf: bytes | bytearray, start: int = 0) -> int:
    """Index just past the empty line ending the head that starts at ``start``, or -1."""
    crlf = buf.find(b"\r\n\r\n", start)
    lf = buf.find(b"\n\n", start, crlf if crlf >= 0 else len(buf))
    if lf >= 0:
        return lf + 2
    return crlf + 4 if crlf >= 0 else -1


def message_length(buf: bytes | bytearray, start: int, head_end: int) -> tuple[int, bool]:
    """Length of the message starting at ``start`` whose head ends at ``head_end``, and
    whether its Content-Length was read (``False``: body taken as empty)."""
    match = _CONTENT_LENGTH.search(buf, start, head_end)
    if match is None:
        return head_end - start, False
    return head_end - start + int(match.group(1)), True


@dataclass(frozen=True, slots=True)
class Head:
    """The fields :func:`scan_head` read from one message. Empty string / ``None`` = absent."""

    kind: str  # "request" or "response"
    method: str  # the request method; "" for a response
    status_code: int  # 0 for a request
    reason: str
    call_id: str
    cseq_seq: int | None
    cseq_method: str
    via_branch: str
    from_tag: str
    to_tag: str
    content_length: int | None
    problem: str  # what the scan could not read, or ""


def _text(value: bytes) -> str:
    return value.decode("utf-8", "replace")


def _tag(value: bytes) -> str:
    # A tag is a header parameter: after the closing ">" when the URI is bracketed, else
    # anywhere after the URI (URI parameters cannot be "tag" there: RFC 3261 §20.10).
    close = value.rfind(b">")
    match = _TAG.search(value, close + 1 if close >= 0 else 0)
    return _text(match.group(1)) if match else ""


def scan_head(data: bytes) -> Head | None:
    """Read the fields of the message in ``data``; ``None`` if it does not start like SIP."""
    start = START_LINE.match(data)
    if start is None:
        return None
    end = header_end(data)
    head = data[start.end():end if end >= 0 else len(data)]
    problems = [] if end >= 0 else ["no empty line after the header fields"]
    fields: dict[bytes, bytes] = {}
    last = b""
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t"):  # folded continuation (RFC 3261 §7.3.1)
            if last:
                fields[last] += b" " + line.strip()
            continue
        name, colon, value = line.partition(b":")
        if not colon:
            if line.strip():
                problems.append(f"header line without a colon: {_text(line.strip())[:40]!r}")
            last = b""
            continue
        name = name.rstrip().lower()
        name = _COMPACT.get(name, name)
        if name in _WANTED and name not in fields:
            fields[name] = value.strip()
            last = name
        else:
            last = b""
    code_text, method = start.group(1), start.group(2)
    if method is not None:
        kind, status, reason = "request", 0, ""
    else:
        kind, status = "response", int(code_text)
        line = start.group(0).rstrip(b"\r\n")
        reason = _text(line[12:])
    call_id = _text(fields.get(b"call-id", b""))
    if not call_id:
        problems.append("no Call-ID")
    cseq_seq: int | None = None
    cseq_method = ""
    cseq = fields.get(b"cseq")
    if cseq is None:
        problems.append("no CSeq")
    else:
        number, _, cmethod = cseq.partition(b" ")
        cseq_method = _text(cmethod.strip())
        if number.isdigit() and cseq_method:
            cseq_seq = int(number)
        else:
            problems.append(f"unreadable CSeq {_text(cseq)[:40]!r}")
    via = fields.get(b"via", b"")
    branch = _BRANCH.search(via.partition(b",")[0])
    length_text = fields.get(b"content-length")
    content_length = int(length_text) if length_text and length_text.isdigit() else None
    if length_text is not None and content_length is None:
        problems.append(f"unreadable Content-Length {_text(length_text)[:20]!r}")
    return Head(
        kind=kind,
        method=_text(method) if method is not None else "",
        status_code=status,
        reason=reason,
        call_id=call_id,
        cseq_seq=cseq_seq,
        cseq_method=cseq_method,
        via_branch=_text(branch.group(1)) if branch else "",
        from_tag=_tag(fields.get(b"from", b"")),
        to_tag=_tag(fields.get(b"to", b"")),
        content_length=content_length,
        problem="; ".join(problems),
    )
