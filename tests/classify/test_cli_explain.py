"""The explain and codes sub-commands, through sipstatus._cli.main()."""

from __future__ import annotations

import json

import pytest

from sipstatus._cli import main
from sipstatus._codes import CODES


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_explain_a_code(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "explain", "486")
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        "486 Busy Here",
        "  class:      4xx client failure, final",
        "  defined in: RFC 3261 §21.4.24 (current)",
        f"  meaning:    {CODES[486].meaning}",
        "  action:     retry_later",
        "  summary:    Busy here: retry later or try another location such as voicemail",
        f"  advice:     {CODES[486].advice}",
    ]


def test_explain_an_unregistered_code(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "explain", "431")
    assert status == 0
    assert out.splitlines()[0] == "431 (unregistered; handled as 400 Bad Request)"
    assert "  defined in: RFC 3261 §8.1.3.2 (unregistered)" in out.splitlines()


def test_explain_491_with_the_call_id_owner(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "explain", "--owns-call-id", "491")
    assert status == 0
    assert "  back-off:   2.1 to 4 s, 10 ms steps" in out.splitlines()
    _, out, _ = run(capsys, "explain", "--no-owns-call-id", "491")
    assert "  back-off:   0 to 2 s, 10 ms steps" in out.splitlines()


def test_explain_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "explain", "--json", "423")
    assert status == 0
    data = json.loads(out)
    assert {k: data[k] for k in ("code", "reason", "category", "class", "final", "known",
                                 "handled_as", "status", "rfc")} == {
        "code": 423, "reason": "Interval Too Brief", "category": "client_failure", "class": 4,
        "final": True, "known": True, "handled_as": 423, "status": "current",
        "rfc": "RFC 3261 §21.4.17"}
    assert data["advice"]["action"] == "retry_modified_request"
    assert data["advice"]["min_expires"] is None
    assert data["advice"]["summary"] == ("Interval too brief: resend with a longer expiry, at "
                                         "least Min-Expires")


@pytest.mark.parametrize("arg", ["99", "700", "0"])
def test_explain_out_of_range_exits_1(capsys: pytest.CaptureFixture[str], arg: str) -> None:
    status, out, err = run(capsys, "explain", arg)
    assert (status, out) == (1, "")
    assert err == (f"sipstatus explain: {arg} is not a SIP status code "
                   "(100-699, RFC 3261 §7.2, §21)\n")


def test_explain_missing_file_is_not_a_crash(capsys: pytest.CaptureFixture[str]) -> None:
    # Looks like a path and does not exist: a usage error, not a status line to read.
    status, out, err = run(capsys, "explain", "no/such/file.sip")
    assert (status, out) == (2, "")
    assert err == "sipstatus explain: No such file or directory: no/such/file.sip\n"


def test_codes_lists_all_77(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "codes")
    assert status == 0
    rows = [line for line in out.splitlines() if line.startswith("  ")]
    assert [int(line.split()[0]) for line in rows] == list(CODES)
    headings = [line for line in out.splitlines() if line and not line.startswith(" ")]
    assert headings == ["1xx provisional", "2xx success", "3xx redirection",
                        "4xx client failure", "5xx server failure", "6xx global failure"]
    assert any(line.startswith("  202  Accepted (Deprecated)") and
               line.endswith("RFC 6665 §8.3.1  [deprecated]") for line in rows)


@pytest.mark.parametrize("klass", ["6", "6xx", "global-failure", "GLOBAL_FAILURE"])
def test_codes_by_class(capsys: pytest.CaptureFixture[str], klass: str) -> None:
    status, out, _ = run(capsys, "codes", "--class", klass)
    assert status == 0
    assert out.splitlines() == [
        "6xx global failure",
        "  600  Busy Everywhere          RFC 3261 §21.6.1",
        "  603  Decline                  RFC 3261 §21.6.2",
        "  604  Does Not Exist Anywhere  RFC 3261 §21.6.3",
        "  606  Not Acceptable           RFC 3261 §21.6.4",
        "  607  Unwanted                 RFC 8197 §4",
        "  608  Rejected                 RFC 8688 §3.1",
    ]


def test_codes_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "codes", "--json", "--class", "1")
    assert status == 0
    rows = json.loads(out)
    assert [r["code"] for r in rows] == [100, 180, 181, 182, 183, 199]
    assert rows[-1]["rfc"] == "RFC 6228 §1, 4-6"
    assert all(r["final"] is False and r["action"] == "continue" for r in rows)


def test_codes_bad_class_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["codes", "--class", "7xx"])
    assert exit_info.value.code == 2
    assert "not a class: '7xx'" in capsys.readouterr().err
