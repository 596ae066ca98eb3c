"""One large capture mapped in pieces (``jobs=N``): cut at record boundaries, the pieces
mapped in workers, the file's own state (IP fragments, TCP streams, tshark's resend ledger)
carried through them in the parent; the lake is byte-identical to a one-process run over
the unsplit file. Small pieces are forced (``PIECE_BYTES``) so that small captures are cut
into many, with fragments, TCP messages and retransmissions straddling the cuts."""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path
from typing import Any

import pcapgen
import pytest
from lake_support import CAPTURES, NO_PYARROW, lake_files, scan
from pieces_support import count_tasks, mixed_pcap, mixed_pcapng

from sipstatus.capture._errors import CaptureError
from sipstatus.capture._pcap import (
    CaptureFile,
    Piece,
    RecordIndex,
    split_capture,
    splittable,
)
from sipstatus.capture._scan import Scan

pa = pytest.importorskip("pyarrow", reason=NO_PYARROW)

from sipstatus.lake import build  # noqa: E402
from sipstatus.lake._jobs import (  # noqa: E402
    Outcome,
    ReadTo,
    Task,
    in_capture_order,
    map_into,
    map_piece_into,
    spooled,
    spooled_items,
    tasks,
)


def _pieces_of(path: Path, count: int) -> int:
    """A piece size that cuts ``path`` into ``count`` pieces."""
    return os.path.getsize(path) // count


def _same_as_one_process(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                         pieces: int, *, cut: int | None = None,
                         **options: Any) -> dict[str, Any]:
    """Build ``path`` with jobs=1 (unsplit) and with jobs=2 in pieces of a ``pieces``-th of
    its size (``cut`` of them, if not ``pieces``: the walk stops at damage); check that the
    lakes and the results are the same; return the summary."""
    one = build(path, tmp_path / "jobs1", jobs=1, **options)
    monkeypatch.setattr("sipstatus.lake._jobs.PIECE_BYTES", _pieces_of(path, pieces))
    made = count_tasks(monkeypatch)
    two = build(path, tmp_path / "jobs2", jobs=2, **options)
    assert len(made) == (cut or pieces) and all(task.piece is not None for task in made)
    assert one.parts == two.parts
    assert (one.messages, one.calls) == (two.messages, two.calls)
    assert one.summary == two.summary
    files = lake_files(tmp_path / "jobs1")
    assert files and files == lake_files(tmp_path / "jobs2")
    return one.summary


def test_state_open_across_the_cuts_gives_byte_identical_parts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    capture = tmp_path / "mixed.pcap"
    spans = mixed_pcap(capture, rounds=24)
    cuts = [piece.frames for piece in split_capture(capture, _pieces_of(capture, 9))][1:]
    assert len(cuts) == 8
    for kind, found in spans.items():  # each kind of state is open across some cut
        assert any(first <= cut < last for first, last in found for cut in cuts), kind
    summary = _same_as_one_process(capture, tmp_path, monkeypatch, 9)
    assert summary["resent"] >= 24 and summary["setup_time_ms"]["count"] == 24
    assert summary["transports"]["tcp"] == 48  # every OPTIONS and its 200, reassembled
    assert summary["methods"]["MESSAGE"] == 24  # every fragmented datagram, reassembled


def test_pcapng_sections_interfaces_and_damage_give_byte_identical_parts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    capture = tmp_path / "mixed.pcapng"
    mixed_pcapng(capture, rounds=18)
    summary = _same_as_one_process(capture, tmp_path, monkeypatch, 7, raw=True)
    assert summary["damaged_records"] == 1
    # the link type not read is reported once, for the file, though every piece meets it
    assert sum("147 (USER0)" in warning for warning in summary["warnings"]) == 1
    assert any("undeclared interface 9" in w for w in summary["warnings"])
    assert summary["methods"]["MESSAGE"] == 18 and summary["capture_error"] is None


def test_a_capture_cut_short_ends_the_run_as_in_one_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = tmp_path / "whole.pcap"
    mixed_pcap(whole, rounds=12)
    capture = tmp_path / "cut.pcap"
    capture.write_bytes(whole.read_bytes()[:-40])  # the last piece meets the damage
    summary = _same_as_one_process(capture, tmp_path, monkeypatch, 5)
    assert "capture ends in the middle of a packet" in summary["capture_error"]


