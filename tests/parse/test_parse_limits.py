"""Parse time grows linearly, and the size limits stop what is too big, with a clear error.

No test here holds a duration to an absolute limit (that depends on the machine and on its
load): each compares the same operation on an input of size n and of size 8n, timed in the
same run, and requires the larger to cost less than 3 times the linear 8x. Anything
quadratic costs 64x, anything exponential far more. Times are the process's CPU time, which
other processes on a busy machine do not stretch as they stretch wall-clock time.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

import pytest

import sipstatus
from sipstatus import Limits, SipParseError

NO_LIMITS = Limits(max_message_size=None, max_headers=None, max_line_length=None)
HEAD = (b"SIP/2.0 200 OK\r\nCall-ID: a@b\r\nCSeq: 1 INVITE\r\n"
        b"From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\n")
#: time(8n) / time(n) must stay below this: linear is 8 (less, with fixed costs).
GROWTH_LIMIT = 8 * 3
#: The process's CPU time, where it is precise enough (not on every platform).
CLOCK = (time.process_time if time.get_clock_info("process_time").resolution <= 1e-6
         else time.perf_counter)


def growth(run: Callable[[bytes], object], make: Callable[[int], bytes], n: int,
           repeat: int = 5) -> float:
    """cpu(run(make(8n))) / cpu(run(make(n))), each the best of ``repeat`` runs, the two
    sizes interleaved so that a burst of load on the machine hits both alike."""
    inputs = (make(n), make(8 * n))
    for data in inputs:  # warm up: caches, lazily compiled regexes
        run(data)
    best = [float("inf"), float("inf")]
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            for index, data in enumerate(inputs):
                start = CLOCK()
                run(data)
                best[index] = min(best[index], CLOCK() - start)
    finally:
        if enabled:
            gc.enable()
    return best[1] / max(best[0], 1e-9)


@pytest.fixture(autouse=True)
def _warm() -> None:
    """Build the grammar and compile its regexes first: one-time costs are not growth."""
    small = HEAD + b"Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nServer: a\r\nX-Long: a\r\n\r\n"
    _read_all(small, True)
    _read_all(small, False)


def _read_all(data: bytes, strict: bool) -> None:
    message = sipstatus.parse(data, strict=strict, limits=NO_LIMITS)
    _ = (message.via, message.call_id, message.cseq, message.headers.get("X-Long"),
         message.defects)


def _long_line(size: int) -> bytes:
    return HEAD + b"X-Long: " + b"a" * size + b"\r\nContent-Length: 0\r\n\r\n"


def _vias(count: int) -> bytes:
    vias = b"".join(b"Via: SIP/2.0/UDP host%d.example.com:5060;branch=z9hG4bK%d\r\n" % (i, i)
                    for i in range(count))
    return HEAD + vias + b"Content-Length: 0\r\n\r\n"


@pytest.mark.parametrize("strict", [False, True])
def test_a_long_header_line_parses_in_linear_time(strict: bool) -> None:
    # 4 kB and 32 kB: both well inside the CPU caches, whose edge (near 128 kB here) looks
    # like growth, the more so on a busy machine. A quadratic scan shows at these sizes.
    ratio = growth(lambda data: _read_all(data, strict), _long_line, 4_000)
    assert ratio < GROWTH_LIMIT
    # And a whole megabyte is read, and read right.
    message = sipstatus.parse(_long_line(1_000_000), strict=strict, limits=NO_LIMITS)
    assert message.headers.get("X-Long") == "a" * 1_000_000


@pytest.mark.parametrize("strict", [False, True])
def test_many_via_lines_parse_in_linear_time(strict: bool) -> None:
    ratio = growth(lambda data: _read_all(data, strict), _vias, 1_250)
    assert ratio < GROWTH_LIMIT
    vias = sipstatus.parse(_vias(10_000), strict=strict, limits=NO_LIMITS).via
    assert len(vias) == 10_000
    assert (vias[0].host, vias[-1].branch) == ("host0.example.com", "z9hG4bK9999")


BAD_VALUES = {
    "comment-then-junk": lambda n: b"a (" + b"x" * n + b") :",  # no exponential backtracking
    "nested-unbalanced": lambda n: b"(" * n + b"x",
    "token-then-bad-octet": lambda n: b"a" * n + b"@",
}


def _reject(data: bytes) -> None:
    with pytest.raises(SipParseError) as caught:
        sipstatus.parse(data, strict=True, limits=NO_LIMITS)
    assert caught.value.rule.startswith("Server")


@pytest.mark.parametrize("name", sorted(BAD_VALUES))
def test_bad_values_fail_in_linear_time_in_strict_mode(name: str) -> None:
    def message(n: int) -> bytes:
        return HEAD + b"Server: " + BAD_VALUES[name](n) + b"\r\n\r\n"

    # Small sizes first: an exponential blow-up shows there (2 -> 16 octets) without
    # taking minutes; then sizes where a quadratic one shows (2000 -> 16000).
    assert growth(_reject, message, 2) < GROWTH_LIMIT
    assert growth(_reject, message, 2_000) < GROWTH_LIMIT


def test_default_limits_reject_quickly_with_clear_errors() -> None:
    huge_line = HEAD + b"X-Long: " + b"a" * 1_000_000 + b"\r\n\r\n"
    with pytest.raises(SipParseError, match="message larger than the limit of 65535 octets"):
        sipstatus.parse(huge_line)
    long_line = HEAD + b"X-Long: " + b"a" * 9000 + b"\r\n\r\n"
    with pytest.raises(SipParseError, match="line longer than the limit of 8192 octets "
                                            "at line 6, column 8193"):
        sipstatus.parse(long_line)
    many = HEAD + b"".join(b"X-%d: 1\r\n" % i for i in range(300)) + b"\r\n"
    with pytest.raises(SipParseError, match="more than 256 header lines"):
        sipstatus.parse(many)


def test_strict_checks_remember_a_bounded_number_of_header_names() -> None:
    # check_strict keeps the checks of each header name spelling it meets: hostile traffic
    # with ever new names must not grow that table without bound.
    from sipstatus import _validate

    for batch in range(30):
        names = "".join(f"X-Name-{batch}-{index}: v\r\n" for index in range(50))
        sipstatus.parse(f"SIP/2.0 200 OK\r\n{names}Content-Length: 0\r\n\r\n".encode(),
                        strict=True)
        assert len(_validate._checks_by_name) <= _validate._MAX_NAMES
    with pytest.raises(sipstatus.SipParseError, match="invalid header name"):
        sipstatus.parse(b"SIP/2.0 200 OK\r\nX Bad: v\r\nContent-Length: 0\r\n\r\n", strict=True)
