"""Typed header values: validation against the grammar, and cutting values into parts.

``validate_value`` checks a value against its rule in ``grammar/sip.lark``: through the
regex compiled from that rule (``_fastpath``), and the Lark parser itself whenever the
regex misses, so that an error names the exact place and what was expected. Strict mode
runs it on every header; ``.defects`` runs it for lenient messages.

The extraction functions cut a value at its separators, which the grammar puts in known
places: a ``,`` or ``;`` outside a quoted-string, an angle-bracketed URI or a comment is
always a separator. They read lenient input forgivingly, raising ValueError or IndexError
(which the accessors turn into SipParseError) only when a value makes no sense at all.
``tests/parse/test_grammar_differential.py`` compares what they return with the tokens of
Lark's parse tree on grammar-generated values.

Header text is parsed as latin-1 (one character per octet); accessors decode it to UTF-8
(``people_text``) once, before it reaches the extraction functions.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sipstatus._errors import SipParseError, position
from sipstatus._fastpath import rule_regex
from sipstatus._grammar import parser
from sipstatus._values import (
    EMPTY_PARAMS,
    Challenge,
    ContactEntry,
    CSeq,
    MediaType,
    NameAddr,
    Params,
    RAck,
    ReasonValue,
    RetryAfter,
    SessionExpires,
    TokenWithParams,
    Uri,
    Via,
    WarningValue,
    slot_setter,
)

if TYPE_CHECKING:  # lark is imported when a value first needs the grammar
    from lark.exceptions import UnexpectedInput

# ----------------------------------------------------------------------------------------
# Validation


def validate_value(rule: str, value: str, *, data: bytes, offset: int, header: str) -> None:
    """Raise SipParseError unless ``value`` matches grammar rule ``rule``.

    ``data`` and ``offset`` (where the value starts in ``data``) place the error.
    """
    if rule_regex(rule).fullmatch(value):
        return
    from lark.exceptions import UnexpectedInput

    try:
        parser().parse(value, start=rule)
    except UnexpectedInput as exc:
        at = offset + max(0, min(exc.pos_in_stream or 0, len(value)))
        line, column = position(data, at)
        what = expected_text(exc)
        raise SipParseError(
            f"invalid {header} header: {what} at line {line}, column {column}",
            offset=at,
            line=line,
            column=column,
            rule=f"{header} ({RULE_SECTIONS.get(rule, 'RFC 3261 §25.1')})",
            expected=what,
        ) from None


#: Where each value rule is defined, for error messages.
RULE_SECTIONS = {
    "via_value": "RFC 3261 §20.42",
    "cseq_value": "RFC 3261 §20.16",
    "name_addr_value": "RFC 3261 §20.20",
    "contact_value": "RFC 3261 §20.10",
    "call_id_value": "RFC 3261 §20.8",
    "retry_after_value": "RFC 3261 §20.33",
    "challenge": "RFC 3261 §20.44",
    "credentials": "RFC 3261 §20.7",
    "warning_value": "RFC 3261 §20.43",
    "reason_value": "RFC 3326 §2",
    "session_expires_value": "RFC 4028 §4",
    "min_se_value": "RFC 4028 §5",
    "security_value": "RFC 3329 §2.2",
    "rack_value": "RFC 3262 §7.2",
    "event_value": "RFC 6665 §8.4",
    "content_type_value": "RFC 3261 §20.15",
    "accept_value": "RFC 3261 §20.1",
    "route_value": "RFC 3261 §20.34",
    "server_value": "RFC 3261 §20.35",
    "status_line": "RFC 3261 §7.2",
    "request_line": "RFC 3261 §7.1",
}

#: Terminal names in words, for "expected ..." messages.
TERMINAL_WORDS = {
    "STATUS_CODE": "Status-Code (3 digits)",
    "SIP_VERSION": 'SIP-Version ("SIP/2.0")',
    "SP": "a single space (SP)",
    "CRLF": "end of line (CRLF)",
    "EOL": "end of line (CRLF)",
    "METHOD": "Method (a token)",
    "REQUEST_URI": "Request-URI",
    "REASON_PHRASE": "Reason-Phrase",
    "TOKEN": "a token",
    "DIGITS": "digits",
    "LWS": "white space",
    "HCOLON": '":"',
    "COLON": '":"',
    "SEMI": '";"',
    "COMMA": '","',
    "EQUAL": '"="',
    "SLASH": '"/"',
    "LAQUOT": '"<"',
    "RAQUOT": '">"',
    "LPAREN": '"("',
    "RPAREN": '")"',
    "STAR": '"*"',
    "QUOTED_STRING": "a quoted-string",
    "ADDR_SPEC": "a URI",
    "BARE_ADDR_SPEC": "a URI",
    "ABSOLUTE_URI": "an absolute URI",
    "HOST_TOKEN": "a host",
    "PORT": "a port",
    "GEN_VALUE": "a token, host or quoted-string",
    "AUTH_VALUE": "a token or quoted-string",
    "QVALUE": "a q-value (0 to 1, up to 3 decimals)",
    "RECEIVED_ADDRESS": "an IP address",
    "HEADER_NAME": "a header name (token)",
    "HEADER_VALUE": "a header value",
    "CALLID": "a Call-ID (word[@word])",
    "WARN_CODE": "warn-code (3 digits)",
    "WARN_AGENT": "warn-agent",
    "SIP_DATE": 'an RFC 1123 date ending in "GMT"',
    "CTEXT": "comment text",
    "TTL": "a ttl (1 to 3 digits)",
}


def expected_text(exc: UnexpectedInput) -> str:
    """Describe what the parser wanted where it stopped."""
    expected = sorted(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())
    words: list[str] = []
    for name in expected:
        word = TERMINAL_WORDS.get(name, name.replace("_", "-").lower())
        if word not in words:
            words.append(word)
    if not words:
        return "unexpected end of input"
    if len(words) > 4:
        words = [*words[:4], "..."]
    return "expected " + " or ".join(words)


# ----------------------------------------------------------------------------------------
# Cutting accepted values

# No comma-list header has comments (RFC 3261 §25.1 puts comments only in Server,
# User-Agent and Retry-After), so "(" is an ordinary character here.
_LIST_ITEM = re.compile(r'(?:"(?:[^"\\]|\\.)*"|<[^>]*>|[^,"<])+', re.S)
_PARAM_ITEM = re.compile(r'(?:"(?:[^"\\]|\\.)*"|<[^>]*>|[^;"<])+', re.S)
_QUOTED_PAIR = re.compile(r"\\(.)", re.S)
_TOKEN = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")


def people_text(value: str) -> str:
    """latin-1 header text back to the UTF-8 a person wrote."""
    if value.isascii():
        return value
    return value.encode("latin-1").decode("utf-8", "surrogateescape")


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
        return host, int(rest.lstrip(":").strip()) if rest else None
    if ":" in hostport:
        host, port = hostport.rsplit(":", 1)
        return host.strip(), int(port.strip())
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


def split_name_addr(text: str) -> tuple[str | None, Uri, Params]:
    """(display name, URI, parameters) of a name-addr or addr-spec with parameters."""
    if text == "*":
        return None, Uri(text="*", scheme=""), EMPTY_PARAMS
    display, uri, rest = _name_addr_parts(text.strip())
    params = split_params(rest)[1] if rest.strip() else EMPTY_PARAMS
    return display, uri, params


def name_addr(value: str) -> NameAddr:
    return NameAddr(value.strip())


def contact_list(value: str) -> tuple[ContactEntry, ...]:
    if value.strip() == "*":
        return (ContactEntry("*"),)
    return tuple(map(ContactEntry, split_list(value)))


_SENT_PROTOCOL = re.compile(r"\s*([^/\s]+)\s*/\s*([^/\s]+)\s*/\s*([^\s;]+)\s+([^;]*)(.*)", re.S)


def split_via(text: str) -> tuple[str, str, str, str, int | None, Params]:
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
    return protocol, version, transport.upper(), host, port, params


def via_list(value: str) -> tuple[Via, ...]:
    return tuple(map(Via, split_list(value)))


# Numbers and simple values ------------------------------------------------------------------


set_cseq_seq = slot_setter(CSeq, "seq")
set_cseq_method = slot_setter(CSeq, "method")


def cseq(value: str) -> CSeq:
    seq, space, method = value.partition(" ")
    if not space or not seq.isdigit():  # LWS other than one SP, or no LWS at all
        seq, method = value.split(None, 1)
    result: CSeq = object.__new__(CSeq)
    set_cseq_seq(result, int(seq))
    set_cseq_method(result, method.strip())
    return result


def rack(value: str) -> RAck:
    rseq, seq, method = value.split(None, 2)
    return RAck(rseq=int(rseq), cseq=int(seq), method=method.strip())


def token_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def retry_after(value: str) -> RetryAfter:
    value = value.strip()
    digits = re.match(r"[0-9]+", value)
    if digits is None:
        raise ValueError("Retry-After must start with delta-seconds")
    index = digits.end()
    comment = None
    rest = value[index:].lstrip()
    if rest.startswith("("):
        end = _comment_end(rest)
        comment = rest[1:end].strip()
        rest = rest[end + 1 :]
    _, params = split_params(rest) if rest.strip() else ("", EMPTY_PARAMS)
    duration = params.get("duration")
    return RetryAfter(
        text=value,
        seconds=int(digits.group()),
        comment=comment,
        duration=int(duration) if duration is not None else None,
        params=params,
    )


def _comment_end(text: str) -> int:
    """Index of the ")" that closes the comment opened at text[0] (comments nest)."""
    depth = 0
    index = 0
    while True:
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
        index += 1


def challenge(value: str) -> Challenge:
    value = value.strip()
    scheme, rest = value.split(None, 1) if len(value.split(None, 1)) == 2 else (value, "")
    if not _TOKEN.fullmatch(scheme):
        raise ValueError("an auth-scheme is a token")
    pairs = []
    for item in split_list(rest):
        name, _, param = item.partition("=")
        pairs.append((name.strip(), unquote(param.strip())))
    return Challenge(text=value, scheme=scheme, params=Params(tuple(pairs)))


def warnings(value: str) -> tuple[WarningValue, ...]:
    result = []
    for item in split_list(value):
        code, agent, text = item.split(" ", 2)
        result.append(WarningValue(text=item, code=int(code), agent=agent,
                                   warn_text=unquote(text)))
    return tuple(result)


def reasons(value: str) -> tuple[ReasonValue, ...]:
    result = []
    for item in split_list(value):
        protocol, params = split_params(item)
        cause = params.get("cause")
        result.append(
            ReasonValue(
                text=item,
                protocol=protocol,
                cause=int(cause) if cause is not None else None,
                reason_text=params.get("text"),
                params=params,
            )
        )
    return tuple(result)


def media_type(value: str) -> MediaType:
    head, params = split_params(value)
    kind, _, subtype = head.partition("/")
    return MediaType(text=value.strip(), type=kind.strip(), subtype=subtype.strip(),
                     params=params)


def media_types(value: str) -> tuple[MediaType, ...]:
    return tuple(media_type(item) for item in split_list(value))


def tokens_with_params(value: str) -> tuple[TokenWithParams, ...]:
    result = []
    for item in split_list(value):
        head, params = split_params(item)
        result.append(TokenWithParams(text=item, value=head, params=params))
    return tuple(result)


def session_expires(value: str) -> SessionExpires:
    head, params = split_params(value)
    return SessionExpires(text=value.strip(), seconds=int(head),
                          refresher=params.get("refresher"), params=params)


def delta_with_params(value: str) -> int:
    head, _ = split_params(value)
    return int(head)
