"""Conformance: the 63 messages of RFC 4475, RFC 5118 and two real ones (fixtures/corpus).

MANIFEST.tsv gives the verdict a parser must reach for each: strict mode accepts every
`valid` and `valid-but-semantic-error` message with the right method or status code and
rejects every `invalid` one; lenient mode either rejects an invalid message or reports the
fault in `.defects` (which of the two, per message, is pinned below). Either way the error
or the defect must be about what the message is about (its MANIFEST note): any other fault
would let a wrong reading pass.
"""

from __future__ import annotations

import hashlib

import pytest
from parse_corpus import CORPUS, Case, corpus_cases

import sipstatus
from sipstatus import SipParseError, SipRequest, SipResponse

CASES = corpus_cases()
ACCEPTED = [c for c in CASES if c.verdict != "invalid"]
INVALID = [c for c in CASES if c.verdict == "invalid"]

#: Invalid messages that lenient mode still cannot understand, and so rejects: the error
#: (a substring of it) and its rule. Every other invalid message is accepted by lenient mode
#: with its fault in `.defects`.
LENIENT_REJECTS = {
    # whitespace inside the Request-URI leaves four words on the Request-Line
    "lwsruri": ("expected Request-URI at line 1, column 8", "Request-Line"),
    # a 10-digit status code is no status code: after three digits a space must follow
    "bigcode": ("expected a single space (SP) at line 1, column 12", "Status-Line"),
    # two different Content-Lengths: the body cannot be framed
    "mcl01": ("conflicting Content-Length values '13', '5'", "Content-Length"),
}

#: What lenient mode reports for each invalid message it accepts: each tuple is substrings
#: that one defect must all hold, and every tuple must be matched.
LENIENT_DEFECTS: dict[str, list[tuple[str, ...]]] = {
    "badinv01": [("invalid Via header", "line 7, column 29"),
                 ("invalid Contact header", "line 8, column 38")],
    "clerr": [("Content-Length 9999 exceeds the 154 octets of body",)],
    "ncl": [("invalid Content-Length '-999'",)],
    "scalar02": [("CSeq number 36893488147419103232 is not below 2**31", "line 5"),
                 ("Max-Forwards 300 is above 255", "line 7"),
                 ("Expires 1" + "0" * 100 + " is above 2**32-1", "line 8"),
                 ("Contact expires 280297596632815 is above 2**32-1", "line 9")],
    # The 4-digit Warning code. The out-of-range CSeq number of the same message is not
    # reported: semantic faults are looked for only when every header is grammatical.
    "scalarlg": [("invalid Warning header", "line 8, column 13")],
    "quotbal": [("invalid To header", "line 2, column 5")],
    "ltgtruri": [("Request-Line: expected Request-URI", "line 1, column 8")],
    "lwsstart": [("extra white space in the Request-Line",)],
    "trws": [("extra white space in the Request-Line",)],
    "escruri": [("Request-Line: expected Request-URI", "line 1, column 8")],
    "baddate": [("invalid Date header", '"GMT"', "line 8")],
    "regbadct": [("invalid Contact header", "line 8, column 30")],
    "badaspec": [("invalid To header", "line 5, column 23")],
    "baddn": [("invalid From header", "line 4, column 14"),
              ("invalid To header", "line 5, column 16")],
    "badvers": [("unsupported version SIP/7.0",)],
    "mismatch01": [("CSeq method INVITE differs from the request method OPTIONS",)],
    "mismatch02": [("CSeq method INVITE differs from the request method NEWMETHOD",)],
    "ipv6-bad": [("Request-Line: expected Request-URI", "line 1, column 10")],
    "sg": [("bare CR or LF inside line 5",), ("bare CR or LF inside line 6",)],
}

#: The rule (its name, before " (RFC ...") that strict mode names for each invalid message.
STRICT_RULES = {
    "badinv01": "Via", "clerr": "Content-Length", "ncl": "Content-Length", "scalar02": "CSeq",
    "scalarlg": "Warning", "quotbal": "To", "ltgtruri": "Request-Line",
    "lwsruri": "Request-Line", "lwsstart": "Request-Line", "trws": "Request-Line",
    "escruri": "Request-Line", "baddate": "Date", "regbadct": "Contact", "badaspec": "To",
    # the archive file has no empty line after its headers (corpus README): that comes first
    "baddn": "SIP-message", "badvers": "Request-Line", "mismatch01": "CSeq",
    "mismatch02": "CSeq", "bigcode": "Status-Line", "mcl01": "Content-Length",
    "ipv6-bad": "Request-Line", "sg": "message-header",
}


