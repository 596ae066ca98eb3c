"""Tolerant handling of SIP messages on the wire, for the fuzzer and the mutators.

Nothing here validates: the fuzzer must cut up, frame and pick headers out of messages that are
broken on purpose (its own mutated cases, and whatever a misbehaving target sends back). Judging
whether a message is well formed is the job of ``sipstatus.parse`` (see ``verdict``).

Header names are matched case-insensitively and compact forms are expanded (RFC 3261 §7.3.3,
plus the registered compact forms of later RFCs, from the header registry).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from sipstatus import _registry

CRLF = b"\r\n"

#: Compact form -> lower-case long name, from the header registry.
COMPACT_FORMS: dict[str, str] = {
    letter: name.lower() for letter, name in _registry.COMPACT_FORMS.items()}

COMPACT_OF: dict[str, str] = {long: short for short, long in COMPACT_FORMS.items()}


def canonical_name(name: bytes | str) -> str:
    """Lower-case header name with the compact form expanded (``b"i"`` -> ``"call-id"``)."""
    text = name.decode("latin-1") if isinstance(name, bytes) else name
    text = text.strip().lower()
    return COMPACT_FORMS.get(text, text)


@dataclass(frozen=True, slots=True)
class Wire:
    """A message cut into start line, header fields and body, without judging any of them.

    ``headers`` holds each header field as written, continuation lines included (with their
    CRLF inside) but without its terminating CRLF. ``terminated`` tells whether an empty line
    closed the header section. ``bytes(wire)`` gives the message back byte for byte when the
    input used CRLF line ends.
    """

    start: bytes
    headers: tuple[bytes, ...]
    body: bytes
    terminated: bool = True

    @classmethod
    def split(cls, data: bytes) -> Wire:
        head, sep, body = data.partition(CRLF + CRLF)
        terminated = bool(sep)
        if not terminated:
            body = b""
        lines = head.split(CRLF)
        start, rest = lines[0], lines[1:]
        fields: list[bytes] = []
        for line in rest:
            if fields and line[:1] in (b" ", b"\t"):
                fields[-1] = fields[-1] + CRLF + line
            else:
                fields.append(line)
        if not terminated and fields and fields[-1] == b"":
            fields.pop()
        return cls(start, tuple(fields), body, terminated)

    def __bytes__(self) -> bytes:
        out = self.start + CRLF + b"".join(field + CRLF for field in self.headers)
        if self.terminated:
            out += CRLF + self.body
        return out

    @property
    def is_response(self) -> bool:
        return self.start[:4].upper() == b"SIP/"

    @property
    def method(self) -> str | None:
        """The request method (first token of the start line), or None for a response."""
        if self.is_response:
            return None
        token = self.start.split(b" ", 1)[0]
        return token.decode("latin-1") if token else None

    def name_at(self, index: int) -> str:
        return canonical_name(self.headers[index].partition(b":")[0])

    def value_at(self, index: int) -> bytes:
        return self.headers[index].partition(b":")[2].strip(b" \t\r\n")

    def indexes(self, name: str) -> tuple[int, ...]:
        wanted = canonical_name(name)
        return tuple(i for i in range(len(self.headers)) if self.name_at(i) == wanted)

    def value(self, name: str) -> bytes | None:
        found = self.indexes(name)
        return self.value_at(found[0]) if found else None

    def with_headers(self, headers: tuple[bytes, ...]) -> Wire:
        return replace(self, headers=headers)

    def with_body(self, body: bytes, *, fix_length: bool = True) -> Wire:
        """Replace the body; with ``fix_length`` every Content-Length gets the new length."""
        wire = replace(self, body=body, terminated=True)
        if not fix_length:
            return wire
        length = str(len(body)).encode()
        headers = tuple(
            _rename_value(field, length) if wire.name_at(i) == "content-length" else field
            for i, field in enumerate(wire.headers)
        )
        return replace(wire, headers=headers)


def _rename_value(field: bytes, value: bytes) -> bytes:
    name, _, _ = field.partition(b":")
    return name + b": " + value


_HEADER_LINE = re.compile(rb"(?m)^([!-9;-~]+)[ \t]*:[ \t]*([^\r\n]*)")


def find_header(data: bytes, name: str) -> bytes | None:
    """First value of header ``name`` anywhere in ``data``'s header section, tolerating LF-only
    line ends (for picking Call-ID and CSeq out of replies that may be broken)."""
    head = re.split(rb"\r?\n\r?\n", data, maxsplit=1)[0]
    wanted = canonical_name(name)
    for match in _HEADER_LINE.finditer(head):
        if canonical_name(match.group(1)) == wanted:
            return match.group(2).strip()
    return None


def call_id(data: bytes) -> str | None:
    value = find_header(data, "call-id")
    return value.decode("latin-1") if value else None


def cseq_method(data: bytes) -> str | None:
    value = find_header(data, "cseq")
    if not value:
        return None
    parts = value.split()
    return parts[-1].decode("latin-1") if len(parts) == 2 else None


_STATUS = re.compile(rb"SIP/2\.0 ([1-6][0-9][0-9]) ")


def status_code(data: bytes) -> int | None:
    """The status code of a response whose status line starts as RFC 3261 §7.2 says, else None."""
    match = _STATUS.match(data)
    return int(match.group(1)) if match else None


#: The most bytes the fuzzer reads of one message (head and body), and judges: more than any
#: UDP datagram holds (65,507 bytes over IPv4), so it only ever cuts a stream.
MAX_MESSAGE = 65_536


def content_length(head: bytes) -> int:
    """The Content-Length of a complete header section; missing or unreadable (not digits,
    10 digits or more) counts as 0, so a broken peer cannot stall the framer."""
    raw = find_header(head, "content-length")
    return int(raw) if raw is not None and raw.isdigit() and len(raw) < 10 else 0


class Framer:
    """Cuts messages off a byte stream as it arrives (RFC 3261 §18.3), in time linear in the
    bytes fed: the search for the empty line resumes where the last one stopped.

    CRLFs before a start line (keep-alives, RFC 5626 §3.5.1) are dropped as they come.
    ``overrun`` turns true when the message being read is longer than ``limit`` bytes: its
    head has not ended within ``limit`` bytes, or it announces a longer body. The caller then
    gives the stream up; nothing here holds more than ``limit`` bytes plus the last chunk.
    """

    def __init__(self, limit: int | None = MAX_MESSAGE) -> None:
        self.limit = limit
        self.buffer = bytearray()
        self.searched = 0  # bytes of the current message already searched for CRLF CRLF
        self.length: int | None = None  # the current message's whole length, once known

    def feed(self, chunk: bytes) -> None:
        self.buffer += chunk
        self._drop_keepalives()

    @property
    def pending(self) -> int:
        """Bytes held of messages not yet cut off."""
        return len(self.buffer)

    @property
    def overrun(self) -> bool:
        if self.limit is None:
            return False
        if self.length is not None:
            return self.length > self.limit
        return len(self.buffer) > self.limit

    def next(self) -> bytes | None:
        """The next whole message, or None while it is incomplete (or overrun)."""
        if self.length is None:
            end = self.buffer.find(CRLF + CRLF, max(0, self.searched - 3))
            if end < 0:
                self.searched = len(self.buffer)
                return None
            head_end = end + 4
            self.length = head_end + content_length(bytes(self.buffer[:head_end]))
        if self.overrun or len(self.buffer) < self.length:
            return None
        message = bytes(self.buffer[: self.length])
        del self.buffer[: self.length]
        self.searched, self.length = 0, None
        self._drop_keepalives()
        return message

    def rest(self) -> bytes:
        """What is held of the current message, CRLFs before it dropped; the framer is left
        empty."""
        rest = bytes(self.buffer)
        self.buffer.clear()
        self.searched, self.length = 0, None
        return rest

    def _drop_keepalives(self) -> None:
        if self.searched == 0 and self.length is None and self.buffer.startswith((b"\r", b"\n")):
            kept = len(self.buffer.lstrip(b"\r\n"))
            del self.buffer[: len(self.buffer) - kept]


def frame(buffer: bytes) -> tuple[bytes, bytes] | None:
    """Cut one message off the front of a stream (RFC 3261 §18.3): returns (message, rest), or
    None while the header section or the Content-Length bytes of body are still incomplete.

    CRLFs before the start line (keep-alives, RFC 5626 §3.5.1) are dropped. A missing or
    unreadable Content-Length counts as 0, so a broken peer cannot stall the framer.
    """
    framer = Framer(limit=None)
    framer.feed(buffer)
    message = framer.next()
    return None if message is None else (message, bytes(framer.buffer))


def top_via_branch(data: bytes) -> str | None:
    """The branch parameter of the first via-parm of the first Via header, or None."""
    value = find_header(data, "via")
    if value is None:
        return None
    first = value.split(b",", 1)[0]
    for param in first.split(b";")[1:]:
        name, _, branch = param.partition(b"=")
        if name.strip().lower() == b"branch":
            return branch.strip().decode("latin-1") or None
    return None


def looks_like_sip(data: bytes) -> bool:
    """A response status line, or a request line ending in SIP/2.0 (case-insensitive)."""
    first = data.split(b"\n", 1)[0].rstrip(b"\r")
    return first[:4].upper() == b"SIP/" or first.upper().endswith(b" SIP/2.0")
