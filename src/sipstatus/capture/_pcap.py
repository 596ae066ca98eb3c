"""Capture files: pcap and pcapng, optionally gzip-compressed, read as raw link-layer records.

A pure-Python reader (no dependency): records come out as ``(frame, sec, nsec, linktype, data)``
tuples, read from 1 MiB chunks with ``struct.unpack_from``, so memory stays bounded by the chunk
and the largest record. See docs/capture.md for the measurement behind not using dpkt.

Formats:
- pcap (libpcap): both byte orders, microsecond (``a1b2c3d4``) and nanosecond (``a1b23c4d``)
  timestamps; the link type's upper bits (FCS length) are ignored.
- pcapng: Section Header, Interface Description (``if_tsresol``, ``if_tsoffset``), Enhanced,
  Simple and obsolete Packet blocks; several sections, each with its own byte order and
  interfaces, and several interfaces of different link types. Other block types are skipped,
  as the format asks.
- Either one compressed with gzip (recognised by its magic bytes, not by the file name), one
  or more members, decompressed in bounded steps.

Damage comes in two kinds, both reported as :class:`CaptureError` with the frame and the byte
offset (in the decompressed file) of the record or block header:

- damage that ends the reading (a record or block running past the end of the data, a block
  length that is impossible or disagrees with its trailing copy, corrupt gzip data, an
  unknown byte order) is raised after every earlier record has been yielded;
- damage confined to one record or block whose length is known (a packet block too short for
  its fields or shorter than its packet, a packet on an undeclared interface, a pcap record
  longer than the snapshot length, an interface description that cannot be read) is passed
  to ``on_problem``, counted, and reading goes on with the next record.

Bounds: a record (or block) longer than ``max_record`` bytes is skipped without being read
into memory and counted in ``evicted_records``; at most ``MAX_INTERFACES`` interfaces are
kept per pcapng section (later ones are counted in ``evicted_interfaces`` and their packets
skipped and counted as evicted records).

Pieces: :func:`split_capture` cuts an uncompressed capture at record boundaries found by a
walk over the headers alone (:class:`RecordIndex`), and ``CaptureFile(path, piece=...)``
reads one :class:`Piece` with this same reader, from the piece's offset, frame count and
pcapng section state: the records, frame numbers and damage of the whole-file reading there.
"""

from __future__ import annotations

import io
import os
import struct
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Protocol

from sipstatus.capture._errors import CaptureError
from sipstatus.capture._files import file_size, open_binary

Record = tuple[int, int, int, int, bytes]  # frame, seconds, nanoseconds, link type, data
Interface = tuple[int, int, int]  # link type, ticks per second, offset seconds

#: Default longest record read into memory; a longer one is skipped unread and counted.
MAX_RECORD_BYTES = 64 << 20
#: Wireshark's largest ordinary packet (WTAP_MAX_PACKET_SIZE_STANDARD): a pcap record up to
#: this length is read even when the file's snapshot length is smaller (writers understate it);
#: a longer one that also exceeds the snapshot length is damage.
SNAPLEN_TOLERANCE = 262_144
#: Interfaces kept per pcapng section (the obsolete Packet Block numbers them in 16 bits).
MAX_INTERFACES = 65_536

_CHUNK = 1 << 20
_GZIP_INPUT = 1 << 16  # compressed bytes decompressed per step
_GZIP_WBITS = 16 + zlib.MAX_WBITS  # a gzip member: header, deflate data, CRC-32 and size
_BLOCK_OVERHEAD = 4096  # a pcapng block's header, trailer and options around its packet
_PACKET_BLOCK_MIN = 32  # Enhanced and obsolete Packet Blocks: 28 bytes of fields + trailer
_SIMPLE_BLOCK_MIN = 16
_SECTION_BLOCK_MIN = 28

