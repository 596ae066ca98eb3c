"""Read SIP traffic out of packet captures (pcap, pcapng) and summarise it."""

from __future__ import annotations

from sipstatus.capture._errors import CaptureError
from sipstatus.capture._head import Head
from sipstatus.capture._records import CapturedMessage, read

__all__ = ["CaptureError", "CapturedMessage", "Head", "read"]
