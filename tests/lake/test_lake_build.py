"""The SIP lake (docs/lake.md): for every fixture capture, `messages` equals the records of
`sipstatus scan --format jsonl` and `calls` the calls of `scan --calls`; the columns the lake
adds agree with `sipstatus.parse`; builds are deterministic, partitioned by hour, sorted
within a file, refuse a non-empty directory, and leave no part behind when they fail."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lake_support import (
    CAPTURES,
    DISTINCT,
    FIXTURES,
    NO_PYARROW,
    ROOT,
    lake_files,
    read_table,
    rows,
    scan,
    scan_lines,
)

pa = pytest.importorskip("pyarrow", reason=NO_PYARROW)
import pcapgen  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

import sipstatus.capture  # noqa: E402
import sipstatus.lake  # noqa: E402
from sipstatus.capture import read  # noqa: E402
from sipstatus.capture._calls import Call  # noqa: E402
from sipstatus.lake import LakeError, build, expand_inputs, to_arrow  # noqa: E402
from sipstatus.lake._arrow import INSTALL_HINT, pyarrow  # noqa: E402
from sipstatus.lake._calls import call_values  # noqa: E402
from sipstatus.lake._fields import is_sdp, read_extra, user_and_host  # noqa: E402
from sipstatus.lake._map import CaptureMap  # noqa: E402
from sipstatus.lake._parts import PartWriter, partition, publish, staging_folder  # noqa: E402
from sipstatus.lake._schema import columns, schema  # noqa: E402

IDS = [path.name for path in FIXTURES]
#: Fields of a `scan --format jsonl` record that are `messages` columns of the same name.
SHARED = ("frame", "src", "sport", "dst", "dport", "transport", "kind", "method",
          "status_code", "reason", "category", "action", "call_id", "cseq_seq", "cseq_method",
          "via_branch", "from_tag", "to_tag", "resend", "response_time_ms", "error")


def _evicted(record: dict[str, Any]) -> tuple[str, ...]:
    return tuple(f"evicted {kind}" for kind in record.get("evicted", "").split(",") if kind)


def _jsonl_key(record: dict[str, Any]) -> tuple[object, ...]:
    return (*(record[name] for name in SHARED), _evicted(record))


def _lake_key(row: dict[str, Any]) -> tuple[object, ...]:
    return (*(row[name] for name in SHARED),
            tuple(d for d in row["defects"] if d.startswith("evicted ")))


def _same_times(found: list[dict[str, Any]], records: list[dict[str, Any]]) -> None:
    """``ts`` is ``time`` in whole microseconds (truncated from the capture's nanoseconds;
    the JSON float holds them only to about 0.25 µs)."""
    times: dict[tuple[object, ...], list[float]] = {}
    for record in records:
        times.setdefault(_jsonl_key(record), []).append(record["time"] * 1e6)
    for row in found:
        candidates = times[_lake_key(row)]
        nearest = min(candidates, key=lambda t: abs(t - row["ts"]))
        assert 0 <= nearest - row["ts"] < 1.01
        candidates.remove(nearest)


def _parts(lake: Path, table: str) -> list[Path]:
    return sorted((lake / table).glob("**/*.parquet"))


# -- messages and calls against sipstatus scan -----------------------------------------------


@pytest.mark.parametrize("capture", FIXTURES, ids=IDS)
def test_messages_are_the_records_of_scan_jsonl(capture: Path,
                                                lakes: dict[str, Path]) -> None:
    records = scan_lines("--format", "jsonl", str(capture))
    table = read_table(lakes[capture.name], "messages")
    found = rows(table)
    assert len(found) == len(records) > 0
    assert Counter(map(_lake_key, found)) == Counter(map(_jsonl_key, records))
    _same_times(found, records)
    for row in found:
        assert row["call_key"] == row["call_id"]
        assert row["capture"] == str(capture)
        assert (row["defects"][0] == row["error"]) if row["error"] else True
        assert partition(row["ts"] // 3_600_000_000) == f"date={row['date']}/hour={row['hour']}"
    assert table.schema.field("transport").type == pa.dictionary(pa.int32(), pa.string())


@pytest.mark.parametrize("capture", FIXTURES, ids=IDS)
def test_calls_are_the_calls_of_scan_calls(capture: Path, lakes: dict[str, Path]) -> None:
    expected = scan_lines("--calls", "--format", "jsonl", str(capture))
    found = rows(read_table(lakes[capture.name], "calls"))
    assert len(found) == len(expected) > 0

    def scanned(call: dict[str, Any]) -> tuple[object, ...]:
        return (call["call_id"], call["outcome"], call["ended"], call["final_code"],
                call["messages"], call["setup_ms"], call["duration_ms"])

    def lake(row: dict[str, Any]) -> tuple[object, ...]:
        duration = row["duration_s"]
        return (row["call_key"], row["outcome"], row["ended_by"] is not None,
                row["final_code"], row["messages"], row["setup_ms"],
                None if duration is None else round(duration * 1000, 3))

    assert Counter(map(lake, found)) == Counter(map(scanned, expected))
    starts = {call["call_id"]: call["start"] for call in expected}  # rounded to the µs
    for row in found:
        assert abs(row["first_ts"] - starts[row["call_key"]] * 1e6) < 1.3
    for row in found:
        assert row["call_ids"] == [row["call_key"]]
        assert row["captures"] == [str(capture)]
        assert row["first_ts"] <= row["invite_ts"] <= row["end_ts"]


@pytest.mark.parametrize("capture", DISTINCT, ids=[path.name for path in DISTINCT])
def test_the_call_columns_agree_with_the_messages(capture: Path,
                                                  lakes: dict[str, Path]) -> None:
    """caller, callee, final_reason, q850_cause, ended_by, resends and messages, from the
    JSONL records and the parser's reading of the same messages."""
    records = scan_lines("--format", "jsonl", str(capture))
    parsed = list(read(capture))
    assert len(parsed) == len(records)
    calls = rows(read_table(lakes[capture.name], "calls"))
    reasons_seen = 0
    for call in calls:
        mine = [(record, captured) for record, captured in zip(records, parsed, strict=True)
                if record["call_id"] == call["call_key"]
                and record["time"] * 1e6 >= call["first_ts"]]
        assert call["messages"] == len(mine)
        assert call["resends"] == sum(record["resend"] for record, _ in mine)
        invite = mine[0][1].message
        assert invite is not None and invite.method == "INVITE"

        def party(uri: Any) -> str:
            return f"{uri.user}@{uri.host}" if uri.user and uri.host else uri.user or uri.host
        assert call["caller"] == party(invite.from_.uri)
        assert call["callee"] == party(invite.to.uri)
        finals = [record["reason"] for record, _ in mine
                  if record["status_code"] == call["final_code"]
                  and record["cseq_method"] == "INVITE"]
        assert call["final_reason"] == (finals[0] if call["final_code"] else "")
        causes = [value.cause for _, captured in mine if captured.message is not None
                  for value in captured.message.reason_header
                  if value.protocol.lower() == "q.850" and value.cause is not None]
        assert call["q850_cause"] == (causes[0] if causes else None)
        reasons_seen += bool(causes)
        if call["ended_by"] is not None:
            bye = next(captured.message for record, captured in mine
                       if record["method"] == "BYE")
            side = "caller" if bye.from_.tag == invite.from_.tag else "callee"
            assert call["ended_by"] == side
    assert reasons_seen or "uas-codes" in capture.name


