"""The capture package's error: a damaged capture file."""

from __future__ import annotations


class CaptureError(ValueError):
    """The capture file is damaged or not a capture at all.

    Everything before the damage has already been yielded when this is raised.

    Attributes:
        frame: 1-based number of the frame the damage was found in (the frame that could not
            be read; 0 when the file header itself is bad).
        offset: byte offset of the damage from the start of the (decompressed) file.
        reason: what is wrong, in words.
    """

    def __init__(self, reason: str, *, frame: int, offset: int, path: str = "") -> None:
        where = f"{path}: " if path else ""
        super().__init__(f"{where}{reason} at frame {frame}, byte offset {offset}")
        self.reason = reason
        self.frame = frame
        self.offset = offset
        self.path = path

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (self.reason, self.frame, self.offset, self.path))


def _rebuild(reason: str, frame: int, offset: int, path: str) -> CaptureError:
    return CaptureError(reason, frame=frame, offset=offset, path=path)
