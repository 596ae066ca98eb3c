"""The colours of a ladder, in one place: one per response class (derived from the code
table's class of each code) plus requests, and a light shade per dialog.

Every format that has colour reads them here: SVG and HTML (``HEX``), PlantUML (``HEX``),
text on a terminal (``ANSI``). Mermaid's sequence diagrams have no per-message colour.
"""

from __future__ import annotations

from sipstatus._codes import Category, lookup

#: The colour key of a request.
REQUEST = "request"

#: Colour key -> CSS colour (also used by PlantUML's ``-[#rrggbb]>`` arrows).
HEX = {
    REQUEST: "#000000",
    "1xx": "#6e7781",  # grey
    "2xx": "#1a7f37",  # green
    "3xx": "#0550ae",  # blue
    "4xx": "#c85a00",  # orange
    "5xx": "#cf222e",  # red
    "6xx": "#8250df",  # purple
}

#: Colour key -> ANSI SGR parameters (8/256-colour terminals).
ANSI = {
    REQUEST: "1",  # bold, in the terminal's own foreground
    "1xx": "90",
    "2xx": "32",
    "3xx": "34",
    "4xx": "38;5;208",
    "5xx": "31",
    "6xx": "35",
}


def colour_key(code: int) -> str:
    """The colour key of a status code (0: a request): its class as the code table gives it,
    ``"request"`` for a code outside 100-699 (a response no class describes)."""
    if not code:
        return REQUEST
    try:
        category = lookup(code).category
    except ValueError:
        return REQUEST
    return f"{category.value}xx"


def dialog_shade(index: int) -> str:
    """A light background for the ``index``-th dialog of a ladder (hues spread by the golden
    angle, so neighbours differ)."""
    return f"hsl({index * 137 % 360},70%,95%)"


assert set(HEX) == set(ANSI) == {REQUEST} | {f"{c.value}xx" for c in Category}
