"""The code table against the reference research table.

The reference is read from ``fixtures/reference/sip-response-codes.tsv``, a byte-exact copy of
``../shared/reference/sip-response-codes.tsv``: the tests never depend on the shared folder,
and when it sits beside the checkout the copy is checked against it.
"""

from __future__ import annotations

import csv
import hashlib
from importlib import resources
from pathlib import Path

import pytest

from sipstatus import CODES, Action, Category, CodeStatus, lookup

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "fixtures" / "reference" / "sip-response-codes.tsv"
SHARED = REPO.parent / "shared" / "reference" / "sip-response-codes.tsv"
#: SHA-256 of the reference table the code table was checked against.
FIXTURE_SHA256 = "45895cc9b34e1fa00d9a5e18276cdec7e46b0a2d0fce30347c53576a914d5683"


def _reference() -> dict[int, dict[str, str]]:
    with FIXTURE.open(encoding="utf-8", newline="") as handle:
        return {int(row["code"]): row for row in csv.DictReader(handle, delimiter="\t")}


REFERENCE = _reference()

# Where sipstatus deliberately departs from the reference, with the reason (none so far).
RFC_SECTION_CORRECTIONS: dict[int, tuple[str, str]] = {}


def test_fixture_is_the_reference_table() -> None:
    data = FIXTURE.read_bytes()
    assert hashlib.sha256(data).hexdigest() == FIXTURE_SHA256
    if SHARED.exists():  # the shared folder beside the checkout: the copy is exact
        assert data == SHARED.read_bytes()


def test_same_77_codes() -> None:
    assert len(REFERENCE) == 77
    assert list(CODES) == sorted(REFERENCE)


@pytest.mark.parametrize("code", sorted(REFERENCE))
def test_code_matches_reference(code: int) -> None:
    ref, info = REFERENCE[code], CODES[code]
    assert info.code == code
    assert info.reason == ref["reason_phrase"]
    assert info.category is Category(int(ref["class"]))
    assert info.category.value == code // 100
    assert info.is_final is {"yes": True, "no": False}[ref["final"]]
    assert info.status is CodeStatus(ref["status"])
    assert info.known is True
    rfc, section = RFC_SECTION_CORRECTIONS.get(
        code, (ref["rfc"].replace("RFC", "RFC "), ref["rfc_section"]))
    assert (info.rfc, info.section) == (rfc, section)
    assert info.citation == f"{rfc} §{section}"
    assert info.advice_headers == tuple(h for h in ref["advice_headers"].split(",") if h)
    if ref["advice_kind"] == "treat_as_x00":
        assert info.handled_as == code // 100 * 100
        assert info.action is CODES[info.handled_as].action
    else:
        assert info.handled_as == code
        assert info.action is Action(ref["advice_kind"])


@pytest.mark.parametrize("code", sorted(REFERENCE))
def test_wording_is_our_own(code: int) -> None:
    ref, info = REFERENCE[code], CODES[code]
    assert info.meaning and info.step and info.advice
    assert info.meaning != ref["meaning"]
    assert info.advice != ref["advice"]


def test_user_spelling_slips_are_not_in_the_table() -> None:
    """The user's list (seed_text) differs from IANA for four codes; the table keeps IANA's."""
    slips = {code: row["seed_text"] for code, row in REFERENCE.items()
             if row["seed_text"] and row["seed_text"] != row["reason_phrase"]}
    assert slips == {
        202: "accepted",
        414: "Request URI Too Long",
        417: "Uknown Resource-Priority",
        437: "Unsupported Certificate",
    }
    for code, seed in slips.items():
        assert lookup(code).reason == REFERENCE[code]["reason_phrase"] != seed
    data = resources.files("sipstatus").joinpath("data/codes.tsv").read_text(encoding="utf-8")
    for seed in slips.values():
        assert f"\t{seed}\t" not in data


def test_codes_missing_from_the_users_list_are_present() -> None:
    unseeded = sorted(code for code, row in REFERENCE.items() if not row["seed_text"])
    assert unseeded == [412, 425, 440, 469, 555, 607, 608]
    assert all(code in CODES for code in unseeded)


def test_action_counts_match_the_reference_readme() -> None:
    counts: dict[str, int] = {}
    for row in REFERENCE.values():
        counts[row["advice_kind"]] = counts.get(row["advice_kind"], 0) + 1
    assert counts == {
        "retry_modified_request": 27, "do_not_retry": 12, "continue": 6, "global_stop": 6,
        "retry_later": 5, "redirect": 4, "success": 3, "user_choice": 3, "treat_as_x00": 3,
        "retry_other_server": 3, "retry_with_credentials": 2, "terminate_dialog": 1,
        "retry_after_backoff": 1, "none": 1,
    }
    # Every Action value is used by some code; treat_as_x00 resolves to do_not_retry (400).
    assert {info.action for info in CODES.values()} == set(Action)
    assert {CODES[c].action for c in (402, 409, 411)} == {Action.DO_NOT_RETRY}


def test_the_stand_ins_exist() -> None:
    # RFC 3261 §8.1.3.2: 183 and every x00 must be known for the fallback to work.
    for code in (183, 200, 300, 400, 500, 600):
        assert code in CODES


def test_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        CODES[999] = CODES[200]  # type: ignore[index]