@pytest.mark.parametrize("capture", FIXTURES, ids=IDS)
def test_the_added_columns_agree_with_the_parser(capture: Path) -> None:
    table = pa.Table.from_batches(list(to_arrow(capture)))
    checked = 0
    for row, captured in zip(rows(table), read(capture), strict=True):
        assert row["frame"] == captured.frame
        message = captured.message
        if message is None:
            continue
        checked += 1
        if captured.kind == "request":
            assert row["request_uri"] == message.request_uri.text
        else:
            assert row["request_uri"] == ""
        for prefix, value in (("from", message.from_), ("to", message.to)):
            uri = value.uri if value is not None else None
            assert row[f"{prefix}_user"] == (uri.user or "" if uri is not None else "")
            assert row[f"{prefix}_host"] == (uri.host or "" if uri is not None else "")
        agent = message.headers.get("User-Agent") or message.headers.get("Server") or ""
        assert row["user_agent"] == agent
        content = message.content_type
        assert row["has_sdp"] == (content is not None and content.mime == "application/sdp"
                                  and bool(message.body))
        assert row["body_len"] == len(message.body)
        retry = message.retry_after
        assert row["retry_after_s"] == (retry.seconds if retry is not None else None)
    assert checked > 0


def test_to_arrow_yields_the_rows_of_the_lake(lakes: dict[str, Path]) -> None:
    capture = CAPTURES / "sipp-kamailio-tcp.pcap"
    batches = list(sipstatus.capture.to_arrow(capture, batch_rows=50))
    assert len(batches) == 3  # 119 messages in batches of 50
    assert all(batch.schema == schema("messages") for batch in batches)
    assert batches[0].schema.metadata == {b"sipstatus.schema": b"1",
                                          b"sipstatus.table": b"messages"}
    mapped = rows(pa.Table.from_batches(batches))
    stored = rows(read_table(lakes[capture.name], "messages").drop(["date", "hour"]))
    assert Counter(map(_lake_key, mapped)) == Counter(map(_lake_key, stored))
    assert [row["frame"] for row in mapped] == sorted(row["frame"] for row in mapped)


