"""The ladder as a PlantUML sequence diagram, in the documented syntax only
(https://plantuml.com/sequence-diagram): ``participant "name" as hA``, coloured arrows
``hA -[#rrggbb]> hB : text``, ``note over hA, hB : text``, between ``@startuml`` and ``@enduml``.

Text is escaped for PlantUML's Creole: ``~`` (its escape character) before each markup
pair (``**``, ``//``, ``""``, ``--``, ``__``) and before ``<`` (an HTML-like tag); a tilde and a
backslash on the wire become look-alikes (∼, ⧵) so that they never escape anything, and
double quotes in a participant's name become single ones.
"""

from __future__ import annotations

import re

from sipstatus.ladder._model import Ladder
from sipstatus.ladder._palette import HEX

_MARKUP = re.compile(r'(\*\*|//|""|--|__|<)')


def escape(text: str) -> str:
    text = text.replace("~", "\u223c").replace("\\", "\u29f5")
    text = text.replace("\r", " ").replace("\n", " ")
    return _MARKUP.sub(r"~\1", text)


def render(ladder: Ladder) -> str:
    out = ["@startuml"]
    labels = [f"h{column.label}" for column in ladder.columns]  # as in Mermaid: no keyword
    for label, column in zip(labels, ladder.columns, strict=True):
        name = column.name.replace('"', "'")
        out.append(f'participant "{column.label} {name}" as {label}')
    for arrow in ladder.arrows:
        src, dst = labels[arrow.src], labels[arrow.dst]
        out.append(f"{src} -[{HEX[arrow.colour]}]> {dst} : {escape(arrow.title)} "
                   f"(frame {arrow.frame}, {arrow.timing})")
        for extra in (arrow.sdp, arrow.note):
            if extra:
                over = f"{src}, {dst}" if src != dst else src
                out.append(f"note over {over} : {escape(extra)}")
    if ladder.calls and labels:
        over = f"{labels[0]}, {labels[-1]}" if len(labels) > 1 else labels[0]
        for note in ladder.calls:
            out.append(f"note over {over} : call {escape(note.call_id)}: "
                       f"{escape(note.text)}")
    out.append("@enduml")
    return "\n".join(out) + "\n"
