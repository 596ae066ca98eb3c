"""The ladder model and its formats against the scan's own records: one arrow per message
of a call minus its folded retransmissions (the messages ``scan --format jsonl`` flags
``resend``), in every format, for every call of every fixture capture."""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from pathlib import Path

import pytest
from ladder_support import (
    CAPTURES,
    FIXTURES,
    arrows_in,
    cli,
    messages,
    records,
    request,
    response,
    synthetic,
)

from sipstatus.ladder import FORMATS, build, draw, render
from sipstatus.ladder._model import endpoint


def _calls(name: str) -> dict[str, list[dict[str, object]]]:
    calls: dict[str, list[dict[str, object]]] = defaultdict(list)
    for record in records(name):
        calls[str(record["call_id"])].append(record)
    return calls


@pytest.mark.parametrize("name", FIXTURES)
def test_every_call_has_one_arrow_per_message_minus_retransmissions(name: str) -> None:
    by_call = defaultdict(list)
    for message in messages(name):
        by_call[message.head.call_id].append(message)
    calls = _calls(name)
    assert set(by_call) == set(calls)
    for call_id, recorded in calls.items():
        ladder = build(by_call[call_id])
        resent = [r["frame"] for r in recorded if r["resend"]]
        expected = len(recorded) - len(resent)
        assert len(ladder.arrows) == expected, call_id
        # each arrow's frames: its message, then the retransmissions folded into it
        assert sorted(f for a in ladder.arrows for f in a.frames) == sorted(
            int(str(r["frame"])) for r in recorded)
        assert sorted(f for a in ladder.arrows for f in a.frames[1:]) == sorted(resent)
        for fmt in FORMATS:
            drawn = arrows_in(draw(ladder, fmt), fmt)
            if isinstance(drawn, list):
                assert drawn == [a.frame for a in ladder.arrows], (call_id, fmt)
            else:
                assert drawn == expected, (call_id, fmt)


@pytest.mark.parametrize("name", FIXTURES)
def test_the_command_draws_every_call_in_every_format(name: str, tmp_path: Path) -> None:
    capture = str(CAPTURES / name)
    total = len(records(name)) - sum(1 for r in records(name) if r["resend"])
    for fmt in FORMATS:
        out = tmp_path / f"all.{fmt}"
        assert cli("ladder", capture, "--format", fmt, "-o", str(out)) == (0, "")
        drawn = arrows_in(out.read_text(encoding="utf-8"), fmt)
        assert (len(drawn) if isinstance(drawn, list) else drawn) == total, fmt
    some = sorted(_calls(name))[:2]
    args = [arg for call_id in some for arg in ("--call-id", call_id)]
    status, text = cli("ladder", capture, *args, "--format", "svg")
    assert status == 0
    expected = sum(1 for call_id in some for r in _calls(name)[call_id] if not r["resend"])
    assert len(arrows_in(text, "svg")) == expected


@pytest.mark.parametrize("name", FIXTURES)
def test_call_notes_are_the_scans_calls(name: str) -> None:
    _, text = cli("scan", "--calls", "--format", "jsonl", str(CAPTURES / name))
    scanned = {row["call_id"]: row for row in map(json.loads, text.splitlines())}
    notes = {note.call_id: note for note in build(messages(name)).calls}
    assert set(notes) == set(scanned)
    for call_id, row in scanned.items():
        note = notes[call_id]
        assert note.outcome == row["outcome"]
        assert (note.final_code or None) == row["final_code"]
        # the same times, but for the float seconds of a CapturedMessage (a microsecond)
        assert note.setup_ms == pytest.approx(row["setup_ms"], abs=0.002)
        assert note.duration_ms == pytest.approx(row["duration_ms"], abs=0.002)