def test_manifest_is_complete() -> None:
    assert len(CASES) == 63
    counts = {v: sum(c.verdict == v for c in CASES) for v in
              ("valid", "invalid", "valid-but-semantic-error")}
    assert counts == {"valid": 31, "invalid": 22, "valid-but-semantic-error": 10}


def test_fixtures_are_byte_exact() -> None:
    sums = (CORPUS / "SHA256SUMS").read_text().split("\n")
    checked = 0
    for line in filter(None, sums):
        digest, name = line.split(maxsplit=1)
        assert hashlib.sha256((CORPUS / name).read_bytes()).hexdigest() == digest, name
        checked += 1
    assert checked >= 63


@pytest.mark.parametrize("case", ACCEPTED, ids=lambda c: c.name)
def test_strict_accepts(case: Case) -> None:
    message = sipstatus.parse(case.data, strict=True)
    if case.kind == "request":
        assert isinstance(message, SipRequest)
        assert message.method == case.start_line
    else:
        assert isinstance(message, SipResponse)
        assert message.status_code == int(case.start_line)
    assert message.defects == ()


def test_every_invalid_message_has_its_expectations() -> None:
    names = {c.name for c in INVALID}
    assert set(LENIENT_REJECTS) | set(LENIENT_DEFECTS) == names
    assert not set(LENIENT_REJECTS) & set(LENIENT_DEFECTS)
    assert set(STRICT_RULES) == names


@pytest.mark.parametrize("case", INVALID, ids=lambda c: c.name)
def test_strict_rejects(case: Case) -> None:
    with pytest.raises(SipParseError) as caught:
        sipstatus.parse(case.data, strict=True)
    error = caught.value
    assert error.line >= 1 and error.column >= 1
    assert error.rule.split(" (")[0] == STRICT_RULES[case.name], error.rule
    assert f"at line {error.line}, column {error.column}" in str(error)


@pytest.mark.parametrize("case", INVALID, ids=lambda c: c.name)
def test_lenient_rejects_or_reports(case: Case) -> None:
    if case.name in LENIENT_REJECTS:
        text, rule = LENIENT_REJECTS[case.name]
        with pytest.raises(SipParseError) as caught:
            sipstatus.parse(case.data)
        assert text in str(caught.value)
        assert caught.value.rule.split(" (")[0] == rule
        return
    defects = sipstatus.parse(case.data).defects
    for wanted in LENIENT_DEFECTS[case.name]:
        assert any(all(part in defect for part in wanted) for defect in defects), (
            f"{case.name}: no defect holds {wanted}; defects: {defects}")


@pytest.mark.parametrize("case", ACCEPTED, ids=lambda c: c.name)
def test_lenient_accepts_valid_without_faults(case: Case) -> None:
    message = sipstatus.parse(case.data)
    # dblreq is valid, but its trailing octets are noted (RFC 3261 §18.3 discards them).
    expected = ("450 octets after the body ignored",) if case.name == "dblreq" else ()
    assert message.defects == expected


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_write_back_round_trip(case: Case) -> None:
    try:
        message = sipstatus.parse(case.data)
    except SipParseError:
        return
    again = sipstatus.parse(bytes(message))
    assert again == message
    assert bytes(again) == bytes(message)


# Messages that RFC 4475 singles out, read in detail.


def test_semiuri_user_part_holds_the_semicolon() -> None:
    message = sipstatus.parse((CORPUS / "rfc4475/semiuri.sip").read_bytes(), strict=True)
    assert isinstance(message, SipRequest)
    assert message.request_uri.user == "user;par=u%40example.net"
    assert message.request_uri.host == "example.com"
    assert len(message.request_uri.params) == 0


