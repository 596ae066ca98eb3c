"""Read SIP traffic out of packet captures (pcap, pcapng, gzip) and summarise it.

- :func:`read` yields a :class:`CapturedMessage` per SIP message, in capture order.
- :func:`summarize` returns the counts of ``tshark -q -z sip,stat`` (and call outcomes).
- :class:`CaptureError` is the only error: raised, after everything readable was yielded, for
  damage that ends the reading; damage confined to one record is reported and reading goes on.

How captures are decoded, and what is measured, is described in docs/capture.md.
"""

from __future__ import annotations

from sipstatus.capture._errors import CaptureError
from sipstatus.capture._head import Head
from sipstatus.capture._records import CapturedMessage, read
from sipstatus.capture._scan import summarize

__all__ = ["CaptureError", "CapturedMessage", "Head", "read", "summarize"]
