"""sipstatus against tshark, message by message, on captures of real SIP stacks.

``fixtures/captures/`` holds captures of SIPp and Kamailio talking on loopback, and next to
each capture two files written by tshark 4.0.17 (``tools/make_captures.py`` made them all;
``fixtures/captures/README.md`` says how):

- ``<capture>.fields.tsv``: ``tshark -Y sip -T fields -E header=y`` with frame number, time,
  addresses, ports, method, status code, Call-ID and CSeq: one row per frame that carries SIP;
- ``<capture>.sipstat.txt``: ``tshark -q -z sip,stat``.

The tests check, for every capture:

- every SIP message tshark reports is reported by ``sipstatus.capture.read`` in the same
  frame, with the same kind, source and destination address and port, transport, Call-ID,
  CSeq number and method, and method or status code, and sipstatus reports SIP in no other
  frame (``test_messages_match_tshark``);
- ``sipstatus.capture.summarize`` gives the numbers of ``sip,stat``
  (``test_summary_matches_sip_stat``). tshark folds the codes its table does not name into
  "x99 ... - Others" buckets (the 1xx bucket is 199) and sipstatus does not, so sipstatus's
  counts are folded here the way this tshark folds them: ``tshark-code-table.sipstat.txt``
  is tshark's ``sip,stat`` of one response for each code 100-699, which shows which codes it
  names (count 1) and which it buckets;
- the expectation files are the ones recorded for these exact captures (SHA-256 in
  ``MANIFEST.tsv``), and the two tshark outputs agree with each other, which also checks
  the parsing below (``test_manifest`` and ``test_expectations_agree``).

Several SIP messages in one frame (pipelined TCP): tshark prints each field once per message,
comma-separated, in message order, but ``sip.Method`` only for requests and
``sip.Status-Code`` only for responses. So a frame is compared as ordered lists: the methods
of its requests, the codes of its responses, and the Call-IDs and CSeqs of all its messages.
That pins each message's kind whenever a frame holds one kind only (true of every frame of
these captures); for a frame mixing requests and responses it checks their number, not their
order. Call-IDs and CSeq methods contain no comma, so splitting on commas is exact.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import struct
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

CAPTURES = Path(__file__).resolve().parents[2] / "fixtures" / "captures"
CODE_TABLE = CAPTURES / "tshark-code-table.sipstat.txt"
FIELDS = (
    "frame.number", "frame.time_epoch", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst",
    "udp.srcport", "tcp.srcport", "udp.dstport", "tcp.dstport", "sip.Method",
    "sip.Status-Code", "sip.Call-ID", "sip.CSeq.seq", "sip.CSeq.method",
)


# --- the manifest ------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    name: str
    sha256: str
    size: int
    messages: int | None  # SIP messages, for a capture; None for an expectation file


def manifest() -> list[Entry]:
    entries = []
    for line in (CAPTURES / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, digest, size, _frames, _sip_frames, messages = line.split("\t")
        entries.append(Entry(name, digest, int(size), int(messages) if messages else None))
    return entries


def capture_names() -> list[str]:
    return [e.name for e in manifest() if e.messages is not None]


# --- tshark's per-frame fields -----------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """The SIP messages of one frame, as tshark's fields give them (see module docstring)."""

    frame: int
    time: float
    src: ipaddress.IPv4Address | ipaddress.IPv6Address
    dst: ipaddress.IPv4Address | ipaddress.IPv6Address
    sport: int
    dport: int
    transport: str
    methods: tuple[str, ...]  # of the requests, in order
    codes: tuple[int, ...]  # of the responses, in order
    call_ids: tuple[str, ...]  # of all messages, in order
    cseqs: tuple[tuple[int, str], ...]  # of all messages, in order

    @property
    def messages(self) -> int:
        return len(self.call_ids)


def _one(row: dict[str, str], *names: str) -> str:
    values = [row[n] for n in names if row[n]]
    assert len(values) == 1 and "," not in values[0], (row["frame.number"], names, values)
    return values[0]


def _many(value: str) -> tuple[str, ...]:
    return tuple(value.split(",")) if value else ()


def tshark_frames(name: str) -> list[Frame]:
    lines = (CAPTURES / f"{name}.fields.tsv").read_text(encoding="utf-8").splitlines()
    assert tuple(lines[0].split("\t")) == FIELDS
    frames = []
    for line in lines[1:]:
        row = dict(zip(FIELDS, line.split("\t"), strict=True))
        udp = bool(row["udp.srcport"])
        seqs = _many(row["sip.CSeq.seq"])
        frame = Frame(
            frame=int(row["frame.number"]),
            time=float(row["frame.time_epoch"]),
            src=ipaddress.ip_address(_one(row, "ip.src", "ipv6.src")),
            dst=ipaddress.ip_address(_one(row, "ip.dst", "ipv6.dst")),
            sport=int(_one(row, "udp.srcport", "tcp.srcport")),
            dport=int(_one(row, "udp.dstport", "tcp.dstport")),
            transport="udp" if udp else "tcp",
            methods=_many(row["sip.Method"]),
            codes=tuple(int(c) for c in _many(row["sip.Status-Code"])),
            call_ids=_many(row["sip.Call-ID"]),
            cseqs=tuple(zip((int(s) for s in seqs), _many(row["sip.CSeq.method"]),
                            strict=True)),
        )
        assert frame.messages == len(frame.cseqs) == len(frame.methods) + len(frame.codes), row
        frames.append(frame)
    return frames


