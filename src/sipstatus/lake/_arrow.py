"""pyarrow, loaded on first use: it is an optional dependency (the ``lake`` extra), so
``import sipstatus`` and ``import sipstatus.lake`` never load it."""

from __future__ import annotations

from typing import Any

INSTALL_HINT = ("the SIP lake needs pyarrow, which is not installed: "
                "python -m pip install 'sipstatus[lake]'")


def pyarrow() -> Any:
    """The ``pyarrow`` module, with ``pyarrow.compute`` and ``pyarrow.parquet`` loaded."""
    try:
        # Optional dependency: imported here so that the core install does without it.
        import pyarrow
        import pyarrow.compute
        import pyarrow.parquet
    except ImportError as exc:
        raise ImportError(INSTALL_HINT, name="pyarrow") from exc
    return pyarrow
