"""One memory budget for a scan, and reassembly in linear time (issue 11).

Hostile captures are written on the fly (tests/capture/hostile.py, built with pcapgen) at sizes
that show the point in seconds; bench/bench_capture_memory.py runs the same shapes at full
size. Peak memory is measured in a child process; time growth is a ratio of CPU times at n and
8n in one run (linear: about 8; the bound is generous), never an absolute time.
"""

from __future__ import annotations

import json
import random
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import hostile
import pcapgen
import pytest

from sipstatus._cli import main
from sipstatus.capture import read, summarize
from sipstatus.capture._budget import (
    DEFAULT_MAX_MEMORY,
    EVICTED_KINDS,
    EvictedKeys,
    MemoryBudget,
    parse_size,
)
from sipstatus.capture._calls import Call, Calls
from sipstatus.capture._head import scan_head
from sipstatus.capture._ip import MAX_DATAGRAM, Defragmenter, transport
from sipstatus.capture._scan import Scan
from sipstatus.capture._tcp import MAX_HEAD, TcpReassembler
from sipstatus.capture._transactions import Transactions, TsharkLedger
from sipstatus.capture._window import ByteWindow

A, B = "192.0.2.10", "192.0.2.20"
MiB = 1 << 20
PEAK_BUDGET_MIB = 64
#: n against 8n: linear work gives about 8; quadratic work gives 64.
GROWTH_BOUND = 8 * 3


def child_scan(*argv: str) -> tuple[float, int, str, str]:
    """``sipstatus scan --no-progress ARGV`` in a child: its peak RSS (MiB) and its results."""
    peak, done = hostile.child_peak_rss_mib("scan", "--no-progress", *argv)
    return peak, done.returncode, done.stdout, done.stderr


def growth(make: Callable[[int], Callable[[], object]], n: int) -> float:
    """CPU time of ``make(8 * n)()`` over that of ``make(n)()``, each the best of 3."""
    def best(work: Callable[[], object]) -> float:
        times = []
        for _ in range(3):
            start = time.process_time()
            work()
            times.append(time.process_time() - start)
        return max(min(times), 1e-6)
    small, large = make(n), make(8 * n)
    return best(large) / best(small)


# -- the budget ------------------------------------------------------------------------------


def test_sizes_and_shares() -> None:
    assert [parse_size(text) for text in ("65536", "64M", "64MiB", "1G", "512k", " 2gb ")] == [
        65536, 64 * MiB, 64 * MiB, 1 << 30, 512 << 10, 2 << 30]
    for bad in ("", "lots", "-1M", "1.5G", "64 MB extra"):
        with pytest.raises(ValueError, match="not a size"):
            parse_size(bad)
    budget = MemoryBudget()
    assert (budget.total, budget.state, budget.tcp, budget.fragments) == (
        DEFAULT_MAX_MEMORY, 32 * MiB, 8 * MiB, 4 * MiB)
    summary_mode = ("resend_states", "calls")
    assert budget.dialogs("calls", summary_mode) == budget.dialogs("resend_states",
                                                                   summary_mode) == 10 * MiB
    assert MemoryBudget(1 << 30).state == (1 << 30) - 32 * MiB
    assert MemoryBudget(8 * MiB).state == 4 * MiB
    with pytest.raises(ValueError, match="below the minimum"):
        MemoryBudget(MiB)


def test_evicted_keys_are_stable_and_zero_on_ordinary_captures(write: Callable[..., Path]
                                                              ) -> None:
    line = pcapgen.Timeline()
    line.udp(A, B, pcapgen.request("OPTIONS", call_id="o@x"))
    result = summarize(write(line.pcap()), calls=True)
    assert result["evicted"] == dict.fromkeys(EVICTED_KINDS, 0)
    assert result["max_memory"] == DEFAULT_MAX_MEMORY


def test_max_memory_on_the_command_line(write: Callable[..., Path],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    line = pcapgen.Timeline()
    line.udp(A, B, pcapgen.request("OPTIONS", call_id="o@x"))
    path = str(write(line.pcap()))
    assert main(["scan", "--no-progress", "--format", "json", "--max-memory", "1G", path]) == 0
    assert json.loads(capsys.readouterr().out)["max_memory"] == 1 << 30
    for bad in ("lots", "1M"):
        with pytest.raises(SystemExit) as caught:
            main(["scan", "--max-memory", bad, path])
        assert caught.value.code == 2
        assert "--max-memory" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["scan", "--help"])
    assert "--max-memory SIZE" in capsys.readouterr().out


