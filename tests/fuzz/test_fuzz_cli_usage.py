"""`sipstatus fuzz` refuses bad arguments before it sends anything: exit status 2 and one line
on standard error (through the console script's entry point; no packet leaves the machine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sipstatus.__main__ import main

TARGET = "udp:127.0.0.1:5060"


@pytest.mark.parametrize(("argv", "error"), [
    (["--rate", "abc"], "argument --rate: not a number: 'abc'"),
    (["--rate", "0"], "argument --rate: must be positive: '0'"),
    (["--cases", "x"], "argument --cases: not a number: 'x'"),
    (["--cases", "-3"], "argument --cases: must be positive: '-3'"),
    (["--duration", "-1"], "argument --duration: must be positive: '-1'"),
    (["--probe-timeout", "-2"], "argument --probe-timeout: must be positive: '-2'"),
    (["--probe-retries", "-1"], "argument --probe-retries: must not be negative: '-1'"),
    (["--probe-retries", "one"], "argument --probe-retries: not a whole number: 'one'"),
    (["--malformed-ratio", "2"], "argument --malformed-ratio: must be between 0 and 1: '2'"),
    (["--malformed-ratio", "half"], "argument --malformed-ratio: not a number: 'half'"),
])
def test_bad_numbers_are_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str],
                                      error: str) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["fuzz", TARGET, *argv])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: sipstatus fuzz ")
    assert err.endswith(f"sipstatus fuzz: error: {error}\n")


@pytest.mark.parametrize(("argv", "error"), [
    (["--answer", "--listen", "bad", TARGET], "listen address 'bad': expected HOST:PORT"),
    (["--answer", "--listen", "127.0.0.1:99999", TARGET],
     "listen address '127.0.0.1:99999': port must be 0-65535"),
    (["udp:127.0.0.1"], "target 'udp:127.0.0.1': expected udp:HOST:PORT or tcp:HOST:PORT "
                        "(IPv6 in brackets, e.g. udp:[::1]:5060)"),
    (["udp:255.255.255.255:5060"], "target 'udp:255.255.255.255:5060': 255.255.255.255 is "
                                   "the broadcast address; refusing"),
])
def test_bad_addresses_are_refused(capsys: pytest.CaptureFixture[str], argv: list[str],
                                   error: str) -> None:
    assert main(["fuzz", *argv]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"sipstatus fuzz: {error}\n")


def test_a_missing_replay_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "finding.sip"
    assert main(["fuzz", "--replay", str(missing), TARGET]) == 2
    assert capsys.readouterr().err == (f"sipstatus fuzz: cannot read {missing}: "
                                       "No such file or directory\n")
