"""HEP in and out for ``sipstatus scan`` (docs/hep.md): ``hep://`` and ``hep+tcp://``
listeners as sources, ``--hep`` / ``--hep-port`` for captures holding HEP packets, and
``--hep-out`` to send every SIP message to a collector."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

from sipstatus.capture._scan import Record, Scan
from sipstatus.hep._scan import (
    HepCaptureSource,
    ListenerSource,
    PlainCaptureSource,
    Source,
    run_sources,
)
from sipstatus.hep._send import HepSender
from sipstatus.hep._source import HEP_PORT, HepListener, HepStats, is_hep_url, parse_url


def add_options(parser: argparse.ArgumentParser) -> None:
    hep = parser.add_argument_group(
        "HEP v3 (docs/hep.md)",
        "A CAPTURE may be a listener: hep://HOST:PORT (UDP) or hep+tcp://HOST:PORT (TCP); "
        "it runs until --count, --duration or Ctrl-C, then prints the summary.")
    hep.add_argument("--hep", action="store_true",
                     help="the captures hold HEP packets (UDP or TCP on --hep-port): report "
                          "the SIP messages inside them, not the outer packets")
    hep.add_argument("--hep-port", type=_port, default=None, metavar="PORT",
                     help=f"the port of the HEP packets in the captures (default {HEP_PORT}; "
                          f"implies --hep)")
    hep.add_argument("--count", type=_positive_int, default=None, metavar="N",
                     help="a listener stops after N SIP messages")
    hep.add_argument("--duration", type=_seconds, default=None, metavar="SECONDS",
                     help="a listener stops after this many seconds")
    hep.add_argument("--hep-out", default=None, metavar="URL",
                     help="also send every SIP message, with its own time and addresses, as "
                          "HEP v3 to hep://HOST:PORT (UDP) or hep+tcp://HOST:PORT")
    hep.add_argument("--node-id", type=_node_id, default=None, metavar="N",
                     help="--hep-out: the capture node id (chunk 0x000c)")
    hep.add_argument("--node-name", default=None, metavar="NAME",
                     help="--hep-out: the capture node name (chunk 0x0013)")
    hep.add_argument("--rate", type=_rate, default=None, metavar="R",
                     help="--hep-out: at most R messages a second (default: as fast as "
                          "possible)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


def _port(text: str) -> int:
    value = _positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (1-65535)")
    return value


def _node_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 0xFFFFFFFF:
        raise argparse.ArgumentTypeError(f"{text!r} is not a node id (0 to 4294967295)")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a rate above 0 (messages/s)")
    return value


def wanted(args: argparse.Namespace) -> bool:
    """Whether the scan goes through the HEP sources."""
    return bool(args.hep or args.hep_port is not None or args.hep_out is not None
                or any(is_hep_url(capture) for capture in args.captures))


def usage_error(args: argparse.Namespace) -> str | None:
    listeners = [capture for capture in args.captures if is_hep_url(capture)]
    for url in [*listeners, *([args.hep_out] if args.hep_out is not None else [])]:
        try:
            parse_url(url)
        except ValueError as exc:
            return str(exc)
    if (args.count is not None or args.duration is not None) and not listeners:
        return "--count and --duration go with a hep:// or hep+tcp:// listener"
    if args.hep_out is None and (args.node_id is not None or args.node_name is not None
                                 or args.rate is not None):
        return "--node-id, --node-name and --rate go with --hep-out"
    if (args.format == "parquet" or args.out is not None) and wanted(args):
        return "HEP sources and --hep-out do not go with --format parquet (yet)"
    return None


class HepRun:
    """The HEP side of one ``scan``: its sources, its sender, and what they counted."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sources: list[Source] = []
        self.sender: HepSender | None = None
        self.stop = threading.Event()

    def run(self, scan: Scan) -> Iterator[Record]:
        args = self.args
        hep_port = args.hep_port if args.hep_port is not None else HEP_PORT
        from_hep = args.hep or args.hep_port is not None
        if args.hep_out is not None:
            self.sender = HepSender(args.hep_out, node_id=args.node_id,
                                    node_name=args.node_name, rate=args.rate)
        previous: dict[signal.Signals, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous[signum] = signal.signal(signum, self._interrupted)
        try:
            yield from run_sources(scan, self._sources(from_hep, hep_port),
                                   sender=self.sender)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            if self.sender is not None:
                self.sender.close()

    def _interrupted(self, _signum: int, _frame: FrameType | None) -> None:
        self.stop.set()

    def _sources(self, from_hep: bool, hep_port: int) -> Iterator[Source]:
        args = self.args
        for capture in args.captures:
            if self.stop.is_set():
                return
            source: Source
            if is_hep_url(capture):
                listener = HepListener(capture)
                print(f"sipstatus scan: listening for HEP on {listener.name}", file=sys.stderr,
                      flush=True)
                source = ListenerSource(listener, count=args.count, duration=args.duration,
                                        stop=self.stop)
            elif from_hep:
                source = HepCaptureSource(capture, hep_port)
            else:
                source = PlainCaptureSource(capture)
            self.sources.append(source)
            try:
                yield source
            finally:
                if isinstance(source, ListenerSource):
                    source.listener.close()

    def report(self) -> dict[str, Any]:
        """What the HEP sources met and what was sent (the ``hep`` object of the JSON)."""
        total = HepStats()
        for source in self.sources:
            stats = source.stats
            total.packets += stats.packets
            total.sip += stats.sip
            total.other.update(stats.other)
            total.empty += stats.empty
            total.malformed += stats.malformed
            total.skipped_bytes += stats.skipped_bytes
        out: dict[str, Any] = {}
        if any(not isinstance(source, PlainCaptureSource) for source in self.sources):
            out["received"] = total.as_dict()
        if self.sender is not None:
            out["sent"] = {"to": self.sender.url, "messages": self.sender.sent,
                           "failed": self.sender.failed}
        out["interrupted"] = self.stop.is_set()
        return out

    def notes(self) -> list[str]:
        """The lines for stderr: what was received and sent."""
        report = self.report()
        lines = []
        received = report.get("received")
        if received is not None:
            other = received["other_payload_types"]
            others = sum(other.values())
            kinds = ", ".join(f"type {kind}: {count}" for kind, count in other.items())
            lines.append(f"HEP: {received['packets']} packets, {received['sip']} SIP "
                         f"messages, {others} of other payload types"
                         f"{f' ({kinds})' if kinds else ''}, {received['no_payload']} without "
                         f"payload, {received['malformed']} malformed")
        sent = report.get("sent")
        if sent is not None:
            failed = f" ({sent['failed']} failed)" if sent["failed"] else ""
            lines.append(f"sent {sent['messages']} SIP messages as HEP v3 to {sent['to']}"
                         f"{failed}")
        if self.sender is not None:
            lines += self.sender.problems[:10]
        return lines
