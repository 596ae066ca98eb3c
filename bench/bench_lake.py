"""Benchmark the SIP lake build (issue 12): ``--jobs 2`` against ``--jobs 1`` on many files,
``--dask local`` (2 workers) against ``--jobs 2``, peak memory per worker, bytes per message,
and a one-process build against tshark.

Usage:  python bench/bench_lake.py [--files N] [--calls C] [--runs R] [--keep DIR] [--one-file]
                                   [--no-tshark]

It synthesises N capture files (default 8) of C calls each (default 2,600: 25,740 SIP
messages a file, 205,920 in all) with ``bench_scan.synthesise`` (half UDP, half one TCP
connection; a rotated file's Call-IDs are its own and its times follow the previous file's),
or, with ``--one-file``, one capture of N x C calls (the same traffic, 205,920 SIP messages by
default, which ``jobs=2`` maps in pieces: docs/scaling.md), then, interleaving the commands
in every round (R rounds, default 3) so that background load hits them alike, times:

  jobs1   sipstatus.lake.build(files, out, jobs=1)       (one process)
  jobs2   sipstatus.lake.build(files, out, jobs=2)       (two worker processes + the reduce)
  dask2   sipstatus.lake.build(files, out, jobs=2, dask="local")   (a LocalCluster of two
          worker processes, started and closed by the build, + the reduce)
  tshark  tshark -r FILE -Y sip -T fields -e frame.number -e frame.time_epoch -e ip.src
          -e ip.dst -e sip.Method -e sip.Status-Code -e sip.Call-ID -e sip.CSeq, file by file

and prints the median wall times, the ratios against issue 12's budgets (jobs2/jobs1 speed
>= 1.7x; dask2 wall <= 1.25x jobs2; one process <= 0.5x tshark), the CPU seconds of the
parent (the reduce) and of the workers (the map), the peak RSS of the parent and of the
largest worker (budget 256 MiB), and the bytes per message of ``messages`` (budget 150). It
checks that all three builds wrote byte-identical files. Each build runs in a fresh
interpreter (``--child``) so that its memory and CPU time are its own. The ratios need an
otherwise idle machine: on a loaded one the
CPU figures tell more than the wall times.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "capture"))

import bench_scan  # noqa: E402
import pcapgen  # noqa: E402

TSHARK_FIELDS = ["frame.number", "frame.time_epoch", "ip.src", "ip.dst", "sip.Method",
                 "sip.Status-Code", "sip.Call-ID", "sip.CSeq"]


def synthesise(folder: Path, files: int, calls: int) -> int:
    """Write ``files`` rotated captures into ``folder``; return the SIP messages in all."""
    request, response, frame = pcapgen.request, pcapgen.response, pcapgen.Frame
    total = 0
    try:
        for number in range(files):
            prefix, shift = f"f{number}-", number * 3 * 3600 * 10**9

            def renamed(make, prefix=prefix):  # type: ignore[no-untyped-def]
                return lambda *a, call_id, **kw: make(*a, call_id=prefix + call_id, **kw)

            pcapgen.request, pcapgen.response = renamed(request), renamed(response)
            pcapgen.Frame = lambda t, data, shift=shift: frame(t + shift, data)  # type: ignore
            total += bench_scan.synthesise(folder / f"trace.pcap{number}", calls)
    finally:
        pcapgen.request, pcapgen.response, pcapgen.Frame = request, response, frame
    return total


def child(mode: str, out: str, paths: list[str]) -> None:
    """One build in this interpreter (``mode``: jobs, or ``dask`` and workers); its figures
    as JSON on stdout."""
    import sipstatus.lake

    dask = "local" if mode.startswith("dask") else None
    start = time.perf_counter()
    result = sipstatus.lake.build(paths, out, jobs=int(mode.removeprefix("dask")), dask=dask)
    wall = time.perf_counter() - start
    me = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)  # the worker processes, reaped
    print(json.dumps({"wall": wall, "messages": result.messages,
                      "parent_cpu": me.ru_utime + me.ru_stime,
                      "workers_cpu": workers.ru_utime + workers.ru_stime,
                      "parent_rss_kib": me.ru_maxrss, "worker_rss_kib": workers.ru_maxrss}))


def build(mode: str, out: Path, paths: list[str]) -> dict[str, float]:
    shutil.rmtree(out, ignore_errors=True)
    done = subprocess.run([sys.executable, __file__, "--child", mode, str(out), *paths],
                          stdout=subprocess.PIPE, check=True, text=True)
    figures: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return figures


def tshark_all(tshark: str, paths: list[str]) -> float:
    fields = [arg for name in TSHARK_FIELDS for arg in ("-e", name)]
    start = time.perf_counter()
    for path in paths:
        subprocess.run([tshark, "-r", path, "-Y", "sip", "-T", "fields", *fields],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.parquet"))}


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--calls", type=int, default=2600)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the synthetic captures here")
    parser.add_argument("--one-file", action="store_true",
                        help="one capture of FILES x CALLS calls instead of FILES captures")
    parser.add_argument("--no-tshark", action="store_true", help="do not time tshark")
    args = parser.parse_args(argv)
    tshark = None if args.no_tshark else shutil.which("tshark")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp) / "captures"
        folder.mkdir(parents=True, exist_ok=True)
        if args.one_file:
            count = bench_scan.synthesise(folder / "trace.pcap", args.files * args.calls)
            paths = [str(folder / "trace.pcap")]
        else:
            count = synthesise(folder, args.files, args.calls)
            paths = [str(folder / f"trace.pcap{number}") for number in range(args.files)]
        size = sum(os.path.getsize(p) for p in paths)
        print(f"captures: {len(paths)} files, {count} SIP messages, {size / 1e6:.1f} MB")
        times: dict[str, list[float]] = {"jobs1": [], "jobs2": [], "dask2": [], "tshark": []}
        figures: dict[str, dict[str, float]] = {}
        for _ in range(args.runs):
            for mode in ("jobs1", "jobs2", "dask2"):
                found = build(mode.removeprefix("jobs"), Path(tmp) / f"lake-{mode}", paths)
                times[mode].append(found["wall"])
                figures[mode] = found
            if tshark is not None:
                times["tshark"].append(tshark_all(tshark, paths))
        one_lake = digest(Path(tmp) / "lake-jobs1")
        same = one_lake == digest(Path(tmp) / "lake-jobs2")
        same_dask = one_lake == digest(Path(tmp) / "lake-dask2")
        parquet = sum(p.stat().st_size
                      for p in (Path(tmp) / "lake-jobs1" / "messages").rglob("*"))
    median = {name: statistics.median(found) for name, found in times.items() if found}
    for name, seconds in median.items():
        print(f"{name:7s} {seconds:7.2f} s (median of {len(times[name])})")
    one, two, dask = figures["jobs1"], figures["jobs2"], figures["dask2"]
    # What an idle 2-core machine allows: the reduce runs alone on one core, and the work of
    # all processes shares the two.
    ideal = one["parent_cpu"] / max(two["parent_cpu"],
                                    (two["parent_cpu"] + two["workers_cpu"]) / 2)
    budget = "1.6x for one large file" if args.one_file else "1.7x"
    print(f"jobs2 vs jobs1: {median['jobs1'] / median['jobs2']:.2f}x faster (median; "
          f"budget >= {budget}); byte-identical lakes: {same}")
    print(f"dask local (2 workers) vs jobs2: {median['dask2'] / median['jobs2']:.2f}x the wall "
          f"time (budget <= 1.25x); byte-identical lakes: {same_dask}")
    print(f"  dask2 CPU: parent (reduce, scheduler, nannies) {dask['parent_cpu']:.2f} s + "
          f"workers (map) {dask['workers_cpu']:.2f} s; peak RSS parent "
          f"{dask['parent_rss_kib'] / 1024:.0f} MiB, largest worker "
          f"{dask['worker_rss_kib'] / 1024:.0f} MiB")
    print(f"  jobs1 CPU: {one['parent_cpu']:.2f} s; jobs2 CPU: parent (reduce) "
          f"{two['parent_cpu']:.2f} s + workers (map) {two['workers_cpu']:.2f} s; "
          f"bound on an idle 2-core machine: {ideal:.2f}x")
    print(f"peak RSS: jobs1 {one['parent_rss_kib'] / 1024:.0f} MiB; jobs2 parent "
          f"{two['parent_rss_kib'] / 1024:.0f} MiB, largest worker "
          f"{two['worker_rss_kib'] / 1024:.0f} MiB (budget 256 MiB each)")
    print(f"messages: {parquet / count:.1f} bytes per message (budget <= 150)")
    if "tshark" in median:
        print(f"one process vs tshark -T fields: {median['jobs1'] / median['tshark']:.2f}x "
              f"the wall time (budget <= 0.5x)")
    else:
        print("tshark is not installed (or --no-tshark): the ratio against tshark -T fields "
              "is skipped")
    return 0 if same and same_dask else 1


if __name__ == "__main__":
    sys.exit(main())
