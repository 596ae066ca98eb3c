"""A short, reproducible run of fuzz/fuzz_parse.py (the self-fuzzing command) and the parser
bugs it has found, pinned as regressions."""

from __future__ import annotations

import contextlib
import importlib.util
import time
from pathlib import Path
from types import ModuleType

import sipstatus

SCRIPT = Path(__file__).resolve().parents[2] / "fuzz" / "fuzz_parse.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_parse", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fuzz_parse = _load()

REQUEST = (b"INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
           b"Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=1\r\n"
           b"To: <sip:bob@example.com>\r\nCall-ID: c1@192.0.2.1\r\nCSeq: 1 INVITE\r\n"
           b"Contact: <sip:alice@192.0.2.1>\r\n%sContent-Length: 0\r\n\r\n")
RESPONSE = (b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
            b"From: <sip:a@example.com>;tag=1\r\nTo: %s;tag=2\r\nCall-ID: x\r\n"
            b"CSeq: 1 OPTIONS\r\n%sContent-Length: 0\r\n\r\n")


def test_the_corpus_seeds_the_fuzzer() -> None:
    seeds = fuzz_parse.seeds()
    assert len(seeds) >= 60
    assert any(b"INVITE" in s for s in seeds) and any(s.startswith(b"SIP/2.0") for s in seeds)


def test_short_fuzz_run() -> None:
    fuzz_parse.make_test(150, derandomize=True)()


def test_negative_retry_after_is_a_parse_error() -> None:
    # Found by fuzz_parse (corpus seed + negative-number mutation): the lenient parse keeps
    # "Retry-After: -1", and its typed accessor failed an internal assert.
    fuzz_parse.check(REQUEST % b"Retry-After: -1\r\n")


def test_strictly_accepted_display_name_is_readable() -> None:
    # Found by tests/fuzz/test_strategies.py: a quoted display name with UTF-8 (RFC 3261
    # quoted-string allows UTF8-NONASCII) passes strict=True, but .to could not read it.
    fuzz_parse.check(RESPONSE % ('"\u0416" <sip:b@example.com>'.encode(), b""))


def test_server_comment_does_not_backtrack_exponentially() -> None:
    # Found by fuzz_parse: rejecting this Server value took 5 s, doubling with each 'x'.
    data = RESPONSE % (b"<sip:b@example.com>", b"Server: a (" + b"x" * 24 + b") :\r\n")
    start = time.monotonic()
    with contextlib.suppress(sipstatus.SipParseError):
        sipstatus.parse(data, strict=True)
    assert time.monotonic() - start < 1.0
