"""Mutation operators: each breaks a well-formed message in one way that has broken a real stack.

Every operator takes hypothesis' ``draw`` and the message cut up by ``Wire.split`` and returns
the broken bytes. All choices (which header, which position, which number, how many Vias) are
drawn with hypothesis primitives, so shrinking works: positions shrink towards the start,
counts towards their minimum, and ``sampled_from`` lists put the simplest variant first.

The bug classes and the reports behind them are listed in docs/fuzzing.md ("Mutation labels").
Every operator changes its input (``strategies.malformed`` checks it), and none grows a message
past ``MAX_SIZE``, so that every case fits in one UDP datagram.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from hypothesis import strategies as st

from sipstatus._fuzz.wire import CRLF, Wire

Draw = st.DrawFn
Mutator = Callable[[Draw, Wire], bytes]

# Largest case the mutators build: fits a UDP datagram over IPv4 and IPv6 (65,507 bytes).
MAX_SIZE = 60_000

HUGE_NUMBERS = (
    b"4294967296",  # 2**32
    b"2147483648",  # 2**31
    b"4294967295",  # 2**32 - 1, out of range for CSeq (RFC 3261 §8.1.1.5 says < 2**31)
    b"9223372036854775808",  # 2**63
    b"18446744073709551616",  # 2**64
    b"36893488147419103232",  # RFC 4475 §3.1.2.4
    b"949302838503028349304023988",  # RFC 4475 §3.1.2.5
    b"1" + b"0" * 100,
)
NEGATIVE_NUMBERS = (b"-1", b"-0", b"-2147483648", b"-4294967296", b"-9223372036854775809")


def _body_start(w: Wire) -> int:
    return len(bytes(w)) - len(w.body)


def _header_end(w: Wire) -> int:
    """Offset just past the last header's CRLF (start of the empty line)."""
    return len(w.start) + 2 + sum(len(h) + 2 for h in w.headers)


def _set_value(w: Wire, index: int, value: bytes) -> Wire:
    name = w.headers[index].partition(b":")[0]
    headers = list(w.headers)
    headers[index] = name + b": " + value
    return w.with_headers(tuple(headers))


def _insert(w: Wire, index: int, field: bytes) -> Wire:
    headers = list(w.headers)
    headers.insert(index, field)
    return w.with_headers(tuple(headers))


def _drop(w: Wire, indexes: tuple[int, ...]) -> Wire:
    return w.with_headers(tuple(h for i, h in enumerate(w.headers) if i not in indexes))


def _choose(draw: Draw, w: Wire, names: tuple[str, ...]) -> int | None:
    """Index of a header among ``names`` that ``w`` has (drawn), or None."""
    present = tuple(i for i in range(len(w.headers)) if w.name_at(i) in names)
    return draw(st.sampled_from(present)) if present else None


def _set_or_add(draw: Draw, w: Wire, name: str, value: bytes) -> bytes:
    index = _choose(draw, w, (name,))
    if index is None:
        return bytes(_insert(w, len(w.headers), name.title().encode() + b": " + value))
    return bytes(_set_value(w, index, value))


def _position(draw: Draw, low: int, high: int) -> int:
    return draw(st.integers(min_value=low, max_value=max(low, high)))


def _fill(draw: Draw, room: int) -> bytes:
    unit = draw(st.sampled_from((b"a", b"9", b"%41", b"-", b" ")))
    length = draw(st.integers(min_value=256, max_value=max(256, room)))
    return (unit * length)[:length]


# --- over-long lines and values ------------------------------------------------------------
# sngrep #512 (4096-byte Call-ID), sngrep #480, pjproject's 4000-byte buffer (Asterisk #956),
# PROTOS c07-sip case 203 vs libosip (siproxd caps lines at 256).


def overlong_value(draw: Draw, w: Wire) -> bytes:
    room = MAX_SIZE - len(bytes(w))
    index = _choose(draw, w, ("call-id", "from", "to", "via", "contact", "user-agent", "server"))
    filler = _fill(draw, room).replace(b" ", b"x")
    if index is None:
        return bytes(_insert(w, len(w.headers), b"Call-ID: " + filler))
    return bytes(_set_value(w, index, w.value_at(index) + filler))


