"""Cutting header values that the grammar accepts into their parts.

The grammar puts separators in known places: a ``,`` or ``;`` outside a quoted-string, an
angle-bracketed URI or a comment is always a separator, so values are cut with plain string
operations and a few regexes. Lenient input is read forgivingly: these functions raise
ValueError or IndexError (which the accessors turn into SipParseError) only when a value
makes no sense at all. ``tests/parse/test_grammar_differential.py`` compares what they return
with the tokens of Lark's parse tree on grammar-generated values.

Via, name-addr, URI and parameter values are read first by one regex match for their usual
shape (the fast paths, below); what the regex does not match goes to the general functions
(``*_generally``). ``tests/parse/test_entry_fast_paths.py`` checks that both give equal
parts, on grammar-generated, mutated and arbitrary text.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from sipstatus._errors import SipParseError
from sipstatus._params import EMPTY_PARAMS, Params, Uri, new_uri, set_params_items


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
    if len(text) < 10 and text.isdigit() and text.isascii():  # the usual: at most 999999999
        return int(text)
    text = text.strip(" \t")
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"not delta-seconds: {text!r}")
    return MAX_DELTA if above(text, MAX_DELTA) else int(text)


def qvalue(text: str) -> float | None:
    """A qvalue (RFC 3261 §25.1: 0 to 1 with up to three decimals) as a float; None when
    ``text`` is not one."""
    return _QVALUES.get(text)


# Every text that _QVALUE matches (1,117 of them), and its float: one dict look-up.
_QVALUES = {text: float(text) for text in (
    "0", "1", "0.", "1.", "1.0", "1.00", "1.000",
    *(f"0.{n:0{width}d}" for width in (1, 2, 3) for n in range(10**width)))}


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
    match = _HEAD_PARAMS.fullmatch(text)
    if match is None:
        return split_params_generally(text)
    head, params, irregular = match.groups()
    return head or "", _params(params, irregular)


def split_params_generally(text: str) -> tuple[str, Params]:
    """:func:`split_params` for any text."""
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
    match = _URI.fullmatch(text)
    if match is None:
        return parse_uri_generally(text)
    scheme, user, password, host, port, params, headers = match.groups()
    return new_uri(text, scheme if scheme == "sip" else scheme.lower(), user, password, host,
                   int(port) if port else None,
                   _uri_params(params[1:]) if len(params) > 1 else EMPTY_PARAMS,
                   _uri_headers(headers) if headers else ())


def parse_uri_generally(text: str) -> Uri:
    """:func:`parse_uri` for any text."""
    if not _SIP_SCHEME.match(text):
        scheme, _, _ = text.partition(":")
        return new_uri(text, scheme.lower(), None, None, None, None, EMPTY_PARAMS, ())
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
    return new_uri(text, scheme.lower(), user, password, host, port,
                   _uri_params(params_text) if params_text else EMPTY_PARAMS,
                   _uri_headers(headers_text) if headers_text else ())


def _uri_params(text: str) -> Params:
    """uri-parameters as written (RFC 3261 §19.1.1): ``text`` is what follows the first
    ";"; nothing is stripped or unquoted, and empty ones are kept."""
    pairs: list[tuple[str, str | None]] = []
    for item in text.split(";"):
        name, equal, value = item.partition("=")
        pairs.append((name, value if equal else None))
    params: Params = _new(Params)
    set_params_items(params, tuple(pairs))
    return params


def _uri_headers(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((name, value) for name, _, value in (h.partition("=") for h in text.split("&")))


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
    return _tuple_new(NameAddrParts, name_addr_fields(text))


def name_addr_fields(text: str) -> tuple[str | None, Uri, Params]:
    """:func:`split_name_addr` as a plain tuple (what a lazy value keeps)."""
    if "<" in text:
        match = _NAME_ADDR.fullmatch(text)
        if match is None:
            return split_name_addr_generally(text)
        (quoted, tokens, uri_text, scheme, user, password, host, port, uri_params, headers,
         other_scheme, params, irregular) = match.groups()
        if quoted is not None:
            display = quoted if "\\" not in quoted else _QUOTED_PAIR.sub(r"\1", quoted)
        else:
            display = tokens
        if other_scheme is not None:  # an absoluteURI: only its scheme is cut out
            uri = new_uri(uri_text, other_scheme.lower(), None, None, None, None, EMPTY_PARAMS,
                          ())
        else:
            uri = new_uri(uri_text, scheme if scheme == "sip" else scheme.lower(), user,
                          password, host, int(port) if port else None,
                          _uri_params(uri_params[1:]) if len(uri_params) > 1 else EMPTY_PARAMS,
                          _uri_headers(headers) if headers else ())
    else:
        match = _ADDR_SPEC.fullmatch(text)
        if match is None:
            return split_name_addr_generally(text)
        uri_text, scheme, user, password, host, port, params, irregular = match.groups()
        display = None
        uri = new_uri(uri_text, scheme if scheme == "sip" else scheme.lower(), user, password,
                      host, int(port) if port else None, EMPTY_PARAMS, ())
    if irregular or not params:
        return display, uri, _params(params, irregular)
    valued: Params = _new(Params)  # _params, inlined: the usual case
    set_params_items(valued, tuple(_VALUED_PARAM.findall(params)))
    return display, uri, valued


def split_name_addr_generally(text: str) -> NameAddrParts:
    """:func:`split_name_addr` for any text."""
    if text == "*":
        return NameAddrParts(None, Uri(text="*", scheme=""), EMPTY_PARAMS)
    display, uri, rest = _name_addr_parts(text.strip())
    params = split_params(rest)[1] if rest.strip() else EMPTY_PARAMS
    return NameAddrParts(display, uri, params)


_SENT_PROTOCOL = re.compile(r"\s*([^/\s]+)\s*/\s*([^/\s]+)\s*/\s*([^\s;]+)\s+([^;]*)(.*)", re.S)


def split_via(text: str) -> ViaParts:
    """(protocol, version, transport, host, port, params) of one Via value."""
    return _tuple_new(ViaParts, via_fields(text))


def via_fields(text: str) -> tuple[str, str, str, str, int | None, Params]:
    """:func:`split_via` as a plain tuple (what a lazy value keeps)."""
    match = _VIA.fullmatch(text)
    if match is None:
        return split_via_generally(text)
    protocol, version, transport, host, port, params, irregular = match.groups()
    if irregular or not params:
        return (protocol, version, transport.upper(), host, int(port) if port else None,
                _params(params, irregular))
    valued: Params = _new(Params)  # _params, inlined: the usual case
    set_params_items(valued, tuple(_VALUED_PARAM.findall(params)))
    return protocol, version, transport.upper(), host, int(port) if port else None, valued


def split_via_generally(text: str) -> ViaParts:
    """:func:`split_via` for any text."""
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


# Fast paths ------------------------------------------------------------------------------
#
# One regex match reads the usual shape of a value; anything else goes to the general
# functions above, so a fast path only has to be right where its regex matches. Each set
# below holds visible ASCII only: no white space (stripping would change nothing), no '"' or
# "<" (no quoted-string or bracketed URI starts inside), and none of the separators that the
# general functions look for at that place. Every repetition is possessive (each character
# is looked at once: linear time), and the sets are ranges, which the regex engine tests
# with a bitmap.

_new = object.__new__
_tuple_new = tuple.__new__

# Parameters: a name holds none of ; = " <, a value none of ; " < = either (a value with "="
# goes to the general path). Two groups: all the parameters, and those from the first
# "irregular" one on: without a value, or with SP/HTAB around ";" or "=" (as folded lines
# leave them). The second is empty in the usual case, and one findall reads them all.
_NAME = r"[!#-:>-~]++"
_PARAMS = (rf"((?:;{_NAME}={_NAME})*+"
           rf"((?:[ \t]*+;[ \t]*+{_NAME}(?:[ \t]*+=[ \t]*+{_NAME})?+)*+))")
_VALUED_PARAM = re.compile(r";([^=]*+)=([^;]*+)")

# head *( ;param ), as split_params_generally cuts it: the head (no ; " < or white space)
# keeps the white space before the first ";"; without a head, the parameters start with it.
_HEAD_PARAMS = re.compile(rf"(?:([!#-:=-~]++)[ \t]*+)?+{_PARAMS}")

# A SIP URI (RFC 3261 §19.1.1) cut as parse_uri_generally cuts it: "@" only at the end of
# userinfo, the user without ":", the first ";" after the host starting the parameters, the
# first "?" the headers. Groups: scheme, user, password, host, port, ";params", headers.
_SIP_URI = (
    r"((?i:sips?)):"
    r"(?:([!#-9;=?A-~]*+)(?::([!#-;=?A-~]*+))?+@)?+"
    r"([!#-9=A-Z\\^-~]++|\[[!#-:=A-\\^-~]*+\])(?::([0-9]{1,9}))?+"
    r"((?:;[!#-:=A-~]*+)*+)"
    r"(?:\?([!#-;=?A-~]*+))?+"
)
_URI = re.compile(_SIP_URI)

# [ display-name ] <URI> *( ;param ): the display name quoted, or tokens with one SP
# between them (no ; " < >), then optional white space; a SIP URI or an absoluteURI of
# another scheme (tel:, urn: ...: not "sip:" or "sips:", which parse_uri_generally cuts).
_NAME_ADDR = re.compile(
    r'(?:"((?:[^"\\]++|\\.)*+)"[ \t]*+|([!#-:=?-~]++(?: [!#-:=?-~]++)*+)[ \t]*+)?+'
    rf"<({_SIP_URI}|(?!(?i:sips?):)([A-Za-z][-+.0-9A-Za-z]*+):[!#-;=?-~]*+)>"
    rf"{_PARAMS}",
    re.S,
)

# addr-spec *( ;param ): a SIP URI without ";" in its userinfo (the first ";" ends a bare
# addr-spec), without parameters or headers.
_ADDR_SPEC = re.compile(
    r"(((?i:sips?)):(?:([!#-9=?A-~]*+)(?::([!#-:=?A-~]*+))?+@)?+"
    r"([!#-9=A-Z\\^-~]++|\[[!#-:=A-\\^-~]*+\])(?::([0-9]{1,9}))?+)"
    rf"[ \t]*+{_PARAMS}"
)

# sent-protocol LWS sent-by *( ;via-params ): protocol and version without "/", the
# transport without ";", SP/HTAB, a host without : ; [ ] or an IPv6 reference, an optional
# port, optional SP/HTAB.
_VIA = re.compile(
    r"([!-.0-~]++)/([!-.0-~]++)/([!-:<-~]++)[ \t]++"
    r"([!-9<-Z\\^-~]++|\[[!-:<-\\^-~]*+\])(?::([0-9]{1,9}))?+[ \t]*+"
    rf"{_PARAMS}"
)


def _params(params: str, irregular: str) -> Params:
    """The parameters that ``_PARAMS`` matched (its two groups). There is nothing to
    unquote, and no quoted-string or bracket to cut around: this is split_params_generally
    with str.split for its regex."""
    if not params:
        return EMPTY_PARAMS
    if not irregular:
        pairs: tuple[tuple[str, str | None], ...] = tuple(_VALUED_PARAM.findall(params))
    else:
        items = []
        for part in params.split(";"):
            if part:
                name, equal, value = part.partition("=")
                items.append((name.strip(), value.strip() if equal else None))
        pairs = tuple(items)
    result: Params = _new(Params)
    set_params_items(result, pairs)
    return result