@pytest.mark.parametrize("damage", [
    struct.pack("<II", 6, 13) + b"\0" * 8,  # an impossible block length
    struct.pack("<II", 4, 16) + b"\0" * 4 + struct.pack("<I", 20),  # a trailer disagreeing
])
def test_damage_that_ends_a_pcapng_reading_in_a_later_piece_as_in_one_process(
        damage: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = tmp_path / "whole.pcapng"
    mixed_pcapng(whole, rounds=9)
    data = whole.read_bytes()
    capture = tmp_path / "damaged.pcapng"
    capture.write_bytes(data + damage + data)  # the walk stops there: the last piece's
    summary = _same_as_one_process(capture, tmp_path, monkeypatch, 4, cut=2)
    assert summary["capture_error"] and f"byte offset {len(data)}" in summary["capture_error"]


def test_fixtures_in_pieces_give_byte_identical_parts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Captures of real stacks: IPv4 and IPv6 fragments, TCP segments, UDP retransmissions.
    names = ["sipp-kamailio-fragments.pcapng", "sipp-kamailio-tcp.pcap",
             "sipp-kamailio-ipv6.rawip.pcap"]
    inputs = [CAPTURES / name for name in names]
    one = build(inputs, tmp_path / "jobs1", jobs=1)
    monkeypatch.setattr("sipstatus.lake._jobs.PIECE_BYTES", 6000)
    made = count_tasks(monkeypatch)
    two = build(inputs, tmp_path / "jobs2", jobs=2)
    assert len(made) > 3 * len(inputs)
    assert one.summary == two.summary
    assert lake_files(tmp_path / "jobs1") == lake_files(tmp_path / "jobs2")


def test_scan_jobs_on_one_capture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    capture = tmp_path / "mixed.pcap"
    mixed_pcap(capture, rounds=8)
    status, _, err = scan(str(capture), "--format", "parquet", "--out",
                          str(tmp_path / "one"), "--jobs", "1")
    assert status == 0, err
    monkeypatch.setattr("sipstatus.lake._jobs.PIECE_BYTES", _pieces_of(capture, 3))
    made = count_tasks(monkeypatch)
    status, _, err = scan(str(capture), "--format", "parquet", "--out",
                          str(tmp_path / "two"), "--jobs", "2")
    assert status == 0, err
    assert len(made) == 3
    assert lake_files(tmp_path / "one") == lake_files(tmp_path / "two")


def test_pieces_mapped_in_this_process_give_the_records_of_one_scan(tmp_path: Path) -> None:
    # The map and the join in one process (the workers' code is measured here too): the
    # records and the summary of Scan.run over the unsplit files.
    captures = [tmp_path / "mixed.pcap", tmp_path / "mixed.pcapng",
                CAPTURES / "sipp-uas-codes.pcap.gz"]  # not cut: mapped whole
    mixed_pcap(captures[0], rounds=10)
    mixed_pcapng(captures[1], rounds=10)
    one = Scan(records=True, calls=True)
    expected = list(one.run(captures))

    pieces = Scan(records=True, calls=True)
    made = list(tasks(map(str, captures), piece_bytes=_pieces_of(captures[0], 5)))
    assert len(made) > 10 and made[-1].piece is None
    got = list(pieces.run_mapped(in_capture_order(
        iter(made), in_flight=3, start=_map_here, finish=lambda task, outcome: outcome,
        raw=False, port=None)))
    assert got == expected
    assert pieces.summary.as_dict(with_calls=True) == one.summary.as_dict(with_calls=True)


def _map_here(task: Task) -> Outcome:
    """A task mapped in this process, its outcome as a worker's."""
    spool = io.BytesIO()
    read_to = ReadTo()
    if task.piece is None:
        stats = map_into(task.path, spool, False, None)
        return stats, spooled(io.BytesIO(spool.getvalue()), read_to), read_to
    stats = map_piece_into(task.path, task.piece, spool, False, None)
    return stats, spooled_items(io.BytesIO(spool.getvalue()), read_to), read_to


def test_progress_follows_each_capture_through_its_pieces(tmp_path: Path) -> None:
    captures = [tmp_path / "split.pcap", tmp_path / "whole.pcap"]
    for capture in captures:
        mixed_pcap(capture, rounds=400)
    seen: list[tuple[str, int, int, int]] = []
    scan = Scan(records=True, calls=True, progress=lambda capture, messages: seen.append(
        (capture.path, capture.position(), capture.size, messages)))
    made = list(tasks([str(captures[0])], piece_bytes=_pieces_of(captures[0], 6)))
    made.append(Task(1, str(captures[1]), None))
    assert len(made) > 4
    for _ in scan.run_mapped(in_capture_order(iter(made), in_flight=3, start=_map_here,
                                              finish=lambda task, outcome: outcome,
                                              raw=False, port=None)):
        pass
    assert [path for path, *_ in seen] == sorted(path for path, *_ in seen)  # in order
    assert {path for path, *_ in seen} == {str(path) for path in captures}
    for capture in captures:
        reached = [at for path, at, size, _ in seen if path == str(capture)]
        assert reached == sorted(reached) and 0 < reached[0] <= reached[-1] <= (
            capture.stat().st_size)
    split = [at for path, at, *_ in seen if path == str(captures[0])]
    assert len(set(split)) > 2  # the split capture moves on piece by piece
    counts = [messages for *_, messages in seen]
    assert counts == sorted(counts) and counts[-1] <= scan.summary.messages


# --- the index walk and the piece reader -------------------------------------------------


def _read(path: Path, piece: Piece | None = None) -> tuple[list[Any], list[str]]:
    problems: list[CaptureError] = []
    capture = CaptureFile(path, piece=piece, on_problem=problems.append)
    records = []
    try:
        records = list(capture)
    except CaptureError as exc:
        problems.append(exc)
    return records, [str(problem) for problem in problems]


@pytest.mark.parametrize("name", ["mixed.pcap", "mixed.pcapng"])
def test_a_piece_from_any_record_reads_what_the_whole_file_reads_there(
        name: str, tmp_path: Path) -> None:
    capture = tmp_path / name
    (mixed_pcap if name.endswith(".pcap") else mixed_pcapng)(capture, rounds=3)
    whole, whole_problems = _read(capture)
    index = RecordIndex(capture)
    starts = []
    for offset, frames in index:
        starts.append(offset)
        records, problems = _read(capture, Piece(offset, None, frames, index.section()))
        assert records == [record for record in whole if record[0] > frames]
        assert problems == [p for p in whole_problems if int(p.rsplit(" ", 1)[1]) >= offset]
    if name.endswith(".pcap"):  # every record, at the offset its header says
        data = capture.read_bytes()
        expected = [24]
        while len(expected) < len(whole):
            expected.append(expected[-1] + 16 + int.from_bytes(
                data[expected[-1] + 8:expected[-1] + 12], "little"))
        assert starts == expected
    else:  # every block (section headers, interfaces, packets, the damaged one)
        assert len(starts) > len(whole) + 3 * 3


def test_the_index_walk_crosses_read_chunks(tmp_path: Path) -> None:
    capture = tmp_path / "mixed.pcap"
    mixed_pcap(capture, rounds=200)  # over 1 MiB: records reach across the walk's reads
    data = capture.read_bytes()
    assert len(data) > 1 << 20
    offsets = [24]
    while offsets[-1] < len(data):
        offsets.append(offsets[-1] + 16 + int.from_bytes(
            data[offsets[-1] + 8:offsets[-1] + 12], "little"))
    walked = list(RecordIndex(capture))
    assert walked == [(offset, frames) for frames, offset in enumerate(offsets[:-1])]
    pcapng = tmp_path / "mixed.pcapng"
    mixed_pcapng(pcapng, rounds=200)
    records, _ = _read(pcapng)
    pieces = list(split_capture(pcapng, _pieces_of(pcapng, 5)))
    assert len(pieces) == 5
    assert [record for piece in pieces for record in _read(pcapng, piece)[0]] == records


def test_pieces_cover_the_file_and_read_as_the_whole_file(tmp_path: Path) -> None:
    capture = tmp_path / "mixed.pcapng"
    mixed_pcapng(capture, rounds=6)
    whole, whole_problems = _read(capture)
    pieces = list(split_capture(capture, _pieces_of(capture, 4)))
    assert len(pieces) == 4 and pieces[-1].end is None
    assert [piece.end for piece in pieces[:-1]] == [piece.start for piece in pieces[1:]]
    records: list[Any] = []
    problems: list[str] = []
    for piece in pieces:
        more, found = _read(capture, piece)
        records += more
        problems += found
    assert records == whole
    # each piece meets the link type not read; the rest is the whole file's problems
    assert [p for p in problems if "USER0" not in p] == [
        p for p in whole_problems if "USER0" not in p]


def test_small_and_compressed_captures_are_not_cut(tmp_path: Path) -> None:
    capture = tmp_path / "mixed.pcap"
    mixed_pcap(capture, rounds=4)
    size = os.path.getsize(capture)
    assert splittable(capture, size // 2)
    assert not splittable(capture, size // 2 + 1)  # two pieces at least
    assert list(split_capture(capture, size // 2 + 1)) == []
    compressed = tmp_path / "mixed.pcap.gz"
    compressed.write_bytes(pcapgen.gzipped(capture.read_bytes()))
    assert list(split_capture(compressed, 100)) == []
