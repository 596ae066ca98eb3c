"""Benchmark: parsing realistic SIP responses, sipstatus (lenient and strict) against a naive
``str.split`` parser measured in the same run.

Each timed unit is: parse one message, then read its status code, reason, Call-ID, CSeq
number and method, and the number of Via and Contact entries. The 24 templates below are
realistic responses (provisional to global failure, compact forms, folded headers, auth
challenges, SDP bodies, redirects with several Contacts); every copy gets fresh Call-ID,
branch and tag values, so each parse sees a message it has not seen before and no cache
keyed on header text can flatter the figure.

Budget (issue 2): lenient at least 0.5x and strict at least 0.06x the naive baseline's
messages per second. Timings are medians of several rounds, alternating the parsers, on
this noisy shared machine; the script prints ratios, never absolute judgements. Times are
CPU time (``time.process_time``), less sensitive to other processes than wall time.

The entries mode (issue 10) times what a program reads from every entry: lenient parse, the
same fields, then every Via's host, port and branch, every Contact's URI, q and expires, and
the From and To tags. It runs on the corpus above and on a second corpus of shapes unlike
it (several Vias and Contacts a message, several Contact lines, folded headers, compact
forms, LF-only line ends, IPv6 hosts, quoted display names, URI parameters and headers, a
bare addr-spec, tel URIs), against the same naive parser, which only counts entries (it gets
each unusual message with CRLF line ends, the only ones it reads). Budget: at least 0.40x.
It also times the floor under that figure: the same look-ups and loops with every entry's
text read and none split (docs/parser.md: why the budget is out of reach).

    python bench/bench_parse.py [--copies 200] [--rounds 7] [--mode all|fields|entries]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable

import sipstatus

SDP = (
    "v=0\r\no=bob 2890844527 2890844527 IN IP4 192.0.2.4\r\ns=-\r\nc=IN IP4 192.0.2.4\r\n"
    "t=0 0\r\nm=audio 49172 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
)

VIA1 = ("Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK{b1}"
        ";received=192.0.2.101;rport=5060")
VIA2 = "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK{b2}"
FROM = "From: Alice <sip:alice@atlanta.example.com>;tag={t1}"
TO = "To: Bob <sip:bob@biloxi.example.com>;tag={t2}"
CALL = "Call-ID: {cid}@pc33.atlanta.example.com"
SERVER = "Server: Kamailio (5.6.3 (x86_64/linux))"


def _response(status: str, *lines: str, cseq: str = "314159 INVITE", body: str = "",
              content_type: str = "application/sdp") -> str:
    head = [f"SIP/2.0 {status}", *lines, f"CSeq: {cseq}"]
    if body:
        head.append(f"Content-Type: {content_type}")
    head.append(f"Content-Length: {len(body.encode())}")
    return "\r\n".join(head) + "\r\n\r\n" + body


TEMPLATES = [
    _response("100 Trying", VIA1, VIA2, FROM, "To: Bob <sip:bob@biloxi.example.com>", CALL),
    _response("180 Ringing", VIA1, VIA2, FROM, TO, CALL,
              "Contact: <sip:bob@192.0.2.4:5060;transport=udp>", SERVER),
    _response("183 Session Progress", VIA1, FROM, TO, CALL, "Contact: <sip:bob@192.0.2.4>",
              "Require: 100rel", "RSeq: 1", body=SDP),
    _response("200 OK", VIA1, VIA2, FROM, TO, CALL, "Contact: <sip:bob@192.0.2.4>",
              "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK",
              "Supported: replaces, timer", "Session-Expires: 1800;refresher=uac", SERVER,
              body=SDP),
    _response("200 OK", "v: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK{b1}",
              "f: <sip:alice@atlanta.example.com>;tag={t1}",
              "t: <sip:alice@atlanta.example.com>;tag={t2}", "i: {cid}",
              "m: <sip:alice@192.0.2.101:5060>;expires=3600", "Expires: 3600",
              cseq="2 REGISTER"),
    _response("202 Accepted", VIA1, FROM, TO, CALL, "Contact: <sip:bob@192.0.2.4>",
              cseq="101 REFER"),
    _response("302 Moved Temporarily", VIA1, VIA2, FROM, TO, CALL,
              "Contact: <sip:bob@192.0.2.5>;q=0.7;expires=3600, <sip:bob@pc.example.com>;q=1.0",
              "Contact: \"Bob mobile\" <sip:+15551234567@gw.example.net;user=phone>;q=0.3"),
    _response("401 Unauthorized", VIA1, FROM, TO, CALL,
              'WWW-Authenticate: Digest realm="atlanta.example.com", qop="auth", '
              'nonce="84a4cc6f3082121f32b42a2187831a9e", opaque="", stale=FALSE, '
              "algorithm=MD5", SERVER, cseq="1 REGISTER"),
    _response("407 Proxy Authentication Required", VIA1, FROM, TO, CALL,
              'Proxy-Authenticate: Digest realm="proxy.example.com", qop="auth,auth-int",',
              ' nonce="ea9c8e88df84f1cec4341ae6cbe5a359", algorithm=MD5', SERVER),
    _response("403 Forbidden", VIA1, VIA2, FROM, TO, CALL,
              'Warning: 399 proxy.example.com "Not allowed from this address"'),
    _response("404 Not Found", VIA1, VIA2, FROM, TO, CALL, SERVER),
    _response("405 Method Not Allowed", VIA1, FROM, TO, CALL,
              "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS", cseq="7 PUBLISH"),
    _response("415 Unsupported Media Type", VIA1, FROM, TO, CALL,
              "Accept: application/sdp, multipart/mixed", "Accept-Encoding: identity",
              "Accept-Language: en"),
    _response("420 Bad Extension", VIA1, FROM, TO, CALL, "Unsupported: foo, bar"),
    _response("422 Session Interval Too Small", VIA1, FROM, TO, CALL, "Min-SE: 1800"),
    _response("423 Interval Too Brief", VIA1, FROM, TO, CALL, "Min-Expires: 3600",
              cseq="3 REGISTER"),
    _response("480 Temporarily Unavailable", VIA1, VIA2, FROM, TO, CALL,
              "Retry-After: 3600", "Reason: SIP;cause=480;text=\"Not registered\""),
    _response("486 Busy Here", VIA1, VIA2, FROM, TO, CALL,
              "Retry-After: 120 (I'm in a meeting)", SERVER),
    _response("487 Request Terminated", VIA1, FROM, TO, CALL,
              "Reason: Q.850;cause=16;text=\"Normal call clearing\""),
    _response("488 Not Acceptable Here", VIA1, FROM, TO, CALL,
              'Warning: 304 biloxi.example.com "Media type not available"'),
    _response("491 Request Pending", VIA1, FROM, TO, CALL, cseq="2 INVITE"),
    _response("494 Security Agreement Required", VIA1, FROM, TO, CALL,
              "Security-Server: ipsec-ike;q=0.1, tls;q=0.2", "Require: sec-agree"),
    _response("503 Service Unavailable", VIA1, VIA2, FROM, TO, CALL,
              "Retry-After: 300;duration=600", SERVER),
    _response("603 Decline", VIA1, VIA2, FROM, TO, CALL,
              "Reason: SIP;cause=603;text=\"Declined\"", SERVER),
]


# Shapes unlike the templates above: what a reader of every entry must not find slow.
_LF = "\n"
UNUSUAL_TEMPLATES = [
    # Several Vias on one line and on several lines, IPv6 sent-by, bare rport, received.
    _response("200 OK",
              "Via: SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bK{b1};rport=5060;"
              "received=2001:db8::9, SIP/2.0/TCP proxy1.example.com:5061;branch=z9hG4bK{b2}",
              "Via: SIP/2.0/TLS proxy2.example.com;branch=z9hG4bK{b2}.1;rport",
              "Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK{b1}.2;received=192.0.2.7",
              FROM, TO, CALL,
              "Contact: <sip:bob@[2001:db8::4]:5061;transport=tls>;expires=3600;+sip.ice",
              cseq="1 INVITE"),
    # Several Contacts a line and several Contact lines, quoted display names (one with
    # escaped quotes), URI parameters and headers.
    _response("300 Multiple Choices", VIA1, VIA2, FROM, TO, CALL,
              'Contact: "Bob \\"Office\\"" <sip:bob@office.example.com;transport=tcp>;q=1.0, '
              '"Bob Mobile" <sip:+15551234567@gw.example.net;user=phone>;q=0.5;expires=60',
              "Contact: <sip:bob@voicemail.example.com?subject=missed%20call&priority=urgent>"
              ";q=0.1",
              "Contact: Bob Home <sips:bob@home.example.org:5061;lr>;expires=7200"),
    # Compact forms, tokens as a display name, a bare addr-spec Contact.
    _response("200 OK", "v: SIP/2.0/UDP 192.0.2.33:5060;branch=z9hG4bK{b1};rport=5060",
              "v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK{b2}",
              "f: Alice Liddell <sip:alice@wonderland.example.com>;tag={t1}",
              "t: sip:bob@biloxi.example.com;tag={t2}", "i: {cid}",
              "m: sip:bob@192.0.2.4:5070;expires=600", cseq="7 REGISTER"),
    # Folded headers: a fold after a comma and a fold between parameters.
    _response("180 Ringing", "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK{b1},",
              "  SIP/2.0/UDP bigbox3.site3.atlanta.example.com;branch=z9hG4bK{b2}",
              "From: \"Alice\" <sip:alice@atlanta.example.com>;tag={t1}",
              "To: <sip:bob@biloxi.example.com>", "\t;tag={t2}", CALL,
              "Contact: <sip:bob@192.0.2.4>;q=0.7;", " expires=3600", SERVER),
    # tel URIs (From/To of a gateway), a Contact with a user=phone URI and a header param.
    _response("183 Session Progress", VIA1,
              "From: <tel:+15551230000>;tag={t1}", "To: <tel:+15554560000;phone-context=+1>"
              ";tag={t2}", CALL,
              "Contact: <sip:+15554560000@gw1.example.net:5060;user=phone>;expires=300",
              "Require: 100rel", "RSeq: 1", body=SDP),
    # Case: lower-case transport, mixed-case parameter names, SIPS.
    _response("202 Accepted", "Via: SIP/2.0/tcp client.example.org:5070;Branch=z9hG4bK{b1};"
              "RPort", FROM, TO, CALL,
              "Contact: <SIPS:bob@secure.example.com>;Expires=120;Q=0.9", cseq="9 REFER"),
]
# Two of them with LF-only line ends (lenient parsing reads them; the naive one does not).
UNUSUAL_TEMPLATES += [UNUSUAL_TEMPLATES[0].replace("\r\n", _LF),
                      UNUSUAL_TEMPLATES[2].replace("\r\n", _LF)]


def corpus(copies: int, seed: int = 1, templates: list[str] | None = None) -> list[bytes]:
    """``copies`` of every template, each with fresh Call-ID, branches and tags."""
    rng = random.Random(seed)
    messages = []
    for copy in range(copies):
        for template in TEMPLATES if templates is None else templates:
            ids = {name: f"{rng.getrandbits(64):016x}{copy:x}"
                   for name in ("b1", "b2", "t1", "t2", "cid")}
            messages.append(template.format(**ids).encode())
    rng.shuffle(messages)
    return messages


def naive(data: bytes) -> tuple[object, ...]:
    """The parser people write first: decode, split lines, split each header at ':'."""
    text = data.decode("utf-8", "replace")
    head, _, _body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    _version, code, reason = lines[0].split(" ", 2)
    headers: dict[str, list[str]] = {}
    compact = {"i": "call-id", "v": "via", "m": "contact", "f": "from", "t": "to"}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        headers.setdefault(compact.get(key, key), []).append(value.strip())
    seq, method = headers["cseq"][0].split()
    vias = sum(len(v.split(",")) for v in headers.get("via", ()))
    contacts = sum(len(v.split(",")) for v in headers.get("contact", ()))
    return int(code), reason, headers["call-id"][0], int(seq), method, vias, contacts


def with_sipstatus(strict: bool) -> Callable[[bytes], tuple[object, ...]]:
    def read(data: bytes) -> tuple[object, ...]:
        message = sipstatus.parse_response(data, strict=strict)
        cseq = message.cseq
        assert cseq is not None
        return (message.status_code, message.reason, message.call_id, cseq.seq, cseq.method,
                len(message.via), len(message.contact))
    return read


def _parse_for_entries(data: bytes) -> tuple[sipstatus.SipResponse, list[object]]:
    """Lenient parse and the fields above (what both entry readers start with)."""
    message = sipstatus.parse_response(data)
    cseq = message.cseq
    assert cseq is not None and message.from_ is not None and message.to is not None
    return message, [message.status_code, message.reason, message.call_id, cseq.seq,
                     cseq.method]


def with_entries(data: bytes) -> list[object]:
    """Lenient parse, the fields above, and every entry read as a program reads it."""
    message, read = _parse_for_entries(data)
    for via in message.via:
        read += (via.host, via.port, via.branch)
    for contact in message.contact:
        read += (contact.uri, contact.q, contact.expires)
    read += (message.from_.tag, message.to.tag)  # type: ignore[union-attr]
    return read


def with_entry_texts(data: bytes) -> list[object]:
    """The floor under :func:`with_entries`: the same look-ups and loops, every entry's text
    read and nothing split. What reading the parts adds to it is the cost of the splitting."""
    message, read = _parse_for_entries(data)
    for via in message.via:
        read.append(via.text)
    for contact in message.contact:
        read.append(contact.text)
    read += (message.from_.text, message.to.text)  # type: ignore[union-attr]
    return read


def crlf(data: bytes) -> bytes:
    """The message with CRLF line ends (what the naive parser reads)."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def per_message(function: Callable[[bytes], object], messages: list[bytes]) -> float:
    start = time.process_time()
    for data in messages:
        function(data)
    return (time.process_time() - start) / len(messages)


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--copies", type=int, default=200, help="copies of each template")
    options.add_argument("--rounds", type=int, default=7, help="timed rounds per parser")
    options.add_argument("--mode", choices=("all", "fields", "entries"), default="all",
                         help="fields: lenient and strict; entries: every entry read")
    args = options.parse_args(argv)
    messages = corpus(args.copies)
    # The unusual corpus has fewer templates: as many copies as make about as many messages.
    unusual = corpus(args.copies * len(TEMPLATES) // len(UNUSUAL_TEMPLATES), seed=2,
                     templates=UNUSUAL_TEMPLATES)
    unusual_crlf = [crlf(data) for data in unusual]
    runs: dict[str, tuple[Callable[[bytes], object], list[bytes]]] = {
        "naive": (naive, messages)}
    if args.mode in ("all", "fields"):
        runs["lenient"] = (with_sipstatus(False), messages)
        runs["strict"] = (with_sipstatus(True), messages)
    if args.mode in ("all", "entries"):
        runs["entries"] = (with_entries, messages)
        runs["naive-unusual"] = (naive, unusual_crlf)
        runs["entries-unusual"] = (with_entries, unusual)
        runs["texts"] = (with_entry_texts, messages)
        runs["texts-unusual"] = (with_entry_texts, unusual)
    # Same answers first: the benchmark compares parsers that read the same things.
    for data in messages[:200]:
        expected = naive(data)
        assert with_sipstatus(False)(data) == expected, data
        if "strict" in runs:
            assert with_sipstatus(True)(data) == expected, data
        assert tuple(with_entries(data)[:5]) == expected[:5], data
    for data in unusual[: 4 * len(UNUSUAL_TEMPLATES)]:
        message = sipstatus.parse_response(data)
        assert message.defects in ((), ("bare LF line endings",)), (data, message.defects)
        assert all(via.branch for via in message.via), data
        read = with_entries(data)
        assert len(read) == 5 + 3 * len(message.via) + 3 * len(message.contact) + 2, data
    for function, inputs in runs.values():  # warm up: grammar regexes compile on first use
        per_message(function, inputs[:500])
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, (function, inputs) in runs.items():
            times[name].append(per_message(function, inputs))
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"{len(messages)} messages ({len(TEMPLATES)} templates x {args.copies}), "
          f"{len(unusual)} unusual ({len(UNUSUAL_TEMPLATES)} templates), "
          f"{args.rounds} rounds, medians of CPU time")
    for name in runs:
        print(f"  {name:15s} {1 / median[name]:>10,.0f} msg/s  "
              f"{median[name] * 1e6:7.1f} µs/msg")
    if "lenient" in median:
        lenient = median["naive"] / median["lenient"]
        strict = median["naive"] / median["strict"]
        print(f"  lenient / naive = {lenient:.2f}x  (budget >= 0.50x)")
        print(f"  strict  / naive = {strict:.3f}x  (budget >= 0.06x)")
    if "entries" in median:
        usual = median["naive"] / median["entries"]
        odd = median["naive-unusual"] / median["entries-unusual"]
        print(f"  lenient+entries / naive = {usual:.2f}x  (budget >= 0.40x)")
        print(f"  lenient+entries / naive, unusual shapes = {odd:.2f}x  (budget >= 0.40x)")
        floor = median["naive"] / median["texts"]
        odd_floor = median["naive-unusual"] / median["texts-unusual"]
        print(f"  the floor, every entry's text read and none split / naive = {floor:.2f}x, "
              f"unusual shapes {odd_floor:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
