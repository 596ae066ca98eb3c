"""Each format on its own: valid XML (xmllint), labels that never overlap up to 12 columns,
the palette in every format that has colour, escaping in Mermaid and PlantUML, ANSI colour
only when asked, and the command line's options."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from ladder_support import (
    BASES,
    CAPTURES,
    FIXTURES,
    cli,
    messages,
    request,
    response,
    synthetic,
    xmllint,
)

from sipstatus._cli import ladder as ladder_cli
from sipstatus.ladder import FORMATS, build, draw
from sipstatus.ladder._mermaid import escape as mermaid_escape
from sipstatus.ladder._palette import ANSI, HEX, colour_key, dialog_shade
from sipstatus.ladder._plantuml import escape as plantuml_escape
from sipstatus.ladder._sdp import sdp_summary
from sipstatus.ladder._svg import CHAR, FONT, fit, text_width


def wide_ladder(columns: int = 12) -> list:
    """A call across ``columns`` hosts: each hop forwards to the next, with long phrases,
    SDP and notes, and a message of a host to itself."""
    msgs = []
    frame = 0
    reason = "Service Unavailable because every trunk of this carrier is busy right now"
    for hop in range(columns - 1):
        frame += 1
        msgs.append(synthetic(request("INVITE", "w", via=f"10.0.0.{hop + 1}:5060",
                                      body="v=0\r\nc=IN IP4 10.9.9.9\r\nm=audio 4000 RTP/AVP"
                                           " 0 8 9 18 101\r\na=rtpmap:101 telephone-event/8000"
                                           "\r\n", extra="Content-Type: application/sdp\r\n"),
                              frame, 1000.0 + frame, f"10.0.0.{hop + 1}", 5060,
                              f"10.0.0.{hop + 2}", 5060))
    for hop in reversed(range(columns - 1)):
        frame += 1
        msgs.append(synthetic(response(503, reason, "INVITE", "w", via=f"10.0.0.{hop + 1}:5060",
                                       extra="Retry-After: 120\r\n"),
                              frame, 1000.0 + frame, f"10.0.0.{hop + 2}", 5060,
                              f"10.0.0.{hop + 1}", 5060))
    frame += 1
    msgs.append(synthetic(request("OPTIONS", "self"), frame, 1100.0, "10.0.0.1", 5060,
                          "10.0.0.1", 5060))
    msgs.append(synthetic(request("MESSAGE", "漢字漢字"), frame + 1, 1101.0, "10.0.0.12", 5060,
                          "10.0.0.1", 5060))
    return msgs


def boxes(svg: str) -> list[tuple[float, float, float, float, str]]:
    """The box of every text element, from its position, anchor and length at ``CHAR`` px
    a character (the same conservative measure the SVG writer uses)."""
    found = []
    for x, y, anchor, content in re.findall(
            r'<text x="([\d.]+)" y="([\d.]+)" text-anchor="(\w+)"[^>]*>([^<]*)</text>', svg):
        content = (content.replace("&lt;", "<").replace("&gt;", ">")
                   .replace("&amp;", "&").replace("&quot;", '"'))
        width = text_width(content)
        left = float(x) - (width / 2 if anchor == "middle" else width if anchor == "end" else 0)
        found.append((left, float(y) - FONT, left + width, float(y) + 3, content))
    return found


@pytest.mark.parametrize("columns", [2, 5, 12])
def test_svg_labels_never_overlap(columns: int) -> None:
    svg = draw(build(wide_ladder(columns)), "svg")
    width = float(re.search(r'<svg [^>]*width="([\d.]+)"', svg).group(1))  # type: ignore[union-attr]
    found = boxes(svg)
    assert len(found) > 4 * columns
    for i, (l1, t1, r1, b1, text1) in enumerate(found):
        assert l1 >= 0 and r1 <= width, text1
        for l2, t2, r2, b2, text2 in found[i + 1:]:
            assert r1 <= l2 or r2 <= l1 or b1 <= t2 or b2 <= t1, (text1, text2)


def test_fit_and_text_width() -> None:
    assert text_width("abc") == 3 * CHAR
    assert text_width("漢字") == 4 * CHAR
    assert fit("abcdef", 100 * CHAR) == "abcdef"
    assert fit("abcdef", 4 * CHAR) == "abc…"
    assert fit("abcdef", 0) == ""


@pytest.mark.parametrize("name", BASES)
def test_svg_is_valid_xml(name: str) -> None:
    result = xmllint(draw(build(messages(name)), "svg"))
    assert result.returncode == 0, result.stderr


def test_the_wide_ladder_is_valid_xml_with_every_character_escaped() -> None:
    msgs = wide_ladder()
    msgs.append(synthetic(b"SIP/2.0 404 <Not> & \"Found\" \x01\r\nCall-ID: x&y<z>\r\n"
                          b"CSeq: 1 INVITE\r\n\r\n", 99, 1200.0))
    svg = draw(build(msgs), "svg")
    assert "&lt;Not&gt; &amp;" in svg
    result = xmllint(svg)
    assert result.returncode == 0, result.stderr
    assert xmllint(draw(build(msgs), "html").split("<div class=\"picture\">")[1]
                   .split("</div>")[0]).returncode == 0


def test_the_palette_follows_the_code_table() -> None:
    assert [colour_key(c) for c in (0, 100, 183, 200, 302, 404, 503, 603, 700, 99)] == [
        "request", "1xx", "1xx", "2xx", "3xx", "4xx", "5xx", "6xx", "request", "request"]
    assert len(set(HEX.values())) == len(HEX) and set(ANSI) == set(HEX)
    assert dialog_shade(0) != dialog_shade(1)


def test_every_format_with_colour_uses_the_palette() -> None:
    msgs = messages("sipp-kamailio-udp-calls.pcapng")
    ladder = build(msgs)
    keys = {arrow.colour for arrow in ladder.arrows}
    assert keys == set(HEX)  # this capture has every class
    svg, plantuml = draw(ladder, "svg"), draw(ladder, "plantuml")
    for arrow in ladder.arrows:
        group = re.search(rf'<g class="msg c{arrow.colour}" data-frame="{arrow.frame}".*?</g>',
                          svg, re.S)
        assert group is not None and f'stroke="{HEX[arrow.colour]}"' in group.group(0)
    for key in keys:
        assert f"-[{HEX[key]}]>" in plantuml
    text = draw(ladder, "text", colour=True)
    for key in keys:
        assert f"\033[{ANSI[key]}m" in text
    assert "\033[" not in draw(ladder, "text")
    # several dialogs: each in its shade
    assert dialog_shade(3) in svg


def test_mermaid_and_plantuml_use_only_their_documented_statements() -> None:
    odd = synthetic(request("INFO", "a;b#c<d>", extra='Reason: SIP;text="x;y # **z** //w"\r\n'),
                    200, 1300.0)
    ladder = build([*wide_ladder(), odd])
    mermaid = draw(ladder, "mermaid").splitlines()
    assert mermaid[0] == "sequenceDiagram"
    statement = re.compile(r"    (participant h[A-Z]+ as [^;#\n]+|h[A-Z]+->>h[A-Z]+: [^;#\n]+"
                           r"|Note over h[A-Z]+(,h[A-Z]+)?: [^;#\n]+)")
    for line in mermaid[1:]:
        # outside entity codes, no ";" (a statement's end) nor "#"
        assert statement.fullmatch(re.sub(r"#(\d+|lt|gt);", "", line)), line
    plantuml = draw(ladder, "plantuml").splitlines()
    assert (plantuml[0], plantuml[-1]) == ("@startuml", "@enduml")
    statement = re.compile(r'participant "[^"]+" as h[A-Z]+|h[A-Z]+ -\[#[0-9a-f]{6}\]> h[A-Z]+ '
                           r": .+|note over h[A-Z]+(, h[A-Z]+)? : .+")
    for line in plantuml[1:-1]:
        assert statement.fullmatch(line), line
    assert mermaid_escape("a;b#c<d>\r\n") == "a#59;b#35;c#lt;d#gt;  "
    assert plantuml_escape("**b** //i// --s-- __u__ <b> ~ \\n") == (
        "~**b~** ~//i~// ~--s~-- ~__u~__ ~<b> \u223c \u29f5n")


def test_sdp_summaries() -> None:
    assert sdp_summary(b"not sdp") == ""
    assert sdp_summary(b"v=0\r\nm=audio 5004 RTP/AVP 0 18 99\r\na=recvonly\r\n") == (
        "SDP audio 5004 PCMU,G729,99 recvonly")
    assert sdp_summary(b"v=0\nc=IN IP6 ::1\na=inactive\nm=audio 1 RTP/AVP\n"
                       b"m=video 2 RTP/AVP 97\na=rtpmap:97 H264/90000\na=sendonly\n") == (
        "SDP ::1 audio 1 - inactive video 2 H264 sendonly")
    assert sdp_summary(b"v=0\r\nc=\r\nm=\r\n") == "SDP - sendrecv"


def test_text_ladder_layout() -> None:
    msgs = wide_ladder(3)
    text = draw(build(msgs), "text")
    lines = text.splitlines()
    assert lines[0] == "A = 10.0.0.1:5060"
    assert any("↺ OPTIONS" in line for line in lines)
    assert any("◀" in line and "503 Service Unavailable" in line and "…" in line
               for line in lines)
    assert lines[-1].startswith("call w: outcome: failed, final 503")
    assert re.search(r"#1 d1$", next(line for line in lines if "▶" in line))


def test_the_command_line(tmp_path: Path) -> None:
    capture = str(CAPTURES / "sipp-kamailio-udp-calls.pcapng")
    status, text = cli("ladder", capture, "--call-id", "1-21361@127.0.0.1")
    assert status == 0 and "CANCEL" in text and "\033[" not in text
    status, text = cli("ladder", capture, "--call-id", "1-21361@127.0.0.1", "--color",
                       "always")
    assert status == 0 and "\033[" in text
    status, text = cli("ladder", capture, "--call-id", "nope", "--format", "mermaid")
    assert status == 1 and text == "sequenceDiagram\n"
    status, text = cli("ladder", capture, "--call-id", "1-21361@127.0.0.1", "--by", "address")
    assert status == 0
    status, text = cli("ladder", str(tmp_path / "missing.pcap"))
    assert status == 1
    damaged = tmp_path / "damaged.pcapng"
    damaged.write_bytes((CAPTURES / "sipp-kamailio-udp-calls.pcapng").read_bytes()[:20000])
    status, text = cli("ladder", str(damaged), "--format", "svg")
    assert status == 1 and "<svg" in text
    with pytest.raises(SystemExit):
        cli("ladder", capture, "--format", "png")


def test_colour_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ladder_cli, "_stdout_is_terminal", lambda: True)
    capture = str(CAPTURES / "sipp-kamailio-fragments.pcapng")
    assert "\033[" in cli("ladder", capture)[1]
    assert "\033[" not in cli("ladder", capture, "--color", "never")[1]
    monkeypatch.undo()
    monkeypatch.setattr(sys, "stdout", object())
    assert ladder_cli._stdout_is_terminal() is False


def test_every_fixture_is_drawn_in_every_format() -> None:
    for name in FIXTURES:
        ladder = build(messages(name))
        for fmt in FORMATS:
            assert draw(ladder, fmt).endswith("\n")


def test_long_times_widen_the_gutter() -> None:
    msgs = [synthetic(request("INVITE"), 1, 0.0),
            synthetic(response(200, "OK"), 2, 123456.5, "10.0.0.2", 5060, "10.0.0.1", 5060)]
    ladder = build(msgs)
    text = draw(ladder, "text")
    assert "123456.500 +123456.500" in text
    svg = draw(ladder, "svg")
    found = boxes(svg)
    assert all(left >= 0 for left, *_ in found)
    assert ">123456.500 +123456.500<" in svg