def test_the_raw_column_holds_the_message_bytes(tmp_path: Path) -> None:
    capture = CAPTURES / "sipp-kamailio-fragments.pcapng"
    result = build(capture, tmp_path / "lake", raw=True)
    table = read_table(tmp_path / "lake", "messages")
    assert table.schema.names[-3:] == ["raw", "date", "hour"]
    assert table.schema.field("raw").type == pa.binary()
    assert Counter(zip(table.column("frame").to_pylist(), table.column("raw").to_pylist(),
                       strict=True)) == Counter((m.frame, m.data) for m in read(capture))
    assert result.messages == table.num_rows


# -- layout: files, partitions, order, determinism -------------------------------------------


def test_every_file_is_zstd_sorted_and_carries_the_schema_version(
        lakes: dict[str, Path]) -> None:
    for lake in lakes.values():
        for table, time in (("messages", "ts"), ("calls", "first_ts")):
            for part in _parts(lake, table):
                assert re.fullmatch(r"date=\d{4}-\d\d-\d\d/hour=\d\d/part-\d{5}\.parquet",
                                    part.relative_to(lake / table).as_posix())
                meta = pq.ParquetFile(part).metadata
                assert meta.metadata[b"sipstatus.schema"] == b"1"
                assert meta.metadata[b"sipstatus.table"] == table.encode()
                assert meta.row_group(0).column(0).compression == "ZSTD"
                data = pq.read_table(part)
                assert data.schema.names == schema(table).names
                keys = list(zip(data.column("call_key").to_pylist(),
                                data.column(time).cast(pa.int64()).to_pylist(),
                                strict=True))
                assert keys == sorted(keys)


