"""The ladder as one self-contained HTML page: the SVG ladder inline, and beside it the full
text of the message under the pointer (or the last one clicked). Inline CSS and script only:
nothing is fetched when the page is viewed."""

from __future__ import annotations

from html import escape

from sipstatus.ladder._model import Ladder
from sipstatus.ladder._svg import render as render_svg

STYLE = """
body{font-family:system-ui,sans-serif;margin:1em;color:#24292f;background:#fff}
.ladder-view{display:flex;gap:1em;align-items:flex-start}
.ladder-view .picture{overflow:auto;max-width:70vw;border:1px solid #d0d7de}
.ladder-view pre.message{flex:1;min-width:20em;max-height:90vh;overflow:auto;margin:0;
 padding:.5em;background:#f6f8fa;border:1px solid #d0d7de;font-size:12px;white-space:pre-wrap}
.ladder .msg{cursor:pointer}
"""

#: Shows the message of the arrow under the pointer in the panel next to its ladder (the
#: same script serves the report, where there are many ladders on one page).
SCRIPT = """
(function(){
  function show(event){
    var arrow = event.target.closest && event.target.closest('g.msg');
    if (!arrow) return;
    var view = arrow.closest('.ladder-view');
    var panel = view && view.querySelector('pre.message');
    var title = arrow.querySelector('title');
    if (panel && title) panel.textContent = 'frame ' + arrow.getAttribute('data-frames') +
        '\\n\\n' + title.textContent;
  }
  document.addEventListener('mouseover', show);
  document.addEventListener('click', show);
})();
"""


def view(ladder: Ladder) -> str:
    """The ladder and its message panel, as an HTML fragment."""
    return ('<div class="ladder-view"><div class="picture">'
            + render_svg(ladder, standalone=False)
            + '</div><pre class="message">Point at an arrow to read its message.</pre>'
              "</div>")


def render(ladder: Ladder, *, title: str = "SIP ladder") -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>\n"
            f"<h1>{escape(title)}</h1>\n{view(ladder)}\n<script>{SCRIPT}</script>\n"
            "</body></html>\n")
