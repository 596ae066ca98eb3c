"""The ladder as SVG: a legend, one lifeline per column, one ``<g class="msg">`` per arrow
(``data-frame``: its frame; ``<title>``: the message as captured), coloured by class, each
dialog's rows in its own shade when there are several.

No two labels overlap: every arrow has its own row; a label is cut (with "…") to the room
between its arrow's ends (an SDP summary or a note under it, to the picture's right edge),
measured with a conservative width per character (``CHAR``, wider
than any monospace face at ``FONT`` px; East Asian wide characters count twice), and column
names to the room of a lane.
"""

from __future__ import annotations

import re
import unicodedata
from html import escape

from sipstatus.ladder._model import Arrow, Ladder
from sipstatus.ladder._palette import HEX, dialog_shade

FONT = 12
CHAR = 0.65 * FONT  # px per character, conservative (monospace faces are about 0.6 em)
LINE = 16.0  # px between text lines
MIN_LANE, MAX_LANE = 150.0, 420.0
GUTTER = 150.0  # the times, left of the first lifeline (at least)
TOP = 12.0


def text_width(text: str) -> float:
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in "WF") if (
        not text.isascii()) else 0
    return (len(text) + wide) * CHAR


def fit(text: str, room: float) -> str:
    """``text`` cut (ending with "…") to at most ``room`` px."""
    if text_width(text) <= room:
        return text
    while text and text_width(text + "…") > room:
        text = text[:-1]
    return text + "…" if text else ""


def lane_width(ladder: Ladder) -> float:
    widest = max((text_width(arrow.title) for arrow in ladder.arrows), default=0.0)
    return max(MIN_LANE, min(MAX_LANE, widest + 4 * CHAR))


# Characters XML 1.0 does not allow (§2.2): shown as U+FFFD.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` escaped for XML (and HTML) content, characters XML cannot hold replaced."""
    return escape(_NOT_XML.sub("\ufffd", text), quote=False)


def _text(x: float, y: float, content: str, *, anchor: str = "start",
          css: str = "", fill: str = "") -> str:
    extra = f' class="{css}"' if css else ""
    extra += f' fill="{fill}"' if fill else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>'
            f"{xml_text(content)}</text>")


def render(ladder: Ladder, *, standalone: bool = True) -> str:
    lane = lane_width(ladder)
    count = len(ladder.columns)
    gutter = max([GUTTER, *(text_width(a.timing) + 2 * CHAR for a in ladder.arrows)])
    xs = [gutter + lane / 2 + i * lane for i in range(count)]
    width = gutter + lane * max(count, 1) + lane / 2
    right = width - CHAR  # where an SDP summary or a note must end
    parts: list[str] = []
    y = TOP + LINE
    for column in ladder.columns:  # the legend
        legend = f"{column.label}  {', '.join(column.addresses)}"
        width = max(width, 10 + text_width(legend) + 10)
        parts.append(_text(10, y, legend, css="legend"))
        y += LINE
    y += LINE / 2
    for x, column in zip(xs, ladder.columns, strict=True):
        parts.append(_text(x, y, column.label, anchor="middle", css="head"))
        parts.append(_text(x, y + LINE, fit(column.name, lane - 2 * CHAR), anchor="middle",
                           css="name"))
    y += LINE * 2
    top = y
    rows: list[str] = []
    shades: list[str] = []  # under the lifelines, which stay visible
    shaded = len(ladder.dialogs) > 1
    for arrow in ladder.arrows:
        height = LINE * (2 + bool(arrow.sdp) + bool(arrow.note))
        if shaded:
            shades.append(f'<rect class="dialog" data-dialog="{arrow.dialog}" x="0" '
                          f'y="{y:.1f}" width="100%" height="{height:.1f}" '
                          f'fill="{dialog_shade(arrow.dialog)}"/>')
        rows.append(_arrow(arrow, xs, lane, y, right, gutter))
        y += height
    bottom = y
    lifelines = [f'<line class="life" x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" '
                 f'y2="{bottom:.1f}"/>' for x in xs]
    y += LINE
    for note in ladder.calls:
        line = f"call {note.call_id}: {note.text}"
        width = max(width, 10 + text_width(line) + 10)
        parts.append(_text(10, y, line, css="call"))
        y += LINE
    height = y + LINE / 2
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' if standalone else ""
    return (f'{head}<svg xmlns="http://www.w3.org/2000/svg" class="ladder" '
            f'width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="monospace" '
            f'font-size="{FONT}">\n'
            f"<style>{STYLE}</style>\n"
            f'<rect width="100%" height="100%" fill="#ffffff"/>\n'
            + "\n".join(parts + shades + lifelines + rows) + "\n</svg>\n")


STYLE = (".life{stroke:#8c959f;stroke-width:1;stroke-dasharray:4 3}"
         ".head{font-weight:bold}.legend,.call,.extra{fill:#24292f}"
         ".time{fill:#57606a}.msg text.label{paint-order:stroke;stroke:#ffffff;"
         "stroke-width:3px}.msg:hover line,.msg:hover path{stroke-width:3}")


def _arrow(arrow: Arrow, xs: list[float], lane: float, y: float, right: float,
           gutter: float) -> str:
    colour = HEX[arrow.colour]
    out = [f'<g class="msg c{arrow.colour}" data-frame="{arrow.frame}" '
           f'data-frames="{" ".join(map(str, arrow.frames))}" data-dialog="{arrow.dialog}">',
           f"<title>{xml_text(arrow.text)}</title>"]
    line_y = y + LINE + 4
    out.append(_text(gutter - CHAR, line_y + 4, arrow.timing, anchor="end", css="time"))
    x1, x2 = xs[arrow.src], xs[arrow.dst]
    if x1 == x2:  # to itself: a loop right of the lifeline
        out.append(f'<path d="M{x1:.1f},{line_y - 4:.1f} h{lane / 4:.1f} v8 h{-lane / 4:.1f}" '
                   f'fill="none" stroke="{colour}"/>')
        left, room = x1 + lane / 4 + 6, lane * 3 / 4 - 12
        out.append(_text(left, line_y + 4, fit(arrow.title, room), css="label", fill=colour))
        extra_x = x1 + 6
    else:
        tip = 8 if x2 > x1 else -8
        out.append(f'<line x1="{x1:.1f}" y1="{line_y:.1f}" x2="{x2 - tip:.1f}" '
                   f'y2="{line_y:.1f}" stroke="{colour}" stroke-width="1.5"/>')
        out.append(f'<path d="M{x2:.1f},{line_y:.1f} l{-tip:.1f},-4 v8 z" fill="{colour}"/>')
        span = abs(x2 - x1)
        out.append(_text((x1 + x2) / 2, line_y - 5, fit(arrow.title, span - 2 * CHAR),
                         anchor="middle", css="label", fill=colour))
        extra_x = min(x1, x2) + 6
    extra_y = line_y + LINE
    for extra in (arrow.sdp, arrow.note):  # below the arrow, in its own row: room to the right
        if extra:
            out.append(_text(extra_x, extra_y, fit(extra, right - extra_x), css="extra"))
            extra_y += LINE
    out.append("</g>")
    return "".join(out)
