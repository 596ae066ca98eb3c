"""Capture file formats (pcap, pcapng, gzip) and damaged captures."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pcapgen
import pytest

from sipstatus.capture import CaptureError, read
from sipstatus.capture._pcap import CaptureFile

Write = Callable[..., Path]
A, B = "192.0.2.10", "192.0.2.20"


def _timeline(count: int = 3) -> pcapgen.Timeline:
    line = pcapgen.Timeline(start_ns=1_700_000_000_123_456_789)
    for i in range(count):
        line.udp(A, B, pcapgen.request("OPTIONS", call_id=f"c{i}@x", branch=f"z9hG4bK-{i}"),
                 after_ms=1000)
    return line


@pytest.mark.parametrize("big_endian", [False, True])
@pytest.mark.parametrize("nanosecond", [False, True])
def test_pcap_byte_orders_and_resolutions(write: Write, big_endian: bool,
                                          nanosecond: bool) -> None:
    line = _timeline()
    path = write(line.pcap(big_endian=big_endian, nanosecond=nanosecond))
    got = list(read(path))
    assert [m.frame for m in got] == [1, 2, 3]
    assert [m.head.call_id for m in got] == ["c0@x", "c1@x", "c2@x"]
    expected = line.frames[0].time_ns / 1e9 if nanosecond else 1_700_000_001.123456
    assert got[0].time == pytest.approx(expected, abs=1e-6)
    records = list(CaptureFile(path))
    assert records[0][2] == (123_456_789 if nanosecond else 123_456_000)


@pytest.mark.parametrize("tsresol, nanos", [(None, 123_456_000), (9, 123_456_789),
                                            (3, 123_000_000), (0x80 | 20, 123_456_001)])
def test_pcapng_timestamp_resolutions(write: Write, tsresol: int | None, nanos: int) -> None:
    line = _timeline(1)
    path = write(pcapgen.pcapng(line.frames, tsresol=tsresol), ".pcapng")
    (_frame, sec, nsec, _lt, _data), = CaptureFile(path)
    assert sec == 1_700_000_001
    assert abs(nsec - nanos) <= 1  # 2^-20 ticks round down by less than a microsecond


def test_pcapng_several_interfaces_and_link_types_big_endian(write: Write) -> None:
    frames = []
    ip = pcapgen.udp_packet(A, 5060, B, 5060, pcapgen.request("OPTIONS"))
    for index, linktype in enumerate((pcapgen.ETHERNET, pcapgen.LINUX_SLL2, pcapgen.RAW)):
        frames.append(pcapgen.Frame(1_700_000_000_000_000_000 + index,
                                    pcapgen.link(linktype, ip), linktype, index))
    data = pcapgen.pcapng(frames, interfaces=(pcapgen.ETHERNET, pcapgen.LINUX_SLL2,
                                              pcapgen.RAW), big_endian=True)
    got = list(read(write(data, ".pcapng")))
    assert [(m.frame, m.src, m.dst) for m in got] == [(1, A, B), (2, A, B), (3, A, B)]


def test_pcapng_simple_packet_blocks(write: Write) -> None:
    got = list(read(write(pcapgen.pcapng(_timeline(2).frames, simple=True), ".pcapng")))
    assert [(m.frame, m.time) for m in got] == [(1, 0.0), (2, 0.0)]


def test_gzip_is_recognised_by_content(write: Write) -> None:
    line = _timeline()
    plain = list(read(write(line.pcap())))
    zipped = list(read(write(pcapgen.gzipped(line.pcap()), ".anything")))
    assert [(m.frame, m.data) for m in zipped] == [(m.frame, m.data) for m in plain]
    ng = list(read(write(pcapgen.gzipped(pcapgen.pcapng(line.frames)), ".pcapng.gz")))
    assert len(ng) == 3


def test_truncated_mid_packet_reports_what_came_before(write: Write) -> None:
    data = _timeline().pcap()
    path = write(data[:-10])
    got = []
    with pytest.raises(CaptureError) as caught:
        got.extend(read(path))
    assert [m.frame for m in got] == [1, 2]
    err = caught.value
    third_header = len(data) - (len(_timeline().frames[2].data) + 16)
    assert (err.frame, err.offset) == (3, third_header)
    assert "frame 3" in str(err) and f"byte offset {third_header}" in str(err)
    assert "middle of a packet" in err.reason


def test_truncated_record_header(write: Write) -> None:
    data = _timeline(1).pcap()
    with pytest.raises(CaptureError, match="middle of a record header") as caught:
        list(read(write(data + b"\0" * 7)))
    assert caught.value.frame == 2


def test_impossible_record_length_is_damage(write: Write) -> None:
    data = _timeline(1).pcap() + struct.pack("<IIII", 1, 0, 10_000_000, 10_000_000) + b"x" * 64
    got = []
    with pytest.raises(CaptureError, match="impossible record length"):
        got.extend(read(write(data)))
    assert len(got) == 1


def test_pcapng_garbage_block(write: Write) -> None:
    good = pcapgen.pcapng(_timeline(2).frames)
    got = []
    with pytest.raises(CaptureError) as caught:
        got.extend(read(write(good + b"\x06\0\0\0GARBAGE-GARBAGE-GARBAGE!", ".pcapng")))
    assert len(got) == 2
    assert caught.value.frame == 3 and caught.value.offset == len(good)


def test_pcapng_block_with_wrong_trailer(write: Write) -> None:
    good = pcapgen.pcapng(_timeline(1).frames)
    bad = bytearray(pcapgen.pcapng(_timeline(2).frames))
    bad[-4:] = struct.pack("<I", 12)
    with pytest.raises(CaptureError, match="disagrees with its trailing copy") as caught:
        list(read(write(bytes(bad), ".pcapng")))
    assert caught.value.offset == len(good)


def test_unknown_pcapng_blocks_are_skipped(write: Write) -> None:
    data = pcapgen.pcapng(_timeline(1).frames)
    custom = struct.pack("<II", 0x0BAD, 16) + b"abcd" + struct.pack("<I", 16)
    assert len(list(read(write(data + custom, ".pcapng")))) == 1


def test_truncated_gzip(write: Write) -> None:
    zipped = pcapgen.gzipped(_timeline(50).pcap())
    with pytest.raises(CaptureError, match="gzip"):
        list(read(write(zipped[: len(zipped) // 2])))


@pytest.mark.parametrize("data, message", [
    (b"", "empty or too short"),
    (b"not a capture at all", "not a pcap or pcapng file"),
])
def test_not_a_capture(write: Write, data: bytes, message: str) -> None:
    with pytest.raises(CaptureError, match=message) as caught:
        list(read(write(data)))
    assert caught.value.frame == 0


def test_capture_error_survives_pickling() -> None:
    import pickle

    err = CaptureError("bad", frame=3, offset=40, path="x.pcap")
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.frame, copy.offset, copy.path, str(copy)) == (3, 40, "x.pcap", str(err))
