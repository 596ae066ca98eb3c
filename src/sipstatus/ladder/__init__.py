"""Call-flow ladders of SIP messages, and the HTML report of a capture (docs/ladder.md).

- :func:`render` draws any iterable of :class:`~sipstatus.capture.CapturedMessage`\\ s as a
  ladder in ``text``, ``svg``, ``html``, ``mermaid`` or ``plantuml``.
- :func:`build` makes the :class:`Ladder` model (columns, arrows, call notes) the formats
  share; :func:`draw` draws a model.
- :func:`report` writes the self-contained HTML report of capture files.
"""

from __future__ import annotations

from sipstatus.ladder._model import Arrow, CallNote, Column, Ladder, build
from sipstatus.ladder._render import FORMATS, draw, render
from sipstatus.ladder._report import report

__all__ = ["FORMATS", "Arrow", "CallNote", "Column", "Ladder", "build", "draw", "render",
           "report"]
