"""Helpers for the capture tests: write synthetic captures to tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def write(tmp_path: Path) -> Callable[[bytes, str], Path]:
    """Write capture bytes to a file in tmp_path and return its path."""
    count = 0

    def _write(data: bytes, suffix: str = ".pcap") -> Path:
        nonlocal count
        count += 1
        path = tmp_path / f"capture{count}{suffix}"
        path.write_bytes(data)
        return path

    return _write
