"""Fixtures of the fuzzing tests; the helpers live in fuzz_support.py."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzz_support import FAULTY_TARGET, free_port, started, wait_for_udp_sip


@pytest.fixture
def faulty_target(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = free_port()
    with started([sys.executable, str(FAULTY_TARGET), str(port)], tmp_path / "faulty.log") as p:
        wait_for_udp_sip(port)
        yield port, p
