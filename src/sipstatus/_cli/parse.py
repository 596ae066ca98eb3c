"""``sipstatus parse FILE|-``: each message of the input as one JSON object per line."""

from __future__ import annotations

import argparse
import base64
import json
import sys
from typing import Any

from sipstatus._errors import SipParseError
from sipstatus._message import SipRequest, SipResponse
from sipstatus._parse import iter_messages


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "parse",
        help="parse SIP messages and print each as a JSON line",
        description="Parse the SIP messages in FILE (or standard input for '-'), written "
        "back to back as on a TCP stream (each body framed by its Content-Length), and "
        "print one JSON object per message. Exits 1 at the first broken message, with the "
        "error on standard error, after printing the messages before it.",
    )
    parser.add_argument("file", metavar="FILE", help="a file of SIP messages, or - for stdin")
    parser.add_argument("--strict", action="store_true",
                        help="accept exactly RFC 3261 (as clarified by RFC 4475 and RFC 5118)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        if args.file == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(args.file, "rb") as handle:
                data = handle.read()
    except OSError as exc:
        print(f"sipstatus parse: {exc.strerror}: {args.file}", file=sys.stderr)
        return 2
    out = sys.stdout
    try:
        for message in iter_messages(data, strict=args.strict):
            out.write(json.dumps(to_json(message), ensure_ascii=False) + "\n")
    except SipParseError as exc:
        out.flush()
        print(f"sipstatus parse: {args.file}: {exc}", file=sys.stderr)
        return 1
    return 0


def to_json(message: SipRequest | SipResponse) -> dict[str, Any]:
    """A message as a JSON-ready dict: start line, headers in order, body, defects."""
    record: dict[str, Any]
    if isinstance(message, SipResponse):
        record = {"kind": "response", "version": message.version,
                  "status_code": message.status_code, "reason": message.reason}
    else:
        record = {"kind": "request", "method": message.method, "uri": message.uri,
                  "version": message.version}
    record["headers"] = [[name, value] for name, value in message.headers]
    try:
        record["body"] = message.body.decode("utf-8")
    except UnicodeDecodeError:
        record["body_base64"] = base64.b64encode(message.body).decode("ascii")
    record["defects"] = list(message.defects)
    return record
