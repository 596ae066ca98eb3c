"""The memory budget of a scan: one figure (``--max-memory``, ``max_memory``) shared out among
every kind of state a scan keeps, and the record of what was dropped to hold it.

The budget is the peak memory a scan should reach. ``RESERVED`` of it (32 MiB, or half the
budget if that is less) is left for what is not state: the interpreter and the package
(about 20 MiB), the capture's read buffer, the bounded caches of addresses and header
parameters, and the objects in flight. The rest, the *state budget*, is shared out:

=================  ============  ===============================================================
state              share         held as
=================  ============  ===============================================================
TCP                1/4           every stream's unframed bytes, out-of-order windows and a
                                 fixed cost per stream, counted across all streams
IP fragments       1/8           every pending datagram's window and a fixed cost per datagram
per-Call-ID state  5/8           split among the bookkeepers the scan runs, by weight: tshark's
                                 resend states 3, RFC 3261 transactions 3, calls 3, pending
                                 registrations (RRD) 1
=================  ============  ===============================================================

Per-Call-ID state is counted with an estimate per entry (``*_ENTRY_BYTES``, measured with
tracemalloc on CPython 3.11, rounded up) plus the length of its variable strings (Call-ID,
branch), so the number of entries a share holds is ``share / (estimate + strings)``: at the
default budget, about 16,000 calls in a summary. Whatever is dropped to hold a share is
counted under one of :data:`EVICTED_KINDS`.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

MiB = 1 << 20
DEFAULT_MAX_MEMORY = 64 * MiB
#: The smallest budget accepted: below it the reserve alone does not fit.
MIN_MAX_MEMORY = 4 * MiB
RESERVED = 32 * MiB

#: Estimated bytes of one entry, beyond its strings (Call-ID, branch): key, value object,
#: dictionary slot and recency link.
RESEND_STATE_ENTRY_BYTES = 512
TRANSACTION_ENTRY_BYTES = 1024  # with its INVITE index entry and its responses seen
CALL_ENTRY_BYTES = 640
REGISTRATION_ENTRY_BYTES = 256
STREAM_ENTRY_BYTES = 1024
DATAGRAM_ENTRY_BYTES = 512

#: What a scan can drop to hold its bounds, in the order reports list them: ``records`` and
#: ``interfaces`` are the capture reader's; the rest are state dropped to hold the budget.
EVICTED_KINDS = ("records", "interfaces", "calls", "transactions", "resend_states",
                 "registrations", "fragments", "tcp_bytes", "tcp_streams", "call_links")

_DIALOG_WEIGHTS = {"resend_states": 3, "transactions": 3, "calls": 3, "registrations": 1}
_SIZE = re.compile(r"\s*([0-9]+)\s*(?:([kmgt])(?:i?b)?|b)?\s*", re.I)
_UNITS = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    """Bytes from ``text``: a number of bytes, or with a binary unit (``64M``, ``1G``,
    ``512KiB``, ``2gb``: K, M, G and T are powers of 1024). ``ValueError`` otherwise."""
    match = _SIZE.fullmatch(text)
    if match is None:
        raise ValueError(f"not a size: {text!r} (bytes, or a number with K, M, G or T)")
    number, unit = match.groups()
    return int(number) * (_UNITS[unit.lower()] if unit else 1)


@dataclass(frozen=True, slots=True)
class MemoryBudget:
    """How ``total`` bytes are shared out (see the module docstring)."""

    total: int = DEFAULT_MAX_MEMORY

    def __post_init__(self) -> None:
        if self.total < MIN_MAX_MEMORY:
            raise ValueError(f"a memory budget of {self.total} bytes is below the minimum of "
                             f"{MIN_MAX_MEMORY // MiB} MiB")

    @property
    def state(self) -> int:
        return self.total - min(RESERVED, self.total // 2)

    @property
    def tcp(self) -> int:
        return self.state // 4

    @property
    def fragments(self) -> int:
        return self.state // 8

    def dialogs(self, kind: str, running: Collection[str]) -> int:
        """The share of ``kind`` (a key of the per-Call-ID weights) when the bookkeepers in
        ``running`` run."""
        pool = self.state - self.tcp - self.fragments
        weights = sum(_DIALOG_WEIGHTS[name] for name in running)
        return pool * _DIALOG_WEIGHTS[kind] // max(weights, 1)


_WORD = (1 << 64) - 1


class EvictedKeys:
    """The keys of recently evicted state, in a fixed 256 KiB, to tell whether a message that
    finds no state lost it to an eviction.

    Two generations of a Bloom filter (2**20 bits, 4 hashes by double hashing of ``hash()``),
    each taking ``GENERATION`` keys before the older is dropped: the last 16,384 to 32,768
    evicted keys are remembered, and an unrelated key is mistaken for one of them about once in
    40,000 look-ups (never before the first eviction).
    """

    __slots__ = ("_in_generation", "_new", "_old", "count")

    GENERATION = 1 << 14
    _BITS = 1 << 20
    _MASK = _BITS - 1

    def __init__(self) -> None:
        self._new = bytearray(self._BITS >> 3)
        self._old = bytearray(self._BITS >> 3)
        self._in_generation = 0
        self.count = 0

    def _positions(self, key: object) -> tuple[int, int, int, int]:
        # hash() of similar tuples is structured (an int element enters it almost linearly):
        # the splitmix64 finaliser spreads it, or some hash seeds give 20x the false alarms.
        digest = hash(key) & _WORD
        digest = ((digest ^ (digest >> 30)) * 0xBF58476D1CE4E5B9) & _WORD
        digest = ((digest ^ (digest >> 27)) * 0x94D049BB133111EB) & _WORD
        digest ^= digest >> 31
        first, step = digest & self._MASK, (digest >> 32) | 1
        mask = self._MASK
        return (first, (first + step) & mask, (first + 2 * step) & mask,
                (first + 3 * step) & mask)

    def add(self, key: object) -> None:
        if self._in_generation == self.GENERATION:
            self._old, self._new = self._new, self._old
            self._new[:] = bytes(len(self._new))
            self._in_generation = 0
        bits = self._new
        for bit in self._positions(key):
            bits[bit >> 3] |= 1 << (bit & 7)
        self._in_generation += 1
        self.count += 1

    def __contains__(self, key: object) -> bool:
        if not self.count:
            return False
        positions = self._positions(key)
        return any(all(bits[bit >> 3] >> (bit & 7) & 1 for bit in positions)
                   for bits in (self._new, self._old))