# --- tshark's sip,stat -------------------------------------------------------------------


@dataclass(frozen=True)
class SipStat:
    messages: int
    resent: int
    codes: dict[int, int]
    names: dict[int, str]  # the name tshark prints next to each code
    methods: dict[str, int]
    setup_ms: tuple[int, int, int]  # average, min, max


def parse_sip_stat(text: str) -> SipStat:
    head, rest = text.split("* SIP Status Codes in reply packets\n")
    codes_part, rest = rest.split("* List of SIP Request methods\n")
    methods_part, setup_part = rest.split("* Average setup time ")
    messages = re.search(r"^Number of SIP messages: (\d+)$", head, re.M)
    resent = re.search(r"^Number of resent SIP messages: (\d+)$", head, re.M)
    assert messages and resent, head
    codes: dict[int, int] = {}
    names: dict[int, str] = {}
    for line in codes_part.strip("\n").splitlines():
        m = re.fullmatch(r"  SIP (\d{3}) (.*?) *: +(\d+) Packets", line)
        assert m, line
        codes[int(m[1])] = int(m[3])
        names[int(m[1])] = m[2]
    methods: dict[str, int] = {}
    for line in methods_part.strip("\n").splitlines():
        m = re.fullmatch(r"  (\S+) *: +(\d+) Packets", line)
        assert m, line
        methods[m[1]] = int(m[2])
    setup = re.match(r"(\d+) ms\n Min (\d+) ms\n Max (\d+) ms\n=+\n", setup_part)
    assert setup, setup_part
    return SipStat(int(messages[1]), int(resent[1]), codes, names, methods,
                   (int(setup[1]), int(setup[2]), int(setup[3])))


def sip_stat(name: str) -> SipStat:
    return parse_sip_stat((CAPTURES / f"{name}.sipstat.txt").read_text(encoding="utf-8"))


def named_codes() -> frozenset[int]:
    """The codes tshark's sip,stat names itself (the others go to x99 buckets)."""
    table = parse_sip_stat(CODE_TABLE.read_text(encoding="utf-8"))
    return frozenset(code for code, count in table.codes.items() if count == 1)


