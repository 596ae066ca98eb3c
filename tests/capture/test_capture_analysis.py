"""Transactions, tshark's counting rules, calls and RFC 6076 metrics on scripted call flows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pcapgen
import pytest

from sipstatus.capture import summarize
from sipstatus.capture._calls import Call
from sipstatus.capture._metrics import Metric
from sipstatus.capture._scan import Record, Scan
from sipstatus.capture._transactions import c_milliseconds

Write = Callable[..., Path]
A, B = "192.0.2.10", "192.0.2.20"


class Flow:
    """Script one call (or registration) between A and B over UDP."""

    def __init__(self, line: pcapgen.Timeline, call_id: str, sport: int = 5060) -> None:
        self.line, self.call_id, self.sport = line, call_id, sport

    def req(self, method: str, after_ms: float, *, cseq: int = 1, branch: str = "b1",
            to_tag: str = "") -> int:
        message = pcapgen.request(method, call_id=self.call_id, cseq=cseq,
                                  branch=f"z9hG4bK-{self.call_id}-{branch}", to_tag=to_tag)
        return self.line.udp(A, B, message, after_ms, sport=self.sport)

    def resp(self, code: int, after_ms: float, *, cseq: int = 1, method: str = "INVITE",
             branch: str = "b1", to_tag: str = "tt") -> int:
        message = pcapgen.response(code, "Reason", call_id=self.call_id, cseq=cseq,
                                   method=method, branch=f"z9hG4bK-{self.call_id}-{branch}",
                                   to_tag=to_tag)
        return self.line.udp(B, A, message, after_ms, dport=self.sport)


def answered(line: pcapgen.Timeline, call_id: str = "ok") -> None:
    f = Flow(line, call_id)
    f.req("INVITE", 0)
    f.req("INVITE", 500)  # retransmission
    f.resp(100, 20, to_tag="")
    f.resp(180, 300)
    f.resp(200, 2000)
    f.resp(200, 500)  # retransmitted 200
    f.req("ACK", 10, branch="ack", to_tag="tt")
    f.req("BYE", 60_000, cseq=2, branch="bye", to_tag="tt")
    f.resp(200, 50, cseq=2, method="BYE", branch="bye")


def failed(line: pcapgen.Timeline, call_id: str, code: int, *, cancel: bool = False) -> None:
    f = Flow(line, call_id)
    f.req("INVITE", 100)
    f.resp(180, 100)
    if cancel:
        f.req("CANCEL", 100)
        f.resp(200, 5, method="CANCEL")
    f.resp(code, 100)
    f.req("ACK", 10, to_tag="tt")


def run(path: Path, **options: bool) -> tuple[Scan, list[Record], list[Call]]:
    calls: list[Call] = []
    scan = Scan(on_call=calls.append, **options)
    records = list(scan.run([path]))
    return scan, records, calls


def test_c_milliseconds_truncates_like_c() -> None:
    assert c_milliseconds(11, 499_500, 10, 0) == 1000  # 1000.4995 ms
    # 998.5 ms: 1000 + (-1_500_000 / 1_000_000), and C truncates -1.5 to -1 (floor: 998)
    assert c_milliseconds(11, 0, 10, 1_500_000) == 999
    assert c_milliseconds(11, 0, 10, 999_500) == 1000  # 999.0005 ms: -0.9995 truncates to 0
    assert c_milliseconds(10, 0, 10, 1) == 0
    assert c_milliseconds(0, 0, 10, 0) == 2**32 - 10_000  # a guint32, as in packet-sip.c


def test_tshark_counts_resends_and_setup_time(write: Write) -> None:
    line = pcapgen.Timeline()
    answered(line)
    failed(line, "busy", 486)
    summary = summarize(write(line.pcap()))
    assert summary["messages"] == 9 + 4
    assert summary["resent"] == 2  # the INVITE and the 200 retransmissions
    assert summary["methods"] == {"INVITE": 3, "ACK": 2, "BYE": 1}
    assert summary["status_codes"] == {"100": 1, "180": 2, "200": 3, "486": 1}
    # INVITE->ACK: 500+20+300+2000+500+10 = 3330 ms; the busy call 100+100+10 = 210 ms
    assert summary["setup_time_ms"] == {"avg": 1770, "min": 210, "max": 3330, "count": 2}


def test_tshark_never_flags_tcp_resends(write: Write) -> None:
    line = pcapgen.Timeline()
    up = pcapgen.TcpFlow(A, 40000, B, 5060)
    line.add(up.syn())
    invite = pcapgen.request("INVITE", transport="TCP")
    line.add(up.send(invite))
    line.add(up.send(invite))  # the same request again, as new stream bytes
    summary = summarize(write(line.pcap()))
    assert (summary["messages"], summary["resent"], summary["transports"]) == (
        2, 0, {"udp": 0, "tcp": 2})


def test_ack_and_cancel_are_never_resends_but_final_responses_are(write: Write) -> None:
    line = pcapgen.Timeline()
    f = Flow(line, "c")
    f.req("INVITE", 0)
    f.req("CANCEL", 10)
    f.req("CANCEL", 10)
    f.resp(487, 10)
    f.resp(487, 10)
    f.req("ACK", 10, to_tag="tt")
    f.req("ACK", 10, to_tag="tt")
    assert summarize(write(line.pcap()))["resent"] == 1


def test_setup_time_after_cancel_runs_from_the_cancel(write: Write) -> None:
    # tshark 4.0 restarts its per-direction state on a new CSeq method: the ACK to the 487
    # is timed from the CANCEL (checked against tshark on fixtures/captures).
    line = pcapgen.Timeline()
    f = Flow(line, "c")
    f.req("INVITE", 0)
    f.resp(180, 100)
    f.req("CANCEL", 400)
    f.resp(200, 5, method="CANCEL")
    f.resp(487, 20)
    f.req("ACK", 10, to_tag="tt")
    assert summarize(write(line.pcap()))["setup_time_ms"] == {
        "avg": 35, "min": 35, "max": 35, "count": 1}


def test_unknown_codes_are_not_folded(write: Write) -> None:
    line = pcapgen.Timeline()
    f = Flow(line, "x")
    f.req("OPTIONS", 0)
    f.resp(299, 5, method="OPTIONS")
    f.resp(199, 5, method="OPTIONS")
    f.resp(799, 5, method="OPTIONS")  # outside 1xx-6xx: counted as a message only
    summary = summarize(write(line.pcap()))
    assert summary["status_codes"] == {"199": 1, "299": 1}
    assert summary["messages"] == 4


def test_response_times_and_retransmissions_per_rfc3261(write: Write) -> None:
    line = pcapgen.Timeline()
    answered(line)
    _scan, records, _calls = run(write(line.pcap()), records=True)
    rows = [(r[7].method or r[7].status_code, r[8], r[9]) for r in records]
    assert rows == [
        ("INVITE", False, None),
        ("INVITE", True, None),
        (100, False, 520.0),  # from the first copy of the INVITE
        (180, False, 820.0),
        (200, False, 2820.0),
        (200, True, 3320.0),
        ("ACK", False, 3330.0),  # the ACK to a 2xx: the setup time
        ("BYE", False, None),
        (200, False, 50.0),
    ]


@pytest.mark.parametrize("code, cancel, outcome", [
    (486, False, "busy"), (600, False, "busy"), (487, True, "cancelled"),
    (302, False, "redirected"), (480, False, "no answer"), (408, False, "no answer"),
    (404, False, "rejected"), (603, False, "rejected"), (503, False, "failed"),
])
def test_call_outcomes(write: Write, code: int, cancel: bool, outcome: str) -> None:
    line = pcapgen.Timeline()
    failed(line, "c", code, cancel=cancel)
    _scan, _records, calls = run(write(line.pcap()), calls=True)
    assert [(c.call_id, c.outcome(), c.final_code) for c in calls] == [("c", outcome, code)]


def test_answered_in_progress_and_challenged_calls(write: Write) -> None:
    line = pcapgen.Timeline()
    answered(line, "ok")
    auth = Flow(line, "auth")
    auth.req("INVITE", 10)
    auth.resp(407, 10)
    auth.req("ACK", 10, to_tag="tt")
    auth.req("INVITE", 10, cseq=2, branch="b2")
    auth.resp(200, 10, cseq=2, branch="b2")
    ringing = Flow(line, "ringing")
    ringing.req("INVITE", 10)
    ringing.resp(180, 10)
    _scan, _records, calls = run(write(line.pcap()), calls=True)
    got = {c.call_id: (c.outcome(), c.ended, c.invites) for c in calls}
    # (the retransmitted INVITE of "ok" is not a new attempt)
    assert got == {"ok": ("answered", True, 1), "auth": ("answered", False, 2),
                   "ringing": ("in progress", False, 1)}


def test_calls_are_released_while_scanning(write: Write) -> None:
    line = pcapgen.Timeline()
    for i in range(5):
        failed(line, f"c{i}", 486)
        line.udp(A, B, pcapgen.request("OPTIONS", call_id=f"o{i}"), 40_000)
    calls: list[Call] = []
    scan = Scan(records=True, calls=True, on_call=calls.append)
    released_before_end = -1
    for record in scan.run([write(line.pcap())]):
        if record[7].call_id == "o4":
            released_before_end = len(calls)
    # o4 comes 40 s after the last message of c4: by then every call was released (32 s
    # after its last message), before the end of the capture.
    assert released_before_end == 5


def metrics_by_name(scan: Scan) -> dict[str, Metric]:
    assert scan.metrics is not None
    return {m.name: m for m in scan.metrics.results()}


def test_rfc6076_metrics(write: Write) -> None:
    line = pcapgen.Timeline()
    answered(line, "ok")  # SER yes, SEER yes, SCR yes
    failed(line, "busy", 486)  # SEER yes
    failed(line, "moved", 302)  # out of SER/SEER denominators
    failed(line, "down", 503)  # ISA yes
    failed(line, "gone", 404)
    reg = Flow(line, "reg")
    reg.req("REGISTER", 10)
    reg.resp(401, 20, method="REGISTER")
    reg.req("REGISTER", 10, cseq=2, branch="b2")
    reg.resp(200, 20, cseq=2, method="REGISTER", branch="b2")
    bad = Flow(line, "badreg")
    bad.req("REGISTER", 10)
    bad.resp(403, 20, method="REGISTER")
    scan, _records, _calls = run(write(line.pcap()), metrics=True)
    m = metrics_by_name(scan)
    assert (m["SER"].numerator, m["SER"].denominator, m["SER"].value) == (1, 4, 25.0)
    assert (m["SEER"].numerator, m["SEER"].denominator) == (2, 4)
    assert (m["ISA"].numerator, m["ISA"].denominator) == (1, 5)
    assert (m["SCR"].numerator, m["SCR"].denominator) == (1, 5)
    # first REGISTER, 401 after 20 ms, REGISTER again after 10, 200 after 20: 50 ms
    assert m["RRD"].success == {"count": 1, "avg": 50.0, "min": 50.0, "max": 50.0}
    assert (m["IRA"].numerator, m["IRA"].denominator) == (1, 3)
    assert m["SDD"].success is not None and m["SDD"].success["avg"] == 50.0
    # the first 200, its retransmission 500 ms later, ACK after 10, BYE after 60 s
    assert m["SDT"].success is not None and m["SDT"].success["avg"] == 60_510.0
    # Every call rang first, and a 180 ends the SRD interval as a success (RFC 6076 §4.3.1):
    # 820 ms for the answered call (INVITE, 500, 20, 300), 100 ms for the four others.
    srd = m["SRD"]
    assert srd.success == {"count": 5, "avg": 244.0, "min": 100.0, "max": 820.0}
    assert srd.failure is not None and srd.failure["count"] == 0
    for metric in m.values():
        assert metric.definition and metric.section.startswith("RFC 6076 §4.")


def test_invite_timeout_counts_as_ineffective(write: Write) -> None:
    line = pcapgen.Timeline()
    Flow(line, "lost").req("INVITE", 0)
    line.udp(A, B, pcapgen.request("OPTIONS", call_id="later"), 40_000)
    scan, _records, calls = run(write(line.pcap()), metrics=True)
    assert [c.outcome() for c in calls] == ["no answer"]
    isa = metrics_by_name(scan)["ISA"]
    assert (isa.numerator, isa.denominator) == (1, 1)
