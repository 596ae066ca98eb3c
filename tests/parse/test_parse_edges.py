"""Edges of parsing through the public API: what lenient mode tolerates and notes, what strict
mode rejects and where, the Headers sequence, and typed accessors that cannot read a value."""

from __future__ import annotations

import pytest

import sipstatus
from sipstatus import Headers, SipParseError

TAIL = b"Call-ID: a@h\r\nCSeq: 1 OPTIONS\r\n\r\n"
OK = b"SIP/2.0 200 OK\r\n"


def _both(data: bytes) -> tuple[tuple[str, ...], SipParseError]:
    """Lenient defects, and the strict error, of one message."""
    defects = sipstatus.parse(data).defects
    with pytest.raises(SipParseError) as caught:
        sipstatus.parse(data, strict=True)
    return defects, caught.value


# -- input types ----------------------------------------------------------------------------


def test_bytes_bytearray_memoryview_and_str_are_the_same_message() -> None:
    data = OK + TAIL
    message = sipstatus.parse(data)
    assert sipstatus.parse(bytearray(data)) == message
    assert sipstatus.parse(memoryview(data)) == message
    assert sipstatus.parse(data.decode("ascii")) == message
    with pytest.raises(TypeError, match="expected bytes or str, not int"):
        sipstatus.parse(200)  # type: ignore[arg-type]


# -- lenient notes, strict rejects -----------------------------------------------------------


def test_a_continuation_line_before_any_header() -> None:
    defects, error = _both(OK + b"  folded\r\n" + TAIL)
    assert defects == ("continuation line before any header: 'folded'",)
    assert str(error) == "continuation line before any header at line 2, column 1"
    assert error.rule == "message-header (RFC 3261 §7.3)"


def test_an_unsupported_version_in_a_status_line() -> None:
    defects, error = _both(b"SIP/3.0 200 OK\r\n" + TAIL)
    assert defects == ("unsupported version SIP/3.0",)
    assert sipstatus.parse(b"SIP/3.0 200 OK\r\n" + TAIL).version == "SIP/3.0"
    assert str(error) == "unsupported version SIP/3.0 (505, RFC 3261 §8.2.2) at line 1, column 1"


def test_a_lower_case_version_is_the_same_version() -> None:
    # RFC 3261 §7.1: the version string is case-insensitive (sent in upper case).
    for first in (b"sip/2.0 200 OK\r\n", b"OPTIONS sip:b@example.com sip/2.0\r\n"):
        for strict in (False, True):
            message = sipstatus.parse(first + TAIL, strict=strict)
            assert message.version == "SIP/2.0"
            assert message.defects == ()


def test_extra_spaces_in_a_status_line() -> None:
    data = b"SIP/2.0  486  Busy Here\r\n" + TAIL
    defects, error = _both(data)
    message = sipstatus.parse(data)
    assert (message.status_code, message.reason) == (486, "Busy Here")
    assert defects == ("malformed spacing in the Status-Line",)
    assert str(error) == "expected Status-Code (3 digits) at line 1, column 9"


@pytest.mark.parametrize(("line", "text"), [
    (b"SIP/2.0 700 Big", "Status-Code 700 outside 100-699 (RFC 3261 §21) at line 1, column 9"),
    (b"SIP/2.0 099 Small",
     "Status-Code 99 outside 100-699 (RFC 3261 §21) at line 1, column 9"),
    (b"SIP/2.0 2x0 OK", "expected Status-Code (3 digits) at line 1, column 9"),
    (b"SIP/2.0  2x0  OK", "expected Status-Code (3 digits) at line 1, column 9"),
])
def test_status_codes_that_no_mode_accepts(line: bytes, text: str) -> None:
    for strict in (False, True):
        with pytest.raises(SipParseError) as caught:
            sipstatus.parse(line + b"\r\n" + TAIL, strict=strict)
        assert str(caught.value) == text
        assert caught.value.rule == "Status-Line (RFC 3261 §7.2)"


