"""IPv4 (RFC 791) and IPv6 (RFC 8200) down to the transport payload, with fragment reassembly.

:func:`transport` returns ``(protocol, src, dst, segment)`` with raw address bytes, or ``None``
for a fragment still waiting for the rest of its datagram (or a packet that is not usable:
too short, no next header). A reassembled datagram comes out with the fragment that completes
it, which is also the frame Wireshark reports it in.

Reassembly keeps the first copy of any byte (later overlapping fragments do not overwrite it)
and holds at most ``MAX_PENDING`` incomplete datagrams for at most ``TIMEOUT`` seconds of
capture time, so memory stays bounded whatever the capture holds.
"""

from __future__ import annotations

import socket
import struct

MAX_PENDING = 1024
TIMEOUT = 60  # seconds of capture time; Linux's ipfrag_time is 30, RFC 8200 says 60

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
        if len(_names) < 65_536:  # bounded cache: a scan of random addresses must not grow it
            _names[raw] = name
    return name


class _Pending:
    __slots__ = ("first_seen", "parts", "protocol", "total")

    def __init__(self, now: int) -> None:
        self.first_seen = now
        self.parts: list[tuple[int, bytes]] = []
        self.total = -1
        self.protocol = -1


class Defragmenter:
    """Collect fragments until a datagram is whole."""

    def __init__(self, max_pending: int = MAX_PENDING, timeout: int = TIMEOUT) -> None:
        self.max_pending = max_pending
        self.timeout = timeout
        self._pending: dict[tuple[object, ...], _Pending] = {}
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
        entry.parts.append((offset, data))
        if not more:
            entry.total = offset + len(data)
        if offset == 0:
            entry.protocol = protocol
        if entry.total < 0:
            return None
        datagram = _assemble(entry.parts, entry.total)
        if datagram is None:
            return None
        del pending[key]
        return datagram, entry.protocol

    def _expire(self, now: int) -> None:
        pending = self._pending
        while pending:
            oldest_key = next(iter(pending))
            oldest = pending[oldest_key]
            if len(pending) < self.max_pending and now - oldest.first_seen <= self.timeout:
                break
            del pending[oldest_key]
            self.dropped += 1


def _assemble(parts: list[tuple[int, bytes]], total: int) -> bytes | None:
    # Stable sort by offset: at equal offsets the first arrival comes first and wins.
    ordered = sorted(parts, key=lambda part: part[0])
    chunks = []
    covered = 0
    for offset, data in ordered:
        end = offset + len(data)
        if offset > covered:
            return None  # a hole
        if end > covered:
            chunks.append(data[covered - offset:])
            covered = end
        if covered >= total:
            return b"".join(chunks)[:total]
    return None


def transport(version: int, data: bytes, offset: int, defrag: Defragmenter,
              now: int) -> tuple[int, bytes, bytes, bytes] | None:
    """Decode the IP header at ``offset``; return ``(protocol, src, dst, payload)``."""
    if version == 4:
        if len(data) < offset + 20:
            return None
        vihl, _tos, total, ident, flags, _ttl, proto, _sum, src, dst = _V4(data, offset)
        ihl = (vihl & 15) * 4
        end = offset + total if total >= ihl else len(data)  # 0 = TSO-offloaded length
        payload = data[offset + ihl:end]
        if flags & 0x3FFF:  # More Fragments or a fragment offset
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
