"""The HTML ladder and the report in a real browser (headless Chromium, which .ci/run
installs): they load without a console message of any kind, every arrow is in the page,
labels do not overlap as Chromium lays them out, the report's numbers are the scan's and its
table sorts, filters and opens ladders, and a screenshot is not blank."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ladder_support import CAPTURES, FIXTURES, chromium, colours, console, messages, need
from test_ladder_formats import wide_ladder
from test_ladder_report import check_numbers

from sipstatus.ladder import build, draw, report

pytestmark = pytest.mark.slow

#: Appended to a ladder page: measures every text of the SVG as laid out and writes the
#: overlapping pairs into an attribute of the root element.
MEASURE = """<script>(function(){
  var boxes = [];
  document.querySelectorAll('svg text').forEach(function(t){
    var r = t.getBoundingClientRect();
    boxes.push([r.left, r.top, r.right, r.bottom, t.textContent]);
  });
  var hits = [];
  for (var i = 0; i < boxes.length; i++) for (var j = i + 1; j < boxes.length; j++) {
    var a = boxes[i], b = boxes[j];
    if (a[0] < b[2] - 0.5 && b[0] < a[2] - 0.5 && a[1] < b[3] - 0.5 && b[1] < a[3] - 0.5)
      hits.push(a[4] + ' / ' + b[4]);
  }
  var root = document.documentElement;
  root.setAttribute('data-texts', boxes.length);
  root.setAttribute('data-overlaps', hits.join(' | '));
})();</script>"""

#: Appended to a report: opens the first call, sorts the calls by their number of messages
#: (ascending, then descending), filters them, and notes what it saw.
INTERACT = """<script>(function(){
  var root = document.documentElement;
  var first = document.querySelector('#calls tr.call');
  first.click();
  root.setAttribute('data-opened', String(!first.nextElementSibling.hidden));
  var heads = document.querySelectorAll('#calls th.sort');
  var messages = heads[9];
  messages.click();
  root.setAttribute('data-top', document.querySelector('#calls tr.call').cells[9].textContent);
  messages.click();
  root.setAttribute('data-top-then',
      document.querySelector('#calls tr.call').cells[9].textContent);
  var filter = document.getElementById('filter');
  filter.value = 'no answer';
  filter.dispatchEvent(new Event('input'));
  root.setAttribute('data-shown',
      document.querySelectorAll('#calls tr.call:not([hidden])').length);
})();</script>"""


def _attribute(dom: str, name: str) -> str:
    found = re.search(rf'<html[^>]* {name}="([^"]*)"', dom)
    assert found is not None, name
    return found.group(1)


def test_the_console_check_sees_errors(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><script>nosuch();</script></body></html>")
    _, stderr = chromium(page)
    assert any("nosuch" in line for line in console(stderr))


@pytest.mark.parametrize("name", ["sipp-kamailio-udp-calls.pcapng", "sipp-kamailio-tcp.pcap"])
def test_the_html_ladder_loads_with_every_arrow(name: str, tmp_path: Path) -> None:
    ladder = build(messages(name))
    page = tmp_path / "ladder.html"
    page.write_text(draw(ladder, "html").replace("</body>", MEASURE + "</body>"),
                    encoding="utf-8")
    dom, stderr = chromium(page)
    assert console(stderr) == []
    frames = [int(f) for f in re.findall(r'<g class="msg [^"]*" data-frame="(\d+)"', dom)]
    assert frames == [arrow.frame for arrow in ladder.arrows]
    assert _attribute(dom, "data-overlaps") == ""
    assert int(_attribute(dom, "data-texts")) > len(ladder.arrows)


def test_twelve_columns_do_not_overlap_in_the_browser(tmp_path: Path) -> None:
    ladder = build(wide_ladder(12))
    assert len(ladder.columns) == 12
    page = tmp_path / "wide.html"
    page.write_text(draw(ladder, "html").replace("</body>", MEASURE + "</body>"),
                    encoding="utf-8")
    dom, stderr = chromium(page, size="4000,1200")
    assert console(stderr) == []
    assert _attribute(dom, "data-overlaps") == ""


def test_the_svg_alone_loads(tmp_path: Path) -> None:
    page = tmp_path / "ladder.svg"
    ladder = build(messages("sipp-kamailio-fragments.pcapng"))
    page.write_text(draw(ladder, "svg"), encoding="utf-8")
    dom, stderr = chromium(page)
    assert console(stderr) == []
    assert len(re.findall(r'data-frame="', dom)) == len(ladder.arrows)


@pytest.mark.parametrize("name", FIXTURES)
def test_each_report_loads_with_the_scans_numbers(name: str, tmp_path: Path) -> None:
    capture = str(CAPTURES / name)
    page = tmp_path / "report.html"
    page.write_text(report(capture), encoding="utf-8")
    dom, stderr = chromium(page)
    assert console(stderr) == []
    check_numbers(dom, capture)


def test_the_report_sorts_filters_and_opens_ladders(tmp_path: Path) -> None:
    capture = str(CAPTURES / "sipp-kamailio-udp-calls.pcapng")
    page = tmp_path / "report.html"
    page.write_text(report(capture).replace("</body>", INTERACT + "</body>"),
                    encoding="utf-8")
    dom, stderr = chromium(page)
    assert console(stderr) == []
    assert _attribute(dom, "data-opened") == "true"
    assert _attribute(dom, "data-top") == "3"  # ascending: the fewest messages first
    assert _attribute(dom, "data-top-then") == "17"
    assert _attribute(dom, "data-shown") == "2"  # the calls with no answer


@pytest.mark.parametrize("kind", ["ladder", "report"])
def test_a_screenshot_is_not_blank(kind: str, tmp_path: Path) -> None:
    need("chromium")
    capture = CAPTURES / "sipp-kamailio-udp-calls.pcapng"
    page = tmp_path / "page.html"
    page.write_text(report(capture) if kind == "report" else
                    draw(build(messages(capture.name)), "html"), encoding="utf-8")
    shot = tmp_path / "shot.png"
    chromium(page, screenshot=shot, size="640,480")
    count, inked = colours(shot)
    assert count >= 8 and inked > 0.02, (count, inked)
