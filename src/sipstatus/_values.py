"""Typed header values: small frozen, slotted dataclasses built from the grammar's parse trees.

Every value keeps what was written (``str()`` gives it back) next to the parts a program needs.
Parameter lists are :class:`Params`: ordered, duplicates kept, names case-insensitive
(RFC 3261 §7.3.1 / §19.1.4), values unquoted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass


class Params(Mapping[str, "str | None"]):
    """Ordered ``;name=value`` parameters. ``None`` is the value of a bare ``;name``.

    Names compare case-insensitively; the first occurrence wins on look-up (``items()`` keeps
    every occurrence, in order, as written).
    """

    __slots__ = ("_items",)

    def __init__(self, items: tuple[tuple[str, str | None], ...] = ()) -> None:
        self._items = items

    def __getitem__(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self._items:
            if key.lower() == wanted:
                return value
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        wanted = name.lower()
        return any(key.lower() == wanted for key, _ in self._items)

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def pairs(self) -> tuple[tuple[str, str | None], ...]:
        """Every parameter in wire order, duplicates included."""
        return self._items

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Params):
            return self._items == other._items
        return super().__eq__(other)

    def __hash__(self) -> int:
        return hash(self._items)

    def __repr__(self) -> str:
        return f"Params({dict(self._items)!r})"


EMPTY_PARAMS = Params()


@dataclass(frozen=True, slots=True)
class Uri:
    """A URI as written (RFC 3261 §19.1). ``str()`` is the URI without angle brackets.

    For ``sip:``/``sips:`` URIs the parts are split out; any other scheme (absoluteURI) keeps
    only ``scheme`` and the text. ``host`` of an IPv6 reference keeps its brackets.
    """

    text: str
    scheme: str
    user: str | None = None
    password: str | None = None
    host: str | None = None
    port: int | None = None
    params: Params = EMPTY_PARAMS
    headers: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class NameAddr:
    """From, To, Route, Record-Route, Reply-To, P-Asserted-Identity ... (RFC 3261 §20.20)."""

    text: str
    uri: Uri
    display_name: str | None = None
    params: Params = EMPTY_PARAMS

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class ContactEntry:
    """One Contact value (RFC 3261 §20.10). The wildcard ``*`` has ``is_wildcard`` true and a
    ``uri`` whose text is ``"*"``."""

    text: str
    uri: Uri
    display_name: str | None = None
    params: Params = EMPTY_PARAMS
    q: float | None = None
    expires: int | None = None
    is_wildcard: bool = False

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Via:
    """One Via value (RFC 3261 §20.42): ``SIP/2.0/UDP host:port;branch=...``."""

    text: str
    protocol: str
    version: str
    transport: str
    host: str
    port: int | None = None
    params: Params = EMPTY_PARAMS

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

    def __str__(self) -> str:
        return self.text


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
