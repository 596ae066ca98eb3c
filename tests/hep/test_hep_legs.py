"""The HEP correlation id (chunk 0x0011) ties a message's call to another leg, as the legs'
headers do (``capture/_legs``): through the HEP source, the head scan and the calls."""

from __future__ import annotations

from sipstatus.capture._calls import Call, Calls
from sipstatus.capture._head import scan_head
from sipstatus.hep import HepStats, encode, packet_of
from sipstatus.hep._source import packet_payloads


def _invite(call_id: str) -> bytes:
    return (f"INVITE sip:b@192.0.2.20 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-"
            f"{call_id}\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: {call_id}\r\n"
            f"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n").encode()


def test_the_correlation_id_of_a_hep_packet_ties_the_legs() -> None:
    sent = [(n, 1_700_000_000, n * 1000, "192.0.2.10", 5060, "192.0.2.20", 5060, "udp",
             _invite(call_id), "", "") for n, call_id in enumerate(("a@x", "b@x", "c@x"), 1)]
    packets = [encode(packet_of(sent[0])), encode(packet_of(sent[1], correlation_id="a@x")),
               encode(packet_of(sent[2]))]
    problems: list[str] = []
    released: list[Call] = []
    calls = Calls(released.append)
    for frame, sec, nsec, src, sport, dst, dport, transport, data, _, _ in packet_payloads(
            packets, HepStats(), problems.append):
        head = scan_head(data)
        assert head is not None
        calls.observe(head, sec * 10**9 + nsec, frame, src, sport, dst, dport, transport,
                      False)
    calls.flush(1_700_000_001 * 10**9)
    assert problems == []
    assert sorted(call.call_ids for call in released) == [("a@x", "b@x"), ("c@x",)]
