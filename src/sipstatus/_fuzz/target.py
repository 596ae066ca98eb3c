"""Fuzz targets: ``udp:HOST:PORT`` / ``tcp:HOST:PORT``, IPv6 literals in brackets.

The fuzzer sends to exactly one unicast address, resolved once, here, before any socket toward
it exists. Refused (a fuzzer must not spray a network), each judged on every address a name
resolves to:

* multicast (224.0.0.0/4, ff00::/8), the limited broadcast 255.255.255.255, the unspecified
  0.0.0.0 (all of 0.0.0.0/8, "this network", which is a source only) and ``::``;
* IPv6 forms that carry an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible
  ``::a.b.c.d``, the NAT64 prefix ``64:ff9b::/96``), judged by that IPv4 address, since the
  packets may leave as IPv4;
* the directed broadcast of a subnet of this host (Linux: each interface's primary IPv4
  address and netmask, and its broadcast address, read with ioctls; elsewhere, or where the
  ioctls fail, nothing is known and the check is skipped).

Sockets are also never given SO_BROADCAST, so the kernel refuses a directed broadcast this
check cannot know (a remote subnet's, or a secondary address's).
"""

from __future__ import annotations

import ipaddress
import re
import socket
import struct
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

if sys.platform == "linux":
    import fcntl

_SPEC = re.compile(r"(?i)(udp|tcp):(\[[^\]]+\]|[^:\[\]]+):(\d{1,5})")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
#: Host name -> the addresses it resolves to, as text.
Resolver = Callable[[str], Sequence[str]]
#: Directed broadcast addresses of this host's subnets -> where each comes from.
Broadcasts = Callable[[], Mapping[ipaddress.IPv4Address, str]]

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")
_LIMITED_BROADCAST = ipaddress.IPv4Address("255.255.255.255")


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


