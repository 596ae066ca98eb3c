"""The HEP v3 codec: every generic chunk, vendor chunks, the malformed cases (each with its
offset), bounded gzip, and properties: encode → decode is the identity over arbitrary chunk
sets, and no bytes raise anything but HepError."""

from __future__ import annotations

import contextlib
import gzip
import socket
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipstatus.hep import (
    FAMILY_IPV4,
    FAMILY_IPV6,
    HepError,
    HepPacket,
    decode,
    encode,
)
from sipstatus.hep._codec import decode_message

INVITE = (b"INVITE sip:bob@192.0.2.20 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK1\r\n"
          b"Call-ID: c1@192.0.2.10\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")


def chunk(ctype: int, value: bytes, vendor: int = 0, length: int | None = None) -> bytes:
    return struct.pack("!HHH", vendor, ctype, 6 + len(value) if length is None else length) + value


def packet(*chunks: bytes, length: int | None = None, magic: bytes = b"HEP3") -> bytes:
    body = b"".join(chunks)
    return magic + struct.pack("!H", 6 + len(body) if length is None else length) + body


FULL = HepPacket(ip_family=FAMILY_IPV4, ip_protocol=17, src_ip="192.0.2.10",
                 dst_ip="192.0.2.20", src_port=5060, dst_port=5080, time_sec=1_700_000_000,
                 time_usec=123_456, payload_type=1, node_id=2001, keep_alive=30,
                 auth_key="secret", payload=INVITE, correlation_id="abc@x", vlan=42,
                 node_name="kamailio-1", extra=((0x0022, 0x0001, b"vendor"),))


def test_every_generic_chunk_is_decoded_from_its_bytes() -> None:
    raw = packet(
        chunk(1, b"\x02"), chunk(2, b"\x11"), chunk(3, socket.inet_aton("192.0.2.10")),
        chunk(4, socket.inet_aton("192.0.2.20")), chunk(7, b"\x13\xc4"), chunk(8, b"\x13\xd8"),
        chunk(9, struct.pack("!I", 1_700_000_000)), chunk(10, struct.pack("!I", 123_456)),
        chunk(11, b"\x01"), chunk(12, struct.pack("!I", 2001)), chunk(13, b"\x00\x1e"),
        chunk(14, b"secret"), chunk(17, b"abc@x"), chunk(18, b"\x00\x2a"),
        chunk(19, b"kamailio-1"), chunk(1, b"vendor", vendor=0x0022), chunk(15, INVITE))
    assert decode(raw) == FULL
    assert encode(FULL) == raw  # chunks in type order, vendor chunks, then the payload


def test_ipv6_and_the_compressed_payload() -> None:
    raw = packet(chunk(1, b"\x0a"), chunk(2, b"\x06"),
                 chunk(5, socket.inet_pton(socket.AF_INET6, "2001:db8::1")),
                 chunk(6, socket.inet_pton(socket.AF_INET6, "2001:db8::2")),
                 chunk(16, gzip.compress(INVITE)))
    got = decode(raw)
    assert (got.src_ip, got.dst_ip, got.transport) == ("2001:db8::1", "2001:db8::2", "tcp")
    assert got.payload == INVITE and got.compressed
    assert decode(encode(got)) == got


def test_unknown_generic_types_are_kept_and_skipped() -> None:
    raw = packet(chunk(0x17, b"\x18"), chunk(15, INVITE))  # heplify's TCP flags
    got = decode(raw)
    assert got.payload == INVITE and got.extra == ((0, 0x17, b"\x18"),)
    assert encode(got) == raw


