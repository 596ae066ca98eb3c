"""The parsed message: :class:`SipRequest` and :class:`SipResponse`, with typed accessors.

A message is parsed in two steps. ``parse`` frames it (start line, header fields, body;
see ``_parse``); each typed accessor then checks its header values against the grammar on
first use and caches the result, so a program that only wants the status code and the
Call-ID never pays for parsing a Via.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, overload

from sipstatus import _extract
from sipstatus._base import people_text
from sipstatus._errors import SipParseError
from sipstatus._headers import TRAILING, VALUE_PATTERNS, Headers
from sipstatus._registry import VALUE_RULES
from sipstatus._split import delta_seconds, number, parse_uri, split_list
from sipstatus._validate import check_strict, faults_in_words, validate_value
from sipstatus._values import (
    Challenge,
    ContactEntry,
    CSeq,
    LazyValue,
    MediaType,
    NameAddr,
    RAck,
    ReasonValue,
    RetryAfter,
    SessionExpires,
    TokenWithParams,
    Uri,
    Via,
    WarningValue,
    set_lazy_text,
)

T = TypeVar("T")
_CALL_ID = VALUE_PATTERNS["call-id"]
_CSEQ = VALUE_PATTERNS["cseq"]
L = TypeVar("L", bound=LazyValue[Any])
_new = object.__new__


@dataclass(frozen=True, slots=True)
class StatusLine:
    """``SIP-Version SP Status-Code SP Reason-Phrase CRLF`` (RFC 3261 §7.2)."""

    version: str
    status_code: int
    reason: str

    def __bytes__(self) -> bytes:
        return f"{self.version} {self.status_code} {self.reason}\r\n".encode(
            "utf-8", "surrogateescape"
        )


@dataclass(frozen=True, slots=True)
class RequestLine:
    """``Method SP Request-URI SP SIP-Version CRLF`` (RFC 3261 §7.1)."""

    method: str
    uri: str
    version: str

    def __bytes__(self) -> bytes:
        return f"{self.method} {self.uri} {self.version}\r\n".encode("utf-8", "surrogateescape")


class _EntryList(Generic[L]):
    """A message attribute: the comma-list header ``key`` (Via, Contact, Route ...) as a
    tuple of lazy values, cached. Cutting a list at its commas never fails, so there is no
    error path; and it is a descriptor rather than a property calling a method, one Python
    call fewer, since nearly every program reads Via and Contact of every message."""

    def __init__(self, key: str, kind: type[L], doc: str) -> None:
        self.key = key
        self.kind = kind
        self.__doc__ = doc

    @overload
    def __get__(self, message: None, owner: type[Any]) -> _EntryList[L]: ...

    @overload
    def __get__(self, message: _Message, owner: type[Any]) -> tuple[L, ...]: ...

    def __get__(self, message: _Message | None,
                owner: type[Any]) -> tuple[L, ...] | _EntryList[L]:
        if message is None:
            return self
        cache = message._cache
        key = self.key
        if key in cache:
            return cache[key]  # type: ignore[no-any-return]
        # The look-up of Headers.values, inlined.
        found = VALUE_PATTERNS[key].findall(message._section)
        result: tuple[L, ...]
        if len(found) == 1 and "," not in found[0] and found[0].isascii():
            # One entry, the common case: made without a call to __init__ (a third faster).
            value = found[0].rstrip(TRAILING)
            entry = _new(self.kind)
            set_lazy_text(entry, value)
            result = (entry,) if value else ()
        else:
            items = []
            for value in found:
                value = value.rstrip(TRAILING)
                if not value.isascii():
                    value = people_text(value)
                if "," in value:
                    items += split_list(value)
                elif value:
                    items.append(value)
            result = tuple(map(self.kind, items))
        cache[key] = result
        return result


class _Message:
    """What requests and responses share: headers, body, defects, typed accessors."""

    __slots__ = ()

    headers: Headers
    body: bytes
    _defects: tuple[str, ...]
    _raw: bytes
    _head_end: int | None
    _section: str  # headers.section, read by the hot accessors without a property call
    _cache: dict[str, Any]

    # -- plumbing -------------------------------------------------------------------------

    # The cache holds each accessor's result under its header's look-up key (a key is read
    # either as one value or as a list, never both), plus "defects" and "request-uri".

    def _one(self, key: str, extract: Callable[[str], T]) -> T | None:
        cache = self._cache
        if key in cache:
            return cache[key]  # type: ignore[no-any-return]
        value = self.headers.first(key)
        if value is not None:
            try:
                result: T | None = extract(value if value.isascii() else people_text(value))
            except (ValueError, IndexError):
                raise self._unreadable(key) from None
        else:
            result = None
        cache[key] = result
        return result

    def _many(self, key: str, extract: Callable[[str], tuple[T, ...]]) -> tuple[T, ...]:
        cache = self._cache
        if key in cache:
            return cache[key]  # type: ignore[no-any-return]
        result: tuple[T, ...] = ()
        try:
            for value in self.headers.values(key):
                if value:
                    result += extract(value if value.isascii() else people_text(value))
        except (ValueError, IndexError):
            raise self._unreadable(key) from None
        cache[key] = result
        return result

    def _unreadable(self, key: str) -> SipParseError:
        """The error for a header value that lenient reading could not make sense of: the
        grammar says exactly where it goes wrong."""
        rule = VALUE_RULES[key]
        for item in self.headers.fields_named(key):
            try:
                validate_value(rule, item.value, data=self._raw, offset=item.offset,
                                      header=item.name)
            except SipParseError as exc:
                return exc
        item = self.headers.fields_named(key)[0]
        return SipParseError(f"could not read the {item.name} header {item.value!r}",
                             offset=item.offset, rule=item.name)

    # -- RFC 3261 §20 -----------------------------------------------------------------------

    @property
    def call_id(self) -> str | None:
        """Call-ID (RFC 3261 §20.8)."""
        cache = self._cache  # read on every message: _one, inlined
        if "call-id" in cache:
            return cache["call-id"]  # type: ignore[no-any-return]
        match = _CALL_ID.search(self._section)  # Headers.first, inlined
        value = None if match is None else match[1].rstrip(TRAILING)
        if value is not None and not value.isascii():
            value = people_text(value)
        cache["call-id"] = value
        return value

    @property
    def cseq(self) -> CSeq | None:
        """CSeq (RFC 3261 §20.16)."""
        cache = self._cache  # read on every message: _one, inlined
        if "cseq" in cache:
            return cache["cseq"]  # type: ignore[no-any-return]
        match = _CSEQ.search(self._section)  # Headers.first, inlined
        result: CSeq | None = None
        if match is not None:
            value = match[1].rstrip(TRAILING)
            try:
                result = _extract.cseq(value if value.isascii() else people_text(value))
            except (ValueError, IndexError):
                raise self._unreadable("cseq") from None
        cache["cseq"] = result
        return result

    via = _EntryList("via", Via, "Every Via value, topmost first (RFC 3261 §20.42).")

    @property
    def from_(self) -> NameAddr | None:
        """From (RFC 3261 §20.20)."""
        return self._one("from", _extract.name_addr)

    @property
    def to(self) -> NameAddr | None:
        """To (RFC 3261 §20.39)."""
        return self._one("to", _extract.name_addr)

    contact = _EntryList("contact", ContactEntry, "Contact values (RFC 3261 §20.10); ``*`` "
                         "is one entry with ``is_wildcard``.")

    route = _EntryList("route", NameAddr, "Route (RFC 3261 §20.34).")

    record_route = _EntryList("record-route", NameAddr, "Record-Route (RFC 3261 §20.30).")

    @property
    def reply_to(self) -> NameAddr | None:
        """Reply-To (RFC 3261 §20.31)."""
        return self._one("reply-to", _extract.name_addr)

    @property
    def max_forwards(self) -> int | None:
        """Max-Forwards (RFC 3261 §20.22)."""
        return self._one("max-forwards", number)

    @property
    def content_length(self) -> int | None:
        """Content-Length as written (RFC 3261 §20.14)."""
        return self._one("content-length", number)

    @property
    def content_type(self) -> MediaType | None:
        """Content-Type (RFC 3261 §20.15)."""
        return self._one("content-type", _extract.media_type)

    @property
    def content_encoding(self) -> tuple[str, ...]:
        """Content-Encoding (RFC 3261 §20.12)."""
        return self._many("content-encoding", _extract.token_list)

    @property
    def expires(self) -> int | None:
        """Expires in seconds (RFC 3261 §20.19); above 2**32-1 reads as 2**32-1."""
        return self._one("expires", delta_seconds)

    @property
    def min_expires(self) -> int | None:
        """Min-Expires in seconds (RFC 3261 §20.23); above 2**32-1 reads as 2**32-1."""
        return self._one("min-expires", delta_seconds)

    @property
    def retry_after(self) -> RetryAfter | None:
        """Retry-After (RFC 3261 §20.33)."""
        return self._one("retry-after", _extract.retry_after)

    @property
    def www_authenticate(self) -> tuple[Challenge, ...]:
        """WWW-Authenticate challenges, one per header field (RFC 3261 §20.44)."""
        return self._many("www-authenticate", lambda v: (_extract.challenge(v),))

    @property
    def proxy_authenticate(self) -> tuple[Challenge, ...]:
        """Proxy-Authenticate challenges (RFC 3261 §20.27)."""
        return self._many("proxy-authenticate", lambda v: (_extract.challenge(v),))

    @property
    def authorization(self) -> tuple[Challenge, ...]:
        """Authorization credentials (RFC 3261 §20.7)."""
        return self._many("authorization", lambda v: (_extract.challenge(v),))

    @property
    def proxy_authorization(self) -> tuple[Challenge, ...]:
        """Proxy-Authorization credentials (RFC 3261 §20.28)."""
        return self._many("proxy-authorization", lambda v: (_extract.challenge(v),))

    @property
    def warning(self) -> tuple[WarningValue, ...]:
        """Warning values (RFC 3261 §20.43)."""
        return self._many("warning", _extract.warnings)

    @property
    def require(self) -> tuple[str, ...]:
        """Require option tags (RFC 3261 §20.32)."""
        return self._many("require", _extract.token_list)

    @property
    def proxy_require(self) -> tuple[str, ...]:
        """Proxy-Require option tags (RFC 3261 §20.29)."""
        return self._many("proxy-require", _extract.token_list)

    @property
    def supported(self) -> tuple[str, ...]:
        """Supported option tags (RFC 3261 §20.37)."""
        return self._many("supported", _extract.token_list)

    @property
    def unsupported(self) -> tuple[str, ...]:
        """Unsupported option tags (RFC 3261 §20.40)."""
        return self._many("unsupported", _extract.token_list)

    @property
    def allow(self) -> tuple[str, ...]:
        """Allow methods (RFC 3261 §20.5)."""
        return self._many("allow", _extract.token_list)

    @property
    def accept(self) -> tuple[MediaType, ...]:
        """Accept media ranges (RFC 3261 §20.1)."""
        return self._many("accept", _extract.media_types)

    @property
    def accept_encoding(self) -> tuple[TokenWithParams, ...]:
        """Accept-Encoding codings (RFC 3261 §20.2)."""
        return self._many("accept-encoding", _extract.tokens_with_params)

    @property
    def accept_language(self) -> tuple[TokenWithParams, ...]:
        """Accept-Language ranges (RFC 3261 §20.3)."""
        return self._many("accept-language", _extract.tokens_with_params)

    # -- extensions ------------------------------------------------------------------------

    @property
    def reason_header(self) -> tuple[ReasonValue, ...]:
        """Reason values (RFC 3326 §2)."""
        return self._many("reason", _extract.reasons)

    @property
    def session_expires(self) -> SessionExpires | None:
        """Session-Expires (RFC 4028 §4)."""
        return self._one("session-expires", _extract.session_expires)

    @property
    def min_se(self) -> int | None:
        """Min-SE in seconds (RFC 4028 §5)."""
        return self._one("min-se", _extract.delta_with_params)

    @property
    def security_server(self) -> tuple[TokenWithParams, ...]:
        """Security-Server mechanisms (RFC 3329 §2.2)."""
        return self._many("security-server", _extract.tokens_with_params)

    @property
    def rseq(self) -> int | None:
        """RSeq (RFC 3262 §7.1)."""
        return self._one("rseq", number)

    @property
    def rack(self) -> RAck | None:
        """RAck (RFC 3262 §7.2)."""
        return self._one("rack", _extract.rack)

    @property
    def event(self) -> TokenWithParams | None:
        """Event (RFC 6665 §8.2.1)."""
        return self._one("event", lambda v: _extract.tokens_with_params(v)[0])

    @property
    def allow_events(self) -> tuple[str, ...]:
        """Allow-Events (RFC 6665 §8.2.2)."""
        return self._many("allow-events", _extract.token_list)

    @property
    def defects(self) -> tuple[str, ...]:
        """The faults this message has that lenient parsing tolerated, in words.

        Framing faults are found while parsing; the rest (header values that do not match
        their grammar rule, out-of-range numbers, a CSeq method unlike the request's) are
        looked for on first access. A message parsed with ``strict=True`` has none.
        """
        cached = self._cache.get("defects")
        if cached is None:
            cached = self._defects + tuple(
                faults_in_words(self.headers, self._raw, self._request_line_parts()))
            self._cache["defects"] = cached
        return cached

    def validate(self) -> None:
        """Raise SipParseError for the first fault that ``strict=True`` would reject."""
        parts = self._request_line_parts()
        check_strict(self.headers, self._raw, parts[0] if parts is not None else None)

    def _request_line_parts(self) -> tuple[str, str, str] | None:
        return None


def _write(start: bytes, message: _Message) -> bytes:
    """The message as bytes: header lines exactly as received when they were well framed,
    otherwise rewritten as ``Name: value`` lines."""
    head_end = message._head_end
    if head_end is not None:
        # From the CRLF ending the start line (Headers.base) to the end of the empty line.
        return start + message._raw[message.headers.base + 2 : head_end] + message.body
    return start + bytes(message.headers) + b"\r\n" + message.body


@dataclass(frozen=True, slots=True, eq=True)
class SipResponse(_Message):
    """A SIP response (RFC 3261 §7.2)."""

    version: str
    status_code: int
    reason: str
    headers: Headers
    body: bytes = b""
    _defects: tuple[str, ...] = field(default=(), compare=False, repr=False)
    _raw: bytes = field(default=b"", compare=False, repr=False)
    _head_end: int | None = field(default=None, compare=False, repr=False)
    _section: str = field(default="", compare=False, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:  # a message built by a program (the parser does not call it)
        object.__setattr__(self, "_section", self.headers.section)

    @property
    def status_line(self) -> StatusLine:
        return StatusLine(self.version, self.status_code, self.reason)

    def __bytes__(self) -> bytes:
        return _write(bytes(self.status_line), self)


@dataclass(frozen=True, slots=True, eq=True)
class SipRequest(_Message):
    """A SIP request (RFC 3261 §7.1)."""

    method: str
    uri: str
    version: str
    headers: Headers
    body: bytes = b""
    _defects: tuple[str, ...] = field(default=(), compare=False, repr=False)
    _raw: bytes = field(default=b"", compare=False, repr=False)
    _head_end: int | None = field(default=None, compare=False, repr=False)
    _section: str = field(default="", compare=False, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:  # a message built by a program (the parser does not call it)
        object.__setattr__(self, "_section", self.headers.section)

    @property
    def request_line(self) -> RequestLine:
        return RequestLine(self.method, self.uri, self.version)

    def _request_line_parts(self) -> tuple[str, str, str] | None:
        return self.method, self.uri, self.version

    @property
    def request_uri(self) -> Uri:
        """The Request-URI split into its parts (RFC 3261 §19.1)."""
        cached = self._cache.get("request-uri")
        if cached is None:
            try:
                cached = parse_uri(self.uri)
            except (ValueError, IndexError):
                at = len(self.method) + 1
                raise SipParseError(
                    f"cannot read the Request-URI {self.uri!r} at line 1, column {at + 1}",
                    offset=at, line=1, column=at + 1, rule="Request-URI (RFC 3261 §19.1)",
                    expected="SIP-URI / SIPS-URI / absoluteURI") from None
            self._cache["request-uri"] = cached
        return cached

    def __bytes__(self) -> bytes:
        return _write(bytes(self.request_line), self)


# The parser builds every message through ``new_message``, the hot half of a lenient parse.
# A frozen dataclass can only be filled through object.__setattr__ or slot setters (0.7 and
# 0.4 µs a message, measured); instead a draft class with the same slots and no frozen
# __setattr__ is filled with plain attribute stores and then made a message by __class__
# assignment, which Python allows between classes of one slot layout (0.2 µs).
# tests/parse/test_headers_lookup.py checks the result equals the dataclass constructor's.


class _ResponseDraft(_Message):
    __slots__ = SipResponse.__slots__
    version: str
    status_code: int
    reason: str


class _RequestDraft(_Message):
    __slots__ = SipRequest.__slots__
    method: str
    uri: str
    version: str


M = TypeVar("M", SipResponse, SipRequest)


def new_message(kind: type[M], first: str, second: Any, third: str, headers: Headers,
                body: bytes, defects: tuple[str, ...], raw: bytes,
                head_end: int | None) -> M:
    """``kind(first, second, third, headers, body, defects, raw, head_end)``, where the
    first three are the start line's parts in order (version, status code, reason; or
    method, URI, version) and ``head_end`` is where the header section of ``raw`` ends
    (after its empty line) when its lines are kept as received, None when refolded."""
    draft: _ResponseDraft | _RequestDraft
    if kind is SipResponse:
        draft = response = _new(_ResponseDraft)
        response.version = first
        response.status_code = second
        response.reason = third
    else:
        draft = request = _new(_RequestDraft)
        request.method = first
        request.uri = second
        request.version = third
    draft.headers = headers
    draft.body = body
    draft._defects = defects
    draft._raw = raw
    draft._head_end = head_end
    draft._section = headers.section
    draft._cache = {}
    draft.__class__ = kind  # type: ignore[assignment]
    return draft  # type: ignore[return-value]
