"""``jobs=N`` (``--jobs N``): captures mapped in worker processes, the cross-file state
replayed in the parent; the lake written is byte-identical to a one-process run."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from lake_support import (
    CAPTURES,
    DISTINCT,
    FIXTURES,
    NO_PYARROW,
    lake_files,
    scan,
    split_pcap,
)

pa = pytest.importorskip("pyarrow", reason=NO_PYARROW)

from sipstatus.lake import build  # noqa: E402
from sipstatus.lake._jobs import WorkerError  # noqa: E402


def _same_builds(inputs: list[Path], tmp_path: Path, **options: Any) -> dict[str, Any]:
    """Build ``inputs`` with jobs=1 and jobs=2; check that the lakes and the results are the
    same; return the summary."""
    one = build(inputs, tmp_path / "jobs1", jobs=1, **options)
    two = build(inputs, tmp_path / "jobs2", jobs=2, **options)
    assert one.parts == two.parts
    assert (one.messages, one.calls) == (two.messages, two.calls)
    assert one.summary == two.summary
    files = lake_files(tmp_path / "jobs1")
    assert files and files == lake_files(tmp_path / "jobs2")
    return one.summary


def test_the_fixtures_give_byte_identical_parts(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # The fixtures share Call-IDs (the same traffic in other encapsulations): their calls and
    # transactions cross files. Small parts: many cuts, all in the parent.
    monkeypatch.setattr("sipstatus.lake._parts.ROWS_PER_PART", {"messages": 50, "calls": 7})
    summary = _same_builds(FIXTURES, tmp_path)
    assert summary["messages"] > 1000 and summary["capture_error"] is None


def test_the_raw_column_gives_byte_identical_parts(tmp_path: Path) -> None:
    _same_builds(DISTINCT[:3], tmp_path, raw=True)


@pytest.mark.parametrize("name", ["sipp-kamailio-udp-calls.vlan.pcap",
                                  "sipp-kamailio-tcp.pcap"])
def test_a_capture_split_into_files_gives_byte_identical_parts(name: str,
                                                                tmp_path: Path) -> None:
    pieces = split_pcap(CAPTURES / name, tmp_path / "pieces", 4)
    summary = _same_builds([tmp_path / "pieces"], tmp_path)  # a directory: natural order
    assert summary["captures"] == [str(path) for path in pieces]
    assert summary["calls"]["total"] > 0


def test_a_damaged_capture_is_reported_and_the_run_goes_on_as_in_one_process(
        tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.pcap"
    data = (CAPTURES / "sipp-uas-codes.pcap").read_bytes()
    damaged.write_bytes(data[: len(data) // 2])
    inputs = [CAPTURES / "sipp-kamailio-tcp.pcap", damaged, DISTINCT[0]]
    summary = _same_builds(inputs, tmp_path)
    assert "damaged.pcap" in summary["capture_error"]
    assert summary["capture_errors"] == [summary["capture_error"]]
    assert summary["captures"] == [str(path) for path in inputs]  # the file after it is read


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/mem")
def test_a_worker_that_raises_fails_the_build_with_no_part(tmp_path: Path) -> None:
    unreadable = tmp_path / "unreadable.pcap"
    unreadable.symlink_to("/proc/self/mem")  # opens, then every read fails (EIO)
    with pytest.raises(WorkerError, match=r"unreadable\.pcap failed in a worker"):
        build([DISTINCT[0], unreadable, DISTINCT[1]], tmp_path / "lake", jobs=2)
    assert list((tmp_path / "lake").rglob("*")) == []


def _kill_a_worker(before: set[int], stuck: Path, done: threading.Event) -> None:
    """Kill a worker of the build (a process that was not a child before it), then let any
    reader of ``stuck`` go on (so that nothing waits on the pipe forever)."""
    deadline = time.monotonic() + 30
    while not done.is_set() and time.monotonic() < deadline:
        workers = [p.pid for p in multiprocessing.active_children() if p.pid not in before]
        if workers:
            time.sleep(0.5)  # let it start mapping
            os.kill(workers[0] or 0, signal.SIGKILL)
            break
        time.sleep(0.02)
    done.wait(30)
    # A writer that closes at once: a reader still waiting sees an empty capture (OSError:
    # no reader left).
    with contextlib.suppress(OSError):
        os.close(os.open(stuck, os.O_WRONLY | os.O_NONBLOCK))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_worker_that_dies_fails_the_build_with_no_part(tmp_path: Path) -> None:
    stuck = tmp_path / "stuck.pcap"
    os.mkfifo(stuck)  # its worker waits for a writer until it is killed
    before = {p.pid for p in multiprocessing.active_children()}
    done = threading.Event()
    killer = threading.Thread(target=_kill_a_worker, args=(before, stuck, done))
    killer.start()
    try:
        with pytest.raises(WorkerError, match="worker process died"):
            build([DISTINCT[0], stuck], tmp_path / "lake", jobs=2)
    finally:
        done.set()
        killer.join()
    assert list((tmp_path / "lake").rglob("*")) == []


def test_scan_jobs(tmp_path: Path) -> None:
    status, _, err = scan(*map(str, DISTINCT[:2]), "--format", "parquet", "--out",
                            str(tmp_path / "two"), "--jobs", "2")
    assert status == 0, err
    status, _, err = scan(*map(str, DISTINCT[:2]), "--format", "parquet", "--out",
                            str(tmp_path / "one"), "--jobs", "1")
    assert status == 0, err
    assert lake_files(tmp_path / "one") == lake_files(tmp_path / "two")
    with pytest.raises(SystemExit):
        scan(str(DISTINCT[0]), "--format", "parquet", "--out", str(tmp_path / "x"),
             "--jobs", "0")
    status, _, err = scan(str(DISTINCT[0]), "--jobs", "2")
    assert status == 2 and "--jobs go with --format parquet" in err
