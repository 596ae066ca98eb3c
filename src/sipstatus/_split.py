"""Cutting header values that the grammar accepts into their parts.

The grammar puts separators in known places: a ``,`` or ``;`` outside a quoted-string, an
angle-bracketed URI or a comment is always a separator, so values are cut with plain string
operations and a few regexes. Lenient input is read forgivingly: these functions raise
ValueError or IndexError (which the accessors turn into SipParseError) only when a value
makes no sense at all. ``tests/parse/test_grammar_differential.py`` compares what they return
with the tokens of Lark's parse tree on grammar-generated values.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from sipstatus._errors import SipParseError
from sipstatus._params import EMPTY_PARAMS, Params, Uri


class NameAddrParts(NamedTuple):
    """The parts of a name-addr or addr-spec with parameters (RFC 3261 §20.20)."""

    display_name: str | None
    uri: Uri
    params: Params


class ViaParts(NamedTuple):
    """The parts of one Via value (RFC 3261 §20.42)."""

    protocol: str
    version: str
    transport: str
    host: str
    port: int | None
    params: Params


# No comma-list header has comments (RFC 3261 §25.1 puts comments only in Server,
# User-Agent and Retry-After), so "(" is an ordinary character here. A quoted-string or an
# angle-bracketed URI that is never closed runs to the end of the value (lenient reading);
# both are atomic, so each character is looked at once: linear time on any input.
_LIST_ITEM = re.compile(r'(?:"(?:[^"\\]++|\\.)*+"?|<[^>]*+>?|[^,"<]++)++', re.S)
_PARAM_ITEM = re.compile(r'(?:"(?:[^"\\]++|\\.)*+"?|<[^>]*+>?|[^;"<]++)++', re.S)
_QUOTED_PAIR = re.compile(r"\\(.)", re.S)


#: The largest delta-seconds (RFC 3261 §10.2.1.1, §20.19).
MAX_DELTA = 2**32 - 1
_QVALUE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")


def number(text: str) -> int:
    """A whole number written in ASCII digits, white space around it allowed. ValueError for
    anything else: a sign, ``_``, other scripts' digits, or more digits than Python converts."""
    text = text.strip(" \t")
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"not a number: {text!r}")
    return int(text)


def above(digits: str, maximum: int) -> bool:
    """Whether the ASCII digits ``digits`` stand for a number above ``maximum``, without
    converting a number longer than ``maximum`` (any length is fine)."""
    digits = digits.lstrip("0")
    limit = str(maximum)
    return len(digits) > len(limit) or (len(digits) == len(limit) and digits > limit)


def delta_seconds(text: str) -> int:
    """delta-seconds (RFC 3261 §25.1): ASCII digits; a value above 2**32-1 reads as 2**32-1
    (the largest the RFC allows; strict parsing rejects it). ValueError for anything else."""
    text = text.strip(" \t")
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"not delta-seconds: {text!r}")
    return MAX_DELTA if above(text, MAX_DELTA) else int(text)


def qvalue(text: str) -> float | None:
    """A qvalue (RFC 3261 §25.1: 0 to 1 with up to three decimals) as a float; None when
    ``text`` is not one."""
    return float(text) if _QVALUE.fullmatch(text) else None


def unquote(value: str) -> str:
    """A quoted-string's content, quoted-pairs resolved; other text is returned as is."""
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return _QUOTED_PAIR.sub(r"\1", value[1:-1])
    return value


def split_list(value: str) -> list[str]:
    """Split a comma list at its top-level commas (``#rule`` of RFC 3261 §7.3.1)."""
    if "," not in value:
        return [value.strip()] if value.strip() else []
    return [item.strip() for item in _LIST_ITEM.findall(value) if item.strip()]


def split_params(text: str) -> tuple[str, Params]:
    """Split ``head;name=value;...`` into the head and its parameters (values unquoted)."""
    if ";" not in text:
        return text.strip(), EMPTY_PARAMS
    parts = _PARAM_ITEM.findall(text)
    head = parts[0].strip() if not text.lstrip().startswith(";") else ""
    rest = parts[1:] if head else parts
    pairs: list[tuple[str, str | None]] = []
    for part in rest:
        name, equal, value = part.partition("=")
        pairs.append((name.strip(), unquote(value.strip()) if equal else None))
    return head, Params(tuple(pairs))


# URIs ------------------------------------------------------------------------------------

_SIP_SCHEME = re.compile(r"sips?:", re.I)


