"""sipstatus: parse SIP messages with a grammar transcribed from RFC 3261, and classify
SIP responses (what each one means and what to do next).

Everything public is importable from here; the ``_``-prefixed modules are private.
"""

from __future__ import annotations

from sipstatus._classify import (
    Advice,
    AuthChallenge,
    Backoff,
    Classification,
    Target,
    backoff_window,
    classify,
)
from sipstatus._codes import CODES, Action, Category, CodeInfo, CodeStatus, lookup
from sipstatus._errors import SipParseError
from sipstatus._headers import COMPACT_FORMS, HeaderField, Headers
from sipstatus._message import RequestLine, SipRequest, SipResponse, StatusLine
from sipstatus._parse import (
    DEFAULT_LIMITS,
    Limits,
    iter_messages,
    parse,
    parse_request,
    parse_response,
    parse_status_line,
)
from sipstatus._proxy import ProxyChoice, best_response
from sipstatus._values import (
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
)

__all__ = [
    "CODES",
    "COMPACT_FORMS",
    "DEFAULT_LIMITS",
    "Action",
    "Advice",
    "AuthChallenge",
    "Backoff",
    "CSeq",
    "Category",
    "Challenge",
    "Classification",
    "CodeInfo",
    "CodeStatus",
    "ContactEntry",
    "HeaderField",
    "Headers",
    "Limits",
    "MediaType",
    "NameAddr",
    "Params",
    "ProxyChoice",
    "RAck",
    "ReasonValue",
    "RequestLine",
    "RetryAfter",
    "SessionExpires",
    "SipParseError",
    "SipRequest",
    "SipResponse",
    "StatusLine",
    "Target",
    "TokenWithParams",
    "Uri",
    "Via",
    "WarningValue",
    "backoff_window",
    "best_response",
    "classify",
    "iter_messages",
    "lookup",
    "parse",
    "parse_request",
    "parse_response",
    "parse_status_line",
]
__version__ = "0.1.0"
