"""``build``: captures → the lake (``messages`` and ``calls`` as Hive-partitioned Parquet).

The run is a map step (``_map.CaptureMap``: captures → record batches, released calls
joined with their facts) and a write step (``_parts``: hourly parts, sorted, staged, then
published). Inputs are taken in the order given; a directory or a glob stands for its
captures in natural order (``trace.pcap2`` before ``trace.pcap10``), so that calls spanning
rotated files are followed across them.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sipstatus.capture._errors import CaptureError
from sipstatus.capture._files import filesystem, is_url
from sipstatus.capture._scan import ProgressCallback
from sipstatus.lake._arrow import pyarrow
from sipstatus.lake._dask import dask_client
from sipstatus.lake._dask import mapped_files as dask_mapped_files
from sipstatus.lake._jobs import mapped_files, shared_out
from sipstatus.lake._map import CaptureMap
from sipstatus.lake._parts import (
    PART_NAME,
    STAGING_PREFIX,
    PartWriter,
    publish,
    staging_folder,
)
from sipstatus.lake._schema import SCHEMA_VERSION, VERSION_KEY, schema

TABLES = ("messages", "calls")
#: What a file found in a directory is taken for a capture by: its name ends in .pcap,
#: .pcapng or .cap, perhaps numbered (tcpdump -C: trace.pcap1) and gzip-compressed.
CAPTURE_NAME = re.compile(r".*\.(?:pcap|pcapng|cap)[0-9]*(?:\.gz)?", re.I)
_GLOB_CHARS = re.compile(r"[*?[]")

PathLike = str | os.PathLike[str]


class LakeError(ValueError):
    """The lake in ``out`` cannot take this build (another schema version, or ``raw``
    differing)."""


@dataclass(frozen=True, slots=True)
class LakeBuild:
    """What a build wrote. ``summary`` is the scan's summary (the JSON object of
    ``sipstatus scan --format json``: counts, warnings, ``capture_error``)."""

    out: str
    captures: tuple[str, ...]
    messages: int
    calls: int
    parts: tuple[str, ...]  # the Parquet files written, relative to ``out``
    summary: dict[str, Any]

    @property
    def capture_error(self) -> str | None:
        """The damage that ended the reading early, or ``None``."""
        error: str | None = self.summary["capture_error"]
        return error


def _natural(text: str) -> list[tuple[int, int | str]]:
    return [(0, int(piece)) if piece.isdigit() else (1, piece)
            for piece in re.split(r"([0-9]+)", text) if piece]


def expand_inputs(paths: Iterable[PathLike]) -> list[str]:
    """The capture files that ``paths`` name, each once, in order.

    A file is taken as it is. A directory stands for the files below it whose names look like
    captures (:data:`CAPTURE_NAME`); a path that does not exist but holds ``*``, ``?`` or
    ``[`` is a glob (``**`` crosses directories) and stands for the files it matches whose
    names look like captures. Both come in natural order. ``FileNotFoundError`` for a path
    that names nothing.
    """
    found: list[str] = []
    for given in paths:
        path = os.fspath(given)
        if is_url(path):
            members = _url_members(path)
        elif os.path.isdir(path):
            members = [os.path.join(root, name) for root, dirs, names in os.walk(path)
                       for name in names if CAPTURE_NAME.fullmatch(name)]
        elif os.path.exists(path):
            members = [path]
        elif _GLOB_CHARS.search(path):
            members = [match for match in glob.glob(path, recursive=True)
                       if os.path.isfile(match)
                       and CAPTURE_NAME.fullmatch(os.path.basename(match))]
            if not members:
                raise FileNotFoundError(f"no capture file matches {path}")
        else:
            raise FileNotFoundError(f"{path}: no such file or directory")
        if len(members) > 1:
            members.sort(key=_natural)
        found += members
    seen: set[str] = set()
    unique = []
    for path in found:
        key = path if is_url(path) else os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def _url_members(url: str) -> list[str]:
    """What an fsspec URL stands for, as :func:`expand_inputs` takes a local path."""
    fs, path = filesystem(url)
    if _GLOB_CHARS.search(path) and not fs.exists(path):
        members = [fs.unstrip_protocol(match) for match in fs.glob(path)
                   if fs.isfile(match) and CAPTURE_NAME.fullmatch(match.rsplit("/", 1)[-1])]
        if not members:
            raise FileNotFoundError(f"no capture file matches {url}")
        return members
    if fs.isdir(path):
        return [fs.unstrip_protocol(name) for name in fs.find(path)
                if CAPTURE_NAME.fullmatch(name.rsplit("/", 1)[-1])]
    if fs.exists(path):
        return [url]
    raise FileNotFoundError(f"{url}: no such file or directory")


def _check_out(out: Path, *, append: bool, raw: bool) -> None:
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out} is not a directory")
    if not out.exists():
        return
    _check_entries(str(out), sorted(os.listdir(out)), append=append)
    if append:
        _check_parts(str(out), {table: sorted(map(str, (out / table).glob("**/part-*.parquet")))
                                for table in TABLES}, open, raw=raw)


def _check_url_out(fs: Any, root: str, url: str, *, append: bool, raw: bool) -> None:
    """:func:`_check_out` for a lake at an fsspec URL."""
    if not fs.exists(root):
        return
    if not fs.isdir(root):
        raise NotADirectoryError(f"{url} is not a directory")
    _check_entries(url, sorted(entry.rstrip("/").rsplit("/", 1)[-1]
                               for entry in fs.ls(root, detail=False)), append=append)
    if append:
        _check_parts(url, {table: sorted(fs.glob(f"{root}/{table}/**/part-*.parquet"))
                           for table in TABLES}, fs.open, raw=raw)


def _check_entries(out: str, entries: list[str], *, append: bool) -> None:
    if entries and not append:
        stale = [e for e in entries if e.startswith(STAGING_PREFIX)]
        hint = (f" ({', '.join(stale)}: the staging folder of a run that was stopped; "
                f"remove it)" if stale else "")
        raise FileExistsError(f"{out} is not empty{hint}: choose an empty or new "
                              f"directory, or append to the lake there (append=True, "
                              f"--append)")


def _check_parts(out: str, parts: dict[str, list[str]], open_part: Any, *, raw: bool) -> None:
    """The lake's parts (by table) must be of this schema version, with ``raw`` alike."""
    pa = pyarrow()
    for table, found_parts in parts.items():
        if not found_parts:
            continue
        with open_part(found_parts[0], "rb") as source:
            found = pa.parquet.read_schema(source)
        version = (found.metadata or {}).get(VERSION_KEY.encode(), b"").decode()
        if version != SCHEMA_VERSION:
            raise LakeError(f"{found_parts[0]} is not of lake schema {SCHEMA_VERSION} "
                            f"({VERSION_KEY}={version or 'none'}): cannot append")
        if found.names != schema(table, raw=raw).names:
            with_raw = "with" if "raw" in found.names else "without"
            raise LakeError(f"the lake in {out} was built {with_raw} the raw column: "
                            f"append {with_raw} it too (raw=..., --raw)")


def _publish_url(fs: Any, root: str, staged: dict[str, list[tuple[str, int, Path]]]
                 ) -> list[str]:
    """Upload the staged parts of every table to a hidden staging folder at ``root`` (an
    fsspec URL's path), then move them into place, numbered after the parts already there:
    a run that fails before the moves leaves nothing a reader sees. Returns the parts'
    names relative to ``root``."""
    remote_staging = f"{root}/{STAGING_PREFIX}{os.getpid()}"
    uploaded: list[tuple[str, str, int, str]] = []  # table, partition, number, where now
    try:
        for table, parts in staged.items():
            for where, number, path in parts:
                target = f"{remote_staging}/{table}/{where}/{number:05d}.parquet"
                fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
                fs.put_file(os.fspath(path), target)
                uploaded.append((table, where, number, target))
        placed: list[str] = []
        first: dict[tuple[str, str], int] = {}
        for table, where, number, target in uploaded:  # numbered as publish() numbers them
            folder = f"{root}/{table}/{where}"
            if (table, where) not in first:
                first[table, where] = _next_url_part(fs, folder)
                fs.makedirs(folder, exist_ok=True)
            name = f"{table}/{where}/part-{first[table, where] + number:05d}.parquet"
            fs.mv(target, f"{root}/{name}")
            placed.append(name)
        return placed
    finally:
        if fs.exists(remote_staging):
            fs.rm(remote_staging, recursive=True)


def _next_url_part(fs: Any, folder: str) -> int:
    if not fs.isdir(folder):
        return 0
    names = (entry.rstrip("/").rsplit("/", 1)[-1] for entry in fs.ls(folder, detail=False))
    numbers = [int(m.group(1)) for m in map(PART_NAME.fullmatch, names) if m]
    return max(numbers) + 1 if numbers else 0


def build(paths: PathLike | Iterable[PathLike], out: PathLike, *, jobs: int | None = None,
          dask: str | None = None, append: bool = False, raw: bool = False,
          port: int | None = None,
          progress: ProgressCallback | None = None) -> LakeBuild:
    """Turn captures into the lake in ``out``: ``messages/`` and ``calls/``, Parquet (schema
    v1, docs/lake.md) partitioned by ``date=``/``hour=`` (UTC) of ``ts`` and ``first_ts``.

    ``paths``: capture files, directories and globs (:func:`expand_inputs`), scanned as one
    stream in that order. ``out`` must be empty or new, unless ``append=True`` (then the
    lake there must have the same schema). ``raw=True`` adds the message bytes to
    ``messages``; ``port`` keeps only traffic from or to that port; ``progress`` is called as
    ``Scan`` calls it.

    Parts are written into a hidden staging folder of ``out`` and moved into place when the
    run has succeeded: a run that fails leaves no part behind. A damaged capture ends the
    reading as in ``sipstatus scan``: what was read before it is written, and the damage is
    in ``capture_error`` of the result. The same input gives the same files, rows and order
    on every run.

    ``jobs``: worker processes for the per-file work (``None`` or 1: this process only).
    With several captures, each is mapped in a worker (``_jobs``: reading, layers, head scan,
    tshark's per-file resend ledger, the header fields) and this process replays what crosses
    files (transactions, calls) in capture order: the files written are byte-identical to a
    one-process run. A large capture (uncompressed, 16 MiB or more) is mapped in pieces of
    whole records, this process carrying the file's own state (fragments, TCP streams, the
    resend ledger) through them in order: byte-identical again (docs/scaling.md). A worker
    that fails or dies raises ``WorkerError`` and nothing is published.

    ``dask``: the same per-file map as tasks on a Dask ``distributed`` cluster, the reduce
    still in this process (byte-identical files again): a scheduler's address
    (``"tcp://host:8786"``), or ``"local"`` for a ``LocalCluster`` of ``jobs`` (default: all
    cores) worker processes on 127.0.0.1, started and closed by the build. The workers must
    read the captures under the paths given. A capture may be an fsspec URL (``s3://``,
    ``gs://``, ``https://``, ``file://`` ..., with the filesystem's own package installed),
    read by whichever process maps it.
    Needs pyarrow (``pip install 'sipstatus[lake]'``), and for ``dask`` dask[distributed]
    (``pip install 'sipstatus[dask]'``).
    """
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int)
                             or jobs < 1):
        raise ValueError(f"jobs must be a whole number of processes, 1 or more: {jobs!r}")
    if dask is not None and (not isinstance(dask, str) or not dask.strip()):
        raise ValueError(f"dask must be a scheduler's address or 'local': {dask!r}")
    pyarrow()
    captures = expand_inputs([paths] if isinstance(paths, (str, os.PathLike)) else paths)
    url = os.fspath(out) if is_url(os.fspath(out)) else None
    if url is not None:  # parts are made in a local folder, then uploaded (_publish_url)
        fs, root = filesystem(url)
        root = root.rstrip("/")
        _check_url_out(fs, root, url, append=append, raw=raw)
        folder = Path(tempfile.mkdtemp(prefix="sipstatus-lake-"))
    else:
        folder = Path(out)
        _check_out(folder, append=append, raw=raw)
    staging = staging_folder(folder)
    try:
        writers = {table: PartWriter(staging, table, schema(table, raw=raw))
                   for table in TABLES}
        mapper = CaptureMap(raw=raw, port=port, progress=progress)
        with contextlib.ExitStack() as cluster:
            if dask is not None:
                client = cluster.enter_context(
                    dask_client(dask.strip(), workers=jobs or os.cpu_count() or 1))
                # closed before the client: the tasks still in flight are cancelled
                batches = mapper.batches_mapped(cluster.enter_context(contextlib.closing(
                    dask_mapped_files(client, captures, raw=raw, port=port))))
            elif jobs is not None and jobs > 1 and shared_out(captures):
                batches = mapper.batches_mapped(mapped_files(
                    captures, staging / "spool", jobs=jobs, raw=raw, port=port))
            else:
                batches = mapper.batches(captures)
            try:
                for table, batch in batches:
                    writers[table].add(batch)
            except CaptureError:
                pass  # in the summary's capture_error; what was read before is written
        for writer in writers.values():
            writer.close()
        if url is not None:
            names = _publish_url(fs, root, {table: writer.staged
                                            for table, writer in writers.items()})
        else:
            placed: list[Path] = []
            for table in writers:
                (folder / table).mkdir(exist_ok=True)
            for table, writer in writers.items():
                placed += publish(folder, table, writer.staged)
            names = [str(path.relative_to(folder)) for path in placed]
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if url is not None:
            shutil.rmtree(folder, ignore_errors=True)
    return LakeBuild(os.fspath(out), tuple(captures), writers["messages"].rows,
                     writers["calls"].rows, tuple(names),
                     mapper.scan.summary.as_dict(with_calls=True))
