"""``--out DIR``: ``report.json`` and one raw file per finding (the reproducer to ``--replay``).

report.json::

    {
      "target": "udp:127.0.0.1:5060", "mode": "send", "seed": 1,
      "cases": 200, "elapsed": 12.3, "stopped": "cases",
      "labels": {"valid": 101, "content-length-negative": 3, ...},
      "findings": [
        {"file": "finding-0001-target-dead-content-length-negative.sip",
         "label": "content-length-negative", "kind": "target-dead", "case": 17,
         "reply": "SIP/2.0 400 Bad Request\\r\\n..." or null,
         "classification": {"code": "400", "category": "client_failure",
                            "action": "do_not_retry"} or null,
         "detail": "..."}
      ],
      "drained": 0,
      "target_alive": false
    }

Every finding names its ``scenario`` and ``step`` (``request`` for the out-of-dialog mode);
the finding file of a case of another scenario is its whole sequence (``scenario.encode``),
which ``--replay`` plays again. With ``--scenario``, ``scenarios`` counts per scenario the
cases and, per step, how often it was reached and fuzzed and the responses it got. With
``--skip-label``, ``skipped_labels`` lists the mutation labels the run never drew.

In ``--answer`` mode a finding also has ``request_file``: the target's request the case
answered, which ``--replay`` uses to aim the case at a new request. A ``target-dead``
finding also lists ``preceding``: the up to five cases sent before it (``file``, ``case``,
``label``; ``.before-1`` is the latest), saved too, for crashes that show late.
``reply`` is the target's bytes decoded as UTF-8 with backslash escapes for anything else
(for ``endless-message``, the first 1,024 bytes of the message given up on). ``drained``
counts the messages from the target read and dropped unjudged (a flood).

The directory is checked before the run (``prepare``) and written after it
(``OutputDir.write``): a symbolic link, a non-directory, or a directory that is not empty
without ``overwrite`` is refused. With ``overwrite`` only the files the fuzzer writes
(``report.json``, finding files, and its own temporary file) are removed, and only regular
ones: anything else is left alone. Nothing is opened through a symbolic link (the directory
with O_NOFOLLOW, each file with O_CREAT | O_EXCL | O_NOFOLLOW, relative to the directory's
descriptor); ``report.json`` is written last, atomically (a temporary file in the same
directory, then ``os.replace``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sipstatus._fuzz.model import Finding
from sipstatus._fuzz.mutations import LABELS
from sipstatus._fuzz.run import Outcome, Settings
from sipstatus._fuzz.scenario import encode

REPORT = "report.json"
#: Every name the fuzzer writes in ``--out``: the report, its temporary file, finding files.
OWN_FILE = re.compile(
    r"report\.json|\.report\.json\.[0-9a-f]+\.tmp"
    r"|finding-[0-9]{4,}-[a-z0-9-]+\.sip(?:\.before-[0-9]+|\.request)?"
)

_DIRECTORY_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
_NEW_FILE_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                   | getattr(os, "O_CLOEXEC", 0))


class OutputError(ValueError):
    """An ``--out`` directory that cannot be used (a usage error: exit status 2)."""


def finding_file(number: int, finding: Finding) -> str:
    return f"finding-{number:04d}-{finding.kind}-{finding.case.label}.sip"


def preceding_file(number: int, finding: Finding, k: int) -> str:
    """The k-th case before a dead target's finding (1 = the one just before)."""
    return f"{finding_file(number, finding)}.before-{k}"


REQUEST_SUFFIX = ".request"


def _finding(number: int, finding: Finding) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if finding.case.answered is not None:
        extra["request_file"] = finding_file(number, finding) + REQUEST_SUFFIX
    if finding.preceding:
        extra["preceding"] = [
            {"file": preceding_file(number, finding, k), "case": c.index, "label": c.label}
            for k, c in enumerate(finding.preceding, 1)
        ]
    return {
        "file": finding_file(number, finding),
        **extra,
        "scenario": finding.case.scenario,
        "step": finding.case.step,
        "label": finding.case.label,
        "kind": finding.kind,
        "case": finding.case.index,
        "reply": None if finding.reply is None
        else finding.reply.decode("utf-8", "backslashreplace"),
        "classification": None if finding.classification is None
        else dict(finding.classification),
        "detail": finding.detail,
    }


def report(settings: Settings, outcome: Outcome) -> dict[str, Any]:
    return {
        "target": str(settings.target),
        "mode": "answer" if settings.answer else "send",
        "seed": settings.seed,
        "cases": outcome.cases,
        "elapsed": round(outcome.elapsed, 3),
        "stopped": outcome.stopped,
        "labels": dict(outcome.labels),
        "findings": [_finding(n, f) for n, f in enumerate(outcome.findings, 1)],
        "drained": outcome.drained,
        "target_alive": outcome.target_alive,
        **({"scenarios": outcome.scenarios} if outcome.scenarios else {}),
        **({"skipped_labels": [label for label in LABELS if label not in settings.labels]}
           if settings.labels is not None else {}),
    }


