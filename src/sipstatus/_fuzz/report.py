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
      "target_alive": false
    }

In ``--answer`` mode a finding also has ``request_file``: the target's request the case
answered, which ``--replay`` uses to aim the case at a new request. A ``target-dead``
finding also lists ``preceding``: the up to five cases sent before it (``file``, ``case``,
``label``; ``.before-1`` is the latest), saved too, for crashes that show late.
``reply`` is the target's bytes decoded as UTF-8 with backslash escapes for anything else.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sipstatus._fuzz.model import Finding
from sipstatus._fuzz.run import Outcome, Settings

REPORT = "report.json"


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
        "target_alive": outcome.target_alive,
    }


def write(directory: Path, settings: Settings, outcome: Outcome) -> Path:
    """Write the raw file of every finding and report.json into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for number, finding in enumerate(outcome.findings, 1):
        name = finding_file(number, finding)
        (directory / name).write_bytes(finding.case.data)
        if finding.case.answered is not None:
            (directory / (name + REQUEST_SUFFIX)).write_bytes(finding.case.answered)
        for k, case in enumerate(finding.preceding, 1):
            (directory / preceding_file(number, finding, k)).write_bytes(case.data)
    path = directory / REPORT
    path.write_text(json.dumps(report(settings, outcome), indent=2, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    return path
