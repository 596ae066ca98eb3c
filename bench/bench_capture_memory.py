"""Peak memory of `sipstatus scan` on large and hostile captures, and the growth of reassembly
time (issue 11).

Usage:  python bench/bench_capture_memory.py [--scale 1.0] [--max-memory 64M] [--only NAME ...]
                                             [--keep DIR]

Each case is written (tests/capture/hostile.py) into a temporary directory, then scanned by
`python -m sipstatus scan --format json --max-memory M FILE` under a fresh intermediate Python
that reports its child's peak RSS (``ru_maxrss`` of RUSAGE_CHILDREN), so no other process
counts. For each case it prints the frames, the file size, the peak RSS, the wall time and what
was evicted; the budget is 64 MiB of peak RSS. `--scale` shrinks every case (0.1 for a quick
look). Then it times reassembly in-process at n and 8n (CPU time, best of 3): one TCP message
in one-byte segments in reverse order, and IPv4 fragments last first with the one at offset 0
last, printing the ratio (linear: about 8).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "capture"))

import hostile  # noqa: E402

from sipstatus.capture._ip import Defragmenter, transport  # noqa: E402
from sipstatus.capture._tcp import TcpReassembler  # noqa: E402

MiB = 1 << 20
# name, writer, full size, what the size counts
CASES: list[tuple[str, Callable[[Path, int], int], int, str]] = [
    ("calls", hostile.calls, 500_000, "ordinary calls (7 messages each)"),
    ("options", hostile.options, 500_000, "OPTIONS with distinct Call-IDs, answered"),
    ("invites", hostile.invites, 250_000, "unanswered INVITEs"),
    ("fragments", hostile.fragments_of_one_datagram, 1_000_000,
     "fragments of one datagram that never completes"),
    ("far-fragments", hostile.far_fragments, 200_000, "datagrams with one far fragment"),
    ("ooo-bytes", hostile.one_byte_segments_out_of_order, 1_000_000,
     "one-byte segments after holes"),
    ("ooo-streams", hostile.out_of_order_streams, 300, "streams of 1 MiB after a hole"),
    ("partial-heads", hostile.partial_heads, 20_000, "streams with a 60 KiB partial head"),
    ("huge-body", hostile.huge_body, 300_000_000, "body bytes after Content-Length 999999999"),
]

_PEAK = ("import json, resource, subprocess, sys\n"
         "start = __import__('time').perf_counter()\n"
         "done = subprocess.run([sys.executable, '-m', 'sipstatus', *sys.argv[1:]],"
         " capture_output=True, text=True)\n"
         "wall = __import__('time').perf_counter() - start\n"
         "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
         "print(json.dumps([peak, wall, done.returncode, done.stdout, done.stderr]))\n")


def scan_peak(path: Path, max_memory: str) -> tuple[float, float, dict[str, object]]:
    report = subprocess.run([sys.executable, "-c", _PEAK, "scan", "--no-progress", "--format",
                             "json", "--max-memory", max_memory, str(path)],
                            capture_output=True, text=True, check=True)
    peak_kib, wall, _status, out, err = json.loads(report.stdout)
    if not out:
        raise SystemExit(f"scan of {path} failed: {err}")
    return peak_kib / 1024, wall, json.loads(out)


def best_cpu(work: Callable[[], object], rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best


def reverse_tcp(size: int) -> Callable[[], object]:
    segments, _message = hostile.reversed_segments(size)

    def work() -> object:
        tcp = TcpReassembler()
        tcp.segment(("k",), 0, 0x02, b"")
        return [tcp.segment(("k",), seq, 0x18, payload) for seq, payload in segments]
    return work


def reverse_fragments(count: int) -> Callable[[], object]:
    pieces, _message = hostile.reversed_fragments(count)

    def work() -> object:
        defrag = Defragmenter()
        return [transport(4, piece, 0, defrag, 0) for piece in pieces]
    return work


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--max-memory", default="64M")
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--keep", type=Path, help="write the captures here, and keep them")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"{'case':<14} {'size':>11} {'frames':>9} {'file MB':>8} {'peak MiB':>9} "
              f"{'wall s':>7}  evicted (non-zero)")
        for name, write, full, unit in CASES:
            if args.only and name not in args.only:
                continue
            size = max(1, int(full * args.scale))
            path = folder / f"{name}.pcap"
            frames = write(path, size)
            peak, wall, result = scan_peak(path, args.max_memory)
            evicted = {k: v for k, v in result["evicted"].items() if v}  # type: ignore[attr-defined]
            print(f"{name:<14} {size:>11,} {frames:>9,} {path.stat().st_size / 1e6:>8.1f} "
                  f"{peak:>9.1f} {wall:>7.1f}  {evicted}  ({unit}; {result['messages']} "
                  f"messages)", flush=True)
            if not args.keep:
                path.unlink()
    print("\nreassembly time, CPU seconds (best of 3), n and 8n")
    for label, make, n in (("TCP bytes in reverse 1-byte segments", reverse_tcp, 4000),
                           ("IPv4 fragments last first, offset 0 last", reverse_fragments,
                            1000)):
        small, large = best_cpu(make(n)), best_cpu(make(8 * n))
        print(f"  {label:<42} n={n:>6,}: {small:.4f}  8n={8 * n:>6,}: {large:.4f}  "
              f"ratio {large / small:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
