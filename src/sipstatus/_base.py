"""Small building blocks of the value layers: header text for people, and slot setters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def people_text(value: str) -> str:
    """Header text is parsed as latin-1 (one character per octet); people get the UTF-8
    that was written (undecodable octets kept as surrogate escapes)."""
    if value.isascii():
        return value
    return value.encode("latin-1").decode("utf-8", "surrogateescape")


def slot_setter(cls: type, name: str) -> Callable[[Any, Any], None]:
    """The setter of slot ``name`` of ``cls``. The parser fills immutable objects through
    these: the ``__init__`` of a frozen dataclass calls ``object.__setattr__`` once per
    field, which made object construction a tenth of a lenient parse."""
    setter: Callable[[Any, Any], None] = vars(cls)[name].__set__
    return setter
