"""HEP sources through the scan engine: each source's SIP messages become the per-file map's
tuples (``capture._scan.Mapped``) and are replayed by ``Scan.run_mapped``, so counts,
transactions, calls, metrics and records are exactly those of a capture scan.

A source is a capture read for its HEP packets (:class:`HepCaptureSource`), a listener
(:class:`ListenerSource`), or a plain capture whose messages are also sent out as HEP
(:class:`PlainCaptureSource`, for ``--hep-out``); any of them can pass each message to a
:class:`HepSender` on the way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from sipstatus.capture._packets import sip_payloads
from sipstatus.capture._pcap import CaptureFile
from sipstatus.capture._scan import Mapped, MappedFile, Record, Scan, map_payloads
from sipstatus.capture._transactions import TsharkLedger
from sipstatus.hep._send import HepSender
from sipstatus.hep._source import (
    HEP_PORT,
    HepListener,
    HepStats,
    Payload,
    capture_payloads,
)


class Source(Protocol):
    name: str
    stats: HepStats

    def payloads(self, scan: Scan, mapped: MappedFile) -> Iterator[Payload]: ...


class HepCaptureSource:
    """The SIP messages of the HEP packets in a capture file (UDP or TCP on ``hep_port``)."""

    def __init__(self, path: str, hep_port: int = HEP_PORT) -> None:
        self.name = path
        self.hep_port = hep_port
        self.stats = HepStats()

    def payloads(self, scan: Scan, mapped: MappedFile) -> Iterator[Payload]:
        warn = scan.summary.warn
        capture = CaptureFile(self.name, max_record=scan.max_record,
                              on_problem=lambda problem: warn(str(problem)))
        try:
            yield from capture_payloads(capture, self.stats, warn, self.hep_port)
        finally:
            _count_skipped(capture, mapped)


class PlainCaptureSource:
    """The SIP messages of a capture file, as a scan reads them (for sending them as HEP)."""

    def __init__(self, path: str) -> None:
        self.name = path
        self.stats = HepStats()

    def payloads(self, scan: Scan, mapped: MappedFile) -> Iterator[Payload]:
        warn = scan.summary.warn
        capture = CaptureFile(self.name, max_record=scan.max_record,
                              on_problem=lambda problem: warn(str(problem)))
        try:
            yield from sip_payloads(capture, scan.port, scan.budget, scan.summary.evicted)
        finally:
            _count_skipped(capture, mapped)


class ListenerSource:
    """What a :class:`HepListener` receives, until ``count`` SIP messages, ``duration``
    seconds or ``stop``."""

    def __init__(self, listener: HepListener, *, count: int | None = None,
                 duration: float | None = None, stop: threading.Event | None = None) -> None:
        self.listener = listener
        self.name = listener.name
        self.stats = listener.stats
        self.count = count
        self.duration = duration
        self.stop = stop

    def payloads(self, scan: Scan, mapped: MappedFile) -> Iterator[Payload]:
        return self.listener.payloads(scan.summary.warn, count=self.count,
                                      duration=self.duration, stop=self.stop)


def _count_skipped(capture: CaptureFile, mapped: MappedFile) -> None:
    mapped.damaged_records += capture.damaged_records
    mapped.evicted["records"] += capture.evicted_records
    mapped.evicted["interfaces"] += capture.evicted_interfaces


def _tee(mapped: Iterable[Mapped], send: Callable[[Payload], None]) -> Iterator[Mapped]:
    for message in mapped:
        send((*message[:9], "", ""))
        yield message


def run_sources(scan: Scan, sources: Iterable[Source], *, sender: HepSender | None = None,
                filter_port: bool = True) -> Iterator[Record]:
    """Scan ``sources`` in turn through ``scan`` (as :meth:`Scan.run` does captures); with
    ``sender``, every SIP message is also sent out as HEP. ``filter_port``: apply the
    scan's ``port`` to the messages (a plain capture source applies it itself)."""

    def mapped_files() -> Iterator[MappedFile]:
        for source in sources:
            mapped = MappedFile(source.name, ())
            ledger = TsharkLedger(max_bytes=scan.ledger_bytes, evicted=scan.summary.evicted)
            port = scan.port if filter_port and not isinstance(source, PlainCaptureSource) \
                else None
            messages = map_payloads(source.payloads(scan, mapped), ledger, port=port,
                                    validate=scan.validate, full_head=scan.follow_transactions)
            mapped.messages = messages if sender is None else _tee(messages, sender.send)
            yield mapped

    return scan.run_mapped(mapped_files())
