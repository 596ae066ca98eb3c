"""sipstatus: parse SIP messages and classify SIP responses (RFC 3261)."""

from __future__ import annotations

from sipstatus._errors import SipParseError

__all__ = ["SipParseError"]
__version__ = "0.1.0"
