"""The lakes the tests read: one built from each fixture capture, once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from lake_support import FIXTURES, NO_PYARROW

import sipstatus.lake


@pytest.fixture(scope="session")
def lakes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A lake built from each fixture capture, by file name."""
    pytest.importorskip("pyarrow", reason=NO_PYARROW)
    built = {}
    for capture in FIXTURES:
        out = tmp_path_factory.mktemp("lake") / capture.name
        result = sipstatus.lake.build(str(capture), out)
        assert result.capture_error is None
        built[capture.name] = out
    return built
