"""Parquet parts: one table's rows cut by the hour of their time column, sorted by
``call_key`` then time within a part, written zstd-compressed into a hidden staging folder
and moved into place (``<table>/date=YYYY-MM-DD/hour=HH/part-NNNNN.parquet``) only when the
whole run has succeeded.

Sizing (docs/lake.md, "Partitioning and file sizes"): a part holds at most ``ROWS_PER_PART``
rows of its table, in row groups of ``ROW_GROUP_ROWS``; as many rows at most wait in memory
across all open hours (beyond, the fullest hour is written out), so memory stays bounded
whatever the input. A part is sorted in memory and written one row group at a time.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sipstatus.lake._arrow import pyarrow
from sipstatus.lake._schema import TIME_COLUMN

#: Rows per part, and rows waiting in memory, for each table (a calls row is the larger).
ROWS_PER_PART = {"messages": 1 << 17, "calls": 1 << 16}
ROW_GROUP_ROWS = 1 << 16
COMPRESSION = "zstd"
HOUR_US = 3_600_000_000
PART_NAME = re.compile(r"part-([0-9]+)\.parquet")
STAGING_PREFIX = ".staging-"


def partition(hour: int) -> str:
    """The Hive partition path of an hour (counted since the epoch, UTC)."""
    start = datetime.fromtimestamp(hour * 3600, UTC)
    return f"date={start:%Y-%m-%d}/hour={start:%H}"


class PartWriter:
    """Buffers one table's record batches per hour and writes them as sorted parts under
    ``staging``. :attr:`staged` lists (partition, part number in this run, staged file) in
    the order written."""

    def __init__(self, staging: Path, table: str, schema: Any, *,
                 rows_per_part: int | None = None,
                 row_group_rows: int = ROW_GROUP_ROWS) -> None:
        self.staging = staging
        self.table = table
        self.schema = schema
        self.time = TIME_COLUMN[table]
        self.rows_per_part = rows_per_part or ROWS_PER_PART[table]
        self.row_group_rows = row_group_rows
        self.rows = 0  # rows written
        self.staged: list[tuple[str, int, Path]] = []
        self._waiting: dict[int, list[Any]] = {}  # hour -> batches
        self._waiting_rows: dict[int, int] = {}
        self._buffered = 0
        self._parts: dict[int, int] = {}  # hour -> parts staged

    def add(self, batch: Any) -> None:
        if not batch.num_rows:
            return
        pa = pyarrow()
        pc = pa.compute
        hours = pc.divide(batch.column(self.time).cast(pa.int64()), HOUR_US)
        bounds = pc.min_max(hours)
        if bounds["min"] == bounds["max"]:
            self._wait(bounds["min"].as_py(), batch)
        else:
            for hour in sorted(pc.unique(hours).to_pylist()):
                self._wait(hour, batch.filter(pc.equal(hours, hour)))

    def _wait(self, hour: int, batch: Any) -> None:
        self._waiting.setdefault(hour, []).append(batch)
        rows = self._waiting_rows[hour] = self._waiting_rows.get(hour, 0) + batch.num_rows
        self._buffered += batch.num_rows
        if rows >= self.rows_per_part:
            self._write(hour)
        while self._buffered > self.rows_per_part:
            # the fullest hour goes first (the earliest of equals: the same on every run)
            self._write(max(self._waiting_rows, key=lambda h: (self._waiting_rows[h], -h)))

    def _write(self, hour: int) -> None:
        pa = pyarrow()
        batches = self._waiting.pop(hour)
        rows = self._waiting_rows.pop(hour)
        self._buffered -= rows
        table = pa.Table.from_batches(batches, schema=self.schema)
        # A stable sort: messages of one call at the same instant stay in capture order.
        order = pa.compute.sort_indices(
            table, sort_keys=[("call_key", "ascending"), (self.time, "ascending")])
        where = partition(hour)
        number = self._parts.get(hour, 0)
        self._parts[hour] = number + 1
        # Not named *.parquet until it is published: no glob of a reader can reach it.
        path = self.staging / self.table / where / f"part-{number:05d}.parquet.tmp"
        path.parent.mkdir(parents=True, exist_ok=True)
        step = self.row_group_rows
        with pa.parquet.ParquetWriter(path, self.schema, compression=COMPRESSION) as writer:
            for start in range(0, rows, step):  # one sorted row group in memory at a time
                writer.write_table(table.take(order.slice(start, step)), row_group_size=step)
        self.rows += rows
        self.staged.append((where, number, path))

    def close(self) -> None:
        """Write every hour still waiting, earliest first."""
        for hour in sorted(self._waiting):
            self._write(hour)


def staging_folder(out: Path) -> Path:
    """A new hidden folder in ``out`` for the parts of this run (readers skip names starting
    with a dot, and ``out/messages/**`` does not reach it)."""
    out.mkdir(parents=True, exist_ok=True)
    folder = out / f"{STAGING_PREFIX}{os.getpid()}"
    if folder.exists():  # left by a killed run of a process with the same id
        shutil.rmtree(folder)
    folder.mkdir()
    return folder


def next_part_number(folder: Path) -> int:
    """One more than the highest part number in ``folder`` (0 if it has none)."""
    if not folder.is_dir():
        return 0
    numbers = [int(m.group(1)) for m in map(PART_NAME.fullmatch, os.listdir(folder)) if m]
    return max(numbers) + 1 if numbers else 0


def publish(out: Path, table: str, staged: list[tuple[str, int, Path]]) -> list[Path]:
    """Move staged parts into ``out/<table>/<partition>/``, numbered after the parts already
    there, in the order they were written. Each move is a rename within one file system."""
    placed: list[Path] = []
    first: dict[str, int] = {}
    for where, number, path in staged:
        folder = out / table / where
        if where not in first:
            first[where] = next_part_number(folder)
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"part-{first[where] + number:05d}.parquet"
        os.replace(path, final)
        placed.append(final)
    return placed