def _files(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def test_two_builds_of_the_same_input_are_byte_identical(tmp_path: Path) -> None:
    first = build(DISTINCT, tmp_path / "one")
    second = build([str(path) for path in DISTINCT], tmp_path / "two")
    assert first.parts == second.parts
    assert (first.messages, first.calls) == (second.messages, second.calls)
    assert _files(tmp_path / "one") == _files(tmp_path / "two")
    assert first.summary["captures"] == [str(path) for path in DISTINCT]


def _midnight_capture(path: Path) -> Path:
    """A call that starts one second before midnight (UTC) and ends after it, and a call
    after midnight whose INVITE, 100 and 180 share one microsecond."""
    a, b = "192.0.2.10", "192.0.2.20"
    line = pcapgen.Timeline(start_ns=(1_700_006_400 - 1) * 1_000_000_000)
    for message, gap in (
            (pcapgen.request("INVITE", call_id="a@x"), 1.0),
            (pcapgen.response(180, "Ringing", call_id="a@x"), 300.0),
            (pcapgen.response(200, "OK", call_id="a@x"), 900.0),  # after midnight
            (pcapgen.request("ACK", call_id="a@x", to_tag="tt1", branch="z9hG4bK-2"), 1.0),
            (pcapgen.request("BYE", call_id="a@x", cseq=2, to_tag="tt1",
                             branch="z9hG4bK-3"), 500.0),
            (pcapgen.response(200, "OK", call_id="a@x", cseq=2, method="BYE"), 1.0),
            (pcapgen.request("INVITE", call_id="b@x", branch="z9hG4bK-b"), 5.0),
            (pcapgen.response(100, "Trying", call_id="b@x", branch="z9hG4bK-b"), 0.0),
            (pcapgen.response(180, "Ringing", call_id="b@x", branch="z9hG4bK-b"), 0.0)):
        src, dst = (a, b) if message.startswith((b"INVITE", b"ACK", b"BYE")) else (b, a)
        line.udp(src, dst, message, gap)
    path.write_bytes(line.pcap())
    return path


def test_tables_are_partitioned_by_the_utc_hour_of_their_time(tmp_path: Path) -> None:
    capture = _midnight_capture(tmp_path / "midnight.pcap")
    result = build(capture, tmp_path / "lake")
    assert result.parts == (
        "messages/date=2023-11-14/hour=23/part-00000.parquet",
        "messages/date=2023-11-15/hour=00/part-00000.parquet",
        "calls/date=2023-11-14/hour=23/part-00000.parquet",
        "calls/date=2023-11-15/hour=00/part-00000.parquet")
    messages = rows(read_table(tmp_path / "lake", "messages"))
    assert [(row["date"], row["hour"]) for row in messages].count(("2023-11-14", "23")) == 2
    calls = {row["call_key"]: row for row in rows(read_table(tmp_path / "lake", "calls"))}
    assert calls["a@x"]["outcome"] == "answered"
    assert calls["a@x"]["ended_by"] == "caller"
    assert (calls["a@x"]["date"], calls["a@x"]["hour"]) == ("2023-11-14", "23")
    assert calls["b@x"]["pdd_ms"] == 0.0
    # Three messages of call b at one microsecond stay in capture order within the file.
    part = pq.read_table(tmp_path / "lake" / result.parts[1])
    assert part.column("frame").to_pylist()[-3:] == [7, 8, 9]


def test_parts_are_cut_at_their_size_and_the_fullest_hour_goes_first(tmp_path: Path) -> None:
    capture = _midnight_capture(tmp_path / "midnight.pcap")
    writer = PartWriter(tmp_path / "staging", "messages", schema("messages"),
                        rows_per_part=3, row_group_rows=2)
    for table, batch in CaptureMap(calls=False, batch_rows=2).batches([capture]):
        assert table == "messages"
        writer.add(batch)
    writer.close()
    # Batches of two rows: hour 23 has 2 rows, hour 00 has 7. The second batch puts 4 rows
    # in waiting: the fullest hour (the earlier of two equals) is written; then hour 00 is
    # written each time it holds 3 rows or more.
    placed = publish(tmp_path / "lake", "messages", writer.staged)
    assert [(path.relative_to(tmp_path / "lake" / "messages").as_posix(),
             pq.ParquetFile(path).metadata.num_rows) for path in placed] == [
        ("date=2023-11-14/hour=23/part-00000.parquet", 2),
        ("date=2023-11-15/hour=00/part-00000.parquet", 4),
        ("date=2023-11-15/hour=00/part-00001.parquet", 3)]
    assert pq.ParquetFile(placed[1]).metadata.num_row_groups == 2
    assert writer.rows == 9 == read_table(tmp_path / "lake", "messages").num_rows
    assert not list((tmp_path / "staging").rglob("*.tmp"))


# -- the output directory: refusing, appending, failing ---------------------------------------


def test_a_non_empty_directory_is_refused_unless_appending(tmp_path: Path) -> None:
    out = tmp_path / "lake"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="is not empty"):
        build(DISTINCT[0], out)
    assert sorted(os.listdir(out)) == ["notes.txt"]
    (out / "notes.txt").unlink()
    (out / ".staging-1").mkdir()
    with pytest.raises(FileExistsError, match="staging folder of a run that was stopped"):
        build(DISTINCT[0], out)
    (out / ".staging-1").rmdir()
    with pytest.raises(NotADirectoryError):
        build(DISTINCT[0], DISTINCT[1])