def test_long_header_values_are_not_cached() -> None:
    tracemalloc.start()
    try:
        for n in range(300):
            tag = str(n).encode() + b"t" * 60_000
            head = scan_head(b"OPTIONS sip:b@x SIP/2.0\r\nCall-ID: a\r\nCSeq: 1 OPTIONS\r\n"
                             b"Via: SIP/2.0/UDP x;branch=z9hG4bK" + tag + b"\r\n"
                             b"From: <sip:a@x>;tag=" + tag + b"\r\nTo: <sip:b@x>\r\n\r\n")
            assert head is not None and head.from_tag.startswith(str(n))
            del head
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held < 4 * MiB, f"{held / MiB:.0f} MiB held after 300 distinct long values"


# -- calls, transactions, resend states ---------------------------------------------------------


def test_evicted_keys_remember_recent_evictions_with_rare_false_alarms() -> None:
    keys = EvictedKeys()
    assert ("never", 1) not in keys
    for n in range(3 * EvictedKeys.GENERATION):
        keys.add(("gone", n))
    recent = range(2 * EvictedKeys.GENERATION, 3 * EvictedKeys.GENERATION)
    assert all(("gone", n) in keys for n in recent)
    old = sum(("gone", n) in keys for n in range(EvictedKeys.GENERATION))
    mistaken = sum(("other", n) in keys for n in range(100_000))
    assert old < 50 and mistaken < 50


def _invite(n: int, *, to_tag: str = "") -> bytes:
    return pcapgen.request("INVITE", call_id=f"c{n}@x", branch=f"z9hG4bK-{n}", to_tag=to_tag)


def test_calls_are_bounded_least_recently_active_first() -> None:
    released: list[Call] = []
    evicted: Counter[str] = Counter()
    calls = Calls(released.append, max_bytes=10_000, evicted=evicted)
    heads = [scan_head(_invite(n)) for n in range(40)]
    for n, head in enumerate(heads):
        assert head is not None
        assert calls.observe(head, n, n + 1, A, 5060, B, 5060, "udp", False) is False
        assert calls.held <= 10_000
        first = heads[0]
        assert first is not None
        if n < 5:  # call 0 stays active while the first calls arrive
            calls.observe(first, n, n + 1, A, 5060, B, 5060, "udp", True)
    assert evicted["calls"] == len(released) == 40 - len(calls) > 0
    assert released[0].call_id == "c1@x"  # call 0 was more recently active than call 1
    ringing = scan_head(pcapgen.response(180, "Ringing", call_id="c1@x", branch="z9hG4bK-1"))
    assert ringing is not None
    assert calls.observe(ringing, 99, 99, B, 5060, A, 5060, "udp", False) is True  # lost
    other = scan_head(pcapgen.response(180, "Ringing", call_id="never@x"))
    assert other is not None
    assert calls.observe(other, 99, 99, B, 5060, A, 5060, "udp", False) is False


def test_transactions_and_resend_states_are_bounded_and_say_what_was_lost() -> None:
    evicted: Counter[str] = Counter()
    transactions = Transactions(max_bytes=20_000, evicted=evicted)
    ledger = TsharkLedger(max_bytes=10_000, evicted=evicted)
    requests = [scan_head(_invite(n)) for n in range(60)]
    for n, head in enumerate(requests):
        assert head is not None
        transactions.observe(head, n, n + 1)
        ledger.observe(head, n + 1, 0, n, A, 5060, B, 5060)
        assert transactions.held <= 20_000 and ledger.held <= 10_000
    assert evicted["transactions"] == 60 - len(transactions) > 0
    assert evicted["resend_states"] == 60 - len(ledger) > 0
    first, last = requests[0], requests[-1]
    assert first is not None and last is not None
    answer = scan_head(pcapgen.response(486, "Busy Here", call_id="c0@x", branch="z9hG4bK-0"))
    assert answer is not None
    assert transactions.observe(answer, 100, 100)[4] is True  # its transaction was evicted
    assert ledger.observe(first, 101, 0, 100, A, 5060, B, 5060) == (False, 0, True)
    assert ledger.observe(last, 102, 0, 101, A, 5060, B, 5060) == (True, 0, False)
    again = transactions.observe(last, 101, 101)
    assert again[1] is True and again[4] is False


