"""``jobs=N``: the map step of a build in N worker processes, exact.

A scan has two kinds of state. Per-file state (IP defragmentation, TCP reassembly, tshark's
resend ledger, which tshark keeps per file) never crosses a file, and the head scan and the
lake's header fields need none: :func:`map_file` does all of that for one capture in a worker
process (``capture._scan.map_capture`` and ``_fields.read_extra``, the very code of a
one-process run) and spools one compact tuple per message to a file in the build's staging
folder. What crosses files (RFC 3261 transactions, calls, their memory budget, the counts)
is replayed in the parent, in capture order, by ``Scan.run_mapped``; the rows, batches and
parts are then made exactly as in one process, so the files written are byte-identical.

A capture of at least twice :data:`PIECE_BYTES` (uncompressed) is mapped in pieces, runs of
whole records (``capture._pcap.split_capture``), by :func:`map_piece_file`
(``capture._pieces.map_piece``); the parent carries the file's own state through the
pieces' items in capture order (``capture._pieces.PieceJoin``) before the same replay
(docs/scaling.md).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from operator import attrgetter
from pathlib import Path
from typing import IO, Any

from sipstatus.capture._errors import CaptureError
from sipstatus.capture._files import file_size
from sipstatus.capture._head import Head
from sipstatus.capture._pcap import CaptureFile, Piece, split_capture, splittable
from sipstatus.capture._pieces import PieceItem, PieceJoin, map_piece
from sipstatus.capture._scan import Mapped, MappedFile, Scan, map_capture
from sipstatus.capture._transactions import TsharkLedger
from sipstatus.lake._fields import read_extra

#: Messages per pickled chunk of a spool file (what the parent holds of a file at a time).
SPOOL_CHUNK = 4096
#: A capture of at least twice this many bytes (uncompressed) is mapped in pieces of about
#: equal bytes, this many at least: enough to pay for a task (spawning is done once, a
#: piece's spool and index walk are small), small enough that the reduce of the first
#: pieces overlaps the map of the next ones.
PIECE_BYTES = 8 << 20

#: The fields of a ``Head`` in order (a tuple pickles in a tenth of the time of the object).
head_fields = attrgetter(*Head.__slots__)
# A spooled message: a :data:`Mapped` whose head is a tuple of its fields.
Spooled = tuple[int, int, int, str, int, str, int, str, Any, tuple[Any, ...], bool, int, str,
                str]
# damaged records, per-file state evicted, warnings, the damage that ended the reading
FileStats = tuple[int, dict[str, int], list[str], CaptureError | None]
# The same for a piece; a warning comes with the link type it reports as not read (-1: none),
# so that the file keeps the first report of each.
PieceStats = tuple[int, dict[str, int], list[tuple[str, int]], CaptureError | None]


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
                pickle.dump((capture.position(), chunk), out, pickle.HIGHEST_PROTOCOL)
                chunk = []
    except CaptureError as exc:
        damage = exc
    pickle.dump((capture.position(), chunk), out, pickle.HIGHEST_PROTOCOL)
    evicted["records"] += capture.evicted_records
    evicted["interfaces"] += capture.evicted_interfaces
    return capture.damaged_records, dict(evicted), warnings, damage


def made_of(data: bytes, head: Head, *, raw: bool) -> Any:
    """What a map makes of a message: its extra fields, with its bytes when ``raw``."""
    extra = read_extra(data, head.kind == "request")
    return (extra, data) if raw else extra


def map_piece_file(path: str, piece: Piece, spool: str, raw: bool,
                   port: int | None) -> PieceStats:
    """Map one piece of a capture in a worker (a top-level function: spawn-safe), writing
    its spool ``spool`` (see :func:`map_piece_into`)."""
    with open(spool, "wb") as out:
        return map_piece_into(path, piece, out, raw, port)


def map_piece_into(path: str, piece: Piece, out: IO[bytes], raw: bool,
                   port: int | None) -> PieceStats:
    """Map one piece of a capture (``capture._pieces.map_piece``), writing its spool to
    ``out``: pickled chunks of its items, a UDP message as a :data:`Spooled` (without resend
    flag and setup time), the raw items as they are."""
    scan = Scan(port=port, records=True, calls=True)  # the budgets of the parent's scan
    warnings: list[tuple[str, int]] = []
    capture = CaptureFile(path, max_record=scan.max_record, piece=piece,
                          on_problem=lambda problem: warnings.append((str(problem), -1)))
    damage: CaptureError | None = None
    chunk: list[PieceItem] = []
    end = capture.size if piece.end is None else piece.end
    try:
        for item in map_piece(capture, port=port, budget=scan.budget,
                              full_head=scan.follow_transactions,
                              on_unread=lambda linktype, problem: warnings.append(
                                  (str(problem), linktype)),
                              data_of=partial(made_of, raw=raw)):
            if len(item) == 3:  # raw: the hints' heads as tuples
                kind, found, hints = item
                if hints:
                    item = (kind, found, tuple((message, head_fields(head), made)
                                               for message, head, made in hints))
            else:
                (frame, sec, nsec, src, sport, dst, dport, transport, data, head, resend,
                 setup, error, lost) = item
                item = (frame, sec, nsec, src, sport, dst, dport, transport, data,
                        head_fields(head), resend, setup, error, lost)
            chunk.append(item)
            if len(chunk) >= SPOOL_CHUNK:
                pickle.dump((min(capture.position(), end), chunk), out,
                            pickle.HIGHEST_PROTOCOL)
                chunk = []
    except CaptureError as exc:
        damage = exc
    pickle.dump((end, chunk), out, pickle.HIGHEST_PROTOCOL)  # a closed capture says its size
    evicted = {"records": capture.evicted_records, "interfaces": capture.evicted_interfaces}
    return capture.damaged_records, evicted, warnings, damage


class ReadTo:
    """How far into its capture (bytes) the map had read when it wrote the chunk of a spool
    last handed on: what the progress bar shows of a capture mapped elsewhere."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at = 0

    def __call__(self) -> int:
        return self.at


