"""The fuzzer's parts without a network: targets, wire handling, probe and clean-up messages,
verdicts, replay re-aiming, the report, and the command line's usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sipstatus
from sipstatus import _cli
from sipstatus._fuzz.build import Endpoint
from sipstatus._fuzz.model import MALFORMED_REPLY, TARGET_DEAD, Case, Finding, Mutation
from sipstatus._fuzz.probe import options, teardown
from sipstatus._fuzz.report import write
from sipstatus._fuzz.run import Outcome, Settings, _Run, rebase
from sipstatus._fuzz.target import Target, TargetError, parse_listen, parse_target
from sipstatus._fuzz.verdict import judge
from sipstatus._fuzz.wire import Wire, call_id, frame

INVITE = (b"INVITE sip:bob@127.0.0.1:5060 SIP/2.0\r\n"
          b"Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK-1;rport\r\n"
          b"Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=a1\r\n"
          b"To: <sip:bob@127.0.0.1>\r\nCall-ID: call-1@127.0.0.1\r\nCSeq: 7 INVITE\r\n"
          b"Contact: <sip:alice@127.0.0.1:40000>\r\nContent-Length: 0\r\n\r\n")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("udp:127.0.0.1:5060", Target("udp", "127.0.0.1", 5060)),
     ("TCP:[::1]:5070", Target("tcp", "::1", 5070)),
     ("udp:[2001:db8::1]:5060", Target("udp", "2001:db8::1", 5060)),
     ("udp:localhost:5060", None)],
)
def test_targets(spec: str, expected: Target | None) -> None:
    target = parse_target(spec)
    if expected is not None:
        assert target == expected
    assert str(parse_target(str(target))) == str(target)


@pytest.mark.parametrize(
    ("spec", "reason"),
    [("udp:255.255.255.255:5060", "broadcast"), ("udp:224.0.0.1:5060", "multicast"),
     ("udp:[ff02::1]:5060", "multicast"), ("udp:0.0.0.0:5060", "not a destination"),
     ("sctp:127.0.0.1:5060", "expected"), ("udp:127.0.0.1", "expected"),
     ("udp:::1:5060", "expected"), ("udp:127.0.0.1:70000", "port")],
)
def test_refused_targets(spec: str, reason: str) -> None:
    with pytest.raises(TargetError, match=reason):
        parse_target(spec)


def test_listen_addresses() -> None:
    assert parse_listen("[::1]:0", "udp") == Target("udp", "::1", 0)
    with pytest.raises(TargetError):
        parse_listen("localhost:5060", "udp")
    with pytest.raises(TargetError):
        parse_listen("239.1.1.1:5060", "udp")


def test_wire_split_round_trip_and_lookups() -> None:
    folded = INVITE.replace(
        b"CSeq: 7 INVITE\r\n", b"CSeq: 7 INVITE\r\nSubject:\r\n  folded\r\ni: other\r\n")
    wire = Wire.split(folded + b"body")
    assert bytes(wire) == folded + b"body"
    assert wire.method == "INVITE" and not wire.is_response
    assert wire.value("subject") == b"folded"
    assert wire.indexes("call-id") == (4, 7)  # the compact form "i" too
    assert wire.with_body(b"abc").value("content-length") == b"3"
    unterminated = Wire.split(b"SIP/2.0 200 OK\r\nCSeq: 1 BYE")
    assert not unterminated.terminated and unterminated.is_response


def test_frame_splits_a_stream() -> None:
    body = INVITE.replace(b"Content-Length: 0", b"Content-Length: 4") + b"v=0\n"
    stream = b"\r\n\r\n" + body + INVITE[:30]
    first = frame(stream)
    assert first is not None and first[0] == body and first[1] == INVITE[:30]
    assert frame(INVITE[:30]) is None
    assert frame(body[:-1]) is None


def test_probe_is_a_valid_options() -> None:
    message, cid = options(Endpoint("UDP", "::1", 40000), Endpoint("UDP", "::1", 5060), 3, 9)
    parsed = sipstatus.parse(message, strict=True)
    assert isinstance(parsed, sipstatus.SipRequest) and parsed.method == "OPTIONS"
    assert parsed.call_id == cid == call_id(message)
    assert parsed.uri == "sip:[::1]:5060"
    assert parsed.via[0].rport == ""


def test_teardown_acks_final_responses() -> None:
    local = Endpoint("UDP", "127.0.0.1", 40000)
    busy = (b"SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK-1;"
            b"rport=40000\r\nFrom: <sip:alice@127.0.0.1>;tag=a1\r\n"
            b"To: <sip:bob@127.0.0.1>;tag=b2\r\nCall-ID: call-1@127.0.0.1\r\n"
            b"CSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n")
    (ack,) = teardown(INVITE, busy, local)
    parsed = sipstatus.parse(ack, strict=True)
    assert isinstance(parsed, sipstatus.SipRequest) and parsed.method == "ACK"
    assert parsed.via[0].branch == "z9hG4bK-1"  # same transaction (RFC 3261 §17.1.1.3)
    assert parsed.cseq == sipstatus.CSeq(7, "ACK") and parsed.to is not None
    assert parsed.to.tag == "b2"
    ok = busy.replace(b"486 Busy Here", b"200 OK")
    ack2, bye = teardown(INVITE, ok, local)
    assert sipstatus.parse(ack2, strict=True).via[0].branch != "z9hG4bK-1"
    parsed_bye = sipstatus.parse(bye, strict=True)
    assert parsed_bye.cseq == sipstatus.CSeq(8, "BYE")
    assert teardown(INVITE, busy.replace(b"486 Busy Here", b"180 Ringing"), local) == ()
    assert teardown(INVITE.replace(b"INVITE sip", b"OPTIONS sip"), busy, local) == ()


def test_verdicts() -> None:
    ok = judge(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
               b"From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\n"
               b"Call-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
    assert ok.well_formed and ok.status_code == 200
    assert ok.classification is not None
    assert dict(ok.classification)["category"] == "success"
    bad = judge(b"SIP/2.0 503 Service Unavailable\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
                b"CSeq: 99999999999999999999 INVITE\r\n\r\n")
    assert not bad.well_formed and bad.problem
    assert bad.status_code == 503 and dict(bad.classification or ())["code"] == "503"
    garbage = judge(b"\x00\x01hello")
    assert not garbage.well_formed and garbage.status_code is None


def test_rebase_aims_a_saved_answer_at_a_new_request() -> None:
    new = (INVITE.replace(b"branch=z9hG4bK-1", b"branch=z9hG4bK-2")
           .replace(b"call-1@", b"call-2@").replace(b"tag=a1", b"tag=a9")
           .replace(b"CSeq: 7", b"CSeq: 8"))
    saved = (b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK-1;rport"
             b"\r\nVia: SIP/2.0/UDP h,SIP/2.0/UDP h\r\nFrom: <sip:alice@127.0.0.1>;tag=a1\r\n"
             b"To: <sip:bob@127.0.0.1>;tag=t\r\nCall-ID: call-1@127.0.0.1xxxx\r\n"
             b"CSeq: 7 INVITE\r\nContent-Length: 5\r\n\r\nCSeq:")
    aimed = rebase(saved, INVITE, new)
    assert b"branch=z9hG4bK-2;rport\r\nVia: SIP/2.0/UDP h,SIP/2.0/UDP h\r\n" in aimed
    assert b"tag=a9" in aimed and b"Call-ID: call-2@127.0.0.1xxxx" in aimed  # filler kept
    assert b"CSeq: 8 INVITE" in aimed and aimed.endswith(b"\r\n\r\nCSeq:")


def test_report(tmp_path: Path) -> None:
    settings = Settings(target=Target("udp", "127.0.0.1", 5060), seed=4)
    dead = Finding(Case(3, b"INVITE x\r\n", "nul-byte"), TARGET_DEAD, None, None, "silence",
                   preceding=(Case(2, b"OPTIONS w\r\n", "valid"),))
    bad = Finding(Case(5, b"BYE y\r\n", "valid", answered=b"BYE z"), MALFORMED_REPLY,
                  b"SIP/2.0 200 \xff", (("code", "200"),), "invalid UTF-8")
    outcome = Outcome(cases=5, findings=(dead, bad), target_alive=False, elapsed=1.25,
                      stopped="target-dead", labels=(("nul-byte", 1), ("valid", 4)))
    path = write(tmp_path / "out", settings, outcome)
    report = json.loads(path.read_text())
    assert report["cases"] == 5 and report["target_alive"] is False
    assert report["seed"] == 4 and report["labels"] == {"nul-byte": 1, "valid": 4}
    first, second = report["findings"]
    assert first == {"file": "finding-0001-target-dead-nul-byte.sip", "scenario": "request",
                     "step": "request", "label": "nul-byte",
                     "kind": "target-dead", "case": 3, "reply": None, "classification": None,
                     "detail": "silence",
                     "preceding": [{"file": "finding-0001-target-dead-nul-byte.sip.before-1",
                                    "case": 2, "label": "valid"}]}
    assert (tmp_path / "out" / first["file"]).read_bytes() == b"INVITE x\r\n"
    assert (tmp_path / "out" / first["preceding"][0]["file"]).read_bytes() == b"OPTIONS w\r\n"
    assert second["reply"] == "SIP/2.0 200 \\xff" and second["classification"] == {"code": "200"}
    assert (tmp_path / "out" / second["request_file"]).read_bytes() == b"BYE z"


@pytest.mark.parametrize(
    "argv",
    [["fuzz", "udp:255.255.255.255:5060"], ["fuzz", "udp:224.0.0.5:5060"],
     ["fuzz", "udp:127.0.0.1:5060", "--listen", "127.0.0.1:5070"],
     ["fuzz", "udp:127.0.0.1:5060", "--methods", "IN VITE"],
     ["fuzz", "--replay", "/nonexistent/file.sip", "udp:127.0.0.1:5060"]],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli.main(argv) == 2
    assert "sipstatus fuzz:" in capsys.readouterr().err


@pytest.mark.parametrize("option", [["--rate", "0"], ["--cases", "-1"], ["--probe-retries", "x"],
                                    ["--malformed-ratio", "2"]])
def test_bad_option_values_exit_2(option: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _cli.main(["fuzz", "udp:127.0.0.1:5060", *option])
    assert exit_info.value.code == 2


def test_replies_are_attributed_to_their_case() -> None:
    run = _Run(Settings(target=Target("udp", "127.0.0.1", 5060)), lambda line: None)
    run.next_case(Mutation(INVITE, "valid", INVITE))
    later = INVITE.replace(b"call-1@", b"call-2@").replace(b"CSeq: 7", b"CSeq: 9")
    case = run.next_case(Mutation(later, "empty-header-value", INVITE))
    reply = (b"SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK-1\r\n"
             b"Call-ID: call-1@127.0.0.1\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n")
    assert not run.fresh(reply, case)  # answers the first case (a late retransmission)
    assert run.fresh(reply.replace(b"call-1@", b"call-2@"), case)
    assert run.fresh(reply.replace(b"call-1@", b"call-9@"), case)  # unknown: the target's
    no_call_id = reply.replace(b"Call-ID: call-1@127.0.0.1\r\n", b"Call-ID: \r\n")
    assert not run.fresh(no_call_id, case)  # CSeq 7 is not this case's 9
    assert run.fresh(no_call_id.replace(b"CSeq: 7", b"CSeq: 09"), case)
