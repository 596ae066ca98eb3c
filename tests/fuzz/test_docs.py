"""docs/fuzzing.md stays true: its Python example runs, its label table and option synopsis
match the code."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from sipstatus import strategies as sips
from sipstatus._cli import fuzz as fuzz_command
from sipstatus._fuzz.model import FINDING_KINDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "fuzzing.md"
TEXT = DOC.read_text(encoding="utf-8")


def test_the_user_test_example_runs() -> None:
    blocks = [b for b in re.findall(r"```python\n(.*?)```", TEXT, re.DOTALL)
              if "sipstatus import strategies" in b]
    assert len(blocks) == 1
    exec(compile(blocks[0], f"{DOC}:example", "exec"), {"__name__": "doc_example"})


def test_every_mutation_label_is_documented() -> None:
    documented = set()
    for row in re.findall(r"^\| (`[a-z0-9-]+`(?:, `[a-z0-9-]+`)*) \|", TEXT, re.MULTILINE):
        documented.update(re.findall(r"`([a-z0-9-]+)`", row))
    assert set(sips.MUTATION_LABELS) <= documented
    assert documented - set(sips.MUTATION_LABELS) == set(FINDING_KINDS)


def test_the_synopsis_names_the_real_options() -> None:
    synopsis = re.search(r"```\nsipstatus fuzz (.*?)```", TEXT, re.DOTALL)
    assert synopsis is not None
    documented = set(re.findall(r"(--[a-z0-9-]+|-q)\b", synopsis.group(1)))
    subparsers = argparse.ArgumentParser().add_subparsers()
    fuzz_command.register(subparsers)
    fuzz = subparsers._name_parser_map["fuzz"]
    real = {o for action in fuzz._actions for o in action.option_strings} - {"-h", "--help",
                                                                              "--quiet"}
    assert documented == real


README = DOC.parents[1] / "README.md"


def test_the_readme_fuzz_section_uses_real_options_and_labels() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Fuzz-testing a SIP stack", 1)[1].split("\n## ", 1)[0]
    subparsers = argparse.ArgumentParser().add_subparsers()
    fuzz_command.register(subparsers)
    fuzz = subparsers._name_parser_map["fuzz"]
    commands = re.findall(r"^sipstatus fuzz (.+)$", section, re.MULTILINE)
    commands += re.findall(r"`sipstatus fuzz ([^`]+)`", section)
    assert len(commands) >= 4
    for command in commands:
        fuzz.parse_args(command.split())  # argparse exits (SystemExit) on a wrong option
    labels = set(re.findall(r"`([a-z0-9]+(?:-[a-z0-9]+)+)`", section))
    assert labels <= set(sips.MUTATION_LABELS) | set(FINDING_KINDS)
    assert f"{len(sips.MUTATION_LABELS)} labels" in section
