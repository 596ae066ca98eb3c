"""Advice read from a response's own headers, through the public API: summaries when a needed
header is missing or unreadable, redirect targets, challenges, and a forking proxy's merge of
challenges and Contacts (RFC 3261 §16.7)."""

from __future__ import annotations

import pytest

import sipstatus
from sipstatus import Action, SipResponse


def response(first: str, *headers: str) -> SipResponse:
    text = first + "\r\n" + "".join(h + "\r\n" for h in headers) + "Content-Length: 0\r\n\r\n"
    return sipstatus.parse_response(text.encode())


@pytest.mark.parametrize(("message", "summary", "unreadable"), [
    (response("SIP/2.0 423 Interval Too Brief"),
     "Interval too brief: resend with a longer expiry, at least Min-Expires; the response gave "
     "no Min-Expires", ()),
    (response("SIP/2.0 423 Interval Too Brief", "Min-Expires: soon"),
     "Interval too brief: resend with a longer expiry, at least Min-Expires; its Min-Expires "
     "could not be read",
     ("Min-Expires: invalid Min-Expires header: expected digits at line 2, column 14",)),
    (response("SIP/2.0 422 Session Interval Too Small"),
     "Session interval too small: resend with Session-Expires and Min-SE at least the server's "
     "Min-SE; the response gave no Min-SE, which RFC 4028 §6 requires", ()),
    (response("SIP/2.0 422 Session Interval Too Small", "Min-SE: x"),
     "Session interval too small: resend with Session-Expires and Min-SE at least the server's "
     "Min-SE; its Min-SE could not be read, which RFC 4028 §6 requires",
     ("Min-SE: invalid Min-SE header: expected digits at line 2, column 9",)),
    (response("SIP/2.0 422 Session Interval Too Small", "Min-SE: 1800"),
     "Session interval too small: resend with Session-Expires and Min-SE of at least 1800 s "
     "(Min-SE)", ()),
])
def test_missing_or_unreadable_numbers_are_said(message: SipResponse, summary: str,
                                                unreadable: tuple[str, ...]) -> None:
    result = sipstatus.classify(message)
    assert result.summary == result.advice.summary == summary
    assert result.advice.unreadable == unreadable
    assert result.advice.action is Action.RETRY_MODIFIED_REQUEST


def test_redirect_targets_once_each_highest_q_first() -> None:
    result = sipstatus.classify(response(
        "SIP/2.0 300 Multiple Choices",
        "Contact: <sip:a@example.com>;q=0.5, <sip:b@example.com>, <sip:a@example.com>;q=0.9",
        "Contact: *"))
    targets = result.advice.targets
    # b has no q (ranks as 1); a is kept once, as first written; the wildcard is no target.
    assert [str(t) for t in targets] == ["sip:b@example.com", "sip:a@example.com"]
    assert [(t.q, t.expires) for t in targets] == [(None, None), (0.5, None)]
    assert type(targets[0].uri) is sipstatus.Uri and targets[0].contact.uri is targets[0].uri
    assert result.summary == ("Multiple choices: try sip:b@example.com, then "
                              "sip:a@example.com (q=0.5)")
    assert result.advice.action is Action.REDIRECT


def test_use_proxy_names_the_proxy() -> None:
    result = sipstatus.classify(response("SIP/2.0 305 Use Proxy",
                                         "Contact: <sip:p.example.com>"))
    assert result.summary == "Use proxy: resend this request through the proxy sip:p.example.com"


def test_a_challenge_and_its_parts() -> None:
    result = sipstatus.classify(response(
        "SIP/2.0 401 Unauthorized",
        'WWW-Authenticate: Digest realm="r", nonce="abc", qop="auth,auth-int", stale=true, '
        "algorithm=MD5"))
    [challenge] = result.advice.challenges
    assert str(challenge) == ('Digest realm="r", nonce="abc", qop="auth,auth-int", '
                              "stale=true, algorithm=MD5")
    assert (challenge.scheme, challenge.realm, challenge.nonce, challenge.algorithm) == (
        "Digest", "r", "abc", "MD5")
    assert challenge.qop == ("auth", "auth-int") and challenge.stale is True
    assert (challenge.header, challenge.answer_header) == ("WWW-Authenticate", "Authorization")
    assert challenge.params["NONCE"] == "abc"
    assert result.summary == ('Unauthorized: answer the challenge and resend with CSeq+1: '
                              'Digest realm "r" (algorithm MD5; qop auth, auth-int; stale nonce)')


