"""IPv4 (RFC 791) and IPv6 (RFC 8200) down to the transport payload, with fragment reassembly.

:func:`transport` returns ``(protocol, src, dst, segment)`` with raw address bytes, or ``None``
for a fragment still waiting for the rest of its datagram (or a packet that is not usable:
too short, no next header). A reassembled datagram comes out with the fragment that completes
it, which is also the frame Wireshark reports it in.

Reassembly keeps the first copy of any byte (later overlapping fragments do not overwrite it);
the first fragment without More Fragments sets the datagram's length (bytes past it are cut).
Each datagram is a :class:`ByteWindow`, so fragments in any order and of any size cost time in
proportion to their bytes, and whether the datagram is complete is a comparison, not a rescan.
Bounds (what is given up is counted in ``evicted["fragments"]``, fragment by fragment):

- a datagram holds at most ``MAX_DATAGRAM`` bytes (the most an IPv4 total length or an IPv6
  payload length can describe): a fragment past that is dropped;
- at most ``max_pending`` incomplete datagrams (``MAX_PENDING``) for at most ``timeout``
  seconds of capture time (``TIMEOUT``);
- all pending datagrams together at most ``max_bytes`` (the fragment share of the scan's
  memory budget), each counted as two bytes per position of its span plus
  ``DATAGRAM_ENTRY_BYTES``: the oldest datagrams are given up first.
"""

from __future__ import annotations

import socket
import struct
from collections import Counter

from sipstatus.capture._budget import DATAGRAM_ENTRY_BYTES, MemoryBudget
from sipstatus.capture._window import ByteWindow

MAX_PENDING = 1024
TIMEOUT = 60  # seconds of capture time; Linux's ipfrag_time is 30, RFC 8200 says 60
MAX_DATAGRAM = 65_535
#: Address texts kept (a scan of random addresses must not grow the cache).
MAX_NAMES = 8192

_V4 = struct.Struct("!BBHHHBBH4s4s").unpack_from
_V6 = struct.Struct("!IHBB16s16s").unpack_from
_FRAG6 = struct.Struct("!BxH4s").unpack_from
_HOP, _ROUTING, _FRAGMENT, _AH, _NONE, _DSTOPTS = 0, 43, 44, 51, 59, 60
_EXTENSIONS = frozenset((_HOP, _ROUTING, _FRAGMENT, _AH, _DSTOPTS, 135, 139, 140))

_names: dict[bytes, str] = {}


def address(raw: bytes) -> str:
    """Text form of a 4- or 16-byte address (RFC 5952 for IPv6, as Wireshark prints it)."""
    name = _names.get(raw)
    if name is None:
        family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
        name = socket.inet_ntop(family, raw)
        if len(_names) < MAX_NAMES:
            _names[raw] = name
    return name


class _Pending:
    __slots__ = ("first_seen", "fragments", "protocol", "total", "window")

    def __init__(self, now: int) -> None:
        self.first_seen = now
        self.window = ByteWindow()
        self.total = -1
        self.protocol = -1
        self.fragments = 0