def test_the_same_content_length_twice() -> None:
    data = OK + b"Content-Length: 2\r\nl: 2\r\n\r\nhi"
    assert sipstatus.parse(data).defects == ("Content-Length given twice",)
    assert sipstatus.parse(data).body == b"hi"
    strict = sipstatus.parse(data, strict=True)  # repeated, but it frames the body
    assert (strict.body, strict.defects) == (b"hi", ())


def test_a_via_ttl_above_255() -> None:
    data = OK + b"Via: SIP/2.0/UDP h;ttl=300;branch=z9hG4bK1\r\n" + TAIL
    defects, error = _both(data)
    assert defects == ("Via ttl 300 is above 255 (RFC 3261 §20.42) at line 2",)
    assert str(error) == "Via ttl 300 is above 255 (RFC 3261 §20.42) at line 2, column 6"
    assert sipstatus.parse(data).via[0].params["ttl"] == "300"
    with pytest.raises(SipParseError, match="Via ttl 300 is above 255"):
        sipstatus.parse(data).validate()


@pytest.mark.parametrize(("value", "column"), [(b"a\x01b", 9), (b"\xff", 8), (b"ok\x7f", 10)])
def test_strict_rejects_a_bad_octet_in_an_extension_header(value: bytes, column: int) -> None:
    data = OK + b"X-Foo: " + value + b"\r\n" + TAIL
    with pytest.raises(SipParseError) as caught:
        sipstatus.parse(data, strict=True)
    assert str(caught.value) == f"invalid octet in X-Foo header at line 2, column {column}"
    assert caught.value.rule == "extension-header (RFC 3261 §25.1)"
    assert sipstatus.parse(data).headers.get("X-Foo") is not None  # lenient keeps it


def test_lenient_reports_a_bad_octet_in_an_extension_header() -> None:
    assert sipstatus.parse(OK + b"X-Foo: a\x01b\r\n" + TAIL).defects != ()


def test_validate_raises_what_strict_parsing_raises() -> None:
    data = b"OPTIONS sip:b@example.com SIP/2.0\r\nMax-Forwards: 300\r\n" + TAIL
    message = sipstatus.parse(data)
    with pytest.raises(SipParseError) as strict:
        sipstatus.parse(data, strict=True)
    with pytest.raises(SipParseError) as validated:
        message.validate()
    assert str(validated.value) == str(strict.value) == (
        "Max-Forwards 300 is above 255 (RFC 3261 §20.22) at line 2, column 15")
    sipstatus.parse(OK + TAIL).validate()  # nothing to say


# -- accessors that cannot read their value ---------------------------------------------------


@pytest.mark.parametrize("uri", ["sip:[::1", "sip:a@b:x"])
def test_an_unreadable_request_uri(uri: str) -> None:
    message = sipstatus.parse_request(f"OPTIONS {uri} SIP/2.0\r\n".encode() + TAIL)
    assert message.uri == uri
    with pytest.raises(SipParseError) as caught:
        _ = message.request_uri
    error = caught.value
    assert str(error) == f"cannot read the Request-URI {uri!r} at line 1, column 9"
    assert (error.offset, error.line, error.column) == (8, 1, 9)
    assert error.rule == "Request-URI (RFC 3261 §19.1)"


def test_a_contact_wildcard() -> None:
    message = sipstatus.parse(b"REGISTER sip:r SIP/2.0\r\nContact: *\r\nExpires: 0\r\n" + TAIL)
    [entry] = message.contact
    assert entry.is_wildcard and str(entry) == "*"
    assert str(entry.uri) == "*" and entry.display_name is None and len(entry.params) == 0
    assert entry.q is None and entry.expires is None


def test_rack_read_forgivingly() -> None:
    message = sipstatus.parse(b"PRACK sip:b SIP/2.0\r\nRAck:  776656   1  INVITE \r\n" + TAIL)
    assert message.rack is not None
    assert (message.rack.rseq, message.rack.cseq, message.rack.method) == (776656, 1, "INVITE")
    assert str(message.rack) == "776656 1 INVITE"


