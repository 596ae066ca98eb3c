"""Terminal output of the command line: the progress bar of ``sipstatus scan``."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from typing import IO

from sipstatus.capture._scan import Progressing


class Progress:
    """One progress line for a whole run, on a terminal (stderr): the share of the bytes of all
    the captures read, the capture being read (n of N), the messages so far and the rate in
    MB/s; redrawn at most every ``interval`` seconds. ``captures`` are the paths of the run,
    whose sizes make the whole; a capture met that was not named there adds its size when met.
    """

    def __init__(self, out: IO[str], captures: Sequence[str] = (), *,
                 interval: float = 0.1) -> None:
        self.out = out
        self.interval = interval
        self.sizes = {path: _size(path) for path in captures}
        self.total = sum(self.sizes.values())
        self.count = len(self.sizes)
        self.started = time.monotonic()
        self._last = 0.0
        self._path: str | None = None
        self._done = 0  # bytes of the captures finished
        self._size = 0  # of the capture being read
        self._index = 0  # of the capture being read, from 1
        self.shown = False
        self.line = ""

    def __call__(self, capture: Progressing, messages: int) -> None:
        if capture.path != self._path:  # the next capture
            if self._path is not None:
                self._done += self._size
            self._path, self._size = capture.path, capture.size
            self._index += 1
            if capture.path not in self.sizes:
                self.sizes[capture.path] = capture.size
                self.total += capture.size
                self.count += 1
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        read = self._done + min(capture.position(), self._size)
        share = min(read / self.total, 1.0) if self.total else 0.0
        rate = read / 1e6 / max(now - self.started, 1e-3)
        bar = "#" * int(share * 24)
        name = os.path.basename(capture.path)[-24:]
        self.line = (f"[{bar:<24}] {share:>4.0%} {self._index}/{self.count} {name}  "
                     f"{messages:,} messages  {rate:.1f} MB/s")
        self.out.write(f"\r{self.line}\033[K")
        self.out.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.out.write("\r\033[K")
            self.out.flush()


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