def test_esc02_unknown_header_is_not_contact() -> None:
    message = sipstatus.parse((CORPUS / "rfc4475/esc02.sip").read_bytes(), strict=True)
    assert len(message.contact) == 2
    assert message.headers.get("C%6Fntact") is not None


def test_cparam01_and_02_place_unknownparam() -> None:
    bare = sipstatus.parse((CORPUS / "rfc4475/cparam01.sip").read_bytes(), strict=True)
    bracketed = sipstatus.parse((CORPUS / "rfc4475/cparam02.sip").read_bytes(), strict=True)
    assert "unknownparam" in bare.contact[0].params
    assert "unknownparam" not in bare.contact[0].uri.params
    assert "unknownparam" in bracketed.contact[0].uri.params
    assert "unknownparam" not in bracketed.contact[0].params


def test_wsinv_unfolds_and_reads_everything() -> None:
    message = sipstatus.parse((CORPUS / "rfc4475/wsinv.sip").read_bytes(), strict=True)
    assert isinstance(message, SipRequest)
    assert message.max_forwards == 68
    assert message.cseq is not None and (message.cseq.seq, message.cseq.method) == (9,
                                                                                      "INVITE")
    assert [v.transport for v in message.via] == ["UDP", "TCP", "UDP"]
    assert message.via[1].branch == "z9hG4bK9ikj8"
    assert message.from_ is not None and message.from_.display_name == 'J Rosenberg \\"'
    assert message.from_.tag == "98asjd8"
    assert message.headers.get("s") == ""
    assert message.headers.get("NewFangledHeader") == (
        "newfangled value continued newfangled value")
    assert len(message.body) == 150


def test_noreason_has_empty_reason() -> None:
    message = sipstatus.parse((CORPUS / "rfc4475/noreason.sip").read_bytes(), strict=True)
    assert isinstance(message, SipResponse)
    assert (message.status_code, message.reason) == (100, "")


def test_unreason_keeps_utf8_reason() -> None:
    message = sipstatus.parse((CORPUS / "rfc4475/unreason.sip").read_bytes(), strict=True)
    assert isinstance(message, SipResponse)
    assert message.reason.startswith("= 2**3 * 5**2 ")
    assert "но сто девяносто девять" in message.reason


def test_inv2543_body_runs_to_the_end() -> None:
    data = (CORPUS / "rfc4475/inv2543.sip").read_bytes()
    message = sipstatus.parse(data, strict=True)
    assert message.content_length is None
    assert message.body == data[data.index(b"\r\n\r\n") + 4:]


def test_mpart01_binary_body_framed_by_content_length() -> None:
    message = sipstatus.parse((CORPUS / "rfc4475/mpart01.sip").read_bytes(), strict=True)
    assert len(message.body) == message.content_length == 553
    assert message.content_type is not None
    assert message.content_type.mime == "multipart/mixed"
    assert message.content_type.params["boundary"] == "7a9cbec02ceef655"


def test_ipv6_references() -> None:
    good = sipstatus.parse((CORPUS / "rfc5118/ipv6-good.sip").read_bytes(), strict=True)
    assert isinstance(good, SipRequest)
    assert good.request_uri.host == "[2001:db8::10]"
    ambiguous = sipstatus.parse((CORPUS / "rfc5118/port-ambiguous.sip").read_bytes(),
                                strict=True)
    assert isinstance(ambiguous, SipRequest)
    assert ambiguous.request_uri.host == "[2001:db8::10:5070]"
    assert ambiguous.request_uri.port is None
    explicit = sipstatus.parse((CORPUS / "rfc5118/port-unambiguous.sip").read_bytes(),
                               strict=True)
    assert isinstance(explicit, SipRequest)
    assert (explicit.request_uri.host, explicit.request_uri.port) == ("[2001:db8::10]", 5070)
    received = sipstatus.parse(
        (CORPUS / "rfc5118/via-received-param-with-delim.sip").read_bytes(), strict=True)
    assert received.via[0].received == "[2001:db8::9:255]"


def test_scalarlg_lenient_still_reads_the_status() -> None:
    message = sipstatus.parse((CORPUS / "rfc4475/scalarlg.sip").read_bytes())
    assert isinstance(message, SipResponse)
    assert message.status_code == 503
    assert any("Warning" in d for d in message.defects)
