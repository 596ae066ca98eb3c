"""``sipstatus scan CAPTURE...``: classify the SIP traffic of packet captures."""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO, Any

from sipstatus._cli.terminal import Progress, stderr_is_terminal
from sipstatus.capture._errors import CaptureError
from sipstatus.capture._scan import Scan
from sipstatus.capture._writers import (
    CallWriter,
    write_csv,
    write_jsonl,
    write_metrics,
    write_summary_text,
)

_DESCRIPTION = """\
Read pcap or pcapng captures (gzip-compressed too) and report their SIP traffic: by default a
summary with the numbers of `tshark -q -z sip,stat` (messages, resent messages, status codes,
request methods, INVITE-to-ACK setup time), each code with its class and advice. --format
jsonl/csv give one record per SIP message; --calls one row per call with its outcome;
--metrics the RFC 6076 metrics.

Exit status: 0 fine; 1 a capture damaged beyond reading on (the summary covers what was read
before), warnings (records skipped as damaged or over the record budget, link types not read:
each on stderr and in the summary) or broken SIP messages; 2 usage."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "scan", help="summarise the SIP traffic of pcap/pcapng captures",
        description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("captures", nargs="+", metavar="CAPTURE",
                        help="pcap or pcapng file, plain or gzip-compressed")
    parser.add_argument("--port", type=int, default=None,
                        help="only traffic from or to this port (default: SIP on any port, "
                             "recognised by its start line)")
    parser.add_argument("--format", choices=("text", "json", "jsonl", "csv"), default=None,
                        help="text (default), json (one object), jsonl or csv (one record a "
                             "line)")
    parser.add_argument("--summary", action="store_true",
                        help="the summary (the default output; with --format json: one JSON "
                             "object)")
    parser.add_argument("--calls", action="store_true",
                        help="one row per call (Call-ID starting with INVITE) and its outcome")
    parser.add_argument("--metrics", action="store_true",
                        help="RFC 6076 metrics (SER, SEER, ISA, SCR, SRD, SDD, SDT, RRD, IRA)")
    parser.add_argument("--validate", action="store_true",
                        help="also parse every message with the full grammar and report its "
                             "errors (slower)")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar (it is shown only when stderr is a terminal)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    fmt = args.format or "text"
    summary = args.summary or fmt == "json" or not (args.calls or args.metrics or
                                                    fmt in ("jsonl", "csv"))
    sections = [name for name, wanted in (("--summary", args.summary), ("--calls", args.calls),
                                          ("--metrics", args.metrics)) if wanted]
    if fmt in ("jsonl", "csv") and len(sections) > 1:
        print(f"sipstatus scan: --format {fmt} writes one kind of record; choose one of "
              f"{', '.join(sections)}", file=sys.stderr)
        return 2
    if fmt == "csv" and args.summary:
        print("sipstatus scan: the summary is text or json, not csv", file=sys.stderr)
        return 2
    out: IO[str] = sys.stdout
    records = fmt in ("jsonl", "csv") and not sections
    progress = Progress(sys.stderr) if stderr_is_terminal() and not args.no_progress else None
    call_writer = CallWriter(fmt, out) if args.calls else None
    scan = Scan(port=args.port, records=records, calls=args.calls or summary,
                metrics=args.metrics, validate=args.validate, on_call=call_writer,
                progress=progress)
    failure: str | None = None
    try:
        stream = scan.run(args.captures)
        if records:
            (write_jsonl if fmt == "jsonl" else write_csv)(stream, out)
        else:
            for _ in stream:
                pass
    except CaptureError as exc:
        failure = str(exc)
    except BrokenPipeError:
        raise  # `sipstatus scan ... | head`: the command line handles it
    except OSError as exc:  # missing or unreadable file
        failure = f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc)
    finally:
        if progress is not None:
            progress.clear()
    result = scan.summary.as_dict(with_calls=True)
    if failure is not None:
        result["capture_error"] = failure
    metrics = scan.metrics.results() if scan.metrics is not None else None
    if fmt == "json":
        document: dict[str, Any] = result if summary else {}
        if metrics is not None:
            document["metrics"] = [metric.as_dict() for metric in metrics]
        text = json.dumps(document, indent=2)
        if call_writer is not None:  # the object was opened by the call list: continue it
            call_writer.close()
            text = ("," + text[1:]) if document else "\n}"
        out.write(text + "\n")
    else:
        if summary and fmt == "jsonl":
            out.write(json.dumps(result) + "\n")
        elif summary:
            if args.calls or args.metrics:
                out.write("\n")
            write_summary_text(result, out)
        if metrics is not None:
            if fmt == "text":
                out.write("\n")
            write_metrics(metrics, fmt, out)
    out.flush()
    for warning in result["warnings"]:
        print(f"sipstatus scan: warning: {warning}", file=sys.stderr)
    if failure is not None:
        print(f"sipstatus scan: {failure}", file=sys.stderr)
        return 1
    if result["warnings"]:
        return 1
    if scan.summary.broken:
        print(f"sipstatus scan: {scan.summary.broken} broken SIP message(s)", file=sys.stderr)
        return 1
    return 0
