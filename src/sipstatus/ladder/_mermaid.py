"""The ladder as a Mermaid sequence diagram, in the documented syntax only
(https://mermaid.js.org/syntax/sequenceDiagram.html): ``participant ID as Alias``, messages
``hA->>hB: text``, ``Note over hA,hB: text``. Mermaid has no colour per message, so none is drawn.

Participants are named ``h`` and the column label (``hA``, ``hB`` ...): Mermaid's lexer
matches keywords (``end``, ``box``, ``and``, ``as`` ...) as prefixes, case-insensitively, and
none starts with an h. Their alias, and every text, is escaped with Mermaid's entity codes
(``#59;`` for ``;``, which would end a statement, ``#35;`` for ``#``, which would start a
comment, ``#lt;``/``#gt;`` for angle brackets), and line breaks become spaces.
"""

from __future__ import annotations

from sipstatus.ladder._model import Ladder

_CODES = {"#": "#35;", ";": "#59;", "<": "#lt;", ">": "#gt;", "\r": " ", "\n": " "}


def escape(text: str) -> str:
    return "".join(_CODES.get(ch, ch) for ch in text)


def render(ladder: Ladder) -> str:
    out = ["sequenceDiagram"]
    labels = [f"h{column.label}" for column in ladder.columns]
    for label, column in zip(labels, ladder.columns, strict=True):
        out.append(f"    participant {label} as {column.label} {escape(column.name)}")
    span = f"{labels[0]},{labels[-1]}" if len(labels) > 1 else "".join(labels)
    for arrow in ladder.arrows:
        src, dst = labels[arrow.src], labels[arrow.dst]
        out.append(f"    {src}->>{dst}: {escape(arrow.title)} (frame {arrow.frame}, "
                   f"{arrow.timing})")
        for extra in (arrow.sdp, arrow.note):
            if extra:
                out.append(f"    Note over {src},{dst}: {escape(extra)}" if src != dst else
                           f"    Note over {src}: {escape(extra)}")
    for note in ladder.calls:
        out.append(f"    Note over {span}: call {escape(note.call_id)}: {escape(note.text)}")
    return "\n".join(out) + "\n"
