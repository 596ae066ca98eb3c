"""``render``: messages -> a ladder (``_model``) -> one of the formats (one module each)."""

from __future__ import annotations

from collections.abc import Iterable

from sipstatus.capture._records import CapturedMessage
from sipstatus.ladder import _html, _mermaid, _plantuml, _svg, _text
from sipstatus.ladder._model import Ladder, build

FORMATS = ("text", "svg", "html", "mermaid", "plantuml")


def draw(ladder: Ladder, format: str = "text", *, colour: bool = False) -> str:
    """``ladder`` in ``format`` (``colour``: ANSI colours, for ``text`` only)."""
    if format == "text":
        return _text.render(ladder, colour=colour)
    if format == "svg":
        return _svg.render(ladder)
    if format == "html":
        return _html.render(ladder)
    if format == "mermaid":
        return _mermaid.render(ladder)
    if format == "plantuml":
        return _plantuml.render(ladder)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")


def render(messages: Iterable[CapturedMessage], format: str = "text", *,
           by: str = "element", colour: bool = False) -> str:
    """The ladder of ``messages`` (any iterable of captured messages, in capture order: what
    ``sipstatus.capture.read`` yields, filtered as you like) in ``format``: ``text``,
    ``svg``, ``html``, ``mermaid`` or ``plantuml``. ``by="address"`` gives every
    address:port its own column (see :func:`build` for how columns merge)."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
    return draw(build(messages, by=by), format, colour=colour)