def system_resolver(host: str) -> Sequence[str]:
    """Every address ``host`` resolves to (scope ids dropped), in the resolver's order."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    return [str(info[4][0]).split("%", 1)[0] for info in infos]


def local_broadcasts() -> Mapping[ipaddress.IPv4Address, str]:
    """The directed broadcast address of each IPv4 subnet of this host's interfaces.

    Linux only (SIOCGIFADDR, SIOCGIFNETMASK, SIOCGIFBRDADDR on each interface of
    ``socket.if_nameindex()``: its primary address only); empty elsewhere or on failure. The
    socket made here only carries the ioctls: it is never connected and sends nothing.
    """
    if sys.platform != "linux":
        return {}
    found: dict[ipaddress.IPv4Address, str] = {}
    try:
        names = [name for _, name in socket.if_nameindex()]
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    except OSError:
        return {}
    with probe:
        for name in names:
            try:
                request = struct.pack("256s", name.encode()[:15])
                address = _ioctl_address(probe, 0x8915, request)  # SIOCGIFADDR
                netmask = _ioctl_address(probe, 0x891B, request)  # SIOCGIFNETMASK
            except OSError:
                continue  # no IPv4 address
            network = ipaddress.IPv4Network(f"{address}/{netmask}", strict=False)
            if network.prefixlen <= 30:  # /31 and /32 have no broadcast (RFC 3021)
                found.setdefault(network.broadcast_address, f"{name} {address}/{network.prefixlen}")
            try:
                explicit = _ioctl_address(probe, 0x8919, request)  # SIOCGIFBRDADDR
            except OSError:
                continue
            if not explicit.is_unspecified:
                found.setdefault(explicit, f"{name} broadcast")
    return found


def _ioctl_address(sock: socket.socket, request: int, ifreq: bytes) -> ipaddress.IPv4Address:
    answer = fcntl.ioctl(sock.fileno(), request, ifreq)
    return ipaddress.IPv4Address(answer[20:24])  # sockaddr_in.sin_addr in struct ifreq


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, compatible, NAT64), or None."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    value = int(address)
    if value >> 32 == 0 and value > 1:  # ::a.b.c.d, but not :: or ::1
        return ipaddress.IPv4Address(value)
    if address in _NAT64:
        return ipaddress.IPv4Address(value & 0xFFFF_FFFF)
    return None


def not_unicast(address: Address, broadcasts: Broadcasts = local_broadcasts) -> str | None:
    """Why ``address`` is no unicast destination (a phrase after "is"), or None if it is one.

    ``broadcasts`` is only called for an IPv4 address (or IPv6 form of one) that passed every
    other check."""
    embedded = embedded_ipv4(address)
    judged: Address = embedded if embedded is not None else address
    form = "" if embedded is None else f"IPv4 {embedded} in an IPv6 form: "
    if judged.is_multicast:
        return f"{form}a multicast address"
    if judged.is_unspecified:
        return f"{form}the unspecified address, not a destination"
    if not isinstance(judged, ipaddress.IPv4Address):
        return None
    if judged == _LIMITED_BROADCAST:
        return f"{form}the broadcast address"
    if judged in _THIS_NETWORK:
        return f"{form}in 0.0.0.0/8 ('this network'), not a destination"
    subnet = broadcasts().get(judged)
    if subnet is not None:
        return f"{form}the broadcast address of a local subnet ({subnet})"
    return None


def parse_target(
    spec: str, resolver: Resolver = system_resolver, broadcasts: Broadcasts = local_broadcasts
) -> Target:
    """``udp:127.0.0.1:5060``, ``tcp:[::1]:5060``, ``udp:localhost:5060`` -> Target.

    A host name is resolved once with ``resolver``; every address it gives must be unicast,
    and the first is the one every packet goes to.
    """
    match = _SPEC.fullmatch(spec.strip())
    if match is None:
        raise TargetError(f"target {spec!r}: expected udp:HOST:PORT or tcp:HOST:PORT "
                          "(IPv6 in brackets, e.g. udp:[::1]:5060)")
    transport, host, port_text = match.group(1).lower(), match.group(2), match.group(3)
    port = int(port_text)
    if not 0 < port < 65536:
        raise TargetError(f"target {spec!r}: port must be 1-65535")
    return Target(transport, resolve(host.strip("[]"), spec, resolver, broadcasts), port)


def resolve(host: str, spec: str, resolver: Resolver = system_resolver,
            broadcasts: Broadcasts = local_broadcasts) -> str:
    """The one unicast address ``host`` names (an IP literal, or a name every address of
    which is unicast); TargetError otherwise."""
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        reason = not_unicast(literal, broadcasts)
        if reason is not None:
            raise TargetError(f"target {spec!r}: {host} is {reason}; refusing")
        return str(literal)
    try:
        texts = resolver(host)
        addresses = [ipaddress.ip_address(text) for text in texts]
    except (OSError, ValueError) as exc:
        raise TargetError(f"target {spec!r}: cannot resolve {host!r}: {exc}") from exc
    if not addresses:
        raise TargetError(f"target {spec!r}: {host!r} resolves to no address")
    for address in addresses:
        reason = not_unicast(address, broadcasts)
        if reason is not None:
            raise TargetError(f"target {spec!r}: {host!r} resolves to {address}, {reason}; "
                              "refusing")
    return str(addresses[0])


def parse_listen(spec: str, transport: str) -> Target:
    """``HOST:PORT`` (or ``[v6]:PORT``) to listen on in ``--answer`` mode; port 0 = any."""
    match = re.fullmatch(r"(\[[^\]]+\]|[^:\[\]]+):(\d{1,5})", spec.strip())
    if match is None:
        raise TargetError(f"listen address {spec!r}: expected HOST:PORT")
    try:
        address = ipaddress.ip_address(match.group(1).strip("[]"))
    except ValueError as exc:
        raise TargetError(f"listen address {spec!r}: HOST must be an IP address") from exc
    judged = embedded_ipv4(address) or address
    if judged.is_multicast:
        raise TargetError(f"listen address {spec!r}: multicast; refusing")
    if judged == _LIMITED_BROADCAST:
        raise TargetError(f"listen address {spec!r}: broadcast; refusing")
    port = int(match.group(2))
    if port > 65535:
        raise TargetError(f"listen address {spec!r}: port must be 0-65535")
    return Target(transport, str(address), port)