def _reading(pieces: list[ReadTo]) -> int:
    """How far the piece being read (the last in ``pieces``) got."""
    return pieces[-1].at


def spooled_items(source: IO[bytes], read_to: ReadTo | None = None) -> Iterator[PieceItem]:
    """The items of a piece's spool (what :func:`map_piece_into` wrote), in order."""
    read_to = read_to or ReadTo()
    while True:
        try:
            read_to.at, chunk = pickle.load(source)
        except EOFError:
            break
        for item in chunk:
            if len(item) == 3:
                kind, found, hints = item
                yield kind, found, tuple((message, Head(*fields), made)
                                         for message, fields, made in hints)
            else:
                (frame, sec, nsec, src, sport, dst, dport, transport, data, fields, resend,
                 setup, error, lost) = item
                yield (frame, sec, nsec, src, sport, dst, dport, transport, data,
                       Head(*fields), resend, setup, error, lost)


def spooled(source: IO[bytes], read_to: ReadTo | None = None) -> Iterator[Mapped]:
    """The messages of a spool (what :func:`map_into` wrote), in order."""
    read_to = read_to or ReadTo()
    chunk: list[Spooled]
    while True:
        try:
            read_to.at, chunk = pickle.load(source)
        except EOFError:
            break
        for (frame, sec, nsec, src, sport, dst, dport, transport, data, fields, resend,
             setup, error, lost) in chunk:
            yield (frame, sec, nsec, src, sport, dst, dport, transport, data,
                   Head(*fields), resend, setup, error, lost)


def _spooled(spool: Path, read: Callable[[IO[bytes], ReadTo], Iterator[Any]],
             read_to: ReadTo) -> Iterator[Any]:
    """What ``read`` makes of a spool file, in order; the file is removed once read."""
    with open(spool, "rb") as source:
        yield from read(source, read_to)
    spool.unlink()


@dataclass(frozen=True, slots=True)
class Task:
    """The map of one capture (the ``index``-th given), whole or one ``piece`` of it."""

    index: int
    path: str
    piece: Piece | None


def tasks(captures: Iterable[str], *, piece_bytes: int | None = None,
          max_record: int | None = None) -> Iterator[Task]:
    """The tasks of ``captures`` in order: a capture that ``split_capture`` cuts in pieces of
    ``piece_bytes`` (default :data:`PIECE_BYTES`), a task a piece (found as its index walk
    goes); any other, one task. ``max_record``: the scan's (default: the default scan's)."""
    size = piece_bytes or PIECE_BYTES
    longest = max_record or Scan().max_record
    for index, given in enumerate(captures):
        path = os.fspath(given)
        split = False
        for piece in split_capture(path, size, max_record=longest):
            split = True
            yield Task(index, path, piece)
        if not split:
            yield Task(index, path, None)


# What a finished task hands on: its figures (FileStats, or PieceStats for a piece), its
# spool's contents (Mapped messages, or PieceItems for a piece), and how far into the capture
# the map of what has been read of them got.
Outcome = tuple[Any, Iterable[Any], ReadTo]


