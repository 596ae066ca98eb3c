"""``sipstatus ladder CAPTURE...`` (call-flow ladders) and ``sipstatus report CAPTURE... -o
FILE`` (the self-contained HTML report of captures)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sipstatus._cli.textio import Utf8Out
from sipstatus.capture._errors import CaptureError
from sipstatus.capture._records import CapturedMessage, read
from sipstatus.ladder._model import BY, build, legs_of
from sipstatus.ladder._render import FORMATS, draw
from sipstatus.ladder._report import report_and_numbers

_LADDER = """\
Draw the call flow of SIP messages in captures: one column per host (address:port, merged
into one element when its Via or Contact shows it; --by address keeps them apart), one arrow
per message with its time since the first message and since the previous one,
retransmissions folded (×n), an SDP summary, and the classifier's notes (post-dial delay,
setup time, outcome, advice). Without --call-id every message of the captures is drawn, each
dialog in its own shade; several --call-id draw those dialogs in one ladder. A --call-id
brings the other legs of its call (tied by X-CID, X-Call-ID, Session-ID or a
P-Charging-Vector icid-value, as `scan --calls` ties them).

Exit status: 0 fine; 1 a capture could not be read to its end (what was read is drawn), had
records skipped as damaged or unreadable, or a --call-id is not in the captures; 2 usage."""

_REPORT = """\
Write one self-contained HTML file (no network access when it is viewed) with the summary,
bar charts of the responses, the RFC 6076 metrics and the calls of the captures, each call's
ladder opened from its row. Its numbers are those of `sipstatus scan --summary`, `--calls`
and `--metrics`.

Exit status: 0 fine; 1 a capture could not be read to its end (the report covers what was
read) or had records skipped as damaged or unreadable (warnings, in the report too); 2
usage."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ladder", help="draw call-flow ladders (text, SVG, HTML, Mermaid, PlantUML)",
        description=_LADDER, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("captures", nargs="+", metavar="CAPTURE",
                        help="pcap or pcapng file, plain or gzip-compressed")
    parser.add_argument("--call-id", action="append", default=[], metavar="ID",
                        help="draw this call, with its other legs (repeat for several in "
                             "one ladder)")
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="text (default), svg, html, mermaid or plantuml")
    parser.add_argument("-o", "--output", metavar="FILE", default=None,
                        help="write to FILE (default: standard output)")
    parser.add_argument("--by", choices=BY, default="element",
                        help="columns per SIP element (default) or per address:port")
    parser.add_argument("--color", "--colour", choices=("auto", "always", "never"),
                        default="auto", dest="colour",
                        help="ANSI colours in text: auto (on a terminal), always, never")
    parser.add_argument("--port", type=int, default=None,
                        help="only traffic from or to this port")
    parser.set_defaults(func=run_ladder)

    parser = subparsers.add_parser(
        "report", help="write the self-contained HTML report of captures",
        description=_REPORT, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("captures", nargs="+", metavar="CAPTURE",
                        help="pcap or pcapng file, plain or gzip-compressed")
    parser.add_argument("-o", "--output", metavar="FILE", required=True,
                        help="the HTML file to write")
    parser.add_argument("--title", default="", help="the report's title")
    parser.add_argument("--port", type=int, default=None,
                        help="only traffic from or to this port")
    parser.set_defaults(func=run_report)


def _read(args: argparse.Namespace, problems: list[str]) -> list[CapturedMessage]:
    # a call's other legs (tied by X-CID, Session-ID ...) are drawn with it
    wanted = legs_of(args.captures, args.call_id, port=args.port) if args.call_id else set()
    messages: list[CapturedMessage] = []
    for path in args.captures:
        try:
            for message in read(path, port=args.port,
                                on_problem=lambda problem: problems.append(str(problem))):
                if not wanted or message.head.call_id in wanted:
                    messages.append(message)
        except CaptureError as exc:
            problems.append(str(exc))
        except OSError as exc:
            problems.append(f"{exc.strerror or exc}: {path}")
    return messages


def _write(text: str, output: str | None) -> None:
    if output is None:
        out = Utf8Out()
        out.write(text)
        out.flush()
    else:
        with open(output, "w", encoding="utf-8", errors="replace", newline="\n") as handle:
            handle.write(text)


def run_ladder(args: argparse.Namespace) -> int:
    problems: list[str] = []
    messages = _read(args, problems)
    missing = sorted(set(args.call_id) - {message.head.call_id for message in messages})
    colour = args.format == "text" and (
        args.colour == "always"
        or (args.colour == "auto" and args.output is None and _stdout_is_terminal()))
    _write(draw(build(messages, by=args.by), args.format, colour=colour), args.output)
    for problem in problems:
        print(f"sipstatus ladder: {problem}", file=sys.stderr)
    for call_id in missing:
        print(f"sipstatus ladder: no message of Call-ID {call_id!r} in the captures",
              file=sys.stderr)
    return 1 if problems or missing else 0


def run_report(args: argparse.Namespace) -> int:
    try:
        text, numbers = report_and_numbers(args.captures, port=args.port, title=args.title)
    except OSError as exc:  # a missing or unreadable capture
        print(f"sipstatus report: {exc.strerror or exc}: {exc.filename}", file=sys.stderr)
        return 1
    _write(text, args.output)
    summary = numbers["summary"]
    for warning in summary["warnings"]:
        print(f"sipstatus report: warning: {warning}", file=sys.stderr)
    if summary["capture_error"]:
        print(f"sipstatus report: {summary['capture_error']}", file=sys.stderr)
    return 1 if summary["capture_error"] or summary["warnings"] else 0


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False
