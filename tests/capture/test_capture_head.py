"""The tolerant head scan: recognition, framing length, fields."""

from __future__ import annotations

import pytest

from sipstatus.capture._head import START_LINE, header_end, message_length, scan_head


@pytest.mark.parametrize("line, sip", [
    (b"INVITE sip:bob@x SIP/2.0\r\n", True),
    (b"X-CUSTOM.1 <urn:x> SIP/2.0\n", True),
    (b"SIP/2.0 200 OK\r\n", True),
    (b"SIP/2.0 180\r\n", True),
    (b"SIP/2.0 2000 OK\r\n", False),
    (b"INVITE sip:bob@x SIP/2.0", False),  # no line end yet
    (b"INVITE  sip:bob@x SIP/2.0\r\n", False),
    (b"HTTP/1.1 200 OK\r\n", False),
    (b"INVITE sip:bob@x sip/2.0\r\n", False),
])
def test_start_line_recognition(line: bytes, sip: bool) -> None:
    assert (START_LINE.match(line) is not None) is sip


def test_fields_compact_forms_any_case_and_folding() -> None:
    data = (b"SIP/2.0 486 Busy Here\r\n"
            b"v: SIP/2.0/UDP a;branch=z9hG4bKfirst, SIP/2.0/UDP b;branch=z9hG4bKsecond\r\n"
            b"VIA: SIP/2.0/UDP c;branch=z9hG4bKthird\r\n"
            b"f: <sip:a@x;tag=not-this>;TAG=ft\r\n"
            b"t: sip:b@x;tag=tt\r\n"
            b"i: abc\r\n  def\r\n"
            b"cseq :  42   INVITE\r\n"
            b"l: 3\r\n\r\nxyz")
    head = scan_head(data)
    assert head is not None
    assert (head.kind, head.status_code, head.reason, head.method) == (
        "response", 486, "Busy Here", "")
    assert (head.call_id, head.cseq_seq, head.cseq_method) == ("abc def", 42, "INVITE")
    assert (head.via_branch, head.from_tag, head.to_tag) == ("z9hG4bKfirst", "ft", "tt")
    assert head.content_length == 3 and head.problem == ""
    lite = scan_head(data, full=False)
    assert lite is not None and lite.via_branch == "" and lite.has_to_tag


def test_bare_lf_message() -> None:
    data = b"BYE sip:b@x SIP/2.0\nCall-ID: c\nCSeq: 2 BYE\nContent-Length: 0\n\n"
    head = scan_head(data)
    assert head is not None and (head.method, head.call_id, head.cseq_seq) == ("BYE", "c", 2)
    assert header_end(data) == len(data)


@pytest.mark.parametrize("data, problem", [
    (b"SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n\r\n", "no Call-ID"),
    (b"SIP/2.0 200 OK\r\nCall-ID: c\r\n\r\n", "no CSeq"),
    (b"SIP/2.0 200 OK\r\nCall-ID: c\r\nCSeq: one INVITE\r\n\r\n", "unreadable CSeq"),
    (b"SIP/2.0 200 OK\r\nCall-ID: c\r\nCSeq: 1 X\r\nContent-Length: -1\r\n\r\n",
     "unreadable Content-Length"),
    (b"SIP/2.0 200 OK\r\nCall-ID: c\r\nCSeq: 1 X\r\n", "no empty line"),
])
def test_problems_are_named(data: bytes, problem: str) -> None:
    head = scan_head(data)
    assert head is not None and problem in head.problem


def test_message_length_uses_content_length() -> None:
    data = b"xx" + b"OPTIONS sip:b SIP/2.0\r\nl: 5\r\n\r\nhelloNEXT"
    end = header_end(data, 2)
    assert message_length(data, 2, end) == (len(data) - 2 - 4, True)
    no_length = b"OPTIONS sip:b SIP/2.0\r\nCall-ID: x\r\n\r\nrest"
    assert message_length(no_length, 0, header_end(no_length)) == (len(no_length) - 4, False)


def test_not_sip() -> None:
    assert scan_head(b"GET / HTTP/1.1\r\n\r\n") is None
