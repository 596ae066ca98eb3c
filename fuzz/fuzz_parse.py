"""Fuzz sipstatus' own parser: nothing but SipParseError may escape, nothing may hang.

Inputs are the conformance corpus (fixtures/corpus: RFC 4475, RFC 5118, real-world messages)
as seeds, those seeds broken by every mutation of ``sipstatus.strategies.malformed``, generated
requests and responses, their mutations, and raw noise. Each input goes through

* ``sipstatus.parse(data)`` and ``sipstatus.parse(data, strict=True)``: each returns a message
  or raises SipParseError, within the deadline (a hang is a bug too);
* strict acceptance implies lenient acceptance of the same start line;
* every typed accessor of a parsed message (``call_id``, ``cseq``, ``via``, ...): a value or
  SipParseError, and always a value when the strict parser accepted the message (strict mode
  checks every header it knows against its grammar rule);
* ``classify()`` of a parsed response: a classification or SipParseError.

Usage (from the repository root; the test suite runs a short version of the same test)::

    python fuzz/fuzz_parse.py                     # 2,000 inputs, about a minute
    python fuzz/fuzz_parse.py --examples 200000   # a long run by hand
    python fuzz/fuzz_parse.py --seconds 3600      # or by the clock
    python fuzz/fuzz_parse.py --atheris -max_total_time=600   # coverage-guided, needs atheris

A failure prints the falsifying input (shrunk) and exits 1; hypothesis also stores it in
.hypothesis/ so that the next run replays it first.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import sipstatus
from sipstatus import SipParseError
from sipstatus import strategies as sips
from sipstatus._registry import ACCESSORS as REGISTRY_ACCESSORS

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "fixtures" / "corpus"

#: Typed accessors every parsed message has, from the header registry.
ACCESSORS = tuple(REGISTRY_ACCESSORS)

#: Deadline per input: generous for a 60 kB message on a loaded machine, short of a hang.
DEADLINE_MS = 5_000


def seeds() -> tuple[bytes, ...]:
    """Every message file of the corpus, read as bytes (sorted, so runs are reproducible)."""
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix in ("", ".sip"))
    return tuple(p.read_bytes() for p in files if p.parent.name != "archives")


def inputs() -> st.SearchStrategy[bytes]:
    corpus = st.sampled_from(seeds())
    return st.one_of(
        corpus,
        sips.malformed(base=corpus).map(lambda m: m.data),
        sips.requests(),
        sips.responses(),
        sips.malformed().map(lambda m: m.data),
        st.binary(max_size=600),
    )


def check(data: bytes) -> None:
    """The property: raises AssertionError (or whatever escaped) on a parser bug."""
    parsed: dict[bool, Any] = {}
    for strict in (False, True):
        try:
            parsed[strict] = sipstatus.parse(data, strict=strict)
        except SipParseError:
            continue
    if True in parsed:
        assert False in parsed, "strict parse accepted what the lenient parse rejected"
        assert type(parsed[True]) is type(parsed[False]), "strict and lenient disagree on kind"
    for strict, message in parsed.items():
        for name in ACCESSORS:
            try:
                getattr(message, name)
            except SipParseError as exc:
                assert not strict, f"strict parse accepted an unreadable {name}: {exc}"
        if isinstance(message, sipstatus.SipResponse):
            with contextlib.suppress(SipParseError):
                sipstatus.classify(message)


def make_test(examples: int, *, derandomize: bool = False) -> Any:
    """The hypothesis test; ``derandomize`` makes a short run the same every time (CI)."""

    chosen = settings(
        max_examples=examples,
        deadline=DEADLINE_MS,
        derandomize=derandomize,
        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.filter_too_much],
    )
    if derandomize:
        chosen = settings(chosen, database=None)

    @chosen
    @given(inputs())
    def fuzz_parse(data: bytes) -> None:
        check(data)

    return fuzz_parse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=2_000, help="inputs per round")
    parser.add_argument("--seconds", type=float, help="keep running rounds this long")
    parser.add_argument("--atheris", action="store_true",
                        help="drive the same test with atheris (libFuzzer flags follow)")
    args, rest = parser.parse_known_args(argv)
    test = make_test(args.examples)
    if args.atheris:
        import atheris  # type: ignore[import-not-found, import-untyped, unused-ignore]

        # Coverage guidance needs instrumented bytecode: sipstatus (and what it calls) is
        # loaded already, so instrument everything loaded.
        atheris.instrument_all()
        atheris.Setup([sys.argv[0], *rest], test.hypothesis.fuzz_one_input)
        atheris.Fuzz()
        return 0
    end = time.monotonic() + (args.seconds or 0)
    rounds = 0
    while True:
        rounds += 1
        try:
            test()
        except Exception as exc:  # the notes carry hypothesis' shrunk input
            traceback.print_exception(exc)
            print(f"fuzz_parse: FAILED in round {rounds}", file=sys.stderr)
            return 1
        if args.seconds is None or time.monotonic() >= end:
            break
    print(f"fuzz_parse: {rounds} round(s) of {args.examples} inputs, no failure")
    return 0


if __name__ == "__main__":
    sys.exit(main())
