"""``dask=`` (``--dask``): the per-file map as tasks on a real ``distributed.LocalCluster`` of
worker processes, the reduce in this process; the lake written is byte-identical to a
one-process run."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
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
from pieces_support import count_tasks, mixed_pcapng

pa = pytest.importorskip("pyarrow", reason=NO_PYARROW)
distributed = pytest.importorskip("distributed", reason="dask[distributed] not installed "
                                                        "(pip install 'sipstatus[dask]')")

from sipstatus.lake import build  # noqa: E402
from sipstatus.lake._jobs import WorkerError  # noqa: E402


@pytest.fixture(scope="module")
def address() -> Iterator[str]:
    """The scheduler of a LocalCluster of 2 worker processes, for this module's tests."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}
                                  ) as cluster:
        yield cluster.scheduler_address


def _same_builds(inputs: list[Path], tmp_path: Path, address: str,
                 **options: Any) -> dict[str, Any]:
    """Build ``inputs`` with jobs=1 and on the cluster; check that the lakes and the results
    are the same; return the summary."""
    one = build(inputs, tmp_path / "jobs1", jobs=1, **options)
    on_dask = build(inputs, tmp_path / "dask", dask=address, **options)
    assert one.parts == on_dask.parts
    assert (one.messages, one.calls) == (on_dask.messages, on_dask.calls)
    assert one.summary == on_dask.summary
    files = lake_files(tmp_path / "jobs1")
    assert files and files == lake_files(tmp_path / "dask")
    return one.summary


def test_the_fixtures_give_byte_identical_parts(tmp_path: Path, address: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # Calls and transactions cross the fixtures; small parts: many cuts, all in this process.
    monkeypatch.setattr("sipstatus.lake._parts.ROWS_PER_PART", {"messages": 50, "calls": 7})
    summary = _same_builds(FIXTURES, tmp_path, address, raw=True)
    assert summary["messages"] > 1000 and summary["capture_error"] is None


def test_a_capture_split_into_files_gives_byte_identical_parts(tmp_path: Path,
                                                                address: str) -> None:
    pieces = split_pcap(CAPTURES / "sipp-kamailio-tcp.pcap", tmp_path / "pieces", 4)
    summary = _same_builds([tmp_path / "pieces"], tmp_path, address)
    assert summary["captures"] == [str(path) for path in pieces]
    assert summary["calls"]["total"] > 0


def test_a_damaged_capture_ends_the_run_as_in_one_process(tmp_path: Path,
                                                          address: str) -> None:
    damaged = tmp_path / "damaged.pcap"
    data = (CAPTURES / "sipp-uas-codes.pcap").read_bytes()
    damaged.write_bytes(data[: len(data) // 2])
    summary = _same_builds([CAPTURES / "sipp-kamailio-tcp.pcap", damaged, DISTINCT[0]],
                           tmp_path, address)
    assert "damaged.pcap" in summary["capture_error"]
    assert len(summary["captures"]) == 3  # the file after it is read


def test_a_capture_in_pieces_gives_byte_identical_parts(tmp_path: Path, address: str,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    # One capture, a task a piece; IP fragments, TCP messages and resent INVITEs straddle
    # the cuts (tests/lake/test_lake_pieces.py), and three pcapng sections of several
    # interfaces, one of a link type not read, with a damaged record.
    capture = tmp_path / "mixed.pcapng"
    mixed_pcapng(capture, rounds=18)
    monkeypatch.setattr("sipstatus.lake._jobs.PIECE_BYTES", os.path.getsize(capture) // 6)
    made = count_tasks(monkeypatch)
    summary = _same_builds([capture], tmp_path, address)
    assert len(made) == 6 and summary["damaged_records"] == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/mem")
def test_a_task_that_raises_fails_the_build_with_no_part(tmp_path: Path,
                                                         address: str) -> None:
    unreadable = tmp_path / "unreadable.pcap"
    unreadable.symlink_to("/proc/self/mem")  # opens, then every read fails (EIO)
    with pytest.raises(WorkerError, match=r"unreadable\.pcap failed in a worker"):
        build([DISTINCT[0], unreadable, DISTINCT[1]], tmp_path / "lake", dask=address)
    assert list((tmp_path / "lake").rglob("*")) == []


def _kill_the_worker(cluster: Any, stuck: Path, done: threading.Event) -> None:
    """Kill the cluster's worker once a task runs on it (the scheduler is in this process),
    then let any reader of ``stuck`` go on (so that nothing waits on the pipe forever)."""
    deadline = time.monotonic() + 30
    while not done.is_set() and time.monotonic() < deadline:
        if any(task.state == "processing" for task in cluster.scheduler.tasks.values()):
            time.sleep(0.3)  # let it open the pipe
            os.kill(next(iter(cluster.workers.values())).process.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    done.wait(30)
    with contextlib.suppress(OSError):  # a writer that closes at once: an empty capture
        os.close(os.open(stuck, os.O_WRONLY | os.O_NONBLOCK))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_worker_that_dies_fails_the_build_with_no_part(tmp_path: Path) -> None:
    stuck = tmp_path / "stuck.pcap"
    os.mkfifo(stuck)  # its task waits for a writer until its worker is killed
    import dask

    # One death is enough for Dask to give the task up (else it reruns it elsewhere).
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                     host="127.0.0.1", dashboard_address=None,
                                     scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}
                                     ) as cluster:
        done = threading.Event()
        killer = threading.Thread(target=_kill_the_worker, args=(cluster, stuck, done))
        killer.start()
        try:
            with pytest.raises(WorkerError, match=r"died while mapping .*stuck\.pcap"):
                build([stuck], tmp_path / "lake", dask=cluster.scheduler_address)
        finally:
            done.set()
            killer.join()
    assert list((tmp_path / "lake").rglob("*")) == []


def test_without_distributed_the_error_names_the_extra(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed: ImportError
    with pytest.raises(ImportError, match=r"sipstatus\[dask\]"):
        build(DISTINCT[0], tmp_path / "lake", dask="local")
    assert list((tmp_path / "lake").rglob("*")) == []


def test_scan_dask_local(tmp_path: Path) -> None:
    inputs = [str(path) for path in DISTINCT[:2]]
    status, out, err = scan(*inputs, "--format", "parquet", "--out", str(tmp_path / "dask"),
                            "--dask", "local", "--jobs", "2")
    assert status == 0, err
    assert "written to" in out
    status, _, err = scan(*inputs, "--format", "parquet", "--out", str(tmp_path / "one"),
                          "--jobs", "1")
    assert status == 0, err
    assert lake_files(tmp_path / "one") == lake_files(tmp_path / "dask")
    status, _, err = scan(inputs[0], "--dask", "local")
    assert status == 2 and "--dask and --jobs go with --format parquet" in err
