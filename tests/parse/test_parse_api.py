"""The parsing API: start lines, headers, typed accessors, errors, limits, write-back."""

from __future__ import annotations

import pytest

import sipstatus
from sipstatus import Limits, SipParseError, SipRequest, SipResponse

RESPONSE = (
    b"SIP/2.0 486 Busy Here\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds"
    b";received=192.0.2.101;rport=5060\r\n"
    b"v: SIP/2.0/TCP proxy.example.com;branch=z9hG4bKnashds8, SIP/2.0/UDP [2001:db8::9]:5070"
    b";branch=z9hG4bK3\r\n"
    b'f: "Alice \\"A\\" Liddell" <sip:alice@atlanta.example.com>;tag=1928301774\r\n'
    b"t: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
    b"i: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:bob@192.0.2.4>;q=0.7;expires=3600, \"Bob mobile\" <sips:bob@m.example.com>"
    b";q=1\r\n"
    b"Retry-After: 120 (I'm in a meeting);duration=1800\r\n"
    b"Warning: 399 biloxi.example.com \"Busy, try later\", 370 192.0.2.4:5060 \"no bw\"\r\n"
    b"Reason: Q.850;cause=17;text=\"User busy\"\r\n"
    b"Supported: timer,  100rel\r\n"
    b"Allow: INVITE, ACK, CANCEL, BYE\r\n"
    b"Accept: application/sdp;level=1, text/plain;charset=utf-8;q=0.5\r\n"
    b"Server: Kamailio (5.6.3 (x86_64/linux))\r\n"
    b"X-Custom: anything goes (here)\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)


def test_response_start_line_and_headers() -> None:
    message = sipstatus.parse_response(RESPONSE, strict=True)
    assert (message.version, message.status_code, message.reason) == ("SIP/2.0", 486,
                                                                     "Busy Here")
    assert message.headers.get("Call-ID") == message.headers.get("i")
    assert message.headers.get("CALL-id") == "a84b4c76e66710@pc33.atlanta.example.com"
    assert message.headers.get_all("via") == (
        "SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds"
        ";received=192.0.2.101;rport=5060",
        "SIP/2.0/TCP proxy.example.com;branch=z9hG4bKnashds8, SIP/2.0/UDP [2001:db8::9]:5070"
        ";branch=z9hG4bK3",
    )
    names = [name for name, _ in message.headers]
    assert names[:4] == ["Via", "v", "f", "t"]
    assert "x-custom" in message.headers and "X-Other" not in message.headers
    assert message.headers.get("X-Other", "none") == "none"
    assert message.body == b""


def test_typed_accessors() -> None:
    message = sipstatus.parse(RESPONSE, strict=True)
    assert message.call_id == "a84b4c76e66710@pc33.atlanta.example.com"
    assert message.cseq == sipstatus.CSeq(314159, "INVITE")
    via = message.via
    assert len(via) == 3
    assert (via[0].transport, via[0].host, via[0].port) == ("UDP", "pc33.atlanta.example.com",
                                                            5060)
    assert (via[0].branch, via[0].received, via[0].rport) == ("z9hG4bK776asdhds",
                                                              "192.0.2.101", "5060")
    assert (via[2].host, via[2].port, via[2].rport) == ("[2001:db8::9]", 5070, None)
    assert message.from_ is not None and message.to is not None
    assert message.from_.display_name == 'Alice "A" Liddell'
    assert str(message.from_.uri) == "sip:alice@atlanta.example.com"
    assert message.from_.tag == "1928301774" and message.to.tag == "a6c85cf"
    assert [(str(c.uri), c.q, c.expires) for c in message.contact] == [
        ("sip:bob@192.0.2.4", 0.7, 3600), ("sips:bob@m.example.com", 1.0, None)]
    assert message.contact[1].display_name == "Bob mobile"
    retry = message.retry_after
    assert retry is not None
    assert (retry.seconds, retry.comment, retry.duration) == (120, "I'm in a meeting", 1800)
    assert [(w.code, w.agent, w.warn_text) for w in message.warning] == [
        (399, "biloxi.example.com", "Busy, try later"), (370, "192.0.2.4:5060", "no bw")]
    reason = message.reason_header[0]
    assert (reason.protocol, reason.cause, reason.reason_text) == ("Q.850", 17, "User busy")
    assert message.supported == ("timer", "100rel")
    assert message.allow == ("INVITE", "ACK", "CANCEL", "BYE")
    assert [str(a) for a in message.accept] == ["application/sdp;level=1",
                                                "text/plain;charset=utf-8;q=0.5"]
    assert message.accept[1].params["q"] == "0.5"
    assert message.content_length == 0
    assert message.max_forwards is None and message.require == () and message.min_se is None


def test_challenges_and_small_headers() -> None:
    data = (
        b"SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
        b"From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: c1\r\nCSeq: 1 REGISTER\r\n"
        b'WWW-Authenticate: Digest realm="atlanta.example.com", qop="auth,auth-int", '
        b'nonce="84a4cc6f3082121f32b42a2187831a9e", opaque="", stale=FALSE, algorithm=MD5\r\n'
        b'WWW-Authenticate: Bearer realm="atlanta.example.com", scope="sip"\r\n'
        b"Min-Expires: 3600\r\nMin-SE: 90;x=1\r\nSession-Expires: 1800;refresher=uac\r\n"
        b"Security-Server: ipsec-ike;q=0.1, tls;q=0.2\r\nUnsupported: foo\r\n"
        b"Accept-Encoding: gzip;q=1.0, identity; q=0.5\r\nAccept-Language: en-GB, *;q=0.1\r\n"
        b"RSeq: 988789\r\nEvent: presence.winfo;id=7\r\nContent-Length: 0\r\n\r\n")
    message = sipstatus.parse(data, strict=True)
    digest, bearer = message.www_authenticate
    assert (digest.scheme, digest.realm, digest.qop, digest.nonce) == (
        "Digest", "atlanta.example.com", ("auth", "auth-int"),
        "84a4cc6f3082121f32b42a2187831a9e")
    assert digest.params["opaque"] == "" and digest.params["algorithm"] == "MD5"
    assert (bearer.scheme, bearer.realm, bearer.qop) == ("Bearer", "atlanta.example.com", ())
    assert message.min_expires == 3600 and message.min_se == 90
    assert message.session_expires is not None
    assert (message.session_expires.seconds, message.session_expires.refresher) == (1800,
                                                                                   "uac")
    assert [(m.value, m.params["q"]) for m in message.security_server] == [
        ("ipsec-ike", "0.1"), ("tls", "0.2")]
    assert message.unsupported == ("foo",)
    assert [e.value for e in message.accept_encoding] == ["gzip", "identity"]
    assert [e.value for e in message.accept_language] == ["en-GB", "*"]
    assert message.rseq == 988789
    assert message.event is not None and message.event.value == "presence.winfo"
    assert message.event.params["id"] == "7"
    assert message.proxy_authenticate == ()


def test_request_line_and_request_uri() -> None:
    data = (b"INVITE sips:+1-212-555-1212:1234@gateway.example.com;user=phone;transport=tcp "
            b"SIP/2.0\r\nMax-Forwards: 70\r\nCSeq: 1 INVITE\r\nContent-Length: 4\r\n\r\nv=0\n")
    message = sipstatus.parse_request(data, strict=True)
    assert (message.method, message.version) == ("INVITE", "SIP/2.0")
    uri = message.request_uri
    assert (uri.scheme, uri.user, uri.password, uri.host) == (
        "sips", "+1-212-555-1212", "1234", "gateway.example.com")
    assert uri.params["user"] == "phone" and uri.params["transport"] == "tcp"
    assert message.body == b"v=0\n" and message.max_forwards == 70


def test_parse_response_refuses_a_request() -> None:
    with pytest.raises(SipParseError, match="expected a response"):
        sipstatus.parse_response(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(SipParseError, match="expected a request"):
        sipstatus.parse_request(b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n")


@pytest.mark.parametrize(("line", "expected"), [
    ("SIP/2.0 486 Busy Here", ("SIP/2.0", 486, "Busy Here")),
    ("SIP/2.0 100 \r\n", ("SIP/2.0", 100, "")),
    (b"SIP/2.0 699 Whatever It Is\r\n", ("SIP/2.0", 699, "Whatever It Is")),
])
def test_parse_status_line(line: str | bytes, expected: tuple[str, int, str]) -> None:
    status = sipstatus.parse_status_line(line)
    assert (status.version, status.status_code, status.reason) == expected
    assert sipstatus.parse_status_line(bytes(status)) == status


@pytest.mark.parametrize(("line", "message"), [
    ("SIP/2.0 48 Busy", "expected Status-Code (3 digits) at line 1, column 9"),
    ("SIP/2.0 486", "expected a single space (SP) at line 1, column 12"),
    ("SIP/2.0 099 Low", "Status-Code 99 outside 100-699 (RFC 3261 §21) at line 1, column 9"),
    ("SIP/3.0 200 OK", "unsupported version SIP/3.0 (505, RFC 3261 §8.2.2) at line 1, "
                       "column 1"),
    ("HTTP/1.1 200 OK", 'expected SIP-Version ("SIP/2.0") at line 1, column 1'),
    ("SIP/2.0 200 OK\r\nVia: x", "expected a single line at line 1, column 15"),
])
def test_status_line_errors_are_exact(line: str, message: str) -> None:
    with pytest.raises(SipParseError) as caught:
        sipstatus.parse_status_line(line)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_error_carries_position_rule_and_expectation() -> None:
    data = RESPONSE.replace(b"CSeq: 314159 INVITE", b"CSeq: 314159x INVITE")
    with pytest.raises(SipParseError) as caught:
        sipstatus.parse(data, strict=True)
    error = caught.value
    line = data[:error.offset].count(b"\n") + 1
    assert (error.line, error.column) == (line, 13)
    assert error.rule == "CSeq (RFC 3261 §20.16)"
    assert error.expected == "expected white space"
    assert str(error) == "invalid CSeq header: expected white space at line 7, column 13"


def test_lenient_accessor_error_names_the_place() -> None:
    data = RESPONSE.replace(b"CSeq: 314159 INVITE", b"CSeq: INVITE")
    message = sipstatus.parse(data)
    assert message.status_code == 486
    with pytest.raises(SipParseError, match=r"invalid CSeq header: expected digits at line 7, "
                                            r"column 7"):
        _ = message.cseq
    assert any("CSeq" in defect for defect in message.defects)


def test_lenient_tolerances_are_recorded() -> None:
    data = (b"sip/2.0  200   OK\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nCall-ID:  abc  \n"
            b"Content-Length: 2\n\nhi and more")
    message = sipstatus.parse(data)
    assert isinstance(message, SipResponse)
    assert (message.version, message.status_code, message.reason) == ("SIP/2.0", 200, "OK")
    assert message.call_id == "abc" and message.body == b"hi"
    assert message.defects == ("bare LF line endings", "9 octets after the body ignored",
                               "malformed spacing in the Status-Line")
    with pytest.raises(SipParseError):
        sipstatus.parse(data, strict=True)


def test_missing_final_crlf_is_tolerated_when_lenient() -> None:
    data = b"OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n"
    message = sipstatus.parse(data)
    assert message.call_id == "x"
    assert message.defects == ("no empty line after the header section",)
    with pytest.raises(SipParseError, match="expected an empty line"):
        sipstatus.parse(data, strict=True)


def test_folding_unfolds_to_single_spaces_and_keeps_offsets() -> None:
    data = (b"SIP/2.0 200 OK\r\nSubject: I know you're there,\r\n   pick up the phone\r\n"
            b"\t and talk to me!\r\nCSeq:\r\n  7\r\n INVITE\r\nContent-Length: 0\r\n\r\n")
    message = sipstatus.parse(data, strict=True)
    assert message.headers.get("subject") == (
        "I know you're there, pick up the phone and talk to me!")
    assert message.cseq == sipstatus.CSeq(7, "INVITE")
    cseq = message.headers.fields[1]
    assert data[cseq.offset:cseq.offset + 1] == b"7"
    assert sipstatus.parse(bytes(message)) == message


def test_content_length_framing() -> None:
    base = b"OPTIONS sip:a@b SIP/2.0\r\nCSeq: 1 OPTIONS\r\n"
    too_long = base + b"Content-Length: 10\r\n\r\nshort"
    with pytest.raises(SipParseError, match="Content-Length 10 is larger than the 5 octets"):
        sipstatus.parse(too_long, strict=True)
    lenient = sipstatus.parse(too_long)
    assert lenient.body == b"short"
    assert lenient.defects == ("Content-Length 10 exceeds the 5 octets of body",)
    conflicting = base + b"Content-Length: 1\r\nl: 2\r\n\r\nab"
    with pytest.raises(SipParseError, match="conflicting Content-Length"):
        sipstatus.parse(conflicting)


def test_iter_messages_reads_a_stream() -> None:
    one = b"OPTIONS sip:a@b SIP/2.0\r\nCSeq: 1 OPTIONS\r\nContent-Length: 3\r\n\r\nabc"
    two = b"SIP/2.0 200 OK\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    messages = list(sipstatus.iter_messages(b"\r\n" + one + two + one))
    assert [type(m).__name__ for m in messages] == ["SipRequest", "SipResponse", "SipRequest"]
    assert messages[0].body == b"abc"
    with pytest.raises(SipParseError):
        list(sipstatus.iter_messages(one + b"garbage\r\n\r\n"))


def test_str_input_and_types() -> None:
    message = sipstatus.parse("SIP/2.0 200 Très bien\r\nContent-Length: 0\r\n\r\n")
    assert isinstance(message, SipResponse) and message.reason == "Très bien"
    with pytest.raises(TypeError):
        sipstatus.parse(12)  # type: ignore[arg-type]


def test_limits() -> None:
    with pytest.raises(SipParseError, match="larger than the limit of 100 octets"):
        sipstatus.parse(RESPONSE, limits=Limits(max_message_size=100))
    with pytest.raises(SipParseError, match="more than 5 header lines"):
        sipstatus.parse(RESPONSE, limits=Limits(max_headers=5))
    with pytest.raises(SipParseError, match="line longer than the limit of 60 octets"):
        sipstatus.parse(RESPONSE, limits=Limits(max_line_length=60))
    assert sipstatus.parse(RESPONSE, limits=Limits(None, None, None)).status_code == 486


def test_messages_are_frozen_and_equal_by_content() -> None:
    first = sipstatus.parse(RESPONSE)
    second = sipstatus.parse(RESPONSE)
    assert first == second and first is not second
    with pytest.raises(AttributeError):
        first.status_code = 200  # type: ignore[misc]
    assert isinstance(first, SipResponse) and not isinstance(first, SipRequest)
    assert bytes(first) == RESPONSE