def overlong_header_name(draw: Draw, w: Wire) -> bytes:
    name = b"X-" + _fill(draw, MAX_SIZE - len(bytes(w)) - 16).replace(b" ", b"A").replace(
        b"%", b"A"
    )
    return bytes(_insert(w, _position(draw, 0, len(w.headers)), name + b": 1"))


def overlong_start_line(draw: Draw, w: Wire) -> bytes:
    filler = _fill(draw, MAX_SIZE - len(bytes(w))).replace(b" ", b"x")
    if w.is_response:
        return bytes(Wire(w.start + filler, w.headers, w.body, w.terminated))
    parts = w.start.split(b" ")
    if len(parts) >= 2 and b":" in parts[1]:
        scheme, _, rest = parts[1].partition(b":")
        parts[1] = scheme + b":" + filler + rest
    else:
        parts.insert(1, filler)
    return bytes(Wire(b" ".join(parts), w.headers, w.body, w.terminated))


# --- Content-Length --------------------------------------------------------------------------
# emiago/sipgo GHSA-pg59-5vwg-4jxq, envoy PR #45362, sipsorcery GHSA-j5j8-rhcm-7fp9,
# OpenSIPS #4116, siphon-sip PR #239 (duplicates smuggle messages), RFC 4475 §3.1.2.2, §3.1.2.3.


def _set_length(draw: Draw, w: Wire, value: bytes) -> bytes:
    return _set_or_add(draw, w, "content-length", value)


def content_length_missing(draw: Draw, w: Wire) -> bytes:
    found = w.indexes("content-length")
    body = w.body or draw(st.sampled_from((b"v=0\r\n", b"hello", b"\r\n")))
    return bytes(_drop(w, found).with_body(body, fix_length=False))


def content_length_negative(draw: Draw, w: Wire) -> bytes:
    value = draw(st.sampled_from((str(len(w.body) or 1).encode(), *NEGATIVE_NUMBERS)))
    return _set_length(draw, w, b"-" + value.lstrip(b"-"))


def content_length_too_large(draw: Draw, w: Wire) -> bytes:
    extra = draw(st.integers(min_value=1, max_value=2**32))
    value = draw(st.sampled_from((str(len(w.body) + extra).encode(), *HUGE_NUMBERS)))
    return _set_length(draw, w, value)


