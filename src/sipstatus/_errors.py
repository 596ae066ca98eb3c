"""The one error type of sipstatus' SIP layer.

Every failure to understand SIP input, from any entry point (parsing a message, reading a
typed header accessor, classifying a status line or a response), is a :class:`SipParseError`.
It subclasses :class:`ValueError`, so ``except ValueError`` keeps working for callers that do
not care. A program's own mistakes are not SIP input and raise Python's usual errors:
``TypeError`` for an argument of the wrong type (``lookup("486")``, ``classify(True)``) and
``ValueError`` for an int that is no status code (``lookup(99)``). The capture layer has its
own error type, ``sipstatus.capture.CaptureError``.
"""

from __future__ import annotations

from typing import Any


class SipParseError(ValueError):
    """The input is not a well-formed SIP message (or element of one).

    Attributes:
        offset: 0-based byte offset of the fault from the start of the input.
        line: 1-based line number of the fault.
        column: 1-based column (in bytes) of the fault.
        rule: the grammar production that failed, e.g. ``"Status-Line (RFC 3261 §7.2)"``.
        expected: what would have been accepted at that position, in words.
    """

    def __init__(
        self,
        message: str,
        *,
        offset: int = 0,
        line: int = 1,
        column: int = 1,
        rule: str = "",
        expected: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.line = line
        self.column = column
        self.rule = rule
        self.expected = expected

    @property
    def description(self) -> str:
        """The message without its ``at line L, column C`` ending."""
        suffix = f" at line {self.line}, column {self.column}"
        return self.message[: -len(suffix)] if self.message.endswith(suffix) else self.message

    def moved(self, data: bytes, base: int) -> SipParseError:
        """The same error for a message that starts at ``base`` of a larger input ``data``."""
        return error_at(data, base + self.offset, self.description, rule=self.rule,
                        expected=self.expected)

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only fields do not survive the default pickling of exceptions.
        return (_rebuild, (self.message, self.offset, self.line, self.column, self.rule,
                           self.expected))


def _rebuild(message: str, offset: int, line: int, column: int, rule: str,
             expected: str) -> SipParseError:
    return SipParseError(message, offset=offset, line=line, column=column, rule=rule,
                         expected=expected)


def position(data: bytes, offset: int) -> tuple[int, int]:
    """Return the 1-based (line, column) of byte ``offset`` in ``data``."""
    offset = max(0, min(offset, len(data)))
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    return line, offset - start + 1


def error_at(
    data: bytes,
    offset: int,
    what: str,
    *,
    rule: str,
    expected: str = "",
) -> SipParseError:
    """Build a SipParseError for ``data`` at ``offset`` with a uniform message.

    The message reads ``"<what> at line L, column C"``, e.g.
    ``"expected Status-Code (3 digits) at line 1, column 9"``.
    """
    line, column = position(data, offset)
    return SipParseError(
        f"{what} at line {line}, column {column}" if what else f"at line {line}, column {column}",
        offset=offset,
        line=line,
        column=column,
        rule=rule,
        expected=expected,
    )
