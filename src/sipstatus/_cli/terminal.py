"""Terminal output of the command line: the progress bar of ``sipstatus scan``."""

from __future__ import annotations

import os
import sys
import time
from typing import IO

from sipstatus.capture._pcap import CaptureFile


class Progress:
    """A one-line progress bar on a terminal (stderr), redrawn at most 10 times a second."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self._last = 0.0
        self.shown = False

    def __call__(self, capture: CaptureFile, messages: int) -> None:
        now = time.monotonic()
        if now - self._last < 0.1:
            return
        self._last = now
        done = capture.position()
        share = done / capture.size if capture.size else 1.0
        bar = "#" * int(share * 30)
        name = os.path.basename(capture.path)[-30:]
        self.out.write(f"\r{name} [{bar:<30}] {share:>4.0%} {messages} messages")
        self.out.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.out.write("\r\033[K")
            self.out.flush()


def stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
