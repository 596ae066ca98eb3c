"""Read SIP traffic out of packet captures (pcap, pcapng, gzip) and summarise it.

- :func:`read` yields a :class:`CapturedMessage` per SIP message, in capture order.
- :func:`summarize` returns the counts of ``tshark -q -z sip,stat`` (and call outcomes).
- :class:`CaptureError` is the only error: raised, after everything readable was yielded, for
  damage that ends the reading; damage confined to one record is reported and reading goes on.
- :func:`to_arrow` yields the messages as ``pyarrow.RecordBatch``es of the lake's schema
  (``sipstatus.lake``; needs the ``lake`` extra, and is loaded on first use).

How captures are decoded, and what is measured, is described in docs/capture.md.
"""

from __future__ import annotations

import typing

from sipstatus.capture._errors import CaptureError
from sipstatus.capture._head import Head
from sipstatus.capture._records import CapturedMessage, read
from sipstatus.capture._scan import summarize

if typing.TYPE_CHECKING:
    from sipstatus.lake._map import to_arrow

__all__ = ["CaptureError", "CapturedMessage", "Head", "read", "summarize", "to_arrow"]


def __getattr__(name: str) -> object:
    # to_arrow belongs to the lake, which is built on this package's modules: it is imported
    # when first asked for, so that importing sipstatus.capture loads no part of the lake.
    if name == "to_arrow":
        from sipstatus.lake._map import to_arrow
        return to_arrow
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
