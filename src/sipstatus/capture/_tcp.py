"""TCP: per-direction reassembly and SIP message framing (RFC 3261 §18.3).

Each direction of a connection is a byte stream keyed by ``(src, sport, dst, dport)``.
Bytes are delivered once and in order:

- a segment that starts at the expected sequence number is appended;
- a retransmission (entirely before the expected number) is dropped; a segment that overlaps
  what was already delivered contributes only its new tail (the first copy of a byte wins,
  as with IP fragments, and also among segments waiting for a gap to fill);
- a segment from the future waits in the stream's :class:`ByteWindow` until the gap is
  filled, and the present prefix is delivered as soon as it forms: time in proportion to the
  bytes, whatever the order and size of the segments. A stream waits for a gap over at most
  ``max_window`` bytes (``MAX_OUT_OF_ORDER``, or an eighth of the TCP share if less): past
  that (a packet the capture missed), it skips to the waiting data; the message cut by the
  hole is lost and framing resynchronises on the next start line.

Framing (see ``_head``): leading CRLFs (keep-alives, RFC 5626 §4.4.1) are skipped; a message is
its head up to the empty line plus Content-Length bytes of body. Bytes that do not start with a
SIP start line are skipped line by line until one does; a stream that shows no start line in its
first ``NOT_SIP_AFTER`` bytes is taken for another protocol and ignored from then on. The
framer remembers how far it searched and how long the message at the front is, so a message
arriving in many small segments is searched once, not once per segment.

A message is complete in the segment carrying its last byte: that segment's frame is the one
reported, as Wireshark does. A message longer than ``max_message`` (a quarter of the TCP share)
is not held: its head is kept, its body counted off as it goes by, and the head is reported in
the segment carrying the body's last byte, with a problem and the ``tcp_bytes`` flag.

Memory: every stream's unframed bytes, its window (two bytes per position of its span) and
``STREAM_ENTRY_BYTES`` are counted together against ``max_bytes`` (the TCP share of the scan's
memory budget); at most ``max_streams`` streams are tracked. Past either bound the least
recently active streams are forgotten first (``evicted["tcp_streams"]``, their bytes in
``evicted["tcp_bytes"]``); a stream is also forgotten at FIN or RST.
"""

from __future__ import annotations

from collections import Counter, OrderedDict

from sipstatus.capture._budget import STREAM_ENTRY_BYTES, MemoryBudget
from sipstatus.capture._head import START_LINE, header_end, message_length
from sipstatus.capture._window import ByteWindow

MAX_STREAMS = 8192
MAX_OUT_OF_ORDER = 1 << 20
MAX_HEAD = 64 * 1024  # a head larger than this is not waited for any longer
NOT_SIP_AFTER = 64 * 1024

FIN, SYN, RST = 0x01, 0x02, 0x04
_MASK32 = 0xFFFFFFFF
_CLOSED = "connection closed before the message was complete"
#: The flag of a message affected by an eviction of TCP bytes.
CUT = "tcp_bytes"

# What the framer hands back: the message bytes, a problem ("" if none) and an eviction flag
# ("" or CUT).
Framed = tuple[bytes, str, str]
_NOTHING: tuple[Framed, ...] = ()


class _Stream:
    __slots__ = ("buf", "cut_head", "cut_problem", "headed", "held", "is_sip", "known",
                 "need", "next_seq", "searched", "skip", "skipped", "window")

    def __init__(self, next_seq: int) -> None:
        self.next_seq = next_seq
        self.buf = bytearray()
        self.window = ByteWindow()  # data waiting for a gap; position 0 is next_seq
        self.is_sip = False
        self.skipped = 0  # bytes skipped before a start line
        self.need = 0  # the length of the message at the front, once its head is read
        self.known = False  # whether that length came from a Content-Length
        self.searched = 0  # bytes of the front message already searched for a line end
        self.headed = False  # the front message's start line matched
        self.skip = 0  # body bytes still to count off, of a message too long to hold
        self.cut_head = b""  # that message's head
        self.cut_problem = ""
        self.held = 0  # bytes counted against the TCP share (besides STREAM_ENTRY_BYTES)


