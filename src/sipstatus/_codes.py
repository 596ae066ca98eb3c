"""The SIP response-code table: 77 codes, loaded once from ``data/codes.tsv``.

The table is data; this module only reads it, checks it, and answers look-ups. It covers the
75 codes of the IANA "Response Codes" registry plus 409 and 411, which only RFC 2543 defined.
Canonical reason phrases are IANA's; a phrase on the wire is free text (RFC 3261 §7.2), so
everything here is keyed by the number alone.

Unregistered codes from 100 to 699 fall back as RFC 3261 §8.1.3.2 says: an unknown 1xx is
handled as 183 (Session Progress), an unknown final code as the x00 of its class.
"""

from __future__ import annotations

import enum
import functools
import importlib.resources
import types
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["CODES", "Action", "Category", "CodeInfo", "CodeStatus", "lookup"]


class Category(enum.Enum):
    """Response class, given by the first digit (RFC 3261 §7.2, §21)."""

    PROVISIONAL = 1
    SUCCESS = 2
    REDIRECTION = 3
    CLIENT_FAILURE = 4
    SERVER_FAILURE = 5
    GLOBAL_FAILURE = 6

    @property
    def label(self) -> str:
        """``"4xx client failure"``: the class as a person reads it."""
        return f"{self.value}xx {self.name.lower().replace('_', ' ')}"

    @classmethod
    def of(cls, code: int) -> Category:
        return cls(code // 100)


class Action(enum.StrEnum):
    """What to do next: the ``advice_kind`` vocabulary of the reference table.

    The table's ``treat_as_x00`` is not an action; it resolves to the action of the x00 code
    (RFC 3261 §8.1.3.2), and :attr:`CodeInfo.handled_as` records the stand-in.
    """

    CONTINUE = "continue"
    SUCCESS = "success"
    REDIRECT = "redirect"
    USER_CHOICE = "user_choice"
    RETRY_WITH_CREDENTIALS = "retry_with_credentials"
    RETRY_MODIFIED_REQUEST = "retry_modified_request"
    RETRY_LATER = "retry_later"
    RETRY_OTHER_SERVER = "retry_other_server"
    RETRY_AFTER_BACKOFF = "retry_after_backoff"
    TERMINATE_DIALOG = "terminate_dialog"
    DO_NOT_RETRY = "do_not_retry"
    GLOBAL_STOP = "global_stop"
    NONE = "none"


class CodeStatus(enum.StrEnum):
    """Registry status of a code."""

    CURRENT = "current"
    DEPRECATED = "deprecated"  # 202 (RFC 6665 §8.3.1)
    RESERVED = "reserved"  # 402 (RFC 3261 §21.4.3)
    HISTORIC = "historic"  # 409, 411: RFC 2543 only, never registered
    UNREGISTERED = "unregistered"  # any other code from 100 to 699 (a look-up fallback)


# The table's marker for codes that have no semantics of their own (RFC 3261 §8.1.3.2).
_TREAT_AS_X00 = "treat_as_x00"


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """Everything the table says about one status code.

    ``handled_as`` is the code whose handling applies: the code itself, or the stand-in of
    RFC 3261 §8.1.3.2 for an unregistered code (and for 402, 409, 411, which have no
    behaviour of their own). ``known`` is false only for unregistered codes.
    """

    code: int
    reason: str
    rfc: str
    section: str
    status: CodeStatus
    action: Action
    handled_as: int
    advice_headers: tuple[str, ...]
    meaning: str
    step: str
    advice: str
    known: bool = True

    @property
    def category(self) -> Category:
        return Category.of(self.code)

    @property
    def is_final(self) -> bool:
        """1xx responses are provisional; every other class is final (RFC 3261 §7.2)."""
        return self.code >= 200

    @property
    def citation(self) -> str:
        """Where the code is defined, e.g. ``"RFC 3261 §21.4.24"``."""
        return f"{self.rfc} §{self.section}"


_COLUMNS = (
    "code", "reason", "rfc", "section", "status", "advice_kind", "advice_headers",
    "meaning", "step", "advice",
)


def _read_rows() -> list[dict[str, str]]:
    text = importlib.resources.files("sipstatus").joinpath("data/codes.tsv").read_text("utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    header = tuple(lines[0].split("\t"))
    if header != _COLUMNS:
        raise RuntimeError(f"sipstatus/data/codes.tsv: unexpected columns {header}")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) != len(_COLUMNS):
            raise RuntimeError(f"sipstatus/data/codes.tsv: row {number} has {len(cells)} cells")
        rows.append(dict(zip(_COLUMNS, cells, strict=True)))
    return rows


def _stand_in(code: int) -> int:
    """RFC 3261 §8.1.3.2: unknown 1xx -> 183, unknown final -> x00 of its class."""
    return 183 if code < 200 else code // 100 * 100


@functools.cache
def _load() -> Mapping[int, CodeInfo]:
    rows = {int(row["code"]): row for row in _read_rows()}
    table: dict[int, CodeInfo] = {}
    for code in sorted(rows):
        row = rows[code]
        kind = row["advice_kind"]
        handled_as = _stand_in(code) if kind == _TREAT_AS_X00 else code
        action_kind = rows[handled_as]["advice_kind"] if kind == _TREAT_AS_X00 else kind
        table[code] = CodeInfo(
            code=code,
            reason=row["reason"],
            rfc=f"RFC {row['rfc']}",
            section=row["section"],
            status=CodeStatus(row["status"]),
            action=Action(action_kind),
            handled_as=handled_as,
            advice_headers=tuple(h for h in row["advice_headers"].split(",") if h),
            meaning=row["meaning"],
            step=row["step"],
            advice=row["advice"],
        )
    return types.MappingProxyType(table)


CODES: Mapping[int, CodeInfo] = _load()
"""The 77 codes of the table, read-only, in numeric order."""


def _check_code(code: object) -> int:
    # bool is an int subclass; True is not a status code.
    if not isinstance(code, int) or isinstance(code, bool):
        raise TypeError(f"a status code is an int, not {type(code).__name__}")
    if not 100 <= code <= 699:
        raise ValueError(f"{code} is not a SIP status code (100-699, RFC 3261 §7.2, §21)")
    return code


def lookup(code: int) -> CodeInfo:
    """Describe ``code``. Unregistered codes borrow the handling of their stand-in.

    Raises :class:`ValueError` outside 100-699 and :class:`TypeError` for a non-int.
    """
    code = _check_code(code)
    info = CODES.get(code)
    if info is not None:
        return info
    return _unregistered(code)


@functools.lru_cache(maxsize=1024)
def _unregistered(code: int) -> CodeInfo:
    stand_in = CODES[_stand_in(code)]
    return CodeInfo(
        code=code,
        reason=stand_in.reason,
        rfc="RFC 3261",
        section="8.1.3.2",
        status=CodeStatus.UNREGISTERED,
        action=stand_in.action,
        handled_as=stand_in.code,
        advice_headers=stand_in.advice_headers,
        meaning=(
            f"{code} is not a registered code; RFC 3261 §8.1.3.2 has it handled as "
            f"{stand_in.code} ({stand_in.reason}): {stand_in.meaning}"
        ),
        step=stand_in.step,
        advice=stand_in.advice,
        known=False,
    )
