"""Damaged capture files and frames that carry no SIP, through ``sipstatus.capture.read``: a
damaged file raises CaptureError naming the frame and byte offset, after everything before
the damage was yielded; a frame that is not IP (or too short for its link layer) is skipped."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pcapgen
import pytest

from sipstatus.capture import CaptureError, read

Write = Callable[..., Path]
A, B = "192.0.2.10", "192.0.2.20"
OPTIONS = pcapgen.request("OPTIONS", call_id="o@x")
OK = pcapgen.response(200, "OK", call_id="o@x", method="OPTIONS")
IP_OPTIONS = pcapgen.udp_packet(A, 5060, B, 5060, OPTIONS)
IP_OK = pcapgen.udp_packet(B, 5060, A, 5060, OK)


def block(btype: int, body: bytes, e: str = "<") -> bytes:
    body += b"\0" * (-len(body) % 4)
    return struct.pack(e + "II", btype, 12 + len(body)) + body + struct.pack(e + "I",
                                                                             12 + len(body))


def shb(e: str = "<") -> bytes:
    return block(0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1), e)


def idb(linktype: int = pcapgen.ETHERNET, options: bytes = b"", e: str = "<") -> bytes:
    return block(1, struct.pack(e + "HHI", linktype, 0, 262144) + options, e)


def epb(data: bytes, *, iface: int = 0, ts: int = 0, caplen: int | None = None,
        e: str = "<") -> bytes:
    size = len(data) if caplen is None else caplen
    return block(6, struct.pack(e + "IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, size,
                                len(data)) + data, e)


def frames(path: Path) -> list[tuple[int, str]]:
    return [(m.frame, m.head.method or str(m.head.status_code)) for m in read(path)]


def damage(path: Path) -> tuple[list[tuple[int, str]], CaptureError]:
    seen: list[tuple[int, str]] = []
    with pytest.raises(CaptureError) as caught:
        for m in read(path):
            seen.append((m.frame, m.head.method or str(m.head.status_code)))
    return seen, caught.value


# -- damaged files ----------------------------------------------------------------------------


def test_a_cut_pcap_file_header(write: Write) -> None:
    line = pcapgen.Timeline()
    line.add(IP_OPTIONS)
    seen, error = damage(write(line.pcap()[:10]))
    assert seen == []
    assert (error.reason, error.frame, error.offset) == (
        "capture ends in the middle of the pcap file header", 0, 0)


def test_an_unknown_pcapng_byte_order_magic(write: Write) -> None:
    data = bytearray(shb() + idb() + epb(pcapgen.ethernet(IP_OPTIONS)))
    data[8:12] = b"ABCD"
    seen, error = damage(write(bytes(data), ".pcapng"))
    assert seen == []
    assert (error.reason, error.frame, error.offset) == (
        "section header with an unknown byte-order magic", 1, 0)


def test_pcapng_cut_inside_a_block_and_inside_a_block_header(write: Write) -> None:
    head = shb() + idb()
    first, second = epb(pcapgen.ethernet(IP_OPTIONS)), epb(pcapgen.ethernet(IP_OK))
    seen, error = damage(write(head + first + second[:-5], ".pcapng"))
    assert seen == [(1, "OPTIONS")]
    assert (error.reason, error.frame, error.offset) == (
        "capture ends in the middle of a block", 2, len(head + first))
    seen, error = damage(write(head + first + second + b"\x06\0\0\0", ".pcapng"))
    assert seen == [(1, "OPTIONS"), (2, "200")]
    assert (error.reason, error.frame, error.offset) == (
        "capture ends in the middle of a block header", 3, len(head + first + second))


def test_a_packet_longer_than_its_block(write: Write) -> None:
    head = shb() + idb()
    good = epb(pcapgen.ethernet(IP_OPTIONS))
    seen, error = damage(write(head + good + epb(b"\0" * 16, caplen=4000), ".pcapng"))
    assert seen == [(1, "OPTIONS")]
    assert (error.reason, error.frame, error.offset) == (
        "packet length 4000 exceeds its block", 2, len(head + good))


def test_a_packet_on_an_undeclared_interface(write: Write) -> None:
    head = shb() + idb()
    seen, error = damage(write(head + epb(pcapgen.ethernet(IP_OPTIONS), iface=1), ".pcapng"))
    assert seen == []
    assert (error.reason, error.frame, error.offset) == (
        "packet on undeclared interface 1", 1, len(head))
    simple = block(3, struct.pack("<I", 4) + b"abcd")
    seen, error = damage(write(shb() + simple, ".pcapng"))
    assert (error.reason, error.frame) == ("packet on undeclared interface 0", 1)
    assert str(error).endswith("packet on undeclared interface 0 at frame 1, byte offset 28")


# -- pcapng variants --------------------------------------------------------------------------


def test_obsolete_packet_blocks_and_the_timestamp_offset(write: Write) -> None:
    # if_tsoffset (option 14) adds whole seconds to every timestamp of the interface; the
    # obsolete Packet Block (type 2) carries a 16-bit interface id and a drops count.
    offset = struct.pack("<HHq", 14, 8, 1_000) + struct.pack("<HH", 0, 0)
    data = pcapgen.ethernet(IP_OPTIONS)
    ts = 5_000_000  # microseconds
    packet = block(2, struct.pack("<HHIII", 0, 0, ts >> 32, ts & 0xFFFFFFFF, len(data))
                   + struct.pack("<I", len(data)) + data)
    [message] = read(write(shb() + idb(options=offset) + packet, ".pcapng"))
    assert (message.frame, message.head.method, message.time) == (1, "OPTIONS", 1_005.0)


def test_a_big_endian_pcapng_file(write: Write) -> None:
    data = (shb(">") + idb(e=">") + epb(pcapgen.ethernet(IP_OPTIONS), ts=2_000_000, e=">")
            + epb(pcapgen.ethernet(IP_OK), ts=2_500_000, e=">"))
    messages = list(read(write(data, ".pcapng")))
    assert [(m.frame, m.time, m.src, m.dst) for m in messages] == [
        (1, 2.0, A, B), (2, 2.5, B, A)]


# -- frames that are not SIP over IP ----------------------------------------------------------


@pytest.mark.parametrize(("linktype", "frame"), [
    (pcapgen.ETHERNET, b"\0" * 13),  # shorter than an Ethernet header
    (pcapgen.ETHERNET, b"\0" * 12 + b"\x08\x06" + IP_OPTIONS),  # ARP, whatever follows
    (pcapgen.LINUX_SLL, b"\0" * 15),
    (pcapgen.LINUX_SLL2, b"\0" * 19),
    (pcapgen.NULL, b"\2\0"),
    (pcapgen.NULL, b"\7\0\0\0" + IP_OPTIONS),  # an address family that is not IP
    (pcapgen.RAW, b"\x50" + IP_OPTIONS[1:]),  # IP version 5
    (pcapgen.RAW, b""),
    (147, IP_OPTIONS),  # a link type sipstatus does not read (USER0)
])
def test_frames_without_ip_are_skipped(write: Write, linktype: int, frame: bytes) -> None:
    line = pcapgen.Timeline(linktype=linktype)
    line.add(IP_OPTIONS)
    line.frames.append(pcapgen.Frame(line.now + 1000, frame, linktype))
    line.add(IP_OK)
    path = write(pcapgen.pcap(line.frames, linktype=linktype))
    if linktype == 147:  # a link type not read: skipped, and named in a problem
        problems: list[CaptureError] = []
        assert list(read(path, on_problem=problems.append)) == []
        assert [(p.frame, p.offset) for p in problems] == [(1, 20)]
        assert "link type 147 (USER0)" in problems[0].reason
        return
    assert frames(path) == [(1, "OPTIONS"), (3, "200")]


def test_ipv6_in_bsd_loopback_frames(write: Write) -> None:
    ip = pcapgen.ipv6("2001:db8::1", "2001:db8::2", 17,
                      pcapgen.udp("2001:db8::1", 5060, "2001:db8::2", 5060, OPTIONS))
    for family in (24, 28, 30):  # NetBSD/OpenBSD, FreeBSD, macOS
        line = pcapgen.Timeline(linktype=pcapgen.NULL)
        line.frames.append(pcapgen.Frame(line.now, struct.pack("<I", family) + ip,
                                         pcapgen.NULL))
        [message] = read(write(pcapgen.pcap(line.frames, linktype=pcapgen.NULL)))
        assert (message.src, message.dst, message.head.method) == (
            "2001:db8::1", "2001:db8::2", "OPTIONS")
