"""``jobs=N``: the map step of a build in N worker processes, exact.

A scan has two kinds of state. Per-file state (IP defragmentation, TCP reassembly, tshark's
resend ledger, which tshark keeps per file) never crosses a file, and the head scan and the
lake's header fields need none: :func:`map_file` does all of that for one capture in a worker
process (``capture._scan.map_capture`` and ``_fields.read_extra``, the very code of a
one-process run) and spools one compact tuple per message to a file in the build's staging
folder. What crosses files (RFC 3261 transactions, calls, their memory budget, the counts)
is replayed in the parent, in capture order, by ``Scan.run_mapped``; the rows, batches and
parts are then made exactly as in one process, so the files written are byte-identical.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from operator import attrgetter
from pathlib import Path
from typing import IO, Any

from sipstatus.capture._errors import CaptureError
from sipstatus.capture._head import Head
from sipstatus.capture._pcap import CaptureFile
from sipstatus.capture._scan import Mapped, MappedFile, Scan, map_capture
from sipstatus.capture._transactions import TsharkLedger
from sipstatus.lake._fields import read_extra

#: Messages per pickled chunk of a spool file (what the parent holds of a file at a time).
SPOOL_CHUNK = 4096

#: The fields of a ``Head`` in order (a tuple pickles in a tenth of the time of the object).
head_fields = attrgetter(*Head.__slots__)
# A spooled message: a :data:`Mapped` whose head is a tuple of its fields.
Spooled = tuple[int, int, int, str, int, str, int, str, Any, tuple[Any, ...], bool, int, str,
                str]
# damaged records, per-file state evicted, warnings, the damage that ended the reading
FileStats = tuple[int, dict[str, int], list[str], CaptureError | None]


class WorkerError(RuntimeError):
    """A worker process failed (raised, or died) while mapping a capture: the build stops,
    and no part of it is published."""


def map_file(path: str, spool: str, raw: bool, port: int | None) -> FileStats:
    """Map one capture in a worker (a top-level function: spawn-safe). Writes the spool file
    ``spool`` (pickled lists of :data:`Mapped` whose data is the lake's extra fields, with
    the message bytes when ``raw``) and returns what the reduce adds to the summary."""
    with open(spool, "wb") as out:
        return map_into(path, out, raw, port)


def map_into(path: str, out: IO[bytes], raw: bool, port: int | None) -> FileStats:
    """Map one capture, writing its spool (pickled chunks of :data:`Spooled`) to ``out``."""
    scan = Scan(port=port, records=True, calls=True)  # the budgets of the parent's scan
    warnings: list[str] = []
    evicted: Counter[str] = Counter()
    capture = CaptureFile(path, max_record=scan.max_record,
                          on_problem=lambda problem: warnings.append(str(problem)))
    ledger = TsharkLedger(max_bytes=scan.ledger_bytes, evicted=evicted)
    damage: CaptureError | None = None
    chunk: list[Spooled] = []
    try:
        for (frame, sec, nsec, src, sport, dst, dport, transport, data, head, resend,
             setup, error, lost) in map_capture(capture, ledger, port=port,
                                                budget=scan.budget, evicted=evicted,
                                                full_head=scan.follow_transactions):
            extra = read_extra(data, head.kind == "request")
            chunk.append((frame, sec, nsec, src, sport, dst, dport, transport,
                          (extra, data) if raw else extra, head_fields(head), resend,
                          setup, error, lost))
            if len(chunk) >= SPOOL_CHUNK:
                pickle.dump(chunk, out, pickle.HIGHEST_PROTOCOL)
                chunk = []
    except CaptureError as exc:
        damage = exc
    if chunk:
        pickle.dump(chunk, out, pickle.HIGHEST_PROTOCOL)
    evicted["records"] += capture.evicted_records
    evicted["interfaces"] += capture.evicted_interfaces
    return capture.damaged_records, dict(evicted), warnings, damage


def spooled(source: IO[bytes]) -> Iterator[Mapped]:
    """The messages of a spool (what :func:`map_into` wrote), in order."""
    while True:
        try:
            chunk: list[Spooled] = pickle.load(source)
        except EOFError:
            break
        for (frame, sec, nsec, src, sport, dst, dport, transport, data, fields, resend,
             setup, error, lost) in chunk:
            yield (frame, sec, nsec, src, sport, dst, dport, transport, data,
                   Head(*fields), resend, setup, error, lost)


def _spooled(spool: Path) -> Iterator[Mapped]:
    """The messages of a spool file, in order; the file is removed once read."""
    with open(spool, "rb") as source:
        yield from spooled(source)
    spool.unlink()


def mapped_files(captures: Iterable[str], spool_folder: Path, *, jobs: int, raw: bool,
                 port: int | None) -> Iterator[MappedFile]:
    """The captures mapped by ``jobs`` worker processes, handed on in the order given (at most
    ``jobs + 1`` files are mapped ahead of the one handed on). A worker that raises or dies
    raises :class:`WorkerError` here; the pool is shut down when the consumer stops."""
    spool_folder.mkdir(parents=True, exist_ok=True)
    context = multiprocessing.get_context("spawn")  # no fork of a process holding threads
    pending: deque[tuple[str, Path, Future[FileStats]]] = deque()
    todo = iter(enumerate(captures))
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:

        def submit() -> None:
            for index, path in todo:
                spool = spool_folder / f"{index:06d}.spool"
                pending.append((path, spool, pool.submit(map_file, os.fspath(path),
                                                         os.fspath(spool), raw, port)))
                return

        try:
            for _ in range(jobs + 1):
                submit()
            while pending:
                path, spool, future = pending.popleft()
                try:
                    damaged, evicted, warnings, damage = future.result()
                except BrokenProcessPool as exc:
                    raise WorkerError(f"a worker process died while mapping {path} (or a "
                                      f"capture mapped beside it): the build is stopped, "
                                      f"no part is published") from exc
                except Exception as exc:
                    raise WorkerError(f"mapping {path} failed in a worker process: "
                                      f"{type(exc).__name__}: {exc}") from exc
                submit()
                yield MappedFile(path, _spooled(spool), damaged, Counter(evicted), warnings,
                                 damage)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
