"""Helpers for the classifier tests: raw SIP responses as a real stack would send them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

COMMON = (
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;received=192.0.2.101",
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774",
    "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf",
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com",
)


def build_response(status: str, *headers: str, cseq: str = "314159 INVITE",
                   body: str = "") -> bytes:
    """The bytes of ``SIP/2.0 <status>`` with the usual headers, ``headers`` and ``body``."""
    lines = [f"SIP/2.0 {status}", *COMMON, f"CSeq: {cseq}", *headers,
             f"Content-Length: {len(body.encode())}"]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


@pytest.fixture
def raw() -> Callable[..., bytes]:
    return build_response
