"""The header registry: one row per header field sipstatus knows, and every table derived
from it.

A row says what the header is called (long name and compact form), which grammar rule its
value follows (``grammar/sip.lark``), which RFC section defines it, whether its value may be
empty, which typed accessor of a message reads it, and which numbers in it have range limits
that the ABNF cannot express (RFC 4475 §3.1.2 lists them as errors). The strict checks, the
error citations, the compact-form tables of the parser, the capture reader and the fuzzer,
and the accessor lists of the self-fuzzer and the tests all derive from these rows.
``tests/parse/test_registry.py`` checks the rows against the grammar's ``known_header`` rule
and against the IANA registry's references (``fixtures/reference/sip-header-fields.tsv``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ACCESSORS",
    "COMPACT_FORMS",
    "EMPTY_ALLOWED",
    "HEADERS",
    "LEG_HINTS",
    "RANGE_CHECKED",
    "SPECS",
    "UNREGISTERED",
    "VALUE_RULES",
    "HeaderSpec",
    "NumberLimit",
    "citation",
    "header_key",
    "spellings",
]


@dataclass(frozen=True, slots=True)
class NumberLimit:
    """A bound on a number in a header value that its grammar rule cannot express.

    ``param`` is None for the number the value starts with (CSeq's sequence number,
    Max-Forwards, Expires), or the name of a parameter of each entry (Contact ``expires``,
    Via ``ttl``). ``fault`` is the defect text, with ``{name}`` (the header name as written)
    and ``{number}`` (the number as written) to fill in.
    """

    maximum: int
    fault: str
    param: str | None = None


@dataclass(frozen=True, slots=True)
class HeaderSpec:
    """One header field: names, value rule, definition, accessor and range limits."""

    name: str  # canonical spelling, as in the IANA registry
    section: str  # where the header is defined, e.g. "RFC 3261 §20.42"
    rule: str | None = None  # value rule in grammar/sip.lark; None: not a known_header
    compact: str | None = None  # compact form (RFC 3261 §7.3.3 and the IANA registry)
    empty_allowed: bool = False  # the grammar allows an empty value
    accessor: str | None = None  # the typed accessor of SipRequest/SipResponse
    limits: tuple[NumberLimit, ...] = ()
    #: What the header tells of the other legs of the call (``capture/_legs``): "call-id"
    #: (each value names another leg's Call-ID), "session-id" (RFC 7989's UUID pair), "icid"
    #: (the P-Charging-Vector's icid-value); None: nothing.
    leg_hint: str | None = None

    @property
    def key(self) -> str:
        """The look-up key: the lower-case long name."""
        return self.name.lower()


#: The ``section`` of a header no RFC defines (an X- header of common practice).
UNREGISTERED = "not registered (common practice)"
_DELTA_MAX = 2**32 - 1  # RFC 3261 §10.2.1.1, §20.19: delta-seconds up to 2**32-1
_EXPIRES = NumberLimit(_DELTA_MAX, "{name} {number} is above 2**32-1 (RFC 3261 §10.2.1.1)")

HEADERS: tuple[HeaderSpec, ...] = (
    # RFC 3261 §20, in the RFC's order.
    HeaderSpec("Accept", "RFC 3261 §20.1", "accept_value", empty_allowed=True,
               accessor="accept"),
    HeaderSpec("Accept-Encoding", "RFC 3261 §20.2", "accept_encoding_value",
               empty_allowed=True, accessor="accept_encoding"),
    HeaderSpec("Accept-Language", "RFC 3261 §20.3", "accept_language_value",
               empty_allowed=True, accessor="accept_language"),
    HeaderSpec("Alert-Info", "RFC 3261 §20.4", "info_value"),
    HeaderSpec("Allow", "RFC 3261 §20.5", "allow_value", empty_allowed=True,
               accessor="allow"),
    HeaderSpec("Authentication-Info", "RFC 3261 §20.6", "authentication_info_value"),
    HeaderSpec("Authorization", "RFC 3261 §20.7", "credentials", accessor="authorization"),
    HeaderSpec("Call-ID", "RFC 3261 §20.8", "call_id_value", "i", accessor="call_id"),
    HeaderSpec("Call-Info", "RFC 3261 §20.9", "info_value"),
    HeaderSpec("Contact", "RFC 3261 §20.10", "contact_value", "m", accessor="contact",
               limits=(NumberLimit(_DELTA_MAX, "Contact expires {number} is above 2**32-1 "
                                   "(RFC 3261 §20.10)", param="expires"),)),
    HeaderSpec("Content-Disposition", "RFC 3261 §20.11", "content_disposition_value"),
    HeaderSpec("Content-Encoding", "RFC 3261 §20.12", "token_list", "e",
               accessor="content_encoding"),
    HeaderSpec("Content-Language", "RFC 3261 §20.13", "content_language_value"),
    HeaderSpec("Content-Length", "RFC 3261 §20.14", "number_value", "l",
               accessor="content_length"),
    HeaderSpec("Content-Type", "RFC 3261 §20.15", "content_type_value", "c",
               accessor="content_type"),
    HeaderSpec("CSeq", "RFC 3261 §20.16", "cseq_value", accessor="cseq",
               limits=(NumberLimit(2**31 - 1, "CSeq number {number} is not below 2**31 "
                                   "(RFC 3261 §8.1.1.5)"),)),
    HeaderSpec("Date", "RFC 3261 §20.17", "date_value"),
    HeaderSpec("Error-Info", "RFC 3261 §20.18", "info_value"),
    HeaderSpec("Expires", "RFC 3261 §20.19", "number_value", accessor="expires",
               limits=(_EXPIRES,)),
    HeaderSpec("From", "RFC 3261 §20.20", "name_addr_value", "f", accessor="from_"),
    HeaderSpec("In-Reply-To", "RFC 3261 §20.21", "in_reply_to_value"),
    HeaderSpec("Max-Forwards", "RFC 3261 §20.22", "number_value", accessor="max_forwards",
               limits=(NumberLimit(255, "Max-Forwards {number} is above 255 "
                                   "(RFC 3261 §20.22)"),)),
    HeaderSpec("Min-Expires", "RFC 3261 §20.23", "number_value", accessor="min_expires",
               limits=(_EXPIRES,)),
    HeaderSpec("MIME-Version", "RFC 3261 §20.24", "mime_version_value"),
    HeaderSpec("Organization", "RFC 3261 §20.25", "text_value", empty_allowed=True),
    HeaderSpec("Priority", "RFC 3261 §20.26", "priority_value"),
    HeaderSpec("Proxy-Authenticate", "RFC 3261 §20.27", "challenge",
               accessor="proxy_authenticate"),
    HeaderSpec("Proxy-Authorization", "RFC 3261 §20.28", "credentials",
               accessor="proxy_authorization"),
    HeaderSpec("Proxy-Require", "RFC 3261 §20.29", "token_list", accessor="proxy_require"),
    HeaderSpec("Record-Route", "RFC 3261 §20.30", "route_value", accessor="record_route"),
    HeaderSpec("Reply-To", "RFC 3261 §20.31", "name_addr_value", accessor="reply_to"),
    HeaderSpec("Require", "RFC 3261 §20.32", "token_list", accessor="require"),
    HeaderSpec("Retry-After", "RFC 3261 §20.33", "retry_after_value",
               accessor="retry_after"),
    HeaderSpec("Route", "RFC 3261 §20.34", "route_value", accessor="route"),
    HeaderSpec("Server", "RFC 3261 §20.35", "server_value"),
    HeaderSpec("Subject", "RFC 3261 §20.36", "text_value", "s", empty_allowed=True),
    HeaderSpec("Supported", "RFC 3261 §20.37", "token_list", "k", empty_allowed=True,
               accessor="supported"),
    HeaderSpec("Timestamp", "RFC 3261 §20.38", "timestamp_value"),
    HeaderSpec("To", "RFC 3261 §20.39", "name_addr_value", "t", accessor="to"),
    HeaderSpec("Unsupported", "RFC 3261 §20.40", "token_list", accessor="unsupported"),
    HeaderSpec("User-Agent", "RFC 3261 §20.41", "server_value"),
    HeaderSpec("Via", "RFC 3261 §20.42", "via_value", "v", accessor="via",
               limits=(NumberLimit(255, "Via ttl {number} is above 255 (RFC 3261 §20.42)",
                                   param="ttl"),)),
    HeaderSpec("Warning", "RFC 3261 §20.43", "warning_value", accessor="warning"),
    HeaderSpec("WWW-Authenticate", "RFC 3261 §20.44", "challenge",
               accessor="www_authenticate"),
    # Extensions with a value rule in the grammar.
    HeaderSpec("Reason", "RFC 3326 §2", "reason_value", accessor="reason_header"),
    HeaderSpec("Session-Expires", "RFC 4028 §4", "session_expires_value", "x",
               accessor="session_expires"),
    HeaderSpec("Min-SE", "RFC 4028 §5", "min_se_value", accessor="min_se"),
    HeaderSpec("Security-Server", "RFC 3329 §2.2", "security_value",
               accessor="security_server"),
    HeaderSpec("Security-Client", "RFC 3329 §2.2", "security_value"),
    HeaderSpec("Security-Verify", "RFC 3329 §2.2", "security_value"),
    HeaderSpec("RSeq", "RFC 3262 §7.1", "number_value", accessor="rseq"),
    HeaderSpec("RAck", "RFC 3262 §7.2", "rack_value", accessor="rack"),
    HeaderSpec("Event", "RFC 6665 §8.2.1", "event_value", "o", accessor="event"),
    HeaderSpec("Allow-Events", "RFC 6665 §8.2.2", "allow_events_value", "u",
               accessor="allow_events"),
    HeaderSpec("Refer-To", "RFC 3515 §2.1", "name_addr_value", "r"),
    HeaderSpec("Referred-By", "RFC 3892 §3", "name_addr_value", "b"),
    HeaderSpec("Accept-Contact", "RFC 3841 §9.2", "contact_pref_value", "a"),
    HeaderSpec("Reject-Contact", "RFC 3841 §9.2", "contact_pref_value", "j"),
    HeaderSpec("Request-Disposition", "RFC 3841 §9.1", "token_list", "d"),
    # A compact form with no value rule of ours: read as an extension-header.
    HeaderSpec("Identity", "RFC 8224 §4", compact="y"),
    # Read by the capture scan to tie the legs of a call together (capture/_legs).
    HeaderSpec("Session-ID", "RFC 7989 §5", leg_hint="session-id"),
    HeaderSpec("P-Charging-Vector", "RFC 7315 §4.6", leg_hint="icid"),
    # Not registered (RFC 6648: no X- header is): the B2BUA convention of Kamailio, sngrep and
    # Homer, a new leg naming the Call-ID of the leg it came from.
    HeaderSpec("X-CID", UNREGISTERED, leg_hint="call-id"),
    HeaderSpec("X-Call-ID", UNREGISTERED, leg_hint="call-id"),
)

#: Each row by look-up key.
SPECS: dict[str, HeaderSpec] = {spec.key: spec for spec in HEADERS}

#: The 19 compact forms of the IANA "Header Fields" registry: letter -> canonical name.
COMPACT_FORMS: dict[str, str] = dict(sorted(
    (spec.compact, spec.name) for spec in HEADERS if spec.compact is not None))

#: The value rule of each header that has one, by look-up key.
VALUE_RULES: dict[str, str] = {spec.key: spec.rule for spec in HEADERS if spec.rule}

#: Headers whose grammar allows an empty value (RFC 3261 §25.1), by look-up key.
EMPTY_ALLOWED = frozenset(spec.key for spec in HEADERS if spec.empty_allowed)

#: Headers with range limits, by look-up key.
RANGE_CHECKED = frozenset(spec.key for spec in HEADERS if spec.limits)

#: The typed accessors of a message, each with the look-up key of the header it reads.
ACCESSORS: dict[str, str] = {spec.accessor: spec.key for spec in HEADERS if spec.accessor}

#: The headers that tie the legs of a call together, by look-up key: their ``leg_hint``.
LEG_HINTS: dict[str, str] = {spec.key: spec.leg_hint for spec in HEADERS if spec.leg_hint}

_LONG_KEYS = {letter: name.lower() for letter, name in COMPACT_FORMS.items()}


def header_key(name: str) -> str:
    """The look-up key of a header name: lower case, compact form expanded."""
    key = name.lower()
    return _LONG_KEYS.get(key, key) if len(key) == 1 else key


def spellings(key: str) -> tuple[str, ...]:
    """The names a header with look-up key ``key`` goes by on the wire, in lower case: its
    long name and, if it has one, its compact form (any other key: itself)."""
    spec = SPECS.get(key)
    return (key, spec.compact) if spec is not None and spec.compact else (key,)


def citation(name: str) -> str:
    """``"<name> (<section>)"`` for error messages: the header as written and where it is
    defined; an unknown header is an extension-header (RFC 3261 §25.1)."""
    spec = SPECS.get(header_key(name))
    return f"{name} ({spec.section if spec is not None else 'RFC 3261 §25.1'})"
