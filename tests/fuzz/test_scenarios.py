"""Stateful fuzzing (``--scenario``) against a small UAS whose bug only a dialog reaches
(tests/fuzz/dialog_target.py): ``--scenario invite`` finds it and its reproducer (the whole
sequence) kills a fresh instance again, while ``--scenario request`` misses it in as many
cases with the same seed."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzz_support import DIALOG_TARGET, free_port, started, wait_for_udp_sip

from sipstatus import _cli
from sipstatus._fuzz import scenario
from sipstatus._fuzz.model import Case

FAST = ["--rate", "2000", "--probe-timeout", "0.3", "--reply-wait", "0.02", "--t1", "0.01",
        "-q"]
CASES = 20


@pytest.fixture
def dialog_target(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = free_port()
    with started([sys.executable, str(DIALOG_TARGET), str(port)], tmp_path / "uas.log") as p:
        wait_for_udp_sip(port)
        yield port, p


def _report(out: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((out / "report.json").read_text())
    return data


def test_invite_scenario_finds_the_in_dialog_crash_and_replays_it(
    dialog_target: tuple[int, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    port, process = dialog_target
    out = tmp_path / "out"
    status = _cli.main(["fuzz", f"udp:127.0.0.1:{port}", "--scenario", "invite", "--cases",
                        str(CASES), "--seed", "1", "--out", str(out), *FAST])
    assert status == 1
    assert process.wait(5) == 139
    report = json.loads((out / "report.json").read_text())
    dead = [f for f in report["findings"] if f["kind"] == "target-dead"]
    assert len(dead) == 1 and report["stopped"] == "target-dead"
    finding = dead[0]
    assert finding["scenario"] == "invite"
    assert finding["step"] in scenario.IN_DIALOG
    assert finding["label"].startswith("content-length-")
    steps = report["scenarios"]["invite"]["steps"]
    assert set(steps) == set(scenario.STEPS["invite"])
    assert steps["invite/invite"]["reached"] == report["cases"] == finding["case"]
    assert steps[finding["step"]]["fuzzed"] >= 1
    assert steps["invite/invite"]["responses"]["200"] >= 1
    reproducer = out / finding["file"]
    saved = scenario.decode(reproducer.read_bytes())
    assert (saved.scenario, saved.step, saved.label) == ("invite", finding["step"],
                                                         finding["label"])
    kinds = [line.split(b" ")[0] for line in reproducer.read_bytes().split(b"\r\n")
             if line.startswith((b"sent invite/", b"received invite/", b"broken invite/"))]
    assert kinds[:1] == [b"sent"] and b"broken" in kinds and b"received" in kinds

    # The same flow with the well-formed message at that step does not kill a fresh
    # instance; the reproducer does, re-aimed at the new dialog (new tags, Call-ID, ports).
    control = tmp_path / "control.sip"
    control.write_bytes(scenario.encode(Case(
        1, saved.original, "valid", scenario="invite", step=saved.step,
        sequence=(("original", saved.step, saved.original),
                  ("broken", saved.step, saved.original)))))
    port = free_port()
    with started([sys.executable, str(DIALOG_TARGET), str(port)], tmp_path / "again.log") as p:
        wait_for_udp_sip(port)
        target = f"udp:127.0.0.1:{port}"
        assert _cli.main(["fuzz", "--replay", str(control), target, *FAST]) == 0
        assert p.poll() is None
        replayed = tmp_path / "replayed"
        assert _cli.main(["fuzz", "--replay", str(reproducer), target, "--out",
                          str(replayed), *FAST]) == 1
        assert p.wait(5) == 139
    again = json.loads((replayed / "report.json").read_text())
    assert [(f["kind"], f["step"]) for f in again["findings"]] == [("target-dead",
                                                                    finding["step"])]
    assert again["stopped"] == "replayed"


def test_request_scenario_misses_it_in_as_many_cases(
    dialog_target: tuple[int, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    port, process = dialog_target
    out = tmp_path / "out"
    _cli.main(["fuzz", f"udp:127.0.0.1:{port}", "--scenario", "request", "--cases",
               str(CASES), "--seed", "1", "--out", str(out), *FAST])
    report = json.loads((out / "report.json").read_text())
    assert report["cases"] == CASES and report["target_alive"] is True
    assert not [f for f in report["findings"] if f["kind"] == "target-dead"]
    assert all(f["scenario"] == "request" for f in report["findings"])
    assert "scenarios" not in report  # the default mode's report is unchanged
    assert process.poll() is None


def test_scenarios_take_turns(
    dialog_target: tuple[int, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    port, process = dialog_target
    out = tmp_path / "out"
    status = _cli.main(["fuzz", f"udp:127.0.0.1:{port}", "--scenario", "request",
                        "--scenario", "invite", "--cases", "6", "--seed", "4",
                        "--malformed-ratio", "0", "--methods", "OPTIONS", "--out", str(out),
                        *FAST])
    report = json.loads((out / "report.json").read_text())
    assert status == (1 if report["findings"] else 0)
    assert report["labels"] == {"valid": 6} and report["target_alive"] is True
    coverage = report["scenarios"]
    assert coverage["request"]["cases"] == 3 and coverage["invite"]["cases"] == 3
    assert coverage["request"]["steps"]["request"]["responses"] == {"200": 3}
    invite = coverage["invite"]["steps"]
    assert invite["invite/invite"]["reached"] == 3
    # Every call ends with one BYE answered 200: at invite/bye, or (the case breaking that
    # step) the BYE that crosses a re-INVITE.
    byes = ("invite/bye", "invite/bye-crossing")
    assert sum(invite[name]["reached"] for name in byes) == 3
    assert sum(invite[name]["responses"].get("200", 0) for name in byes) == 3
    assert sum(s["fuzzed"] for s in invite.values()) == 3
    assert process.poll() is None


def test_all_scenarios_take_turns(
    dialog_target: tuple[int, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    port, process = dialog_target
    out = tmp_path / "out"
    _cli.main(["fuzz", f"udp:127.0.0.1:{port}", "--scenario", "all", "--user", "alice",
               "--password", "secret", "--cases", str(2 * len(scenario.SCENARIOS)),
               "--seed", "4", "--malformed-ratio", "0", "--out", str(out), *FAST])
    report = _report(out)
    coverage = report["scenarios"]
    assert isinstance(coverage, dict) and report["target_alive"] is True
    assert {name: coverage[name]["cases"] for name in coverage} == {
        name: 2 for name in scenario.SCENARIOS}
    # This UAS is no registrar: it answers REGISTER 404, so the flow ends there.
    register = coverage["register"]["steps"]
    assert register["register/initial"]["responses"] == {"404": 2}
    assert register["register/auth"]["reached"] == 0
    assert process.poll() is None


def test_skipped_labels_are_never_drawn(
    dialog_target: tuple[int, subprocess.Popen[bytes]], tmp_path: Path,
    capsys: pytest.CaptureFixture[str]
) -> None:
    from sipstatus.strategies import MUTATION_LABELS

    port, process = dialog_target
    kept = ("nul-byte", "bare-lf")
    skipped = [label for label in MUTATION_LABELS if label not in kept]
    out = tmp_path / "out"
    _cli.main(["fuzz", f"udp:127.0.0.1:{port}", "--scenario", "request", "--scenario",
               "invite", "--cases", "8", "--seed", "2", "--malformed-ratio", "1",
               "--out", str(out), *FAST,
               *(arg for label in skipped for arg in ("--skip-label", label))])
    report = _report(out)
    labels = report["labels"]
    assert isinstance(labels, dict) and set(labels) <= {*kept, "unreached"}
    assert set(labels) & set(kept)  # (every case is broken: --malformed-ratio 1)
    assert report["skipped_labels"] == skipped and report["target_alive"] is True
    assert process.poll() is None
    target = f"udp:127.0.0.1:{port}"
    assert _cli.main(["fuzz", target, "--skip-label", "no-such-label"]) == 2
    assert "--skip-label: not a mutation label: no-such-label" in capsys.readouterr().err
    assert _cli.main(["fuzz", target, *(arg for label in MUTATION_LABELS
                                        for arg in ("--skip-label", label))]) == 2
    assert "every mutation label is skipped" in capsys.readouterr().err
