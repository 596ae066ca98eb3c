"""``sipstatus scan CAPTURE...``: classify the SIP traffic of packet captures."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import IO, Any

from sipstatus._cli import hepio
from sipstatus._cli.terminal import Progress, stderr_is_terminal
from sipstatus.capture._budget import DEFAULT_MAX_MEMORY, MIN_MAX_MEMORY, parse_size
from sipstatus.capture._errors import CaptureError
from sipstatus.capture._scan import Scan
from sipstatus.capture._writers import (
    CallWriter,
    budget_size,
    write_csv,
    write_jsonl,
    write_metrics,
    write_summary_text,
)
from sipstatus.lake._build import LakeError, build, expand_inputs
from sipstatus.lake._jobs import WorkerError

_DESCRIPTION = """\
Read pcap or pcapng captures (gzip-compressed too) and report their SIP traffic: by default a
summary with the numbers of `tshark -q -z sip,stat` (messages, resent messages, status codes,
request methods, INVITE-to-ACK setup time), each code with its class and advice. --format
jsonl/csv give one record per SIP message; --calls one row per call with its outcome;
--metrics the RFC 6076 metrics. HEP v3 (docs/hep.md): a CAPTURE may be a collector,
hep://HOST:PORT or hep+tcp://HOST:PORT; --hep reads captures holding HEP packets; --hep-out
sends every SIP message to a collector.

Memory: --max-memory (default 64M) bounds what the scan holds (calls, transactions, resend
states, fragments, TCP data); what is dropped to hold it is counted under "evicted" in the
summary (and noted on stderr), and a record it affected names it in its "evicted" field.

Exit status: 0 fine; 1 a capture damaged beyond reading on (the summary covers what was read
before), warnings (records skipped as damaged or over the record budget, link types not read:
each on stderr and in the summary) or broken SIP messages; 2 usage."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "scan", help="summarise the SIP traffic of pcap/pcapng captures",
        description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("captures", nargs="+", metavar="CAPTURE",
                        help="pcap or pcapng file, plain or gzip-compressed; or a HEP "
                             "listener, hep://HOST:PORT or hep+tcp://HOST:PORT")
    parser.add_argument("--port", type=int, default=None,
                        help="only traffic from or to this port (default: SIP on any port, "
                             "recognised by its start line)")
    parser.add_argument("--format", choices=("text", "json", "jsonl", "csv", "parquet"),
                        default=None,
                        help="text (default), json (one object), jsonl or csv (one record a "
                             "line), parquet (the SIP lake in --out: docs/lake.md)")
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
    parser.add_argument("--max-memory", type=_size, default=DEFAULT_MAX_MEMORY, metavar="SIZE",
                        help="memory budget of the scan: bytes, or with K, M, G (powers of "
                             "1024); default 64M, at least 4M")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar (it is shown only when stderr is a terminal)")
    lake = parser.add_argument_group("the SIP lake (--format parquet)")
    lake.add_argument("--out", metavar="DIR", default=None,
                      help="the lake's directory: DIR/messages/ and DIR/calls/ (empty or new); "
                           "a path or an fsspec URL such as s3://bucket/lake")
    lake.add_argument("--append", action="store_true",
                      help="add to the lake already in --out")
    lake.add_argument("--raw", action="store_true",
                      help="keep each message's bytes (the raw column)")
    lake.add_argument("--jobs", type=_jobs, default=None, metavar="N",
                      help="worker processes mapping the captures, one file or one piece of "
                           "a large file each (default: all cores; 1: this process only); "
                           "the output is the same")
    lake.add_argument("--dask", metavar="ADDRESS", default=None,
                      help="map the captures as tasks on the Dask cluster whose scheduler is "
                           "at ADDRESS (tcp://host:8786), or on a local cluster of --jobs "
                           "worker processes with 'local' (needs sipstatus[dask]); the "
                           "workers read the captures under the paths given; the output is "
                           "the same")
    hepio.add_options(parser)
    parser.set_defaults(func=run)


def _size(text: str) -> int:
    try:
        size = parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if size < MIN_MAX_MEMORY:
        raise argparse.ArgumentTypeError(f"{text} is below the minimum of "
                                         f"{budget_size(MIN_MAX_MEMORY)}")
    return size


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes (1 or more)")
    return jobs


