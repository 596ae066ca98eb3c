"""Parse time grows linearly, and the size limits stop what is too big, with a clear error."""

from __future__ import annotations

import time

import pytest

import sipstatus
from sipstatus import Limits, SipParseError

NO_LIMITS = Limits(max_message_size=None, max_headers=None, max_line_length=None)
HEAD = (b"SIP/2.0 200 OK\r\nCall-ID: a@b\r\nCSeq: 1 INVITE\r\n"
        b"From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\n")


def _seconds(function: object, *args: object, **kwargs: object) -> float:
    start = time.perf_counter()
    function(*args, **kwargs)  # type: ignore[operator]
    return time.perf_counter() - start


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


@pytest.mark.parametrize("strict", [False, True])
def test_a_one_megabyte_header_line_parses_well_under_a_second(strict: bool) -> None:
    data = HEAD + b"X-Long: " + b"a" * 1_000_000 + b"\r\nContent-Length: 0\r\n\r\n"
    assert _seconds(_read_all, data, strict) < 0.9  # noisy shared machine: keep margin


@pytest.mark.parametrize("strict", [False, True])
def test_ten_thousand_via_lines_parse_well_under_a_second(strict: bool) -> None:
    vias = b"".join(b"Via: SIP/2.0/UDP host%d.example.com:5060;branch=z9hG4bK%d\r\n" % (i, i)
                    for i in range(10_000))
    data = HEAD + vias + b"Content-Length: 0\r\n\r\n"
    assert _seconds(_read_all, data, strict) < 0.9
    assert len(sipstatus.parse(data, limits=NO_LIMITS).via) == 10_000


@pytest.mark.parametrize("value", [
    b"a (" + b"x" * 5000 + b") :",          # a comment, then junk: no exponential backtracking
    b"(" * 3000 + b"x",                     # deeply nested, unbalanced
    b"a" * 8000 + b"@",                     # one long token, then a bad octet
])
def test_bad_values_fail_fast_in_strict_mode(value: bytes) -> None:
    data = HEAD + b"Server: " + value + b"\r\n\r\n"
    start = time.perf_counter()
    with pytest.raises(SipParseError):
        sipstatus.parse(data, strict=True, limits=NO_LIMITS)
    assert time.perf_counter() - start < 0.5


def test_linear_growth() -> None:
    """Ten times the Via lines cost about ten times as much (not a hundred)."""
    def message(count: int) -> bytes:
        vias = b"".join(b"Via: SIP/2.0/UDP h%d;branch=z9hG4bK%d\r\n" % (i, i)
                        for i in range(count))
        return HEAD + vias + b"\r\n"
    small, large = message(1_000), message(10_000)
    for data in (small, large):  # warm up
        _read_all(data, True)
    small_time = min(_seconds(_read_all, small, True) for _ in range(3))
    large_time = min(_seconds(_read_all, large, True) for _ in range(3))
    assert large_time < 30 * small_time


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
