"""What an adversarial run found in the values, the accessors and the classifier (issue 10),
each pinned; and the error contract over generated, mutated and arbitrary messages, reading
every attribute of every value (``parse_exercise.exercise``) in both modes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from growth import grows_linearly
from hypothesis import given
from hypothesis import strategies as st
from parse_exercise import exercise

import sipstatus
from sipstatus import Limits, SipParseError
from sipstatus import strategies as sips

NO_LIMITS = Limits(None, None, None)
HEAD = b"SIP/2.0 302 Moved Temporarily\r\nCall-ID: a@b\r\nCSeq: 1 INVITE\r\n"


def response(*lines: bytes, head: bytes = HEAD) -> bytes:
    return head + b"".join(line + b"\r\n" for line in lines) + b"Content-Length: 0\r\n\r\n"


# -- q values (RFC 3261 §20.10, qvalue in §25.1) ---------------------------------------------

BAD_Q = [b"0.5x", b"", b"nan", b"inf", b"7", b"-5", b"1_0", b"1e400", b"1.5", b"0.1234",
         b"1.001", b"\xc2\xb2"]


@pytest.mark.parametrize("q", BAD_Q)
def test_strict_rejects_a_q_that_is_not_a_qvalue(q: bytes) -> None:
    with pytest.raises(SipParseError) as caught:
        sipstatus.parse(response(b"Contact: <sip:a@b>;q=" + q), strict=True)
    assert caught.value.rule == "Contact (RFC 3261 §20.10)"


@pytest.mark.parametrize("q", BAD_Q)
def test_lenient_gives_none_for_an_invalid_q_and_lists_a_defect(q: bytes) -> None:
    message = sipstatus.parse(response(b"Contact: <sip:a@b>;q=" + q))
    (entry,) = message.contact
    assert entry.q is None
    assert entry.has_invalid_q
    assert any("Contact" in defect for defect in message.defects)


@pytest.mark.parametrize(("q", "value"), [
    (b"0", 0.0), (b"0.", 0.0), (b"0.5", 0.5), (b"0.001", 0.001), (b"1", 1.0), (b"1.000", 1.0),
])
def test_rfc_qvalues_read_as_floats(q: bytes, value: float) -> None:
    (entry,) = sipstatus.parse(response(b"Contact: <sip:a@b>;q=" + q), strict=True).contact
    assert (entry.q, entry.has_invalid_q) == (value, False)


def test_a_q_value_running_into_the_next_line_is_invalid() -> None:
    message = sipstatus.parse(HEAD + b"Contact: <sip:a@b>;q=0.5\r\n x\r\nContent-Length: 0\r\n\r\n")
    assert message.contact[0].q is None


def test_classify_ranks_a_contact_with_an_invalid_q_last_and_says_so() -> None:
    data = response(b"Contact: <sip:bad@b>;q=nan, <sip:good@b>;q=0.1, <sip:none@b>")
    advice = sipstatus.classify(sipstatus.parse(data)).advice
    assert [str(t.uri) for t in advice.targets] == ["sip:none@b", "sip:good@b", "sip:bad@b"]
    assert "invalid q='nan'" in advice.summary
    assert "no Contact" not in advice.summary


def test_a_redirect_whose_only_contact_has_a_bad_q_still_redirects() -> None:
    advice = sipstatus.classify(sipstatus.parse(response(b"Contact: <sip:a@b>;q=0.5x"))).advice
    assert [str(t.uri) for t in advice.targets] == ["sip:a@b"]
    assert "no Contact was given" not in advice.summary


# -- numbers -----------------------------------------------------------------------------------

LONG = b"9" * 5000


def test_a_cseq_of_5000_digits_is_a_parse_error_not_a_value_error() -> None:
    data = response(head=b"SIP/2.0 200 OK\r\nCall-ID: a@b\r\nCSeq: " + LONG + b" INVITE\r\n")
    message = sipstatus.parse(data, limits=NO_LIMITS)
    with pytest.raises(SipParseError):
        _ = message.cseq
    assert any("2**31" in defect for defect in message.defects)
    with pytest.raises(SipParseError, match="2\\*\\*31"):
        message.validate()
    with pytest.raises(SipParseError, match="2\\*\\*31"):
        sipstatus.parse(data, strict=True, limits=NO_LIMITS)


def test_contact_expires_of_5000_digits_reads_as_the_largest_delta() -> None:
    data = response(b"Contact: <sip:a@b>;expires=" + LONG)
    (entry,) = sipstatus.parse(data, limits=NO_LIMITS).contact
    assert entry.expires == 2**32 - 1
    with pytest.raises(SipParseError, match="2\\*\\*32-1"):
        sipstatus.parse(data, strict=True, limits=NO_LIMITS)


@pytest.mark.parametrize("text", [b"\xc2\xb2", b"-1", b"+5", b"1_0", b" "])
def test_contact_expires_that_is_not_delta_seconds_is_none(text: bytes) -> None:
    (entry,) = sipstatus.parse(response(b"Contact: <sip:a@b>;expires=" + text)).contact
    assert entry.expires is None


@pytest.mark.parametrize("header", [b"Min-Expires", b"Expires", b"Max-Forwards", b"RSeq"])
@pytest.mark.parametrize("text", [b"-1", b"+5", b"1_0", b"\xc2\xb2"])
def test_numbers_are_ascii_digits(header: bytes, text: bytes) -> None:
    message = sipstatus.parse(response(header + b": " + text))
    accessor = header.decode().lower().replace("-", "_")
    with pytest.raises(SipParseError):
        getattr(message, accessor)


def test_min_expires_minus_one_gives_no_advice_of_a_negative_expiry() -> None:
    data = response(b"Min-Expires: -1", head=b"SIP/2.0 423 Interval Too Brief\r\nCall-ID: a@b\r\n"
                    b"CSeq: 1 REGISTER\r\n")
    advice = sipstatus.classify(sipstatus.parse(data)).advice
    assert advice.min_expires is None
    assert "-1" not in advice.summary
    assert any(note.startswith("Min-Expires") for note in advice.unreadable)


def test_a_retry_after_beyond_delta_seconds_is_not_advised() -> None:
    data = response(b"Retry-After: 99999999999999999999",
                    head=b"SIP/2.0 503 Service Unavailable\r\nCall-ID: a@b\r\nCSeq: 1 INVITE\r\n")
    message = sipstatus.parse(data)
    assert message.retry_after is not None
    advice = sipstatus.classify(message).advice
    assert advice.retry_after is None
    assert "99999999999999999999" not in advice.summary
    assert advice.unreadable == ("Retry-After: 99999999999999999999 s is above 2**32-1",)


def test_expires_above_the_largest_delta_reads_as_it() -> None:
    message = sipstatus.parse(response(b"Expires: 99999999999", b"Min-Expires: 4294967296"))
    assert (message.expires, message.min_expires) == (2**32 - 1, 2**32 - 1)


# -- linear time: n against 8n in one run -----------------------------------------------------


def _read_everything(data: bytes, strict: bool) -> Callable[[], object]:
    def run() -> object:
        try:
            message = sipstatus.parse(data, strict=strict, limits=NO_LIMITS)
        except SipParseError:
            return None
        return exercise(message)
    return run


def test_strict_parsing_of_deeply_nested_comments_is_linear() -> None:
    line = b"Server: a ((((((((x))))))))\r\n"
    grows_linearly(lambda n: _read_everything(
        b"SIP/2.0 200 OK\r\nCall-ID: a@b\r\nCSeq: 1 INVITE\r\n" + line * n
        + b"Content-Length: 0\r\n\r\n", True), 16)


@pytest.mark.parametrize("unit", [b";method=INVITE", b";transport=tcp", b";lr", b";maddr=a.b"])
@pytest.mark.parametrize("shape", [b"To: <sip:h{}=>", b"Contact: sip:h{}=", b"Route: <sip:h{}`>"])
def test_strict_uris_with_many_named_parameters_are_linear(shape: bytes, unit: bytes) -> None:
    # A named URI parameter is also an other-param: without the grammar's guard, a URI that
    # fails after n of them was tried 2^n ways.
    grows_linearly(lambda n: _read_everything(response(shape.replace(b"{}", unit * n)), True), 2)


@pytest.mark.parametrize("header", [b"Contact", b"Route", b"Reason", b"From"])
@pytest.mark.parametrize("unit", [b'\\"', b'"', b"<", b"\xe2\x80\xb9", b'"<\\', b";q=\\\""])
def test_lenient_lists_of_open_quotes_and_brackets_are_linear(header: bytes, unit: bytes) -> None:
    grows_linearly(lambda n: _read_everything(response(header + b": " + unit * n), False), 600)


# -- the error contract, every attribute of every value ----------------------------------------


def _only_our_error(data: bytes, strict: bool) -> None:
    try:
        message = sipstatus.parse(data, strict=strict)
    except SipParseError:
        return
    exercise(message)


@given(st.one_of(sips.responses(), sips.requests(), sips.malformed().map(lambda m: m.data)),
       st.booleans())
def test_only_sip_parse_error_escapes_generated_and_broken_messages(data: bytes,
                                                                    strict: bool) -> None:
    _only_our_error(data, strict)


def test_the_walk_reads_lazy_parts() -> None:
    message = sipstatus.parse(response(b"Contact: \"A\" <sip:u:p@h:5060;transport=tcp?X=1>;q=0.5",
                                       b"Via: SIP/2.0/UDP h:5060;branch=z9;rport"))
    seen = exercise(message)
    for expected in (5060, "z9", "transport", "tcp", 0.5, "A", "u", "p", "UDP", "X", "1"):
        assert expected in seen, expected


# -- the quick range look of strict checking misses no range fault --------------------------

_BIG = st.sampled_from(["4294967296", "99999999999", "0004294967296", "4294967295", "256",
                        "255", "1", "5x", ""])


@st.composite
def _ranged_values(draw: st.DrawFn) -> tuple[bytes, bytes]:
    header = draw(st.sampled_from([b"Contact", b"Via"]))
    param = draw(st.sampled_from(["expires", "EXPIRES", "Expires", "ttl", "TTL", "q"]))
    space = st.sampled_from(["", " ", "\t", " \t"])
    number = draw(_BIG)
    quoted = draw(st.booleans())
    value = f'"{number}"' if quoted else number
    param_text = f"{draw(space)};{draw(space)}{param}{draw(space)}={draw(space)}{value}"
    if header == b"Contact":
        entry = draw(st.sampled_from(["<sip:a@b>", "sip:a@b", '"n;expires=9" <sip:a@b>',
                                      "<sip:a@b;expires=99999999999>"]))
    else:
        entry = draw(st.sampled_from(["SIP/2.0/UDP h", "SIP/2.0/TCP h:5060;branch=z9hG4bK1"]))
    entries = [entry + param_text * draw(st.integers(0, 2))
               for _ in range(draw(st.integers(1, 3)))]
    return header, ", ".join(entries).encode()


@given(_ranged_values())
def test_the_quick_range_look_finds_every_range_fault(header_value: tuple[bytes, bytes]) -> None:
    from sipstatus import _validate

    header, value = header_value
    message = sipstatus.parse(response(header + b": " + value))
    if _validate.semantic_faults(message.headers, None):
        key = header.decode().lower()
        assert _validate._may_be_out_of_range(key, value.decode(), None), value
