"""Streams (``iter_messages``) and what any input may raise (issue 10).

- The size limits apply to each message of a stream, not to the stream.
- A stream is read in time linear in its length: each test compares n and 8n messages timed
  in the same run (never an absolute duration); linear is 8x, quadratic 64x.
- Errors keep their exact place in the whole stream.
- ``SipParseError`` is the only exception: a Content-Length of more digits than Python's
  ``int()`` converts (4,300), a ``str`` with a lone surrogate.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

import pytest

import sipstatus
from sipstatus import Limits, SipParseError, SipRequest, SipResponse
from sipstatus._errors import error_at

NO_LIMITS = Limits(max_message_size=None, max_headers=None, max_line_length=None)
#: time(8n) / time(n) must stay below this: linear is 8 (less, with fixed costs).
GROWTH_LIMIT = 8 * 3

RESPONSE = (b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n"
            b"Call-ID: a@b\r\nCSeq: 1 INVITE\r\nFrom: <sip:a@b>;tag=1\r\n"
            b"To: <sip:a@b>;tag=2\r\nContent-Length: 5\r\n\r\nhello")
REQUEST = (b"MESSAGE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK2\r\n"
           b"Max-Forwards: 70\r\nCall-ID: m@h\r\nFrom: <sip:a@b>;tag=3\r\n"
           b"To: <sip:b@example.com>\r\nCSeq: 2 MESSAGE\r\nContent-Length: 3\r\n\r\nabc")
FOLDED = (b"SIP/2.0 180 Ringing\r\nSubject: two\r\n  lines\r\nCSeq: 1 INVITE\r\n"
          b"Content-Length: 2\r\n\r\nhi")
BARE_LF = b"SIP/2.0 100 Trying\nCSeq: 1 INVITE\nContent-Length: 4\n\nbody"


def growth(run: Callable[[bytes], object], make: Callable[[int], bytes], n: int,
           repeat: int = 5) -> float:
    """time(run(make(8n))) / time(run(make(n))), each the best of ``repeat`` runs, the two
    sizes interleaved so that a burst of load on the machine hits both alike."""
    inputs = (make(n), make(8 * n))
    for data in inputs:  # warm up: caches, lazily compiled regexes, the grammar
        run(data)
    best = [float("inf"), float("inf")]
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            for index, data in enumerate(inputs):
                start = time.perf_counter()
                run(data)
                best[index] = min(best[index], time.perf_counter() - start)
    finally:
        if enabled:
            gc.enable()
    return best[1] / max(best[0], 1e-9)


def read_stream(strict: bool, limits: Limits = NO_LIMITS) -> Callable[[bytes], object]:
    def run(data: bytes) -> object:
        return sum(1 for _ in sipstatus.iter_messages(data, strict=strict, limits=limits))
    return run


# -- limits per message ------------------------------------------------------------------


def test_the_size_limit_applies_to_each_message_not_to_the_stream() -> None:
    # Issue 10: 121 ordinary messages (65,703 octets) gave "message larger than the limit".
    message = RESPONSE.replace(b"hello", b"x" * 5).replace(b"Call-ID: a@b",
                                                           b"Call-ID: " + b"c" * 382)
    assert len(message) == 543
    stream = message * 121
    assert len(stream) == 65_703 > 65_535 == Limits().max_message_size
    for strict in (False, True):
        messages = list(sipstatus.iter_messages(stream, strict=strict))
        assert len(messages) == 121
        assert all(m == sipstatus.parse(message) for m in messages)
    assert len(list(sipstatus.iter_messages(RESPONSE * 2000))) == 2000  # ~350 kB


def test_a_message_of_a_stream_larger_than_the_limit_is_an_error_at_its_place() -> None:
    limits = Limits(max_message_size=300)
    big_body = RESPONSE.replace(b"Content-Length: 5\r\n\r\nhello",
                                b"Content-Length: 200\r\n\r\n" + b"b" * 200)
    assert 300 < len(big_body) < 2 * 300
    no_empty_line = RESPONSE.replace(b"Content-Length: 5\r\n\r\nhello",
                                     b"X-Long: " + b"a" * 300 + b"\r\n")
    for strict in (False, True):
        for big in (big_body, no_empty_line, big_body + RESPONSE):
            stream = b"\r\n" + RESPONSE + REQUEST + b"\r\n\r\n" + big
            start = stream.index(big)
            found = sipstatus.iter_messages(stream, strict=strict, limits=limits)
            assert [type(next(found)), type(next(found))] == [SipResponse, SipRequest]
            with pytest.raises(SipParseError) as caught:
                next(found)
            expected = error_at(stream, start + 300, "message larger than the limit of 300 "
                                "octets", rule="SIP-message (RFC 3261 §7)")
            assert str(caught.value) == str(expected)
            assert (caught.value.offset, caught.value.line, caught.value.column) == (
                expected.offset, expected.line, expected.column)
    # Exactly at the limit is fine.
    exact = Limits(max_message_size=len(RESPONSE))
    assert len(list(sipstatus.iter_messages(RESPONSE * 3, limits=exact))) == 3


def test_header_and_line_limits_apply_to_each_message() -> None:
    limits = Limits(max_headers=6, max_line_length=60)
    assert len(list(sipstatus.iter_messages(RESPONSE * 50, limits=limits))) == 50
    for bad, what, at in (
            (RESPONSE.replace(b"CSeq", b"X: 1\r\nCSeq"), "more than 6 header lines", 0),
            (RESPONSE.replace(b"Call-ID: a@b", b"Call-ID: " + b"a" * 60),
             "line longer than the limit of 60 octets", RESPONSE.index(b"Call-ID") + 60)):
        stream = RESPONSE * 2 + bad + RESPONSE
        with pytest.raises(SipParseError) as caught:
            list(sipstatus.iter_messages(stream, limits=limits))
        expected = error_at(stream, 2 * len(RESPONSE) + at, what,
                            rule="SIP-message (RFC 3261 §7)")
        assert str(caught.value) == str(expected)


# -- the same messages as one at a time ----------------------------------------------------


def test_a_stream_gives_what_each_message_gives_alone() -> None:
    parts = [RESPONSE, REQUEST, FOLDED, RESPONSE]
    stream = b"\r\n\r\n".join(parts)
    for strict in (False, True):
        messages = list(sipstatus.iter_messages(stream, strict=strict))
        assert messages == [sipstatus.parse(p, strict=strict) for p in parts]
        assert [bytes(m) for m in messages] == [bytes(sipstatus.parse(p)) for p in parts]
        assert [m.defects for m in messages] == [()] * 4
    lenient = list(sipstatus.iter_messages(RESPONSE + BARE_LF + REQUEST))
    assert [m.body for m in lenient] == [b"hello", b"body", b"abc"]
    assert lenient[1].defects == ("bare LF line endings",)
    with pytest.raises(SipParseError):
        list(sipstatus.iter_messages(RESPONSE + BARE_LF + REQUEST, strict=True))


def test_the_end_of_a_stream() -> None:
    assert list(sipstatus.iter_messages(b"")) == []
    assert list(sipstatus.iter_messages(b"\r\n\n\r\r\n")) == []
    [one] = sipstatus.iter_messages(RESPONSE + b"\r\n\r\n\n")
    assert one.body == b"hello"
    # Lenient: a last message without an empty line, or without Content-Length.
    head = b"SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\nContent-Length: 0"
    *_, last = sipstatus.iter_messages(RESPONSE + head)
    assert last.defects == ("no empty line after the header section",)
    *_, last = sipstatus.iter_messages(RESPONSE + b"SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n\r\n")
    assert last.defects == ("no Content-Length on a stream: body taken as empty",)
    with pytest.raises(SipParseError, match="expected an empty line"):
        list(sipstatus.iter_messages(RESPONSE + head, strict=True))


def test_errors_keep_their_place_in_the_whole_stream() -> None:
    # A body longer than what follows: the error is at the end of the stream.
    stream = RESPONSE + REQUEST + RESPONSE.replace(b"Content-Length: 5", b"Content-Length: 50")
    with pytest.raises(SipParseError) as caught:
        list(sipstatus.iter_messages(stream))
    expected = error_at(stream, len(stream), "Content-Length 50 is larger than the 5 octets "
                        "that follow the header section", rule="Content-Length (RFC 3261 §18.3)")
    assert (str(caught.value), caught.value.offset) == (str(expected), len(stream))
    # A fault in a head: line and column in the whole stream.
    broken = REQUEST.replace(b"CSeq: 2 MESSAGE", b"CSeq: 2 MESSAGE\rX")
    stream = RESPONSE + REQUEST + broken
    with pytest.raises(SipParseError) as caught:
        list(sipstatus.iter_messages(stream, strict=True))
    at = stream.index(b"\rX")
    assert caught.value.offset == at
    assert (caught.value.line, caught.value.column) == (
        stream.count(b"\n", 0, at) + 1, at - stream.rindex(b"\n", 0, at))


# -- linear time -----------------------------------------------------------------------


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("limits", [NO_LIMITS, Limits()], ids=["no-limits", "default"])
def test_a_stream_is_read_in_linear_time(strict: bool, limits: Limits) -> None:
    # Issue 10: 1k/2k/4k/8k messages took 0.49/1.84/7.6/32.5 s (each step decoded and
    # sliced the whole rest of the stream).
    # Bodies of 4 kB make the old quadratic copying show (80x at 300 messages) over the
    # parsing (8x); 2.5 and 20 MB, both past the L2 cache, whose edge would look like growth.
    message = RESPONSE.replace(b"Content-Length: 5\r\n\r\nhello",
                               b"Content-Length: 4000\r\n\r\n" + b"x" * 4_000)
    ratio = growth(read_stream(strict, limits), lambda n: message * n, 600)
    assert ratio < GROWTH_LIMIT


def test_a_lenient_stream_of_bare_lf_messages_is_read_in_linear_time() -> None:
    # No CRLF CRLF anywhere: looking for it first, then for LF LF, would scan the whole
    # rest of the stream for each message.
    ratio = growth(read_stream(False), lambda n: BARE_LF * n, 2_000)
    assert ratio < GROWTH_LIMIT


def test_a_stream_with_long_bodies_and_keepalives_is_read_in_linear_time() -> None:
    body = b"v=0\r\n" * 400
    message = (b"SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\nContent-Length: %d\r\n\r\n" % len(body)
               + body)
    ratio = growth(read_stream(False), lambda n: (b"\r\n" * 50 + message) * n, 1_000)
    assert ratio < GROWTH_LIMIT


# -- SipParseError, and nothing else -----------------------------------------------------


HUGE = b"9" * 5_000  # more digits than int() converts (sys.get_int_max_str_digits: 4,300)


def test_a_content_length_of_5000_digits_is_too_large_not_a_valueerror() -> None:
    data = b"SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\nContent-Length: " + HUGE + b"\r\n\r\nbody"
    lenient = sipstatus.parse(data)
    assert lenient.body == b"body"
    assert lenient.defects == (
        "Content-Length 99999999999999999999... (5000 digits) exceeds the 4 octets of body",)
    for strict in (True, False):
        with pytest.raises(SipParseError, match=r"Content-Length 9{20}\.\.\. \(5000 digits\) "
                           r"is larger than the 4 octets") as caught:
            if strict:
                sipstatus.parse(data, strict=True)
            else:
                list(sipstatus.iter_messages(data))
        assert caught.value.offset == len(data)
        assert caught.value.rule == "Content-Length (RFC 3261 §18.3)"
    # Leading zeros do not make a number large.
    padded = data.replace(HUGE, b"0" * 5_000 + b"4")
    assert sipstatus.parse(padded, strict=True).body == b"body"
    assert [m.body for m in sipstatus.iter_messages(padded * 2)] == [b"body", b"body"]
    # Just under and over the line of 18 digits.
    for digits in (b"9" * 18, b"1" + b"0" * 18):
        with pytest.raises(SipParseError, match=f"Content-Length {digits.decode()} is larger"):
            sipstatus.parse(data.replace(HUGE, digits), strict=True)


@pytest.mark.parametrize("text", ["\ud800", "SIP/2.0 200 \ud800", "\udcff\udbff",
                                  "SIP/2.0 200 OK\r\nX: ok\udc80\udfff\r\n\r\n"])
def test_a_str_with_a_lone_surrogate_is_a_sip_parse_error(text: str) -> None:
    done = text[:next(i for i, c in enumerate(text)
                      if "\ud800" <= c <= "\udfff" and not "\udc80" <= c <= "\udcff")]
    at = len(done.encode("utf-8", "surrogateescape"))
    entry_points: list[Callable[[str], object]] = [
        sipstatus.parse, sipstatus.parse_request, sipstatus.parse_response,
        sipstatus.parse_status_line, lambda t: list(sipstatus.iter_messages(t)),
        lambda t: sipstatus.parse(t, strict=True)]
    for call in entry_points:
        with pytest.raises(SipParseError, match=r"a lone surrogate\) cannot be encoded in "
                                                r"UTF-8") as caught:
            call(text)
        assert caught.value.offset == at
        assert caught.value.line == done.count("\n") + 1


def test_surrogate_escapes_still_stand_for_their_octets() -> None:
    message = sipstatus.parse_response("SIP/2.0 200 Bus\udcff\r\nContent-Length: 0\r\n\r\n")
    assert message.reason == "Bus\udcff"
    assert bytes(message).startswith(b"SIP/2.0 200 Bus\xff\r\n")


def test_classify_of_a_str_with_a_lone_surrogate_is_a_sip_parse_error() -> None:
    with pytest.raises(SipParseError, match="lone surrogate"):
        sipstatus.classify("SIP/2.0 200 \ud800")