@pytest.mark.parametrize(("message", "summary"), [
    (response("SIP/2.0 420 Bad Extension", "Unsupported: foo, bar"),
     "Bad extension: resend without foo, bar (Unsupported)"),
    (response("SIP/2.0 415 Unsupported Media Type", "Accept: application/sdp",
              "Accept-Encoding: gzip", "Accept-Language: en;q=0.5"),
     "Unsupported media type: resend with a body it accepts: application/sdp (Accept); gzip "
     "(Accept-Encoding); en (q=0.5) (Accept-Language)"),
    (response("SIP/2.0 494 Security Agreement Required", "Security-Server: ipsec-3gpp;q=0.1"),
     "Security agreement required: set up ipsec-3gpp (q=0.1) and resend with Security-Verify "
     "echoing the list (Security-Server)"),
    (response("SIP/2.0 503 Down for maintenance", "Retry-After: 300"),
     "Service unavailable: try another server and send this one nothing for 300 s "
     "(Retry-After)"),
])
def test_summaries_take_their_values_from_the_headers(message: SipResponse,
                                                     summary: str) -> None:
    assert sipstatus.classify(message).summary == summary


# -- best_response: merging what the branches sent -------------------------------------------


def test_an_unreadable_challenge_is_left_out_and_said() -> None:
    choice = sipstatus.best_response([
        response("SIP/2.0 401 Unauthorized", 'WWW-Authenticate: Dig"est x'),
        response("SIP/2.0 407 Proxy Authentication Required",
                 'Proxy-Authenticate: Digest realm="p", nonce="n"'),
    ])
    assert (choice.code, choice.index) == (401, 0)
    assert choice.www_authenticate == ()
    assert [str(c) for c in choice.proxy_authenticate] == ['Digest realm="p", nonce="n"']
    assert ("WWW-Authenticate of response #0 (401) could not be read and is left out: "
            "invalid WWW-Authenticate header: expected white space at line 2, column 22"
            ) in choice.reasons
    assert choice.reasons[-1] == ("RFC 3261 §16.7 step 7: the 401 carries all 1 challenge(s) "
                                  "of the 2 401/407 response(s)")


def test_redirect_contacts_are_merged_each_uri_once() -> None:
    choice = sipstatus.best_response([
        response("SIP/2.0 302 Moved Temporarily", "Contact: <sip:a@example.com>"),
        response("SIP/2.0 301 Moved Permanently",
                 "Contact: <sip:a@example.com>;q=0.2, <sip:b@example.com>"),
    ])
    assert choice.code == 302
    assert [str(t) for t in choice.contacts] == ["sip:a@example.com", "sip:b@example.com"]
    assert choice.reasons[-1] == ("RFC 3261 §16.5, §16.7 step 6: the Contacts of 2 3xx "
                                  "response(s) are merged, each URI once: 2 target(s)")


def test_unreadable_redirect_contacts_are_left_out_and_said() -> None:
    choice = sipstatus.best_response([
        response("SIP/2.0 302 Moved Temporarily", "Contact: <sip:a@example.com>"),
        response("SIP/2.0 301 Moved Permanently", "Contact: <sip:[::1>"),
    ])
    assert choice.code == 302
    assert ("a merged Contact could not be read and is left out: cannot read the "
            "ContactEntry value '<sip:[::1>'") in choice.reasons
    # Only the unreadable Contact goes; the readable one of the 302 stays.
    assert [str(t) for t in choice.contacts] == ["sip:a@example.com"]
