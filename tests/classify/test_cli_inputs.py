"""What ``sipstatus parse`` and ``sipstatus explain`` do with awkward inputs (issue 10): an
endless standard input or file, a directory or a missing file given to ``explain``, octets
that are not UTF-8, numbers that are not finite. Never a traceback: a clear error and exit
status 1 (the input has a problem) or 2 (usage), or output that is valid UTF-8 (and JSON).
"""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sipstatus._cli import explain as explain_cli
from sipstatus._cli import main
from sipstatus._cli import parse as parse_cli

DATA = Path(__file__).resolve().parent / "data"
BUSY = DATA / "486-busy-here.sip"

#: A response with octets that are not UTF-8 in its reason phrase and a header value (one
#: of them the UTF-8 form of a surrogate, which no UTF-8 decoder accepts).
NOT_UTF8 = (b"SIP/2.0 486 Bus\xff Here\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
            b"Call-ID: c@h\r\nCSeq: 1 INVITE\r\n"
            b"Warning: 399 h \"caf\xe9 \xed\xa0\x80\"\r\nContent-Length: 0\r\n\r\n")


def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *argv: str,
        stdin: io.RawIOBase | bytes | None = b"") -> tuple[int, str, str]:
    if stdin is None:
        monkeypatch.setattr(sys, "stdin", None)
    else:
        raw = io.BytesIO(stdin) if isinstance(stdin, bytes) else stdin
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(raw)))
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


class Endless(io.RawIOBase):
    """``/dev/zero``: zeros for ever, counting what was read."""

    def __init__(self) -> None:
        self.read_so_far = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = len(buffer)
        buffer[:size] = b"\0" * size
        self.read_so_far += size
        return size


def python_m_sipstatus(*argv: str, stdin: Any = None, encoding: str = "utf-8:strict",
                       **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "sipstatus", *argv], stdin=stdin,
                          capture_output=True, timeout=300, check=False,
                          env=dict(os.environ, PYTHONIOENCODING=encoding), **kwargs)


# -- bounded input -------------------------------------------------------------------------


@pytest.mark.parametrize(("command", "module", "cap"), [
    ("parse", parse_cli, 100_000), ("explain", explain_cli, 65_535)])
def test_an_endless_stdin_is_read_up_to_a_cap(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        command: str, module: Any, cap: int) -> None:
    monkeypatch.setattr(module, "MAX_INPUT", cap)
    endless = Endless()
    status, out, err = run(capsys, monkeypatch, command, "-", stdin=endless)
    assert (status, out) == (1, "")
    assert err.startswith(f"sipstatus {command}: -: more than {cap:,} octets of input (")
    # Read in chunks: never much more than the cap (the BufferedReader reads ahead by at most
    # its buffer, 8 kB).
    assert cap < endless.read_so_far <= cap + 1 + io.DEFAULT_BUFFER_SIZE


def test_the_caps() -> None:
    assert parse_cli.MAX_INPUT == 64 * 2**20
    assert explain_cli.MAX_INPUT == 65_535


