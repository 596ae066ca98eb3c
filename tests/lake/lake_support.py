"""Helpers of the lake tests: the fixture captures, `sipstatus scan` run in-process, and
tables read back with pyarrow."""

from __future__ import annotations

import contextlib
import io
import json
import struct
import sys
from pathlib import Path
from typing import Any

from sipstatus.__main__ import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "capture"))  # pcapgen

#: The reason of every skip for want of pyarrow (``.ci/run`` installs it).
NO_PYARROW = "pyarrow not installed (the lake extra: pip install 'sipstatus[lake]')"

ROOT = Path(__file__).resolve().parents[2]
CAPTURES = ROOT / "fixtures" / "captures"
FIXTURES = sorted(path for path in CAPTURES.iterdir()
                  if path.name.endswith((".pcap", ".pcapng", ".pcap.gz")))
#: One capture of each traffic (the others are the same traffic in another encapsulation).
DISTINCT = [CAPTURES / name for name in (
    "sipp-kamailio-udp-calls.pcapng", "sipp-kamailio-tcp.pcap", "sipp-kamailio-ipv6.pcapng",
    "sipp-kamailio-fragments.pcapng", "sipp-uas-codes.pcap")]


def scan(*argv: str) -> tuple[int, str, str]:
    """``sipstatus scan ARGV`` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["scan", "--no-progress", *argv])
    return status, out.getvalue(), err.getvalue()


def scan_lines(*argv: str) -> list[dict[str, Any]]:
    status, out, err = scan(*argv)
    assert status == 0, err
    return [json.loads(line) for line in out.splitlines()]


def read_table(lake: Path, table: str) -> Any:
    """A table of the lake, as pyarrow reads it (with the date and hour partition columns)."""
    import pyarrow as pa
    import pyarrow.dataset

    # The partition values as written (text), not as pyarrow would guess their types.
    hive = pyarrow.dataset.partitioning(pa.schema([("date", pa.string()),
                                                   ("hour", pa.string())]), flavor="hive")
    return pyarrow.dataset.dataset(lake / table, format="parquet",
                                   partitioning=hive).to_table()


def rows(table: Any) -> list[dict[str, Any]]:
    """Rows as dicts, timestamps as integer microseconds since the epoch."""
    import pyarrow as pa

    columns = {}
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_timestamp(column.type):
            column = column.cast(pa.int64())
        columns[name] = column.to_pylist()
    return [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(),
                                                                      strict=True)]


def lake_files(folder: Path) -> dict[str, bytes]:
    """Every file of a lake folder, by relative path: its bytes."""
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def split_pcap(source: Path, folder: Path, pieces: int) -> list[Path]:
    """``source`` (classic pcap) cut into ``pieces`` files of about as many records."""
    data = source.read_bytes()
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    records = []
    at = 24
    while at < len(data):
        length = struct.unpack_from(endian + "I", data, at + 8)[0]
        records.append(data[at:at + 16 + length])
        at += 16 + length
    size = -(-len(records) // pieces)
    folder.mkdir()
    paths = []
    for number in range(pieces):
        path = folder / f"{source.stem}.pcap{number}"
        path.write_bytes(data[:24] + b"".join(records[number * size:(number + 1) * size]))
        paths.append(path)
    return paths
