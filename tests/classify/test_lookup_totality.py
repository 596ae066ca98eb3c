"""lookup() and classify() are total on 100-699 and refuse everything else."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipstatus._classify import Action, Category, CodeStatus, classify
from sipstatus._codes import CODES, lookup


@settings(max_examples=200)
@given(st.integers(min_value=100, max_value=699))
def test_every_code_from_100_to_699_classifies(code: int) -> None:
    info = lookup(code)
    result = classify(code)
    assert info.code == result.code == code
    assert result.category is Category(code // 100)
    assert result.is_final is (code >= 200)
    assert result.known is (code in CODES)
    assert result.advice.action is info.action
    assert result.advice.summary


def test_all_600_codes_classify() -> None:
    # The whole range, exhaustively: cheap, and it leaves no gap for hypothesis to miss.
    results = [classify(code) for code in range(100, 700)]
    assert [r.code for r in results] == list(range(100, 700))
    assert sum(r.known for r in results) == 77


@settings(max_examples=100)
@given(st.one_of(st.integers(max_value=99), st.integers(min_value=700)))
def test_codes_outside_the_range_raise_value_error(code: int) -> None:
    with pytest.raises(ValueError, match="not a SIP status code"):
        lookup(code)
    with pytest.raises(ValueError, match="not a SIP status code"):
        classify(code)


@pytest.mark.parametrize("code", [99, 700, -1, 0])
def test_edges(code: int) -> None:
    with pytest.raises(ValueError):
        lookup(code)
    with pytest.raises(ValueError):
        classify(code)


@pytest.mark.parametrize("value", [True, 486.0, "486", None])
def test_lookup_wants_an_int(value: object) -> None:
    with pytest.raises(TypeError):
        lookup(value)  # type: ignore[arg-type]


def test_classify_rejects_other_types() -> None:
    with pytest.raises(TypeError):
        classify(True)
    with pytest.raises(TypeError):
        classify(486.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(("code", "stand_in"), [
    (101, 183), (150, 183), (198, 183),  # unknown provisional -> 183 (RFC 3261 §8.1.3.2)
    (201, 200), (299, 200),
    (303, 300), (399, 300),
    (431, 400), (499, 400),
    (501 + 50, 500), (599, 500),
    (601, 600), (699, 600),
])
def test_unknown_codes_fall_back_per_rfc_3261_8_1_3_2(code: int, stand_in: int) -> None:
    info = lookup(code)
    assert info.known is False
    assert info.status is CodeStatus.UNREGISTERED
    assert info.handled_as == stand_in
    assert info.action is CODES[stand_in].action
    assert info.reason == CODES[stand_in].reason
    assert info.citation == "RFC 3261 §8.1.3.2"
    assert info.meaning.startswith(
        f"{code} is not a registered code; RFC 3261 §8.1.3.2 has it handled as {stand_in}")
    assert info.category is Category(code // 100)
    assert info.is_final is (code >= 200)


def test_treat_as_x00_codes_are_known_but_handled_as_400() -> None:
    for code in (402, 409, 411):
        info = lookup(code)
        assert info.known is True
        assert info.handled_as == 400
        assert info.action is Action.DO_NOT_RETRY
