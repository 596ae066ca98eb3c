"""Benchmark: the first parse in a fresh process (issue 10), against fresh processes that do
nothing (``pass``) or only ``import json``, measured in the same run.

Each case starts N fresh interpreters (``python -c ...``) and takes the median of

* **process**: the whole run, timed from outside (start-up, imports, the first parse, exit);
* **first call**: the first parse (or ``.defects``) alone, timed inside the process.

Cases: ``import sipstatus``; a strict parse of a typical response (Via, From, To, Call-ID,
CSeq, Contact, Content-Type, Content-Length), where every value matches its rule's regex;
a strict parse of the same response with a bad CSeq, where the regex misses and Lark must
parse to say what was expected; lenient ``.defects`` of the typical response and of the
bad one.

Budget (issue 10): the first strict parse of the typical response at most 150 ms. The
machine is shared and noisy; the script prints medians and ratios, never judgements.

    python bench/bench_cold.py [--runs 5] [--cache warm|cold|off] [--no-bytecode]

``--cache warm`` (default) runs each case once first, so the per-user cache is filled, as
it is after the first run on a machine; ``cold`` gives every process an empty cache
directory (the first run after installing); ``off`` disables the cache
(``SIPSTATUS_CACHE_DIR=""``, as when it cannot be written). The cache directory is a
temporary one either way: the benchmark never touches your own.

Modules are imported from bytecode, as after ``pip install``: the processes write and read
``.pyc`` files under a temporary ``PYTHONPYCACHEPREFIX`` (after one warm-up run of each
case), even where ``PYTHONDONTWRITEBYTECODE`` is set. ``--no-bytecode`` keeps the
environment as it is (with ``PYTHONDONTWRITEBYTECODE=1`` every process compiles every
module from source, which adds ~50 ms to ``import sipstatus``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

TYPICAL = (
    b"SIP/2.0 200 OK\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds"
    b";received=192.0.2.101;rport=5060\r\n"
    b"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
    b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:bob@192.0.2.4:5060;transport=udp>;expires=3600\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: 0\r\n\r\n"
)
#: The typical response with a CSeq its rule rejects: the regex misses, Lark explains.
BAD = TYPICAL.replace(b"CSeq: 314159 INVITE", b"CSeq: 314159 INVITE extra")

_TIMED = """
import time
start = time.perf_counter()
{setup}
first = time.perf_counter()
{step}
end = time.perf_counter()
print(first - start, end - first)
"""

CASES: list[tuple[str, str, str]] = [
    # (label, setup, step): ``step`` is the first call, timed inside the process
    ("python -c pass", "pass", "pass"),
    ("import json", "import json", "pass"),
    ("import sipstatus", "import sipstatus", "pass"),
    ("strict parse, typical", "import sipstatus",
     f"sipstatus.parse({TYPICAL!r}, strict=True)"),
    ("strict parse, bad CSeq (Lark)", "import sipstatus",
     f"try:\n    sipstatus.parse({BAD!r}, strict=True)\n"
     "except sipstatus.SipParseError:\n    pass\nelse:\n    raise SystemExit('accepted')"),
    ("lenient .defects, typical", "import sipstatus",
     f"assert not sipstatus.parse({TYPICAL!r}).defects"),
    ("lenient .defects, bad CSeq (Lark)", "import sipstatus",
     f"assert sipstatus.parse({BAD!r}).defects"),
]


def run(code: str, env: dict[str, str]) -> tuple[float, float, float]:
    """(process wall time, setup time inside, first-call time inside) of one fresh process."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    setup, step = (float(word) for word in done.stdout.split())
    return wall, setup, step


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument("--runs", type=int, default=5, help="fresh processes per case")
    arguments.add_argument("--cache", choices=("warm", "cold", "off"), default="warm")
    arguments.add_argument("--no-bytecode", action="store_true",
                           help="leave PYTHONDONTWRITEBYTECODE and PYTHONPYCACHEPREFIX alone")
    options = arguments.parse_args()
    where = subprocess.run([sys.executable, "-c", "import sipstatus, lark; "
                            "print(sipstatus.__file__, 'lark', lark.__version__)"],
                           check=True, capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="sipstatus-bench-") as scratch:
        env = dict(os.environ, SIPSTATUS_CACHE_DIR=os.path.join(scratch, "cache"))
        if not options.no_bytecode:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = os.path.join(scratch, "pycache")
        bytecode = "no .pyc written" if env.get("PYTHONDONTWRITEBYTECODE") else ".pyc cached"
        print(f"Python {sys.version.split()[0]}, {where}, cache {options.cache}, {bytecode}, "
              f"{options.runs} fresh processes per case")
        if options.cache == "off":
            env["SIPSTATUS_CACHE_DIR"] = ""
        walls: dict[str, list[float]] = {label: [] for label, _setup, _step in CASES}
        steps: dict[str, list[float]] = {label: [] for label, _setup, _step in CASES}
        codes = {label: _TIMED.format(setup=setup, step=step) for label, setup, step in CASES}
        for code in codes.values():  # writes the .pyc files, and fills a warm cache
            run(code, env if options.cache == "warm" else dict(
                env, SIPSTATUS_CACHE_DIR=os.path.join(scratch, "warm-up")))
        # Round robin: each round runs every case once, so that a busy spell of this shared
        # machine slows the baselines as much as the cases.
        for number in range(options.runs):
            for label, code in codes.items():
                if options.cache == "cold":
                    env["SIPSTATUS_CACHE_DIR"] = os.path.join(scratch, f"{number}-{label}")
                wall, _setup, first = run(code, env)
                walls[label].append(wall)
                steps[label].append(first)
        results = {label: (statistics.median(walls[label]), statistics.median(steps[label]))
                   for label in codes}
    empty, json_only = results["python -c pass"][0], results["import json"][0]
    imported = results["import sipstatus"][0]
    print(f"{'case':34} {'process':>9} {'x pass':>7} {'x json':>7} {'- import':>9} "
          f"{'first call':>11}")
    for label, (wall, first) in results.items():
        print(f"{label:34} {wall * 1000:7.1f}ms {wall / empty:7.2f} {wall / json_only:7.2f} "
              f"{(wall - imported) * 1000:7.1f}ms {first * 1000:9.1f}ms")
    print("process: median wall time of the whole process; '- import': minus that of "
          "'import sipstatus';\nfirst call: median time of the first parse or .defects "
          "alone, inside the process.")


if __name__ == "__main__":
    main()