def parse_uri(text: str) -> Uri:
    """Split a URI that the grammar accepted into its parts (RFC 3261 §19.1.1)."""
    if not _SIP_SCHEME.match(text):
        scheme, _, _ = text.partition(":")
        return Uri(text=text, scheme=scheme.lower())
    scheme, _, rest = text.partition(":")
    user = password = None
    # "@" appears in a SIP URI only at the end of userinfo (user and password may contain
    # ";" "?" "/" but not "@"; hosts, parameters and headers never contain "@").
    at = rest.rfind("@")
    if at >= 0:
        userinfo, rest = rest[:at], rest[at + 1 :]
        if ":" in userinfo:
            user, password = userinfo.split(":", 1)
        else:
            user = userinfo
    headers_text = ""
    if "?" in rest:
        rest, headers_text = rest.split("?", 1)
    hostport, _, params_text = rest.partition(";")
    host, port = _split_hostport(hostport)
    params: Params = EMPTY_PARAMS
    if params_text:
        pairs = []
        for item in params_text.split(";"):
            name, equal, value = item.partition("=")
            pairs.append((name, value if equal else None))
        params = Params(tuple(pairs))
    headers: tuple[tuple[str, str], ...] = ()
    if headers_text:
        headers = tuple(
            (name, value) for name, _, value in (h.partition("=") for h in headers_text.split("&"))
        )
    return Uri(
        text=text,
        scheme=scheme.lower(),
        user=user,
        password=password,
        host=host,
        port=port,
        params=params,
        headers=headers,
    )


def _split_hostport(hostport: str) -> tuple[str, int | None]:
    hostport = hostport.strip()
    if hostport.startswith("["):
        end = hostport.index("]")
        host, rest = hostport[: end + 1], hostport[end + 1 :].strip()
        return host, number(rest.lstrip(":")) if rest else None
    if ":" in hostport:
        host, port = hostport.rsplit(":", 1)
        return host.strip(), number(port)
    return hostport, None


# Addresses -------------------------------------------------------------------------------


def _name_addr_parts(item: str) -> tuple[str | None, Uri, str]:
    """(display name, URI, text after the address) of a name-addr or bare addr-spec."""
    # A name-addr has its "<" before any ";" (a display name holds neither, unquoted); a
    # bare addr-spec may have a "<" later, inside a quoted parameter value.
    angle = item.find("<")
    first_semi = item.find(";")
    if item.startswith('"') or (angle >= 0 and (first_semi < 0 or angle < first_semi)):
        # The display name (a quoted-string or tokens) never contains an unquoted "<".
        if item.startswith('"'):
            end = _quoted_end(item, 0)
            display: str | None = unquote(item[: end + 1])
            start = item.index("<", end)
        else:
            start = item.index("<")
            words = item[:start].split()
            display = " ".join(words) if words else None
        close = item.index(">", start)
        return display, parse_uri(item[start + 1 : close]), item[close + 1 :]
    # A bare addr-spec holds no ";" (RFC 3261 §20.10), so the first ";" ends it.
    uri, semi, rest = item.partition(";")
    return None, parse_uri(uri.strip()), semi + rest


def _quoted_end(text: str, start: int) -> int:
    index = start + 1
    while True:
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == '"':
            return index
        index += 1


def split_name_addr(text: str) -> NameAddrParts:
    """(display name, URI, parameters) of a name-addr or addr-spec with parameters."""
    if text == "*":
        return NameAddrParts(None, Uri(text="*", scheme=""), EMPTY_PARAMS)
    display, uri, rest = _name_addr_parts(text.strip())
    params = split_params(rest)[1] if rest.strip() else EMPTY_PARAMS
    return NameAddrParts(display, uri, params)


_SENT_PROTOCOL = re.compile(r"\s*([^/\s]+)\s*/\s*([^/\s]+)\s*/\s*([^\s;]+)\s+([^;]*)(.*)", re.S)


def split_via(text: str) -> ViaParts:
    """(protocol, version, transport, host, port, params) of one Via value."""
    match = _SENT_PROTOCOL.fullmatch(text)
    if match is None:
        raise SipParseError(f"cannot read the Via value {text!r}", rule="Via (RFC 3261 §20.42)",
                            expected="sent-protocol LWS sent-by")
    protocol, version, transport, sent_by, rest = match.groups()
    try:
        host, port = _split_hostport(sent_by)
    except ValueError:
        raise SipParseError(f"cannot read the Via sent-by {sent_by!r}",
                            rule="Via (RFC 3261 §20.42)", expected="host [ COLON port ]") from None
    params = split_params(rest)[1] if rest.strip() else EMPTY_PARAMS
    return ViaParts(protocol, version, transport.upper(), host, port, params)
