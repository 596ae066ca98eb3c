"""`sipstatus explain` with each kind of INPUT (standard input, a file, a status line) and the
rows its advice adds, through the console script's entry point."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from sipstatus.__main__ import main

DATA = Path(__file__).resolve().parent / "data"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out.splitlines(), err


def test_a_response_on_standard_input(capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"SIP/2.0 423 Too Short\r\nMin-Expires: 3600\r\nContent-Length: 0\r\n\r\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    status, lines, err = run(capsys, "explain", "-")
    assert (status, err) == (0, "")
    assert lines[:2] == ["423 Interval Too Brief", "  wire reason: 'Too Short'"]
    assert "  min-expires: 3600 s" in lines
    assert ("  summary:     Interval too brief: resend with every expiry at least 3600 s "
            "(Min-Expires)") in lines


def test_a_response_in_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    status, lines, err = run(capsys, "explain", str(DATA / "486-busy-here.sip"))
    assert (status, err) == (0, "")
    assert lines[0] == "486 Busy Here"
    assert "  retry after: 120 s" in lines
    assert ("  summary:     Busy here: retry in 120 s (Retry-After, \"I'm in a meeting\")"
            in lines)


def test_a_status_line_with_its_own_reason(capsys: pytest.CaptureFixture[str]) -> None:
    status, lines, _ = run(capsys, "explain", "SIP/2.0 486 Nope")
    assert status == 0
    assert lines[:2] == ["486 Busy Here", "  wire reason: 'Nope'"]


@pytest.mark.parametrize(("first", "header", "row"), [
    ("SIP/2.0 422 Session Interval Too Small", "Min-SE: 1800", "min-se:        1800 s"),
    ("SIP/2.0 420 Bad Extension", "Unsupported: foo, bar", "unsupported:   foo, bar"),
    ("SIP/2.0 421 Extension Required", "Require: 100rel", "require:       100rel"),
    ("SIP/2.0 405 Method Not Allowed", "Allow: INVITE, ACK", "allow:         INVITE, ACK"),
    ("SIP/2.0 415 Unsupported Media Type", "Accept: application/sdp",
     "accept:        application/sdp"),
    ("SIP/2.0 494 Security Agreement Required", "Security-Server: tls;q=0.1",
     "security-server: tls;q=0.1"),
])
def test_advice_rows_from_headers(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                  first: str, header: str, row: str) -> None:
    path = tmp_path / "response.sip"
    path.write_bytes(f"{first}\r\n{header}\r\nContent-Length: 0\r\n\r\n".encode())
    status, lines, _ = run(capsys, "explain", str(path))
    assert status == 0
    name, _, value = row.partition(":")
    assert any(line.startswith(f"  {name}:") and line.endswith(value.strip())
               for line in lines), lines


@pytest.mark.parametrize(("text", "error"), [
    ("SIP/2.0 48 Nope", "expected Status-Code (3 digits) at line 1, column 9"),
    ("999", "999 is not a SIP status code (100-699, RFC 3261 §7.2, §21)"),
])
def test_bad_input_exits_1(capsys: pytest.CaptureFixture[str], text: str, error: str) -> None:
    status, lines, err = run(capsys, "explain", text)
    assert (status, lines) == (1, [])
    assert err == f"sipstatus explain: {error}\n"
