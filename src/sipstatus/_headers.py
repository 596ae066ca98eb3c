"""Header fields of a message: order and duplicates kept, names case-insensitive and
compact-form aware (RFC 3261 §7.3.1, §7.3.3).

:class:`Headers` is lazy. Parsing a message only cuts out the header section; a look-up by
name is one regex scan of that text, and the full list of fields is built the first
time someone iterates over it. Most programs read a handful of headers per message, and
this keeps them from paying for the rest.
"""

from __future__ import annotations

import bisect
import functools
import re
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
_SHORT = {long.lower(): short for short, long in COMPACT_FORMS.items()}


def header_key(name: str) -> str:
    """The look-up key of a header name: lower case, compact form expanded."""
    key = name.lower()
    return _KEYS.get(key, key) if len(key) == 1 else key


@functools.cache
def _field_regex(key: str) -> re.Pattern[str]:
    """Header lines called ``key`` (long or compact name): name, value."""
    names = re.escape(key)
    if key in _SHORT:
        names = f"{names}|{_SHORT[key]}"
    return re.compile(rf"\n((?:{names})[ \t]*):[ \t]*([^\r\n]*)", re.I)


class _ValuePatterns(dict[str, "re.Pattern[str]"]):
    """Look-up key -> regex for the header lines so called (long or compact name, any
    case); group 1 is the value up to the line end. Compiled on first use.

    Group 1 is ``.*`` and not ``[^\r\n]*``: the regex engine runs through "any but LF"
    several times faster than through a character set, and header text here has no CR
    but those of its CRLFs (framing removes stray ones), so a value only needs its
    line's CR trimmed."""

    def __missing__(self, key: str) -> re.Pattern[str]:
        names = re.escape(key)
        if key in _SHORT:
            names = f"{names}|{_SHORT[key]}"
        if len(self) > 4096:  # names come from programs; keep the cache bounded anyway
            self.clear()
        pattern = self[key] = re.compile(rf"\n(?:{names})[ \t]*:[ \t]*(.*)", re.I)
        return pattern


VALUE_PATTERNS = _ValuePatterns()
TRAILING = " \t\r"  # white space after a value, and its line's CR


_ANY_FIELD = re.compile(r"\n([^:\r\n]*):[ \t]*([^\r\n]*)")


@dataclass(frozen=True, slots=True)
class HeaderField:
    """One header field as it was on the wire.

    ``value`` is the field value with folding replaced by single spaces and the white space
    around it removed (RFC 3261 §7.3.1), as latin-1 text (one character per octet);
    ``offset`` is where the value starts in the message, in octets.
    """

    name: str
    value: str
    offset: int

    @property
    def key(self) -> str:
        return header_key(self.name)

    @property
    def text(self) -> str:
        """The value as UTF-8 text, for people."""
        return _text(self.value)


class Headers(Sequence[tuple[str, str]]):
    """The header section: a sequence of ``(name, value)`` pairs in wire order.

    Look-ups by name are case-insensitive and accept compact forms:
    ``headers.get("i")`` is ``headers.get("Call-ID")``. Values are ``str``, folding
    replaced by single spaces.
    """

    __slots__ = ("_base", "_fields", "_folds", "_text")

    def __init__(self, text: str, base: int, folds: tuple[tuple[int, int], ...] = ()) -> None:
        # ``text`` holds the header lines, each introduced by "\r\n" (so it starts with the
        # line break after the start line), folds already replaced by single spaces;
        # ``base`` is the message offset of text[0]; ``folds`` maps positions in ``text``
        # after which the message had (shift) more octets, for exact offsets.
        self._text = text
        self._base = base
        self._folds = folds
        self._fields: tuple[HeaderField, ...] | None = None

    @classmethod
    def from_pairs(cls, pairs: Sequence[tuple[str, str]]) -> Headers:
        """Headers built by a program (offsets are then positions in the written text).

        Raises ValueError for a CR or LF in a name or value: a header field is one line.
        """
        text = "".join(f"\r\n{name}: {value}" for name, value in pairs)
        if text.count("\r") != len(pairs) or text.count("\n") != len(pairs):
            raise ValueError("a header name or value holds a CR or LF")
        return cls(text, 0)

    def _offset(self, position: int) -> int:
        if not self._folds:
            return self._base + position
        index = bisect.bisect_right(self._folds, (position, 1 << 62))
        return self._base + position + (self._folds[index - 1][1] if index else 0)

    @property
    def fields(self) -> tuple[HeaderField, ...]:
        """Every field in wire order, with its offset."""
        if self._fields is None:
            self._fields = tuple(
                HeaderField(m.group(1).rstrip(" \t"), m.group(2).rstrip(" \t"),
                            self._offset(m.start(2)))
                for m in _ANY_FIELD.finditer(self._text)
            )
        return self._fields

    def fields_named(self, name: str) -> tuple[HeaderField, ...]:
        """The fields called ``name`` (any case, long or compact form), in order."""
        return tuple(
            HeaderField(m.group(1).rstrip(" \t"), m.group(2).rstrip(" \t"),
                        self._offset(m.start(2)))
            for m in _field_regex(header_key(name)).finditer(self._text)
        )

    def values(self, key: str) -> list[str]:
        """The raw (latin-1) values of the fields whose look-up key is ``key`` (see
        :func:`header_key`), in order: the fast path of every accessor, one regex scan.
        """
        return [value.rstrip(TRAILING) for value in VALUE_PATTERNS[key].findall(self._text)]

    def first(self, key: str) -> str | None:
        """The raw (latin-1) value of the first field whose look-up key is ``key``."""
        match = VALUE_PATTERNS[key].search(self._text)
        return None if match is None else match[1].rstrip(TRAILING)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The value of the first field called ``name``, or ``default``."""
        found = self.first(header_key(name))
        return default if found is None else _text(found)

    def get_all(self, name: str) -> tuple[str, ...]:
        """The values of every field called ``name``, in order (each as on its own line)."""
        return tuple(_text(v) for v in self.values(header_key(name)))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(self.values(header_key(name)))

    def __len__(self) -> int:
        return len(self.fields)

    @overload
    def __getitem__(self, index: int) -> tuple[str, str]: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[tuple[str, str]]: ...

    def __getitem__(self, index: int | slice) -> tuple[str, str] | Sequence[tuple[str, str]]:
        if isinstance(index, slice):
            return tuple((f.name, _text(f.value)) for f in self.fields[index])
        item = self.fields[index]
        return item.name, _text(item.value)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return ((f.name, _text(f.value)) for f in self.fields)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return [(f.name, f.value) for f in self.fields] == [
                (f.name, f.value) for f in other.fields
            ]
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple((f.name, f.value) for f in self.fields))

    def __repr__(self) -> str:
        return f"Headers({list(self)!r})"

    def __bytes__(self) -> bytes:
        """The header lines as written back: ``Name: value`` CRLF each."""
        return "".join(f"{f.name}: {f.value}\r\n" for f in self.fields).encode("latin-1")


def _text(value: str) -> str:
    """Header text is parsed as latin-1 (one character per octet); users get UTF-8."""
    if value.isascii():
        return value
    return value.encode("latin-1").decode("utf-8", "surrogateescape")
