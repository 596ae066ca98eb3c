"""The legs of a call: Call-IDs tied together by what their messages say of each other.

A B2BUA or an SBC opens a new leg with a new Call-ID; what ties it to the leg it came from
(hints, read by the head scan from the headers the registry marks with a ``leg_hint``, and
from the transport):

- ``X-CID`` / ``X-Call-ID`` (each value, in each such header: the Call-ID of another leg);
- ``Session-ID`` (RFC 7989): ``local-uuid;remote=remote-uuid``. A UUID names one endpoint
  of one session and intermediaries pass the header on, so every leg of the session carries
  its endpoints' UUIDs: two legs that share a UUID are one call (the pair, in either order,
  included). The null UUID (32 zeros: the remote side not known yet) ties nothing;
- ``P-Charging-Vector`` (RFC 7315): the ``icid-value``, the same on every leg of a call;
- the HEP correlation id (chunk 0x0011) of the packet that carried the message: taken, as
  Homer does, for the Call-ID of another leg (a value shared by legs ties them just as well).

:class:`Legs` is a union-find over names (Call-IDs, and the hint values, kept apart from
Call-IDs): each group of names is one call. A hint links the leg whose message carries it
with the group of the name; a hint naming a name of another group merges the two groups
(hints never conflict: a link is only ever added, so the groups are the connected components
of every hint seen while the legs were alive). The call's key is its leg seen first (the
earliest first message in capture order), and its legs are listed in the order they were
first seen: the same on every run and with any number of workers, since the scan replays the
messages in capture order through this code.

Bounds: a group holds at most ``MAX_LEGS`` legs and ``MAX_NAMES`` names, and a message gives
at most ``MAX_HINTS`` hints (a value shared by every call of a misconfigured element, a
constant icid for instance, would otherwise chain a whole capture into one call); a link
past a bound is not made and is counted in ``evicted["call_links"]``. The names are counted
in the calls' share of the memory budget (``LINK_ENTRY_BYTES`` plus the name's length each)
and forgotten with their call, when it is released. Calls without a hint cost nothing here.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Protocol

#: Legs a call holds at most; names (legs, named Call-IDs, hint values) a group holds.
MAX_LEGS = 16
MAX_NAMES = 64
#: Hints read from one message at most.
MAX_HINTS = 8
#: Estimated bytes of one name held (dict slot, string header, list slot), beyond its length.
LINK_ENTRY_BYTES = 160

_NULL_UUID = "0" * 32
_UUID = re.compile(r"[0-9a-f]{32}")
_ICID = re.compile(r"(?:^|;)[ \t]*icid-value[ \t]*=[ \t]*(\"[^\"]*\"|[^; \t,]+)", re.I)
_REMOTE = re.compile(r";[ \t]*remote[ \t]*=[ \t]*([0-9A-Fa-f]{32})")
# Hint values are kept apart from Call-IDs by a first character no Call-ID has (a header
# value never holds a line break).
SESSION = "\ns"
ICID = "\ni"


class Correlated(bytes):
    """The bytes of a SIP message with the correlation id of the packet that carried it (HEP
    chunk 0x0011), read as a hint by the head scan."""

    correlation_id: str


def call_ids(values: bytes) -> list[str]:
    """The Call-IDs named by ``X-CID`` / ``X-Call-ID`` values (comma-separated: a Call-ID
    holds no comma)."""
    return [text for value in values.split(b",")
            if (text := value.strip().decode("utf-8", "replace"))]


def session_uuids(value: bytes) -> list[str]:
    """The hints of a ``Session-ID`` value: its local and remote UUIDs but the null one."""
    text = value.decode("utf-8", "replace")
    local = text.partition(";")[0].strip().lower()
    found = [local] if _UUID.fullmatch(local) else []
    remote = _REMOTE.search(text)
    if remote is not None:
        found.append(remote.group(1).lower())
    return [SESSION + uuid for uuid in found if uuid != _NULL_UUID]


def icid(value: bytes) -> list[str]:
    """The hint of a ``P-Charging-Vector`` value: its ``icid-value``."""
    match = _ICID.search(value.decode("utf-8", "replace"))
    if match is None:
        return []
    found = match.group(1).strip('"')
    return [ICID + found] if found else []


def hints(call_id_values: bytes | None, session: bytes | None, vector: bytes | None,
          correlation: str) -> tuple[str, ...]:
    """The hints of one message, at most ``MAX_HINTS``, without repeats."""
    found: list[str] = []
    if call_id_values:
        found += call_ids(call_id_values)
    if session:
        found += session_uuids(session)
    if vector:
        found += icid(vector)
    if correlation:
        found.append(correlation)
    return tuple(dict.fromkeys(found))[:MAX_HINTS]


class Leg(Protocol):
    """What a group needs of a leg: its Call-ID and its rank in capture order."""

    call_id: str
    seq: int


class Group:
    """The legs of one call (in the order they were first seen) and every name tied to it."""

    __slots__ = ("legs", "names")

    def __init__(self) -> None:
        self.legs: list[Leg] = []
        self.names: list[str] = []

    @property
    def key(self) -> str:
        """The call's key: the Call-ID of its leg seen first."""
        return self.legs[0].call_id


