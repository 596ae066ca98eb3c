"""The HEP tests borrow the capture writers (tests/capture/pcapgen.py) and the process helpers
of the fuzzing tests (tests/fuzz/fuzz_support.py)."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
for folder in (TESTS / "capture", TESTS / "fuzz"):
    if str(folder) not in sys.path:
        sys.path.append(str(folder))
