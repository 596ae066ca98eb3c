"""`sipstatus parse FILE|-`: one JSON object per message, exit status 0 / 1 (broken message) /
2 (usage, unreadable file). Run through the console script's entry point
(``sipstatus.__main__:main``), and once as ``python -m sipstatus`` in a subprocess."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sipstatus.__main__ import main

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "corpus"
UNREASON = CORPUS / "rfc4475" / "unreason.sip"
NOREASON = CORPUS / "rfc4475" / "noreason.sip"
IPV6_GOOD = CORPUS / "rfc5118" / "ipv6-good.sip"

RESPONSE = (b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
            b"i: c@h\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
REQUEST = (b"MESSAGE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK2\r\n"
           b"Subject: two\r\n  lines\r\nCSeq: 2 MESSAGE\r\nContent-Length: 5\r\n\r\nhello")


class Run:
    """The exit status, standard output (as JSON records) and standard error of one run."""

    def __init__(self, status: int, out: str, err: str) -> None:
        self.status, self.out, self.err = status, out, err
        assert out == "" or out.endswith("\n")
        self.records: list[dict[str, Any]] = [json.loads(line) for line in out.splitlines()]


@pytest.fixture
def sipstatus_parse(capsys: pytest.CaptureFixture[str],
                    monkeypatch: pytest.MonkeyPatch) -> Any:
    def run(*argv: str, stdin: bytes = b"") -> Run:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        status = main(["parse", *argv])
        out, err = capsys.readouterr()
        return Run(status, out, err)

    return run


def test_a_response_file(sipstatus_parse: Any) -> None:
    run = sipstatus_parse(str(UNREASON))
    assert (run.status, run.err) == (0, "")
    [record] = run.records
    assert list(record) == ["kind", "version", "status_code", "reason", "headers", "body",
                            "defects"]
    assert record["kind"] == "response"
    assert (record["version"], record["status_code"]) == ("SIP/2.0", 200)
    assert record["reason"] == "= 2**3 * 5**2 но сто девяносто девять - простое"
    assert "но сто" in run.out  # UTF-8 as it is, not \u escapes
    assert record["headers"][:3] == [
        ["Via", "SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923"],
        ["Call-ID", "unreason.1234ksdfak3j2erwedfsASdf"],
        ["CSeq", "35 INVITE"],
    ]
    assert len(record["headers"]) == 8
    assert record["body"].startswith("v=0\r\no=mhandley 29739 7272939 IN IP4 192.0.2.198\r\n")
    assert len(record["body"]) == 154
    assert record["defects"] == []


def test_a_request_keeps_header_order_names_and_unfolds(sipstatus_parse: Any) -> None:
    run = sipstatus_parse("-", stdin=REQUEST)
    assert (run.status, run.err) == (0, "")
    assert run.records == [{
        "kind": "request", "method": "MESSAGE", "uri": "sip:b@example.com",
        "version": "SIP/2.0",
        "headers": [["Via", "SIP/2.0/TCP h;branch=z9hG4bK2"], ["Subject", "two lines"],
                    ["CSeq", "2 MESSAGE"], ["Content-Length", "5"]],
        "body": "hello", "defects": [],
    }]


def test_messages_back_to_back_from_stdin(sipstatus_parse: Any) -> None:
    data = NOREASON.read_bytes() + IPV6_GOOD.read_bytes() + RESPONSE + REQUEST
    run = sipstatus_parse("-", stdin=data)
    assert (run.status, run.err) == (0, "")
    assert [(r["kind"], r.get("status_code") or r.get("method")) for r in run.records] == [
        ("response", 100), ("request", "REGISTER"), ("response", 180), ("request", "MESSAGE")]
    assert run.records[0]["reason"] == ""
    assert run.records[1]["uri"] == "sip:[2001:db8::10]"
    assert ["i", "c@h"] in run.records[2]["headers"]  # the compact name as written


def test_empty_input_is_no_message(sipstatus_parse: Any) -> None:
    run = sipstatus_parse("-", stdin=b"")
    assert (run.status, run.out, run.err) == (0, "", "")


def test_a_broken_message_after_good_ones(sipstatus_parse: Any) -> None:
    # The third message's status line is broken: the first two are printed, then exit 1
    # with the error, placed in the whole input (line 13 = first line of the third message).
    data = RESPONSE + RESPONSE + b"SIP/2.0 18 Ringing\r\nContent-Length: 0\r\n\r\n" + RESPONSE
    run = sipstatus_parse("-", stdin=data)
    assert run.status == 1
    assert len(run.records) == 2
    assert run.err == ("sipstatus parse: -: expected Status-Code (3 digits) "
                       "at line 13, column 9\n")


def test_a_body_longer_than_the_input_is_broken(sipstatus_parse: Any) -> None:
    # A stream is framed by Content-Length: 9999 octets promised, 154 there (RFC 4475 clerr).
    path = CORPUS / "rfc4475" / "clerr.sip"
    run = sipstatus_parse(str(path))
    assert (run.status, run.out) == (1, "")
    assert run.err.startswith(f"sipstatus parse: {path}: Content-Length 9999 is larger than "
                              "the 154 octets that follow the header section")


def test_lenient_defects_and_strict_rejection(sipstatus_parse: Any) -> None:
    path = str(CORPUS / "rfc4475" / "lwsstart.sip")
    lenient = sipstatus_parse(path)
    assert (lenient.status, lenient.err) == (0, "")
    [record] = lenient.records
    assert record["method"] == "INVITE" and record["uri"] == "sip:user@example.com"
    assert record["defects"] == ["extra white space in the Request-Line"]
    strict = sipstatus_parse("--strict", path)
    assert (strict.status, strict.out) == (1, "")
    assert strict.err == f"sipstatus parse: {path}: expected Request-URI at line 1, column 8\n"


def test_strict_accepts_a_valid_message(sipstatus_parse: Any) -> None:
    run = sipstatus_parse("--strict", str(UNREASON))
    assert (run.status, run.err, len(run.records)) == (0, "", 1)
    assert run.records == sipstatus_parse(str(UNREASON)).records


def test_a_body_that_is_not_utf8_is_given_in_base64(sipstatus_parse: Any) -> None:
    data = b"SIP/2.0 200 OK\r\nContent-Type: application/octet-stream\r\n" \
           b"Content-Length: 4\r\n\r\n\xff\xfe\x00\x80"
    run = sipstatus_parse("-", stdin=data)
    [record] = run.records
    assert "body" not in record
    assert record["body_base64"] == "//4AgA=="
    assert list(record)[-2:] == ["body_base64", "defects"]


def test_a_missing_file_is_a_usage_error(sipstatus_parse: Any, tmp_path: Path) -> None:
    missing = tmp_path / "nothing.sip"
    run = sipstatus_parse(str(missing))
    assert (run.status, run.out) == (2, "")
    assert run.err == f"sipstatus parse: No such file or directory: {missing}\n"


def test_no_file_argument_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["parse"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "usage: sipstatus parse [-h] [--strict] FILE" in err
    assert "the following arguments are required: FILE" in err


def test_a_closed_pipe_is_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # `sipstatus parse big.sip | head -1`: the reader goes away; exit 0, no traceback.
    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    monkeypatch.setattr(sys, "stderr", stderr)
    assert main(["parse", str(UNREASON)]) == 0
    assert stderr.closed  # so that Python's own report at exit stays silent


def test_interrupted_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    class Interrupted(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise KeyboardInterrupt

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(Interrupted()))
    assert main(["parse", "-"]) == 130


def test_python_dash_m_reads_stdin() -> None:
    data = RESPONSE + REQUEST
    done = subprocess.run([sys.executable, "-m", "sipstatus", "parse", "-"], input=data,
                          capture_output=True, timeout=120, check=False,
                          env=dict(os.environ, PYTHONIOENCODING="utf-8"))
    assert (done.returncode, done.stderr) == (0, b"")
    records = [json.loads(line) for line in done.stdout.decode("utf-8").splitlines()]
    assert [r["kind"] for r in records] == ["response", "request"]
    assert records[1]["body"] == "hello"
