"""Link layers, IPv4/IPv6 (extension headers, fragments), UDP, SIP recognition, --port."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pcapgen
import pytest

from sipstatus.capture import read
from sipstatus.capture._ip import Defragmenter, transport

Write = Callable[..., Path]
A, B = "192.0.2.10", "192.0.2.20"
A6, B6 = "2001:db8::10", "2001:db8::20"
OPTIONS = pcapgen.request("OPTIONS", call_id="opt@x")


_GENERAL = (pcapgen.ETHERNET, pcapgen.LINUX_SLL, pcapgen.LINUX_SLL2, pcapgen.NULL,
            pcapgen.LOOP, pcapgen.RAW)
# 228 is raw IPv4 only, 229 raw IPv6 only.
_CASES = [(lt, A, B) for lt in (*_GENERAL, 228)] + [(lt, A6, B6) for lt in (*_GENERAL, 229)]


@pytest.mark.parametrize("linktype, src, dst", _CASES)
def test_link_types(write: Write, linktype: int, src: str, dst: str) -> None:
    line = pcapgen.Timeline(linktype=linktype)
    line.add(pcapgen.udp_packet(src, 40000, dst, 5060, OPTIONS))
    (message,) = read(write(line.pcap()))
    assert (message.src, message.sport, message.dst, message.dport, message.transport) == (
        src, 40000, dst, 5060, "udp")
    assert message.data == OPTIONS


@pytest.mark.parametrize("vlans", [(10,), (10, 20)])
def test_vlan_tags(write: Write, vlans: tuple[int, ...]) -> None:
    line = pcapgen.Timeline()
    line.add(pcapgen.udp_packet(A, 5060, B, 5060, OPTIONS), vlans=vlans)
    assert [m.head.call_id for m in read(write(line.pcap()))] == ["opt@x"]


def test_null_header_in_either_byte_order(write: Write) -> None:
    ip = pcapgen.udp_packet(A6, 5060, B6, 5060, OPTIONS)
    frames = [pcapgen.Frame(1, pcapgen.null(ip), pcapgen.NULL),
              pcapgen.Frame(2, pcapgen.null(ip, big_endian=True), pcapgen.NULL)]
    assert len(list(read(write(pcapgen.pcap(frames, linktype=pcapgen.NULL))))) == 2


def test_non_ip_and_non_sip_traffic_is_skipped(write: Write) -> None:
    line = pcapgen.Timeline()
    line.frames.append(pcapgen.Frame(1, b"\xff" * 12 + b"\x08\x06" + b"\0" * 28))  # ARP
    line.add(pcapgen.udp_packet(A, 53, B, 53, b"\x12\x34 not sip"))
    line.add(pcapgen.udp_packet(A, 5060, B, 5060, b"\r\n\r\n"))  # keep-alive
    line.add(pcapgen.udp_packet(A, 5060, B, 5060, b"OPTIONS sip:x SIP/3.0\r\n\r\n"))
    line.add(pcapgen.udp_packet(A, 5060, B, 5060, b"sip/2.0 200 OK\r\n\r\n"))
    line.add(pcapgen.udp_packet(A, 5060, B, 5060, OPTIONS))
    assert [m.frame for m in read(write(line.pcap()))] == [6]


def test_sip_on_any_port_and_port_filter(write: Write) -> None:
    line = pcapgen.Timeline()
    line.add(pcapgen.udp_packet(A, 40000, B, 5080, pcapgen.request("OPTIONS", call_id="a")))
    line.add(pcapgen.udp_packet(A, 5060, B, 5060, pcapgen.request("OPTIONS", call_id="b")))
    path = write(line.pcap())
    assert [m.head.call_id for m in read(path)] == ["a", "b"]
    assert [m.head.call_id for m in read(path, port=5080)] == ["a"]
    assert [m.head.call_id for m in read(path, port=40000)] == ["a"]


def test_ipv6_extension_headers(write: Write) -> None:
    segment = pcapgen.udp(A6, 5060, B6, 5060, OPTIONS)
    ip = pcapgen.ipv6(A6, B6, 0, pcapgen.hop_by_hop(17) + segment)
    line = pcapgen.Timeline()
    line.add(ip)
    assert [m.data for m in read(write(line.pcap()))] == [OPTIONS]


BIG = pcapgen.request("MESSAGE", call_id="big@x", body=b"0123456789abcdef" * 200)


@pytest.mark.parametrize("order", ["in order", "reversed", "duplicated"])
def test_ipv4_fragments(write: Write, order: str) -> None:
    pieces = pcapgen.ipv4_fragments(A, B, 17, pcapgen.udp(A, 5060, B, 5060, BIG), 1480)
    assert len(pieces) == 3
    if order == "reversed":
        pieces.reverse()
    elif order == "duplicated":
        pieces = [pieces[0], pieces[0], pieces[1], pieces[2]]
    line = pcapgen.Timeline()
    for piece in pieces:
        line.add(piece)
    (message,) = read(write(line.pcap()))
    assert message.data == BIG
    assert message.frame == len(pieces)  # reported in the frame that completes it


def test_ipv6_fragments(write: Write) -> None:
    pieces = pcapgen.ipv6_fragments(A6, B6, 17, pcapgen.udp(A6, 5060, B6, 5060, BIG), 1232)
    line = pcapgen.Timeline(linktype=pcapgen.LINUX_SLL)
    for piece in (pieces[1], pieces[0], *pieces[2:]):
        line.add(piece)
    (message,) = read(write(line.pcap()))
    assert (message.data, message.src, message.frame) == (BIG, A6, len(pieces))


def test_missing_fragment_yields_nothing(write: Write) -> None:
    pieces = pcapgen.ipv4_fragments(A, B, 17, pcapgen.udp(A, 5060, B, 5060, BIG), 1480)
    line = pcapgen.Timeline()
    line.add(pieces[0])
    line.add(pieces[2])
    line.add(pcapgen.udp_packet(A, 5060, B, 5060, OPTIONS))
    assert [m.frame for m in read(write(line.pcap()))] == [3]


def test_overlapping_fragment_keeps_first_copy() -> None:
    defrag = Defragmenter()
    assert defrag.add(("k",), 0, True, b"AAAAAAAA", 0) is None
    assert defrag.add(("k",), 0, True, b"BBBBBBBBBBBBBBBB", 0) is None
    assert defrag.add(("k",), 16, False, b"CCCC", 0) == (b"AAAAAAAABBBBBBBBCCCC", -1)
    assert len(defrag) == 0


def test_defragmenter_is_bounded() -> None:
    defrag = Defragmenter(max_pending=4, timeout=60)
    for ident in range(10):
        defrag.add((ident,), 0, True, b"x" * 8, 0)
    assert len(defrag) <= 4 and defrag.dropped == 6
    defrag.add(("late",), 0, True, b"x" * 8, 1000)  # everything else is now too old
    assert len(defrag) == 1


def test_truncated_ip_packets_are_ignored() -> None:
    assert transport(4, b"\x45" + b"\0" * 10, 0, Defragmenter(), 0) is None
    assert transport(6, b"\x60" + b"\0" * 20, 0, Defragmenter(), 0) is None
