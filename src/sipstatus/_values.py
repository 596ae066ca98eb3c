"""Typed header values: small frozen, slotted classes holding the parts of a header value.

Values are made by cutting text that the grammar accepts (``_split``, ``_extract``).

Every value keeps what was written (``str()`` gives it back) next to the parts a program needs.
Parameter lists are :class:`Params`: ordered, duplicates kept, names case-insensitive
(RFC 3261 §7.3.1 / §19.1.4), values unquoted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar, overload

from sipstatus._base import slot_setter
from sipstatus._errors import SipParseError
from sipstatus._params import EMPTY_PARAMS, Params, Uri
from sipstatus._split import (
    NameAddrParts,
    ViaParts,
    delta_seconds,
    name_addr_fields,
    qvalue,
    via_fields,
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
T = TypeVar("T")


class LazyValue(Generic[P]):
    """A header value kept as its text and split into parts on first use.

    Reading a Contact or Via list only to count it, or to take one parameter of the first
    entry, is what most programs do; parsing every entry up front would cost more than the
    rest of the message. Instances are immutable; ``str()`` gives the text as written.
    """

    # The parts are read through descriptors (_NameAddrPart, _ViaPart): the first read
    # cuts the text and stores every part in the instance dict under its name, where later
    # reads find it without a Python call (instance attributes come before non-data
    # descriptors). An unsplit value has no dict yet (made on first use): counting entries
    # costs nothing more. Measured against a property per part reading a named tuple cached
    # in a slot: half the cost of the first read (no AttributeError raised and caught for
    # the empty slot), less than half of later ones.
    __slots__ = ("__dict__", "text")

    text: str
    _names: ClassVar[tuple[str, ...]]  # the fields of P
    _parts_type: ClassVar[Any]  # P._make

    def __init__(self, text: str) -> None:
        set_lazy_text(self, text)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __reduce__(self) -> tuple[type[LazyValue[P]], tuple[str]]:
        # Pickled and copied as the text it was made of; the parts are split again on use.
        return type(self), (self.text,)

    @property
    def parts(self) -> P:
        """The value split into its parts (a named tuple), read on first use."""
        parts: P = self._parts_type([getattr(self, name) for name in self._names])
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


def _unreadable(value: LazyValue[Any]) -> SipParseError:
    return SipParseError(f"cannot read the {type(value).__name__} value {value.text!r}",
                         rule=type(value).__name__, expected="a value its grammar rule accepts")


class _NameAddrPart(Generic[T]):
    """Part ``index`` of a NameAddr (see LazyValue)."""

    def __init__(self, index: int, doc: str) -> None:
        self.index = index
        self.__doc__ = doc

    @overload
    def __get__(self, value: None, owner: type[Any]) -> _NameAddrPart[T]: ...

    @overload
    def __get__(self, value: NameAddr, owner: type[Any]) -> T: ...

    def __get__(self, value: NameAddr | None, owner: type[Any]) -> T | _NameAddrPart[T]:
        if value is None:
            return self
        try:
            parts = name_addr_fields(value.text)
        except SipParseError:
            raise
        except (ValueError, IndexError):
            raise _unreadable(value) from None
        found = value.__dict__
        found["display_name"], found["uri"], found["params"] = parts
        part: T = parts[self.index]  # type: ignore[assignment]
        return part


class _ViaPart(Generic[T]):
    """Part ``index`` of a Via (see LazyValue)."""

    def __init__(self, index: int, doc: str) -> None:
        self.index = index
        self.__doc__ = doc

    @overload
    def __get__(self, value: None, owner: type[Any]) -> _ViaPart[T]: ...

    @overload
    def __get__(self, value: Via, owner: type[Any]) -> T: ...

    def __get__(self, value: Via | None, owner: type[Any]) -> T | _ViaPart[T]:
        if value is None:
            return self
        try:
            parts = via_fields(value.text)
        except SipParseError:
            raise
        except (ValueError, IndexError):
            raise _unreadable(value) from None
        found = value.__dict__
        (found["protocol"], found["version"], found["transport"], found["host"], found["port"],
         found["params"]) = parts
        part: T = parts[self.index]  # type: ignore[assignment]
        return part


class NameAddr(LazyValue[NameAddrParts]):
    """From, To, Route, Record-Route, Reply-To, Refer-To ... (RFC 3261 §20.20):
    ``display_name``, ``uri``, ``params`` (with ``tag``)."""

    __slots__ = ()
    _names = NameAddrParts._fields
    _parts_type = NameAddrParts._make

    display_name = _NameAddrPart[str | None](0, "The display name, unquoted; None when absent.")
    uri = _NameAddrPart[Uri](1, "The URI.")
    params = _NameAddrPart[Params](2, "The header parameters (``tag`` ...).")

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
    _names = ViaParts._fields
    _parts_type = ViaParts._make

    protocol = _ViaPart[str](0, "The protocol name (``SIP``).")
    version = _ViaPart[str](1, "The protocol version (``2.0``).")
    transport = _ViaPart[str](2, "The transport, upper case (``UDP``, ``TLS`` ...).")
    host = _ViaPart[str](3, "The sent-by host (an IPv6 reference keeps its brackets).")
    port = _ViaPart[int | None](4, "The sent-by port; None when absent.")
    params = _ViaPart[Params](5, "The Via parameters (``branch``, ``received`` ...).")

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    @property
    def received(self) -> str | None:
        return self.params.get("received")

    @property
    def rport(self) -> str | None:
        """The rport value; ``None`` when absent, ``""`` when present without a value."""
        params = self.params
        if "rport" not in params:
            return None
        return params["rport"] or ""

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
