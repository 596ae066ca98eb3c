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
this noisy shared machine; the script prints ratios, never absolute judgements.

    python bench/bench_parse.py [--copies 200] [--rounds 7]
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


def corpus(copies: int, seed: int = 1) -> list[bytes]:
    """``copies`` of every template, each with fresh Call-ID, branches and tags."""
    rng = random.Random(seed)
    messages = []
    for copy in range(copies):
        for template in TEMPLATES:
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


def per_message(function: Callable[[bytes], object], messages: list[bytes]) -> float:
    start = time.process_time()
    for data in messages:
        function(data)
    return (time.process_time() - start) / len(messages)


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--copies", type=int, default=200, help="copies of each template")
    options.add_argument("--rounds", type=int, default=7, help="timed rounds per parser")
    args = options.parse_args(argv)
    messages = corpus(args.copies)
    parsers = {"naive": naive, "lenient": with_sipstatus(False),
               "strict": with_sipstatus(True)}
    # Same answers first: the benchmark compares parsers that read the same things.
    for data in messages[:200]:
        expected = naive(data)
        assert parsers["lenient"](data) == expected, data
        assert parsers["strict"](data) == expected, data
    for function in parsers.values():  # warm up: grammar regexes compile on first use
        per_message(function, messages[:500])
    times: dict[str, list[float]] = {name: [] for name in parsers}
    for _ in range(args.rounds):
        for name, function in parsers.items():
            times[name].append(per_message(function, messages))
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"{len(messages)} messages ({len(TEMPLATES)} templates x {args.copies}), "
          f"{args.rounds} rounds, medians")
    for name in parsers:
        print(f"  {name:8s} {1 / median[name]:>10,.0f} msg/s  {median[name] * 1e6:7.1f} µs/msg")
    lenient = median["naive"] / median["lenient"]
    strict = median["naive"] / median["strict"]
    print(f"  lenient / naive = {lenient:.2f}x  (budget >= 0.50x)")
    print(f"  strict  / naive = {strict:.3f}x  (budget >= 0.06x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
