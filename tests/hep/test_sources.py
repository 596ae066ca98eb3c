"""HEP as a capture source: captures holding HEP (UDP and TCP), the round trip of every
fixture capture through HEP, malformed and non-SIP packets, and the listeners in-process."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pcapgen
import pytest

from sipstatus import _cli
from sipstatus.capture import CapturedMessage
from sipstatus.capture import read as read_capture
from sipstatus.capture._head import scan_head
from sipstatus.capture._packets import sip_payloads
from sipstatus.capture._pcap import CaptureFile
from sipstatus.capture._scan import Scan
from sipstatus.hep import (
    HepFramer,
    HepListener,
    HepPacket,
    HepSender,
    HepStats,
    encode,
    packet_of,
    read,
)
from sipstatus.hep._scan import ListenerSource, run_sources
from sipstatus.hep._source import packet_payloads, parse_url

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "captures"
CAPTURES = sorted(p for p in FIXTURES.iterdir() if p.name.endswith((".pcap", ".pcapng", ".gz")))
AGENT, COLLECTOR = "198.51.100.1", "198.51.100.2"


def hep_packets(path: Path, **options: object) -> list[bytes]:
    return [encode(packet_of(payload, **options))  # type: ignore[arg-type]
            for payload in sip_payloads(CaptureFile(path))]


def hep_capture(packets: list[bytes], *, tcp: bool = False, cut: int = 0,
                port: int = 9060) -> bytes:
    """The packets as a capture: UDP datagrams from an agent to a collector, or one TCP
    stream (cut into segments of ``cut`` bytes if given)."""
    line = pcapgen.Timeline()
    if not tcp:
        for raw in packets:
            line.add(pcapgen.udp_packet(AGENT, 40000, COLLECTOR, port, raw))
        return line.pcap()
    flow = pcapgen.TcpFlow(AGENT, 40001, COLLECTOR, port)
    line.add(flow.syn())
    stream = b"".join(packets)
    step = cut or 1400
    for at in range(0, len(stream), step):
        line.add(flow.send(stream[at:at + step]))
    return line.pcap()


def _key(m: CapturedMessage) -> tuple[object, ...]:
    return (m.data, m.src, m.sport, m.dst, m.dport, m.transport)


def _microseconds(path: Path) -> list[int]:
    """The time of each SIP message of a capture, in whole microseconds (HEP's resolution)."""
    return [sec * 1_000_000 + nsec // 1000
            for _f, sec, nsec, *_rest, data, _p, _c in sip_payloads(CaptureFile(path))
            if scan_head(data) is not None]


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_every_fixture_survives_the_round_trip_through_hep(capture: Path, tcp: bool,
                                                           tmp_path: Path) -> None:
    original = list(read_capture(capture))
    path = tmp_path / "hep.pcap"
    path.write_bytes(hep_capture(hep_packets(capture, node_id=7), tcp=tcp, cut=997))
    stats = HepStats()
    problems: list[str] = []
    got = list(read(path, stats=stats, on_problem=problems.append))
    assert problems == [] and stats.malformed == 0
    assert len(got) == len(original) > 0
    assert [_key(m) for m in got] == [_key(m) for m in original]
    assert [round(m.time * 1e6) for m in got] == _microseconds(capture)
    assert [m.head.call_id for m in got] == [m.head.call_id for m in original]


def _scan_json(*argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    status = _cli.main(["scan", "--format", "json", *argv])
    return status, json.loads(capsys.readouterr().out)


def test_scan_of_hep_in_a_capture_equals_the_scan_of_the_original(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capture = FIXTURES / "sipp-kamailio-udp-calls.pcapng"
    path = tmp_path / "hep.pcap"
    packets = hep_packets(capture)
    rtcp = encode(HepPacket(payload_type=5, payload=b"\x80\xc8"))
    path.write_bytes(hep_capture([*packets[:3], rtcp, b"HEP3\x00\x07junk", *packets[3:]]))
    _, plain = _scan_json(str(capture), capsys=capsys)
    status, hep = _scan_json("--hep", str(path), capsys=capsys)
    for key in ("messages", "resent", "status_codes", "methods", "setup_time_ms", "calls"):
        assert hep[key] == plain[key], key
    received = hep["hep"]["received"]  # type: ignore[index]
    assert received["packets"] == len(packets) + 1 and received["sip"] == len(packets)
    assert received["other_payload_types"] == {"5": 1} and received["malformed"] == 1
    assert status == 1  # the malformed packet is a warning, with its frame and offset
    assert any("frame 5: malformed HEP" in w and "byte offset 4" in w
               for w in hep["warnings"])  # type: ignore[union-attr]


def test_hep_port_chooses_the_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capture = FIXTURES / "sipp-uas-codes.pcap"
    path = tmp_path / "hep.pcap"
    path.write_bytes(hep_capture(hep_packets(capture), port=19060))
    _, on_default = _scan_json("--hep", str(path), capsys=capsys)
    _, on_port = _scan_json("--hep-port", "19060", str(path), capsys=capsys)
    assert on_default["messages"] == 0
    assert on_port["messages"] == len(list(read_capture(capture)))


def test_tcp_stream_with_a_gap_resynchronises(tmp_path: Path) -> None:
    packets = hep_packets(FIXTURES / "sipp-uas-codes.pcap")[:6]
    line = pcapgen.Timeline()
    flow = pcapgen.TcpFlow(AGENT, 40001, COLLECTOR, 9060)
    line.add(flow.syn())
    line.add(flow.send(packets[0] + packets[1][:50]))
    flow.seq += len(packets[1]) - 50  # the rest of packet 2 was not captured
    line.add(flow.send(packets[2]))
    line.add(flow.at(flow.seq - len(packets[2]), packets[2]))  # a retransmission
    line.add(flow.send(b"garbage" + packets[3]))
    line.add(flow.send(packets[4] + packets[5], flags=pcapgen.FIN | pcapgen.ACK))
    path = tmp_path / "gap.pcap"
    path.write_bytes(line.pcap())
    stats = HepStats()
    got = [m.data for m in read(path, stats=stats)]
    datas = [p[8] for p in sip_payloads(CaptureFile(FIXTURES / "sipp-uas-codes.pcap"))][:6]
    assert got == [datas[0], datas[2], datas[3], datas[4], datas[5]]
    assert stats.skipped_bytes == 50 + len(b"garbage")


def test_framer_cuts_a_stream_fed_byte_by_byte() -> None:
    packets = hep_packets(FIXTURES / "sipp-uas-codes.pcap")[:3]
    framer = HepFramer()
    stream = b"".join(packets)
    out = [raw for i in range(len(stream)) for _at, raw, _ in framer.feed(stream[i:i + 1])]
    assert out == packets
    assert list(HepFramer().feed(b"HEP3\x00\x02HEP3")) == [(0, None, 6)]


def test_packet_payloads_counts_and_reports() -> None:
    stats = HepStats()
    problems: list[str] = []
    keepalive = encode(HepPacket(payload_type=1, keep_alive=30))
    sip = encode(HepPacket(payload_type=1, payload=b"OPTIONS sip:a SIP/2.0\r\n\r\n",
                           time_sec=5, time_usec=2_500_000, ip_protocol=6))
    got = list(packet_payloads([keepalive, b"nonsense", sip], stats, problems.append, "x: "))
    assert [(p[0], p[1], p[2], p[7]) for p in got] == [(3, 7, 500_000_000, "tcp")]
    assert stats.as_dict() == {"packets": 2, "sip": 1, "other_payload_types": {},
                               "no_payload": 1, "malformed": 1, "skipped_bytes": 0}
    assert problems == ["x: packet 2: malformed HEP: magic b'nons' is not HEP v3 at byte "
                        "offset 0 (expected \"HEP3\")"]


def test_a_correlation_id_is_forwarded() -> None:
    # What a B2BUA's capture agent tags (HEP chunk 0x0011) goes on to the next collector.
    message = b"OPTIONS sip:a SIP/2.0\r\nCall-ID: leg-b\r\n\r\n"
    tagged = encode(HepPacket(payload_type=1, payload=message, correlation_id="leg-a"))
    plain = encode(HepPacket(payload_type=1, payload=message))
    got = list(packet_payloads([tagged, plain], HepStats(), lambda _p: None))
    assert [packet_of(p).correlation_id for p in got] == ["leg-a", None]
    assert packet_of(got[0], correlation_id="other").correlation_id == "other"
    again = list(packet_payloads([encode(packet_of(p)) for p in got], HepStats(),
                                 lambda _p: None))
    assert [getattr(p[8], "correlation_id", None) for p in again] == ["leg-a", None]


@pytest.mark.parametrize(("url", "expected"), [
    ("hep://127.0.0.1:9060", ("udp", "127.0.0.1", 9060)),
    ("hep+udp://[::1]:9", ("udp", "::1", 9)),
    ("HEP+TCP://localhost:9061/", ("tcp", "localhost", 9061)),
])
def test_urls(url: str, expected: tuple[str, str, int]) -> None:
    assert parse_url(url) == expected


@pytest.mark.parametrize("url", ["hep://127.0.0.1", "udp://127.0.0.1:9", "hep://:9",
                                 "hep://h:99999", "hep://h:9/path"])
def test_bad_urls(url: str) -> None:
    with pytest.raises(ValueError, match="is not hep://"):
        parse_url(url)


def _listen(listener: HepListener, **options: object) -> tuple[threading.Thread, Scan]:
    scan = Scan(calls=True)
    source = ListenerSource(listener, **options)  # type: ignore[arg-type]

    def run() -> None:
        for _ in run_sources(scan, [source]):
            pass

    thread = threading.Thread(target=run)
    thread.start()
    return thread, scan


def _messages(name: str) -> Iterator[tuple[int, int, int, str, int, str, int, str, bytes, str,
                                           str]]:
    return sip_payloads(CaptureFile(FIXTURES / name))


@pytest.mark.parametrize("transport", ["hep", "hep+tcp"])
def test_listener_receives_what_the_sender_sends(transport: str) -> None:
    payloads = list(_messages("sipp-kamailio-udp-calls.pcapng"))
    with HepListener(f"{transport}://127.0.0.1:0") as listener:
        thread, scan = _listen(listener, count=len(payloads), duration=30)
        with HepSender(f"{transport}://127.0.0.1:{listener.port}", node_id=3,
                       node_name="n1", compressed=transport == "hep+tcp") as sender:
            for payload in payloads:
                sender.send(payload)
            # junk between packets, then a valid packet: the listener goes on
            if transport == "hep":
                sender.sock.sendto(b"HEP3\x00\x08\x00\x00", sender.address)
            else:
                sender.sock.send(b"HEP3\x00\x08\x00\x00")
        thread.join(30)
    assert not thread.is_alive()
    assert sender.sent == len(payloads) and sender.failed == 0
    assert scan.summary.messages == len(payloads)
    assert listener.stats.sip == len(payloads)


def test_listener_ends_on_its_duration_and_on_stop() -> None:
    with HepListener("hep://127.0.0.1:0") as listener:
        thread, scan = _listen(listener, duration=0.3)
        thread.join(10)
        assert not thread.is_alive() and scan.summary.messages == 0
    stop = threading.Event()
    with HepListener("hep+tcp://127.0.0.1:0") as listener:
        thread, scan = _listen(listener, stop=stop)
        with socket.create_connection(("127.0.0.1", listener.port)) as conn:
            conn.sendall(b"not hep at all")
            raw = encode(packet_of(next(_messages("sipp-uas-codes.pcap"))))
            conn.sendall(raw[:20])
        end = time.monotonic() + 10
        while scan.summary.warning_count < 2 and time.monotonic() < end:
            time.sleep(0.01)  # the listener reads what was sent before it is stopped
        stop.set()
        thread.join(10)
        assert not thread.is_alive()
    warnings = scan.summary.warnings
    assert any("are not a HEP packet" in w for w in warnings)
    assert any("closed inside a HEP packet" in w for w in warnings)


def test_sender_reports_what_it_cannot_send() -> None:
    with HepListener("hep://127.0.0.1:0") as listener:
        port = listener.port
    huge = (1, 0, 0, "192.0.2.1", 1, "192.0.2.2", 2, "udp", b"x" * 70_000, "", "")
    with HepSender(f"hep://127.0.0.1:{port}", rate=1000) as sender:
        sender.send(huge)
        assert sender.failed == 1 and "not sent" in sender.problems[0]
        assert struct.pack("!H", 1)  # nothing else was sent
        assert sender.sent == 0


def test_read_parses_each_message_and_skips_what_is_not_sip(tmp_path: Path) -> None:
    good = next(iter(sip_payloads(CaptureFile(FIXTURES / "sipp-uas-codes.pcap"))))
    broken = (*good[:8], b"SIP/2.0 200 OK\r\n" + b"X: y\r\n" * 300 + b"\r\n", "", "")
    text = (*good[:8], b"hello, not SIP", "", "")
    path = tmp_path / "hep.pcap"
    path.write_bytes(hep_capture([encode(packet_of(p)) for p in (good, text, broken)]))
    got = list(read(path))
    assert [m.frame for m in got] == [1, 3]
    assert got[0].message is not None and got[0].error is None
    assert got[1].message is None and got[1].error is not None


def test_scan_of_hep_validates_and_keeps_the_port(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    capture = FIXTURES / "sipp-kamailio-udp-calls.pcapng"
    path = tmp_path / "hep.pcap"
    path.write_bytes(hep_capture(hep_packets(capture)))
    status = _cli.main(["scan", "--hep", str(path), "--validate", "--port", "15061",
                        "--format", "jsonl"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    expected = [m for m in read_capture(capture) if 15061 in (m.sport, m.dport)]
    assert status == 0
    assert [(r["src"], r["sport"], r["call_id"]) for r in rows] == [
        (m.src, m.sport, m.head.call_id) for m in expected]


def test_hep_error_pickles() -> None:
    import pickle

    from sipstatus.hep import HepError
    error = HepError("bad", offset=7, expected="good")
    again = pickle.loads(pickle.dumps(error))
    assert (again.reason, again.offset, again.expected, str(again)) == (
        "bad", 7, "good", str(error))
