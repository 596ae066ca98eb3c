"""TCP: per-direction reassembly and SIP message framing (RFC 3261 §18.3).

Each direction of a connection is a byte stream keyed by ``(src, sport, dst, dport)``.
Bytes are delivered once and in order:

- a segment that starts at the expected sequence number is appended;
- a retransmission (entirely before the expected number) is dropped; a segment that overlaps
  what was already delivered contributes only its new tail (the first copy of a byte wins,
  as with IP fragments);
- a segment from the future waits (``MAX_OUT_OF_ORDER`` bytes per stream at most) until the
  gap is filled. If the gap never fills within that budget (a packet the capture missed), the
  stream skips to the waiting data: the message cut by the hole is reported as broken and
  framing resynchronises on the next start line.

Framing (see ``_head``): leading CRLFs (keep-alives, RFC 5626 §4.4.1) are skipped; a message is
its head up to the empty line plus Content-Length bytes of body. Bytes that do not start with a
SIP start line are skipped line by line until one does; a stream that shows no start line in its
first ``NOT_SIP_AFTER`` bytes is taken for another protocol and ignored from then on.

A message is complete in the segment carrying its last byte: that segment's frame is the one
reported, as Wireshark does. At most ``MAX_STREAMS`` streams are tracked (the least recently
used is forgotten first); a stream is forgotten at FIN or RST.
"""

from __future__ import annotations

from sipstatus.capture._head import START_LINE, header_end, message_length

MAX_STREAMS = 8192
MAX_OUT_OF_ORDER = 1 << 20
MAX_HEAD = 64 * 1024  # a head larger than this is not waited for any longer
NOT_SIP_AFTER = 64 * 1024

FIN, SYN, RST = 0x01, 0x02, 0x04

# What the framer hands back: the message bytes and a problem ("" if none).
Framed = tuple[bytes, str]
_NOTHING: tuple[Framed, ...] = ()


class _Stream:
    __slots__ = ("buf", "is_sip", "next_seq", "pending", "pending_bytes", "skipped")

    def __init__(self, next_seq: int) -> None:
        self.next_seq = next_seq
        self.buf = bytearray()
        self.pending: dict[int, bytes] = {}  # out-of-order segments by sequence number
        self.pending_bytes = 0
        self.is_sip = False
        self.skipped = 0


class TcpReassembler:
    """Feed segments with :meth:`segment`; it returns the SIP messages they complete."""

    def __init__(self, max_streams: int = MAX_STREAMS) -> None:
        self.max_streams = max_streams
        self._streams: dict[tuple[object, ...], _Stream] = {}

    def __len__(self) -> int:
        return len(self._streams)

    def segment(self, key: tuple[object, ...], seq: int, flags: int,
                payload: bytes) -> tuple[Framed, ...] | list[Framed]:
        streams = self._streams
        stream = streams.get(key)
        if stream is None:
            if flags & RST or not (payload or flags & SYN):
                return _NOTHING
            stream = _Stream((seq + 1) & 0xFFFFFFFF if flags & SYN else seq)
            if len(streams) >= self.max_streams:
                del streams[next(iter(streams))]  # least recently used
            streams[key] = stream
        else:
            # Move to the end: dict order doubles as recency order.
            del streams[key]
            streams[key] = stream
            if flags & SYN and (seq + 1) & 0xFFFFFFFF != stream.next_seq:
                stream = streams[key] = _Stream((seq + 1) & 0xFFFFFFFF)  # new connection
        out: list[Framed] | tuple[Framed, ...] = _NOTHING
        if payload and (stream.is_sip or stream.skipped <= NOT_SIP_AFTER):
            if flags & SYN:  # data on a SYN (TCP Fast Open) starts after the SYN's number
                seq = (seq + 1) & 0xFFFFFFFF
            if self._accept(stream, seq, payload):
                out = _frame(stream)
        if flags & (FIN | RST):
            del streams[key]
            if stream.buf and stream.is_sip:
                rest = bytes(stream.buf).strip(b"\r\n")
                if rest:
                    out = [*out, (rest, "connection closed before the message was complete")]
        return out

    def _accept(self, stream: _Stream, seq: int, payload: bytes) -> bool:
        """Deliver ``payload`` in order; True when new bytes reached the stream buffer."""
        ahead = (seq - stream.next_seq) & 0xFFFFFFFF
        if ahead == 0:
            stream.buf += payload
            stream.next_seq = (seq + len(payload)) & 0xFFFFFFFF
        elif ahead < 0x80000000:  # from the future: wait for the gap to fill
            if stream.pending_bytes + len(payload) > MAX_OUT_OF_ORDER:
                self._skip_gap(stream)
                return self._accept(stream, seq, payload)
            old = stream.pending.get(seq)
            if old is None or len(old) < len(payload):
                stream.pending[seq] = payload
                stream.pending_bytes += len(payload) - (len(old) if old else 0)
            return False
        else:  # starts in the past: a retransmission, or an overlap with a new tail
            behind = 0x100000000 - ahead
            if behind >= len(payload):
                return False
            stream.buf += payload[behind:]
            stream.next_seq = (seq + len(payload)) & 0xFFFFFFFF
        if stream.pending:
            self._drain(stream)
        return True

    def _drain(self, stream: _Stream) -> None:
        pending = stream.pending
        progress = True
        while progress and pending:
            progress = False
            for seq in list(pending):
                ahead = (seq - stream.next_seq) & 0xFFFFFFFF
                if ahead < 0x80000000 and ahead != 0:
                    continue  # still in the future
                data = pending.pop(seq)
                stream.pending_bytes -= len(data)
                behind = 0 if ahead == 0 else 0x100000000 - ahead
                if behind < len(data):
                    stream.buf += data[behind:]
                    stream.next_seq = (seq + len(data)) & 0xFFFFFFFF
                    progress = True

    def _skip_gap(self, stream: _Stream) -> None:
        """Give up on missing bytes: jump to the earliest waiting segment."""
        nearest = min(stream.pending, key=lambda s: (s - stream.next_seq) & 0xFFFFFFFF)
        stream.buf.clear()  # the message the hole cut is lost; framing resyncs
        stream.next_seq = nearest
        self._drain(stream)


def _frame(stream: _Stream) -> list[Framed]:
    """Cut complete messages off the front of the stream buffer."""
    buf = stream.buf
    out: list[Framed] = []
    pos = 0
    size = len(buf)
    while pos < size:
        byte = buf[pos]
        if byte == 13 or byte == 10:  # CRLF keep-alive or padding between messages
            pos += 1
            stream.skipped += 1
            continue
        if START_LINE.match(buf, pos) is None:
            newline = buf.find(b"\n", pos)
            if newline < 0:
                if size - pos > MAX_HEAD:
                    stream.skipped += size - pos
                    pos = size
                break  # wait for the rest of the line
            stream.skipped += newline + 1 - pos
            pos = newline + 1
            continue
        end = header_end(buf, pos)
        if end < 0:
            if size - pos > MAX_HEAD:
                out.append((bytes(buf[pos:]), "header fields longer than 64 KiB"))
                pos = size
            break
        length, known = message_length(buf, pos, end)
        if pos + length > size:
            break
        out.append((bytes(buf[pos:pos + length]),
                    "" if known else "no Content-Length on a stream transport"))
        stream.is_sip = True
        pos += length
    if pos:
        del buf[:pos]
    if not stream.is_sip and stream.skipped > NOT_SIP_AFTER:
        buf.clear()
    return out
