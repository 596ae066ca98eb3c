"""Loading the Lark grammar (``grammar/*.lark``, shipped as the package ``sipstatus.grammar``).

The grammar is the single source of SIP syntax. It is built once per process, lazily, into
one LALR(1) parser with the contextual lexer and several start rules: ``sip_head`` for a
whole start line and header section, ``request_line`` and ``status_line``, and one
``<header>_value`` rule for each typed header.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # lark is imported when the grammar is first needed
    from lark import Lark

#: Start rules for one header value, keyed by the rule name.
VALUE_RULES = (
    "accept_value",
    "accept_encoding_value",
    "accept_language_value",
    "allow_value",
    "allow_events_value",
    "authentication_info_value",
    "call_id_value",
    "challenge",
    "contact_pref_value",
    "contact_value",
    "content_disposition_value",
    "content_language_value",
    "content_type_value",
    "credentials",
    "cseq_value",
    "date_value",
    "event_value",
    "in_reply_to_value",
    "info_value",
    "mime_version_value",
    "min_se_value",
    "name_addr_value",
    "number_value",
    "priority_value",
    "rack_value",
    "reason_value",
    "retry_after_value",
    "route_value",
    "security_value",
    "server_value",
    "session_expires_value",
    "text_value",
    "timestamp_value",
    "token_list",
    "via_value",
    "warning_value",
)

START_RULES = ("sip_head", "request_line", "status_line", *VALUE_RULES)


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
