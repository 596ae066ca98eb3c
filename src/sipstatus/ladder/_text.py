"""The ladder as text: a legend, one lifeline per column, one arrow line per message (the
start line on the arrow, its frame number at the right), the SDP summary and the classifier's
note under it, and the calls' notes at the end. With ``colour``, ANSI colours by class."""

from __future__ import annotations

from sipstatus.ladder._model import Arrow, Ladder
from sipstatus.ladder._palette import ANSI

#: The widths of a lane (the room between two lifelines), in characters.
MIN_LANE, MAX_LANE = 16, 34
GUTTER = 17  # at least: "1234.567 +12.345 "


def lane_width(ladder: Ladder) -> int:
    longest = max((len(arrow.title) for arrow in ladder.arrows), default=0)
    names = max((len(column.name) for column in ladder.columns), default=0)
    return max(MIN_LANE, min(MAX_LANE, max(longest, names) + 6))


def render(ladder: Ladder, *, colour: bool = False) -> str:
    lane = lane_width(ladder)
    times = [f"{arrow.since_first:8.3f} +{arrow.delta:.3f}" for arrow in ladder.arrows]
    gutter = max([GUTTER, *(len(t) + 1 for t in times)])
    xs = [gutter + lane // 2 + i * lane for i in range(len(ladder.columns))]
    width = (xs[-1] + lane // 2) if xs else gutter
    out: list[str] = []
    for column in ladder.columns:
        out.append(f"{column.label} = {', '.join(column.addresses)}")
    out.append("")
    out.append(_centred(xs, width, [c.label for c in ladder.columns]))
    out.append(_centred(xs, width, [_fit(c.name, lane - 2) for c in ladder.columns]))
    out.append(_lifelines(xs, width))
    several = len(ladder.dialogs) > 1
    for arrow, time in zip(ladder.arrows, times, strict=True):
        line = _arrow_line(arrow, xs, width)
        tail = f"  #{arrow.frame}" + (f" d{arrow.dialog + 1}" if several else "")
        text = time.ljust(gutter) + line[gutter:] + tail
        if colour:
            left = min(xs[arrow.src], xs[arrow.dst])
            right = max(xs[arrow.src], xs[arrow.dst]) + 1
            text = (text[:left] + f"\033[{ANSI[arrow.colour]}m" + text[left:right] + "\033[0m"
                    + text[right:])
        out.append(text.rstrip())
        left = min(xs[arrow.src], xs[arrow.dst]) + 2
        for extra in (arrow.sdp, arrow.note):
            if extra:
                base = _lifelines(xs, width)
                out.append((base[:left] + extra + base[left + len(extra):]).rstrip())
    out.append(_lifelines(xs, width).rstrip())
    for note in ladder.calls:
        out.append(f"call {note.call_id}: {note.text}")
    return "\n".join(out) + "\n"


def _fit(text: str, room: int) -> str:
    return text if len(text) <= room else text[: max(room - 1, 0)] + "…"


def _centred(xs: list[int], width: int, words: list[str]) -> str:
    row = [" "] * (width + 1)
    for x, word in zip(xs, words, strict=True):
        start = max(0, x - len(word) // 2)
        row[start:start + len(word)] = word
    return "".join(row).rstrip()


def _lifelines(xs: list[int], width: int) -> str:
    row = [" "] * (width + 1)
    for x in xs:
        row[x] = "│"
    return "".join(row)


def _arrow_line(arrow: Arrow, xs: list[int], width: int) -> str:
    row = list(_lifelines(xs, width))
    title = arrow.title
    if arrow.src == arrow.dst:  # a message from an element to itself
        x = xs[arrow.src]
        loop = f"↺ {title}"
        row[x + 1:x + 1 + len(loop)] = loop
        return "".join(row)
    left, right = sorted((xs[arrow.src], xs[arrow.dst]))
    span = right - left - 1
    label = f" {_fit(title, span - 6)} "
    dashes = span - len(label)
    body = "─" * (dashes // 2) + label + "─" * (dashes - dashes // 2)
    body = body[:-1] + "▶" if arrow.src < arrow.dst else "◀" + body[1:]
    row[left + 1:right] = body
    return "".join(row)
