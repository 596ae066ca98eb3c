"""Hypothesis profiles for the whole suite: `dev` (default) and `thorough` (longer runs by
hand: HYPOTHESIS_PROFILE=thorough python -m pytest).

The coverage gate: when the whole suite runs under pytest-cov (``python -m pytest``, which
turns it on through ``addopts`` in pyproject.toml), the session fails if line coverage or
branch coverage is below its minimum in ``[tool.sipstatus.coverage]``, or the combined figure
below ``[tool.coverage.report] fail_under``. Runs of a part of the suite (paths, node ids,
``-k``, ``-m``, ``--lf``, deselection) and xdist workers are not held to it, nor a run in
which tests skipped because a program they drive is not installed (kamailio, sipp, tshark:
``.ci/run`` installs them); such runs print their figures only.
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev", max_examples=100, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.register_profile(
    "thorough", max_examples=5000, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# -- coverage gate ----------------------------------------------------------------------------

TESTS = Path(__file__).resolve().parent
PYPROJECT = TESTS.parent / "pyproject.toml"
_deselected = pytest.StashKey[int]()
_MISSING_PROGRAMS: list[str] = []  # skip reasons of this session
_verdict = pytest.StashKey[tuple[bool, str]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_deselected] = 0
    _MISSING_PROGRAMS.clear()


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        config = items[0].config
        config.stash[_deselected] = config.stash.get(_deselected, 0) + len(items)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Skips for a program that is not installed (tests/fuzz/fuzz_support.need, the tshark
    # skipif): "<program> not installed (...)" or "<program> is not installed".
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2])
        if " not installed" in reason:
            _MISSING_PROGRAMS.append(reason.removeprefix("Skipped: "))


def _coverage_active(config: pytest.Config) -> bool:
    return (config.pluginmanager.has_plugin("_cov")
            and bool(config.getoption("cov_source", None))
            and not config.getoption("no_cov", False))


def _whole_suite(config: pytest.Config) -> bool:
    """True when this process ran every test of the suite."""
    if getattr(config, "workerinput", None) is not None:  # an xdist worker
        return False
    if config.stash.get(_deselected, 0):
        return False
    for option in ("keyword", "markexpr", "lf", "ignore", "ignore_glob", "deselect",
                   "collectonly"):
        if config.getoption(option, None):
            return False
    base = config.invocation_params.dir
    for arg in config.args:
        if "::" in arg:
            return False
    paths = [(base / arg).resolve() for arg in config.args]
    return any(path == TESTS or path in TESTS.parents for path in paths)


def _coverage_totals(config: pytest.Config) -> dict[str, Any]:
    """The totals of coverage's JSON report over the data pytest-cov just saved (in the
    directory pytest was started from, as pytest-cov does)."""
    import coverage

    data_file = str(coverage.Coverage(config_file=str(PYPROJECT)).get_option("run:data_file"))
    cov = coverage.Coverage(config_file=str(PYPROJECT),
                            data_file=str(config.invocation_params.dir / data_file))
    cov.load()
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "coverage.json"
        cov.json_report(outfile=str(report), ignore_errors=True)
        totals: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))["totals"]
    totals["fail_under"] = float(str(cov.get_option("report:fail_under") or 0))
    return totals


def _judge(totals: dict[str, Any], minimum: dict[str, float]) -> tuple[list[str], str]:
    """The measures below their minimum, and every figure in words."""
    lines = 100.0 * totals["covered_lines"] / max(totals["num_statements"], 1)
    branches = 100.0 * totals["covered_branches"] / max(totals["num_branches"], 1)
    combined = totals["percent_covered"]
    figures = (f"lines {lines:.2f} % (minimum {minimum['lines']:.1f}), branches "
               f"{branches:.2f} % (minimum {minimum['branches']:.1f}), combined "
               f"{combined:.2f} % (fail_under {totals['fail_under']:.1f})")
    short = [name for name, value, floor in (
        ("line", lines, minimum["lines"]), ("branch", branches, minimum["branches"]),
        ("combined", combined, totals["fail_under"])) if value < floor]
    return short, figures


def _verdict_of(config: pytest.Config) -> tuple[bool, str]:
    try:
        minimum = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["sipstatus"][
            "coverage"]
        short, figures = _judge(_coverage_totals(config),
                                {k: float(minimum[k]) for k in ("lines", "branches")})
    except (KeyError, OSError, ValueError) as exc:
        return False, f"coverage gate could not run: {exc!r}"
    if _MISSING_PROGRAMS:
        first = sorted(set(_MISSING_PROGRAMS))[0]
        return True, (f"coverage gate not applied: {len(_MISSING_PROGRAMS)} test(s) skipped "
                      f"for a program that is not installed ({first}); {figures}")
    if short:
        return False, (f"coverage gate FAILED: {' and '.join(short)} coverage below the "
                       f"minimum: {figures}. Add tests, or change the minimums in "
                       "pyproject.toml ([tool.sipstatus.coverage], [tool.coverage.report]).")
    return True, f"coverage gate passed: {figures}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if exitstatus != pytest.ExitCode.OK or not _coverage_active(config):
        return
    if not _whole_suite(config):
        return
    verdict = config.stash[_verdict] = _verdict_of(config)
    if not verdict[0]:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(trylast=True)  # after pytest-cov's report
def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    verdict = config.stash.get(_verdict, None)
    if verdict is not None:
        passed, text = verdict
        terminalreporter.write_line(text, green=passed, red=not passed, bold=not passed)