@dataclass(frozen=True, slots=True)
class OutputDir:
    """An ``--out`` directory checked by ``prepare``; ``kept`` names the entries that are not
    the fuzzer's (left alone)."""

    path: Path
    overwrite: bool
    kept: tuple[str, ...] = ()

    def write(self, settings: Settings, outcome: Outcome) -> Path:
        """Write the raw file of every finding, then report.json; returns its path."""
        files: list[tuple[str, bytes]] = []
        for number, finding in enumerate(outcome.findings, 1):
            name = finding_file(number, finding)
            case = finding.case
            files.append((name, encode(case) if case.sequence else case.data))
            if finding.case.answered is not None:
                files.append((name + REQUEST_SUFFIX, finding.case.answered))
            files += [(preceding_file(number, finding, k),
                       encode(case) if case.sequence else case.data)
                      for k, case in enumerate(finding.preceding, 1)]
        text = json.dumps(report(settings, outcome), indent=2, ensure_ascii=False) + "\n"
        try:
            directory = os.open(self.path, _DIRECTORY_FLAGS)
        except OSError as exc:
            raise OutputError(f"--out {self.path}: cannot open: {exc.strerror}") from exc
        try:
            if self.overwrite:
                for name in _own_files(directory):
                    os.unlink(name, dir_fd=directory)
            for name, data in files:
                _write_new(directory, name, data)
            temporary = f".{REPORT}.{secrets.token_hex(8)}.tmp"
            _write_new(directory, temporary, text.encode("utf-8"))
            try:
                os.replace(temporary, REPORT, src_dir_fd=directory, dst_dir_fd=directory)
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(temporary, dir_fd=directory)
                raise
        except OSError as exc:
            raise OutputError(f"--out {self.path}: cannot write {exc.filename or ''}: "
                              f"{exc.strerror}") from exc
        finally:
            os.close(directory)
        return self.path / REPORT


def prepare(path: Path, overwrite: bool = False) -> OutputDir:
    """Check (or create) the ``--out`` directory before the run: OutputError if it is a
    symbolic link or not a directory, holds a non-regular entry under one of the fuzzer's
    names, or is not empty without ``overwrite``. Nothing is removed here."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        try:
            path.mkdir(parents=True)
            mode = os.lstat(path).st_mode
        except OSError as exc:
            raise OutputError(f"--out {path}: cannot create the directory: {exc.strerror}"
                              ) from exc
    except OSError as exc:
        raise OutputError(f"--out {path}: {exc.strerror}") from exc
    if stat.S_ISLNK(mode):
        raise OutputError(f"--out {path}: is a symbolic link; refusing (name a directory)")
    if not stat.S_ISDIR(mode):
        raise OutputError(f"--out {path}: exists and is not a directory")
    try:
        directory = os.open(path, _DIRECTORY_FLAGS)
    except OSError as exc:
        raise OutputError(f"--out {path}: cannot open: {exc.strerror}") from exc
    try:
        entries = sorted(os.listdir(directory))
        ours = set(_own_files(directory))
        writable = os.access(path, os.W_OK | os.X_OK)
    finally:
        os.close(directory)
    if not writable:
        raise OutputError(f"--out {path}: not writable")
    in_the_way = [name for name in entries if OWN_FILE.fullmatch(name) and name not in ours]
    if in_the_way:
        raise OutputError(f"--out {path}: {in_the_way[0]} is not a regular file (a symbolic "
                          "link?); refusing to write over it")
    if entries and not overwrite:
        raise OutputError(f"--out {path}: not empty ({len(entries)} entries); give "
                          "--overwrite to replace an earlier run's report and finding files")
    return OutputDir(path, overwrite, tuple(name for name in entries if name not in ours))


def write(directory: Path, settings: Settings, outcome: Outcome, overwrite: bool = False
          ) -> Path:
    """``prepare`` then ``OutputDir.write``: report.json and the finding files."""
    return prepare(directory, overwrite).write(settings, outcome)


def _own_files(directory: int) -> list[str]:
    """The regular files in ``directory`` (a descriptor) named as the fuzzer names its own."""
    found = []
    for name in os.listdir(directory):
        if OWN_FILE.fullmatch(name) and stat.S_ISREG(
                os.stat(name, dir_fd=directory, follow_symlinks=False).st_mode):
            found.append(name)
    return found


def _write_new(directory: int, name: str, data: bytes) -> None:
    """Create ``name`` in ``directory`` (never through a symbolic link, never over a file)."""
    descriptor = os.open(name, _NEW_FILE_FLAGS, 0o666, dir_fd=directory)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
