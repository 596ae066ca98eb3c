"""``sipstatus parse FILE|-``: each message of the input as one JSON object per line."""

from __future__ import annotations

import argparse
import base64
import json
import sys
from typing import Any

from sipstatus._cli.textio import InputError, Utf8Out, read_input
from sipstatus._errors import SipParseError
from sipstatus._message import SipRequest, SipResponse
from sipstatus._parse import iter_messages

#: The most that ``sipstatus parse`` reads from its FILE or standard input: 64 MiB.
MAX_INPUT = 64 << 20


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "parse",
        help="parse SIP messages and print each as a JSON line",
        description="Parse the SIP messages in FILE (or standard input for '-'), written "
        "back to back as on a TCP stream (each body framed by its Content-Length), and "
        "print one JSON object per message, in UTF-8. Octets of the start line and header "
        "values that are not UTF-8 are shown as U+FFFD; a body that is not UTF-8 is given "
        "as body_base64. The size limits apply to each message (65,535 octets by default, "
        "RFC 3261 §18.1.1); at most 64 MiB of input is read. Exits 1 at the first broken "
        "message, with the error on standard error, after printing the messages before it, "
        "or when the input is larger than 64 MiB; 2 when FILE cannot be read.",
    )
    parser.add_argument("file", metavar="FILE", help="a file of SIP messages, or - for stdin")
    parser.add_argument("--strict", action="store_true",
                        help="accept exactly RFC 3261 (as clarified by RFC 4475 and RFC 5118)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        data = read_input(args.file, MAX_INPUT, "the most sipstatus parse reads")
    except InputError as exc:
        print(f"sipstatus parse: {exc}", file=sys.stderr)
        return exc.status
    out = Utf8Out()
    try:
        for message in iter_messages(data, strict=args.strict):
            out.write(json.dumps(to_json(message), ensure_ascii=False) + "\n")
    except SipParseError as exc:
        out.flush()
        print(f"sipstatus parse: {args.file}: {exc}", file=sys.stderr)
        return 1
    out.flush()
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
