"""A short, reproducible run of fuzz/fuzz_parse.py (the self-fuzzing command) and the parser
bugs it has found, pinned as regressions."""

from __future__ import annotations

import gc
import importlib.util
import time
from pathlib import Path
from types import ModuleType

import pytest

import sipstatus

SCRIPT = Path(__file__).resolve().parents[2] / "fuzz" / "fuzz_parse.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_parse", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fuzz_parse = _load()

REQUEST = (b"INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
           b"Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=1\r\n"
           b"To: <sip:bob@example.com>\r\nCall-ID: c1@192.0.2.1\r\nCSeq: 1 INVITE\r\n"
           b"Contact: <sip:alice@192.0.2.1>\r\n%sContent-Length: 0\r\n\r\n")
RESPONSE = (b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
            b"From: <sip:a@example.com>;tag=1\r\nTo: %s;tag=2\r\nCall-ID: x\r\n"
            b"CSeq: 1 OPTIONS\r\n%sContent-Length: 0\r\n\r\n")


def test_the_corpus_seeds_the_fuzzer() -> None:
    seeds = fuzz_parse.seeds()
    assert len(seeds) >= 60
    assert any(b"INVITE" in s for s in seeds) and any(s.startswith(b"SIP/2.0") for s in seeds)


def test_short_fuzz_run(monkeypatch: pytest.MonkeyPatch) -> None:
    # No per-input deadline here: a wall-clock limit fails on a busy machine. Hangs are
    # the growth tests' to find (below, and tests/parse/test_parse_limits.py).
    monkeypatch.setattr(fuzz_parse, "DEADLINE_MS", None)
    fuzz_parse.make_test(150, derandomize=True)()


def test_negative_retry_after_is_a_parse_error() -> None:
    # Found by fuzz_parse (corpus seed + negative-number mutation): the lenient parse keeps
    # "Retry-After: -1", and its typed accessor failed an internal assert.
    fuzz_parse.check(REQUEST % b"Retry-After: -1\r\n")


def test_strictly_accepted_display_name_is_readable() -> None:
    # Found by tests/fuzz/test_strategies.py: a quoted display name with UTF-8 (RFC 3261
    # quoted-string allows UTF8-NONASCII) passes strict=True, but .to could not read it.
    fuzz_parse.check(RESPONSE % ('"\u0416" <sip:b@example.com>'.encode(), b""))


#: The process's CPU time (other processes do not stretch it), where it is precise enough.
CLOCK = (time.process_time if time.get_clock_info("process_time").resolution <= 1e-6
         else time.perf_counter)


def _strict_rejection_time(data: bytes) -> float:
    start = CLOCK()
    try:
        sipstatus.parse(data, strict=True)
    except sipstatus.SipParseError as exc:
        assert exc.rule.startswith("Server")
    else:
        raise AssertionError("strict parse accepted a broken Server value")
    return CLOCK() - start


def test_server_comment_does_not_backtrack_exponentially() -> None:
    # Found by fuzz_parse: rejecting this Server value took 5 s with 24 'x', doubling with
    # each 'x'. Measured as growth, not against a clock: the CPU time of n 'x' and 8n 'x' in
    # the same run, best of 5 each; linear is 8x at most. 2 -> 16 shows an exponential in
    # milliseconds, 1000 -> 8000 a quadratic.
    def message(count: int) -> bytes:
        return RESPONSE % (b"<sip:b@example.com>", b"Server: a (" + b"x" * count + b") :\r\n")

    for n in (2, 1_000):
        small, large = message(n), message(8 * n)
        for data in (small, large):  # warm up
            _strict_rejection_time(data)
        enabled = gc.isenabled()
        gc.disable()
        try:
            times = [(_strict_rejection_time(small), _strict_rejection_time(large))
                     for _ in range(5)]
        finally:
            if enabled:
                gc.enable()
        ratio = min(t for _, t in times) / min(t for t, _ in times)
        assert ratio < 8 * 3, f"{8 * n} 'x' cost {ratio:.0f} times {n} 'x'"
