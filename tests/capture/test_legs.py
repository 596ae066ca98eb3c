"""The legs of a call (``capture/_legs``): Call-IDs tied by X-CID / X-Call-ID, Session-ID
(RFC 7989), the P-Charging-Vector icid-value and the HEP correlation id are one call in
``scan --calls``, in the lake's ``calls`` and ``messages`` and in ``ladder --call-id``."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pcapgen
import pytest

from sipstatus.__main__ import main
from sipstatus.capture._calls import Call, Calls
from sipstatus.capture._head import scan_head
from sipstatus.capture._legs import MAX_LEGS, MAX_NAMES, Correlated, hints

Write = Callable[..., Path]
A, PBX, B = "192.0.2.10", "192.0.2.30", "192.0.2.20"
UUID_A, UUID_B = "ab30317f1a784dc48ff824d0d3715d86", "47755a9de7794ba387653f2099600ef2"
NULL = "0" * 32


def _invite(call_id: str, *extra: str) -> bytes:
    return pcapgen.request("INVITE", call_id=call_id, branch=f"z9hG4bK-{call_id}",
                           extra=extra)


def _answer(call_id: str, code: int = 200, reason: str = "OK", *extra: str) -> bytes:
    return pcapgen.response(code, reason, call_id=call_id, branch=f"z9hG4bK-{call_id}",
                            extra=extra)


class Follow:
    """Calls fed messages by hand, with the released calls kept."""

    def __init__(self, max_bytes: int | None = None) -> None:
        self.released: list[Call] = []
        self.evicted: Counter[str] = Counter()
        self.calls = Calls(self.released.append, max_bytes, self.evicted)
        self.now = 1_000_000_000_000
        self.frame = 0

    def __call__(self, data: bytes) -> None:
        head = scan_head(data)
        assert head is not None
        self.now += 1_000_000
        self.frame += 1
        self.calls.observe(head, self.now, self.frame, A, 5060, B, 5060, "udp", False)

    def done(self) -> list[tuple[str, ...]]:
        self.calls.flush(self.now)
        return sorted(call.call_ids for call in self.released)


def test_hints_are_read_from_the_registrys_headers() -> None:
    data = _invite("b", "X-CID: a1", "x-call-id: a2, a3",
                   f"Session-ID: {UUID_A.upper()};remote={NULL}",
                   'P-Charging-Vector: icid-value="ic-1";orig-ioi=home.net')
    head = scan_head(data, full=False)
    assert head is not None
    assert head.links == ("a1", "a2", "a3", "\ns" + UUID_A, "\niic-1")
    correlated = Correlated(_invite("b"))
    correlated.correlation_id = "a9"
    head = scan_head(correlated)
    assert head is not None and head.links == ("a9",)
    assert hints(b"x," * 40, None, None, "") == ("x",)
    assert len(hints(b",".join(b"x%d" % n for n in range(40)), None, None, "")) == 8


def test_an_x_cid_chain_is_one_call_keyed_by_its_first_leg() -> None:
    follow = Follow()
    follow(_invite("a"))
    follow(_invite("b", "X-CID: a"))
    follow(_invite("c", "X-Call-ID: b"))
    follow(_invite("other"))
    assert follow.calls.key("c") == "a" and follow.calls.key("other") == "other"
    for call_id in ("a", "b", "c"):
        follow(_answer(call_id))
    assert follow.done() == [("a", "b", "c"), ("other",)]
    (first,) = [call for call in follow.released if call.legs]
    assert (first.call_id, first.messages, first.final_code) == ("a", 6, 200)


def test_session_id_pairs_and_icid_tie_legs_and_the_null_uuid_does_not() -> None:
    follow = Follow()
    follow(_invite("a", f"Session-ID: {UUID_A};remote={NULL}"))
    follow(_invite("b", f"Session-ID: {UUID_B};remote={UUID_A}"))  # the pair, reversed
    follow(_invite("c", f"Session-ID: {'1' * 32};remote={NULL}"))
    follow(_invite("d", f"Session-ID: {'2' * 32};remote={NULL}"))  # the null UUID: alone
    follow(_invite("e", "P-Charging-Vector: icid-value=xyz;icid-generated-at=192.0.2.1"))
    follow(_invite("f", "P-Charging-Vector: orig-ioi=a.net; icid-value=xyz"))
    assert follow.done() == [("a", "b"), ("c",), ("d",), ("e", "f")]


def test_a_hint_naming_a_later_leg_and_groups_merged_by_a_later_hint() -> None:
    follow = Follow()
    follow(_invite("b", "X-CID: a"))  # names a Call-ID not seen yet
    follow(_invite("a"))  # ... which joins: the key stays the leg seen first
    follow(_invite("c"))
    follow(_invite("d", "X-CID: c"))
    assert follow.calls.key("d") == "c"
    follow(_answer("d", 200, "OK", "X-CID: a"))  # conflicting groups: merged
    assert follow.calls.key("d") == "b"
    assert follow.done() == [("b", "a", "c", "d")]


def test_hep_correlation_ids_tie_legs() -> None:
    follow = Follow()
    for call_id in ("a", "b"):
        data = Correlated(_invite(call_id))
        data.correlation_id = "corr-1"  # a value shared by the legs (or a's Call-ID)
        follow(data)
    assert follow.done() == [("a", "b")]


def test_a_call_is_bounded_in_legs_and_names_and_the_state_goes_with_it() -> None:
    follow = Follow()
    follow(_invite("leg-0"))
    for n in range(1, MAX_LEGS + 4):
        follow(_invite(f"leg-{n}", "X-CID: leg-0"))
    follow(_invite("many", *(f"X-CID: n{n}" for n in range(MAX_NAMES + 10))))
    calls = follow.done()
    assert len(calls[0]) == MAX_LEGS and follow.evicted["call_links"] >= 3
    assert len(follow.calls.links) == 0 and follow.calls.links.held == 0


def test_evicting_a_call_releases_all_its_legs_and_counts_once() -> None:
    follow = Follow(max_bytes=4 * 1024)
    follow(_invite("a"))
    follow(_invite("b", "X-CID: a"))
    for n in range(8):
        follow(_invite(f"z{n}"))
    assert follow.released[0].call_ids == ("a", "b")
    assert follow.evicted["calls"] == len(follow.released) > 1


def b2bua_call() -> bytes:
    """A → B2BUA with Call-ID a; B2BUA → B with Call-ID b and ``X-CID: a``; answered on
    both legs, then hung up by A."""
    return b2bua_timeline().pcap()


def b2bua_timeline() -> pcapgen.Timeline:
    """The frames of :func:`b2bua_call`."""
    line = pcapgen.Timeline()
    inv_a = pcapgen.request("INVITE", call_id="a@pbx", branch="z9hG4bK-a1")
    inv_b = pcapgen.request("INVITE", call_id="b@pbx", branch="z9hG4bK-b1", from_tag="fb",
                            extra=["X-CID: a@pbx"])
    line.udp(A, PBX, inv_a, 0)
    line.udp(PBX, B, inv_b, 5)
    line.udp(B, PBX, pcapgen.response(180, "Ringing", call_id="b@pbx", branch="z9hG4bK-b1",
                                       from_tag="fb"), 40)
    line.udp(PBX, A, pcapgen.response(180, "Ringing", call_id="a@pbx", branch="z9hG4bK-a1"),
             5)
    line.udp(B, PBX, pcapgen.response(200, "OK", call_id="b@pbx", branch="z9hG4bK-b1",
                                       from_tag="fb"), 900)
    line.udp(PBX, A, pcapgen.response(200, "OK", call_id="a@pbx", branch="z9hG4bK-a1"), 5)
    line.udp(A, PBX, pcapgen.request("ACK", call_id="a@pbx", branch="z9hG4bK-a2",
                                     to_tag="tt1"), 5)
    line.udp(PBX, B, pcapgen.request("ACK", call_id="b@pbx", branch="z9hG4bK-b2",
                                     from_tag="fb", to_tag="tt1"), 5)
    line.udp(A, PBX, pcapgen.request("BYE", call_id="a@pbx", branch="z9hG4bK-a3", cseq=2,
                                     to_tag="tt1"), 3000)
    line.udp(PBX, A, pcapgen.response(200, "OK", call_id="a@pbx", branch="z9hG4bK-a3",
                                      cseq=2, method="BYE"), 5)
    line.udp(PBX, B, pcapgen.request("BYE", call_id="b@pbx", branch="z9hG4bK-b3", cseq=2,
                                     from_tag="fb", to_tag="tt1"), 5)
    line.udp(B, PBX, pcapgen.response(200, "OK", call_id="b@pbx", branch="z9hG4bK-b3",
                                      cseq=2, method="BYE", from_tag="fb"), 5)
    return line


def _scan(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["scan", "--no-progress", *argv]) == 0
    return capsys.readouterr().out


def test_a_b2bua_call_is_one_row_of_scan_calls_in_every_format(
        write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(write(b2bua_call()))
    (call,) = map(json.loads, _scan(capsys, "--calls", "--format", "jsonl", path).splitlines())
    assert (call["call_id"], call["call_ids"], call["outcome"], call["ended"],
            call["final_code"], call["messages"], call["src"], call["dst"]) == (
        "a@pbx", ["a@pbx", "b@pbx"], "answered", True, 200, 12, A, PBX)
    assert call["setup_ms"] == 955.0 and call["duration_ms"] == 3010.0  # the A leg's
    assert json.loads(_scan(capsys, "--calls", "--format", "json", path))["call_list"] == [
        call]
    (row,) = csv.DictReader(io.StringIO(_scan(capsys, "--calls", "--format", "csv", path)))
    assert row["call_id"] == "a@pbx b@pbx" and row["messages"] == "12"
    text = _scan(capsys, "--calls", path)
    assert text.splitlines()[1].endswith("a@pbx b@pbx")
    summary = json.loads(_scan(capsys, "--calls", "--format", "json", "--summary", path))
    assert summary["calls"]["total"] == 1 and summary["evicted"]["call_links"] == 0


def test_the_lake_has_one_call_row_with_both_legs_with_any_number_of_jobs(
        write: Write, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from sipstatus.lake import build

    # The call cut across two captures: with jobs=2 each is mapped in a worker process, and
    # the legs are tied in the replay in this one.
    line = b2bua_timeline()
    paths = [write(pcapgen.pcap(line.frames[:6], linktype=line.linktype)),
             write(pcapgen.pcap(line.frames[6:], linktype=line.linktype))]
    one = build(paths, tmp_path / "one", jobs=1)
    two = build(paths, tmp_path / "two", jobs=2)
    assert one.calls == two.calls == 1

    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
                if p.is_file()}

    assert files(tmp_path / "one") == files(tmp_path / "two")
    (call,) = pq.read_table(tmp_path / "one" / "calls").to_pylist()
    assert (call["call_key"], call["call_ids"], call["outcome"], call["messages"],
            call["caller"], call["ended_by"], call["captures"]) == (
        "a@pbx", ["a@pbx", "b@pbx"], "answered", 12, "alice@192.0.2.10", "caller",
        [str(path) for path in paths])
    messages = pq.read_table(tmp_path / "one" / "messages").to_pylist()
    assert {row["call_key"] for row in messages} == {"a@pbx"}
    assert {row["call_id"] for row in messages} == {"a@pbx", "b@pbx"}


def test_ladder_call_id_draws_every_leg(write: Write,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = str(write(b2bua_call()))
    for wanted in ("a@pbx", "b@pbx"):
        assert main(["ladder", path, "--call-id", wanted, "--format", "mermaid"]) == 0
        drawn = capsys.readouterr().out
        assert drawn.count("INVITE") >= 2 and drawn.count("BYE") >= 2, wanted
        assert "2 legs: a@pbx, b@pbx" in drawn

