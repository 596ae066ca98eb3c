"""Read everything a parsed message offers, the way a curious program would."""

from __future__ import annotations

import contextlib
from typing import Any

import sipstatus
from sipstatus import SipRequest, SipResponse
from sipstatus._registry import ACCESSORS as ACCESSOR_KEYS

#: Every typed accessor, from the header registry.
ACCESSORS = tuple(ACCESSOR_KEYS)

VALUE_ATTRIBUTES = (
    "uri", "display_name", "params", "tag", "q", "expires", "is_wildcard", "protocol",
    "version", "transport", "host", "port", "branch", "received", "rport", "maddr",
)


def exercise(message: SipRequest | SipResponse) -> list[Any]:
    """Touch every accessor and every lazily parsed part; return what was read."""
    seen: list[Any] = [message.defects, bytes(message), list(message.headers), message.body]
    if isinstance(message, SipRequest):
        with contextlib.suppress(sipstatus.SipParseError):
            seen.append(message.request_uri)
    for name in ACCESSORS:
        try:
            value = getattr(message, name)
        except sipstatus.SipParseError:
            continue
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            for attribute in VALUE_ATTRIBUTES:
                with contextlib.suppress(sipstatus.SipParseError):
                    seen.append(getattr(item, attribute, None))
            seen.append(str(item))
    return seen
