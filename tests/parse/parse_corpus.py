"""Shared helpers for the parser tests: the RFC 4475 / RFC 5118 corpus fixtures."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "corpus"


@dataclass(frozen=True)
class Case:
    file: str
    section: str
    kind: str
    verdict: str
    start_line: str
    note: str

    @property
    def data(self) -> bytes:
        return (CORPUS / self.file).read_bytes()

    @property
    def name(self) -> str:
        return Path(self.file).stem


def corpus_cases() -> list[Case]:
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [Case(r["file"], r["rfc_section"], r["kind"], r["verdict"], r["start_line"],
                 r["note"]) for r in rows]