class TcpReassembler:
    """Feed segments with :meth:`segment`; it returns the SIP messages they complete."""

    def __init__(self, max_streams: int = MAX_STREAMS, max_bytes: int | None = None,
                 evicted: Counter[str] | None = None) -> None:
        share = MemoryBudget().tcp if max_bytes is None else max_bytes
        self.max_bytes = share
        self.max_streams = max(1, min(max_streams, share // (2 * STREAM_ENTRY_BYTES)))
        self.max_window = min(MAX_OUT_OF_ORDER, share // 8)
        self.max_message = max(MAX_HEAD, share // 4)
        self.evicted: Counter[str] = Counter() if evicted is None else evicted
        self.held = 0
        self._streams: OrderedDict[tuple[object, ...], _Stream] = OrderedDict()

    def __len__(self) -> int:
        return len(self._streams)

    def segment(self, key: tuple[object, ...], seq: int, flags: int,
                payload: bytes) -> tuple[Framed, ...] | list[Framed]:
        streams = self._streams
        stream = streams.get(key)
        if stream is None:
            if flags & RST or not (payload or flags & SYN):
                return _NOTHING
            stream = _Stream((seq + 1) & _MASK32 if flags & SYN else seq)
            if len(streams) >= self.max_streams:
                self._forget(next(iter(streams)))
            streams[key] = stream
            self.held += STREAM_ENTRY_BYTES
        else:
            streams.move_to_end(key)  # the order of the streams is their recency
            if flags & SYN and (seq + 1) & _MASK32 != stream.next_seq:  # a new connection
                self._forget(key, evicted=False)
                stream = streams[key] = _Stream((seq + 1) & _MASK32)
                self.held += STREAM_ENTRY_BYTES
        out: list[Framed] | tuple[Framed, ...] = _NOTHING
        if payload and (stream.is_sip or stream.skipped <= NOT_SIP_AFTER):
            if flags & SYN:  # data on a SYN (TCP Fast Open) starts after the SYN's number
                seq = (seq + 1) & _MASK32
            if self._accept(stream, seq, payload):
                out = self._frame(stream)
            held = len(stream.buf) + 2 * len(stream.window) + len(stream.cut_head)
            self.held += held - stream.held
            stream.held = held
        if flags & (FIN | RST):
            self._forget(key, evicted=False)
            if stream.is_sip and stream.skip:
                out = [*out, (stream.cut_head, _CLOSED, CUT)]
            elif stream.is_sip and stream.buf:
                rest = bytes(stream.buf).strip(b"\r\n")
                if rest:
                    out = [*out, (rest, _CLOSED, "")]
        elif self.held > self.max_bytes:
            self._make_room()
        return out

    def _forget(self, key: tuple[object, ...], *, evicted: bool = True) -> None:
        stream = self._streams.pop(key)
        self.held -= stream.held + STREAM_ENTRY_BYTES
        if evicted:
            self.evicted["tcp_streams"] += 1
            lost = len(stream.buf) + stream.window.filled + len(stream.cut_head)
            if lost:
                self.evicted[CUT] += lost

    def _make_room(self) -> None:
        """Forget the least recently active streams (the current one last) until the rest
        fit in the share."""
        streams = self._streams
        while self.held > self.max_bytes and streams:
            self._forget(next(iter(streams)))

    def _accept(self, stream: _Stream, seq: int, payload: bytes) -> bool:
        """Deliver ``payload`` in order; True when new bytes reached the stream buffer."""
        window = stream.window
        delivered = False
        while True:
            ahead = (seq - stream.next_seq) & _MASK32
            if ahead >= 0x80000000:  # starts in the past: a retransmission, or an overlap
                behind = 0x100000000 - ahead
                if behind >= len(payload):
                    return delivered
                payload = payload[behind:]
                seq = stream.next_seq
                ahead = 0
            if ahead == 0 or ahead + len(payload) <= self.max_window:
                break
            if window.filled:  # data waits behind a gap that may never fill: skip the gap
                self._skip_gap(stream)
            else:  # nothing waits: give up the gap before this segment at once
                self._lose_buffer(stream)
                window.clear()
                stream.next_seq = seq
            delivered = True
        if ahead == 0 and not len(window):
            stream.buf += payload
            stream.next_seq = (seq + len(payload)) & _MASK32
            return True
        window.write(ahead, payload)
        return self._deliver(stream) or delivered

    def _deliver(self, stream: _Stream) -> bool:
        """Move the window's present prefix to the stream buffer."""
        count = stream.window.present_prefix()
        if not count:
            return False
        stream.buf += stream.window.take(count)
        stream.next_seq = (stream.next_seq + count) & _MASK32
        return True

    def _skip_gap(self, stream: _Stream) -> None:
        """Give up on missing bytes: jump to the earliest waiting ones."""
        self._lose_buffer(stream)
        gap = stream.window.first_present()
        stream.window.drop(gap)
        stream.next_seq = (stream.next_seq + gap) & _MASK32
        self._deliver(stream)

    def _lose_buffer(self, stream: _Stream) -> None:
        """Drop the unframed bytes (the message a hole cut); framing resyncs."""
        lost = len(stream.buf) + len(stream.cut_head)
        if lost:
            self.evicted[CUT] += lost
        stream.buf.clear()
        stream.need = stream.searched = stream.skip = 0
        stream.headed = False
        stream.cut_head = b""

    def _frame(self, stream: _Stream) -> list[Framed]:
        """Cut complete messages off the front of the stream buffer."""
        buf = stream.buf
        out: list[Framed] = []
        size = len(buf)
        pos = 0
        if stream.skip:  # counting off the body of a message too long to hold
            pos = min(stream.skip, size)
            stream.skip -= pos
            self.evicted[CUT] += pos
            if stream.skip:
                del buf[:pos]
                return out
            out.append((stream.cut_head, stream.cut_problem, CUT))
            stream.cut_head = b""
        elif size < stream.need:
            return out
        while pos < size:
            if not stream.headed:
                byte = buf[pos]
                if byte == 13 or byte == 10:  # CRLF keep-alive or padding between messages
                    pos += 1
                    stream.skipped += 1
                    continue
                newline = buf.find(b"\n", pos + stream.searched)
                if newline < 0:
                    if size - pos > MAX_HEAD:
                        stream.skipped += size - pos
                        pos = size
                    else:
                        stream.searched = size - pos
                    break  # wait for the rest of the line
                stream.searched = 0
                if START_LINE.match(buf, pos) is None:
                    stream.skipped += newline + 1 - pos
                    pos = newline + 1
                    continue
                stream.headed = True
            if not stream.need:
                end = header_end(buf, pos + max(stream.searched - 3, 0))
                if end < 0:
                    if size - pos > MAX_HEAD:
                        out.append((bytes(buf[pos:]), "header fields longer than 64 KiB", ""))
                        pos = size
                        stream.headed = False
                        stream.searched = 0
                    else:
                        stream.searched = size - pos
                    break
                length, known = message_length(buf, pos, end)
                stream.is_sip = True
                stream.searched = 0
                if length > self.max_message:
                    pos = self._cut(stream, buf, pos, end, length)
                    if stream.skip:
                        break
                    out.append((stream.cut_head, stream.cut_problem, CUT))
                    stream.cut_head = b""
                    continue
                stream.need = length
                stream.known = known
            if pos + stream.need > size:
                break
            out.append((bytes(buf[pos:pos + stream.need]),
                        "" if stream.known else "no Content-Length on a stream transport", ""))
            pos += stream.need
            stream.need = 0
            stream.headed = False
        if pos:
            del buf[:pos]
        if not stream.is_sip and stream.skipped > NOT_SIP_AFTER:
            buf.clear()
            stream.searched = 0
        return out

    def _cut(self, stream: _Stream, buf: bytearray, pos: int, end: int, length: int) -> int:
        """Keep the head of a message too long to hold and count its body off; return the
        position after what was counted."""
        body = length - (end - pos)
        stream.cut_head = bytes(buf[pos:end])
        stream.cut_problem = (f"body of {body} bytes skipped unread: longer than the "
                              f"{self.max_message} bytes a message may hold in the memory "
                              f"budget")
        counted = min(body, len(buf) - end)
        stream.skip = body - counted
        self.evicted[CUT] += counted
        stream.headed = False
        return end + counted
