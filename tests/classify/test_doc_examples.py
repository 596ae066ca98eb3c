"""The classifier's documented examples run as written, with the output they show.

Every ``$ command`` in a ``console`` block of docs/classifier.md (and of README.md, once the
classifier section is there) is run by bash from the repository root; its output must be
the lines that follow it. The Python block is executed too.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "docs" / "classifier.md", REPO / "README.md"]
BLOCK = re.compile(r"```(console|python)\n(.*?)```", re.DOTALL)


def _blocks(kind: str) -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        if not doc.exists():
            continue
        for lang, text in BLOCK.findall(doc.read_text(encoding="utf-8")):
            if lang == kind and ("sipstatus explain" in text or "sipstatus codes" in text
                                 or "sipstatus.classify" in text):
                found.append((doc.name, text))
    return found


def _commands() -> list[tuple[str, str, str]]:
    cases = []
    for name, text in _blocks("console"):
        command: str | None = None
        output: list[str] = []
        for line in text.splitlines():
            if line.startswith("$ "):
                if command is not None:
                    cases.append((name, command, "".join(output)))
                command, output = line[2:], []
            else:
                output.append(line + "\n")
        if command is not None:
            cases.append((name, command, "".join(output)))
    return cases


COMMANDS = _commands()


def test_the_doc_has_examples() -> None:
    assert len(COMMANDS) >= 6
    assert _blocks("python")
    assert COMMANDS[0][0] == "classifier.md"


@pytest.mark.parametrize(("doc", "command", "expected"), COMMANDS,
                         ids=[f"{d}: {c}" for d, c, _ in COMMANDS])
def test_console_example(doc: str, command: str, expected: str) -> None:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "100"
    result = subprocess.run(["bash", "-c", f"set -o pipefail; {command}"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.stderr == ""
    assert result.returncode == 0
    assert result.stdout == expected


PYTHON = _blocks("python")


@pytest.mark.parametrize(("doc", "code"), PYTHON, ids=[d for d, _ in PYTHON])
def test_python_example(doc: str, code: str, monkeypatch: pytest.MonkeyPatch,
                        capsys: pytest.CaptureFixture[str]) -> None:
    """The block runs, and each ``print(...)  # text`` prints that text."""
    monkeypatch.chdir(REPO)
    expected = [line.split("  # ", 1)[1] for line in code.splitlines()
                if line.startswith("print(") and "  # " in line]
    assert expected
    exec(compile(code, doc, "exec"), {})
    assert capsys.readouterr().out.splitlines() == expected
