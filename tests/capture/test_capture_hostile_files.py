"""Hostile and damaged capture files (issue 11): only CaptureError comes out of
``sipstatus.capture.read``, ``summarize`` and ``sipstatus scan``; damage confined to one
record is reported and reading goes on; a broken number is a broken message; gzip damage is
named as such after the messages before it; a link type that is not read is a warning; records
and pcapng interfaces are bounded. Every hostile file is written here, on the fly."""

from __future__ import annotations

import gzip
import json
import re
import struct
from collections.abc import Callable
from pathlib import Path

import pcapgen
import pytest
from hostile import child_peak_rss_mib

from sipstatus._cli import main
from sipstatus.capture import CaptureError, read, summarize
from sipstatus.capture._budget import EVICTED_KINDS
from sipstatus.capture._head import ABSURD_LENGTH, message_length, scan_head
from sipstatus.capture._pcap import MAX_INTERFACES

Write = Callable[..., Path]
A, B = "192.0.2.10", "192.0.2.20"
OPTIONS = pcapgen.request("OPTIONS", call_id="o@x")
OK = pcapgen.response(200, "OK", call_id="o@x", method="OPTIONS")
FRAME_OPTIONS = pcapgen.ethernet(pcapgen.udp_packet(A, 5060, B, 5060, OPTIONS))
FRAME_OK = pcapgen.ethernet(pcapgen.udp_packet(B, 5060, A, 5060, OK))
MiB = 1 << 20
SHB_TYPE = 0x0A0D0D0A
NOTHING_EVICTED = dict.fromkeys(EVICTED_KINDS, 0)


# -- building blocks --------------------------------------------------------------------------


def block(btype: int, body: bytes, e: str = "<", length: int | None = None) -> bytes:
    """A pcapng block; ``length`` overrides the block length written at both ends."""
    body += b"\0" * (-len(body) % 4)
    size = 12 + len(body) if length is None else length
    return struct.pack(e + "II", btype, size) + body + struct.pack(e + "I", size)


def shb(e: str = "<") -> bytes:
    return block(SHB_TYPE, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1), e)


def idb(linktype: int = pcapgen.ETHERNET, options: bytes = b"", e: str = "<") -> bytes:
    return block(1, struct.pack(e + "HHI", linktype, 0, 262144) + options, e)


def option(code: int, value: bytes, e: str = "<", length: int | None = None) -> bytes:
    size = len(value) if length is None else length
    return struct.pack(e + "HH", code, size) + value + b"\0" * (-len(value) % 4)


def epb(data: bytes, *, iface: int = 0, ts: int = 0, caplen: int | None = None,
        e: str = "<") -> bytes:
    size = len(data) if caplen is None else caplen
    return block(6, struct.pack(e + "IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, size,
                                len(data)) + data, e)


def packet_block(data: bytes, iface: int = 0, e: str = "<") -> bytes:
    """The obsolete Packet Block (type 2)."""
    return block(2, struct.pack(e + "HHIIII", iface, 0, 0, 0, len(data), len(data)) + data, e)


def simple_block(data: bytes, e: str = "<") -> bytes:
    return block(3, struct.pack(e + "I", len(data)) + data, e)


def pcap_header(snaplen: int = 262144, linktype: int = pcapgen.ETHERNET) -> bytes:
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)


def pcap_record(data: bytes, caplen: int | None = None, sec: int = 1) -> bytes:
    size = len(data) if caplen is None else caplen
    return struct.pack("<IIII", sec, 0, size, size) + data


def tolerant(path: Path, **options: object) -> tuple[list[tuple[int, str]], list[CaptureError]]:
    """Frames and methods/codes read, and the problems passed on while reading."""
    problems: list[CaptureError] = []
    seen = [(m.frame, m.head.method or str(m.head.status_code))
            for m in read(path, on_problem=problems.append, **options)]  # type: ignore[arg-type]
    return seen, problems


def scan(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["scan", "--no-progress", *argv])
    out, err = capsys.readouterr()
    return status, out, err


# -- 1. malformed pcapng blocks: damaged records are reported, reading goes on ----------------


