"""Input and output of the commands that print what they read (``parse``, ``explain``).

Input is read in chunks and never beyond a cap, so that an endless source (``/dev/zero``,
a stream that never closes) is an error, not a MemoryError. Output is UTF-8 whatever the
locale or ``PYTHONIOENCODING`` says (JSON is UTF-8, RFC 8259 §8.1): octets of the input that
are not UTF-8, which the parser keeps as surrogate escapes, are written as U+FFFD, and JSON
never holds NaN or Infinity (a float that is not finite is written as null).
"""

from __future__ import annotations

import errno
import math
import os
import re
import sys
from typing import IO, Any, BinaryIO

#: Octets read from the input at a time.
CHUNK = 1 << 16


class InputError(Exception):
    """The input cannot be read (usage: exit status 2) or is too large (exit status 1)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def read_capped(stream: BinaryIO, cap: int, name: str, why: str) -> bytes:
    """All of ``stream``, read in chunks of at most :data:`CHUNK` octets and never more than
    ``cap + 1`` octets in all; more than ``cap`` is an :class:`InputError` (status 1) that
    names the input (``name``) and the limit (``why``)."""
    buffer = bytearray()
    while len(buffer) <= cap:
        chunk = stream.read(min(CHUNK, cap + 1 - len(buffer)))
        if not chunk:
            return bytes(buffer)
        buffer += chunk
    raise InputError(f"{name}: more than {cap_text(cap)} of input ({why})", 1)


def read_input(name: str, cap: int, why: str) -> bytes:
    """Standard input for ``-``, else the file ``name``, read as :func:`read_capped` reads.
    A file that cannot be opened (missing, a directory, no permission) or a closed standard
    input is an :class:`InputError` with status 2 (usage)."""
    if name == "-":
        stream = getattr(sys.stdin, "buffer", None)
        if stream is None:
            raise InputError("standard input is closed", 2)
        return read_capped(stream, cap, name, why)
    try:
        with open(name, "rb") as handle:
            return read_capped(handle, cap, name, why)
    except OSError as exc:
        raise InputError(f"{exc.strerror or exc}: {name}", 2) from None


def missing(path: str, number: int = errno.ENOENT) -> InputError:
    """The usage error of a file that is not there (or not a file), worded as open() words it."""
    return InputError(f"{os.strerror(number)}: {path}", 2)


def cap_text(cap: int) -> str:
    if cap >= 1 << 20 and cap % (1 << 20) == 0:
        return f"{cap >> 20} MiB"
    return f"{cap:,} octets"


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` with every lone surrogate (an undecodable octet kept by the parser as a
    surrogate escape, or any other) replaced by U+FFFD, so that it encodes as UTF-8."""
    return _SURROGATE.sub("\ufffd", text)


def clean(value: Any) -> Any:
    """A JSON-ready value with its text cleaned (:func:`clean_text`) and every float that is
    not finite (NaN, infinities) made None, so that ``json.dumps(allow_nan=False)`` holds."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {clean(key): clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [clean(item) for item in value]
    return value


class Utf8Out:
    """Standard output written as UTF-8 octets (through its binary buffer when it has one:
    a ``StringIO`` put in its place, as tests do, gets the text)."""

    def __init__(self, out: IO[str] | None = None) -> None:
        # sys.stdout is None when Python started with its descriptor closed: write nothing.
        self._text: IO[str] | None = sys.stdout if out is None else out
        self._binary: BinaryIO | None = getattr(self._text, "buffer", None)
        if self._text is not None and self._binary is not None:
            self._text.flush()  # anything written as text goes first

    def write(self, text: str) -> None:
        text = clean_text(text)
        if self._binary is not None:
            self._binary.write(text.encode("utf-8"))
        elif self._text is not None:
            self._text.write(text)

    def flush(self) -> None:
        if self._binary is not None:
            self._binary.flush()
        elif self._text is not None:
            self._text.flush()
