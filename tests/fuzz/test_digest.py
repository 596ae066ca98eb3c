"""The Digest computation of the ``register`` scenario (sipstatus._fuzz.digest) against the
examples the RFCs publish, and the Authorization value it writes."""

from __future__ import annotations

import hashlib

import pytest

from sipstatus import parse
from sipstatus._fuzz import digest

# RFC 7616 §3.9.1: the same request answered with MD5 and with SHA-256.
RFC7616 = {"username": "Mufasa", "realm": "http-auth@example.org",
           "password": "Circle of Life", "method": "GET", "uri": "/dir/index.html",
           "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "qop": "auth", "nc": 1,
           "cnonce": "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"}


def test_rfc_7616_md5_example() -> None:
    assert digest.response(algorithm="MD5", **RFC7616) == "8ca523f5e9506fed4657c9700eebdbec"


def test_rfc_7616_sha_256_example() -> None:
    assert digest.response(algorithm="SHA-256", **RFC7616) == (
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")


def test_rfc_2617_example_without_an_algorithm_is_md5() -> None:
    # RFC 2617 §3.5 (no algorithm parameter: MD5).
    assert digest.response(
        algorithm=None, username="Mufasa", realm="testrealm@host.com",
        password="Circle Of Life", method="GET", uri="/dir/index.html",
        nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", qop="auth", nc=1, cnonce="0a4f113b",
    ) == "6629fae49393a05397450978507c4ef1"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def test_without_qop_and_session_forms() -> None:
    ha1, ha2 = _md5("alice:sip.test:secret"), _md5("REGISTER:sip:127.0.0.1")
    common = {"username": "alice", "realm": "sip.test", "password": "secret",
              "method": "REGISTER", "uri": "sip:127.0.0.1", "nonce": "abc"}
    assert digest.response(algorithm="MD5", **common) == _md5(f"{ha1}:abc:{ha2}")
    sess = _md5(f"{ha1}:abc:c1")
    assert digest.response(algorithm="MD5-sess", qop="auth", nc=2, cnonce="c1", **common) == (
        _md5(f"{sess}:abc:00000002:c1:auth:{ha2}"))
    with pytest.raises(ValueError):
        digest.response(algorithm="SHA-512-256", **common)
    with pytest.raises(ValueError):
        digest.response(algorithm="MD5", qop="auth-int", **common)
    assert digest.supported(None) and digest.supported("sha-256")
    assert not digest.supported("SHA-512-256")


def test_the_authorization_value_parses_back() -> None:
    value = digest.authorization(
        digest.Credentials("alice", "secret"), method="REGISTER", uri="sip:127.0.0.1:5060",
        realm="sip.test", nonce='n"1', algorithm="SHA-256", qop=("auth-int", "auth"),
        opaque="op", nc=3, cnonce="c3")
    request = parse("REGISTER sip:127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;"
                    "branch=z9hG4bK-1\r\nMax-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=1"
                    "\r\nTo: <sip:alice@127.0.0.1>\r\nCall-ID: 1\r\nCSeq: 2 REGISTER\r\n"
                    f"Authorization: {value}\r\nContent-Length: 0\r\n\r\n", strict=True)
    [credentials] = request.authorization  # type: ignore[union-attr]
    params = credentials.params
    assert credentials.scheme == "Digest"
    assert (params.get("username"), params.get("nonce"), params.get("qop"),
            params.get("nc"), params.get("cnonce"), params.get("opaque"),
            params.get("algorithm")) == ("alice", 'n"1', "auth", "00000003", "c3", "op",
                                         "SHA-256")
    assert params.get("response") == digest.response(
        algorithm="SHA-256", username="alice", realm="sip.test", password="secret",
        method="REGISTER", uri="sip:127.0.0.1:5060", nonce='n"1', qop="auth", nc=3,
        cnonce="c3")
    plain = digest.authorization(digest.Credentials("bob", ""), method="REGISTER",
                                 uri="sip:x", realm="r", nonce="n")
    assert "qop" not in plain and "cnonce" not in plain and "algorithm=MD5" in plain