@pytest.mark.parametrize("kind", ["enhanced", "obsolete"])
def test_a_12_byte_packet_block_at_the_end_of_the_file(write: Write, kind: str) -> None:
    head = shb() + idb() + epb(FRAME_OPTIONS)
    path = write(head + block(6 if kind == "enhanced" else 2, b""), ".pcapng")
    seen, problems = tolerant(path)
    assert seen == [(1, "OPTIONS")]
    assert [(p.reason, p.frame, p.offset) for p in problems] == [
        ("packet block of 12 bytes is too short for its fields", 2, len(head))]
    with pytest.raises(CaptureError, match="too short for its fields") as caught:
        list(read(path))
    assert (caught.value.frame, caught.value.offset) == (2, len(head))
    result = summarize(path)
    assert (result["messages"], result["damaged_records"]) == (1, 1)
    assert result["warnings"] == [str(problems[0])]


def test_reading_goes_on_after_damaged_packet_blocks(write: Write) -> None:
    head = shb() + idb()
    damaged = [
        block(6, b""),  # too short for its fields
        packet_block(b""),  # an empty packet in a sound block: read, and not SIP
        epb(b"\0" * 16, caplen=4000),  # packet longer than its block
        epb(FRAME_OPTIONS, iface=7),  # undeclared interface
        block(3, b""),  # simple packet block too short
    ]
    data = head + b"".join(damaged) + epb(FRAME_OK)
    seen, problems = tolerant(write(data, ".pcapng"))
    assert seen == [(6, "200")]
    assert [(p.frame, p.reason) for p in problems] == [
        (1, "packet block of 12 bytes is too short for its fields"),
        (3, "packet length 4000 exceeds its block"),
        (4, "packet on undeclared interface 7"),
        (5, "simple packet block of 12 bytes is too short for its fields")]
    offsets = [len(head + b"".join(damaged[:n])) for n in (0, 2, 3, 4)]
    assert [p.offset for p in problems] == offsets


