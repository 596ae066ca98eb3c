"""The HEP package's error: bytes that are not a well-formed HEP v3 packet."""

from __future__ import annotations


class HepError(ValueError):
    """A HEP packet is malformed (or a packet cannot be encoded).

    Attributes:
        reason: what is wrong, in words.
        offset: byte offset in the packet where it was found (for a chunk: its header).
        expected: what was expected there.
    """

    def __init__(self, reason: str, *, offset: int = 0, expected: str = "") -> None:
        tail = f" (expected {expected})" if expected else ""
        super().__init__(f"{reason} at byte offset {offset}{tail}")
        self.reason = reason
        self.offset = offset
        self.expected = expected

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (self.reason, self.offset, self.expected))


def _rebuild(reason: str, offset: int, expected: str) -> HepError:
    return HepError(reason, offset=offset, expected=expected)
