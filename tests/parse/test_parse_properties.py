"""Hypothesis properties of the parser: nothing but SipParseError ever escapes, write-back
is a fixed point, and what the grammar generates, the parser reads."""

from __future__ import annotations

import re

from hypothesis import assume, example, given
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from parse_corpus import corpus_cases
from parse_exercise import exercise

import sipstatus
from sipstatus import SipParseError
from sipstatus._fuzz.grammar_gen import accepted_by, generating_parser

SEEDS = [case.data for case in corpus_cases()]


@st.composite
def mutations(draw: st.DrawFn) -> bytes:
    """A corpus message with a few random edits: the shapes that break parsers."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(("delete", "insert", "replace", "duplicate", "truncate")))
        if kind == "delete":
            data[where:where + draw(st.integers(1, 20))] = b""
        elif kind == "insert":
            data[where:where] = draw(st.sampled_from(
                (b"\r\n", b"\n", b"\r", b" ", b"\x00", b"\xff", b":", b";", b",", b'"', b"<",
                 b">", b"(", b")", b"\\", b"\r\n ", b"99999999999999999999", b"-1", b"[")))
        elif kind == "replace" and where < len(data):
            data[where] = draw(st.integers(0, 255))
        elif kind == "duplicate":
            data[where:where] = data[max(0, where - 40):where]
        elif kind == "truncate":
            del data[where:]
    return bytes(data)


def _only_our_error(data: bytes, strict: bool) -> None:
    try:
        message = sipstatus.parse(data, strict=strict)
    except SipParseError as error:
        assert error.line >= 1 and error.column >= 1
        assert 0 <= error.offset <= len(data)
        return
    exercise(message)


@given(st.binary(max_size=2000), st.booleans())
@example(b"SIP/2.0 200 OK\r\nVia: \r\n\r\n", False)
@example(b"SIP/2.0 200 OK\r\nContact: <\r\n\r\n", False)
@example(b"INVITE x SIP/2.0\r\nFrom: \"\r\n\r\n", False)
def test_only_sip_parse_error_escapes_arbitrary_bytes(data: bytes, strict: bool) -> None:
    _only_our_error(data, strict)


@given(mutations(), st.booleans())
def test_only_sip_parse_error_escapes_mutated_corpus(data: bytes, strict: bool) -> None:
    _only_our_error(data, strict)


@given(mutations())
def test_write_back_is_a_fixed_point(data: bytes) -> None:
    try:
        message = sipstatus.parse(data)
    except SipParseError:
        return
    again = sipstatus.parse(bytes(message))
    assert again == message
    assert sipstatus.parse(bytes(again)) == again


@given(mutations())
def test_strict_acceptance_implies_lenient_without_defects(data: bytes) -> None:
    try:
        strict = sipstatus.parse(data, strict=True)
    except SipParseError:
        return
    lenient = sipstatus.parse(data)
    assert lenient == strict
    trailing = [d for d in lenient.defects if not d.endswith("octets after the body ignored")]
    assert trailing == []


# ---------------------------------------------------------------------------------------
# Messages generated from the grammar itself

#: Octets as latin-1 characters: what may appear on the wire outside a quoted-pair.
WIRE = st.sampled_from("\t\r\n" + "".join(map(chr, range(0x20, 0x7F)))
                       + "".join(map(chr, range(0x80, 0x100))))


def _heads() -> st.SearchStrategy[str]:
    # The parser, with the rules it was compiled to: from_lark need not compile the grammar.
    return from_lark(generating_parser(), start="sip_head", alphabet=WIRE)


@given(_heads())
def test_grammar_generated_messages_parse_strictly(head: str) -> None:
    # from_lark draws from the rules, not through the lexer: now and then it writes a string
    # the grammar's own LALR parser reads otherwise (an extension header named "L" is lexed
    # as the compact Content-Length, whose value may not be empty). Those are not in the
    # grammar's language; the parser is the judge.
    assume(accepted_by("sip_head", head))
    data = head.encode("latin-1")
    # The grammar does not count the body; it frames the head. Content-Length decides the
    # rest, so give each message the body its Content-Length (if any) announces.
    lengths = set(re.findall(r"\r\n(?:content-length|l)[ \t]*:[ \t]*([0-9]+)", head, re.I))
    assume(len(lengths) <= 1)
    body = b"x" * int(lengths.pop()) if lengths else b""
    assume(len(body) < 100_000)
    try:
        message = sipstatus.parse(data + body, strict=True,
                                  limits=sipstatus.Limits(None, None, None))
    except SipParseError as error:
        # The grammar cannot see value ranges or the CSeq method rule (RFC 4475 §3.1.2):
        # those are the only faults strict mode may add to what the grammar accepts.
        assert any(word in str(error) for word in (
            "2**31", "2**32", "above 255", "differs from the request method",
            "unsupported version", "outside 100-699")), str(error)
        return
    assert message.body == body
    assert len(message.headers) == head.count("\r\n") - 2
    assert sipstatus.parse(bytes(message), strict=True) == message
