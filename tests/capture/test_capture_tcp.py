"""TCP reassembly and SIP framing by Content-Length."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pcapgen
import pytest

from sipstatus.capture import read
from sipstatus.capture._tcp import MAX_OUT_OF_ORDER, NOT_SIP_AFTER, TcpReassembler

Write = Callable[..., Path]
A, B = "192.0.2.10", "192.0.2.20"


def msg(n: int, body: bytes = b"") -> bytes:
    return pcapgen.request("MESSAGE", call_id=f"m{n}@x", cseq=n, branch=f"z9hG4bK-{n}",
                           transport="TCP", body=body)


def flows(line: pcapgen.Timeline) -> tuple[pcapgen.TcpFlow, pcapgen.TcpFlow]:
    up = pcapgen.TcpFlow(A, 40000, B, 5060, isn=0xFFFFFF00)  # wraps around 2^32
    down = pcapgen.TcpFlow(B, 5060, A, 40000, isn=7000)
    line.add(up.syn())
    line.add(down.syn())
    return up, down


def ids(path: Path) -> list[tuple[int, str]]:
    return [(m.frame, m.head.call_id) for m in read(path)]


def test_pipelined_messages_in_one_segment(write: Write) -> None:
    line = pcapgen.Timeline()
    up, down = flows(line)
    line.add(up.send(msg(1) + msg(2, b"hello") + msg(3)))
    line.add(down.send(pcapgen.response(200, "OK", call_id="m1@x", transport="TCP")))
    got = list(read(write(line.pcap())))
    assert [(m.frame, m.head.call_id, m.transport) for m in got] == [
        (3, "m1@x", "tcp"), (3, "m2@x", "tcp"), (3, "m3@x", "tcp"), (4, "m1@x", "tcp")]
    assert got[1].data.endswith(b"\r\n\r\nhello")
    assert got[3].src == B and got[3].sport == 5060


def test_message_split_across_segments(write: Write) -> None:
    line = pcapgen.Timeline()
    up, _ = flows(line)
    data = msg(1, b"x" * 50) + msg(2)
    for start in range(0, len(data), 40):
        line.add(up.send(data[start:start + 40]))
    got = list(read(write(line.pcap())))
    first_end = (len(msg(1, b"x" * 50)) + 39) // 40 + 2
    assert [(m.frame, m.data) for m in got] == [
        (first_end, msg(1, b"x" * 50)), (len(line.frames), msg(2))]


def test_retransmitted_and_overlapping_segments(write: Write) -> None:
    line = pcapgen.Timeline()
    up, _ = flows(line)
    data = msg(1) + msg(2)
    start = up.seq
    line.add(up.send(data[:100]))
    line.add(up.at(start, data[:100]))  # pure retransmission
    line.add(up.at(start + 50, data[50:150]))  # overlaps 50 old bytes, brings 50 new
    up.seq = start + 150
    line.add(up.send(data[150:]))
    line.add(up.at(start, data))  # everything again
    got = list(read(write(line.pcap())))
    assert [m.data for m in got] == [msg(1), msg(2)]


def test_out_of_order_segments(write: Write) -> None:
    line = pcapgen.Timeline()
    up, _ = flows(line)
    data = msg(1) + msg(2)
    start = up.seq
    line.add(up.at(start + 200, data[200:]))
    line.add(up.at(start + 100, data[100:200]))
    line.add(up.at(start, data[:100]))
    got = list(read(write(line.pcap())))
    assert [(m.frame, m.data) for m in got] == [(5, msg(1)), (5, msg(2))]


def test_keepalives_and_missing_content_length(write: Write) -> None:
    line = pcapgen.Timeline()
    up, _ = flows(line)
    no_length = b"OPTIONS sip:b@x SIP/2.0\r\nCall-ID: n@x\r\nCSeq: 1 OPTIONS\r\n\r\n"
    line.add(up.send(b"\r\n\r\n" + msg(1) + b"\r\n\r\n" + no_length + msg(2)))
    got = list(read(write(line.pcap())))
    assert [m.head.call_id for m in got] == ["m1@x", "n@x", "m2@x"]
    assert got[1].error is not None
    assert "Content-Length" in str(got[1].error)


def test_capture_starting_mid_stream_resynchronises(write: Write) -> None:
    line = pcapgen.Timeline()
    up = pcapgen.TcpFlow(A, 40000, B, 5060)  # no handshake in the capture
    line.add(up.send(msg(1)[30:] + msg(2)))
    assert ids(write(line.pcap())) == [(1, "m2@x")]


def test_fin_with_partial_message_reports_it_broken(write: Write) -> None:
    line = pcapgen.Timeline()
    up, _ = flows(line)
    line.add(up.send(msg(1) + msg(2)[:60], flags=pcapgen.ACK | pcapgen.FIN))
    got = list(read(write(line.pcap())))
    assert [m.head.call_id for m in got] == ["m1@x", ""]
    assert got[1].error is not None and "closed" in str(got[1].error)


def test_new_connection_on_same_ports(write: Write) -> None:
    line = pcapgen.Timeline()
    up, _ = flows(line)
    line.add(up.send(msg(1)[:40]))  # never finished
    again = pcapgen.TcpFlow(A, 40000, B, 5060, isn=123)
    line.add(again.syn())
    line.add(again.send(msg(2)))
    assert ids(write(line.pcap())) == [(5, "m2@x")]


def test_other_protocols_on_tcp_are_ignored() -> None:
    tcp = TcpReassembler()
    key = ("a", 1, "b", 2)
    noise = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 100
    seq = 1
    for _ in range(NOT_SIP_AFTER // len(noise) + 2):
        assert not tcp.segment(key, seq, 0x18, noise)
        seq += len(noise)
    # Once judged not SIP, even a SIP message on that stream is not looked at.
    assert tcp.segment(key, seq, 0x18, msg(1)) == ()


def test_a_gap_that_never_fills_is_skipped() -> None:
    tcp = TcpReassembler()
    key = ("a", 1, "b", 2)
    assert tcp.segment(key, 0, 0x02, b"") == ()
    assert tcp.segment(key, 1, 0x18, msg(1)[:50]) == []
    later = msg(2)
    seq = 1 + 5000  # bytes 51..5000 were never captured
    out: list[tuple[bytes, str, str]] = []
    while len(out) == 0:
        out = list(tcp.segment(key, seq, 0x18, later))
        seq += len(later)
        assert seq < 1 + 5000 + MAX_OUT_OF_ORDER + 10 * len(later)
    assert out[0] == (later, "", "")


@pytest.mark.parametrize("cut", [1, 7, 33, 120])
def test_every_split_point_frames_the_same(write: Write, cut: int) -> None:
    line = pcapgen.Timeline()
    up, _ = flows(line)
    data = msg(1, b"abc") + msg(2)
    for start in range(0, len(data), cut):
        line.add(up.send(data[start:start + cut]))
    assert [m.data for m in read(write(line.pcap()))] == [msg(1, b"abc"), msg(2)]