def content_length_too_small(draw: Draw, w: Wire) -> bytes:
    if not w.body:
        w = w.with_body(b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n", fix_length=False)
        return _set_length(draw, w, b"0")
    return _set_length(draw, w, str(_position(draw, 0, len(w.body) - 1)).encode())


def content_length_duplicated(draw: Draw, w: Wire) -> bytes:
    field = b"Content-Length: " + str(len(w.body)).encode()
    found = w.indexes("content-length")
    if found:
        field = w.headers[found[0]]
    return bytes(_insert(w, _position(draw, 0, len(w.headers)), field))


def content_length_conflicting(draw: Draw, w: Wire) -> bytes:
    other = len(w.body) + draw(st.integers(min_value=1, max_value=65_535))
    if draw(st.booleans()) and w.body:
        other = _position(draw, 0, len(w.body) - 1)
    field = draw(st.sampled_from((b"Content-Length: ", b"l: "))) + str(other).encode()
    if not w.indexes("content-length"):
        w = _insert(w, len(w.headers), b"Content-Length: " + str(len(w.body)).encode())
    return bytes(_insert(w, _position(draw, 0, len(w.headers)), field))


def content_length_garbage(draw: Draw, w: Wire) -> bytes:
    value = draw(
        st.sampled_from((b"", b"abc", b"0x10", b"1e3", b"+5", b"10 10", b"12;x", b"\t", b"1.5"))
    )
    return _set_length(draw, w, value)


# --- line ends -------------------------------------------------------------------------------
# kamailio #2044 (line ends stripped), aboutsip/pkts #106/#110 (LF-only: infinite loop),
# siphon-sip PR #237 (bare CR/LF), sngrep #276 (body not ending in CRLF).


def missing_empty_line(draw: Draw, w: Wire) -> bytes:
    """The header section runs into the body, or (no body) is never closed."""
    return bytes(w)[: _header_end(w)] + w.body


def doubled_crlf(draw: Draw, w: Wire) -> bytes:
    at = _position(draw, 0, max(0, len(w.headers) - 1))
    return bytes(_insert(w, at, b""))


def _line_end_positions(data: bytes, limit: int) -> tuple[int, ...]:
    return tuple(m.start() for m in re.finditer(CRLF, data[:limit]))


def bare_lf(draw: Draw, w: Wire) -> bytes:
    data = bytes(w)
    if draw(st.booleans()):
        head = data[: _body_start(w)]
        return head.replace(CRLF, b"\n") + w.body
    ends = _line_end_positions(data, _header_end(w))
    at = draw(st.sampled_from(ends))
    return data[:at] + data[at + 1 :]


def bare_cr(draw: Draw, w: Wire) -> bytes:
    data = bytes(w)
    ends = _line_end_positions(data, _header_end(w))
    choice = draw(st.integers(min_value=0, max_value=2))
    if choice == 0:
        return data[: _body_start(w)].replace(CRLF, b"\r") + w.body
    if choice == 1:
        at = draw(st.sampled_from(ends))
        return data[: at + 1] + data[at + 2 :]
    at = _position(draw, 1, _header_end(w) - 3)
    return data[:at] + b"\r" + data[at:]


# --- NUL, control characters, invalid UTF-8 --------------------------------------------------
# pjsip #747 (NUL in quoted strings), resiprocate PR #38 (keep-alive \r\n\0),
# OpenSIPS #4116 (trailing NUL), RFC 4475 §3.1.1.2.


def nul_byte(draw: Draw, w: Wire) -> bytes:
    data = bytes(w)
    where = draw(st.integers(min_value=0, max_value=2))
    if where == 1:
        return b"\r\n\x00" + data
    at = _position(draw, 0, _header_end(w) - 1)
    return data[:at] + b"\x00" * draw(st.integers(1, 4)) + data[at:]


def control_char(draw: Draw, w: Wire) -> bytes:
    data = bytes(w)
    byte = draw(st.sampled_from((b"\x7f", b"\x01", b"\x08", b"\x0b", b"\x0c", b"\x1b", b"\x1f")))
    at = _position(draw, 0, _header_end(w) - 1)
    return data[:at] + byte + data[at:]


INVALID_UTF8 = (
    b"\xff", b"\xfe", b"\x80", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xf8\x88\x80\x80"
)


def invalid_utf8(draw: Draw, w: Wire) -> bytes:
    bad = draw(st.sampled_from(INVALID_UTF8))
    if w.is_response and draw(st.booleans()):
        return bytes(Wire(w.start + bad, w.headers, w.body, w.terminated))
    index = _choose(draw, w, ("from", "to", "subject", "user-agent", "server", "call-id"))
    if index is None:
        return bytes(_insert(w, len(w.headers), b"Subject: caf" + bad))
    value = w.value_at(index)
    at = _position(draw, 0, len(value))
    return bytes(_set_value(w, index, value[:at] + bad + value[at:]))


# --- numbers ---------------------------------------------------------------------------------
# sngrep PR #267 (CSeq 115211521152), RFC 4475 §3.1.2.4 and §3.1.2.5, pjsip #2093.


def _huge(draw: Draw) -> bytes:
    return draw(st.sampled_from(HUGE_NUMBERS))


def cseq_overflow(draw: Draw, w: Wire) -> bytes:
    value = w.value("cseq") or b"1 INVITE"
    method = value.split()[-1] if value.split() else b"INVITE"
    return _set_or_add(draw, w, "cseq", _huge(draw) + b" " + method)


def max_forwards_overflow(draw: Draw, w: Wire) -> bytes:
    value = draw(st.sampled_from((b"256", b"300", *HUGE_NUMBERS)))
    return _set_or_add(draw, w, "max-forwards", value)


def expires_overflow(draw: Draw, w: Wire) -> bytes:
    huge = _huge(draw)
    contact = w.indexes("contact")
    if bool(contact) and draw(st.booleans()):
        index = contact[0]
        return bytes(_set_value(w, index, w.value_at(index) + b";expires=" + huge))
    return _set_or_add(draw, w, "expires", huge)


def retry_after_overflow(draw: Draw, w: Wire) -> bytes:
    suffix = draw(st.sampled_from((b"", b" (pause)", b";duration=" + HUGE_NUMBERS[1])))
    return _set_or_add(draw, w, "retry-after", _huge(draw) + suffix)


BAD_CODES = (b"1000", b"99", b"000", b"700", b"999", b"20", b"2OO", b"-200", b"2000000", b"")


def status_code_out_of_range(draw: Draw, w: Wire) -> bytes:
    code = draw(st.sampled_from(BAD_CODES))
    if w.is_response:
        parts = w.start.split(b" ", 2)
        reason = parts[2] if len(parts) == 3 else b"OK"
    else:
        reason = b"OK"
    return bytes(Wire(b"SIP/2.0 " + code + b" " + reason, w.headers, w.body, w.terminated))


def negative_number(draw: Draw, w: Wire) -> bytes:
    name = draw(st.sampled_from(("cseq", "max-forwards", "expires", "retry-after")))
    value = draw(st.sampled_from(NEGATIVE_NUMBERS))
    if name == "cseq":
        old = w.value("cseq") or b"1 INVITE"
        value = value + b" " + (old.split()[-1] if old.split() else b"INVITE")
    return _set_or_add(draw, w, name, value)


def sdp_overflow(draw: Draw, w: Wire) -> bytes:
    huge = _huge(draw)
    media = draw(
        st.sampled_from(
            (
                b"m=audio " + huge + b" RTP/AVP 0\r\n",
                b"m=audio 49170 RTP/AVP " + huge + b"\r\n",
                b"m=audio 49170/" + huge + b" RTP/AVP 0\r\n",
                b"a=rtpmap:" + huge + b" PCMU/8000\r\n",
            )
        )
    )
    sdp = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" + media
    found = w.indexes("content-type")
    w = _drop(w, found)
    w = _insert(w, len(w.headers), b"Content-Type: application/sdp")
    return bytes(w.with_body(sdp))


# --- missing, duplicated and empty headers ---------------------------------------------------
# RFC 3261 §8.1.1; Kamailio CVE-2018-14767 (second To with empty tag), RFC 4475 §3.3.8,
# sngrep #541 (empty Warning), siphon-sip PR #239.

MANDATORY = ("via", "from", "to", "call-id", "cseq")


def missing_mandatory_header(draw: Draw, w: Wire) -> bytes:
    present = tuple(n for n in (*MANDATORY, "max-forwards") if w.indexes(n))
    if not present:
        return bytes(w)[: len(w.start) + 2]
    if w.is_response:
        present = tuple(n for n in present if n != "max-forwards") or present
    name = draw(st.sampled_from(present))
    return bytes(_drop(w, w.indexes(name)))


def duplicate_header(draw: Draw, w: Wire) -> bytes:
    name = draw(st.sampled_from(("to", "from", "call-id", "cseq", "max-forwards")))
    old = w.value(name) or b""
    variants = {
        "to": (old + b";tag=", b"<sip:other@example.net>;tag="),
        "from": (b"<sip:mallory@example.net>;tag=1", old + b";tag=2"),
        "call-id": (b"duplicate-" + old, b"x@example.net"),
        "cseq": (b"2 " + (old.split()[-1] if old.split() else b"INVITE"), b"1 BYE"),
        "max-forwards": (b"69", b"0"),
    }[name]
    field = name.title().encode() + b": " + draw(st.sampled_from(variants))
    return bytes(_insert(w, _position(draw, 0, len(w.headers)), field))


def empty_header_value(draw: Draw, w: Wire) -> bytes:
    name = draw(
        st.sampled_from(
            ("from", "to", "via", "cseq", "call-id", "contact", "warning", "content-type")
        )
    )
    return _set_or_add(draw, w, name, b"")


def cseq_method_mismatch(draw: Draw, w: Wire) -> bytes:
    method = w.method or "INVITE"
    other = draw(st.sampled_from((b"BYE", b"ACK", b"INVITE", b"REGISTER", b"FOO")))
    if other.decode() == method:
        other = b"OPTIONS"
    return _set_or_add(draw, w, "cseq", b"1 " + other)


def header_without_colon(draw: Draw, w: Wire) -> bytes:
    field = draw(st.sampled_from((b"Foo bar", b"Via SIP/2.0/UDP h", b"X", b"Subject hello")))
    return bytes(_insert(w, _position(draw, 0, len(w.headers)), field))


# --- thousands of Via headers ----------------------------------------------------------------
# Header-count floods: no cap on Via count in many parsers (field-anchors B.2, last row).


def via_flood(draw: Draw, w: Wire) -> bytes:
    count = draw(st.integers(min_value=1000, max_value=4000))
    top = draw(st.booleans())
    room = MAX_SIZE - len(bytes(w)) - 64
    single = b"v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK"
    if count * (len(single) + 6) <= room:
        fields = tuple(single + str(i).encode() for i in range(count))
    else:  # comma-separated values (RFC 3261 §7.3.1), 100 to a header field, to stay in a datagram
        hop = b"SIP/2.0/UDP h"
        hops = (hop,) * min(count, room // (len(hop) + 1))
        fields = tuple(b"Via: " + b",".join(hops[i : i + 100]) for i in range(0, len(hops), 100))
    vias = w.indexes("via")
    at = (vias[0] if top else vias[-1] + 1) if vias else 0
    return bytes(w.with_headers((*w.headers[:at], *fields, *w.headers[at:])))


# --- quotes, angle brackets, URIs, IPv6 references, Via ---------------------------------------
# RFC 4475 §3.1.2.6 (unbalanced quote), belle-sip CVE-2021-43611 (display name ending in \),
# belle-sip CVE-2021-33056 (a single / as URI), resiprocate #311, drachtio-server #243,
# RFC 5118 (IPv6 references), Kamailio CVE-2018-16657 (invalid Via).

ADDRESS_HEADERS = ("from", "to", "contact", "route", "record-route")


def unbalanced_quote(draw: Draw, w: Wire) -> bytes:
    index = _choose(draw, w, ADDRESS_HEADERS)
    broken = draw(st.sampled_from((b'"Alice <', b'"Bob\\" <', b'"\\', b'"')))
    if index is None:
        return bytes(_insert(w, len(w.headers), b"From: " + broken + b"sip:a@example.com>"))
    value = w.value_at(index)
    if value.count(b'"') >= 2 and draw(st.booleans()):
        last = value.rfind(b'"')
        return bytes(_set_value(w, index, value[:last] + value[last + 1 :]))
    start = value.find(b"<")
    head = broken.rstrip(b"<") if start >= 0 else broken
    return bytes(_set_value(w, index, head + value[max(0, start) :]))


def unbalanced_angle(draw: Draw, w: Wire) -> bytes:
    index = _choose(draw, w, ADDRESS_HEADERS)
    if index is None:
        return bytes(_insert(w, len(w.headers), b"Contact: <sip:a@example.com"))
    value = w.value_at(index)
    how = draw(st.integers(min_value=0, max_value=2))
    if how == 0 and b">" in value:
        at = value.rfind(b">")
        return bytes(_set_value(w, index, value[:at] + value[at + 1 :]))
    if how == 1 and b"<" in value:
        at = value.find(b"<")
        return bytes(_set_value(w, index, value[:at] + value[at + 1 :]))
    return bytes(_set_value(w, index, b"<" + value))


BAD_IPV6 = (
    b"[2001:db8::1",
    b"2001:db8::1]",
    b"2001:db8::1",
    b"[2001:db8:::1]",
    b"[2001:db8::1::2]",
    b"[::ffff:192.0.2.300]",
    b"[2001:db8::g1]",
    b"[]",
    b"[1:2:3:4:5:6:7:8:9]",
    b"[2001:db8::1%eth0]",
)

_VIA_SENT_BY = re.compile(rb"(SIP\s*/\s*2\.0\s*/\s*\w+\s+)([^;,\s]+)")
_URI_HOST = re.compile(rb"(sips?:(?:[^@>;\s]*@)?)(\[[^\]]*\]|[^:;>\s?]+)")


def bad_ipv6_reference(draw: Draw, w: Wire) -> bytes:
    bad = draw(st.sampled_from(BAD_IPV6)) + draw(st.sampled_from((b"", b":5060")))
    where = draw(st.sampled_from(("via", "request-uri", "contact", "from")))
    if where == "request-uri" and not w.is_response:
        start = _URI_HOST.sub(lambda m: m.group(1) + bad, w.start, count=1)
        if start != w.start:
            return bytes(Wire(start, w.headers, w.body, w.terminated))
    index = _choose(draw, w, (where,)) if where != "request-uri" else None
    if index is not None:
        value = w.value_at(index)
        pattern = _VIA_SENT_BY if where == "via" else _URI_HOST
        new = pattern.sub(lambda m: m.group(1) + bad, value, count=1)
        if new != value:
            return bytes(_set_value(w, index, new))
    return bytes(_insert(w, 0, b"Via: SIP/2.0/UDP " + bad + b";branch=z9hG4bK6"))


BAD_URIS = (
    b"<sip:>",
    b"<sip:/>",
    b"/",
    b"%",
    b"<sip:%>",
    b"<sip:@example.com>",
    b"<sip:user@>",
    b"<sip:user@example.com:99999>",
    b"<sip:user@example.com:-1>",
    b"<sip::5060>",
    b"<sip:>;sip:;1001@example.com",
    b"<:user@example.com>",
    b"<sip:user@exa mple.com>",
)


def bad_uri(draw: Draw, w: Wire) -> bytes:
    uri = draw(st.sampled_from(BAD_URIS))
    if not w.is_response and draw(st.booleans()):
        parts = w.start.split(b" ")
        if len(parts) == 3:
            parts[1] = uri.strip(b"<>")
            return bytes(Wire(b" ".join(parts), w.headers, w.body, w.terminated))
    name = draw(st.sampled_from(("from", "to", "contact")))
    return _set_or_add(draw, w, name, uri + (b";tag=1" if name != "contact" else b""))


BAD_VIAS = (
    b"SIP/2.0/",
    b"SIP/2.0/UDP",
    b"SIP/2.0/UDP ;branch=z9hG4bK1",
    b"SIP/2.0 UDP 192.0.2.1",
    b"SIP/2.0/UDP 192.0.2.1:99999;branch=z9hG4bK1",
    b"SIP/2.0/UDP 192.0.2.1;branch",
    b"SIP/2.0/UDP 192.0.2.1;;;,;",
    b"/2.0/UDP 192.0.2.1",
    b"SIP/2.0/UDP 192.0.2.1;received=;rport=abc",
    b"SIP/2.0/UDP 192.0.2.1:;branch=z9hG4bK1",
    b"SIP//UDP 192.0.2.1",
    b",",
)


def malformed_via(draw: Draw, w: Wire) -> bytes:
    return _set_or_add(draw, w, "via", draw(st.sampled_from(BAD_VIAS)))


# --- start line ------------------------------------------------------------------------------
# RFC 4475 §3.1.2.7-§3.1.2.9, §3.1.2.16 (SIP/7.0), §3.1.2.19 (overlarge code).


def bad_start_line(draw: Draw, w: Wire) -> bytes:
    variants: tuple[bytes, ...]
    if w.is_response:
        parts = w.start.split(b" ", 2)
        code = parts[1] if len(parts) > 1 else b"200"
        reason = parts[2] if len(parts) > 2 else b""
        variants = (
            b"SIP/2.0  " + code + b" " + reason,
            b"SIP/2.0 " + code,
            b"SIP/2.0\t" + code + b" " + reason,
            b"SIP/2 " + code + b" " + reason,
            b"SIP/7.0 " + code + b" " + reason,
            b"HTTP/1.1 " + code + b" " + reason,
            b" SIP/2.0 " + code + b" " + reason,
        )
    else:
        parts = w.start.split(b" ")
        method, uri = [*parts, b"INVITE", b"sip:a@example.com"][:2]
        variants = (
            method + b"  " + uri + b"  SIP/2.0",
            method + b" " + uri,
            method + b" <" + uri + b"> SIP/2.0",
            method + b" " + uri + b" SIP/7.0",
            method + b" " + uri + b" SIP/2.0  ",
            method + b" " + uri + b" sip/2.0 extra",
            b" " + uri + b" SIP/2.0",
            method + b"@ " + uri + b" SIP/2.0",
        )
    start = draw(st.sampled_from(variants))
    return bytes(Wire(start, w.headers, w.body, w.terminated))


# --- truncation, multipart, havoc ------------------------------------------------------------
# sngrep #276 (partial TCP data), pjsip #2017 and CVE-2022-21723 (multipart),
# pjproject GHSA-x5pq-qrp4-fmrj.


def truncated(draw: Draw, w: Wire) -> bytes:
    data = bytes(w)
    if w.body and draw(st.booleans()):
        return data[: _position(draw, _body_start(w), len(data) - 1)]
    return data[: _position(draw, 1, _header_end(w) + 1)]


def multipart_boundary(draw: Draw, w: Wire) -> bytes:
    declared = b"boundary42"
    sdp = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
    part = b"Content-Type: application/sdp\r\n\r\n" + sdp
    how = draw(st.integers(min_value=0, max_value=4))
    used = b"boundary43" if how == 0 else declared
    closing = b"--" + used + b"--\r\n"
    bodies = (
        b"--" + used + b"\r\n" + part + b"\r\n" + closing,  # delimiter is not the boundary
        b"--" + used + b"\r\n" + part + b"\r\n",  # no close-delimiter
        b"--" + used + b"\r\n" + part + b"\r\n--" + used + b"\r\n\r\n" + closing,  # empty part
        closing,  # no body part at all
        b"--" + used + b"\r\n" + part + b"\r\n" + closing,  # and no boundary parameter
    )
    body = bodies[how]
    param = b"" if how == 4 else b";boundary=" + declared
    w = _drop(w, w.indexes("content-type"))
    w = _insert(w, len(w.headers), b"Content-Type: multipart/mixed" + param)
    return bytes(w.with_body(body))


def byte_flip(draw: Draw, w: Wire) -> bytes:
    data = bytes(w)
    at = _position(draw, 0, len(data) - 1)
    flip = draw(st.integers(min_value=1, max_value=255))
    return data[:at] + bytes([data[at] ^ flip]) + data[at + 1 :]


MUTATORS: tuple[tuple[str, Mutator], ...] = (
    ("truncated", truncated),
    ("missing-mandatory-header", missing_mandatory_header),
    ("content-length-missing", content_length_missing),
    ("content-length-negative", content_length_negative),
    ("content-length-too-large", content_length_too_large),
    ("content-length-too-small", content_length_too_small),
    ("content-length-duplicated", content_length_duplicated),
    ("content-length-conflicting", content_length_conflicting),
    ("content-length-garbage", content_length_garbage),
    ("missing-empty-line", missing_empty_line),
    ("doubled-crlf", doubled_crlf),
    ("bare-cr", bare_cr),
    ("bare-lf", bare_lf),
    ("nul-byte", nul_byte),
    ("control-char", control_char),
    ("invalid-utf8", invalid_utf8),
    ("cseq-overflow", cseq_overflow),
    ("max-forwards-overflow", max_forwards_overflow),
    ("expires-overflow", expires_overflow),
    ("retry-after-overflow", retry_after_overflow),
    ("status-code-out-of-range", status_code_out_of_range),
    ("negative-number", negative_number),
    ("sdp-overflow", sdp_overflow),
    ("duplicate-header", duplicate_header),
    ("empty-header-value", empty_header_value),
    ("cseq-method-mismatch", cseq_method_mismatch),
    ("header-without-colon", header_without_colon),
    ("unbalanced-quote", unbalanced_quote),
    ("unbalanced-angle", unbalanced_angle),
    ("bad-ipv6-reference", bad_ipv6_reference),
    ("bad-uri", bad_uri),
    ("malformed-via", malformed_via),
    ("bad-start-line", bad_start_line),
    ("multipart-boundary", multipart_boundary),
    ("overlong-value", overlong_value),
    ("overlong-header-name", overlong_header_name),
    ("overlong-start-line", overlong_start_line),
    ("via-flood", via_flood),
    ("byte-flip", byte_flip),
)

LABELS: tuple[str, ...] = tuple(label for label, _ in MUTATORS)
