"""Benchmark HEP (issue 14, item 6): decoding HEP from a pcap against scanning plain SIP, in the
same run, and the UDP listener's ceiling on loopback.

Usage:  python bench/bench_hep.py [--messages N] [--runs R] [--rates 10000,20000,...]

1. Decode. From the messages of fixtures/captures/sipp-kamailio-udp-calls.pcapng, repeated
   with shifted Call-IDs and times up to N messages (default 50,000), it writes two captures
   into a temporary directory: the SIP messages as plain UDP datagrams, and the same messages
   as HEP v3 datagrams to port 9060. Interleaved in each of R rounds (default 5), it times
   in-process (CPU seconds) the packet layer alone (``sip_payloads`` against the HEP source's
   ``capture_payloads``) and the whole summary scan (``Scan.run`` against the HEP source
   through ``Scan.run_mapped``), and prints the best time of each, per message, and the ratio.
2. Listener. A sender process (tests/hep/hep_blast.py) sends N HEP packets to a UDP listener
   running the whole scan pipeline (a summary with calls): unpaced with a 64 MiB receive
   buffer (what the listener sustains: received / time from first to last), then paced at each
   of --rates for up to 3 s (N messages at most) with a 4 MiB receive buffer (Linux's usual
   rmem_max) and with the listener's 64 MiB, printing sent, received and lost: the ceiling is
   the highest rate without loss.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests" / "capture"))

import pcapgen  # noqa: E402

from sipstatus.capture._packets import sip_payloads  # noqa: E402
from sipstatus.capture._pcap import CaptureFile  # noqa: E402
from sipstatus.capture._scan import Scan  # noqa: E402
from sipstatus.hep import HepListener, HepStats, encode, packet_of  # noqa: E402
from sipstatus.hep._scan import HepCaptureSource, ListenerSource, run_sources  # noqa: E402
from sipstatus.hep._source import capture_payloads  # noqa: E402

FIXTURE = ROOT / "fixtures" / "captures" / "sipp-kamailio-udp-calls.pcapng"
BLAST = ROOT / "tests" / "hep" / "hep_blast.py"


def messages(count: int) -> list[tuple[int, int, int, str, int, str, int, str, bytes, str, str]]:
    base = list(sip_payloads(CaptureFile(FIXTURE)))
    out = []
    round_ = 0
    while len(out) < count:
        for payload in base:
            frame, sec, nsec, src, sport, dst, dport, transport, data, problem, cut = payload
            data = data.replace(b"@127.0.0.1", f"-{round_}@127.0.0.1".encode())
            out.append((frame, sec + round_ * 60, nsec, src, sport, dst, dport, transport,
                         data, problem, cut))
            if len(out) == count:
                break
        round_ += 1
    return out


def write_captures(folder: Path, count: int) -> tuple[Path, Path, list[bytes]]:
    payloads = messages(count)
    plain, hep = [], []
    packets = []
    for payload in payloads:  # the same times and addresses in both captures
        _f, sec, nsec, src, sport, dst, dport, _t, data, _p, _c = payload
        when = sec * 1_000_000_000 + nsec // 1000 * 1000
        plain.append(pcapgen.Frame(when, pcapgen.ethernet(
            pcapgen.udp_packet(src, sport, dst, dport, data))))
        packet = encode(packet_of(payload, node_id=1))
        packets.append(packet)
        hep.append(pcapgen.Frame(when, pcapgen.ethernet(
            pcapgen.udp_packet("198.51.100.1", 40000, "198.51.100.2", 9060, packet))))
    plain_path, hep_path = folder / "plain.pcap", folder / "hep.pcap"
    plain_path.write_bytes(pcapgen.pcap(plain))
    hep_path.write_bytes(pcapgen.pcap(hep))
    return plain_path, hep_path, packets


def _cpu(run: object) -> float:
    start = time.process_time()
    run()  # type: ignore[operator]
    return time.process_time() - start


def bench_decode(plain: Path, hep: Path, count: int, runs: int) -> None:
    def plain_packets() -> None:
        for _ in sip_payloads(CaptureFile(plain)):
            pass

    def hep_packets() -> None:
        for _ in capture_payloads(CaptureFile(hep), HepStats(), print):
            pass

    def plain_scan() -> None:
        scan = Scan()
        for _ in scan.run([plain]):
            pass
        assert scan.summary.messages == count

    def hep_scan() -> None:
        scan = Scan()
        for _ in run_sources(scan, [HepCaptureSource(str(hep))]):
            pass
        assert scan.summary.messages == count

    times: dict[str, list[float]] = {name: [] for name in
                                     ("plain packets", "hep packets", "plain scan", "hep scan")}
    for _ in range(runs):
        times["plain packets"].append(_cpu(plain_packets))
        times["hep packets"].append(_cpu(hep_packets))
        times["plain scan"].append(_cpu(plain_scan))
        times["hep scan"].append(_cpu(hep_scan))
    best = {name: min(values) for name, values in times.items()}
    print(f"decode, {count:,} messages, best of {runs} (CPU seconds):")
    for name, seconds in best.items():
        print(f"  {name:14} {seconds:7.3f} s  {seconds / count * 1e6:6.2f} us/msg  "
              f"{count / seconds:>10,.0f} msg/s")
    print(f"  ratio hep/plain: packets {best['hep packets'] / best['plain packets']:.2f}, "
          f"whole scan {best['hep scan'] / best['plain scan']:.2f} (<= 1.0: HEP is as fast)")


def _listen(listener: HepListener, count: int | None, duration: float
            ) -> tuple[threading.Thread, list[float]]:
    stamps: list[float] = []
    source = ListenerSource(listener, count=count, duration=duration)
    scan = Scan(calls=True)

    def run() -> None:
        for _ in run_sources(scan, [source]):
            pass
        stamps.append(time.perf_counter())

    original = listener.payloads

    def timed(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        for n, payload in enumerate(original(*args, **kwargs)):  # type: ignore[arg-type]
            if n == 0:
                stamps.insert(0, time.perf_counter())
            yield payload

    listener.payloads = timed  # type: ignore[method-assign]
    thread = threading.Thread(target=run)
    thread.start()
    return thread, stamps


def bench_listener(folder: Path, packets: list[bytes], rates: list[int]) -> None:
    blob = folder / "packets.hep"
    blob.write_bytes(b"".join(packets))
    with HepListener("hep://127.0.0.1:0", rcvbuf=64 << 20) as listener:
        thread, stamps = _listen(listener, len(packets), 300)
        sent = subprocess.run([sys.executable, str(BLAST), str(listener.port), str(blob)],
                              capture_output=True, text=True, check=True).stdout.split()
        thread.join()
        received = listener.stats.sip
    span = stamps[-1] - stamps[0] if len(stamps) == 2 else float("nan")
    print(f"listener, unpaced, receive buffer {listener.rcvbuf_granted >> 20} MiB granted: "
          f"sent {int(sent[0]):,} in {float(sent[1]):.2f} s "
          f"({int(sent[0]) / float(sent[1]):,.0f} msg/s), received {received:,} "
          f"({received / span:,.0f} msg/s sustained through the scan)")
    for rcvbuf in (4 << 20, 64 << 20):
        for rate in rates:
            count = min(len(packets), rate * 3)
            part = folder / f"part-{rate}.hep"
            part.write_bytes(b"".join(packets[:count]))
            with HepListener("hep://127.0.0.1:0", rcvbuf=rcvbuf) as listener:
                thread, _stamps = _listen(listener, count, 3 + count / rate + 5)
                subprocess.run([sys.executable, str(BLAST), str(listener.port), str(part),
                                str(rate)], capture_output=True, check=True)
                thread.join()
                received = listener.stats.sip
            print(f"listener, paced at {rate:>7,} msg/s, receive buffer "
                  f"{listener.rcvbuf_granted >> 20} MiB granted: sent {count:,}, received "
                  f"{received:,}, lost {count - received:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rates", default="10000,20000,30000,40000,60000")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plain, hep, packets = write_captures(folder, args.messages)
        bench_decode(plain, hep, args.messages, args.runs)
        bench_listener(folder, packets, [int(r) for r in args.rates.split(",")])


if __name__ == "__main__":
    main()
