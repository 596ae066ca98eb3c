"""The ``sipstatus`` command line: one sub-command per module of this package.

Each command module exposes ``register(subparsers)``, which adds its sub-parser and sets
``func`` to a callable taking the parsed arguments and returning the exit status.
Exit statuses: 0 success, 1 the input had a problem (a broken message, a finding), 2 usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sipstatus._cli import explain, fuzz, ladder, parse, scan

# Command modules, in the order `sipstatus --help` lists them.
COMMANDS = (parse, explain, scan, ladder, fuzz)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sipstatus",
        description="Parse SIP messages and classify SIP responses (RFC 3261).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.func(args)
    except BrokenPipeError:
        # `sipstatus ... | head` closed the pipe: not an error of ours.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130
    return status