def fold(counts: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Fold exact status-code counts the way tshark's sip,stat does."""
    named = named_codes()
    folded: Counter[int] = Counter()
    for code, count in counts:
        if not 100 <= code <= 699:
            continue  # tshark drops codes outside 100-699 from the table
        folded[code if code in named else code // 100 * 100 + 99] += count
    return dict(folded)


# --- checks of the fixtures themselves (they need no sipstatus) --------------------------


def test_manifest() -> None:
    """Every file of fixtures/captures is in MANIFEST.tsv with its size and SHA-256."""
    entries = manifest()
    listed = {e.name for e in entries}
    on_disk = {p.name for p in CAPTURES.iterdir()} - {"MANIFEST.tsv", "README.md",
                                                     "VERSIONS.txt"}
    assert listed == on_disk
    for e in entries:
        data = (CAPTURES / e.name).read_bytes()
        assert len(data) == e.size, e.name
        assert hashlib.sha256(data).hexdigest() == e.sha256, e.name
    for name in capture_names():
        assert f"{name}.fields.tsv" in listed and f"{name}.sipstat.txt" in listed


def test_code_table() -> None:
    """tshark names each code at most once and buckets the rest per class (x99)."""
    table = parse_sip_stat(CODE_TABLE.read_text(encoding="utf-8"))
    assert table.messages == 600 and sum(table.codes.values()) == 600
    named = named_codes()
    buckets = {code: count for code, count in table.codes.items() if count > 1}
    assert set(buckets) == {199, 299, 399, 499, 599, 699}
    for bucket, count in buckets.items():
        in_class = [c for c in named if c // 100 == bucket // 100]
        assert count == 100 - len(in_class), bucket
    assert {100, 180, 200, 302, 404, 486, 503, 603} <= named


@pytest.mark.parametrize("name", capture_names())
def test_expectations_agree(name: str) -> None:
    """tshark's two outputs for one capture agree: messages, codes, methods."""
    frames = tshark_frames(name)
    stat = sip_stat(name)
    assert sum(f.messages for f in frames) == stat.messages
    entry = next(e for e in manifest() if e.name == name)
    assert entry.messages == stat.messages
    codes = Counter(code for f in frames for code in f.codes)
    assert fold(codes.items()) == stat.codes
    assert Counter(m for f in frames for m in f.methods) == stat.methods
    assert [f.frame for f in frames] == sorted({f.frame for f in frames})


def _link_type(path: Path) -> int:
    """Link type of a capture's first interface (pcap or pcapng, not compressed)."""
    data = path.read_bytes()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        return int(struct.unpack_from("<I", data, 20)[0])
    if magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        return int(struct.unpack_from(">I", data, 20)[0])
    assert magic == b"\x0a\x0d\x0d\x0a", path
    endian = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    offset = struct.unpack_from(endian + "I", data, 4)[0]  # the Section Header Block
    block_type, _length, link = struct.unpack_from(endian + "IIH", data, offset)
    assert block_type == 1, path  # an Interface Description Block follows the SHB
    return int(link)


def test_fixtures_cover_what_the_reader_must_handle() -> None:
    """The fixture set still covers the link types, formats and transports it was made for."""
    names = capture_names()
    links = {_link_type(CAPTURES / n) for n in names if not n.endswith(".gz")}
    assert {0, 1, 101, 113, 276} <= links  # NULL, Ethernet, raw IP, SLL, SLL2
    assert any(n.endswith(".pcap") for n in names)
    assert any(n.endswith(".pcapng") for n in names)
    assert any(n.endswith(".gz") for n in names)
    frames = [f for n in names for f in tshark_frames(n)]
    assert {f.transport for f in frames} == {"udp", "tcp"}
    assert any(f.src.version == 6 for f in frames) and any(f.src.version == 4 for f in frames)
    assert any(f.messages > 1 for f in frames)  # pipelined TCP
    codes = {c for f in frames for c in f.codes}
    assert len(codes) >= 60 and codes - named_codes()  # many codes, some tshark buckets
    methods = {m for f in frames for m in f.methods}
    assert methods >= {"INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "MESSAGE",
                       "SUBSCRIBE", "NOTIFY", "PUBLISH", "INFO", "UPDATE", "REFER", "PRACK"}
    assert sum(sip_stat(n).resent for n in names) > 0


# --- sipstatus against the expectations --------------------------------------------------


def _sipstatus_frames(name: str) -> Iterator[tuple[int, list[Any]]]:
    """Group what ``sipstatus.capture.read`` yields by frame number."""
    from sipstatus import capture

    frame: int | None = None
    group: list[Any] = []
    for message in capture.read(CAPTURES / name):
        if frame is not None and message.frame != frame:
            yield frame, group
            group = []
        assert frame is None or message.frame >= frame, "messages out of capture order"
        frame = message.frame
        group.append(message)
    if frame is not None:
        yield frame, group


def _view(frame: int, messages: list[Any]) -> Frame:
    """sipstatus's messages of one frame, in the shape of :class:`Frame`."""
    first = messages[0]
    for m in messages:
        assert m.error is None, f"frame {frame}: {m.error}"
        assert (m.src, m.sport, m.dst, m.dport, m.transport, m.time) == (
            first.src, first.sport, first.dst, first.dport, first.transport, first.time)
    methods, codes = [], []
    for m in messages:
        status = getattr(m.message, "status_code", None)
        if status is None:
            methods.append(m.message.method)
        else:
            codes.append(int(status))
    return Frame(
        frame=frame,
        time=float(first.time),
        src=ipaddress.ip_address(str(first.src)),
        dst=ipaddress.ip_address(str(first.dst)),
        sport=int(first.sport),
        dport=int(first.dport),
        transport=str(first.transport),
        methods=tuple(methods),
        codes=tuple(codes),
        call_ids=tuple(m.message.call_id for m in messages),
        cseqs=tuple((int(m.message.cseq.seq), m.message.cseq.method) for m in messages),
    )


@pytest.mark.parametrize("name", capture_names())
def test_messages_match_tshark(name: str) -> None:
    expected = {f.frame: f for f in tshark_frames(name)}
    got = {frame: _view(frame, group) for frame, group in _sipstatus_frames(name)}
    problems = []
    for number in sorted(expected.keys() | got.keys()):
        want, have = expected.get(number), got.get(number)
        if want is None:
            problems.append(f"frame {number}: sipstatus reports SIP, tshark does not: {have}")
        elif have is None:
            problems.append(f"frame {number}: tshark reports SIP, sipstatus does not: {want}")
        else:
            if abs(have.time - want.time) > 2e-6:
                problems.append(f"frame {number}: time {have.time!r} != {want.time!r}")
            if replace(have, time=0.0) != replace(want, time=0.0):
                problems.append(f"frame {number}:\n  tshark    {want}\n  sipstatus {have}")
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:20])


@pytest.mark.parametrize("name", capture_names())
def test_summary_matches_sip_stat(name: str) -> None:
    from sipstatus import capture

    stat = sip_stat(name)
    summary = capture.summarize(CAPTURES / name)
    assert summary["messages"] == stat.messages
    assert summary["resent"] == stat.resent
    codes = {int(code): int(count) for code, count in summary["status_codes"].items()}
    assert fold(codes.items()) == stat.codes
    assert dict(summary["methods"]) == stat.methods
    setup = summary["setup_time_ms"]
    assert (setup["avg"], setup["min"], setup["max"]) == stat.setup_ms