def test_appending_numbers_the_new_parts_after_the_old(tmp_path: Path) -> None:
    out = tmp_path / "lake"
    first = build(CAPTURES / "sipp-kamailio-udp-calls.pcapng", out)
    second = build(CAPTURES / "sipp-kamailio-tcp.pcap", out, append=True)
    assert [part.rpartition("/")[2] for part in second.parts] == ["part-00001.parquet"] * 2
    assert read_table(out, "messages").num_rows == first.messages + second.messages
    assert read_table(out, "calls").num_rows == first.calls + second.calls
    with pytest.raises(LakeError, match="without the raw column"):
        build(DISTINCT[0], out, append=True, raw=True)
    foreign = out / "messages" / "date=2026-11-27" / "hour=04" / "part-00000.parquet"
    pq.write_table(pa.table({"x": [1]}).replace_schema_metadata({"sipstatus.schema": "0"}),
                   foreign)
    with pytest.raises(LakeError, match=re.escape("sipstatus.schema=0")):
        build(DISTINCT[0], out, append=True)
    assert build(DISTINCT[0], tmp_path / "new", append=True).messages > 0
    (tmp_path / "empty").mkdir()
    assert build(DISTINCT[0], tmp_path / "empty", append=True).messages > 0


def test_a_failed_run_leaves_no_part_behind(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    real = CaptureMap.batches

    def failing(self: CaptureMap, paths: Any) -> Iterator[tuple[str, Any]]:
        yield from real(self, paths)
        raise RuntimeError("the disk is full")

    monkeypatch.setattr("sipstatus.lake._parts.ROWS_PER_PART", {"messages": 5, "calls": 5})
    monkeypatch.setattr(CaptureMap, "batches", failing)
    with pytest.raises(RuntimeError, match="the disk is full"):
        build(DISTINCT, tmp_path / "lake")
    assert list((tmp_path / "lake").rglob("*")) == []
    monkeypatch.undo()
    assert build(DISTINCT[0], tmp_path / "lake").messages > 0


def test_a_damaged_capture_keeps_what_was_read_and_the_run_goes_on(tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.pcap"
    data = (CAPTURES / "sipp-uas-codes.pcap").read_bytes()
    damaged.write_bytes(data[: len(data) // 2])
    inputs = [CAPTURES / "sipp-kamailio-tcp.pcap", damaged, DISTINCT[0]]
    result = build(inputs, tmp_path / "lake")
    errors = result.summary["capture_errors"]
    assert len(errors) == 1 and result.capture_error == errors[0]
    assert "damaged.pcap: " in errors[0] and " at frame " in errors[0] and "offset" in errors[0]
    assert result.summary["captures"] == [str(path) for path in inputs]
    alone = build(DISTINCT[0], tmp_path / "alone").messages
    before = build(inputs[:2], tmp_path / "before").messages
    assert before > 119 and result.messages == before + alone
    assert result.messages == read_table(tmp_path / "lake", "messages").num_rows


# -- inputs ----------------------------------------------------------------------------------


def test_directories_and_globs_stand_for_their_captures_in_natural_order(
        tmp_path: Path) -> None:
    for name in ("b/trace.pcap10", "b/trace.pcap2", "b/trace.pcap", "b/notes.txt",
                 "b/sub/x.pcapng.gz", "b/y.CAP", "c/z.pcap"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    folder = str(tmp_path / "b")
    assert [Path(p).relative_to(tmp_path).as_posix() for p in expand_inputs([folder])] == [
        "b/sub/x.pcapng.gz", "b/trace.pcap", "b/trace.pcap2", "b/trace.pcap10", "b/y.CAP"]
    found = expand_inputs([str(tmp_path / "*" / "*.pcap*"), str(tmp_path / "c" / "z.pcap"),
                           str(tmp_path / "b" / "notes.txt")])
    assert [Path(p).relative_to(tmp_path).as_posix() for p in found] == [
        "b/trace.pcap", "b/trace.pcap2", "b/trace.pcap10", "c/z.pcap", "b/notes.txt"]
    with pytest.raises(FileNotFoundError, match="no capture file matches"):
        expand_inputs([str(tmp_path / "*.nothing")])
    with pytest.raises(FileNotFoundError, match="no such file"):
        expand_inputs([str(tmp_path / "missing.pcap")])


def test_jobs_and_dask_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="jobs"):
        build(DISTINCT[0], tmp_path, jobs=0)
    for wrong in ("", " ", 8786):
        with pytest.raises(ValueError, match="dask"):
            build(DISTINCT[0], tmp_path, dask=wrong)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


# -- the command line ------------------------------------------------------------------------


def test_scan_format_parquet_writes_the_lake(tmp_path: Path) -> None:
    out = tmp_path / "lake"
    status, stdout, stderr = scan("--format", "parquet", "--out", str(out), "--raw",
                                  str(CAPTURES / "sipp-uas-codes.pcap.gz"))
    assert (status, stderr) == (0, "")
    assert stdout == (f"362 messages and 66 calls from 1 capture(s) written to {out} "
                      f"(2 Parquet files)\n")
    assert read_table(out, "messages").schema.field("raw").type == pa.binary()
    status, _, stderr = scan("--format", "parquet", "--out", str(out), "--append", "--raw",
                             str(CAPTURES / "sipp-uas-codes.pcap"))
    assert (status, stderr) == (0, "")
    assert read_table(out, "messages").num_rows == 724


@pytest.mark.parametrize(("argv", "says"), [
    (["--format", "parquet"], "needs --out DIR"),
    (["--out", "DIR"], "go with --format parquet"),
    (["--format", "jsonl", "--append"], "go with --format parquet"),
    (["--format", "parquet", "--out", "DIR", "--calls", "--metrics"], "--calls, --metrics"),
])
def test_scan_format_parquet_usage(argv: list[str], says: str, tmp_path: Path) -> None:
    argv = [str(tmp_path / "x") if arg == "DIR" else arg for arg in argv]
    status, stdout, stderr = scan(*argv, str(DISTINCT[0]))
    assert (status, stdout) == (2, "")
    assert says in stderr


def test_scan_format_parquet_failures(tmp_path: Path) -> None:
    out = tmp_path / "lake"
    assert scan("--format", "parquet", "--out", str(out), str(DISTINCT[0]))[0] == 0
    status, _, stderr = scan("--format", "parquet", "--out", str(out), str(DISTINCT[0]))
    assert status == 2 and "is not empty" in stderr
    status, _, stderr = scan("--format", "parquet", "--out", str(out), "--append", "--raw",
                             str(DISTINCT[0]))
    assert status == 2 and "without the raw column" in stderr
    status, _, stderr = scan("--format", "parquet", "--out", str(tmp_path / "new"),
                             str(tmp_path / "missing.pcap"))
    assert status == 1 and "missing.pcap: no such file or directory" in stderr
    damaged = tmp_path / "damaged.pcap"
    damaged.write_bytes((CAPTURES / "sipp-uas-codes.pcap").read_bytes()[:5000])
    status, stdout, stderr = scan("--format", "parquet", "--out", str(tmp_path / "d"),
                                  str(damaged))
    assert status == 1 and "written to" in stdout and "damaged.pcap" in stderr


# -- pyarrow stays optional ------------------------------------------------------------------


def test_the_core_never_imports_pyarrow() -> None:
    code = ("import sys, sipstatus, sipstatus.capture, sipstatus.lake\n"
            "sipstatus.capture.to_arrow\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pyarrow'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    assert done.stdout == "[]\n"


def test_without_pyarrow_the_error_names_the_extra(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ImportError, match=re.escape("pip install 'sipstatus[lake]'")):
        pyarrow()
    with pytest.raises(ImportError, match=re.escape(INSTALL_HINT)):
        next(to_arrow(DISTINCT[0]))
    status, _, stderr = scan("--format", "parquet", "--out", str(tmp_path / "lake"),
                             str(DISTINCT[0]))
    assert status == 1 and INSTALL_HINT in stderr
    assert not (tmp_path / "lake").exists()
    with pytest.raises(AttributeError, match="no attribute 'from_arrow'"):
        sipstatus.capture.from_arrow  # noqa: B018


# -- the documentation and the header fields -------------------------------------------------


def _documented(table: str) -> list[tuple[str, str]]:
    text = (ROOT / "docs" / "lake.md").read_text(encoding="utf-8")
    section = text.split(f"### `{table}`", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
    return re.findall(r"^\| `(\w+)` \| ([^|]+?) \|", section, re.M)


def test_docs_lake_lists_every_column_with_its_type() -> None:
    assert _documented("messages") == list(columns("messages", raw=True))
    assert _documented("calls") == list(columns("calls"))
    with pytest.raises(ValueError, match="no lake table"):
        columns("packets")


EXTRA_FIELDS = ("request_uri", "from_user", "from_host", "to_user", "to_host", "user_agent",
                "has_sdp", "body_len", "retry_after_s", "q850_cause")


@pytest.mark.parametrize(("data", "expected"), [
    (b"INVITE sip:+1555@gw.example;user=phone SIP/2.0\r\n"
     b"f: <tel:+1-201-555-0123;phone-context=example.com>;tag=9\r\n"
     b"t: Bob\r\n <sips:bob@[2001:db8::1]:5061>\r\n"
     b"c: Application/SDP ; charset=x\r\nUser-Agent:  phone 1.0 \r\nServer: no\r\n\r\nv=0\r\n",
     ("sip:+1555@gw.example;user=phone", "+1-201-555-0123", "", "bob", "[2001:db8::1]",
      "phone 1.0", True, 5, None, None)),
    (b"SIP/2.0 503 Service Unavailable\r\nFrom: <\r\nTO: sip:example.com\r\n"
     b"Server: proxy\r\nRetry-After: 99999999999999999999 (long)\r\n"
     b"Reason: SIP;cause=503, Q.850 ;cause=99999999\r\nReason: Q.850;cause=34;text=\"x\"\r\n"
     b"Content-Type: application/sdp\r\nContent-Length: 0\r\n\r\n",
     ("", "", "", "", "example.com", "proxy", False, 0, 2**32 - 1, 34)),
    (b"SIP/2.0 486 Busy Here\nRetry-After: soon\nReason: Q.850;cause=17\nFrom: x\n\nab",
     ("", "", "", "", "", "", False, 2, None, 17)),
    (b"BYE sip:a@b SIP/2.0\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\nfrom: <sip:e@f>\r\n"
     b"Content-Length: 4\r\nab",
     ("sip:a@b", "a", "b", "c", "d", "", False, 0, None, None)),
])
def test_header_fields_are_read_tolerantly(data: bytes, expected: tuple[object, ...]) -> None:
    assert dict(zip(EXTRA_FIELDS, read_extra(data, not data.startswith(b"SIP/2.0")),
                    strict=True)) == dict(zip(EXTRA_FIELDS, expected, strict=True))


def test_documented_snippets_name_real_things() -> None:
    text = (ROOT / "docs" / "lake.md").read_text(encoding="utf-8")
    for name in re.findall(r"sipstatus\.lake\.(\w+)", text):
        assert hasattr(sipstatus.lake, name), name


def test_the_small_pieces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    call = Call("c@x", 1, 5_000_000_000, "192.0.2.1", 5060, "192.0.2.2", 5060, "udp",
                6_000_000_000)
    row = dict(zip((name for name, _ in columns("calls")), call_values(call, None),
                   strict=True))
    assert (row["caller"], row["final_code"], row["first_ts"], row["end_ts"]) == (
        "", None, 5_000_000, 6_000_000)
    writer = PartWriter(tmp_path, "calls", schema("calls"))
    writer.add(pa.RecordBatch.from_pylist([], schema=schema("calls")))
    writer.close()
    assert writer.staged == [] and writer.rows == 0
    first = staging_folder(tmp_path / "out")
    (first / "left.tmp").write_bytes(b"")
    assert staging_folder(tmp_path / "out") == first and not list(first.iterdir())
    monkeypatch.setattr("sipstatus.lake._fields._CACHE_SIZE", 1)
    for value in (b"<sip:cache-a@b>", b"<sip:cache-c@d>"):
        assert user_and_host(value)[0] in ("cache-a", "cache-c")
    for value in (b"application/SDP;x=1", b"text/plain;x=1"):
        assert is_sdp(value) == value.startswith(b"application")


# -- fsspec URLs ------------------------------------------------------------------------------


def test_captures_and_the_lake_at_fsspec_urls(tmp_path: Path) -> None:
    urls = [path.as_uri() for path in DISTINCT[:2]]  # file:// URLs: fsspec's local filesystem
    out = (tmp_path / "remote" / "lake").as_uri()
    result = build(urls, out)
    assert result.captures == tuple(urls) and result.summary["capture_errors"] == []
    local = build(DISTINCT[:2], tmp_path / "local")
    assert result.parts == local.parts and (result.messages, result.calls) == (
        local.messages, local.calls)
    remote_rows = rows(read_table(tmp_path / "remote" / "lake", "messages"))
    local_rows = rows(read_table(tmp_path / "local", "messages"))
    assert [{**row, "capture": None} for row in remote_rows] == [
        {**row, "capture": None} for row in local_rows]
    assert {row["capture"] for row in remote_rows} == set(urls)
    # Worker processes read the URLs too: the same files as one process.
    build(urls, (tmp_path / "jobs").as_uri(), jobs=2)
    assert lake_files(tmp_path / "jobs") == lake_files(tmp_path / "remote" / "lake")
    # A lake at a URL is refused unless appended to; appending numbers the parts after it.
    with pytest.raises(FileExistsError, match="is not empty"):
        build(urls, out)
    again = build(urls[:1], out, append=True)
    assert again.parts and all(name.endswith("/part-00001.parquet") for name in again.parts)
    assert not [name for name in os.listdir(tmp_path / "remote" / "lake")
                if name.startswith(".")]  # no staging left behind


def test_url_globs_and_folders_stand_for_their_captures(tmp_path: Path) -> None:
    folder = CAPTURES.as_uri()
    found = expand_inputs([f"{folder}/sipp-kamailio-*.pcapng"])
    assert found and all(url.startswith("file://") and url.endswith(".pcapng") for url in found)
    assert found == sorted(found)
    everything = expand_inputs([folder])
    assert set(found) < set(everything)
    with pytest.raises(FileNotFoundError):
        expand_inputs([f"{folder}/nothing-*.pcap"])
    with pytest.raises(FileNotFoundError):
        expand_inputs([(tmp_path / "gone.pcap").as_uri()])
