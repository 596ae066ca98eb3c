"""Hostile and large capture shapes (issue 11), written straight to a file record by record
(nothing but one packet is held), built with ``pcapgen``: used by test_capture_bounds.py at
small sizes and by bench/bench_capture_memory.py at full size.

Every writer takes the output path and a size, and returns the number of frames written.
Packets are raw IP (link type 101), one millisecond apart unless said otherwise.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import pcapgen

A, B = "192.0.2.10", "192.0.2.20"
START_NS = 1_700_000_000_000_000_000
_RECORD = struct.Struct("<IIII")


def write_pcap(path: Path, packets: Iterable[tuple[int, bytes]]) -> int:
    """Write ``(time_ns, ip_packet)`` pairs as a raw-IP pcap; return how many."""
    count = 0
    with path.open("wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, pcapgen.RAW))
        for time_ns, packet in packets:
            sec, ns = divmod(time_ns, 1_000_000_000)
            out.write(_RECORD.pack(sec, ns // 1000, len(packet), len(packet)))
            out.write(packet)
            count += 1
    return count


def _ms(n: int, step_ms: float = 1.0) -> int:
    return START_NS + int(n * step_ms * 1_000_000)


# --- ordinary traffic, many Call-IDs -----------------------------------------------------------


def options(path: Path, count: int, seconds: float = 500.0) -> int:
    """``count`` OPTIONS with distinct Call-IDs over ``seconds``, each answered 200."""
    step = seconds * 1000 / count

    def packets() -> Iterator[tuple[int, bytes]]:
        for n in range(count):
            call_id = f"opt-{n}@192.0.2.10"
            branch = f"z9hG4bK-o{n}"
            yield _ms(n, step), pcapgen.udp_packet(A, 5060, B, 5060, pcapgen.request(
                "OPTIONS", call_id=call_id, branch=branch))
            yield _ms(n, step) + 2_000_000, pcapgen.udp_packet(B, 5060, A, 5060, pcapgen.response(
                200, "OK", call_id=call_id, method="OPTIONS", branch=branch))
    return write_pcap(path, packets())


def invites(path: Path, count: int, seconds: float = 250.0) -> int:
    """``count`` INVITEs with distinct Call-IDs and no answer: calls that stay in progress."""
    step = seconds * 1000 / count
    return write_pcap(path, ((_ms(n, step), pcapgen.udp_packet(A, 5060, B, 5060, pcapgen.request(
        "INVITE", call_id=f"inv-{n}@192.0.2.10", branch=f"z9hG4bK-i{n}")))
        for n in range(count)))


def calls(path: Path, count: int, per_second: int = 1000) -> int:
    """``count`` ordinary answered calls (INVITE, 100, 180, 200, ACK, BYE, 200), started at
    ``per_second`` and lasting three seconds each, interleaved in time order."""
    def call(n: int) -> list[tuple[int, bytes]]:
        start = START_NS + n * 1_000_000_000 // per_second
        call_id = f"call-{n}@192.0.2.10"
        common = {"call_id": call_id}
        b = f"z9hG4bK-c{n}"
        out = [(0, A, pcapgen.request("INVITE", branch=b + "a", **common)),
               (5, B, pcapgen.response(100, "Trying", branch=b + "a", to_tag="", **common)),
               (200, B, pcapgen.response(180, "Ringing", branch=b + "a", **common)),
               (1000, B, pcapgen.response(200, "OK", branch=b + "a", **common)),
               (1010, A, pcapgen.request("ACK", branch=b + "b", to_tag="tt1", **common)),
               (3000, A, pcapgen.request("BYE", cseq=2, branch=b + "c", to_tag="tt1", **common)),
               (3020, B, pcapgen.response(200, "OK", cseq=2, method="BYE", branch=b + "c",
                                          **common))]
        return [(start + ms * 1_000_000,
                 pcapgen.udp_packet(src, 5060, B if src == A else A, 5060, message))
                for ms, src, message in out]

    def packets() -> Iterator[tuple[int, bytes]]:
        pending: list[tuple[int, bytes]] = []
        span = 4 * per_second  # calls overlapping in time
        for n in range(count):
            pending += call(n)
            if n % span == span - 1 or n == count - 1:
                pending.sort(key=lambda item: item[0])
                cutoff = START_NS + (n + 1) * 1_000_000_000 // per_second
                ready = [item for item in pending if item[0] < cutoff or n == count - 1]
                pending = [item for item in pending if not (item[0] < cutoff
                                                            or n == count - 1)]
                yield from ready
    return write_pcap(path, packets())


# --- IP fragments ------------------------------------------------------------------------------


def fragments_of_one_datagram(path: Path, count: int) -> int:
    """``count`` 8-byte IPv4 fragments of one datagram whose first fragment never comes:
    offsets 8 to 65,520 again and again."""
    data = b"\x5a" * 8
    return write_pcap(path, ((_ms(n, 0.01), pcapgen.ipv4(
        A, B, 17, data, ident=7, frag_offset=8 + 8 * (n % 8189), more=True))
        for n in range(count)))


def far_fragments(path: Path, count: int) -> int:
    """``count`` datagrams each of one fragment near the 64 KiB end: every one makes its
    datagram's window span 64 KiB."""
    return write_pcap(path, ((_ms(n, 0.01), pcapgen.ipv4(
        A, B, 17, b"\x5a" * 8, ident=n & 0xFFFF, frag_offset=65_000, more=True))
        for n in range(count)))