class Legs:
    """The groups of legs of the calls followed (see the module docstring). ``live`` finds
    the leg of a Call-ID being followed (``None`` for any other)."""

    def __init__(self, live: Callable[[str], Leg | None],
                 evicted: Counter[str] | None = None) -> None:
        self._live = live
        self._groups: dict[str, Group] = {}
        self.evicted: Counter[str] = Counter() if evicted is None else evicted
        self.held = 0

    def __len__(self) -> int:
        return len(self._groups)

    def group(self, name: str) -> Group | None:
        """The group ``name`` (a Call-ID, or a hint value) belongs to, if any."""
        return self._groups.get(name)

    def key(self, call_id: str) -> str:
        """The key of the call the Call-ID belongs to (itself when it is in no group)."""
        group = self._groups.get(call_id)
        return group.key if group is not None and group.legs else call_id

    def start(self, leg: Leg) -> Group | None:
        """A new leg: it joins the group that already names its Call-ID, if any."""
        group = self._groups.get(leg.call_id)
        if group is not None:
            if len(group.legs) >= MAX_LEGS:
                self.evicted["call_links"] += 1
                return None  # the Call-ID stays a name of that group; this leg is alone
            group.legs.append(leg)  # the newest leg: first seen last
        return group

    def link(self, leg: Leg, hints: tuple[str, ...]) -> None:
        """Tie ``leg`` (a leg being followed) to the names of ``hints``."""
        groups = self._groups
        group = groups.get(leg.call_id)
        if group is None or leg not in group.legs:
            group = self._new(leg)
        for name in hints:
            other = groups.get(name)
            if other is group:
                continue
            if other is None:
                live = self._live(name)
                if live is not None and live is not leg:  # a leg not in any group yet
                    other = self._new(live)
                elif len(group.names) >= MAX_NAMES:
                    self.evicted["call_links"] += 1
                    continue
                else:
                    self._add(group, name)
                    continue
            if (len(group.legs) + len(other.legs) > MAX_LEGS
                    or len(group.names) + len(other.names) > MAX_NAMES):
                self.evicted["call_links"] += 1
                continue
            group = self._merge(group, other)

    def _new(self, leg: Leg) -> Group:
        group = Group()
        group.legs.append(leg)
        self._add(group, leg.call_id)
        return group

    def _add(self, group: Group, name: str) -> None:
        group.names.append(name)
        self._groups[name] = group
        self.held += LINK_ENTRY_BYTES + len(name)

    def _merge(self, one: Group, other: Group) -> Group:
        """One group of both: the larger takes the names of the smaller."""
        if len(one.names) < len(other.names):
            one, other = other, one
        groups = self._groups
        for name in other.names:
            groups[name] = one
        one.names += other.names
        one.legs = sorted(one.legs + other.legs, key=lambda leg: leg.seq)
        return one

    def forget(self, group: Group) -> None:
        """The call is released: its names go."""
        groups = self._groups
        for name in group.names:
            if groups.get(name) is group:
                del groups[name]
            self.held -= LINK_ENTRY_BYTES + len(name)
