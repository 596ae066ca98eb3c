"""What the ladder tests share: the fixture captures, the scan's own records of them (as the
command line gives them), synthetic messages, and headless Chromium and xmllint runners."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import zlib
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from sipstatus._cli import main
from sipstatus._errors import SipParseError
from sipstatus._parse import parse
from sipstatus.capture import CapturedMessage, read
from sipstatus.capture._head import scan_head

ROOT = Path(__file__).resolve().parents[2]
CAPTURES = ROOT / "fixtures" / "captures"
GOLDEN = Path(__file__).resolve().parent / "golden"
#: The fixture captures (every one; several hold the same traffic in another container).
FIXTURES = sorted(p.name for p in CAPTURES.iterdir()
                  if p.suffix in (".pcap", ".pcapng", ".gz"))
#: Capture -> the capture whose golden files it must reproduce (same traffic, other framing).
SAME_AS = {
    "sipp-kamailio-fragments.null.pcap": "sipp-kamailio-fragments.pcapng",
    "sipp-kamailio-ipv6.rawip.pcap": "sipp-kamailio-ipv6.pcapng",
    "sipp-uas-codes.pcap.gz": "sipp-uas-codes.pcap",
}
#: The same traffic, but its times in microseconds where the other has nanoseconds: the same
#: ladder but for times rounded the other way.
SAME_BUT_TIMES = {"sipp-kamailio-udp-calls.vlan.pcap": "sipp-kamailio-udp-calls.pcapng"}
BASES = [name for name in FIXTURES if name not in SAME_AS and name not in SAME_BUT_TIMES]


def cli(*argv: str) -> tuple[int, str]:
    """Run ``sipstatus ARGV`` in this process: its exit status and standard output."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        status = main(list(argv))
    return status, out.getvalue()


@cache
def records(name: str) -> tuple[dict[str, Any], ...]:
    """``sipstatus scan --format jsonl`` of a fixture capture."""
    _, text = cli("scan", "--format", "jsonl", str(CAPTURES / name))
    return tuple(json.loads(line) for line in text.splitlines())


@cache
def messages(name: str) -> tuple[CapturedMessage, ...]:
    return tuple(read(CAPTURES / name))


def synthetic(data: bytes, frame: int = 1, time: float = 1000.0, src: str = "10.0.0.1",
              sport: int = 5060, dst: str = "10.0.0.2", dport: int = 5060,
              transport: str = "udp") -> CapturedMessage:
    """A captured message made from bytes (as ``capture.read`` would make it)."""
    head = scan_head(data)
    assert head is not None
    try:
        message: Any = parse(data)
        error = None
    except SipParseError as exc:
        message, error = None, exc
    return CapturedMessage(frame, time, src, sport, dst, dport, transport, data, message,
                           error, head)


def request(method: str, call_id: str = "c1", cseq: int = 1, *, via: str = "10.0.0.1:5060",
            extra: str = "", body: str = "", cseq_method: str = "") -> bytes:
    return (f"{method} sip:bob@example.com SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {via};branch=z9hG4bK{call_id}{cseq}{method}\r\n"
            f"From: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>\r\n"
            f"Call-ID: {call_id}\r\nCSeq: {cseq} {cseq_method or method}\r\n"
            f"Max-Forwards: 70\r\n{extra}Content-Length: {len(body.encode())}\r\n\r\n"
            f"{body}").encode()


def response(code: int, reason: str, method: str = "INVITE", call_id: str = "c1",
             cseq: int = 1, *, via: str = "10.0.0.1:5060", extra: str = "",
             body: str = "") -> bytes:
    return (f"SIP/2.0 {code} {reason}\r\n"
            f"Via: SIP/2.0/UDP {via};branch=z9hG4bK{call_id}{cseq}{method}\r\n"
            f"From: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>;tag=b\r\n"
            f"Call-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n{extra}"
            f"Content-Length: {len(body.encode())}\r\n\r\n{body}").encode()


# -- counting arrows in each format -------------------------------------------------------------

_MERMAID_ARROW = re.compile(r"^    h[A-Z]+->>h[A-Z]+: ", re.M)
_PLANTUML_ARROW = re.compile(r"^h[A-Z]+ -\[#[0-9a-f]{6}\]> h[A-Z]+ : ", re.M)
_FRAME = re.compile(r'<g class="msg [^"]*" data-frame="(\d+)"')


def arrows_in(text: str, fmt: str) -> list[int] | int:
    """The frames of the arrows drawn (SVG, HTML), or how many arrows there are."""
    if fmt in ("svg", "html"):
        return [int(frame) for frame in _FRAME.findall(text)]
    if fmt == "mermaid":
        return len(_MERMAID_ARROW.findall(text))
    if fmt == "plantuml":
        return len(_PLANTUML_ARROW.findall(text))
    return sum(1 for line in text.splitlines() if re.search("[▶◀↺]", line))


# -- programs ---------------------------------------------------------------------------------

def need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        pytest.skip(f"{program} not installed (.ci/run installs it: apt-get install "
                    f"{'libxml2-utils' if program == 'xmllint' else program})")
    return path


def xmllint(text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([need("xmllint"), "--noout", "-"], input=text, capture_output=True,
                          text=True, timeout=60, check=False)


def chromium(page: Path, *, screenshot: Path | None = None, size: str = "1200,900",
             timeout: float = 90.0) -> tuple[str, str]:
    """Load ``page`` in headless Chromium (a temporary profile, no network): the DOM after
    the page's scripts ran, and what Chromium wrote on stderr. Killed by its process group
    if it does not finish in ``timeout`` seconds."""
    program = need("chromium")
    with tempfile.TemporaryDirectory() as profile:
        argv = [program, "--headless", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                f"--user-data-dir={profile}", f"--window-size={size}",
                "--virtual-time-budget=3000", "--enable-logging=stderr", "--v=0"]
        argv += [f"--screenshot={screenshot}"] if screenshot else ["--dump-dom"]
        argv.append(page.resolve().as_uri())
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, errors="replace", start_new_session=True)
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    return out, err


def console(stderr: str) -> list[str]:
    """What the page wrote to its console (errors, uncaught exceptions, anything), as
    Chromium logs it on stderr with --enable-logging=stderr."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and the rows of an 8-bit RGB or RGBA PNG (the filters undone)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat, width = 8, b"", 0
    height = depth = colour = 0
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        chunk = data[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
        elif kind == b"IDAT":
            idat += chunk
        offset += 12 + length
    assert depth == 8 and colour in (2, 6), (depth, colour)
    step = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * step
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - step] if i >= step else 0
            b = previous[i]
            c = previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)
                           ) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, rows


def colours(path: Path) -> tuple[int, float]:
    """How many distinct colours a PNG has, and the share of its pixels that are not white."""
    width, height, rows = png_pixels(path)
    step = len(rows[0]) // width
    seen: set[bytes] = set()
    inked = 0
    for row in rows:
        for x in range(0, len(row), step):
            pixel = row[x:x + 3]
            seen.add(pixel)
            inked += pixel != b"\xff\xff\xff"
    return len(seen), inked / (width * height)
