"""Header look-ups: the fast path (one compiled case-insensitive regex per header, long and
compact name, value as ``.*`` up to the line's CR) against a plain definition written here
independently, and the parser's own constructors against the dataclass constructors."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

import sipstatus
from sipstatus._extract import cseq
from sipstatus._headers import COMPACT_FORMS, Headers, header_key
from sipstatus._message import new_message
from sipstatus._values import CSeq

NAMES = ["Via", "v", "VIA", "vIa", "Call-ID", "call-id", "i", "I", "CSeq", "cseq",
         "Contact", "m", "Content-Length", "l", "X-Via", "Viaduct", "Route", "Subject", "s",
         "Ä-Name"]
KEYS = sorted({header_key(name) for name in NAMES} | {"to", "max-forwards"})


def reference(text: str, key: str) -> list[str]:
    """The plain definition: every line whose name is ``key`` or its compact form, in any
    case, followed by optional white space and a colon; the value trimmed of SP/HT."""
    names = [re.escape(key)] + [re.escape(short) for short, long in COMPACT_FORMS.items()
                                if long.lower() == key]
    pattern = re.compile(rf"\n(?:{'|'.join(names)})[ \t]*:[ \t]*([^\r\n]*)", re.I)
    return [value.rstrip(" \t") for value in pattern.findall(text)]


white = st.sampled_from(["", " ", "\t", "  "])
value_text = st.text(alphabet="abcXYZ;=,<>:\"@ \t\u00e9\u00c9", max_size=12)
line = st.one_of(
    st.tuples(st.sampled_from(NAMES), white, white, value_text).map(
        lambda p: f"{p[0]}{p[1]}:{p[2]}{p[3]}"),
    st.text(alphabet="ab :\t", max_size=6),  # not a field (lenient framing keeps them)
)


@given(st.lists(line, max_size=8), st.sampled_from(KEYS))
def test_lookups_equal_the_plain_definition(lines: list[str], key: str) -> None:
    text = "".join("\r\n" + item for item in lines).encode("utf-8").decode("latin-1")
    headers = Headers(text, 0)
    expected = reference(text, key)
    assert headers.values(key) == expected
    assert headers.first(key) == (expected[0] if expected else None)


def test_lookups_on_a_parsed_message() -> None:
    message = sipstatus.parse(
        b"SIP/2.0 200 OK\r\nVIA : SIP/2.0/UDP a;branch=z9hG4bK1 \r\nv:SIP/2.0/TCP b\r\n"
        b"i:\tabc@host\r\nX-Via: not a via\r\nCSEQ: 7  INVITE\r\nl: 0\r\n\r\n")
    assert message.headers.values("via") == ["SIP/2.0/UDP a;branch=z9hG4bK1",
                                             "SIP/2.0/TCP b"]
    assert message.call_id == "abc@host"
    assert message.cseq == CSeq(7, "INVITE")
    assert [str(v) for v in message.via] == ["SIP/2.0/UDP a;branch=z9hG4bK1", "SIP/2.0/TCP b"]


def test_cseq_reads_any_linear_white_space() -> None:
    assert cseq("1 INVITE") == CSeq(1, "INVITE")
    assert cseq("1\tINVITE") == CSeq(1, "INVITE")
    assert cseq("22   BYE ") == CSeq(22, "BYE")
    assert type(cseq("1 ACK")) is CSeq


def test_parser_constructors_equal_the_dataclass_constructors() -> None:
    headers = Headers.from_pairs([("Call-ID", "a@b")])
    fast = new_message(sipstatus.SipResponse, "SIP/2.0", 180, "Ringing", headers, b"x",
                       ("d",), b"raw", None)
    slow = sipstatus.SipResponse("SIP/2.0", 180, "Ringing", headers, b"x", ("d",), b"raw",
                                 None)
    assert fast == slow and repr(fast) == repr(slow)
    assert fast.defects[0] == "d" and fast._cache is not slow._cache
    fast_request = new_message(sipstatus.SipRequest, "BYE", "sip:a@b", "SIP/2.0", headers,
                               b"", (), b"", None)
    slow_request = sipstatus.SipRequest("BYE", "sip:a@b", "SIP/2.0", headers, b"", (), b"",
                                        None)
    assert fast_request == slow_request and repr(fast_request) == repr(slow_request)
