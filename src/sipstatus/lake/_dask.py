"""``dask=``: the map step of a build as tasks on a Dask ``distributed`` cluster, exact.

The same per-file map as ``jobs=N`` (``_jobs.map_into``: the very code of a one-process run),
one task per capture, or per piece of a large one (``_jobs.map_piece_into``); the reduce
(transactions, calls, rows, parts) stays in the calling process, in capture order, so the
files written are byte-identical to a one-process run.
A task returns its file's spool (pickled chunks of per-message tuples) as bytes rather than
a path, so that it works on a remote cluster whose workers share no folder with this
process: the price is that this process holds the spools of the files in flight in memory
(at most the cluster's worker threads + 1 files). Dask is imported on first use (the
``dask`` extra).
"""

from __future__ import annotations

import io
from collections.abc import Generator, Iterable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from typing import Any

from sipstatus.capture._pcap import Piece
from sipstatus.capture._scan import MappedFile
from sipstatus.lake._jobs import (
    FileStats,
    Outcome,
    PieceStats,
    ReadTo,
    Task,
    WorkerError,
    in_capture_order,
    map_into,
    map_piece_into,
    spooled,
    spooled_items,
    tasks,
)

#: What ``dask=`` takes to start a cluster of worker processes on this machine.
LOCAL = "local"


def map_chunks(path: str, raw: bool, port: int | None) -> tuple[FileStats, bytes]:
    """Map one capture in a Dask task (a top-level function: workers import it): its
    figures and its spool as bytes."""
    buffer = io.BytesIO()
    stats = map_into(path, buffer, raw, port)
    return stats, buffer.getvalue()


def map_piece_chunks(path: str, piece: Piece, raw: bool,
                     port: int | None) -> tuple[PieceStats, bytes]:
    """Map one piece of a capture in a Dask task: its figures and its spool as bytes."""
    buffer = io.BytesIO()
    stats = map_piece_into(path, piece, buffer, raw, port)
    return stats, buffer.getvalue()


def _distributed() -> Any:
    try:
        import distributed  # optional dependency: the dask extra
    except ImportError as exc:
        raise ImportError("dask=/--dask needs dask[distributed]: pip install "
                          "'sipstatus[dask]'") from exc
    return distributed


@contextmanager
def dask_client(address: str, *, workers: int) -> Iterator[Any]:
    """A ``distributed.Client`` of the scheduler at ``address``, or of a ``LocalCluster`` of
    ``workers`` single-threaded worker processes on 127.0.0.1 for ``"local"`` (closed, with
    its workers, on the way out)."""
    distributed = _distributed()
    with ExitStack() as stack:
        if address == LOCAL:
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=None,
                # no dashboard, but the scheduler's HTTP server (health, metrics) still starts:
                # on a free loopback port, not on 8787 (taken by another cluster, say)
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}))
            # results straight from the workers, not relayed by the scheduler (which runs
            # in this process, competing with the reduce)
            yield stack.enter_context(distributed.Client(
                cluster.scheduler_address, set_as_default=False, direct_to_workers=True))
        else:
            yield stack.enter_context(distributed.Client(address, set_as_default=False))


def mapped_files(client: Any, captures: Iterable[str], *, raw: bool, port: int | None,
                 piece_bytes: int | None = None) -> Generator[MappedFile, None, None]:
    """The captures mapped as tasks of ``client``'s cluster, handed on in the order given
    (at most the cluster's worker threads + 1 tasks in flight; a capture of at least twice
    ``piece_bytes``, default ``_jobs.PIECE_BYTES``, is a task a piece). A task that raises,
    or whose worker dies, raises :class:`WorkerError` naming the capture; the tasks still in
    flight are cancelled when the consumer stops."""
    in_flight = max(1, sum(client.nthreads().values())) + 1
    started: list[Any] = []  # the futures not finished yet, cancelled at the end

    def start(task: Task) -> Any:
        if task.piece is None:
            future = client.submit(map_chunks, task.path, raw, port, pure=False)
        else:
            future = client.submit(map_piece_chunks, task.path, task.piece, raw, port,
                                   pure=False)
        started.append(future)
        return future

    def finish(task: Task, future: Any) -> Outcome:
        try:
            stats, chunks = future.result()
        except Exception as exc:
            died = type(exc).__name__ == "KilledWorker"
            raise WorkerError(
                f"a Dask worker died while mapping {task.path}: the build is stopped, no part "
                f"is published" if died else
                f"mapping {task.path} failed in a worker process (Dask): "
                f"{type(exc).__name__}: {exc}") from exc
        finally:
            started.remove(future)
            future.release()
        read = spooled if task.piece is None else spooled_items
        read_to = ReadTo()
        return stats, read(io.BytesIO(chunks), read_to), read_to

    todo = tasks(captures, piece_bytes=piece_bytes)
    try:
        yield from in_capture_order(todo, in_flight=in_flight, start=start, finish=finish,
                                    raw=raw, port=port)
    finally:
        if started:  # best effort: the error being raised, if any, is the one to report
            with suppress(Exception):
                client.cancel(started)
