"""Golden files: the ladder of every message of each fixture capture, in each format, as
committed under tests/ladder/golden/ (``<capture>.<format>``). After a deliberate change of
the drawing, regenerate them and review the diff:

    SIPSTATUS_UPDATE_GOLDEN=1 python -m pytest tests/ladder/test_ladder_golden.py

Captures holding the same traffic in another container must draw the same ladder."""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
from pathlib import Path

import pytest
from ladder_support import (
    BASES,
    GOLDEN,
    ROOT,
    SAME_AS,
    SAME_BUT_TIMES,
    cli,
    messages,
    xmllint,
)

from sipstatus.ladder import FORMATS, build, draw

UPDATE = os.environ.get("SIPSTATUS_UPDATE_GOLDEN") == "1"
SUFFIX = {"text": "txt", "svg": "svg", "html": "html", "mermaid": "mmd",
          "plantuml": "puml"}


def golden_path(name: str, fmt: str) -> os.PathLike[str]:
    return GOLDEN / f"{name}.{SUFFIX[fmt]}"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", BASES)
def test_golden(name: str, fmt: str) -> None:
    drawn = draw(build(messages(name)), fmt)
    path = golden_path(name, fmt)
    if UPDATE:
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(drawn)
    with open(path, encoding="utf-8", newline="") as handle:
        assert drawn == handle.read(), f"{path} differs (see the module's docstring)"


@pytest.mark.parametrize("name", sorted(SAME_AS))
def test_the_same_traffic_draws_the_same_ladder(name: str) -> None:
    for fmt in FORMATS:
        with open(golden_path(SAME_AS[name], fmt), encoding="utf-8", newline="") as handle:
            assert draw(build(messages(name)), fmt) == handle.read()


@pytest.mark.parametrize("name", sorted(SAME_BUT_TIMES))
def test_the_same_traffic_in_microseconds_draws_the_same_arrows(name: str) -> None:
    def plain(arrow: object) -> object:
        return dataclasses.replace(arrow, time=0.0, since_first=0.0, delta=0.0)  # type: ignore[type-var]

    ours, theirs = build(messages(name)), build(messages(SAME_BUT_TIMES[name]))
    assert ours.columns == theirs.columns
    assert list(map(plain, ours.arrows)) == list(map(plain, theirs.arrows))
    for a, b in zip(ours.arrows, theirs.arrows, strict=True):
        assert abs(a.since_first - b.since_first) < 1e-5


def test_the_readme_picture_is_made_by_the_readmes_command(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"^sipstatus (ladder .+ -o (docs/images/\S+\.svg))$", readme, re.M)
    assert found is not None, "the README shows the command that made its picture"
    argv = shlex.split(found.group(1))
    out = argv.index("-o") + 1
    argv[out] = str(tmp_path / "picture.svg")
    argv = [str(ROOT / arg) if arg.startswith("fixtures/") else arg for arg in argv]
    assert cli(*argv) == (0, "")
    picture = ROOT / found.group(2)
    assert f"]({found.group(2)})" in readme  # and shows the picture
    assert (tmp_path / "picture.svg").read_text(encoding="utf-8") == picture.read_text(
        encoding="utf-8"), f"regenerate {picture.name} with the README's command"
    assert xmllint(picture.read_text(encoding="utf-8")).returncode == 0
