"""HEP out: SIP messages (:data:`Payload` tuples) sent to a collector as HEP v3 packets, with
their original timestamps, addresses, ports and transport; optionally paced."""

from __future__ import annotations

import socket
import time

from sipstatus.capture._legs import Correlated
from sipstatus.hep._codec import (
    FAMILY_IPV4,
    FAMILY_IPV6,
    PAYLOAD_SIP,
    HepPacket,
    encode,
)
from sipstatus.hep._errors import HepError
from sipstatus.hep._source import Payload, parse_url

_PROTOCOLS = {"udp": 17, "tcp": 6, "sctp": 132}


def packet_of(payload: Payload, *, node_id: int | None = None, node_name: str | None = None,
              correlation_id: str | None = None, compressed: bool = False) -> HepPacket:
    """The HEP packet carrying one SIP message (payload type SIP); a message that came with a
    correlation id (HEP in) keeps it unless ``correlation_id`` is given."""
    _frame, sec, nsec, src, sport, dst, dport, transport, data, _problem, _cut = payload
    if correlation_id is None and isinstance(data, Correlated):
        correlation_id = data.correlation_id
    v6 = ":" in src or ":" in dst
    proto = _PROTOCOLS.get(transport)
    if proto is None:
        proto = int(transport) if transport.isdigit() else 17
    return HepPacket(
        ip_family=FAMILY_IPV6 if v6 else FAMILY_IPV4, ip_protocol=proto,
        src_ip=src or ("::" if v6 else "0.0.0.0"), dst_ip=dst or ("::" if v6 else "0.0.0.0"),
        src_port=sport, dst_port=dport, time_sec=sec, time_usec=nsec // 1000,
        payload_type=PAYLOAD_SIP, node_id=node_id, correlation_id=correlation_id,
        node_name=node_name, payload=bytes(data), compressed=compressed)


class HepSender:
    """Sends SIP messages as HEP v3 to ``url`` (``hep://HOST:PORT`` over UDP, fire and
    forget as UDP is; ``hep+tcp://HOST:PORT`` over one TCP connection, opened here).
    ``rate``: at most that many packets a second (paced against a monotonic clock); ``None``:
    as fast as the socket takes them.
    ``sent`` and ``failed`` (not encodable, e.g. over 65,535 bytes, or refused by the socket)
    count the packets."""

    def __init__(self, url: str, *, node_id: int | None = None, node_name: str | None = None,
                 rate: float | None = None, compressed: bool = False) -> None:
        self.transport, host, port = parse_url(url)
        self.url = url
        self.node_id = node_id
        self.node_name = node_name
        self.compressed = compressed
        self.interval = 1.0 / rate if rate else 0.0
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        kind = socket.SOCK_DGRAM if self.transport == "udp" else socket.SOCK_STREAM
        self.address = (host, port)
        self.sock = socket.socket(family, kind)
        if self.transport == "tcp":
            try:
                self.sock.connect(self.address)
            except OSError:
                self.sock.close()
                raise
        self.sent = 0
        self.failed = 0
        self.problems: list[str] = []
        self._start = 0.0

    def send(self, payload: Payload) -> None:
        try:
            raw = encode(packet_of(payload, node_id=self.node_id, node_name=self.node_name,
                                   compressed=self.compressed))
        except HepError as exc:
            self._fail(f"message of frame {payload[0]} not sent: {exc}")
            return
        if self.interval:
            now = time.monotonic()
            if not self.sent:
                self._start = now
            due = self._start + self.sent * self.interval
            if due > now:
                time.sleep(due - now)
        try:
            if self.transport == "udp":  # unconnected: no ICMP error lands on a later one
                self.sock.sendto(raw, self.address)
            else:
                self.sock.sendall(raw)
        except OSError as exc:
            self._fail(f"message of frame {payload[0]} not sent: {exc}")
            return
        self.sent += 1

    def _fail(self, problem: str) -> None:
        self.failed += 1
        if len(self.problems) < 100:
            self.problems.append(problem)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> HepSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
