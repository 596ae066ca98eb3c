"""Fuzz targets: ``udp:HOST:PORT`` / ``tcp:HOST:PORT``, IPv6 literals in brackets.

The fuzzer sends to exactly one address, resolved once, here. Broadcast, multicast and
unspecified addresses are refused: a fuzzer must not spray a network. (Sockets are also never
given SO_BROADCAST, so the kernel refuses a subnet-directed broadcast this check cannot know.)
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass

_SPEC = re.compile(r"(?i)(udp|tcp):(\[[^\]]+\]|[^:\[\]]+):(\d{1,5})")


class TargetError(ValueError):
    """A target spec that cannot be used (a usage error: exit status 2)."""


@dataclass(frozen=True, slots=True)
class Target:
    """One transport address: ``host`` is an IP literal (no brackets)."""

    transport: str  # "udp" or "tcp"
    host: str
    port: int

    @property
    def family(self) -> socket.AddressFamily:
        return socket.AF_INET6 if ":" in self.host else socket.AF_INET

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.transport}:{host}:{self.port}"


def parse_target(spec: str) -> Target:
    """``udp:127.0.0.1:5060``, ``tcp:[::1]:5060``, ``udp:localhost:5060`` -> Target.

    A host name is resolved once (first address); every packet then goes to that address.
    """
    match = _SPEC.fullmatch(spec.strip())
    if match is None:
        raise TargetError(f"target {spec!r}: expected udp:HOST:PORT or tcp:HOST:PORT "
                          "(IPv6 in brackets, e.g. udp:[::1]:5060)")
    transport, host, port_text = match.group(1).lower(), match.group(2), match.group(3)
    port = int(port_text)
    if not 0 < port < 65536:
        raise TargetError(f"target {spec!r}: port must be 1-65535")
    return Target(transport, resolve(host.strip("[]"), spec), port)


def resolve(host: str, spec: str) -> str:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
        except socket.gaierror as exc:
            raise TargetError(f"target {spec!r}: cannot resolve {host!r}: {exc}") from exc
        address = ipaddress.ip_address(str(infos[0][4][0]).split("%", 1)[0])
    check_unicast(address, spec)
    return str(address)


def check_unicast(address: ipaddress.IPv4Address | ipaddress.IPv6Address, spec: str) -> None:
    if address.is_multicast:
        raise TargetError(f"target {spec!r}: {address} is a multicast address; refusing")
    if address.is_unspecified:
        raise TargetError(f"target {spec!r}: {address} is not a destination; refusing")
    if isinstance(address, ipaddress.IPv4Address) and (
        address == ipaddress.IPv4Address("255.255.255.255")
    ):
        raise TargetError(f"target {spec!r}: {address} is the broadcast address; refusing")


def parse_listen(spec: str, transport: str) -> Target:
    """``HOST:PORT`` (or ``[v6]:PORT``) to listen on in ``--answer`` mode; port 0 = any."""
    match = re.fullmatch(r"(\[[^\]]+\]|[^:\[\]]+):(\d{1,5})", spec.strip())
    if match is None:
        raise TargetError(f"listen address {spec!r}: expected HOST:PORT")
    try:
        address = ipaddress.ip_address(match.group(1).strip("[]"))
    except ValueError as exc:
        raise TargetError(f"listen address {spec!r}: HOST must be an IP address") from exc
    if address.is_multicast:
        raise TargetError(f"listen address {spec!r}: multicast; refusing")
    port = int(match.group(2))
    if port > 65535:
        raise TargetError(f"listen address {spec!r}: port must be 0-65535")
    return Target(transport, str(address), port)