@pytest.mark.parametrize(("raw", "offset", "words"), [
    (b"HEP", 0, "shorter than the HEP header"),
    (b"HEP2\x00\x06", 0, "is not HEP v3"),
    (packet(chunk(15, INVITE), length=10), 4, "total length field says 10"),
    (packet(chunk(15, b"x")) + b"\x00", 4, "total length field says"),
    (packet(chunk(15, b"x"), b"\x00\x00\x00"), 13, "chunk header runs past the end"),
    (packet(chunk(15, b"", length=0)), 6, "chunk length 0"),
    (packet(chunk(1, b"\x02"), chunk(15, b"", length=3)), 13, "chunk length 3"),
    (packet(chunk(15, b"abc", length=40)), 6, "runs past the end"),
    (packet(chunk(0, b"x")), 6, "type 0 is reserved"),
    (packet(chunk(1, b"\x02\x00")), 6, "has 2 value bytes"),
    (packet(chunk(3, b"\x01\x02\x03")), 6, "IPv4 source address) has 3"),
    (packet(chunk(5, b"\x00" * 4)), 6, "IPv6 source address) has 4"),
    (packet(chunk(7, b"\x01")), 6, "source port) has 1"),
    (packet(chunk(9, b"\x01\x02")), 6, "timestamp seconds) has 2"),
    (packet(chunk(1, b"\x07")), 6, "IP family 7"),
    (packet(chunk(1, b"\x02"), chunk(5, b"\x00" * 16)), 13, "IPv6 address in a packet"),
    (packet(chunk(1, b"\x0a"), chunk(3, b"\x00" * 4)), 13, "IPv4 address in a packet"),
    (packet(chunk(3, b"\x00" * 4), chunk(6, b"\x00" * 16)), 16, "both IPv4 and IPv6"),
    (packet(chunk(15, b"a"), chunk(16, gzip.compress(b"a"))), 13, "both a payload"),
    (packet(chunk(16, b"not gzip")), 6, "not a gzip or zlib stream"),
    (packet(chunk(16, gzip.compress(INVITE)[:-12])), 6, "ends inside its gzip stream"),
    (packet(chunk(16, gzip.compress(b"a") + b"zz")), 6, "after the compressed payload"),
])
def test_malformed_packets_raise_hep_error_with_the_offset(raw: bytes, offset: int,
                                                           words: str) -> None:
    with pytest.raises(HepError) as caught:
        decode(raw)
    assert words in str(caught.value) and caught.value.offset == offset
    assert isinstance(caught.value, ValueError) and caught.value.expected
    with pytest.raises(HepError) as again:  # the hot path judges the same bytes the same way
        decode_message(raw)
    assert str(again.value) == str(caught.value)


def test_a_gzip_bomb_is_stopped_at_the_bound() -> None:
    bomb = gzip.compress(b"\x00" * (50 << 20))  # 50 MiB of zeros, about 50 KB compressed
    assert len(bomb) < 65_000
    with pytest.raises(HepError, match="expands past 1048576 bytes"):
        decode(packet(chunk(16, bomb)))
    assert decode(packet(chunk(16, gzip.compress(b"\x00" * 1000))), max_payload=1000).payload


@pytest.mark.parametrize(("fields", "words"), [
    ({"ip_family": 3}, "IP family 3"),
    ({"src_port": 70000}, "source port 70000"),
    ({"time_sec": -1}, "timestamp seconds -1"),
    ({"src_ip": "not an address"}, "not an IPv4 or IPv6 address"),
    ({"src_ip": "192.0.2.1", "dst_ip": "::1"}, "mixed families"),
    ({"ip_family": FAMILY_IPV6, "src_ip": "192.0.2.1"}, "mixed families"),
    ({"extra": ((0, 15, b"x"),)}, "generic type this module decodes"),
    ({"extra": ((0x1_0000, 1, b"x"),)}, "cannot encode chunk field"),
    ({"compressed": True}, "no payload"),
    ({"payload": b"x" * 65_530}, "too long"),
    ({"payload": b"x" * 65_500, "node_name": "n" * 100}, "would be"),
])
def test_encode_refuses_what_cannot_be_sent(fields: dict[str, object], words: str) -> None:
    with pytest.raises(HepError, match=words):
        encode(HepPacket(**fields))  # type: ignore[arg-type]


def test_bytes_of_a_packet_is_its_encoding() -> None:
    assert bytes(FULL) == encode(FULL)
    assert HepPacket(ip_protocol=132).transport == "sctp"
    assert HepPacket(ip_protocol=50).transport == "50"
    assert HepPacket().transport == "udp"


# -- properties ------------------------------------------------------------------------------

