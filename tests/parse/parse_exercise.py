"""Read everything a parsed message offers, the way a curious program would: every typed
accessor, every public attribute of every value they return (entries, URIs, params, q,
expires, challenges, Retry-After parts ...), ``str``/``repr``/``hash`` of each, ``.defects``,
``validate()``, ``bytes()`` and ``classify()``. The error contract says that only
``SipParseError`` may escape any of it."""

from __future__ import annotations

import contextlib
import enum
import math
from collections.abc import Mapping
from typing import Any

import sipstatus
from sipstatus import SipRequest, SipResponse
from sipstatus._registry import ACCESSORS as ACCESSOR_KEYS

#: Every typed accessor, from the header registry.
ACCESSORS = tuple(ACCESSOR_KEYS)
_LEAVES = (str, bytes, int, float, bool, type(None))


def walk(value: Any, seen: list[Any], depth: int = 0,
         members: dict[int, int] | None = None) -> None:
    """Read every public attribute of ``value`` and of what they hold, recursively; a
    ``SipParseError`` on one attribute does not stop the others.

    An enum member's public attributes are its enum's other members: each member is walked
    again only from a shallower depth than before (``members``: the least depth each was
    walked from, by id), as walking it again gives nothing new (6 members, 6 levels: 6**6
    walks)."""
    if depth > 6:
        return
    if isinstance(value, float):
        assert math.isfinite(value), value
    if isinstance(value, _LEAVES):
        seen.append(value)
        return
    if isinstance(value, enum.Enum):
        members = {} if members is None else members
        if members.get(id(value), depth + 1) <= depth:
            return
        members[id(value)] = depth
    seen.extend((str(value), repr(value)))
    with contextlib.suppress(TypeError):  # unhashable containers
        hash(value)
    if isinstance(value, Mapping):
        items = list(value.items())
        seen.extend((len(value), list(value), items, [value.get(k) for k, _ in items]))
        pairs = getattr(value, "pairs", None)
        if pairs is not None:
            seen.append(pairs())
        for key, item in items:
            walk(key, seen, depth + 1, members)
            walk(item, seen, depth + 1, members)
        return
    if isinstance(value, tuple | list):
        for item in value:
            walk(item, seen, depth + 1, members)
        return
    for name in dir(type(value)):
        if name.startswith("_"):
            continue
        try:
            item = getattr(value, name)
        except sipstatus.SipParseError:
            continue
        if callable(item):
            continue
        walk(item, seen, depth + 1, members)


def exercise(message: SipRequest | SipResponse) -> list[Any]:
    """Touch every accessor and every lazily parsed part; return what was read."""
    seen: list[Any] = [message.defects, bytes(message), list(message.headers), message.body,
                       [(f.name, f.value, f.offset, f.key, f.text) for f in message.headers.fields]]
    with contextlib.suppress(sipstatus.SipParseError):
        message.validate()
    if isinstance(message, SipRequest):
        with contextlib.suppress(sipstatus.SipParseError):
            walk(message.request_uri, seen)
    for name in ACCESSORS:
        try:
            value = getattr(message, name)
        except sipstatus.SipParseError:
            continue
        walk(value, seen)
    if isinstance(message, SipResponse):
        with contextlib.suppress(sipstatus.SipParseError):
            walk(sipstatus.classify(message), seen)
    return seen
