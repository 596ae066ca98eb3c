"""Loading the Lark grammar (``grammar/*.lark``, shipped as the package ``sipstatus.grammar``).

The grammar is the single source of SIP syntax. It is built once per process, lazily, into
one LALR(1) parser with the contextual lexer and several start rules: ``sip_head`` for a
whole start line and header section, ``request_line`` and ``status_line``, and one
``<header>_value`` rule for each typed header.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from sipstatus._registry import VALUE_RULES as REGISTRY_RULES

if TYPE_CHECKING:  # lark is imported when the grammar is first needed
    from lark import Lark
    from lark.exceptions import UnexpectedInput

#: Start rules for one header value: every value rule of the header registry.
VALUE_START_RULES: tuple[str, ...] = tuple(sorted(set(REGISTRY_RULES.values())))

START_RULES = ("sip_head", "request_line", "status_line", *VALUE_START_RULES)


@functools.cache
def parser() -> Lark:
    """The shared LALR parser over every start rule (built on first use, ~0.3 s)."""
    from lark import Lark  # here, not at import: most programs never need the grammar

    return Lark.open_from_package(
        "sipstatus.grammar",
        "sip.lark",
        ("",),
        parser="lalr",
        lexer="contextual",
        start=list(START_RULES),
        maybe_placeholders=True,
        propagate_positions=False,
    )


def lark_fault(text: str, rule: str) -> tuple[int, str] | None:
    """Parse ``text`` from start rule ``rule`` with the LALR parser: None when the grammar
    accepts it, else where the parse stopped (an index into ``text``) and what it expected,
    in words. The exact, slow judge behind every fast check."""
    from lark.exceptions import UnexpectedInput

    try:
        parser().parse(text, start=rule)
    except UnexpectedInput as exc:
        return max(0, min(exc.pos_in_stream or 0, len(text))), expected_text(exc)
    return None


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