def _optional(strategy: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.none() | strategy


_u8, _u16, _u32 = (st.integers(0, (1 << bits) - 1) for bits in (8, 16, 32))
_text = st.binary(max_size=40).map(lambda b: b.decode("utf-8", "surrogateescape"))


@st.composite
def packets(draw: st.DrawFn) -> HepPacket:
    family = draw(st.sampled_from([None, FAMILY_IPV4, FAMILY_IPV6]))
    size = draw(st.sampled_from([4, 16])) if family is None else (
        4 if family == FAMILY_IPV4 else 16)
    kind = socket.AF_INET if size == 4 else socket.AF_INET6
    address = st.binary(min_size=size, max_size=size).map(lambda b: socket.inet_ntop(kind, b))
    vendor = st.tuples(st.integers(1, 0xFFFF), _u16, st.binary(max_size=20))
    unknown = st.tuples(st.just(0), st.integers(0x14, 0xFFFF), st.binary(max_size=20))
    payload = draw(_optional(st.binary(max_size=300)))
    return HepPacket(
        ip_family=family, ip_protocol=draw(_optional(_u8)),  # type: ignore[arg-type]
        src_ip=draw(_optional(address)), dst_ip=draw(_optional(address)),  # type: ignore[arg-type]
        src_port=draw(_optional(_u16)), dst_port=draw(_optional(_u16)),  # type: ignore[arg-type]
        time_sec=draw(_optional(_u32)), time_usec=draw(_optional(_u32)),  # type: ignore[arg-type]
        payload_type=draw(_optional(_u8)), node_id=draw(_optional(_u32)),  # type: ignore[arg-type]
        keep_alive=draw(_optional(_u16)), auth_key=draw(_optional(_text)),  # type: ignore[arg-type]
        payload=payload, compressed=payload is not None and draw(st.booleans()),
        correlation_id=draw(_optional(_text)), vlan=draw(_optional(_u16)),  # type: ignore[arg-type]
        node_name=draw(_optional(_text)),  # type: ignore[arg-type]
        extra=tuple(draw(st.lists(vendor | unknown, max_size=4))))


@given(packets())
def test_encode_then_decode_is_the_identity(hep: HepPacket) -> None:
    raw = encode(hep)
    assert decode(raw) == hep
    assert decode(bytearray(raw)) == hep
    message = decode_message(raw)
    assert message[0] == hep.payload_type and message[-1] == hep.payload
    assert message[3] == (hep.src_ip or "") and message[4] == (hep.src_port or 0)


def _judged(raw: bytes) -> None:
    with contextlib.suppress(HepError):
        decode(raw)
    with contextlib.suppress(HepError):
        decode_message(raw)


@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_hep_error(raw: bytes) -> None:
    _judged(raw)
    _judged(b"HEP3" + struct.pack("!H", len(raw) + 6) + raw)


@given(packets(), st.data())
def test_mutated_packets_raise_only_hep_error(hep: HepPacket, data: st.DataObject) -> None:
    raw = bytearray(encode(hep))
    for _ in range(data.draw(st.integers(1, 4))):
        where = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            raw[where] = data.draw(_u8)
        elif action == "cut":
            del raw[where:where + data.draw(st.integers(1, 8))]
        else:
            raw[where:where] = data.draw(st.binary(min_size=1, max_size=8))
        if len(raw) < 2:
            break
    _judged(bytes(raw))
    fixed = bytes(raw[:4]) + struct.pack("!H", len(raw) & 0xFFFF) + bytes(raw[6:])
    _judged(fixed)  # the total length repaired: the chunk walk is exercised


def test_the_learned_layout_reads_the_same_as_the_walk() -> None:
    """decode_message reads the fixed-size chunks of a packet laid out like the last one in
    one unpack: same values, and the same errors, as the chunk-by-chunk walk of decode."""
    def laid_out(family: bytes, address: bytes, port: bytes, tail: bytes = b"") -> bytes:
        return packet(chunk(1, family), chunk(2, b"\x11"), chunk(3, address),
                      chunk(4, address), chunk(7, port), chunk(8, port),
                      chunk(9, b"\x00\x00\x00\x05"), chunk(11, b"\x01"), tail,
                      chunk(15, INVITE))

    first = laid_out(b"\x02", socket.inet_aton("192.0.2.1"), b"\x00\x01")
    decode(first)  # learned
    again = laid_out(b"\x02", socket.inet_aton("192.0.2.9"), b"\x00\x09")
    assert decode_message(again) == (1, 5, 0, "192.0.2.9", 9, "192.0.2.9", 9, 17, INVITE)
    wrong = laid_out(b"\x0a", socket.inet_aton("192.0.2.9"), b"\x00\x09")
    with pytest.raises(HepError, match="IPv4 address in a packet of IP family 10"):
        decode_message(wrong)
    odd = laid_out(b"\x07", socket.inet_aton("192.0.2.9"), b"\x00\x09")
    with pytest.raises(HepError, match="IP family 7"):
        decode_message(odd)
    later = laid_out(b"\x02", socket.inet_aton("192.0.2.9"), b"\x00\x09",
                     chunk(7, b"\x00\x63"))  # a port chunk after the layout: the last wins
    assert decode_message(later)[4] == 99 and decode(later).src_port == 99
    mixed = laid_out(b"\x02", socket.inet_aton("192.0.2.9"), b"\x00\x09",
                     chunk(6, b"\x00" * 16))
    with pytest.raises(HepError, match="both IPv4 and IPv6"):
        decode_message(mixed)