def in_capture_order(todo: Iterator[Task], *, in_flight: int, start: Callable[[Task], Any],
                     finish: Callable[[Task, Any], Outcome], raw: bool,
                     port: int | None) -> Iterator[MappedFile]:
    """The captures of ``todo`` mapped, handed on in order: ``start`` starts a task (at most
    ``in_flight`` at a time, ahead of the one handed on) and returns its handle; ``finish``
    waits for it (raising :class:`WorkerError`). A capture mapped in pieces is joined here:
    its file's state is carried through its pieces' items in order (``PieceJoin``, with the
    budget shares of the parent's scan), the pieces taken as the messages are read."""
    pending: deque[tuple[Task, Any]] = deque()
    scan = Scan(port=port, records=True, calls=True)  # the budgets of the parent's scan

    def submit() -> None:
        for task in todo:
            pending.append((task, start(task)))
            return

    def take() -> tuple[Task, Outcome]:
        task, handle = pending.popleft()
        outcome = finish(task, handle)
        submit()
        return task, outcome

    def pieces_items(mapped: MappedFile, task: Task, outcome: Outcome
                     ) -> Iterator[PieceItem]:
        reported: set[int] = set()  # link types reported as not read
        while True:
            (damaged, evicted, warnings, damage), items, reached[0] = outcome
            mapped.damaged_records += damaged
            mapped.evicted.update(evicted)
            for text, linktype in warnings:
                if linktype < 0 or linktype not in reported:
                    reported.add(linktype)
                    mapped.warnings.append(text)
            yield from items
            if damage is not None:  # the reading ends here, as in one process
                mapped.error = damage
                return
            if not pending or pending[0][0].index != task.index:
                return
            task, outcome = take()

    ended = -1  # the index of a capture in pieces whose reading ended before its last piece
    for _ in range(in_flight):
        submit()
    while pending:
        task, outcome = take()
        if task.index == ended:
            continue  # a piece after the damage: not read, as in one process
        if task.piece is None:
            (damaged, evicted, warnings, damage), messages, read_to = outcome
            yield MappedFile(task.path, messages, damaged, Counter(evicted), warnings, damage,
                             size_of(task.path), read_to)
            continue
        reached = [outcome[2]]  # the piece being read
        mapped = MappedFile(task.path, (), size=size_of(task.path),
                            read_to=partial(_reading, reached))
        join = PieceJoin(task.path, port=port, budget=scan.budget,
                         ledger_bytes=scan.ledger_bytes, evicted=mapped.evicted,
                         full_head=scan.follow_transactions,
                         data_of=partial(made_of, raw=raw))
        mapped.messages = join.messages(pieces_items(mapped, task, outcome))
        yield mapped  # read through (by Scan.run_mapped) before the next is asked for
        if mapped.error is not None:
            ended = task.index


def size_of(path: str) -> int:
    """The size of a capture, for the progress bar (0 if it cannot be known)."""
    try:
        return file_size(path)
    except OSError:
        return 0


def shared_out(captures: list[str]) -> bool:
    """Whether worker processes have work to share: several captures, or one mapped in
    pieces."""
    return len(captures) > 1 or any(splittable(path, PIECE_BYTES) for path in captures)


def mapped_files(captures: Iterable[str], spool_folder: Path, *, jobs: int, raw: bool,
                 port: int | None, piece_bytes: int | None = None) -> Iterator[MappedFile]:
    """The captures mapped by ``jobs`` worker processes, handed on in the order given (at most
    ``jobs + 1`` files or pieces are mapped ahead of the one handed on; a capture of at least
    twice ``piece_bytes``, default :data:`PIECE_BYTES`, is mapped in pieces). A worker that
    raises or dies raises :class:`WorkerError` here; the pool is shut down when the consumer
    stops."""
    spool_folder.mkdir(parents=True, exist_ok=True)
    context = multiprocessing.get_context("spawn")  # no fork of a process holding threads
    todo = tasks(captures, piece_bytes=piece_bytes)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:

        def spool_of(task: Task) -> Path:
            at = task.piece.start if task.piece is not None else 0
            return spool_folder / f"{task.index:06d}-{at:015d}.spool"

        def start(task: Task) -> Future[Any]:
            spool = os.fspath(spool_of(task))
            if task.piece is None:
                return pool.submit(map_file, task.path, spool, raw, port)
            return pool.submit(map_piece_file, task.path, task.piece, spool, raw, port)

        def finish(task: Task, future: Future[Any]) -> Outcome:
            try:
                stats = future.result()
            except BrokenProcessPool as exc:
                raise WorkerError(f"a worker process died while mapping {task.path} (or a "
                                  f"capture mapped beside it): the build is stopped, no part "
                                  f"is published") from exc
            except Exception as exc:
                raise WorkerError(f"mapping {task.path} failed in a worker process: "
                                  f"{type(exc).__name__}: {exc}") from exc
            read = spooled if task.piece is None else spooled_items
            read_to = ReadTo()
            return stats, _spooled(spool_of(task), read, read_to), read_to

        try:
            yield from in_capture_order(todo, in_flight=jobs + 1, start=start, finish=finish,
                                        raw=raw, port=port)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
