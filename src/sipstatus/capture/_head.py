"""A small, tolerant scan of a SIP message head: recognition, framing and the fields a capture
summary needs. It is not a parser and judges nothing; ``sipstatus.parse`` does that.

- Recognition (:data:`START_LINE`): a payload is SIP when it starts with a Status-Line
  (``SIP/2.0 SP 3DIGIT ...``) or a Request-Line (``token SP Request-URI SP SIP/2.0``) ended by
  a line break, the same test tshark's heuristic SIP dissector makes (RFC 3261 §7.1, §7.2).
  ``SIP/2.0`` must be upper case, as tshark requires.
- Framing on streams (:func:`message_length`): the head ends at the first empty line (CRLF CRLF;
  a bare LF LF when the message has no CRLF CRLF); the body is ``Content-Length`` bytes
  (long or compact form ``l``, any case, RFC 3261 §7.3.3, §20.14). Deviation: RFC 3261 §18.3
  makes Content-Length mandatory on streams; without a readable value the body is taken to be
  empty (what a stream peer must assume), and the message is flagged. A value of more than
  ``MAX_DIGITS`` digits (leading zeros aside) frames as ``ABSURD_LENGTH``: the message never
  completes before its stream ends, as with any absurd length.
- Fields (:func:`scan_head`): start line, Call-ID, CSeq, the top Via's branch, From and To tags,
  Content-Length; header names case-insensitive, compact forms (``i v f t l``) understood,
  folded lines joined. Values are decoded as UTF-8 with replacement characters. A CSeq number
  or Content-Length of more than ``MAX_DIGITS`` digits is unreadable: the message is flagged.
- Hints tying the legs of a call together (``links``, see ``_legs``): the values of the
  headers the registry marks with a ``leg_hint`` (``X-CID`` and ``X-Call-ID``, every one of
  them; ``Session-ID``; ``P-Charging-Vector``), and the correlation id of a message that came
  in a HEP packet (:class:`~sipstatus.capture._legs.Correlated` bytes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sipstatus._registry import LEG_HINTS, spellings
from sipstatus.capture._legs import Correlated, hints

# group 1: status code, group 2: method
START_LINE = re.compile(
    rb"(?:SIP/2\.0 ([0-9]{3})(?:[ \t][^\r\n]*)?"
    rb"|([!%'*+\-.0-9A-Z_`a-z~]+) [^ \t\r\n]+ SIP/2\.0)\r?\n")
_LENGTH_NAMES = "|".join(spellings("content-length")).encode()
_CONTENT_LENGTH = re.compile(
    rb"\n(?:" + _LENGTH_NAMES + rb")[ \t]*:[ \t]*([0-9]+)[ \t]*\r?\n", re.I)
#: The longest number read from a head (leading zeros aside); a longer one is broken, never
#: converted (int() of thousands of digits is slow, and refused beyond 4,300).
MAX_DIGITS = 18
#: What a longer Content-Length frames as on a stream: more than any capture holds.
ABSURD_LENGTH = 10**MAX_DIGITS


def _number(digits: bytes) -> int | None:
    """The value of ASCII ``digits``, or ``None`` beyond ``MAX_DIGITS`` significant digits."""
    significant = digits.lstrip(b"0")
    return int(significant or b"0") if len(significant) <= MAX_DIGITS else None



def _canonical_names() -> dict[bytes, bytes]:
    """Each spelling of the header fields read (long and compact, RFC 3261 §7.3.3, from the
    header registry) -> one key: the compact form, or the name of a header without one."""
    names: dict[bytes, bytes] = {}
    for key in ("call-id", "cseq", "via", "from", "to", "content-length"):
        spelled = spellings(key)
        for name in spelled:
            names[name.encode()] = spelled[-1].encode()
    for key, hint in LEG_HINTS.items():  # "#call-id", "#session-id", "#icid"
        for name in spellings(key):
            names[name.encode()] = b"#" + hint.encode()
    return names


_CANONICAL = _canonical_names()
_CALL_IDS, _SESSION, _VECTOR = b"#call-id", b"#session-id", b"#icid"
# The fields read, found by one regex pass.
_FIELDS = re.compile(
    rb"\n(" + b"|".join(map(re.escape, _CANONICAL)) + rb")[ \t]*:[ \t]*([^\r\n]*)", re.I)
_FOLDED = re.compile(rb"\n[ \t]")
_UNFOLD = re.compile(rb"[ \t]*\r?\n[ \t]+")  # RFC 3261 §7.3.1: a folded line is one line
_BRANCH = re.compile(rb";[ \t]*branch[ \t]*=[ \t]*([^;, \t]+)", re.I)
_TAG = re.compile(rb";[ \t]*tag[ \t]*=[ \t]*([^;, \t>]+)", re.I)


def header_end(buf: bytes | bytearray, start: int = 0) -> int:
    """Index just past the empty line ending the head that starts at ``start``, or -1."""
    crlf = buf.find(b"\r\n\r\n", start)
    if crlf >= 0:
        return crlf + 4
    lf = buf.find(b"\n\n", start)  # bare LF line ends: tolerated, as most stacks do
    return lf + 2 if lf >= 0 else -1


def message_length(buf: bytes | bytearray, start: int, head_end: int) -> tuple[int, bool]:
    """Length of the message starting at ``start`` whose head ends at ``head_end``, and
    whether its Content-Length was read (``False``: body taken as empty)."""
    match = _CONTENT_LENGTH.search(buf, start, head_end)
    if match is None:
        return head_end - start, False
    body = _number(match.group(1))
    return head_end - start + (ABSURD_LENGTH if body is None else body), True


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
    content_length: int | None
    problem: str  # what the scan could not read, or ""
    via_branch: str = ""  # the top Via's branch parameter
    from_tag: str = ""
    to_tag: str = ""
    has_to_tag: bool = False
    links: tuple[str, ...] = ()  # hints naming the call's other legs (see _legs)


# From, To and Via values repeat across the messages of a dialog and a transaction: their
# parameters are looked up once (a bounded cache, emptied when full; values longer than
# _PARAMS_CACHE_VALUE are not kept, so the cache stays within a few MiB whatever the capture).
_PARAMS_CACHE: dict[bytes, str] = {}
_PARAMS_CACHE_SIZE = 8192
_PARAMS_CACHE_VALUE = 512


def _tag(value: bytes) -> str:
    # A tag is a header parameter: after the closing ">" when the URI is bracketed, else
    # anywhere after the URI (URI parameters cannot be "tag" there: RFC 3261 §20.10).
    if not value:
        return ""
    tag = _PARAMS_CACHE.get(value)
    if tag is None:
        close = value.rfind(b">")
        match = _TAG.search(value, close + 1 if close >= 0 else 0)
        tag = match.group(1).decode("utf-8", "replace") if match else ""
        if len(value) > _PARAMS_CACHE_VALUE:
            return tag
        if len(_PARAMS_CACHE) >= _PARAMS_CACHE_SIZE:
            _PARAMS_CACHE.clear()
        _PARAMS_CACHE[value] = tag
    return tag


def _branch(via: bytes) -> str:
    key = b"v" + via  # kept apart from the tag entries
    branch = _PARAMS_CACHE.get(key)
    if branch is None:
        match = _BRANCH.search(via.partition(b",")[0])
        branch = match.group(1).decode("utf-8", "replace") if match else ""
        if len(key) > _PARAMS_CACHE_VALUE:
            return branch
        if len(_PARAMS_CACHE) >= _PARAMS_CACHE_SIZE:
            _PARAMS_CACHE.clear()
        _PARAMS_CACHE[key] = branch
    return branch


def scan_head(data: bytes, full: bool = True) -> Head | None:
    """Read the fields of the message in ``data``; ``None`` if it does not start like SIP.

    ``full=False`` skips the Via branch and the From/To tags (a summary needs neither);
    ``has_to_tag`` is filled either way.
    """
    start = START_LINE.match(data)
    if start is None:
        return None
    line_end = start.end() - 1  # the head's first header line starts after this newline
    end = data.find(b"\r\n\r\n", line_end - 1)  # header_end(), inlined: this runs a lot
    if end >= 0:
        stop, problem = end + 4, ""
    else:
        end = header_end(data, line_end - 1)
        stop = end if end >= 0 else len(data)
        problem = "" if end >= 0 else "no empty line after the header fields"
    head = data
    if _FOLDED.search(data, line_end, stop) is not None:  # rare: unfold, then scan
        head = data[:line_end] + _UNFOLD.sub(b" ", data[line_end:stop])
        stop = len(head)
    fields: dict[bytes, bytes] = {}
    canonical = _CANONICAL
    for name, value in _FIELDS.findall(head, line_end, stop):
        key = canonical.get(name) or canonical[name.lower()]
        if key not in fields:  # the first one counts (the top Via)
            fields[key] = value
        elif key == _CALL_IDS:  # but every X-CID names a leg
            fields[key] += b"," + value
    code_text, method = start.groups()
    if method is not None:
        kind, status, reason, method_text = "request", 0, "", method.decode("ascii")
    else:
        kind, status, method_text = "response", int(code_text), ""
        reason = data[12:line_end].rstrip(b"\r").decode("utf-8", "replace")
    call_id = fields.get(b"i", b"").strip()
    cseq_seq: int | None = None
    cseq_method = ""
    cseq = fields.get(b"cseq")
    if cseq is not None:
        number, _, cmethod = cseq.strip().partition(b" ")
        cseq_method = cmethod.strip().decode("utf-8", "replace")
        if number.isdigit() and cseq_method:
            cseq_seq = _number(number)
    length_text = fields.get(b"l", b"").strip()
    content_length = _number(length_text) if length_text.isdigit() else None
    if not call_id or cseq_seq is None or (length_text and content_length is None):
        problem = _problems(call_id, cseq, cseq_seq, length_text, content_length, problem)
    to = fields.get(b"t", b"")
    branch = from_tag = to_tag = ""
    if full:
        via = fields.get(b"v")
        if via:
            branch = _branch(via)
        from_tag = _tag(fields.get(b"f", b""))
        to_tag = _tag(to)
        has_to_tag = bool(to_tag)
    else:
        has_to_tag = b"tag" in to.lower()
    links: tuple[str, ...] = ()
    named, session, vector = fields.get(_CALL_IDS), fields.get(_SESSION), fields.get(_VECTOR)
    correlated = data.__class__ is Correlated
    if named or session or vector or correlated:
        links = hints(named, session, vector,
                      data.correlation_id if isinstance(data, Correlated) else "")
    return Head(kind, method_text, status, reason, call_id.decode("utf-8", "replace"), cseq_seq,
                cseq_method, content_length, problem, branch, from_tag, to_tag, has_to_tag,
                links)


def _utf8(value: bytes) -> str:
    return value.decode("utf-8", "replace")


def _problems(call_id: bytes, cseq: bytes | None, cseq_seq: int | None, length_text: bytes,
              content_length: int | None, first: str) -> str:
    problems = [first] if first else []
    if not call_id:
        problems.append("no Call-ID")
    if cseq is None:
        problems.append("no CSeq")
    elif cseq_seq is None:
        problems.append(f"unreadable CSeq {_utf8(cseq.strip())[:40]!r}")
    if length_text and content_length is None:
        problems.append(f"unreadable Content-Length {_utf8(length_text)[:20]!r}")
    return "; ".join(problems)