def test_input_up_to_the_cap_is_read(capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    data = BUSY.read_bytes()
    monkeypatch.setattr(parse_cli, "MAX_INPUT", len(data))
    status, out, _ = run(capsys, monkeypatch, "parse", "-", stdin=data)
    assert status == 0 and json.loads(out)["status_code"] == 486
    status, _, err = run(capsys, monkeypatch, "parse", "-", stdin=data + b"\r\n")
    assert status == 1 and "more than" in err


@pytest.mark.parametrize("argv", [["parse", "-"], ["explain", "-"], ["parse", "/dev/zero"],
                                  ["explain", "/dev/zero"], ["explain", "--json", "-"]])
def test_dev_zero_is_an_error_not_a_memory_error(argv: list[str]) -> None:
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    with open("/dev/zero", "rb") as zero:
        done = python_m_sipstatus(*argv, stdin=zero)
    assert done.returncode == 1
    assert done.stdout == b""
    assert b"Traceback" not in done.stderr
    name = argv[-1].encode()
    cap = b"64 MiB" if argv[0] == "parse" else b"65,535 octets"
    assert done.stderr.startswith(b"sipstatus %s: %s: more than %s of input ("
                                  % (argv[0].encode(), name, cap))


def test_a_closed_stdin_is_a_usage_error(capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    for command in ("parse", "explain"):
        status, out, err = run(capsys, monkeypatch, command, "-", stdin=None)
        assert (status, out, err) == (2, "", f"sipstatus {command}: standard input is closed\n")


# -- explain: code, status line, file or path ---------------------------------------------


@pytest.mark.parametrize("path", ["tests", "tests/", str(DATA)])
def test_explain_a_directory_is_a_usage_error(capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch,
                                              path: str) -> None:
    monkeypatch.chdir(DATA.parents[2])
    status, out, err = run(capsys, monkeypatch, "explain", path)
    assert (status, out, err) == (2, "", f"sipstatus explain: Is a directory: {path}\n")


@pytest.mark.parametrize("path", ["no/such/file.sip", "no/such/file", "./missing",
                                  "missing.sip", "missing.TXT", "my responses/486 busy.sip",
                                  "sip/486.sip"])
def test_explain_a_missing_file_is_a_usage_error(capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path, path: str) -> None:
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, monkeypatch, "explain", path)
    assert (status, out) == (2, "")
    assert err == f"sipstatus explain: No such file or directory: {path}\n"


@pytest.mark.parametrize(("text", "code"), [
    ("486", 486), (" 302 ", 302), ("SIP/2.0 486 Busy Here", 486),
    ("SIP/2.0 503 Down for maintenance/upgrade", 503), ("sip/2.0 180 Ringing", 180),
    ("SIP/2.0 200 " + "a" * 5_000, 200),  # too long for a file name: still a status line
    ("SIP/2.0 486 Busy Here\r\nCSeq: 1 INVITE\r\nRetry-After: 5\r\n\r\n", 486),
])
def test_explain_codes_and_status_lines_still_work(capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path, text: str,
                                                   code: int) -> None:
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, monkeypatch, "explain", "--json", text)
    assert (status, err) == (0, "")
    assert json.loads(out)["code"] == code


@pytest.mark.parametrize("text", ["foo", "HTTP/1.1 200 OK", "SIP/2.0 48 Busy"])
def test_explain_other_text_is_still_read_as_a_status_line(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path, text: str) -> None:
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, monkeypatch, "explain", text)
    assert (status, out) == (1, "")
    assert err.startswith("sipstatus explain: expected ")