class Defragmenter:
    """Collect fragments until a datagram is whole (bounds: see the module docstring)."""

    def __init__(self, max_pending: int = MAX_PENDING, timeout: int = TIMEOUT,
                 max_bytes: int | None = None, evicted: Counter[str] | None = None) -> None:
        self.max_pending = max_pending
        self.timeout = timeout
        self.max_bytes = MemoryBudget().fragments if max_bytes is None else max_bytes
        self.evicted: Counter[str] = Counter() if evicted is None else evicted
        self._pending: dict[tuple[object, ...], _Pending] = {}
        self.held = 0  # bytes counted against max_bytes
        self.dropped = 0  # datagrams given up (evicted or timed out)

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, key: tuple[object, ...], offset: int, more: bool, data: bytes, now: int,
            protocol: int = -1) -> tuple[bytes, int] | None:
        """Add one fragment; return ``(datagram, protocol)`` once every byte is present.

        ``protocol`` is the next header carried by this fragment (IPv6 takes it from the
        fragment at offset 0).
        """
        pending = self._pending
        entry = pending.get(key)
        if entry is None:
            self._expire(now)
            entry = pending[key] = _Pending(now)
            self.held += DATAGRAM_ENTRY_BYTES
        limit = entry.total if entry.total >= 0 else MAX_DATAGRAM
        if offset + len(data) > limit:
            if offset >= limit or entry.total < 0:  # past any datagram, or past this one
                self.evicted["fragments"] += 1
                return None
            data = data[:limit - offset]
        entry.fragments += 1
        window = entry.window
        span = len(window)
        window.write(offset, data)
        if not more and entry.total < 0:
            entry.total = offset + len(data)
            window.truncate(entry.total)
        if offset == 0 and entry.protocol < 0:
            entry.protocol = protocol
        if entry.total >= 0 and window.filled == entry.total:
            del pending[key]
            self.held -= 2 * span + DATAGRAM_ENTRY_BYTES
            return bytes(window.data), entry.protocol
        self.held += 2 * (len(window) - span)
        if self.held > self.max_bytes:
            self._make_room()
        return None

    def _give_up(self, key: tuple[object, ...]) -> None:
        entry = self._pending.pop(key)
        self.held -= 2 * len(entry.window) + DATAGRAM_ENTRY_BYTES
        self.dropped += 1
        self.evicted["fragments"] += entry.fragments

    def _expire(self, now: int) -> None:
        pending = self._pending
        while pending:
            oldest_key = next(iter(pending))
            oldest = pending[oldest_key]
            if len(pending) < self.max_pending and now - oldest.first_seen <= self.timeout:
                break
            self._give_up(oldest_key)

    def _make_room(self) -> None:
        """Give up the oldest datagrams (the newest one last) until the rest fit."""
        pending = self._pending
        while self.held > self.max_bytes and pending:
            self._give_up(next(iter(pending)))


#: What :func:`transport` returns for a fragment when it is given no defragmenter.
FRAGMENT: tuple[int, bytes, bytes, bytes] = (-1, b"", b"", b"")


def transport(version: int, data: bytes, offset: int, defrag: Defragmenter | None,
              now: int) -> tuple[int, bytes, bytes, bytes] | None:
    """Decode the IP header at ``offset``; return ``(protocol, src, dst, payload)``.

    Only a fragment reaches ``defrag`` (which also expires its datagrams then, by the
    fragment's time): with ``defrag`` ``None``, a fragment is answered :data:`FRAGMENT`
    and nothing else changes."""
    if version == 4:
        if len(data) < offset + 20:
            return None
        vihl, _tos, total, ident, flags, _ttl, proto, _sum, src, dst = _V4(data, offset)
        ihl = (vihl & 15) * 4
        end = offset + total if total >= ihl else len(data)  # 0 = TSO-offloaded length
        payload = data[offset + ihl:end]
        if flags & 0x3FFF:  # More Fragments or a fragment offset
            if defrag is None:
                return FRAGMENT
            done = defrag.add((src, dst, proto, ident), (flags & 0x1FFF) * 8,
                              bool(flags & 0x2000), payload, now, proto)
            if done is None:
                return None
            payload = done[0]
        return proto, src, dst, payload
    if len(data) < offset + 40:
        return None
    _vtf, plen, nh, _hops, src, dst = _V6(data, offset)
    payload = data[offset + 40:offset + 40 + plen] if plen else data[offset + 40:]
    pos = 0
    while nh in _EXTENSIONS:
        if len(payload) < pos + 8:
            return None
        if nh == _FRAGMENT:
            inner, field, ident = _FRAG6(payload, pos)
            fragment = payload[pos + 8:]
            if field & 0xFFF9 == 0:  # atomic fragment (offset 0, no M flag): RFC 6946
                payload, pos, nh = fragment, 0, inner
                continue
            if defrag is None:
                return FRAGMENT
            done = defrag.add((src, dst, ident), field & 0xFFF8, bool(field & 1), fragment,
                              now, inner)
            if done is None:
                return None
            payload, nh = done
            pos = 0
            continue
        length = (payload[pos + 1] + 2) * 4 if nh == _AH else (payload[pos + 1] + 1) * 8
        nh = payload[pos]
        pos += length
    if nh == _NONE:
        return None
    return nh, src, dst, payload[pos:] if pos else payload
