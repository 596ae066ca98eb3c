"""Parameter lists and URIs, the parts every structured header value is made of.

:class:`Params` is ordered, keeps duplicates, compares names case-insensitively
(RFC 3261 §7.3.1, §19.1.4) and holds values unquoted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass


class Params(Mapping[str, "str | None"]):
    """Ordered ``;name=value`` parameters. ``None`` is the value of a bare ``;name``.

    Names compare case-insensitively and the first occurrence wins on look-up, in
    ``params[name]``, ``get()``, ``values()`` and ``items()`` alike; iteration gives every name
    as written, duplicates included. ``pairs()`` keeps every occurrence with its own value, in
    wire order.
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