def reversed_fragments(count: int, ident: int = 7) -> tuple[list[bytes], bytes]:
    """The IPv4 fragments of one UDP datagram carrying an OPTIONS padded to ``count`` 8-byte
    fragments, last first and the one at offset 0 at the very end; and the SIP message."""
    head = pcapgen.request("OPTIONS", call_id="frag@x")
    assert count * 8 - 8 >= len(head), "too few fragments for the message"
    message = head + b"x" * (count * 8 - 8 - len(head))
    datagram = pcapgen.udp(A, 5060, B, 5060, message)
    pieces = pcapgen.ipv4_fragments(A, B, 17, datagram, 8, ident=ident)
    return [*reversed(pieces[1:]), pieces[0]], message


# --- TCP ---------------------------------------------------------------------------------------


def _stream(sport: int) -> tuple[pcapgen.TcpFlow, bytes]:
    flow = pcapgen.TcpFlow(A, sport, B, 5060)
    return flow, flow.syn()


def one_byte_segments_out_of_order(path: Path, count: int) -> int:
    """One stream: ``count`` one-byte segments, each after a hole that never fills."""
    flow, syn = _stream(40000)
    start = flow.seq

    def packets() -> Iterator[tuple[int, bytes]]:
        yield START_NS, syn
        for n in range(count):
            yield _ms(n + 1, 0.01), flow.at(start + 1 + 2 * n, b"x")
    return write_pcap(path, packets())


def out_of_order_streams(path: Path, streams: int, size: int = 1 << 20) -> int:
    """``streams`` streams, each sending ``size - 1`` bytes in 64 KiB segments after a
    one-byte hole at its start: ``size`` bytes waiting for the hole, each."""
    chunk = 65_000
    body = b"y" * chunk

    def packets() -> Iterator[tuple[int, bytes]]:
        n = 0
        for index in range(streams):
            flow, syn = _stream(20000 + index)
            yield _ms(n), syn
            start = flow.seq
            for offset in range(1, size, chunk):
                n += 1
                yield _ms(n), flow.at(start + offset, body[:min(chunk, size - offset)])
    return write_pcap(path, packets())


def partial_heads(path: Path, streams: int, size: int = 60 * 1024) -> int:
    """``streams`` streams, each sending the first ``size`` bytes of a head that never ends."""
    line = b"X-Filler: " + b"z" * 1000 + b"\r\n"
    head = b"OPTIONS sip:b@192.0.2.20 SIP/2.0\r\n" + line * (size // len(line))

    def packets() -> Iterator[tuple[int, bytes]]:
        n = 0
        for index in range(streams):
            flow, syn = _stream(1024 + index)
            yield _ms(n), syn
            for offset in range(0, len(head), 16_000):
                n += 1
                yield _ms(n), flow.send(head[offset:offset + 16_000])
    return write_pcap(path, packets())


def huge_body(path: Path, body_bytes: int, length: int = 999_999_999) -> int:
    """A TCP message declaring ``Content-Length: length``, followed by ``body_bytes`` of body
    in 64 KiB segments, then an ordinary message on another stream."""
    head = pcapgen.request("MESSAGE", call_id="big@x", transport="TCP").replace(
        b"Content-Length: 0", f"Content-Length: {length}".encode())
    chunk = b"b" * 65_000

    def packets() -> Iterator[tuple[int, bytes]]:
        flow, syn = _stream(40000)
        yield START_NS, syn
        yield _ms(1), flow.send(head)
        n = 1
        for offset in range(0, body_bytes, len(chunk)):
            n += 1
            yield _ms(n, 0.01), flow.send(chunk[:min(len(chunk), body_bytes - offset)])
        other, other_syn = _stream(40001)
        yield _ms(n + 1), other_syn
        yield _ms(n + 2), other.send(pcapgen.request("OPTIONS", call_id="after@x",
                                                     transport="TCP"))
    return write_pcap(path, packets())


def reversed_segments(size: int) -> tuple[list[tuple[int, bytes]], bytes]:
    """One TCP message of ``size`` bytes as one-byte ``(seq, payload)`` segments in reverse
    order (the stream's first byte at sequence number 1), and the message."""
    message = pcapgen.request("MESSAGE", call_id="rev@x", transport="TCP",
                              body=b"r" * max(0, size - 400))
    return [(1 + n, message[n:n + 1]) for n in reversed(range(len(message)))], message


def child_peak_rss_mib(*argv: str,
                       timeout: float = 300) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run ``python -m sipstatus ARGV`` under a fresh intermediate Python that reports its
    child's peak RSS (MiB), so no earlier child of the test process counts."""
    code = ("import json, resource, subprocess, sys\n"
            "done = subprocess.run([sys.executable, '-m', 'sipstatus', *sys.argv[1:]],"
            " capture_output=True, text=True)\n"
            "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
            "print(json.dumps([peak, done.returncode, done.stdout, done.stderr]))\n")
    report = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True,
                            text=True, check=True, timeout=timeout)
    peak_kib, status, out, err = json.loads(report.stdout)
    return peak_kib / 1024, subprocess.CompletedProcess(argv, status, out, err)
