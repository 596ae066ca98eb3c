"""Where capture bytes come from: a local path, or an fsspec URL (``s3://``, ``gs://``,
``https://``, ``file://`` ...) for the lake's inputs.

A local path is opened with ``open``; a URL through fsspec, imported on first use (it comes
with the lake's extra, so that the core install stays ``lark`` only). Both give a seekable
binary file: the capture reader reads, peeks and (for a piece of a large capture) seeks.
"""

from __future__ import annotations

import os
import re
from typing import IO, Any

# A URL of a filesystem fsspec knows: a scheme of two or more characters (not a Windows
# drive letter), "://", anything. ``hep://`` never reaches here (it is a listener).
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+://")


def is_url(path: str | os.PathLike[str]) -> bool:
    return isinstance(path, str) and _URL.match(path) is not None


def _fsspec() -> Any:
    try:
        import fsspec
    except ImportError as exc:  # pragma: no cover - fsspec comes with the lake's extra
        raise ImportError("reading captures from URLs needs fsspec: "
                          "pip install 'sipstatus[lake]'") from exc
    return fsspec


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem of ``url`` and the path within it."""
    fs, path = _fsspec().core.url_to_fs(url)
    return fs, path


def open_binary(path: str | os.PathLike[str]) -> IO[bytes]:
    """The capture's bytes, seekable."""
    if is_url(path):
        fs, inner = filesystem(os.fspath(path))
        handle: IO[bytes] = fs.open(inner, "rb")
        return handle
    return open(path, "rb")


def file_size(path: str | os.PathLike[str]) -> int:
    if is_url(path):
        fs, inner = filesystem(os.fspath(path))
        return int(fs.size(inner))
    return os.path.getsize(path)
