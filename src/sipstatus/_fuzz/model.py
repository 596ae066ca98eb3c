"""Values of the fuzzing side: a mutated message, a fuzz case, a finding.

Plain frozen dataclasses, importable without hypothesis.
"""

from __future__ import annotations

from dataclasses import dataclass

# Finding kinds (docs/fuzzing.md, "What counts as a finding").
TARGET_DEAD = "target-dead"
MALFORMED_REPLY = "malformed-reply"
SERVER_ERROR = "server-error"
ENDLESS_MESSAGE = "endless-message"
# State findings of the scenarios (``--scenario``; ``_fuzz.scenario``).
ANSWERED_UNKNOWN_DIALOG = "answered-unknown-dialog"
CSEQ_BACKWARDS = "cseq-backwards"
TWO_XX_AFTER_CANCEL = "2xx-after-cancel"
SERVER_ERROR_IN_DIALOG = "server-error-in-dialog"
FINDING_KINDS = (TARGET_DEAD, MALFORMED_REPLY, SERVER_ERROR, ENDLESS_MESSAGE,
                 ANSWERED_UNKNOWN_DIALOG, CSEQ_BACKWARDS, TWO_XX_AFTER_CANCEL,
                 SERVER_ERROR_IN_DIALOG)

# The label of a case that is valid by construction (not a mutation).
VALID = "valid"


@dataclass(frozen=True, slots=True)
class Mutation:
    """A deliberately broken SIP message.

    Attributes:
        data: the bytes to send.
        label: the bug class the mutation exercises, e.g. ``"content-length-negative"``
            (``sipstatus.strategies.MUTATION_LABELS`` lists them all).
        original: the well-formed message it was made from.
    """

    data: bytes
    label: str
    original: bytes


@dataclass(frozen=True, slots=True)
class Case:
    """One test case the fuzzer sends: the bytes and what they are.

    In ``--answer`` mode ``answered`` is the target's request that the case answers (saved
    next to a finding, so that a replay can aim the case at a new request of the same kind).

    A case of a scenario other than ``request`` names its ``scenario`` and ``step``; ``data``
    is the message sent at the step, ``original`` the well-formed message it was made from,
    and ``sequence`` every message of the case as ``(kind, step, bytes)`` (the reproducer).
    """

    index: int
    data: bytes
    label: str
    answered: bytes | None = None
    scenario: str = "request"
    step: str = "request"
    original: bytes | None = None
    sequence: tuple[tuple[str, str, bytes], ...] = ()

    @property
    def malformed(self) -> bool:
        return self.label != VALID


@dataclass(frozen=True, slots=True)
class Finding:
    """Something the target did wrong after ``case``.

    ``reply`` is what the target sent back to the case (None if nothing), and
    ``classification`` the category and action sipstatus gives that reply. ``preceding``
    holds, for a dead target, the cases sent just before (latest first): a crash can show
    only some cases after its cause.
    """

    case: Case
    kind: str
    reply: bytes | None
    classification: tuple[tuple[str, str], ...] | None
    detail: str
    preceding: tuple[Case, ...] = ()
