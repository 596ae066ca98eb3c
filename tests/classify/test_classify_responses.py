"""Advice from realistic responses: for each advice kind, the action and every value, read
from the response's own headers through sipstatus.parse."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import sipstatus
from sipstatus._classify import (
    Action,
    Advice,
    AuthChallenge,
    Backoff,
    Category,
    Classification,
    classify,
)
from sipstatus._proxy import best_response

Raw = Callable[..., bytes]


def check(c: Classification, advice: Advice, *, ignore: tuple[str, ...] = ()) -> None:
    """Every Advice field equals ``advice``, except the summary and the fields in ``ignore``."""
    for name in Advice.__slots__:
        if name in ("summary", *ignore):
            continue
        assert getattr(c.advice, name) == getattr(advice, name), name


def both(data: bytes) -> Classification:
    """Classify the parsed response and the raw bytes; both must agree."""
    parsed = classify(sipstatus.parse(data))
    assert classify(data) == parsed
    return parsed


# --- continue / success ---------------------------------------------------------------------


def test_continue_180_ringing(raw: Raw) -> None:
    c = both(raw("180 Ringing", "Alert-Info: <http://www.example.com/sounds/moo.wav>",
                 "Contact: <sip:bob@192.0.2.4>"))
    assert (c.code, c.category, c.is_final, c.wire_reason) == (
        180, Category.PROVISIONAL, False, "Ringing")
    check(c, Advice(Action.CONTINUE, ""))
    assert c.advice.summary == ("Ringing: the callee is being alerted; keep waiting for the "
                                "final response")


def test_success_200_to_register(raw: Raw) -> None:
    c = both(raw("200 OK", "Contact: <sip:bob@192.0.2.4>;expires=3600", "Expires: 3600",
                 cseq="1826 REGISTER"))
    check(c, Advice(Action.SUCCESS, ""))
    assert c.advice.summary == "OK: the request succeeded; proceed"


# --- redirect / user_choice -----------------------------------------------------------------


def test_redirect_302_with_several_contacts_ordered_by_q(raw: Raw) -> None:
    c = both(raw(
        "302 Moved Temporarily",
        "Contact: <sip:bob@desk.biloxi.example.com>;q=0.5, <sip:bob@mobile.example.net>;q=0.9",
        "Contact: <sip:bob@home.example.org>;q=0.7;expires=600",
        "Contact: <sip:bob@mobile.example.net>;q=0.1",  # the same URI again: added once
        "Expires: 3600",
    ))
    targets = c.advice.targets
    assert [str(t.uri) for t in targets] == [
        "sip:bob@mobile.example.net", "sip:bob@home.example.org", "sip:bob@desk.biloxi.example.com"]
    assert [t.q for t in targets] == [0.9, 0.7, 0.5]
    # The Contact's expires parameter wins; without one, the Expires header applies (§21.3.3).
    assert [t.expires for t in targets] == [3600, 600, 3600]
    assert [t.contact.params["q"] for t in targets] == ["0.9", "0.7", "0.5"]
    check(c, Advice(Action.REDIRECT, ""), ignore=("targets",))
    assert c.advice.summary == (
        "Moved temporarily: retry at sip:bob@mobile.example.net (q=0.9, valid 3600 s), then "
        "sip:bob@home.example.org (q=0.7, valid 600 s), then sip:bob@desk.biloxi.example.com "
        "(q=0.5, valid 3600 s)")


def test_redirect_302_without_expiry_is_used_once(raw: Raw) -> None:
    c = both(raw("302 Moved Temporarily", "Contact: <sip:bob@192.0.2.77:5070>"))
    [target] = c.advice.targets
    assert (str(target.uri), target.q, target.expires) == ("sip:bob@192.0.2.77:5070", None, None)
    assert c.advice.summary == ("Moved temporarily: retry at sip:bob@192.0.2.77:5070; no "
                                "expiry was given, so use it once and do not cache it")


def test_redirect_301_and_305(raw: Raw) -> None:
    moved = both(raw("301 Moved Permanently", "Contact: <sips:bob@new.biloxi.example.com>"))
    assert [str(t.uri) for t in moved.advice.targets] == ["sips:bob@new.biloxi.example.com"]
    assert moved.advice.summary == ("Moved permanently: retry at sips:bob@new.biloxi.example.com "
                                    "and update stored addresses")
    proxy = both(raw("305 Use Proxy", "Contact: <sip:proxy.biloxi.example.com;lr>"))
    assert proxy.advice.action is Action.REDIRECT
    assert proxy.advice.summary == ("Use proxy: resend this request through the proxy "
                                    "sip:proxy.biloxi.example.com;lr")


def test_redirect_without_contact(raw: Raw) -> None:
    c = both(raw("300 Multiple Choices"))
    assert c.advice.targets == ()
    assert c.advice.summary == ("Multiple choices: no Contact was given, so there is nowhere "
                                "to redirect")


def test_user_choice_485_lists_the_alternatives(raw: Raw) -> None:
    # The example of RFC 3261 §21.4.23.
    c = both(raw("485 Ambiguous",
                 "Contact: Carol Lee <sip:carol.lee@example.com>",
                 "Contact: Ping Lee <sip:p.lee@example.com>",
                 "Contact: Lee M. Foote <sips:lee.foote@example.com>"))
    assert [str(t.uri) for t in c.advice.targets] == [
        "sip:carol.lee@example.com", "sip:p.lee@example.com", "sips:lee.foote@example.com"]
    assert [t.contact.display_name for t in c.advice.targets] == [
        "Carol Lee", "Ping Lee", "Lee M. Foote"]
    check(c, Advice(Action.USER_CHOICE, ""), ignore=("targets",))
    assert c.advice.summary == (
        "Ambiguous: let the user choose among sip:carol.lee@example.com, sip:p.lee@example.com, "
        "sips:lee.foote@example.com; do not pick automatically")


# --- retry_with_credentials -----------------------------------------------------------------


def test_401_with_two_challenges(raw: Raw) -> None:
    c = both(raw(
        "401 Unauthorized",
        'WWW-Authenticate: Digest realm="atlanta.example.com", qop="auth,auth-int", '
        'nonce="ea9c8e88df84f1cec4341ae6cbe5a359", opaque="", algorithm=SHA-256',
        'WWW-Authenticate: Digest realm="atlanta.example.com", qop="auth", '
        'nonce="ea9c8e88df84f1cec4341ae6cbe5a359", opaque="", algorithm=MD5',
        cseq="1 REGISTER",
    ))
    sha, md5 = c.advice.challenges
    assert all(isinstance(ch, AuthChallenge) for ch in (sha, md5))
    assert (sha.header, sha.scheme, sha.realm, sha.qop, sha.algorithm) == (
        "WWW-Authenticate", "Digest", "atlanta.example.com", ("auth", "auth-int"), "SHA-256")
    assert (md5.header, md5.scheme, md5.realm, md5.qop, md5.algorithm) == (
        "WWW-Authenticate", "Digest", "atlanta.example.com", ("auth",), "MD5")
    assert sha.params["nonce"] == "ea9c8e88df84f1cec4341ae6cbe5a359"
    assert sha.params["opaque"] == ""
    assert sha.answer_header == "Authorization" and sha.stale is False
    check(c, Advice(Action.RETRY_WITH_CREDENTIALS, ""), ignore=("challenges",))
    assert c.advice.summary == (
        'Unauthorized: answer the 2 challenges and resend with CSeq+1: Digest realm '
        '"atlanta.example.com" (algorithm SHA-256; qop auth, auth-int), Digest realm '
        '"atlanta.example.com" (algorithm MD5; qop auth)')


def test_407_stale_nonce(raw: Raw) -> None:
    c = both(raw(
        "407 Proxy Authentication Required",
        'Proxy-Authenticate: Digest realm="biloxi.example.com", nonce="1cec4341ae6cbe5a359", '
        'stale=TRUE, qop="auth"',
    ))
    [ch] = c.advice.challenges
    assert (ch.header, ch.realm, ch.stale, ch.answer_header) == (
        "Proxy-Authenticate", "biloxi.example.com", True, "Proxy-Authorization")
    assert c.advice.summary == (
        'Proxy authentication required: answer the challenge and resend with CSeq+1: Digest '
        'realm "biloxi.example.com" (qop auth; stale nonce)')


def test_401_without_a_challenge(raw: Raw) -> None:
    c = both(raw("401 Unauthorized"))
    assert c.advice.challenges == ()
    assert c.advice.summary == ("Unauthorized: the response carries no challenge, so there is "
                                "nothing to answer")


# --- retry_modified_request -----------------------------------------------------------------


def test_423_min_expires(raw: Raw) -> None:
    c = both(raw("423 Interval Too Brief", "Min-Expires: 3600", cseq="1827 REGISTER"))
    check(c, Advice(Action.RETRY_MODIFIED_REQUEST, "", min_expires=3600))
    assert c.advice.summary == ("Interval too brief: resend with every expiry at least 3600 s "
                                "(Min-Expires)")


def test_422_min_se(raw: Raw) -> None:
    c = both(raw("422 Session Interval Too Small", "Min-SE: 1800"))
    check(c, Advice(Action.RETRY_MODIFIED_REQUEST, "", min_se=1800))
    assert c.advice.summary == ("Session interval too small: resend with Session-Expires and "
                                "Min-SE of at least 1800 s (Min-SE)")


def test_420_unsupported(raw: Raw) -> None:
    c = both(raw("420 Bad Extension", "Unsupported: 100rel, precondition"))
    check(c, Advice(Action.RETRY_MODIFIED_REQUEST, "", unsupported=("100rel", "precondition")))
    assert c.advice.summary == "Bad extension: resend without 100rel, precondition (Unsupported)"


def test_421_require(raw: Raw) -> None:
    c = both(raw("421 Extension Required", "Require: timer"))
    check(c, Advice(Action.RETRY_MODIFIED_REQUEST, "", require=("timer",)))
    assert c.advice.summary == ("Extension required: resend with timer in Supported, if you "
                                "implement them (Require)")


def test_415_accept_encoding_language(raw: Raw) -> None:
    c = both(raw("415 Unsupported Media Type",
                 "Accept: application/sdp, multipart/mixed",
                 "Accept-Encoding: gzip",
                 "Accept-Language: en, fr;q=0.5",
                 cseq="22 MESSAGE"))
    a = c.advice
    assert [m.mime for m in a.accept] == ["application/sdp", "multipart/mixed"]
    assert [t.value for t in a.accept_encoding] == ["gzip"]
    assert [t.value for t in a.accept_language] == ["en", "fr"]
    assert a.accept_language[1].params["q"] == "0.5"
    check(c, Advice(Action.RETRY_MODIFIED_REQUEST, ""),
          ignore=("accept", "accept_encoding", "accept_language"))
    assert a.summary == (
        "Unsupported media type: resend with a body it accepts: application/sdp or "
        "multipart/mixed (Accept); gzip (Accept-Encoding); en or fr (q=0.5) (Accept-Language)")


def test_494_security_server(raw: Raw) -> None:
    c = both(raw(
        "494 Security Agreement Required",
        "Security-Server: ipsec-ike;q=0.1",
        "Security-Server: tls;q=0.2",
        cseq="1 REGISTER",
    ))
    mechanisms = c.advice.security_server
    assert [(m.value, m.params["q"]) for m in mechanisms] == [("ipsec-ike", "0.1"),
                                                              ("tls", "0.2")]
    check(c, Advice(Action.RETRY_MODIFIED_REQUEST, ""), ignore=("security_server",))
    assert c.advice.summary == (
        "Security agreement required: set up ipsec-ike (q=0.1) or tls (q=0.2) and resend with "
        "Security-Verify echoing the list (Security-Server)")


def test_488_warnings_and_accept(raw: Raw) -> None:
    c = both(raw("488 Not Acceptable Here",
                 'Warning: 304 biloxi.example.com "Media type not available"',
                 "Accept: application/sdp"))
    [w] = c.advice.warnings
    assert (w.code, w.agent, w.warn_text) == (304, "biloxi.example.com", "Media type not available")
    assert [m.mime for m in c.advice.accept] == ["application/sdp"]
    check(c, Advice(Action.RETRY_MODIFIED_REQUEST, ""), ignore=("warnings", "accept"))
    assert c.advice.summary == (
        "Not acceptable here: resend with an offer this endpoint accepts, or try elsewhere; "
        'it accepts application/sdp (Accept); Warning 304: "Media type not available"')


# --- retry_later / retry_other_server / retry_after_backoff ---------------------------------


def test_486_retry_after_with_comment(raw: Raw) -> None:
    data = raw("486 Busy Here", "Retry-After: 120 (I'm in a meeting)")
    c = both(data)
    check(c, Advice(Action.RETRY_LATER, "", retry_after=120))
    assert c.advice.summary == 'Busy here: retry in 120 s (Retry-After, "I\'m in a meeting")'
    # The comment and duration stay on the response.
    ra = sipstatus.parse(data).retry_after
    assert ra is not None
    assert (ra.seconds, ra.comment, ra.duration) == (120, "I'm in a meeting", None)


def test_480_retry_after_with_duration(raw: Raw) -> None:
    c = both(raw("480 Temporarily Unavailable", "Retry-After: 18000;duration=3600"))
    check(c, Advice(Action.RETRY_LATER, "", retry_after=18000))
    assert c.advice.summary == ("Temporarily unavailable: retry in 18000 s (Retry-After, "
                                "available for 3600 s)")


def test_503_retry_after(raw: Raw) -> None:
    c = both(raw("503 Service Unavailable", "Retry-After: 300"))
    check(c, Advice(Action.RETRY_OTHER_SERVER, "", retry_after=300))
    assert c.advice.summary == ("Service unavailable: try another server and send this one "
                                "nothing for 300 s (Retry-After)")


def test_503_without_retry_after_acts_as_500(raw: Raw) -> None:
    c = both(raw("503 Service Unavailable"))
    check(c, Advice(Action.RETRY_OTHER_SERVER, ""))
    assert c.advice.summary == ("Service unavailable: try another server; with no Retry-After, "
                                "handle it as 500")


def test_491_backoff_from_a_response(raw: Raw) -> None:
    data = raw("491 Request Pending", cseq="102 INVITE")
    owner = classify(sipstatus.parse(data), owns_call_id=True)
    check(owner, Advice(Action.RETRY_AFTER_BACKOFF, "", backoff=Backoff(2.1, 4.0, True)))
    other = classify(sipstatus.parse(data), owns_call_id=False)
    assert other.advice.backoff == Backoff(0.0, 2.0, False)
    assert other.advice.summary == ("Request pending: wait a random 0 to 2 s (10 ms steps), "
                                    "then retry once")


def test_500_retry_after(raw: Raw) -> None:
    c = both(raw("500 Server Internal Error", "Retry-After: 5"))
    check(c, Advice(Action.RETRY_LATER, "", retry_after=5))
    assert c.advice.summary == "Server internal error: retry in 5 s (Retry-After)"


def test_413_retry_after_means_a_temporary_limit(raw: Raw) -> None:
    c = both(raw("413 Request Entity Too Large", "Retry-After: 60", cseq="5 MESSAGE"))
    check(c, Advice(Action.RETRY_MODIFIED_REQUEST, "", retry_after=60))
    assert c.advice.summary == ("Request entity too large: resend with a smaller body or none, "
                                "or send it unchanged after 60 s (Retry-After)")


def test_430_flow_failed(raw: Raw) -> None:
    c = both(raw("430 Flow Failed", cseq="2 INVITE"))
    check(c, Advice(Action.RETRY_OTHER_SERVER, ""))
    assert c.advice.summary == ("Flow failed: try another flow or binding; the UA should build "
                                "a new flow")


def test_retry_after_on_another_code_is_reported(raw: Raw) -> None:
    c = both(raw("482 Loop Detected", "Retry-After: 30"))
    check(c, Advice(Action.DO_NOT_RETRY, "", retry_after=30))
    assert c.advice.summary == "Loop detected: do not resend; fix the routing; Retry-After: 30 s"


# --- terminate_dialog / do_not_retry / global_stop / none -----------------------------------


def test_481_to_bye(raw: Raw) -> None:
    c = both(raw("481 Call/Transaction Does Not Exist", cseq="231 BYE"))
    check(c, Advice(Action.TERMINATE_DIALOG, ""))
    assert c.advice.summary == ("Call/transaction does not exist: the dialog is gone; end it "
                                "locally (BYE for an INVITE dialog) and do not retry")


def test_405_allow(raw: Raw) -> None:
    c = both(raw("405 Method Not Allowed",
                 "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS", cseq="7 PUBLISH"))
    check(c, Advice(Action.DO_NOT_RETRY, "",
                    allow=("INVITE", "ACK", "CANCEL", "BYE", "OPTIONS")))
    assert c.advice.summary == ("Method not allowed: use one of INVITE, ACK, CANCEL, BYE, "
                                "OPTIONS (Allow)")


def test_404_with_retry_after(raw: Raw) -> None:
    c = both(raw("404 Not Found", "Retry-After: 86400 (account opens tomorrow)"))
    check(c, Advice(Action.DO_NOT_RETRY, "", retry_after=86400))
    assert c.advice.summary == ('Not found: do not retry at this server before 86400 s have '
                                'passed (Retry-After, "account opens tomorrow")')


def test_600_with_retry_after(raw: Raw) -> None:
    c = both(raw("600 Busy Everywhere", "Retry-After: 3600"))
    check(c, Advice(Action.GLOBAL_STOP, "", retry_after=3600))
    assert c.category is Category.GLOBAL_FAILURE
    assert c.advice.summary == ("Busy everywhere: stop trying other locations; the callee "
                                "expects to be available in 3600 s (Retry-After)")


def test_603_with_reason_header(raw: Raw) -> None:
    c = both(raw("603 Decline", 'Reason: SIP ;cause=603 ;text="Decline"'))
    [r] = c.advice.reason_header
    assert (r.protocol, r.cause, r.reason_text) == ("SIP", 603, "Decline")
    check(c, Advice(Action.GLOBAL_STOP, ""), ignore=("reason_header",))
    assert c.advice.summary == "Decline: stop; do not try other locations"


def test_606_warning_and_accept(raw: Raw) -> None:
    c = both(raw("606 Not Acceptable",
                 'Warning: 370 gw.biloxi.example.com "Insufficient bandwidth"',
                 "Accept: application/sdp"))
    assert [(w.code, w.agent) for w in c.advice.warnings] == [(370, "gw.biloxi.example.com")]
    check(c, Advice(Action.GLOBAL_STOP, ""), ignore=("warnings", "accept"))
    assert c.advice.summary == (
        "Not acceptable: stop; offer a session the Warning codes allow, if any; it accepts "
        'application/sdp (Accept); Warning 370: "Insufficient bandwidth"')


def test_501_allow(raw: Raw) -> None:
    c = both(raw("501 Not Implemented", "Allow: INVITE, ACK, BYE, CANCEL", cseq="3 UPDATE"))
    check(c, Advice(Action.DO_NOT_RETRY, "", allow=("INVITE", "ACK", "BYE", "CANCEL")))
    assert c.advice.summary == ("Not implemented: do not resend this method to this server; it "
                                "allows INVITE, ACK, BYE, CANCEL (Allow)")


def test_487_none(raw: Raw) -> None:
    c = both(raw("487 Request Terminated",
                 'Reason: Q.850 ;cause=16 ;text="Terminated"'))
    check(c, Advice(Action.NONE, ""), ignore=("reason_header",))
    assert [(r.protocol, r.cause) for r in c.advice.reason_header] == [("Q.850", 16)]
    assert c.advice.summary == ("Request terminated: the request was cancelled as asked; "
                                "nothing to do")


# --- wire reason, unknown codes, status lines ------------------------------------------------


def test_wire_reason_is_kept_but_the_code_decides(raw: Raw) -> None:
    c = both(raw("487 Request Cancelled"))
    assert (c.reason, c.wire_reason) == ("Request Terminated", "Request Cancelled")


def test_unknown_code_in_a_response(raw: Raw) -> None:
    c = both(raw("466 Custom Failure",
                 'Warning: 399 gw.example.net "quota exceeded"'))
    assert (c.known, c.handled_as, c.wire_reason) == (False, 400, "Custom Failure")
    [w] = c.advice.warnings
    assert (w.code, w.warn_text) == (399, "quota exceeded")
    assert c.advice.summary == ("Unregistered code 466, handled as 400: fix the request before "
                                "sending it again")


@pytest.mark.parametrize("line", [
    "SIP/2.0 486 Busy Here", b"SIP/2.0 486 Busy Here", "SIP/2.0 486 Busy Here\r\n",
    b"SIP/2.0 486 Busy Here\n",
])
def test_status_line(line: str | bytes) -> None:
    c = classify(line)
    assert (c.code, c.wire_reason, c.advice.action) == (486, "Busy Here", Action.RETRY_LATER)
    assert c.advice.summary == classify(486).advice.summary


def test_status_line_with_odd_reason() -> None:
    assert classify("SIP/2.0 503 Sorry, we're closed").wire_reason == "Sorry, we're closed"


@pytest.mark.parametrize("text", ["SIP/2.0 48 Busy", "HTTP/1.1 200 OK", "hello", b""])
def test_bad_status_lines_raise_sip_parse_error(text: str | bytes) -> None:
    with pytest.raises(sipstatus.SipParseError):
        classify(text)


def test_request_is_not_a_response(raw: Raw) -> None:
    request = sipstatus.parse(
        b"OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKhjhs8ass877\r\n"
        b"Max-Forwards: 70\r\nTo: <sip:bob@biloxi.example.com>\r\n"
        b"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
        b"Call-ID: a84b4c76e66710\r\nCSeq: 63104 OPTIONS\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(TypeError):
        classify(request)


def test_unreadable_header_is_reported_not_fatal(raw: Raw) -> None:
    c = both(raw("423 Interval Too Brief", "Min-Expires: soon", cseq="1827 REGISTER"))
    assert c.advice.min_expires is None
    assert c.advice.unreadable == (
        "Min-Expires: invalid Min-Expires header: expected digits at line 7, column 14",)
    assert c.advice.summary == ("Interval too brief: resend with a longer expiry, at least "
                                "Min-Expires; its Min-Expires could not be read")


def test_unreadable_contact_leaves_no_targets(raw: Raw) -> None:
    c = both(raw("302 Moved Temporarily", "Contact: <<sip:bob@example.com"))
    assert c.advice.targets == ()
    assert len(c.advice.unreadable) == 1
    assert c.advice.unreadable[0].startswith("Contact: ")
    assert c.advice.summary == ("Moved temporarily: no Contact was given, so there is nowhere "
                                "to redirect")


def test_unreadable_retry_after(raw: Raw) -> None:
    data = raw("486 Busy Here", "Retry-After: soon")
    with pytest.raises(sipstatus.SipParseError):
        sipstatus.parse(data).retry_after  # noqa: B018  (the accessor is what is tested)
    c = both(data)
    assert c.advice.retry_after is None
    assert len(c.advice.unreadable) == 1
    assert c.advice.unreadable[0].startswith("Retry-After: ")
    assert c.advice.summary == "Busy here: retry later or try another location such as voicemail"


# --- best_response with headers (RFC 3261 §16.7 steps 6 and 7) ------------------------------


def test_step7_challenges_of_all_401_and_407_are_aggregated(raw: Raw) -> None:
    a = sipstatus.parse(raw("401 Unauthorized",
                            'WWW-Authenticate: Digest realm="a.example.com", nonce="n1"'))
    b = sipstatus.parse(raw("407 Proxy Authentication Required",
                            'Proxy-Authenticate: Digest realm="b.example.com", nonce="n2"'))
    c = sipstatus.parse(raw("401 Unauthorized",
                            'WWW-Authenticate: Digest realm="c.example.com", nonce="n3"'))
    choice = best_response([sipstatus.parse(raw("486 Busy Here")), a, b, c])
    assert (choice.code, choice.index, choice.response) == (401, 1, a)
    assert [ch.realm for ch in choice.www_authenticate] == ["a.example.com", "c.example.com"]
    assert [ch.realm for ch in choice.proxy_authenticate] == ["b.example.com"]
    # Unchanged: the very values the branches sent.
    assert choice.www_authenticate == (*a.www_authenticate, *c.www_authenticate)
    assert choice.reasons[-1] == ("RFC 3261 §16.7 step 7: the 401 carries all 3 challenge(s) "
                                  "of the 3 401/407 response(s)")


def test_step6_3xx_contacts_are_merged_each_uri_once(raw: Raw) -> None:
    first = sipstatus.parse(raw("302 Moved Temporarily",
                                "Contact: <sip:bob@a.example.com>;q=0.4",
                                "Contact: <sip:bob@b.example.com>;q=0.8"))
    second = sipstatus.parse(raw("301 Moved Permanently",
                                 "Contact: <sip:bob@b.example.com>",
                                 "Contact: <sip:bob@c.example.com>;q=0.6"))
    choice = best_response([sipstatus.parse(raw("404 Not Found")), first, second])
    assert (choice.code, choice.index) == (302, 1)
    assert [(str(t.uri), t.q) for t in choice.contacts] == [
        ("sip:bob@b.example.com", 0.8), ("sip:bob@c.example.com", 0.6),
        ("sip:bob@a.example.com", 0.4)]
    assert choice.reasons[-1] == ("RFC 3261 §16.5, §16.7 step 6: the Contacts of 2 3xx "
                                  "response(s) are merged, each URI once: 3 target(s)")


def test_best_response_takes_status_lines() -> None:
    choice = best_response(["SIP/2.0 486 Busy Here", b"SIP/2.0 404 Not Found", 480])
    assert (choice.code, choice.index) == (486, 0)
    assert choice.classification.wire_reason == "Busy Here"