_PCAP_MAGIC = {
    b"\xd4\xc3\xb2\xa1": ("<", 1000),  # little-endian, microseconds
    b"\xa1\xb2\xc3\xd4": (">", 1000),
    b"\x4d\x3c\xb2\xa1": ("<", 1),  # little-endian, nanoseconds
    b"\xa1\xb2\x3c\x4d": (">", 1),
}
_SHB = b"\n\r\r\n"  # pcapng Section Header Block type, the same in both byte orders
_GZIP = b"\x1f\x8b"


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Section:
    """What a pcapng reader knows when it reaches a block: its section's byte order and
    interfaces (``None`` for one that names no link type), how many interfaces the section
    declared, and where each link type of the file was first declared."""

    endian: str = "<"
    interfaces: tuple[Interface | None, ...] = ()
    declared: int = 0
    linktype_offsets: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of whole records of an uncompressed capture: from the record (pcap) or block
    (pcapng) at byte ``start`` to the one at ``end`` (``None``: the end of the file), after
    ``frames`` frames; ``section`` is the pcapng reader's state at ``start``. Read alone, its
    records, frame numbers, damage and offsets are those the reader of the whole file meets
    there, provided nothing before ``start`` ended that reading."""

    start: int
    end: int | None
    frames: int
    section: Section = Section()


class CaptureFile:
    """Iterate the records of one capture file (see the module docstring).

    ``position()`` and ``size`` report progress in bytes of the file on disk (compressed bytes
    for a gzip file). ``on_problem`` receives every problem that does not end the reading
    (:meth:`report`); ``damaged_records``, ``evicted_records`` and ``evicted_interfaces``
    count what was skipped. ``linktype_offsets`` maps each link type declared so far to the
    byte offset of its first declaration (pcap file header or Interface Description Block).
    """

    def __init__(self, path: str | os.PathLike[str], *, max_record: int = MAX_RECORD_BYTES,
                 on_problem: Callable[[CaptureError], None] | None = None,
                 piece: Piece | None = None) -> None:
        self.path = os.fspath(path)
        self.piece = piece  # read only these records (see split_capture)
        self.size = file_size(self.path)
        self.max_record = max_record
        self.on_problem = on_problem
        self.damaged_records = 0
        self.evicted_records = 0
        self.evicted_interfaces = 0
        self.linktype_offsets: dict[int, int] = (
            dict(piece.section.linktype_offsets) if piece is not None else {})
        self._raw: IO[bytes] | None = None

    def position(self) -> int:
        raw = self._raw
        if raw is None or raw.closed:
            return self.size
        return raw.tell()

    def report(self, problem: CaptureError) -> None:
        """Pass on a problem after which reading goes on."""
        if self.on_problem is not None:
            self.on_problem(problem)

    def __iter__(self) -> Iterator[Record]:
        with open_binary(self.path) as raw:
            self._raw = raw
            gunzip = _Gunzip(raw) if raw.read(2) == _GZIP else None
            raw.seek(0)
            if gunzip is not None and self.piece is not None:
                raise ValueError(f"{self.path}: a gzip-compressed capture cannot be read in "
                                 f"pieces")
            yield from self._records(_Chunks(gunzip or raw, gunzip))

    def _records(self, reader: _Chunks) -> Iterator[Record]:
        head = reader.peek(0, 4)
        if head is None:
            if reader.gzip_error:
                raise CaptureError(f"{reader.gzip_error}: no capture data could be read",
                                   frame=0, offset=0, path=self.path)
            raise CaptureError("empty or too short to be a capture file", frame=0, offset=0,
                               path=self.path)
        if head in _PCAP_MAGIC:
            yield from _pcap(reader, self, self.piece)
        elif head == _SHB:
            yield from _pcapng(reader, self, self.piece)
        else:
            raise CaptureError(f"not a pcap or pcapng file (magic {head.hex()})", frame=0,
                               offset=0, path=self.path)

    def damaged(self, reason: str, frame: int, offset: int, *, record: bool = True) -> None:
        """Report damage confined to one record or block; ``record``: a record was lost."""
        if record:
            self.damaged_records += 1
        self.report(CaptureError(reason, frame=frame, offset=offset, path=self.path))

    def evicted(self, length: int, frame: int, offset: int) -> None:
        """Report a record skipped unread because it is longer than ``max_record``."""
        self.evicted_records += 1
        self.report(CaptureError(
            f"record of {length} bytes is longer than the record budget of {self.max_record} "
            f"bytes: skipped unread", frame=frame, offset=offset, path=self.path))


class _Gunzip:
    """A gzip file (one or more members, zero padding between them tolerated) decompressed in
    steps of bounded output. Damage ends the data: everything decompressed before the damaged
    byte is kept (the step that met it is replayed a byte at a time), and ``error`` says what
    went wrong."""

    __slots__ = ("ended", "error", "inflater", "pending", "raw", "replay", "step")

    def __init__(self, raw: _Readable) -> None:
        self.raw = raw
        self.error = ""
        self.ended = False
        self.pending = memoryview(b"")  # compressed bytes not yet taken by the inflater
        self.step = _GZIP_INPUT  # compressed bytes given at once; 1 while replaying damage
        self.replay = 0  # bytes left to replay a byte at a time
        self.inflater: zlib._Decompress | None = zlib.decompressobj(_GZIP_WBITS)

    def read(self, size: int = -1, /) -> bytes:
        """At most ``size`` decompressed bytes; ``b""`` only at the end of the data."""
        limit = size if size > 0 else _CHUNK
        while not self.ended:
            if not self.pending:
                self.pending = memoryview(self.raw.read(_GZIP_INPUT))
                if not self.pending:
                    return self._input_ended()
            inflater = self.inflater
            if inflater is None:  # between members: zero padding, then the next member
                padding = len(self.pending) - len(bytes(self.pending).lstrip(b"\0"))
                self.pending = self.pending[padding:]
                if not self.pending:
                    continue
                inflater = self.inflater = zlib.decompressobj(_GZIP_WBITS)
            piece = self.pending[:self.step]
            before = inflater.copy() if self.step > 1 else None
            try:
                data = inflater.decompress(piece, limit)
            except zlib.error as exc:
                if before is not None:  # replay from before this step, to keep its output
                    self.inflater = before
                    self.step, self.replay = 1, len(piece)
                    continue
                return self._fail(f"gzip data is corrupt: {exc}")
            taken = len(piece) - len(inflater.unconsumed_tail) - len(inflater.unused_data)
            self.pending = self.pending[taken:]
            if self.step == 1:
                self.replay -= taken
                if self.replay <= 0:
                    self.step = _GZIP_INPUT
            if inflater.eof:
                self.inflater = None
            if data:
                return data
        return b""

    def _input_ended(self) -> bytes:
        inflater = self.inflater
        if inflater is None:
            self.ended = True
            return b""
        try:
            data = inflater.flush()  # output held back by the last step's limit
        except zlib.error as exc:
            return self._fail(f"gzip data is corrupt: {exc}")
        if data:
            return data
        if not inflater.eof:
            return self._fail("gzip stream ends early (the compressed file is cut short)")
        self.inflater = None
        return b""

    def _fail(self, error: str) -> bytes:
        self.error = error
        self.ended = True
        return b""


class _Chunks:
    """A window on a stream: ``buf[i:]`` holds bytes from file offset ``base + i`` on."""

    __slots__ = ("base", "buf", "eof", "f", "gunzip")

    def __init__(self, f: _Readable, gunzip: _Gunzip | None) -> None:
        self.f = f
        self.gunzip = gunzip
        self.buf = b""
        self.base = 0
        self.eof = False

    @property
    def gzip_error(self) -> str:
        return self.gunzip.error if self.gunzip is not None else ""

    def fill(self, i: int, n: int) -> int:
        """Make ``buf[i:i+n]`` available if the file has it; return the new index of ``i``."""
        buf = self.buf
        if len(buf) - i >= n:
            return i
        rest = buf[i:]
        self.base += i
        parts = [rest]
        have = len(rest)
        while have < n and not self.eof:
            more = self.f.read(max(_CHUNK, n - have))
            if not more:
                self.eof = True
                break
            parts.append(more)
            have += len(more)
        self.buf = b"".join(parts)
        return 0

    def skip(self, i: int, n: int) -> int:
        """Pass over ``n`` bytes from ``buf[i]`` on, reading in chunks and keeping none; return
        the index just past them, or -1 if the data ends first."""
        if len(self.buf) - i >= n:
            return i + n
        missing = n - (len(self.buf) - i)
        self.base += len(self.buf)
        self.buf = b""
        while missing > 0 and not self.eof:
            piece = self.f.read(min(missing, _CHUNK))
            if not piece:
                self.eof = True
                break
            missing -= len(piece)
            self.base += len(piece)
        return -1 if missing > 0 else 0

    def peek(self, i: int, n: int) -> bytes | None:
        i = self.fill(i, n)
        chunk = self.buf[i:i + n]
        return chunk if len(chunk) == n else None

    def restart(self, offset: int) -> int:
        """Go on from file offset ``offset`` (an uncompressed file); return its index."""
        if not isinstance(self.f, io.BufferedIOBase):
            raise ValueError("only an uncompressed capture can be read from an offset")
        self.f.seek(offset)
        self.buf = b""
        self.base = offset
        self.eof = False
        return 0


def _cut(reader: _Chunks, what: str, frame: int, offset: int, path: str) -> CaptureError:
    """The data ends in the middle of ``what``: a short file, or the gzip damage that ended
    the decompressed data."""
    if reader.gzip_error:
        return CaptureError(f"{reader.gzip_error}; the decompressed capture stops in the middle "
                            f"of {what} (byte offsets count decompressed bytes)",
                            frame=frame, offset=offset, path=path)
    return CaptureError(f"capture ends in the middle of {what}", frame=frame, offset=offset,
                        path=path)


def _check_end(reader: _Chunks, frame: int, offset: int, path: str) -> None:
    """At a record boundary with no data left: a clean end, unless gzip damage ended it."""
    if reader.gzip_error:
        raise CaptureError(f"{reader.gzip_error}; the decompressed capture stops after a whole "
                           f"record (byte offsets count decompressed bytes)",
                           frame=frame, offset=offset, path=path)


def _pcap(reader: _Chunks, capture: CaptureFile, piece: Piece | None) -> Iterator[Record]:
    path = capture.path
    i = reader.fill(0, 24)
    header = reader.buf[i:i + 24]
    if len(header) < 24:
        raise _cut(reader, "the pcap file header", 0, 0, path)
    endian, nano_per_tick = _PCAP_MAGIC[header[:4]]
    snaplen, network = struct.unpack_from(endian + "II", header, 16)
    linktype = network & 0xFFFF
    capture.linktype_offsets.setdefault(linktype, 20)
    snap_limit = max(snaplen, SNAPLEN_TOLERANCE)
    limit = min(snap_limit, capture.max_record)
    unpack = struct.Struct(endian + "IIII").unpack_from
    i += 24
    frame = 0
    end_offset = sys.maxsize
    if piece is not None:
        i, frame = reader.restart(piece.start), piece.frames
        end_offset = piece.end if piece.end is not None else end_offset
    while True:
        if reader.base + i >= end_offset:
            return
        buf = reader.buf
        if len(buf) - i < 16:
            i = reader.fill(i, 16)
            buf = reader.buf
            if len(buf) == i:
                _check_end(reader, frame + 1, reader.base + i, path)
                return
            if len(buf) - i < 16:
                raise _cut(reader, "a record header", frame + 1, reader.base + i, path)
        sec, frac, caplen, _origlen = unpack(buf, i)
        if caplen > limit:
            frame += 1
            start = reader.base + i
            impossible = caplen > snap_limit
            what = (f"a record (impossible record length {caplen}, snapshot length {snaplen})"
                    if impossible else f"a record of {caplen} bytes")
            i = reader.skip(i + 16, caplen)
            if i < 0:
                raise _cut(reader, what, frame, start, path)
            if impossible:
                capture.damaged(f"impossible record length {caplen} (snapshot length "
                                f"{snaplen}): record skipped", frame, start)
            else:
                capture.evicted(caplen, frame, start)
            continue
        end = i + 16 + caplen
        if end > len(buf):
            i = reader.fill(i, 16 + caplen)
            buf = reader.buf
            end = i + 16 + caplen
            if end > len(buf):
                raise _cut(reader, "a packet", frame + 1, reader.base + i, path)
        frame += 1
        yield frame, sec, frac * nano_per_tick, linktype, buf[i + 16:end]
        i = end


def _interface(body: bytes, endian: str) -> tuple[Interface | None, str]:
    """Interface Description Block body -> (link type, ticks per second, offset seconds), or
    ``None`` when it is too short to name a link type; and what was wrong with it, or ""."""
    if len(body) < 8:
        return None, f"interface description of {len(body)} bytes is too short (8 needed)"
    linktype = struct.unpack_from(endian + "H", body, 0)[0]
    ticks = 1_000_000
    offset = 0
    problem = ""
    pos = 8
    while pos + 4 <= len(body):
        code, length = struct.unpack_from(endian + "HH", body, pos)
        if code == 0:
            break
        end = pos + 4 + length
        if end > len(body):
            problem = problem or f"interface option {code} runs past its block"
            break
        if code == 9 and length == 1:  # if_tsresol: 10^-n, or 2^-n with the high bit set
            res = body[pos + 4]
            ticks = 1 << (res & 0x7F) if res & 0x80 else 10 ** res
        elif code == 14 and length == 8:  # if_tsoffset, seconds
            offset = struct.unpack_from(endian + "q", body, pos + 4)[0]
        elif code == 9 or code == 14:
            name = "if_tsresol" if code == 9 else "if_tsoffset"
            problem = problem or f"{name} option of {length} bytes"
        pos += 4 + ((length + 3) & ~3)
    return (linktype, ticks, offset), problem


def _pcapng(reader: _Chunks, capture: CaptureFile, piece: Piece | None) -> Iterator[Record]:
    path = capture.path
    largest = capture.max_record + _BLOCK_OVERHEAD
    section = piece.section if piece is not None else Section()
    endian = section.endian
    u32 = struct.Struct(endian + "I").unpack_from
    interfaces: list[Interface | None] = list(section.interfaces)
    declared = section.declared  # interfaces declared in this section, kept or not
    frame = 0
    i = 0
    end_offset = sys.maxsize
    if piece is not None:
        i, frame = reader.restart(piece.start), piece.frames
        end_offset = piece.end if piece.end is not None else end_offset
    while True:
        if reader.base + i >= end_offset:
            return
        buf = reader.buf
        if len(buf) - i < 12:
            i = reader.fill(i, 12)
            buf = reader.buf
            if len(buf) == i:
                _check_end(reader, frame + 1, reader.base + i, path)
                return
            if len(buf) - i < 12:
                raise _cut(reader, "a block header", frame + 1, reader.base + i, path)
        if buf[i:i + 4] == _SHB:
            bom = buf[i + 8:i + 12]
            if bom == b"\x4d\x3c\x2b\x1a":
                endian = "<"
            elif bom == b"\x1a\x2b\x3c\x4d":
                endian = ">"
            else:
                raise CaptureError("section header with an unknown byte-order magic",
                                   frame=frame + 1, offset=reader.base + i, path=path)
            u32 = struct.Struct(endian + "I").unpack_from
            interfaces = []
            declared = 0
        btype = u32(buf, i)[0]
        blen = u32(buf, i + 4)[0]
        if blen < 12 or blen % 4:
            raise CaptureError(f"impossible block length {blen} (block type {btype:#x})",
                               frame=frame + 1, offset=reader.base + i, path=path)
        if blen > largest:
            if btype in (2, 3, 6):
                frame += 1
            i, interface = _pass_over(reader, capture, i, btype, blen, frame, endian)
            if btype == 1:
                declared += 1
                if len(interfaces) < MAX_INTERFACES:
                    interfaces.append(interface)
                else:
                    capture.evicted_interfaces += 1
            elif btype in (2, 3, 6):
                capture.evicted(blen, frame, reader.base + i - blen)
            continue
        if len(buf) - i < blen:
            i = reader.fill(i, blen)
            buf = reader.buf
            if len(buf) - i < blen:
                raise _cut(reader, "a block", frame + 1, reader.base + i, path)
        if u32(buf, i + blen - 4)[0] != blen:
            raise CaptureError(
                f"block length {blen} disagrees with its trailing copy (block type {btype:#x})",
                frame=frame + 1, offset=reader.base + i, path=path)
        if btype == 6 or btype == 2:  # Enhanced Packet Block, obsolete Packet Block
            frame += 1
            if blen < _PACKET_BLOCK_MIN:
                capture.damaged(f"packet block of {blen} bytes is too short for its fields",
                                frame, reader.base + i)
                i += blen
                continue
            if btype == 6:
                iface, hi, lo, caplen = struct.unpack_from(endian + "IIII", buf, i + 8)
            else:
                iface = struct.unpack_from(endian + "H", buf, i + 8)[0]
                hi, lo, caplen = struct.unpack_from(endian + "III", buf, i + 12)
            interface = interfaces[iface] if iface < len(interfaces) else None
            if caplen > blen - _PACKET_BLOCK_MIN or interface is None:
                _lost_packet(capture, caplen > blen - _PACKET_BLOCK_MIN, caplen, iface,
                             declared, frame, reader.base + i)
                i += blen
                continue
            linktype, ticks, tsoffset = interface
            sec, sub = divmod((hi << 32) | lo, ticks)
            start = i + 28
            yield (frame, sec + tsoffset, sub * 1_000_000_000 // ticks, linktype,
                   buf[start:start + caplen])
        elif btype == 3:  # Simple Packet Block: interface 0, no timestamp
            frame += 1
            interface = interfaces[0] if interfaces else None
            if blen < _SIMPLE_BLOCK_MIN or interface is None:
                why = (f"simple packet block of {blen} bytes is too short for its fields"
                       if blen < _SIMPLE_BLOCK_MIN else "packet on undeclared interface 0"
                       if not declared else "packet on unreadable interface 0")
                capture.damaged(why, frame, reader.base + i)
                i += blen
                continue
            caplen = min(u32(buf, i + 8)[0], blen - _SIMPLE_BLOCK_MIN)
            yield frame, 0, 0, interface[0], buf[i + 12:i + 12 + caplen]
        elif btype == 1:
            declared += 1
            if len(interfaces) < MAX_INTERFACES:
                interface, problem = _interface(buf[i + 8:i + blen - 4], endian)
                if interface is not None:
                    capture.linktype_offsets.setdefault(interface[0], reader.base + i + 8)
                if problem:
                    capture.damaged(f"interface {declared - 1}: {problem}", frame + 1,
                                    reader.base + i, record=False)
                interfaces.append(interface)
            else:
                capture.evicted_interfaces += 1
                if capture.evicted_interfaces == 1:
                    capture.report(CaptureError(
                        f"more than {MAX_INTERFACES:,} interfaces in one section: later ones "
                        f"are not kept and their packets are skipped", frame=frame + 1,
                        offset=reader.base + i, path=path))
        elif btype == 0x0A0D0D0A and blen < _SECTION_BLOCK_MIN:
            capture.damaged(f"section header block of {blen} bytes is too short for its "
                            f"fields", frame + 1, reader.base + i, record=False)
        i += blen


def _lost_packet(capture: CaptureFile, too_long: bool, caplen: int, iface: int,
                 declared: int, frame: int, offset: int) -> None:
    """Report a packet block that cannot be read although its block can."""
    if too_long:
        capture.damaged(f"packet length {caplen} exceeds its block", frame, offset)
    elif iface >= declared:
        capture.damaged(f"packet on undeclared interface {iface}", frame, offset)
    elif iface >= MAX_INTERFACES:
        capture.evicted_records += 1  # its interface was not kept: already reported
    else:
        capture.damaged(f"packet on unreadable interface {iface}", frame, offset)


def _pass_over(reader: _Chunks, capture: CaptureFile, i: int, btype: int, blen: int,
               frame: int, endian: str) -> tuple[int, Interface | None]:
    """Skip a block longer than the record budget without holding it; return the index after
    it and, for an Interface Description Block, its interface (options left unread)."""
    path = capture.path
    start = reader.base + i
    interface: Interface | None = None
    if btype == 1:
        i = reader.fill(i, 16)
        if len(reader.buf) - i >= 16:
            linktype = struct.unpack_from(endian + "H", reader.buf, i + 8)[0]
            interface = (linktype, 1_000_000, 0)
            capture.linktype_offsets.setdefault(linktype, start + 8)
        capture.damaged(f"interface description block of {blen} bytes is longer than the "
                        f"record budget: its options are skipped unread", frame + 1, start,
                        record=False)
    elif btype == 0x0A0D0D0A:
        capture.damaged(f"section header block of {blen} bytes is longer than the record "
                        f"budget: its options are skipped unread", frame + 1, start,
                        record=False)
    current = frame if btype in (2, 3, 6) else frame + 1
    i = reader.skip(i, blen - 4)
    if i < 0:
        raise _cut(reader, "a block", current, start, path)
    i = reader.fill(i, 4)
    trailer = reader.buf[i:i + 4]
    if len(trailer) < 4:
        raise _cut(reader, "a block", current, start, path)
    if struct.unpack(endian + "I", trailer)[0] != blen:
        raise CaptureError(
            f"block length {blen} disagrees with its trailing copy (block type {btype:#x})",
            frame=current, offset=start, path=path)
    return i + 4, interface


class RecordIndex:
    """Where the records of an uncompressed capture start, from a walk over their headers
    alone (pcap record headers; pcapng block types and lengths, and the Section Header and
    Interface Description blocks a piece needs). Iterating yields ``(offset, frames)``: the
    byte offset of each record (pcap) or block (pcapng) and the frames before it, as the
    reader of the whole file counts them; :meth:`section` is the pcapng reader's state there.

    The walk stops, silently, at the first thing after which it could not tell where the
    reader would go on exactly: damage that ends the reading, a block longer than the record
    budget, more interfaces than a section keeps (the reader of the piece that holds it
    meets and reports it). A gzip-compressed file, or one that is no capture, yields
    nothing.
    """

    def __init__(self, path: str | os.PathLike[str], *,
                 max_record: int = MAX_RECORD_BYTES) -> None:
        self.path = os.fspath(path)
        self.max_record = max_record
        self._endian = "<"
        self._interfaces: list[Interface | None] = []
        self._declared = 0
        self._offsets: dict[int, int] = {}

    def section(self) -> Section:
        """The pcapng reader's state at the offset yielded last."""
        return Section(self._endian, tuple(self._interfaces), self._declared,
                       tuple(self._offsets.items()))

    def __iter__(self) -> Iterator[tuple[int, int]]:
        with open_binary(self.path) as raw:
            reader = _Chunks(raw, None)
            head = reader.peek(0, 4)
            if head in _PCAP_MAGIC:
                yield from self._pcap(reader, _PCAP_MAGIC[head][0])
            elif head == _SHB:
                yield from self._pcapng(reader)

    @staticmethod
    def _pcap(reader: _Chunks, endian: str) -> Iterator[tuple[int, int]]:
        caplen_at = struct.Struct(endian + "I").unpack_from
        i = 24
        frame = 0
        while True:
            i = reader.fill(i, 16)
            buf = reader.buf
            if len(buf) - i < 16:
                return  # the end, clean or cut
            while True:  # the headers in this chunk
                yield reader.base + i, frame
                frame += 1
                i += 16 + caplen_at(buf, i + 8)[0]
                if len(buf) - i < 16:
                    break
            if i > len(buf):  # a record reaching past the chunk
                i = reader.skip(len(buf), i - len(buf))
                if i < 0:
                    return

    def _pcapng(self, reader: _Chunks) -> Iterator[tuple[int, int]]:
        largest = self.max_record + _BLOCK_OVERHEAD
        u32 = struct.Struct("<I").unpack_from
        frame = 0
        i = 0
        while True:
            i = reader.fill(i, 12)
            buf = reader.buf
            if len(buf) - i < 12:
                return
            if buf[i:i + 4] == _SHB:
                bom = buf[i + 8:i + 12]
                if bom not in (b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d"):
                    return
                self._endian = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
                u32 = struct.Struct(self._endian + "I").unpack_from
                self._interfaces = []
                self._declared = 0
            btype = u32(buf, i)[0]
            blen = u32(buf, i + 4)[0]
            if (blen < 12 or blen % 4 or blen > largest
                    or (btype == 1 and self._declared >= MAX_INTERFACES)):
                return
            yield reader.base + i, frame
            i = reader.fill(i, blen)
            buf = reader.buf
            if len(buf) - i < blen or u32(buf, i + blen - 4)[0] != blen:
                return
            if btype == 6 or btype == 2 or btype == 3:
                frame += 1
            elif btype == 1:
                self._declared += 1
                interface, _ = _interface(buf[i + 8:i + blen - 4], self._endian)
                if interface is not None:
                    self._offsets.setdefault(interface[0], reader.base + i + 8)
                self._interfaces.append(interface)
            i += blen


def splittable(path: str | os.PathLike[str], piece_bytes: int) -> bool:
    """Whether :func:`split_capture` cuts the capture at ``path``: uncompressed and at least
    two pieces long."""
    if file_size(path) < 2 * piece_bytes:
        return False
    with open_binary(path) as raw:
        return raw.read(2) != _GZIP


def split_capture(path: str | os.PathLike[str], piece_bytes: int, *,
                  max_record: int = MAX_RECORD_BYTES) -> Iterator[Piece]:
    """The capture at ``path`` cut at record boundaries into pieces of about equal bytes, at
    least ``piece_bytes`` each, in order (found as the walk of :class:`RecordIndex` goes, the
    last one reaching to the end of the file). Nothing when it is not :func:`splittable`, or
    holds no record to cut at."""
    if not splittable(path, piece_bytes):
        return
    size = file_size(path)
    count = size // piece_bytes
    index = RecordIndex(path, max_record=max_record)
    start: Piece | None = None
    cut = 1
    for offset, frames in index:
        if start is None:
            start = Piece(offset, None, frames, index.section())
        elif offset >= size * cut // count:
            yield Piece(start.start, offset, start.frames, start.section)
            start = Piece(offset, None, frames, index.section())
            while offset >= size * cut // count:
                cut += 1
    if start is not None:
        yield start
