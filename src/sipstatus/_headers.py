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

from sipstatus import _registry
from sipstatus._base import people_text
from sipstatus._registry import header_key, spellings

#: The 19 compact forms of the IANA "Header Fields" registry (RFC 3261 §7.3.3 and the RFCs
#: that registered the later ones): letter -> canonical name. From the header registry.
COMPACT_FORMS = _registry.COMPACT_FORMS


@functools.cache
def _field_regex(key: str) -> re.Pattern[str]:
    """Header lines called ``key`` (long or compact name): name, value."""
    names = "|".join(map(re.escape, spellings(key)))
    return re.compile(rf"\n((?:{names})[ \t]*):[ \t]*([^\r\n]*)", re.I)


class _ValuePatterns(dict[str, "re.Pattern[str]"]):
    """Look-up key -> regex for the header lines so called (long or compact name, any
    case); group 1 is the value up to the line end. Compiled on first use.

    Group 1 is ``.*`` and not ``[^\r\n]*``: the regex engine runs through "any but LF"
    several times faster than through a character set, and header text here has no CR
    but those of its CRLFs (framing removes stray ones), so a value only needs its
    line's CR trimmed."""

    def __missing__(self, key: str) -> re.Pattern[str]:
        names = "|".join(map(re.escape, spellings(key)))
        if len(self) > 4096:  # names come from programs; keep the cache bounded anyway
            self.clear()
        pattern = self[key] = re.compile(rf"\n(?:{names})[ \t]*:[ \t]*(.*)", re.I)
        return pattern


VALUE_PATTERNS = _ValuePatterns()
TRAILING = " \t\r"  # white space after a value, and its line's CR


#: Any header field line of a header section: name (with trailing white space), value.
FIELD_LINE = re.compile(r"\n([^:\r\n]*):[ \t]*([^\r\n]*)")


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
        return people_text(self.value)


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

    @property
    def section(self) -> str:
        """The header section as latin-1 text: each field line introduced by CRLF (the
        text starts with the line break after the start line), folds replaced by single
        spaces, no empty line at the end."""
        return self._text

    @property
    def base(self) -> int:
        """The message offset of the first character of :attr:`section`."""
        return self._base

    def offset_of(self, position: int) -> int:
        """The message offset of ``position`` in :attr:`section`."""
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
                            self.offset_of(m.start(2)))
                for m in FIELD_LINE.finditer(self._text)
            )
        return self._fields

    def fields_named(self, name: str) -> tuple[HeaderField, ...]:
        """The fields called ``name`` (any case, long or compact form), in order."""
        return tuple(
            HeaderField(m.group(1).rstrip(" \t"), m.group(2).rstrip(" \t"),
                        self.offset_of(m.start(2)))
            for m in _field_regex(header_key(name)).finditer(self._text)
        )

    def stray_lines(self) -> list[tuple[int, str]]:
        """Lines of the section that are not ``name: value`` fields (lenient parsing keeps
        them out of :attr:`fields`), each with its message offset, as text for people."""
        text = self._text
        if text.count("\n") == len(self.fields):
            return []
        named = {item.offset for item in self.fields}
        found = []
        position = 0
        for line in text.split("\r\n")[1:]:
            position += 2
            colon = line.find(":")
            after = line[colon + 1:]
            value_at = position + colon + 1 + len(after) - len(after.lstrip(" \t"))
            if colon < 0 or self.offset_of(value_at) not in named:
                found.append((self.offset_of(position), people_text(line)))
            position += len(line)
        return found

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
        return default if found is None else people_text(found)

    def get_all(self, name: str) -> tuple[str, ...]:
        """The values of every field called ``name``, in order (each as on its own line)."""
        return tuple(people_text(v) for v in self.values(header_key(name)))

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
            return tuple((f.name, people_text(f.value)) for f in self.fields[index])
        item = self.fields[index]
        return item.name, people_text(item.value)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return ((f.name, people_text(f.value)) for f in self.fields)

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
