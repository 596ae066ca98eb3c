"""A window of bytes with holes, for reassembly in linear time: TCP data that arrived ahead of
a gap, and the fragments of an IP datagram.

The window holds its bytes at their offsets, and a mask with one byte per position (1 =
present), both ``bytearray``. Writing copies only the positions still absent, so the first
copy of a byte wins; the runs of absent positions are found with ``bytearray.find`` on the
mask (memchr), so a write costs time in proportion to its length plus the number of holes it
fills, whatever the order and the size of the pieces (a sorted list of intervals would
memmove on every insertion when pieces arrive in reverse order with holes between them). The
present prefix is cut off the front in time proportional to its length (CPython deletes from
the front of a ``bytearray`` without moving the rest).

Memory: two bytes per position of the window's span (holes included); callers bound the span.
"""

from __future__ import annotations

_PRESENT = 1
_ABSENT = 0


class ByteWindow:
    """Bytes at offsets from the window's start; ``filled`` counts the positions present."""

    __slots__ = ("data", "filled", "mask")

    def __init__(self) -> None:
        self.data = bytearray()
        self.mask = bytearray()
        self.filled = 0

    def __len__(self) -> int:
        """The span: one past the furthest position written."""
        return len(self.data)

    def write(self, offset: int, payload: bytes | memoryview) -> int:
        """Copy the bytes of ``payload`` whose positions (from ``offset``) are still absent;
        return how many were new."""
        end = offset + len(payload)
        data, mask = self.data, self.mask
        if end > len(data):
            grow = bytes(end - len(data))
            data += grow
            mask += grow
        view = memoryview(payload)
        new = 0
        at = offset
        while at < end:
            hole = mask.find(_ABSENT, at, end)
            if hole < 0:
                break
            present = mask.find(_PRESENT, hole, end)
            if present < 0:
                present = end
            data[hole:present] = view[hole - offset:present - offset]
            mask[hole:present] = b"\x01" * (present - hole)
            new += present - hole
            at = present
        self.filled += new
        return new

    def present_prefix(self) -> int:
        """How many positions from the start are present (0 if the first is a hole)."""
        hole = self.mask.find(_ABSENT)
        return len(self.mask) if hole < 0 else hole

    def first_present(self) -> int:
        """The first present position, or -1 if none is."""
        return self.mask.find(_PRESENT)

    def take(self, count: int) -> bytes:
        """Cut ``count`` positions off the front (all present) and return their bytes."""
        taken = bytes(self.data[:count])
        self.drop(count)
        return taken

    def drop(self, count: int) -> int:
        """Discard ``count`` positions from the front; return how many were present."""
        present = self.mask.count(_PRESENT, 0, count)
        del self.data[:count]
        del self.mask[:count]
        self.filled -= present
        return present

    def truncate(self, size: int) -> int:
        """Keep the first ``size`` positions; return how many present ones were cut."""
        if size >= len(self.data):
            return 0
        cut = self.mask.count(_PRESENT, size)
        del self.data[size:]
        del self.mask[size:]
        self.filled -= cut
        return cut

    def clear(self) -> None:
        self.data.clear()
        self.mask.clear()
        self.filled = 0