def test_columns_merge_an_element_by_its_via_and_keep_addresses_apart_on_request() -> None:
    ladder = build(messages("sipp-kamailio-tcp.pcap"))
    apart = build(messages("sipp-kamailio-tcp.pcap"), by="address")
    assert len(apart.columns) > len(ladder.columns)
    assert all(len(column.addresses) == 1 for column in apart.columns)
    merged = [c for c in ladder.columns if len(c.addresses) > 1]
    assert merged and all(len({a.rsplit(":", 1)[0] for a in c.addresses}) == 1
                          for c in merged)
    assert [c.label for c in ladder.columns][:3] == ["A", "B", "C"]
    # every arrow's ends are in the columns named for its addresses
    for arrow in ladder.arrows:
        assert ladder.columns[arrow.src] == ladder.column_of(arrow.src_address)
        assert ladder.columns[arrow.dst] == ladder.column_of(arrow.dst_address)
    with pytest.raises(KeyError):
        ladder.column_of("192.0.2.1:1")


def test_via_and_one_via_contact_merge_but_a_responses_contact_does_not() -> None:
    # A sends from an ephemeral port, its Via and Contact name 5060; B answers with a
    # Contact naming a third port (which a proxy would have forwarded): not B's.
    invite = request("INVITE", via="10.0.0.1:5060",
                     extra="Contact: <sip:a@10.0.0.1:5062>\r\n")
    ok = response(200, "OK", via="10.0.0.1:5060", extra="Contact: <sip:b@10.0.0.2:5070>\r\n")
    bye = request("BYE", cseq=2, via="10.0.0.1")  # default port 5060
    msgs = [synthetic(invite, 1, sport=40000),
            synthetic(ok, 2, src="10.0.0.2", dst="10.0.0.1"),
            synthetic(bye, 3, 1001.0, sport=40001),
            synthetic(request("OPTIONS", "c2"), 4, 1002.0, src="10.0.0.1", sport=5062)]
    ladder = build(msgs)
    a = ladder.column_of("10.0.0.1:40000")
    assert a == ladder.column_of("10.0.0.1:5060") == ladder.column_of("10.0.0.1:40001")
    assert a == ladder.column_of("10.0.0.1:5062")  # the one-Via request's Contact
    assert ladder.column_of("10.0.0.2:5060") != a
    assert len(ladder.columns) == 2
    assert len(build(msgs, by="address").columns) == 5


def test_ipv6_endpoints_are_bracketed() -> None:
    assert endpoint("2001:db8::1", 5060) == "[2001:db8::1]:5060"
    assert endpoint("10.0.0.1", 5060) == "10.0.0.1:5060"
    ladder = build(messages("sipp-kamailio-ipv6.pcapng"))
    assert all(a.startswith("[") for c in ladder.columns for a in c.addresses)


def test_times_since_first_and_delta() -> None:
    msgs = [synthetic(request("INVITE"), 1, 10.0),
            synthetic(response(180, "Ringing"), 2, 10.25, "10.0.0.2", 5060, "10.0.0.1", 5060),
            synthetic(response(200, "OK"), 3, 11.0, "10.0.0.2", 5060, "10.0.0.1", 5060)]
    arrows = build(msgs).arrows
    assert [a.since_first for a in arrows] == [0.0, 0.25, 1.0]
    assert [a.delta for a in arrows] == [0.0, 0.25, 0.75]
    assert arrows[2].timing == "1.000 +0.750"
    note = build(msgs).calls[0]
    assert (note.outcome, note.final_code, note.pdd_ms, note.setup_ms) == (
        "answered", 200, 250.0, 1000.0)
    assert note.text == "outcome: answered, final 200, PDD 250 ms, setup 1000 ms"


def test_retransmissions_fold_into_one_arrow_marked_with_their_count() -> None:
    invite = request("INVITE")
    msgs = [synthetic(invite, 1, 10.0), synthetic(invite, 2, 10.5), synthetic(invite, 3, 11.5),
            synthetic(invite, 4, 12.0, transport="tcp")]  # TCP: never a retransmission
    ladder = build(msgs)
    assert [a.frames for a in ladder.arrows] == [(1, 2, 3), (4,)]
    assert ladder.arrows[0].title == "INVITE ×3"
    assert ladder.arrows[1].title == "INVITE"
    for fmt in FORMATS:
        assert "INVITE ×3" in draw(ladder, fmt)


