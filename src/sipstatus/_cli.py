"""The ``sipstatus`` command line: one sub-command per module (``_cmd_*.py``).

Each command module exposes ``register(subparsers)``, which adds its sub-parser and sets
``func`` to a callable taking the parsed arguments and returning the exit status.
Exit statuses: 0 success, 1 the input had a problem (a broken message, a finding), 2 usage.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Command modules, in the order `sipstatus --help` lists them.
COMMAND_MODULES = (
    "sipstatus._cmd_parse",
    "sipstatus._cmd_explain",
    "sipstatus._cmd_scan",
    "sipstatus._cmd_fuzz",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sipstatus",
        description="Parse SIP messages and classify SIP responses (RFC 3261).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # that command is not built yet
                continue
            raise
        module.register(subparsers)
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