@pytest.mark.parametrize(("header", "accessor", "rule"), [
    (b"WWW-Authenticate: Dig\"est realm=\"r\"", "www_authenticate", "WWW-Authenticate"),
    (b"RAck: 1 x INVITE", "rack", "RAck"),
    (b"CSeq: x INVITE", "cseq", "CSeq"),
])
def test_an_unreadable_typed_header_is_a_parse_error(header: bytes, accessor: str,
                                                     rule: str) -> None:
    message = sipstatus.parse(OK + header + b"\r\nCall-ID: a@h\r\n\r\n")
    with pytest.raises(SipParseError) as caught:
        getattr(message, accessor)
    assert caught.value.rule.startswith(rule), caught.value.rule
    assert caught.value.line == 2 and str(caught.value).endswith(
        f"at line 2, column {caught.value.column}")


def test_an_unreadable_via_is_a_parse_error_when_split() -> None:
    # Via values are split on first use, apart from the message: the error names the value
    # and the rule (its position in the message is not known there).
    message = sipstatus.parse(OK + b"Via: SIP/2.0/UDP [::1;branch=z9hG4bK1\r\n" + TAIL)
    [via] = message.via  # cutting the list at commas never fails
    assert str(via) == "SIP/2.0/UDP [::1;branch=z9hG4bK1"
    with pytest.raises(SipParseError) as caught:
        _ = via.host
    assert str(caught.value) == "cannot read the Via sent-by '[::1'"
    assert caught.value.rule == "Via (RFC 3261 §20.42)"
    assert "invalid Via header" in message.defects[0]


# -- Headers ----------------------------------------------------------------------------------

HEADED = (OK + b"Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nv: SIP/2.0/TCP g\r\n"
          b"Subject: caf\xc3\xa9\r\nCall-ID: a\r\n\r\n")


def test_headers_are_a_sequence_of_pairs() -> None:
    headers = sipstatus.parse(HEADED).headers
    assert len(headers) == 4
    assert headers[0] == ("Via", "SIP/2.0/UDP h;branch=z9hG4bK1")
    assert headers[-1] == ("Call-ID", "a")
    assert headers[1:3] == (("v", "SIP/2.0/TCP g"), ("Subject", "café"))
    assert list(headers)[2] == ("Subject", "café")
    assert headers.get_all("VIA") == ("SIP/2.0/UDP h;branch=z9hG4bK1", "SIP/2.0/TCP g")
    assert "v" in headers and "Via" in headers and 5 not in headers
    assert headers.get("X-None", "default") == "default"
    with pytest.raises(IndexError):
        _ = headers[4]


def test_header_fields_keep_names_offsets_and_bytes() -> None:
    headers = sipstatus.parse(HEADED).headers
    subject = headers.fields[2]
    assert (subject.name, subject.key) == ("Subject", "subject")
    assert subject.value == "caf\xc3\xa9"  # one character per octet
    assert subject.text == "café"  # for people
    assert HEADED[subject.offset:subject.offset + 5] == b"caf\xc3\xa9"
    assert headers.fields[1].key == "via"  # the compact form's long name
    assert bytes(headers) == HEADED[len(OK):-2]


def test_headers_equality_and_hash() -> None:
    first, second = sipstatus.parse(HEADED).headers, sipstatus.parse(HEADED).headers
    assert first == second and hash(first) == hash(second)
    assert first != list(first)
    assert first != sipstatus.parse(OK + TAIL).headers
    assert repr(first).startswith("Headers([('Via', 'SIP/2.0/UDP h;branch=z9hG4bK1'), ")


def test_headers_from_pairs() -> None:
    headers = Headers.from_pairs([("Call-ID", "x"), ("i", "y")])
    assert headers.get_all("call-id") == ("x", "y")
    assert [(f.name, f.value, f.offset) for f in headers.fields] == [
        ("Call-ID", "x", 11), ("i", "y", 17)]
    for pairs in ([("X", "a\r\nb")], [("X\n", "a")], [("X", "a\rb")]):
        with pytest.raises(ValueError, match="a header name or value holds a CR or LF"):
            Headers.from_pairs(pairs)
