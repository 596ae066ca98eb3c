"""Captures whose per-file state (IP fragments, TCP streams, tshark's resend ledger) is open
almost everywhere, for the tests of one capture mapped in pieces; and the tasks a build
made."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pcapgen
import pytest

A, B = "192.0.2.10", "192.0.2.20"
A6, B6 = "2001:db8::10", "2001:db8::20"
#: A link type sipstatus does not read (USER0): every piece meets frames of it.
UNREAD = 147

# frame spans (first, last) of state left open between two packets, by kind
Spans = dict[str, list[tuple[int, int]]]


def mixed_traffic(rounds: int) -> tuple[list[tuple[int, bytes]], Spans]:
    """IP packets (capture time in ns, packet) and the spans of open state. Each round: a UDP
    call whose INVITE is resent after other packets (tshark's resend flag), answered and
    ACKed (its setup time); an OPTIONS over TCP cut into three segments (the last two out
    of order in odd rounds; the first one resent) and answered in one; a MESSAGE too large
    for one datagram, in IPv4 fragments (IPv6 ones every third round): all interleaved."""
    up = pcapgen.TcpFlow(A, 40000, B, 5060)
    down = pcapgen.TcpFlow(B, 5060, A, 40000, isn=5000)
    now = 1_700_000_000_000_000_000
    packets: list[tuple[int, bytes]] = []
    spans: Spans = {"fragments": [], "tcp": [], "resend": []}

    def add(ip: bytes, after_ms: float = 1.0) -> int:
        nonlocal now
        now += int(after_ms * 1_000_000)
        packets.append((now, ip))
        return len(packets)

    add(up.syn())
    add(down.syn())
    for i in range(rounds):
        call = {"call_id": f"call-{i}@192.0.2.10", "branch": f"z9hG4bK-i{i}"}
        invite = pcapgen.request("INVITE", body=b"v=0\r\n" * 20, **call)
        options = pcapgen.request("OPTIONS", call_id=f"tcp-{i}@192.0.2.10",
                                  branch=f"z9hG4bK-t{i}", transport="TCP")
        cuts = (0, len(options) // 3, 2 * len(options) // 3, len(options))
        segments = [up.at(up.seq + cuts[k], options[cuts[k]:cuts[k + 1]]) for k in range(3)]
        up.seq += len(options)
        if i % 2:
            segments[1], segments[2] = segments[2], segments[1]
        big = pcapgen.request("MESSAGE", call_id=f"frag-{i}@192.0.2.10",
                              branch=f"z9hG4bK-m{i}", body=b"x" * 2500)
        src, dst = (A6, B6) if i % 3 == 0 else (A, B)
        cut = pcapgen.ipv6_fragments if i % 3 == 0 else pcapgen.ipv4_fragments
        fragments = cut(src, dst, 17, pcapgen.udp(src, 5060, dst, 5060, big), 1000,
                        ident=100 + i)
        first_invite = add(pcapgen.udp_packet(A, 5060, B, 5060, invite), 5)
        first_segment = add(segments[0])
        first_fragment = add(fragments[0])
        add(pcapgen.udp_packet(B, 5060, A, 5060, pcapgen.response(
            100, "Trying", to_tag="", **call)))
        add(segments[1])
        add(fragments[1])
        resent = add(pcapgen.udp_packet(A, 5060, B, 5060, invite), 500)
        last_segment = add(segments[2])
        add(segments[0])  # a TCP retransmission
        last_fragment = first_fragment
        for fragment in fragments[2:]:
            last_fragment = add(fragment)
        add(pcapgen.udp_packet(B, 5060, A, 5060, pcapgen.response(200, "OK", **call)), 100)
        add(pcapgen.udp_packet(A, 5060, B, 5060, pcapgen.request(
            "ACK", to_tag="tt1", call_id=call["call_id"], branch=f"z9hG4bK-a{i}")), 10)
        add(down.send(pcapgen.response(200, "OK", call_id=f"tcp-{i}@192.0.2.10",
                                       method="OPTIONS", branch=f"z9hG4bK-t{i}",
                                       transport="TCP")))
        spans["resend"].append((first_invite, resent))
        spans["tcp"].append((first_segment, last_segment))
        spans["fragments"].append((first_fragment, last_fragment))
    return packets, spans


def mixed_pcap(path: Path, rounds: int) -> Spans:
    """:func:`mixed_traffic` as an Ethernet pcap (a frame a packet) at ``path``."""
    packets, spans = mixed_traffic(rounds)
    path.write_bytes(pcapgen.pcap(pcapgen.Frame(t, pcapgen.ethernet(ip)) for t, ip in packets))
    return spans


def _section(packets: list[tuple[int, bytes]], linktypes: tuple[int, ...], *,
             big_endian: bool) -> bytes:
    """One pcapng section: the packets spread over the interfaces of ``linktypes`` (the last
    one :data:`UNREAD`, given a frame of its own every fifth packet)."""
    frames = []
    for number, (t, ip) in enumerate(packets):
        interface = number % (len(linktypes) - 1)
        frames.append(pcapgen.Frame(t, pcapgen.link(linktypes[interface], ip),
                                    linktypes[interface], interface))
        if number % 5 == 0:
            frames.append(pcapgen.Frame(t, b"\x00" * 24, UNREAD, len(linktypes) - 1))
    return pcapgen.pcapng(frames, interfaces=linktypes, big_endian=big_endian)


def damaged_block(endian: str) -> bytes:
    """An Enhanced Packet Block on interface 9, which no section here declares: damage
    confined to that record (reading goes on)."""
    data = b"\x00" * 40
    body = struct.pack(endian + "IIIII", 9, 0, 0, len(data), len(data)) + data
    return (struct.pack(endian + "II", 6, 12 + len(body)) + body
            + struct.pack(endian + "I", 12 + len(body)))


def mixed_pcapng(path: Path, rounds: int) -> None:
    """:func:`mixed_traffic` as pcapng at ``path``: three sections (little-, big-, little-
    endian) of several interfaces of different link types each, one of them not read, and a
    damaged record near the end of the second section."""
    packets, _ = mixed_traffic(rounds)
    third = len(packets) // 3
    path.write_bytes(
        _section(packets[:third], (pcapgen.ETHERNET, pcapgen.RAW, UNREAD), big_endian=False)
        + _section(packets[third:2 * third], (pcapgen.LINUX_SLL2, pcapgen.ETHERNET,
                                              pcapgen.NULL, UNREAD), big_endian=True)
        + damaged_block(">")
        + _section(packets[2 * third:], (pcapgen.LINUX_SLL, UNREAD), big_endian=False))


def count_tasks(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The tasks the next builds make (whole captures and pieces), as they are made."""
    import sipstatus.lake._dask as dask
    import sipstatus.lake._jobs as jobs

    made: list[Any] = []
    real = jobs.tasks

    def counted(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for task in real(*args, **kwargs):
            made.append(task)
            yield task

    monkeypatch.setattr(jobs, "tasks", counted)
    monkeypatch.setattr(dask, "tasks", counted)
    return made
