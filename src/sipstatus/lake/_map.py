"""The map step: captures → Arrow record batches of ``messages`` (and of ``calls``).

The values come from the scan engine (``capture/_scan``), the same records that
``sipstatus scan --format jsonl`` writes: counting, classification, resend flags, response
times and calls are never computed twice. The lake adds what a record does not hold, read
from the message bytes (``_fields``), and gathers each call's facts for its ``calls`` row
(``_calls``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

from sipstatus.capture._calls import Call
from sipstatus.capture._errors import CaptureError
from sipstatus.capture._scan import MappedFile, ProgressCallback, Record, Scan, code_view
from sipstatus.lake._arrow import pyarrow
from sipstatus.lake._calls import CallFacts, call_values, joined, party
from sipstatus.lake._fields import Extra, read_extra
from sipstatus.lake._schema import schema

#: Rows per record batch (a batch is the unit handed on to the writer or to the caller).
BATCH_ROWS = 16_384
#: A batch is also cut when its raw message bytes reach this (Arrow ``binary`` holds 2 GiB).
BATCH_RAW_BYTES = 64 << 20

Batch = Any  # pyarrow.RecordBatch (pyarrow has no type information)


class _Rows:
    """Rows of one table being gathered into a record batch."""

    def __init__(self, table: str, *, raw: bool = False) -> None:
        self.schema = schema(table, raw=raw)
        self.rows: list[tuple[object, ...]] = []
        self.raw_bytes = 0

    def take(self) -> Batch:
        """The rows gathered so far, as a record batch; the list starts empty again."""
        pa = pyarrow()
        fields = self.schema
        columns = zip(*self.rows, strict=True)  # rows to columns, in C
        arrays = [pa.array(values, type=f.type) for values, f in zip(columns, fields,
                                                                      strict=True)]
        self.rows = []
        self.raw_bytes = 0
        return pa.RecordBatch.from_arrays(arrays, schema=fields)


class CaptureMap:
    """One scan over captures, turned into record batches.

    :meth:`batches` yields ``("messages", batch)`` as messages come and ``("calls", batch)``
    as the engine releases calls (with ``calls=True``). ``raw=True`` adds the message bytes.
    After the run, :attr:`scan` holds the scan's summary (counts, warnings, damage).
    """

    def __init__(self, *, raw: bool = False, calls: bool = True, port: int | None = None,
                 progress: ProgressCallback | None = None,
                 batch_rows: int = BATCH_ROWS) -> None:
        self.raw = raw
        self.batch_rows = batch_rows
        self.scan = Scan(port=port, records=True, calls=calls, progress=progress,
                         on_call=self._released if calls else None)
        self._messages = _Rows("messages", raw=raw)
        self._calls = _Rows("calls")
        self._facts: dict[str, CallFacts] = {}

    def _released(self, call: Call) -> None:
        facts = self._facts
        if call.legs:
            found = joined([facts.pop(leg, None) for leg in call.legs])
        else:
            found = facts.pop(call.call_id, None)
        self._calls.rows.append(call_values(call, found))

    def batches(self, paths: Iterable[str | os.PathLike[str]]) -> Iterator[tuple[str, Batch]]:
        """Scan ``paths`` in turn (one stream: calls may span files). Damage ends the reading
        of its capture only, as in ``sipstatus scan``: every capture is read, then the first
        :class:`CaptureError` is raised."""
        return self._batches(self.scan.run(paths), mapped=False)

    def batches_mapped(self, files: Iterable[MappedFile]) -> Iterator[tuple[str, Batch]]:
        """As :meth:`batches`, over captures mapped elsewhere (``_jobs``: the data of each
        message is its :data:`~sipstatus.lake._fields.Extra`, or ``(extra, bytes)`` with
        ``raw``): the same batches, row for row."""
        return self._batches(self.scan.run_mapped(files), mapped=True)

    def _batches(self, records: Iterator[Record], *, mapped: bool
                 ) -> Iterator[tuple[str, Batch]]:
        damage: CaptureError | None = None
        try:
            yield from self._scan(records, mapped)
        except CaptureError as exc:
            damage = exc
        yield from self._full(0)
        if damage is not None:
            raise damage

    def _full(self, at_least: int) -> Iterator[tuple[str, Batch]]:
        """The tables' pending rows as batches, if there are at least ``at_least``."""
        for name, rows in (("messages", self._messages), ("calls", self._calls)):
            if rows.rows and (
                    len(rows.rows) >= at_least or rows.raw_bytes >= BATCH_RAW_BYTES):
                yield name, rows.take()

    def _scan(self, records: Iterator[Record], mapped: bool) -> Iterator[tuple[str, Batch]]:
        scan = self.scan
        calls = scan.calls
        facts = self._facts
        follow_calls = scan.follow_calls
        messages = self._messages
        pending = messages.rows
        raw = self.raw
        captures = scan.summary.captures
        batch_rows = self.batch_rows
        for record in records:
            (frame, _, src, sport, dst, dport, transport, head, resend, rtime, error,
             evicted) = record
            data = scan.message_data
            capture = captures[-1]
            code = head.status_code
            view = code_view(code) if code else None
            extra: Extra
            if not mapped:
                extra = read_extra(data, head.kind == "request")
            elif raw:
                extra, data = data
            else:
                extra = data
            defects = [error] if error else []
            if head.problem and head.problem != error:
                defects.append(head.problem)
            if evicted:
                defects += [f"evicted {kind}" for kind in evicted.split(",")]
            row: tuple[object, ...] = (
                scan.message_ns // 1000, capture, frame, src, sport, dst, dport, transport,
                head.kind, head.method, extra[0], code or None, head.reason,
                view.category if view else "", view.action if view else "", extra[8],
                head.call_id, head.cseq_seq, head.cseq_method, head.via_branch, extra[1],
                extra[2], head.from_tag, extra[3], extra[4], head.to_tag, extra[5], extra[6],
                extra[7], resend, round(rtime, 3) if rtime is not None else None, defects,
                error, calls.key(head.call_id) if follow_calls else head.call_id)
            if raw:
                row = (*row, data)
                messages.raw_bytes += len(data)
            pending.append(row)
            if follow_calls and head.call_id in calls:
                call_facts = facts.get(head.call_id)
                if call_facts is None:  # the message that started the call
                    call_facts = facts[head.call_id] = CallFacts(
                        party(extra[1], extra[2]), party(extra[3], extra[4]), head.from_tag)
                call_facts.add(capture, resend, head.method, code, head.cseq_method,
                               head.reason, head.from_tag, extra[9])
            if (len(pending) >= batch_rows or messages.raw_bytes >= BATCH_RAW_BYTES
                    or len(self._calls.rows) >= batch_rows):
                yield from self._full(batch_rows)
                pending = messages.rows


def to_arrow(path: str | os.PathLike[str], *, raw: bool = False, port: int | None = None,
             batch_rows: int = BATCH_ROWS) -> Iterator[Batch]:
    """Yield the SIP messages of the capture at ``path`` as ``pyarrow.RecordBatch``es of the
    lake's ``messages`` schema (schema v1, docs/lake.md), in capture order.

    ``raw=True`` adds the ``raw`` column (the message bytes); ``port`` keeps only traffic from
    or to that port. As with ``read()``, only :class:`CaptureError` is raised, after every
    message before the damage was yielded. Needs pyarrow (``pip install 'sipstatus[lake]'``).
    """
    pyarrow()  # the ImportError naming the extra comes before any reading
    mapper = CaptureMap(raw=raw, calls=False, port=port, batch_rows=batch_rows)
    for _, batch in mapper.batches([path]):
        yield batch
