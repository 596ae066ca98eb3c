"""The DuckDB queries of docs/lake.md, taken from the page itself (so that page and test cannot
drift apart), run on a lake built from each fixture capture and checked against
`sipstatus scan --metrics`, `--calls`, `--format jsonl` and the parser."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lake_support import DISTINCT, FIXTURES, NO_PYARROW, ROOT, read_table, rows, scan_lines

pytest.importorskip("pyarrow", reason=NO_PYARROW)
duckdb = pytest.importorskip("duckdb", reason="duckdb not installed (in the test extra: "
                                              "pip install -e '.[test]')")

from sipstatus.capture import read  # noqa: E402

DOC = (ROOT / "docs" / "lake.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```sql\n(.*?)```", DOC, re.S)
QUERIES = {match.group(1): block for block in BLOCKS
           if (match := re.match(r"-- query: (\w+)\n", block))}
SET_CALL_ID = next(block for block in BLOCKS if block.startswith("SET VARIABLE call_id"))
IDS = [path.name for path in FIXTURES]


def test_the_page_has_the_queries_the_issue_asks_for() -> None:
    assert set(QUERIES) == {"views", "metrics_per_hour", "p95_pdd_per_destination",
                            "failures_with_retry_after_per_peer", "one_call",
                            "one_call_messages"}
    assert "'lake/messages/**/*.parquet'" in QUERIES["views"]


@pytest.fixture
def connect(lakes: dict[str, Path]) -> Iterator[Any]:
    connections = []

    def open_lake(capture: Path) -> Any:
        """A DuckDB connection with the page's views over the lake of ``capture``."""
        con = duckdb.connect()
        connections.append(con)
        con.execute("SET threads TO 1")  # a small machine, shared
        views = QUERIES["views"].replace("'lake/", f"'{lakes[capture.name].as_posix()}/")
        for statement in filter(str.strip, views.split(";")):
            con.execute(statement)
        return con

    yield open_lake
    for con in connections:
        con.close()


def query(con: Any, name: str) -> list[dict[str, Any]]:
    result = con.execute(QUERIES[name])
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def set_call_id(con: Any, call_id: str) -> None:
    quoted = "'" + call_id.replace("'", "''") + "'"
    con.execute(re.sub(r"'[^']*'", lambda _: quoted, SET_CALL_ID, count=1))


@pytest.mark.parametrize("capture", FIXTURES, ids=IDS)
def test_metrics_per_hour_agree_with_scan_metrics(capture: Path, connect: Any) -> None:
    hours = query(connect(capture), "metrics_per_hour")
    metrics = {m["name"]: m for m in scan_lines("--metrics", "--format", "jsonl",
                                                str(capture))}
    if not hours:
        assert metrics["ISA"]["denominator"] == 0
        return
    (found,) = hours  # every fixture capture lies within one hour
    assert found["attempts"] == metrics["ISA"]["denominator"]
    for name in ("SER", "SEER", "ISA", "SCR"):
        expected = metrics[name]["percent"]
        got = found[name.lower()]
        assert (got is None and expected is None) or abs(got - expected) < 0.01, name
    srd = metrics["SRD"]
    for side, delays in (("success", srd["success_ms"]), ("failure", srd["failure_ms"])):
        assert found[f"srd_{side}_count"] == delays["count"]
        assert found[f"srd_{side}_min_ms"] == delays["min"]
        assert found[f"srd_{side}_max_ms"] == delays["max"]
        avg = found[f"srd_{side}_avg_ms"]
        assert (avg is None and delays["avg"] is None) or abs(avg - delays["avg"]) < 0.0015


def _p95(values: list[float]) -> float:
    """quantile_cont: linear interpolation between the closest ranks."""
    ordered = sorted(values)
    position = 0.95 * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@pytest.mark.parametrize("capture", DISTINCT, ids=[path.name for path in DISTINCT])
