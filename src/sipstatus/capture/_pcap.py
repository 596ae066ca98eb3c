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
- Either one compressed with gzip (recognised by its magic bytes, not by the file name).

Damage (a record running past the end of the file, an impossible record or block length, a
block whose trailing length disagrees with its leading one) raises :class:`CaptureError` naming
the frame that could not be read and the byte offset of its header in the decompressed file,
after every earlier record has been yielded.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from collections.abc import Iterator
from typing import BinaryIO, Protocol

from sipstatus.capture._errors import CaptureError

Record = tuple[int, int, int, int, bytes]  # frame, seconds, nanoseconds, link type, data

_CHUNK = 1 << 20
# Wireshark refuses records larger than 256 KiB (WTAP_MAX_PACKET_SIZE_STANDARD); anything
# larger is a damaged length field, not a packet.
MAX_RECORD = 262_144
_MAX_BLOCK = MAX_RECORD + 4096

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


class CaptureFile:
    """Iterate the records of one capture file (see the module docstring).

    ``position()`` and ``size`` report progress in bytes of the file on disk (compressed bytes
    for a gzip file).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self.size = os.path.getsize(self.path)
        self._raw: BinaryIO | None = None

    def position(self) -> int:
        raw = self._raw
        if raw is None or raw.closed:
            return self.size
        return raw.tell()

    def __iter__(self) -> Iterator[Record]:
        with open(self.path, "rb") as raw:
            self._raw = raw
            magic = raw.read(2)
            raw.seek(0)
            if magic == _GZIP:
                with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                    yield from self._records(unzipped)
            else:
                yield from self._records(raw)

    def _records(self, f: _Readable) -> Iterator[Record]:
        reader = _Chunks(f, self.path)
        head = reader.peek(0, 4)
        if head is None:
            raise CaptureError("empty or too short to be a capture file", frame=0, offset=0,
                               path=self.path)
        if head in _PCAP_MAGIC:
            yield from _pcap(reader, self.path)
        elif head == _SHB:
            yield from _pcapng(reader, self.path)
        else:
            raise CaptureError(f"not a pcap or pcapng file (magic {head.hex()})", frame=0,
                               offset=0, path=self.path)


class _Chunks:
    """A window on a stream: ``buf[i:]`` holds bytes from file offset ``base + i`` on."""

    __slots__ = ("base", "buf", "eof", "f", "gzip_error", "path")

    def __init__(self, f: _Readable, path: str) -> None:
        self.f = f
        self.path = path
        self.buf = b""
        self.base = 0
        self.eof = False
        self.gzip_error = ""

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
            try:
                more = self.f.read(max(_CHUNK, n - have))
            except (EOFError, OSError, zlib.error) as exc:
                # A gzip stream that ends early or is corrupt: the data stops here.
                self.eof = True
                self.gzip_error = str(exc)
                break
            if not more:
                self.eof = True
                break
            parts.append(more)
            have += len(more)
        self.buf = b"".join(parts)
        return 0

    def peek(self, i: int, n: int) -> bytes | None:
        i = self.fill(i, n)
        chunk = self.buf[i:i + n]
        return chunk if len(chunk) == n else None


def _truncated(reader: _Chunks, what: str, frame: int, offset: int) -> CaptureError:
    detail = f" (gzip: {reader.gzip_error})" if reader.gzip_error else ""
    return CaptureError(f"capture ends in the middle of {what}{detail}", frame=frame,
                        offset=offset, path=reader.path)


def _pcap(reader: _Chunks, path: str) -> Iterator[Record]:
    i = reader.fill(0, 24)
    header = reader.buf[i:i + 24]
    if len(header) < 24:
        raise _truncated(reader, "the pcap file header", 0, 0)
    endian, nano_per_tick = _PCAP_MAGIC[header[:4]]
    snaplen, network = struct.unpack_from(endian + "II", header, 16)
    linktype = network & 0xFFFF
    limit = max(snaplen, MAX_RECORD)
    unpack = struct.Struct(endian + "IIII").unpack_from
    i += 24
    frame = 0
    while True:
        buf = reader.buf
        if len(buf) - i < 16:
            i = reader.fill(i, 16)
            buf = reader.buf
            if len(buf) == i:
                return  # clean end of file
            if len(buf) - i < 16:
                raise _truncated(reader, "a record header", frame + 1, reader.base + i)
        sec, frac, caplen, _origlen = unpack(buf, i)
        if caplen > limit:
            raise CaptureError(f"impossible record length {caplen}", frame=frame + 1,
                               offset=reader.base + i, path=path)
        end = i + 16 + caplen
        if end > len(buf):
            i = reader.fill(i, 16 + caplen)
            buf = reader.buf
            end = i + 16 + caplen
            if end > len(buf):
                raise _truncated(reader, "a packet", frame + 1, reader.base + i)
        frame += 1
        yield frame, sec, frac * nano_per_tick, linktype, buf[i + 16:end]
        i = end


def _idb(body: bytes, endian: str) -> tuple[int, int, int]:
    """Interface Description Block body -> (link type, ticks per second, offset seconds)."""
    linktype = struct.unpack_from(endian + "H", body, 0)[0]
    ticks = 1_000_000
    offset = 0
    pos = 8
    while pos + 4 <= len(body):
        code, length = struct.unpack_from(endian + "HH", body, pos)
        if code == 0:
            break
        value = body[pos + 4:pos + 4 + length]
        if code == 9 and length >= 1:  # if_tsresol: 10^-n, or 2^-n with the high bit set
            res = value[0]
            ticks = 1 << (res & 0x7F) if res & 0x80 else 10 ** res
        elif code == 14 and length >= 8:  # if_tsoffset, seconds
            offset = struct.unpack_from(endian + "q", value, 0)[0]
        pos += 4 + ((length + 3) & ~3)
    return linktype, ticks, offset


def _pcapng(reader: _Chunks, path: str) -> Iterator[Record]:
    endian = "<"
    u32 = struct.Struct("<I").unpack_from
    interfaces: list[tuple[int, int, int]] = []
    frame = 0
    i = 0
    while True:
        buf = reader.buf
        if len(buf) - i < 12:
            i = reader.fill(i, 12)
            buf = reader.buf
            if len(buf) == i:
                return
            if len(buf) - i < 12:
                raise _truncated(reader, "a block header", frame + 1, reader.base + i)
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
        btype = u32(buf, i)[0]
        blen = u32(buf, i + 4)[0]
        if blen < 12 or blen % 4 or blen > _MAX_BLOCK:
            raise CaptureError(f"impossible block length {blen} (block type {btype:#x})",
                               frame=frame + 1, offset=reader.base + i, path=path)
        if len(buf) - i < blen:
            i = reader.fill(i, blen)
            buf = reader.buf
            if len(buf) - i < blen:
                raise _truncated(reader, "a block", frame + 1, reader.base + i)
        if u32(buf, i + blen - 4)[0] != blen:
            raise CaptureError(
                f"block length {blen} disagrees with its trailing copy (block type {btype:#x})",
                frame=frame + 1, offset=reader.base + i, path=path)
        if btype == 6 or btype == 2:  # Enhanced Packet Block, obsolete Packet Block
            if btype == 6:
                iface, hi, lo, caplen = struct.unpack_from(endian + "IIII", buf, i + 8)
            else:
                iface = struct.unpack_from(endian + "H", buf, i + 8)[0]
                hi, lo, caplen = struct.unpack_from(endian + "III", buf, i + 12)
            start = i + 28
            if caplen > blen - 32 or iface >= len(interfaces):
                why = (f"packet length {caplen} exceeds its block" if caplen > blen - 32
                       else f"packet on undeclared interface {iface}")
                raise CaptureError(why, frame=frame + 1, offset=reader.base + i, path=path)
            linktype, ticks, tsoffset = interfaces[iface]
            sec, sub = divmod((hi << 32) | lo, ticks)
            frame += 1
            yield (frame, sec + tsoffset, sub * 1_000_000_000 // ticks, linktype,
                   buf[start:start + caplen])
        elif btype == 3:  # Simple Packet Block: interface 0, no timestamp
            if not interfaces:
                raise CaptureError("packet on undeclared interface 0", frame=frame + 1,
                                   offset=reader.base + i, path=path)
            origlen = u32(buf, i + 8)[0]
            caplen = min(origlen, blen - 16)
            frame += 1
            yield frame, 0, 0, interfaces[0][0], buf[i + 12:i + 12 + caplen]
        elif btype == 1:
            interfaces.append(_idb(buf[i + 8:i + blen - 4], endian))
        i += blen
