"""The header fields a lake row holds beyond those of the capture scan's head (``Head``):
Request-URI, From and To user and host, User-Agent or Server, Content-Type, Retry-After and
the Q.850 cause of a Reason header, and the body length.

The head is read the way ``capture/_head`` reads it (tolerant, one regex pass, header names
in any case and in compact form, folded lines joined, UTF-8 with replacement characters);
the values are cut by the parser's own functions (``_split``), so that a URI or a parameter
means the same thing here as in ``sipstatus.parse``. Nothing here raises on what a capture
holds: an unreadable value is left empty.
"""

from __future__ import annotations

import re

from sipstatus._registry import spellings
from sipstatus._split import MAX_DELTA, above, split_list, split_name_addr, split_params
from sipstatus.capture._head import header_end

# request_uri, from_user, from_host, to_user, to_host, user_agent, has_sdp, body_len,
# retry_after_s, q850_cause. A plain tuple: this runs once per message.
Extra = tuple[str, str, str, str, str, str, bool, int, "int | None", "int | None"]

_KEYS = ("from", "to", "user-agent", "server", "content-type", "retry-after", "reason")
_CANONICAL = {name.encode(): key for key in _KEYS for name in spellings(key)}
_FIELDS = re.compile(
    rb"\n(" + b"|".join(map(re.escape, _CANONICAL)) + rb")[ \t]*:[ \t]*([^\r\n]*)", re.I)
_FOLDED = re.compile(rb"\n[ \t]")
_UNFOLD = re.compile(rb"[ \t]*\r?\n[ \t]+")  # RFC 3261 §7.3.1: a folded line is one line
_DIGITS = re.compile(r"[ \t]*([0-9]+)")
#: The largest Q.850 cause kept (the column is int16; Q.850 causes are 0-127).
MAX_CAUSE = 32767

# From and To values repeat across a dialog, Content-Types across a capture: each distinct
# value is cut once (bounded caches, emptied when full).
_CACHE_SIZE = 8192
_ADDRESSES: dict[bytes, tuple[str, str]] = {}
_SDP: dict[bytes, bool] = {}


def _text(value: bytes) -> str:
    return value.decode("utf-8", "replace")


def user_and_host(value: bytes) -> tuple[str, str]:
    """The user and host of the URI in a From or To value; ``("", "")`` if unreadable.
    A ``tel:`` URI gives its number as the user and no host."""
    found = _ADDRESSES.get(value)
    if found is None:
        try:
            uri = split_name_addr(_text(value).strip()).uri
        except (ValueError, IndexError):  # SipParseError is a ValueError
            found = ("", "")
        else:
            if uri.scheme == "tel":
                found = (uri.text[4:].partition(";")[0], "")
            else:
                found = (uri.user or "", uri.host or "")
        if len(_ADDRESSES) >= _CACHE_SIZE:
            _ADDRESSES.clear()
        _ADDRESSES[value] = found
    return found


def is_sdp(content_type: bytes) -> bool:
    """Whether a Content-Type value is ``application/sdp`` (any case, parameters aside)."""
    found = _SDP.get(content_type)
    if found is None:
        media = split_params(_text(content_type))[0]
        kind, _, subtype = media.partition("/")
        found = (kind.strip().lower(), subtype.strip().lower()) == ("application", "sdp")
        if len(_SDP) >= _CACHE_SIZE:
            _SDP.clear()
        _SDP[content_type] = found
    return found


def retry_after_seconds(value: bytes) -> int | None:
    """The delta-seconds a Retry-After value starts with (above 2**32-1: 2**32-1, as the
    parser reads it), or ``None``."""
    match = _DIGITS.match(_text(value))
    if match is None:
        return None
    digits = match.group(1)
    return MAX_DELTA if above(digits, MAX_DELTA) else int(digits)


def q850_cause(values: list[bytes]) -> int | None:
    """The first ``cause`` of a ``Q.850`` item in Reason header values (RFC 3326)."""
    for value in values:
        for item in split_list(_text(value)):
            protocol, params = split_params(item)
            cause = params.get("cause")
            if (protocol.strip().lower() == "q.850" and cause is not None and cause.isdigit()
                    and cause.isascii() and not above(cause, MAX_CAUSE)):
                return int(cause)
    return None


def read_extra(data: bytes, is_request: bool) -> Extra:
    """The fields of :data:`Extra` from the message bytes ``data`` (the scan already found a
    start line at their beginning)."""
    line_end = data.find(b"\n")
    request_uri = ""
    if is_request:
        words = data[:line_end].split(b" ")
        request_uri = _text(words[1]) if len(words) > 2 else ""
    end = header_end(data, max(line_end - 1, 0))
    stop = end if end >= 0 else len(data)
    body_len = len(data) - end if end >= 0 else 0
    head = data
    if _FOLDED.search(data, line_end, stop) is not None:  # rare: unfold, then scan
        head = data[:line_end] + _UNFOLD.sub(b" ", data[line_end:stop])
        stop = len(head)
    fields: dict[str, bytes] = {}
    reasons: list[bytes] = []
    canonical = _CANONICAL
    for name, value in _FIELDS.findall(head, line_end, stop):
        key = canonical.get(name) or canonical[name.lower()]
        if key == "reason":
            reasons.append(value)
        elif key not in fields:  # the first one counts
            fields[key] = value
    from_user, from_host = user_and_host(fields["from"]) if "from" in fields else ("", "")
    to_user, to_host = user_and_host(fields["to"]) if "to" in fields else ("", "")
    agent = fields.get("user-agent") or fields.get("server") or b""
    content_type = fields.get("content-type")
    retry_after = fields.get("retry-after")
    return (request_uri, from_user, from_host, to_user, to_host, _text(agent.strip()),
            body_len > 0 and content_type is not None and is_sdp(content_type), body_len,
            retry_after_seconds(retry_after) if retry_after is not None else None,
            q850_cause(reasons) if reasons else None)