def test_sdp_and_notes_from_the_classifier() -> None:
    sdp = ("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
           "m=audio 4000 RTP/AVP 0 96\r\na=rtpmap:96 opus/48000/2\r\na=sendonly\r\n")
    msgs = [
        synthetic(request("INVITE", extra="Content-Type: application/sdp\r\n", body=sdp), 1),
        synthetic(response(302, "Moved", extra="Contact: <sip:carol@10.0.0.9>\r\n"), 2,
                  src="10.0.0.2", dst="10.0.0.1"),
        synthetic(response(503, "Busy", "INVITE", "c2",
                           extra="Retry-After: 30\r\nReason: Q.850;cause=34;text=\"No circuit\""
                                 "\r\n"), 3, src="10.0.0.2", dst="10.0.0.1"),
        synthetic(request("CANCEL", "c3", extra="Reason: SIP;cause=487\r\n"), 4),
        synthetic(response(487, "Request Terminated", call_id="c3"), 5, src="10.0.0.2",
                  dst="10.0.0.1"),
        synthetic(b"SIP/2.0 799 Odd\r\nCall-ID: c4\r\nCSeq: 1 INVITE\r\n\r\n", 6),
        synthetic(b"SIP/2.0 404 Not Found\r\nCall-ID: c5\r\nCSeq: 1 INVITE\r\n"
                  b"Content-Length: 0\r\n\r\n", 7),
    ]
    arrows = build(msgs).arrows
    assert arrows[0].sdp == "SDP 10.0.0.1 audio 4000 PCMU,opus sendonly"
    assert arrows[1].note == "redirect, to sip:carol@10.0.0.9"
    assert arrows[2].note == ("retry other server, Retry-After 30 s, "
                              "Reason: Q.850 cause 34 \u201cNo circuit\u201d")
    assert arrows[3].note == "Reason: SIP cause 487"
    assert arrows[4].note == ""  # 487: no advice beyond the outcome
    assert (arrows[5].colour, arrows[5].note) == ("request", "")  # outside 100-699
    assert arrows[6].note == "do not retry"
    assert arrows[6].colour == "4xx"


def test_a_broken_message_is_drawn_from_its_head() -> None:
    odd = synthetic(b"INVITE sip:x SIP/2.0\r\nCall-ID: b1\r\nCSeq: 1 INVITE\r\n"
                    b"Via: nonsense\r\nReason: SIP;cause=abc\r\n\r\nv=0\r\nc=IN IP4 1.2.3.4\r\n")
    broken = dataclasses.replace(odd, message=None, frame=2, sport=5070)
    arrows = build([odd, broken]).arrows
    assert [(a.label, a.sdp, a.note) for a in arrows] == [("INVITE", "SDP 1.2.3.4", "")] * 2
    assert len(build([odd, broken]).columns) == 3  # an unreadable Via merges nothing


def test_render_takes_any_iterable_and_checks_its_arguments() -> None:
    msgs = messages("sipp-kamailio-fragments.pcapng")
    assert render(iter(msgs), "mermaid") == draw(build(msgs), "mermaid")
    assert render(msgs) == draw(build(msgs), "text")
    with pytest.raises(ValueError, match="format must be one of"):
        render(msgs, "png")
    with pytest.raises(ValueError, match="format must be one of"):
        draw(build(msgs), "png")
    with pytest.raises(ValueError, match="by must be one of"):
        build(msgs, by="host")
    empty = build([])
    assert (empty.columns, empty.arrows, empty.calls) == ((), (), ())
    for fmt in FORMATS:
        assert draw(empty, fmt)


def test_addresses_compare_in_one_spelling_and_names_never_merge() -> None:
    v6 = synthetic(request("OPTIONS", "v6", via="[2001:DB8:0::1]:5060"), 1,
                   src="2001:db8::1", sport=40000, dst="2001:db8::2")
    back = synthetic(response(200, "OK", "OPTIONS", "v6", via="[2001:db8::1]"), 2,
                     src="2001:db8::2", dst="2001:db8::1", dport=5060)
    named = synthetic(request("OPTIONS", "n", via="pc.example.com:5060"), 3,
                      src="10.0.0.1", sport=40000)
    ladder = build([v6, back, named])
    assert ladder.column_of("[2001:db8::1]:40000") == ladder.column_of("[2001:db8::1]:5060")
    assert ladder.column_of("10.0.0.1:40000").addresses == ("10.0.0.1:40000",)