def run(args: argparse.Namespace) -> int:
    fmt = args.format or "text"
    problem = hepio.usage_error(args)
    if problem is not None:
        print(f"sipstatus scan: {problem}", file=sys.stderr)
        return 2
    hep = hepio.HepRun(args) if hepio.wanted(args) else None
    if (fmt == "parquet" or args.out is not None or args.append or args.raw
            or args.jobs is not None or args.dask is not None):
        return _lake(args)
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
    progress = (Progress(sys.stderr, args.captures)
                if stderr_is_terminal() and not args.no_progress else None)
    call_writer = CallWriter(fmt, out) if args.calls else None
    scan = Scan(port=args.port, records=records, calls=args.calls or summary,
                metrics=args.metrics, validate=args.validate, on_call=call_writer,
                progress=progress, max_memory=args.max_memory)
    failure: str | None = None
    try:
        stream = hep.run(scan) if hep is not None else scan.run(args.captures)
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
    if failure is not None and not result["capture_errors"]:  # not a capture's own damage
        result["capture_error"] = failure
        result["capture_errors"] = [failure]
    metrics = scan.metrics.results() if scan.metrics is not None else None
    if hep is not None:
        result["hep"] = hep.report()
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
    for line in hep.notes() if hep is not None else ():
        print(f"sipstatus scan: {line}", file=sys.stderr)
    dropped = [f"{kind} {count}" for kind, count in result["evicted"].items()
               if count and kind not in ("records", "interfaces")]
    if dropped:
        print(f"sipstatus scan: note: dropped to hold the memory budget of "
              f"{budget_size(args.max_memory)} (--max-memory): {', '.join(dropped)}",
              file=sys.stderr)
    for warning in result["warnings"]:
        print(f"sipstatus scan: warning: {warning}", file=sys.stderr)
    for error in result["capture_errors"]:
        print(f"sipstatus scan: {error}", file=sys.stderr)
    if result["capture_errors"]:
        return 1
    if result["warnings"]:
        return 1
    if scan.summary.broken:
        print(f"sipstatus scan: {scan.summary.broken} broken SIP message(s)", file=sys.stderr)
        return 1
    return 0


def _lake(args: argparse.Namespace) -> int:
    """``--format parquet --out DIR``: the captures into the SIP lake (sipstatus.lake)."""
    if args.format != "parquet" or args.out is None:
        print("sipstatus scan: --out, --append, --raw, --dask and --jobs go with --format "
              "parquet, and --format parquet needs --out DIR", file=sys.stderr)
        return 2
    others = [flag for flag, wanted in (("--summary", args.summary), ("--calls", args.calls),
                                        ("--metrics", args.metrics),
                                        ("--validate", args.validate)) if wanted]
    if others:
        print(f"sipstatus scan: --format parquet writes the lake's tables (messages and "
              f"calls); {', '.join(others)} do not apply", file=sys.stderr)
        return 2
    progress = None
    if stderr_is_terminal() and not args.no_progress:
        try:
            progress = Progress(sys.stderr, expand_inputs(args.captures))
        except OSError:
            progress = Progress(sys.stderr)  # build() says what is missing
    jobs = args.jobs
    if jobs is None and args.dask is None:
        jobs = os.cpu_count() or 1  # with --dask: a local cluster of all cores
    try:
        lake = build(args.captures, args.out, append=args.append, raw=args.raw,
                     port=args.port, progress=progress, jobs=jobs, dask=args.dask)
    except (FileExistsError, NotADirectoryError, LakeError) as exc:  # the --out given
        print(f"sipstatus scan: {exc}", file=sys.stderr)
        return 2
    except (ImportError, OSError) as exc:  # pyarrow missing; a capture missing or unreadable
        print(f"sipstatus scan: {exc}", file=sys.stderr)
        return 1
    except WorkerError as exc:  # a worker raised or died: nothing was published
        print(f"sipstatus scan: {exc}", file=sys.stderr)
        return 1
    finally:
        if progress is not None:
            progress.clear()
    summary = lake.summary
    print(f"{lake.messages} messages and {lake.calls} calls from {len(summary['captures'])} "
          f"capture(s) written to {lake.out} ({len(lake.parts)} Parquet files)")
    for warning in summary["warnings"]:
        print(f"sipstatus scan: warning: {warning}", file=sys.stderr)
    for error in summary["capture_errors"]:
        print(f"sipstatus scan: {error}", file=sys.stderr)
    if summary["broken"]:
        print(f"sipstatus scan: {summary['broken']} broken SIP message(s)", file=sys.stderr)
    return 1 if lake.capture_error or summary["warnings"] or summary["broken"] else 0