def _requests_then_answers(count: int) -> bytes:
    """``count`` OPTIONS, then the last and the first again (retransmissions), then every
    answer."""
    line = pcapgen.Timeline()
    messages = [pcapgen.request("OPTIONS", call_id=f"r{n}@x", branch=f"z9hG4bK-r{n}")
                for n in range(count)]
    for message in [*messages, messages[-1], messages[0]]:
        line.udp(A, B, message, 0.1)
    for n in range(count):
        line.udp(B, A, pcapgen.response(200, "OK", call_id=f"r{n}@x", method="OPTIONS",
                                        branch=f"z9hG4bK-r{n}"), 0.1)
    return line.pcap()


def test_records_name_the_state_they_lost(write: Callable[..., Path],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    count = 12_000
    path = str(write(_requests_then_answers(count)))
    status = main(["scan", "--no-progress", "--format", "jsonl", "--max-memory", "4M", path])
    out, err = capsys.readouterr()
    records = [json.loads(row) for row in out.splitlines()]
    assert status == 0 and len(records) == 2 * count + 2
    assert "note: dropped to hold the memory budget of 4 MiB" in err
    assert "resend_states" in err and "transactions" in err
    first_copy, (last_again, first_again), answers = (
        records[:count], records[count:count + 2], records[count + 2:])
    mistaken = [r for r in first_copy if r["evicted"]]  # EvictedKeys' rare false alarms
    assert len(mistaken) <= count // 1000
    assert (last_again["evicted"], last_again["resend"]) == ("", True)
    assert (first_again["evicted"], first_again["resend"]) == (
        "resend_states,transactions", False)  # tshark would have flagged it resent
    assert answers[1]["evicted"] == "transactions" and answers[1]["response_time_ms"] is None
    assert answers[-1]["evicted"] == "" and answers[-1]["response_time_ms"] is not None
    main(["scan", "--no-progress", "--format", "csv", "--max-memory", "4M", path])
    header, first = capsys.readouterr().out.splitlines()[:2]
    assert header.endswith(",error,evicted") and first.endswith(",")
    main(["scan", "--no-progress", "--max-memory", "4M", path])
    text = capsys.readouterr().out
    assert "Dropped to hold the memory budget of 4 MiB (--max-memory)" in text
    assert "Transactions released early" not in text  # a summary follows no transactions
    assert "Resend states (tshark's) evicted" in text


def test_many_unanswered_invites_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "invites.pcap"
    count = 30_000
    hostile.invites(path, count, seconds=30)
    peak, status, out, err = child_scan("--format", "json", "--max-memory", "8M", str(path))
    document = json.loads(out)
    assert status == 0 and document["messages"] == count and "Traceback" not in err
    assert document["evicted"]["calls"] > count // 2
    assert document["calls"]["total"] == count  # evicted calls are released, not lost
    assert peak < PEAK_BUDGET_MIB, f"peak RSS {peak:.0f} MiB"


# -- IP fragments ----------------------------------------------------------------------------


def test_one_datagram_holds_at_most_its_largest_size() -> None:
    defrag = Defragmenter()
    for n in range(50_000):
        offset = 8 + 8 * (n % 8189)
        assert defrag.add(("k",), offset, True, b"\x5a" * 8, 0) is None
    assert defrag.held <= 2 * MAX_DATAGRAM + 1024 and len(defrag) == 1
    assert defrag.add(("k",), MAX_DATAGRAM - 3, True, b"x" * 8, 0) is None  # past any datagram
    assert defrag.evicted["fragments"] == 1


def test_pending_datagrams_share_one_bound() -> None:
    evicted: Counter[str] = Counter()
    defrag = Defragmenter(max_bytes=1 * MiB, evicted=evicted)
    for ident in range(200):
        defrag.add((ident,), 65_000, True, b"x" * 8, 0)
        assert defrag.held <= 1 * MiB
    assert evicted["fragments"] == defrag.dropped == 200 - len(defrag) > 0
    pieces, message = hostile.reversed_fragments(100, ident=9)
    outcome = [transport(4, piece, 0, defrag, 1) for piece in pieces]
    assert outcome[:-1] == [None] * 99 and outcome[-1] is not None
    assert outcome[-1][3][8:] == message


def test_fragments_of_one_datagram_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "fragments.pcap"
    hostile.fragments_of_one_datagram(path, 200_000)
    peak, status, out, _err = child_scan("--format", "json", str(path))
    assert status == 0 and json.loads(out)["messages"] == 0
    assert peak < PEAK_BUDGET_MIB, f"peak RSS {peak:.0f} MiB"


def test_fragment_reassembly_time_is_linear() -> None:
    def make(count: int) -> Callable[[], object]:
        pieces, message = hostile.reversed_fragments(count)

        def work() -> object:
            for _ in range(4):
                defrag = Defragmenter()
                done = [transport(4, piece, 0, defrag, 0) for piece in pieces]
            assert done[-1] is not None and done[-1][3][8:] == message
            return done
        return work
    ratio = growth(make, 1000)
    assert ratio < GROWTH_BOUND, f"8x the fragments took {ratio:.1f}x the time"


# -- TCP ---------------------------------------------------------------------------------------


def _tcp_message(n: int, body: bytes = b"") -> bytes:
    return pcapgen.request("MESSAGE", call_id=f"t{n}@x", branch=f"z9hG4bK-t{n}",
                           transport="TCP", body=body)


def test_reordered_duplicated_overlapping_segments_frame_the_same() -> None:
    data = b"".join(_tcp_message(n, b"x" * (n * 37 % 300)) for n in range(30))
    expected = [_tcp_message(n, b"x" * (n * 37 % 300)) for n in range(30)]
    chance = random.Random(11)
    for _ in range(20):
        cuts = sorted(chance.sample(range(1, len(data)), 120))
        pieces = [(a, data[a:b]) for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        pieces += [(a, data[a:a + chance.randint(1, 400)]) for a in
                   chance.sample(range(len(data)), 40)]  # overlaps and retransmissions
        chance.shuffle(pieces)
        tcp = TcpReassembler()
        tcp.segment(("k",), 99, 0x02, b"")
        got = [m for seq, piece in pieces for m, _problem, _cut in
               tcp.segment(("k",), 100 + seq, 0x18, piece)]
        assert got == expected


def test_first_copy_of_a_waiting_byte_wins() -> None:
    window = ByteWindow()
    assert window.write(4, b"AAAA") == 4
    assert window.write(2, b"bbbbbbbb") == 4  # only positions 2, 3, 8, 9 were absent
    assert (bytes(window.data), window.filled, window.present_prefix()) == (
        b"\0\0bbAAAAbb", 8, 0)
    assert window.write(0, b"cc") == 2 and window.present_prefix() == 10
    assert window.take(10) == b"ccbbAAAAbb" and len(window) == window.filled == 0


def test_out_of_order_data_is_bounded_across_streams() -> None:
    evicted: Counter[str] = Counter()
    tcp = TcpReassembler(max_bytes=2 * MiB, evicted=evicted)
    chunk = b"y" * 60_000
    for stream in range(40):
        key = ("a", stream, "b", 5060)
        tcp.segment(key, 0, 0x02, b"")
        for offset in range(2, 200_000, len(chunk)):  # a hole at the first byte
            tcp.segment(key, offset, 0x18, chunk)
            assert tcp.held <= 2 * MiB
    assert evicted["tcp_streams"] > 0 and evicted["tcp_bytes"] > 0
    assert len(tcp) < 40


def test_one_byte_segments_after_holes_are_bounded() -> None:
    tcp = TcpReassembler()
    key = ("a", 1, "b", 2)
    tcp.segment(key, 0, 0x02, b"")
    for n in range(300_000):
        tcp.segment(key, 2 + 2 * n, 0x18, b"x")
    assert tcp.held <= 2 * tcp.max_window + 4096


def test_partial_heads_are_bounded_across_streams(tmp_path: Path) -> None:
    path = tmp_path / "heads.pcap"
    hostile.partial_heads(path, 300)
    peak, status, out, err = child_scan("--format", "json", "--max-memory", "8M", str(path))
    document = json.loads(out)
    assert status == 0 and "Traceback" not in err
    assert document["evicted"]["tcp_streams"] > 0 and document["evicted"]["tcp_bytes"] > 0
    assert peak < PEAK_BUDGET_MIB, f"peak RSS {peak:.0f} MiB"


def test_a_body_longer_than_the_budget_is_counted_off() -> None:
    tcp = TcpReassembler()
    key = ("a", 1, "b", 2)
    body = 40 * MiB
    head = _tcp_message(1).replace(b"Content-Length: 0", f"Content-Length: {body}".encode())
    tcp.segment(key, 0, 0x02, b"")
    seq = 1
    out = list(tcp.segment(key, seq, 0x18, head))
    seq += len(head)
    chunk = b"b" * 65_000
    sent = 0
    while sent < body:
        piece = chunk[:body - sent]
        out += tcp.segment(key, seq + sent, 0x18, piece)
        sent += len(piece)
        assert tcp.held <= 2 * MAX_HEAD
    after = _tcp_message(2)
    out += tcp.segment(key, seq + sent, 0x18, after)
    assert [(m, cut) for m, _problem, cut in out] == [(head, "tcp_bytes"), (after, "")]
    assert out[0][1].startswith(f"body of {body} bytes skipped unread")
    assert tcp.evicted["tcp_bytes"] == body


def test_a_huge_body_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "body.pcap"
    hostile.huge_body(path, 100 * MiB)
    peak, status, out, err = child_scan("--format", "json", str(path))
    document = json.loads(out)
    assert status == 0 and document["messages"] == 1 and "Traceback" not in err
    assert document["evicted"]["tcp_bytes"] == 100 * MiB
    assert peak < PEAK_BUDGET_MIB, f"peak RSS {peak:.0f} MiB"
    short = tmp_path / "short.pcap"  # a whole body: the head is reported, flagged
    hostile.huge_body(short, 3 * MiB, length=3 * MiB)
    records = list(read(short, on_problem=lambda problem: None))
    assert [(m.head.call_id, m.error is not None) for m in records] == [
        ("big@x", True), ("after@x", False)]
    scan = Scan(records=True)
    rows = [row[-1] for row in scan.run([short])]
    assert rows == ["tcp_bytes", ""]


def _evens_then_odds(segments: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    return ([s for s in segments if not s[0] % 2]  # every other byte first, then the rest
            + [s for s in segments if s[0] % 2])


@pytest.mark.parametrize("order", [list, _evens_then_odds], ids=["reversed", "holes-filled"])
def test_tcp_reassembly_time_is_linear(
        order: Callable[[list[tuple[int, bytes]]], list[tuple[int, bytes]]]) -> None:
    def make(size: int) -> Callable[[], object]:
        segments, message = hostile.reversed_segments(size)
        arrivals = order(list(segments))

        def work() -> object:
            tcp = TcpReassembler()
            tcp.segment(("k",), 0, 0x02, b"")
            out = [m for seq, payload in arrivals
                   for m in tcp.segment(("k",), seq, 0x18, payload)]
            assert out == [(message, "", "")]
            return out
        return work
    ratio = growth(make, 4000)
    assert ratio < GROWTH_BOUND, f"8x the bytes took {ratio:.1f}x the time"


def test_a_message_in_many_small_segments_is_searched_once() -> None:
    def make(size: int) -> Callable[[], object]:
        message = _tcp_message(1, b"z" * size)
        head_end = message.index(b"\r\n\r\n") + 2
        filler = b"X-Long: " + b"w" * min(size // 8, MAX_HEAD // 2) + b"\r\n"
        message = message[:head_end] + filler + message[head_end:]

        def work() -> object:
            tcp = TcpReassembler()
            tcp.segment(("k",), 0, 0x02, b"")
            out = [m for n in range(len(message))
                   for m in tcp.segment(("k",), 1 + n, 0x18, message[n:n + 1])]
            assert [m for m, _problem, _cut in out] == [message]
            return out
        return work
    ratio = growth(make, 3000)
    assert ratio < GROWTH_BOUND, f"8x the bytes took {ratio:.1f}x the time"