def test_p95_post_dial_delay_per_destination(capture: Path, connect: Any,
                                             lakes: dict[str, Path]) -> None:
    records = scan_lines("--format", "jsonl", str(capture))
    parsed = list(read(capture))
    calls = rows(read_table(lakes[capture.name], "calls"))
    delays: dict[str, list[float]] = {}
    for call in calls:
        mine = [(record, captured) for record, captured in zip(records, parsed, strict=True)
                if record["call_id"] == call["call_key"]]
        invite = mine[0]
        answer = next((record for record, _ in mine
                       if record["kind"] == "response" and record["cseq_method"] == "INVITE"
                       and record["status_code"] > 100
                       and record["status_code"] not in (401, 407)), None)
        if answer is None:
            assert call["pdd_ms"] is None
            continue
        # the post-dial delay is the time from the first INVITE to that response
        assert abs(call["pdd_ms"] - (answer["time"] - invite[0]["time"]) * 1000) < 0.002
        message = invite[1].message
        assert message is not None
        delays.setdefault(message.to.uri.host or "", []).append(call["pdd_ms"])
    expected = sorted(((host, len(values), round(_p95(values), 3))
                       for host, values in delays.items()), key=lambda r: (-r[2], r[0]))
    found = [(row["destination"], row["calls"], row["p95_pdd_ms"])
             for row in query(connect(capture), "p95_pdd_per_destination")]
    assert len(found) == len(expected) > 0
    for (host, count, p95), (want_host, want_count, want_p95) in zip(found, expected,
                                                                     strict=True):
        assert (host, count) == (want_host, want_count)
        assert abs(p95 - want_p95) < 0.0015


@pytest.mark.parametrize("capture", DISTINCT, ids=[path.name for path in DISTINCT])
def test_failures_with_retry_after_per_peer(capture: Path, connect: Any) -> None:
    records = scan_lines("--format", "jsonl", str(capture))
    groups: dict[tuple[str, int], list[int | None]] = {}
    for record, captured in zip(records, read(capture), strict=True):
        if (record["status_code"] or 0) >= 500 and not record["resend"]:
            message = captured.message
            retry = message.retry_after if message is not None else None
            groups.setdefault((record["src"], record["status_code"]), []).append(
                retry.seconds if retry is not None else None)
    expected = []
    for (peer, code), values in groups.items():
        given = [value for value in values if value is not None]
        expected.append({"peer": peer, "status_code": code, "responses": len(values),
                         "with_retry_after": len(given),
                         "min_retry_after_s": min(given) if given else None,
                         "max_retry_after_s": max(given) if given else None})
    expected.sort(key=lambda row: (-row["responses"], row["peer"], row["status_code"]))
    assert query(connect(capture), "failures_with_retry_after_per_peer") == expected


def test_failures_with_retry_after_are_found_in_the_fixtures(connect: Any) -> None:
    found = query(connect(DISTINCT[-1]), "failures_with_retry_after_per_peer")
    assert sum(row["with_retry_after"] for row in found) > 0


@pytest.mark.parametrize("capture", FIXTURES, ids=IDS)
def test_one_call_by_call_id(capture: Path, connect: Any) -> None:
    calls = scan_lines("--calls", "--format", "jsonl", str(capture))
    records = scan_lines("--format", "jsonl", str(capture))
    con = connect(capture)
    for call in (calls[0], calls[-1]):
        set_call_id(con, call["call_id"])
        (row,) = query(con, "one_call")
        assert (row["call_key"], row["outcome"], row["final_code"], row["messages"]) == (
            call["call_id"], call["outcome"], call["final_code"], call["messages"])
        messages = query(con, "one_call_messages")
        mine = [record for record in records if record["call_id"] == call["call_id"]]
        assert [(m["frame"], m["method"], m["status_code"], m["resend"]) for m in messages] == [
            (r["frame"], r["method"], r["status_code"], r["resend"]) for r in mine]
    set_call_id(con, "no such call")
    assert query(con, "one_call") == query(con, "one_call_messages") == []


def test_every_query_runs_on_a_lake_of_several_captures(tmp_path: Path) -> None:
    import sipstatus.lake

    sipstatus.lake.build(DISTINCT, tmp_path / "lake")
    con = duckdb.connect()
    con.execute("SET threads TO 1")
    views = QUERIES["views"].replace("'lake/", f"'{(tmp_path / 'lake').as_posix()}/")
    for statement in filter(str.strip, views.split(";")):
        con.execute(statement)
    set_call_id(con, "1-21353@127.0.0.1")
    answers = {name: query(con, name) for name in QUERIES if name != "views"}
    assert all(answers.values())
    captures = con.execute("SELECT DISTINCT capture FROM messages").fetchall()
    assert {capture for (capture,) in captures} == {str(path) for path in DISTINCT}
    con.close()
