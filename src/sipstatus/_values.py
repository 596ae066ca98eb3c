"""Typed header values: small frozen, slotted classes holding the parts of a header value.

Values are made by cutting text that the grammar accepts (``_split``, ``_extract``).

Every value keeps what was written (``str()`` gives it back) next to the parts a program needs.
Parameter lists are :class:`Params`: ordered, duplicates kept, names case-insensitive
(RFC 3261 §7.3.1 / §19.1.4), values unquoted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sipstatus._base import slot_setter
from sipstatus._errors import SipParseError
from sipstatus._params import EMPTY_PARAMS, Params, Uri
from sipstatus._split import (
    NameAddrParts,
    ViaParts,
    delta_seconds,
    qvalue,
    split_name_addr,
    split_via,
)

__all__ = [
    "EMPTY_PARAMS",
    "CSeq",
    "Challenge",
    "ContactEntry",
    "MediaType",
    "NameAddr",
    "Params",
    "RAck",
    "ReasonValue",
    "RetryAfter",
    "SessionExpires",
    "TokenWithParams",
    "Uri",
    "Via",
    "WarningValue",
]

P = TypeVar("P", NameAddrParts, ViaParts)


class LazyValue(Generic[P]):
    """A header value kept as its text and split into parts on first use.

    Reading a Contact or Via list only to count it, or to take one parameter of the first
    entry, is what most programs do; parsing every entry up front would cost more than the
    rest of the message. Instances are immutable; ``str()`` gives the text as written.
    """

    __slots__ = ("_parts", "text")

    text: str
    _parts: P  # unset until first use

    def __init__(self, text: str) -> None:
        set_lazy_text(self, text)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __reduce__(self) -> tuple[type[LazyValue[P]], tuple[str]]:
        # Pickled and copied as the text it was made of; the parts are split again on use.
        return type(self), (self.text,)

    def _split(self) -> P:
        raise NotImplementedError  # pragma: no cover

    @property
    def parts(self) -> P:
        """The value split into its parts (a named tuple), read on first use."""
        try:
            return self._parts
        except AttributeError:
            pass
        try:
            parts = self._split()
        except SipParseError:
            raise
        except (ValueError, IndexError):
            raise SipParseError(
                f"cannot read the {type(self).__name__} value {self.text!r}",
                rule=type(self).__name__, expected="a value its grammar rule accepts",
            ) from None
        _set_parts(self, parts)
        return parts

    def __eq__(self, other: object) -> bool:
        if type(other) is type(self):
            return self.text == other.text
        return NotImplemented

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.text))

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.text!r})"


set_lazy_text = slot_setter(LazyValue, "text")
_set_parts = slot_setter(LazyValue, "_parts")


class NameAddr(LazyValue[NameAddrParts]):
    """From, To, Route, Record-Route, Reply-To, Refer-To ... (RFC 3261 §20.20):
    ``display_name``, ``uri``, ``params`` (with ``tag``)."""

    __slots__ = ()

    def _split(self) -> NameAddrParts:
        return split_name_addr(self.text)

    @property
    def display_name(self) -> str | None:
        return self.parts.display_name

    @property
    def uri(self) -> Uri:
        return self.parts.uri

    @property
    def params(self) -> Params:
        return self.parts.params

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")


class ContactEntry(NameAddr):
    """One Contact value (RFC 3261 §20.10): ``uri``, ``display_name``, ``params``, ``q``,
    ``expires``. The wildcard ``*`` has ``is_wildcard`` true and a ``uri`` whose text is
    ``"*"``."""

    __slots__ = ()

    @property
    def is_wildcard(self) -> bool:
        return self.text == "*"

    @property
    def q(self) -> float | None:
        """The ``q`` parameter (RFC 3261 §20.10); None when absent or not an RFC qvalue (0 to
        1, up to three decimals: strict parsing rejects such a Contact, lenient parsing
        lists it in ``.defects``). ``has_invalid_q`` tells the two apart."""
        value = self.params.get("q")
        return qvalue(value) if value is not None else None

    @property
    def has_invalid_q(self) -> bool:
        """A ``q`` parameter is present but is not an RFC qvalue."""
        return "q" in self.params and self.q is None

    @property
    def expires(self) -> int | None:
        """The ``expires`` parameter in seconds; None when absent or not delta-seconds; a value
        above 2**32-1 reads as 2**32-1 (RFC 3261 §10.2.1.1)."""
        value = self.params.get("expires")
        if value is None:
            return None
        try:
            return delta_seconds(value)
        except ValueError:
            return None


class Via(LazyValue[ViaParts]):
    """One Via value (RFC 3261 §20.42), e.g. ``SIP/2.0/UDP host:5060;branch=z9hG4bK...``:
    ``protocol``, ``version``, ``transport`` (upper case), ``host``, ``port``, ``params``."""

    __slots__ = ()

    def _split(self) -> ViaParts:
        return split_via(self.text)

    @property
    def protocol(self) -> str:
        return self.parts.protocol

    @property
    def version(self) -> str:
        return self.parts.version

    @property
    def transport(self) -> str:
        return self.parts.transport

    @property
    def host(self) -> str:
        return self.parts.host

    @property
    def port(self) -> int | None:
        return self.parts.port

    @property
    def params(self) -> Params:
        return self.parts.params

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    @property
    def received(self) -> str | None:
        return self.params.get("received")

    @property
    def rport(self) -> str | None:
        """The rport value; ``None`` when absent, ``""`` when present without a value."""
        if "rport" not in self.params:
            return None
        return self.params["rport"] or ""

    @property
    def maddr(self) -> str | None:
        return self.params.get("maddr")


@dataclass(frozen=True, slots=True)
class CSeq:
    """CSeq (RFC 3261 §20.16): sequence number and method."""

    seq: int
    method: str

    def __str__(self) -> str:
        return f"{self.seq} {self.method}"


@dataclass(frozen=True, slots=True)
class RetryAfter:
    """Retry-After (RFC 3261 §20.33): seconds, optional comment (without parentheses) and
    optional ``duration`` parameter."""

    text: str
    seconds: int
    comment: str | None = None
    duration: int | None = None
    params: Params = EMPTY_PARAMS

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Challenge:
    """A WWW-/Proxy-Authenticate challenge or Authorization credentials (RFC 3261 §20.27,
    §20.44, §25.1). ``params`` hold unquoted values."""

    text: str
    scheme: str
    params: Params = EMPTY_PARAMS

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")

    @property
    def qop(self) -> tuple[str, ...]:
        """The qop options (``qop="auth,auth-int"`` gives ``("auth", "auth-int")``)."""
        value = self.params.get("qop")
        if not value:
            return ()
        return tuple(part.strip() for part in value.split(",") if part.strip())

    @property
    def nonce(self) -> str | None:
        return self.params.get("nonce")

    @property
    def algorithm(self) -> str | None:
        return self.params.get("algorithm")

    @property
    def stale(self) -> bool:
        return (self.params.get("stale") or "").lower() == "true"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class WarningValue:
    """One Warning value (RFC 3261 §20.43): 3-digit code, agent, quoted text (unquoted)."""

    text: str
    code: int
    agent: str
    warn_text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class ReasonValue:
    """One Reason value (RFC 3326 §2): protocol, ``cause`` and ``text`` parameters."""

    text: str
    protocol: str
    cause: int | None = None
    reason_text: str | None = None
    params: Params = EMPTY_PARAMS

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class MediaType:
    """A media type or media range (Content-Type §20.15, Accept §20.1): ``str()`` as written."""

    text: str
    type: str
    subtype: str
    params: Params = EMPTY_PARAMS

    @property
    def mime(self) -> str:
        return f"{self.type}/{self.subtype}".lower()

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class SessionExpires:
    """Session-Expires (RFC 4028 §4): delta-seconds and the ``refresher`` parameter."""

    text: str
    seconds: int
    refresher: str | None = None
    params: Params = EMPTY_PARAMS

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class TokenWithParams:
    """A token with parameters: Event (RFC 6665), Security-Server mechanisms (RFC 3329),
    Accept-Encoding and Accept-Language entries, Content-Disposition ..."""

    text: str
    value: str
    params: Params = EMPTY_PARAMS

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class RAck:
    """RAck (RFC 3262 §7.2): response number, CSeq number and method."""

    rseq: int
    cseq: int
    method: str

    def __str__(self) -> str:
        return f"{self.rseq} {self.cseq} {self.method}"
