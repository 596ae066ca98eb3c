"""Header fields of a message: order and duplicates kept, names case-insensitive and
compact-form aware (RFC 3261 §7.3.1, §7.3.3)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

#: The 19 compact forms of the IANA "Header Fields" registry (RFC 3261 §7.3.3 and the RFCs
#: that registered the later ones).
COMPACT_FORMS: dict[str, str] = {
    "a": "Accept-Contact",  # RFC 3841
    "b": "Referred-By",  # RFC 3892
    "c": "Content-Type",  # RFC 3261
    "d": "Request-Disposition",  # RFC 3841
    "e": "Content-Encoding",  # RFC 3261
    "f": "From",  # RFC 3261
    "i": "Call-ID",  # RFC 3261
    "j": "Reject-Contact",  # RFC 3841
    "k": "Supported",  # RFC 3261
    "l": "Content-Length",  # RFC 3261
    "m": "Contact",  # RFC 3261
    "o": "Event",  # RFC 6665
    "r": "Refer-To",  # RFC 3515
    "s": "Subject",  # RFC 3261
    "t": "To",  # RFC 3261
    "u": "Allow-Events",  # RFC 6665
    "v": "Via",  # RFC 3261
    "x": "Session-Expires",  # RFC 4028
    "y": "Identity",  # RFC 8224
}

_KEYS = {short: long.lower() for short, long in COMPACT_FORMS.items()}


def header_key(name: str) -> str:
    """The look-up key of a header name: lower case, compact form expanded."""
    key = name.lower()
    return _KEYS.get(key, key) if len(key) == 1 else key


@dataclass(frozen=True, slots=True)
class HeaderField:
    """One header field as it was on the wire.

    ``value`` is the field value with folding replaced by single spaces and the white
    space around it removed (RFC 3261 §7.3.1); ``raw`` is the whole field, name and folds
    included, without the final CRLF; ``offset`` is where the value starts in the message.
    """

    name: str
    value: str
    raw: bytes
    offset: int

    @property
    def key(self) -> str:
        return header_key(self.name)


class Headers(Sequence[tuple[str, str]]):
    """The header section: a sequence of ``(name, value)`` pairs in wire order.

    Look-ups by name are case-insensitive and accept compact forms:
    ``headers.get("i")`` is ``headers.get("Call-ID")``.
    """

    __slots__ = ("_fields", "_index")

    def __init__(self, fields: tuple[HeaderField, ...]) -> None:
        self._fields = fields
        index: dict[str, list[int]] = {}
        for position, field in enumerate(fields):
            index.setdefault(header_key(field.name), []).append(position)
        self._index = index

    @property
    def fields(self) -> tuple[HeaderField, ...]:
        """Every field with its raw bytes and offset."""
        return self._fields

    def get(self, name: str, default: str | None = None) -> str | None:
        """The value of the first field called ``name``, or ``default``."""
        positions = self._index.get(header_key(name))
        if not positions:
            return default
        return _text(self._fields[positions[0]].value)

    def get_all(self, name: str) -> tuple[str, ...]:
        """The values of every field called ``name``, in order (each as on its own line)."""
        positions = self._index.get(header_key(name), ())
        return tuple(_text(self._fields[p].value) for p in positions)

    def fields_named(self, name: str) -> tuple[HeaderField, ...]:
        positions = self._index.get(header_key(name), ())
        return tuple(self._fields[p] for p in positions)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and header_key(name) in self._index

    def __len__(self) -> int:
        return len(self._fields)

    @overload
    def __getitem__(self, index: int) -> tuple[str, str]: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[tuple[str, str]]: ...

    def __getitem__(self, index: int | slice) -> tuple[str, str] | Sequence[tuple[str, str]]:
        if isinstance(index, slice):
            return tuple((f.name, _text(f.value)) for f in self._fields[index])
        field = self._fields[index]
        return field.name, _text(field.value)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return ((f.name, _text(f.value)) for f in self._fields)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return [(f.name, f.value) for f in self._fields] == [
                (f.name, f.value) for f in other._fields
            ]
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple((f.name, f.value) for f in self._fields))

    def __repr__(self) -> str:
        return f"Headers({list(self)!r})"


def _text(value: str) -> str:
    """Header text is parsed as latin-1 (one character per octet); users get UTF-8."""
    if value.isascii():
        return value
    return value.encode("latin-1").decode("utf-8", "surrogateescape")