def test_explain_files_and_stdin_still_work(capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    expected = run(capsys, monkeypatch, "explain", str(BUSY))
    assert expected[0] == 0 and "retry after: 120 s" in expected[1]
    assert run(capsys, monkeypatch, "explain", "-", stdin=BUSY.read_bytes()) == expected
    # A file whose name has no ending and no '/', and one with spaces: files, since they exist.
    monkeypatch.chdir(tmp_path)
    for name in ("busy", "a response.sip"):
        (tmp_path / name).write_bytes(BUSY.read_bytes())
        assert run(capsys, monkeypatch, "explain", name) == expected


def test_explain_a_file_larger_than_a_message_is_an_error(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    big = tmp_path / "big.sip"
    big.write_bytes(BUSY.read_bytes() + b"x" * 70_000)
    status, out, err = run(capsys, monkeypatch, "explain", str(big))
    assert (status, out) == (1, "")
    assert err == (f"sipstatus explain: {big}: more than 65,535 octets of input "
                   "(the message-size limit, RFC 3261 §18.1.1)\n")


def test_explain_an_unreadable_file_is_a_usage_error(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    locked = tmp_path / "locked.sip"
    locked.write_bytes(BUSY.read_bytes())
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running as root: every file is readable")
        status, out, err = run(capsys, monkeypatch, "explain", str(locked))
    finally:
        locked.chmod(0o600)
    assert (status, out, err) == (2, "", f"sipstatus explain: Permission denied: {locked}\n")


# -- output: UTF-8, JSON without NaN ------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8:strict", "ascii", "latin-1"])
def test_parse_output_is_utf8_json_whatever_the_input(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "not-utf8.sip"
    path.write_bytes(NOT_UTF8 + BUSY.read_bytes())
    done = python_m_sipstatus("parse", str(path), encoding=encoding)
    assert (done.returncode, done.stderr) == (0, b"")
    records = [json.loads(line) for line in done.stdout.decode("utf-8").splitlines()]
    assert [r["status_code"] for r in records] == [486, 486]
    assert records[0]["reason"] == "Bus\ufffd Here"
    assert ["Warning", '399 h "caf\ufffd \ufffd\ufffd\ufffd"'] in records[0]["headers"]
    assert records[1]["reason"] == "Busy Here"


@pytest.mark.parametrize("encoding", ["utf-8:strict", "ascii"])
@pytest.mark.parametrize("as_json", [False, True])
def test_explain_output_is_utf8_whatever_the_input(tmp_path: Path, encoding: str,
                                                   as_json: bool) -> None:
    path = tmp_path / "not-utf8.sip"
    path.write_bytes(NOT_UTF8)
    argv = ["explain", *(["--json"] if as_json else []), str(path)]
    for stdin_argv, stdin in ((argv, None), ([*argv[:-1], "-"], NOT_UTF8)):
        done = python_m_sipstatus(*stdin_argv, encoding=encoding, input=stdin)
        assert (done.returncode, done.stderr) == (0, b"")
        text = done.stdout.decode("utf-8")  # strict: raises on anything that is not UTF-8
        assert "RFC 3261 §21.4.24" in text
        if as_json:
            record = json.loads(text)
            assert record["wire_reason"] == "Bus\ufffd Here"
            assert record["advice"]["warnings"][0]["text"] == "caf\ufffd \ufffd\ufffd\ufffd"
        else:
            assert "warning:     399 h \"caf\ufffd \ufffd\ufffd\ufffd\"" in text


def test_parse_output_in_process_is_valid_json(capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    status, out, _ = run(capsys, monkeypatch, "parse", "-", stdin=NOT_UTF8)
    assert status == 0
    out.encode("utf-8")  # no lone surrogates left
    assert json.loads(out)["reason"] == "Bus\ufffd Here"


def _no_constants(name: str) -> None:
    raise AssertionError(f"JSON holds {name}")


def test_explain_json_never_prints_nan_or_infinity(capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    real = explain_cli.classification_to_dict

    def with_floats(c: Any) -> dict[str, Any]:
        record: dict[str, Any] = real(c)
        record["advice"]["targets"] = [
            {"uri": "sip:a@b", "q": math.nan, "expires": None},
            {"uri": "sip:c@d", "q": math.inf, "expires": None},
            {"uri": "sip:e@f", "q": -math.inf, "expires": None},
            {"uri": "sip:g@h", "q": 0.5, "expires": None}]
        return record

    monkeypatch.setattr(explain_cli, "classification_to_dict", with_floats)
    status, out, err = run(capsys, monkeypatch, "explain", "--json", "302")
    assert (status, err) == (0, "")
    record = json.loads(out, parse_constant=_no_constants)
    assert [t["q"] for t in record["advice"]["targets"]] == [None, None, None, 0.5]


def test_explain_json_of_a_contact_with_a_q_that_is_not_a_number(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    response = (b"SIP/2.0 302 Moved\r\nCSeq: 1 INVITE\r\n"
                b"Contact: <sip:a@b>;q=nan, <sip:c@d>;q=inf, <sip:e@f>;q=1e999\r\n"
                b"Content-Length: 0\r\n\r\n")
    status, out, _ = run(capsys, monkeypatch, "explain", "--json", "-", stdin=response)
    assert status == 0
    record = json.loads(out, parse_constant=_no_constants)
    assert [t["uri"] for t in record["advice"]["targets"]] == ["sip:a@b", "sip:c@d", "sip:e@f"]
    assert all(t["q"] is None or math.isfinite(t["q"]) for t in record["advice"]["targets"])