def test_scan_reports_damaged_records_and_goes_on(
        write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    data = shb() + idb() + epb(FRAME_OPTIONS) + block(6, b"") + epb(FRAME_OK, iface=4)
    path = str(write(data + epb(FRAME_OK), ".pcapng"))
    status, out, err = scan(capsys, path)
    assert status == 1 and "SIP messages: 2 (UDP 2, TCP 0)" in out
    assert re.search(r"Skipped\n  Damaged records skipped +2\n", out)
    assert "Warnings\n" in out and "packet on undeclared interface 4 at frame 3" in out
    assert err.count("sipstatus scan: warning: ") == 2 and "Traceback" not in err
    status, out, err = scan(capsys, "--format", "jsonl", path)
    assert status == 1 and [json.loads(row)["frame"] for row in out.splitlines()] == [1, 4]


def test_an_interface_description_with_an_empty_body(write: Write) -> None:
    head = shb() + block(1, b"")
    data = head + idb() + epb(FRAME_OPTIONS, iface=0) + epb(FRAME_OK, iface=1)
    seen, problems = tolerant(write(data, ".pcapng"))
    assert seen == [(2, "200")]
    assert [(p.reason, p.frame, p.offset) for p in problems] == [
        ("interface 0: interface description of 0 bytes is too short (8 needed)", 1, 28),
        ("packet on unreadable interface 0", 1, len(head + idb()))]
    assert summarize(write(data, ".pcapng"))["damaged_records"] == 1  # the packet, not the IDB


@pytest.mark.parametrize(("options", "problem", "time"), [
    (struct.pack("<HH", 14, 8) + b"\0\0\0\0", "interface option 14 runs past its block", 3.0),
    (option(14, b"\1\0\0\0"), "if_tsoffset option of 4 bytes", 3.0),
    (option(9, b"\6\6") + option(14, struct.pack("<q", 10)), "if_tsresol option of 2 bytes",
     13.0),  # the options after a damaged one are read
    (struct.pack("<HH", 2, 0xFFFF), "interface option 2 runs past its block", 3.0),
])
def test_a_damaged_interface_option_keeps_the_interface(write: Write, options: bytes,
                                                       problem: str, time: float) -> None:
    data = shb() + idb(options=options) + epb(FRAME_OPTIONS, ts=3_000_000)
    problems: list[CaptureError] = []
    [message] = read(write(data, ".pcapng"), on_problem=problems.append)
    assert (message.frame, message.time) == (1, time)  # microseconds
    assert [(p.reason, p.frame, p.offset) for p in problems] == [
        (f"interface 0: {problem}", 1, 28)]


def test_a_section_header_too_short_for_its_fields(write: Write) -> None:
    short = struct.pack("<II", SHB_TYPE, 16) + b"\x4d\x3c\x2b\x1a" + struct.pack("<I", 16)
    seen, problems = tolerant(write(short + idb() + epb(FRAME_OPTIONS), ".pcapng"))
    assert seen == [(1, "OPTIONS")]
    assert [p.reason for p in problems] == [
        "section header block of 16 bytes is too short for its fields"]


def test_damage_that_ends_the_reading_names_the_problems_before_it(write: Write) -> None:
    data = shb() + idb() + epb(FRAME_OPTIONS, iface=3) + epb(FRAME_OK) + b"\x06\0\0\0"
    seen = []
    with pytest.raises(CaptureError) as caught:
        for m in read(write(data, ".pcapng")):
            seen.append(m.frame)
    assert seen == [2]
    error = caught.value
    assert error.reason == (
        "capture ends in the middle of a block header (after 1 earlier problem, the first at "
        "frame 1, byte offset 48: packet on undeclared interface 3)")
    assert (error.frame, error.offset) == (3, len(data) - 4)


# -- 1. every prefix and every flipped byte: CaptureError or success, nothing else -------------


def _small_pcap() -> bytes:
    line = pcapgen.Timeline()
    line.udp(A, B, pcapgen.request("INVITE", call_id="i@x"))
    line.udp(B, A, pcapgen.response(200, "OK", call_id="i@x"))
    up = pcapgen.TcpFlow(A, 40000, B, 5060)
    line.add(up.syn())
    line.add(up.send(pcapgen.request("BYE", call_id="i@x", cseq=2, transport="TCP")[:90]))
    line.add(up.send(pcapgen.request("BYE", call_id="i@x", cseq=2, transport="TCP")[90:],
                     flags=pcapgen.FIN | pcapgen.PSH | pcapgen.ACK))
    ip = pcapgen.ipv4_fragments(A, B, 17, pcapgen.udp(A, 5060, B, 5060, OPTIONS), 160)
    for piece in ip:
        line.add(piece)
    return line.pcap()


def _small_pcapng_blocks() -> list[tuple[int, bytes, str]]:
    """(block type, body, byte order) of a small pcapng file with two sections."""
    resolution = option(9, b"\x09") + option(14, struct.pack("<q", 10)) + option(0, b"")
    frame_sll2 = pcapgen.sll2(pcapgen.udp_packet(A, 5060, B, 5060, OPTIONS))
    raw_ok = pcapgen.udp_packet(B, 5060, A, 5060, OK)
    blocks = [(shb(), "<"), (idb(options=resolution), "<"), (idb(pcapgen.LINUX_SLL2), "<"),
              (block(4, b"\0" * 4), "<"), (epb(FRAME_OPTIONS, ts=5), "<"),
              (packet_block(frame_sll2, iface=1), "<"), (simple_block(FRAME_OK), "<"),
              (shb(">"), ">"), (idb(pcapgen.RAW, e=">"), ">"), (epb(raw_ok, ts=7, e=">"), ">")]
    return [(struct.unpack_from(e + "I", data)[0], data[8:-4], e) for data, e in blocks]


def _small_pcapng() -> bytes:
    return b"".join(block(btype, body, e) for btype, body, e in _small_pcapng_blocks())


def _every_shortened_block() -> list[bytes]:
    """The small pcapng file with one block's body cut short, both lengths agreeing: every
    block, every shorter length."""
    blocks = _small_pcapng_blocks()
    variants = []
    for index, (btype, body, e) in enumerate(blocks):
        before = b"".join(block(*spec) for spec in blocks[:index])
        after = b"".join(block(*spec) for spec in blocks[index + 1:])
        variants += [before + block(btype, body[:size], e) + after
                     for size in range(0, len(body), 4)]
    return variants


def _every_damage(data: bytes) -> list[bytes]:
    prefixes = [data[:n] for n in range(len(data))]
    flipped = [data[:n] + bytes([data[n] ^ 0xFF]) + data[n + 1:] for n in range(len(data))]
    return prefixes + flipped


@pytest.mark.parametrize("name", ["pcap", "pcapng", "pcapng.gz"])
def test_every_prefix_flipped_byte_and_short_block_gives_messages_or_capture_error(
        tmp_path: Path, name: str) -> None:
    data = _small_pcap() if name == "pcap" else _small_pcapng()
    if name.endswith(".gz"):
        data = pcapgen.gzipped(data)
    assert len(list(read(_file(tmp_path, name, data)))) >= 3  # the intact file reads cleanly
    cases = _every_damage(data) + (_every_shortened_block() if name == "pcapng" else [])
    for case, damaged in enumerate(cases):
        path = _file(tmp_path, name, damaged)
        for attempt in (_read, _summarize, _read_tolerantly):
            try:
                attempt(path)
            except CaptureError:
                pass
            except Exception as exc:  # pragma: no cover - the failure report
                pytest.fail(f"case {case} of {name}: {type(exc).__name__}: {exc}")


def _read(path: Path) -> None:
    list(read(path))


def _summarize(path: Path) -> None:
    summarize(path, calls=True)


def _read_tolerantly(path: Path) -> None:
    list(read(path, on_problem=lambda problem: None))


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / f"damaged.{name}"
    path.write_bytes(data)
    return path


# -- 2. a broken number is a broken message -----------------------------------------------


HUGE = b"1" * 5000


def test_5000_digit_cseq_and_content_length_on_udp_are_broken_messages(
        write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    line = pcapgen.Timeline()
    line.udp(A, B, pcapgen.request("OPTIONS", call_id="a@x"))
    line.udp(A, B, pcapgen.request("OPTIONS", call_id="b@x").replace(b"CSeq: 1",
                                                                     b"CSeq: " + HUGE))
    line.udp(A, B, pcapgen.request("OPTIONS", call_id="c@x").replace(
        b"Content-Length: 0", b"Content-Length: " + HUGE))
    line.udp(A, B, pcapgen.request("OPTIONS", call_id="d@x"))
    path = write(line.pcap())
    heads = [m.head for m in read(path)]
    assert [(h.call_id, h.cseq_seq, h.content_length) for h in heads] == [
        ("a@x", 1, 0), ("b@x", None, 0), ("c@x", 1, None), ("d@x", 1, 0)]
    assert heads[1].problem.startswith("unreadable CSeq '1111")
    assert heads[2].problem.startswith("unreadable Content-Length '1111")
    assert (summarize(path)["messages"], summarize(path)["broken"]) == (4, 2)
    status, out, err = scan(capsys, "--format", "jsonl", str(path))
    records = [json.loads(row) for row in out.splitlines()]
    assert status == 1 and "2 broken SIP message(s)" in err and "Traceback" not in err
    assert [bool(r["error"]) for r in records] == [False, True, True, False]


def test_5000_digit_content_length_on_tcp_frames_as_an_absurd_length(
        write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    huge = pcapgen.request("OPTIONS", call_id="u@x", transport="TCP").replace(
        b"Content-Length: 0", b"Content-Length: " + HUGE)
    end = huge.index(b"\r\n\r\n") + 4
    assert message_length(huge, 0, end) == (end + ABSURD_LENGTH, True)
    assert message_length(b"x\r\nl: 000000000000000000000000007\r\n\r\n", 0, 36) == (43, True)
    line = pcapgen.Timeline()
    up = pcapgen.TcpFlow(A, 40000, B, 5060)
    other = pcapgen.TcpFlow(A, 40001, B, 5060)
    line.add(up.syn())
    line.add(other.syn())
    line.add(up.send(pcapgen.request("INVITE", call_id="t@x", transport="TCP")))
    line.add(up.send(huge))
    line.add(other.send(pcapgen.request("OPTIONS", call_id="v@x", transport="TCP")))
    line.add(up.send(b"more body", flags=pcapgen.FIN | pcapgen.ACK))
    line.udp(A, B, pcapgen.request("OPTIONS", call_id="w@x"))
    path = write(line.pcap())
    got = [(m.frame, m.head.call_id, m.error is not None) for m in read(path)]
    assert got == [(3, "t@x", False), (5, "v@x", False), (6, "u@x", True), (7, "w@x", False)]
    status, out, err = scan(capsys, "--format", "json", str(path))
    assert status == 1 and json.loads(out)["messages"] == 4 and "Traceback" not in err


def test_head_numbers_with_leading_zeros_and_at_the_digit_limit() -> None:
    def head(cseq: bytes) -> int | None:
        found = scan_head(b"OPTIONS sip:b@x SIP/2.0\r\nCall-ID: a\r\nCSeq: " + cseq
                          + b" OPTIONS\r\n\r\n")
        assert found is not None
        return found.cseq_seq
    assert head(b"0" * 5000 + b"42") == 42
    assert head(b"9" * 18) == 10**18 - 1
    assert head(b"1" + b"0" * 18) is None


# -- 3. gzip damage is named, after the messages before it --------------------------------------


def _gzipped_messages(count: int) -> tuple[bytes, bytes]:
    line = pcapgen.Timeline()
    for n in range(count):
        line.udp(A, B, pcapgen.request("OPTIONS", call_id=f"g{n}@x", branch=f"z9hG4bK-{n}"))
    plain = line.pcap()
    return plain, pcapgen.gzipped(plain)


def _record_offsets(plain: bytes) -> list[int]:
    offsets, at = [], 24
    while at < len(plain):
        offsets.append(at)
        at += 16 + struct.unpack_from("<I", plain, at + 8)[0]
    return offsets


def test_a_truncated_gzip_yields_the_messages_before_and_says_so(write: Write) -> None:
    plain, zipped = _gzipped_messages(200)
    seen: list[int] = []
    with pytest.raises(CaptureError) as caught:
        for m in read(write(zipped[:len(zipped) // 2], ".pcap.gz")):
            seen.append(m.frame)
    error = caught.value
    assert error.reason.startswith("gzip stream ends early")
    assert "byte offsets count decompressed bytes" in error.reason
    assert len(seen) > 50 and seen == list(range(1, len(seen) + 1))
    assert (error.frame, error.offset) == (len(seen) + 1, _record_offsets(plain)[len(seen)])


def test_corrupt_gzip_data_yields_the_messages_before_and_says_so(write: Write) -> None:
    plain, zipped = _gzipped_messages(200)
    bad_check = zipped[:-8] + bytes(4) + zipped[-4:]  # the CRC-32 of the data
    seen = []
    with pytest.raises(CaptureError) as caught:
        seen.extend(read(write(bad_check, ".pcap.gz")))
    assert len(seen) == 200  # everything was decompressed before the check failed
    assert caught.value.reason.startswith("gzip data is corrupt: ")
    assert "incorrect data check" in caught.value.reason
    assert (caught.value.frame, caught.value.offset) == (201, len(plain))
    middle = len(zipped) // 2
    garbled = zipped[:middle] + b"\xff" * 64 + zipped[middle + 64:]
    seen.clear()
    with pytest.raises(CaptureError, match="gzip data is corrupt") as caught:
        seen.extend(read(write(garbled, ".pcap.gz"), on_problem=lambda problem: None))
    assert len(seen) > 50


def test_a_gzip_header_that_is_not_gzip(write: Write) -> None:
    _plain, zipped = _gzipped_messages(3)
    with pytest.raises(CaptureError, match=r"gzip data is corrupt.*no capture data") as caught:
        list(read(write(zipped[:2] + b"\x09" + zipped[3:], ".pcap.gz")))
    assert (caught.value.frame, caught.value.offset) == (0, 0)


def test_gzip_members_and_padding_are_one_stream(write: Write) -> None:
    plain, _zipped = _gzipped_messages(5)
    cut = _record_offsets(plain)[2]
    joined = pcapgen.gzipped(plain[:cut]) + b"\0" * 16 + pcapgen.gzipped(plain[cut:])
    assert [m.frame for m in read(write(joined, ".pcap.gz"))] == [1, 2, 3, 4, 5]


def test_scan_reports_a_gzip_error_with_the_counts_before_it(
        write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    _plain, zipped = _gzipped_messages(200)
    status, out, err = scan(capsys, "--format", "json", str(write(zipped[:-20], ".pcap.gz")))
    document = json.loads(out)
    assert status == 1 and document["messages"] > 150
    assert "gzip stream ends early" in document["capture_error"] and "gzip" in err


# -- 4. a link type that is not read is a warning naming it, and exit 1 --------------------------


def test_an_unknown_link_type_is_a_warning_and_exit_1(
        write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(write(pcap_header(linktype=147) + pcap_record(FRAME_OPTIONS)))
    status, out, err = scan(capsys, path)
    assert status == 1
    assert "warning: " in err and "link type 147 (USER0) is not one sipstatus reads" in err
    assert "SIP messages: 0" in out and "link type 147 (USER0)" in out
    status, out, err = scan(capsys, "--format", "json", path)
    [warning] = json.loads(out)["warnings"]
    assert status == 1 and "link type 147 (USER0)" in warning
    assert warning.endswith("at frame 1, byte offset 20")
    path = str(write(pcap_header(linktype=4000) + pcap_record(FRAME_OPTIONS)))
    status, _out, err = scan(capsys, path)
    assert status == 1 and "link type 4000 is not one" in err


def test_an_unknown_link_type_among_pcapng_interfaces(write: Write) -> None:
    head = shb() + idb() + idb(105)
    data = (head + epb(FRAME_OPTIONS, iface=1) + epb(FRAME_OPTIONS)
            + epb(FRAME_OK, iface=1) + epb(FRAME_OK))
    seen, problems = tolerant(write(data, ".pcapng"))
    assert seen == [(2, "OPTIONS"), (4, "200")]
    assert [(p.frame, p.offset) for p in problems] == [(1, len(shb() + idb()) + 8)]
    assert "link type 105 (IEEE 802.11)" in problems[0].reason
    [warning] = summarize(write(data, ".pcapng"))["warnings"]
    assert warning.endswith(f"{problems[0].reason} at frame 1, byte offset 56")


def test_scan_help_documents_the_exit_statuses(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["scan", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "Exit status: 0 fine; 1 a capture damaged" in help_text
    assert "link types not read" in help_text and "2 usage" in help_text


# -- 5. records and interfaces are bounded --------------------------------------------------


def test_a_record_longer_than_the_snapshot_length_is_skipped(write: Write) -> None:
    record = pcap_record(b"\0" * 300_000)
    data = pcap_header(snaplen=65535) + pcap_record(FRAME_OPTIONS) + record
    seen, problems = tolerant(write(data + pcap_record(FRAME_OK)))
    assert seen == [(1, "OPTIONS"), (3, "200")]
    assert [(p.reason, p.frame, p.offset) for p in problems] == [
        ("impossible record length 300000 (snapshot length 65535): record skipped", 2,
         24 + len(pcap_record(FRAME_OPTIONS)))]
    small = pcap_header(snaplen=100) + pcap_record(FRAME_OPTIONS)  # within 256 KiB: read
    assert tolerant(write(small)) == ([(1, "OPTIONS")], [])


def test_a_record_over_the_budget_is_skipped_and_counted(write: Write) -> None:
    data = (pcap_header() + pcap_record(FRAME_OPTIONS) + pcap_record(b"\0" * 5000)
            + pcap_record(FRAME_OK))
    path = write(data)
    seen, problems = tolerant(path, max_record=4096)
    assert seen == [(1, "OPTIONS"), (3, "200")]
    assert [(p.frame, p.reason) for p in problems] == [
        (2, "record of 5000 bytes is longer than the record budget of 4096 bytes: "
            "skipped unread")]
    result = summarize(path, max_record=4096)
    assert (result["messages"], result["evicted"], result["damaged_records"]) == (
        2, NOTHING_EVICTED | {"records": 1}, 0)
    assert summarize(path)["evicted"]["records"] == 0


def test_pcapng_blocks_over_the_budget_are_skipped_unread(write: Write) -> None:
    options = option(14, struct.pack("<q", 100)) + option(1, b"c" * 6000)
    data = (shb() + idb(options=options) + epb(FRAME_OPTIONS, ts=1_000_000)
            + epb(b"\0" * 6000) + block(0x0BAD, b"x" * 6000) + epb(FRAME_OK, ts=2_000_000))
    seen, problems = tolerant(write(data, ".pcapng"), max_record=1000)
    assert [(m.frame, m.time) for m in read(write(data, ".pcapng"),
                                            on_problem=lambda problem: None,
                                            max_record=1000)] == [(1, 1.0), (3, 2.0)]
    assert seen == [(1, "OPTIONS"), (3, "200")]
    assert [p.frame for p in problems] == [1, 2]
    assert problems[0].reason.startswith("interface description block of 6036 bytes is longer "
                                         "than the record budget")
    assert problems[1].reason.startswith("record of 6032 bytes is longer than the record budget")
    wrong_trailer = data[:-len(epb(FRAME_OK))] + block(6, b"\0" * 6000)[:-4] + b"\0\0\0\0"
    with pytest.raises(CaptureError, match="disagrees with its trailing copy"):
        tolerant(write(wrong_trailer, ".pcapng"), max_record=1000)
    big_packet_at = len(shb() + idb(options=options) + epb(FRAME_OPTIONS, ts=1_000_000))
    with pytest.raises(CaptureError, match="ends in the middle of a block") as caught:
        tolerant(write(data[:big_packet_at + 3000], ".pcapng"), max_record=1000)
    assert (caught.value.frame, caught.value.offset) == (2, big_packet_at)


def test_interfaces_beyond_the_number_kept(write: Write) -> None:
    count = MAX_INTERFACES + 2
    data = (shb() + idb() * count + epb(FRAME_OPTIONS) + epb(FRAME_OK, iface=count - 1)
            + epb(FRAME_OK, iface=count) + epb(FRAME_OK, iface=1))
    path = write(data, ".pcapng")
    seen, problems = tolerant(path)
    assert seen == [(1, "OPTIONS"), (4, "200")]
    assert [(p.frame, p.reason) for p in problems] == [
        (1, f"more than {MAX_INTERFACES:,} interfaces in one section: later ones are not "
            f"kept and their packets are skipped"),
        (3, f"packet on undeclared interface {count}")]
    result = summarize(path)
    assert result["evicted"] == NOTHING_EVICTED | {"records": 1, "interfaces": 2}
    assert result["damaged_records"] == 1


def test_a_300_mib_record_is_skipped_in_bounded_memory(tmp_path: Path) -> None:
    size = 300 * MiB
    path = tmp_path / "huge-record.pcap.gz"
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(pcap_header(snaplen=0xFFFFFFFF) + pcap_record(FRAME_OPTIONS, sec=1))
        out.write(struct.pack("<IIII", 2, 0, size, size))
        zeros = bytes(MiB)
        for _ in range(size // MiB):
            out.write(zeros)
        out.write(pcap_record(FRAME_OK, sec=3))
    assert path.stat().st_size < 2 * MiB
    peak, done = child_peak_rss_mib("scan", "--format", "json", str(path))
    document = json.loads(done.stdout)
    assert (done.returncode, document["messages"], document["evicted"]["records"]) == (1, 2, 1)
    assert "record of 314572800 bytes is longer than the record budget" in done.stderr
    assert peak < 64, f"peak RSS {peak:.0f} MiB"


def test_a_million_interface_descriptions_in_bounded_memory(tmp_path: Path) -> None:
    count = 1_000_000
    path = tmp_path / "interfaces.pcapng.gz"
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(shb())
        for _ in range(count // 10_000):
            out.write(idb() * 10_000)
        out.write(epb(FRAME_OPTIONS) + epb(FRAME_OK, iface=count - 1))
    peak, done = child_peak_rss_mib("scan", "--format", "json", str(path))
    document = json.loads(done.stdout)
    assert (done.returncode, document["messages"]) == (1, 1)
    assert document["evicted"] == NOTHING_EVICTED | {"records": 1,
                                                     "interfaces": count - MAX_INTERFACES}
    assert "interfaces in one section" in done.stderr
    assert peak < 64, f"peak RSS {peak:.0f} MiB"
