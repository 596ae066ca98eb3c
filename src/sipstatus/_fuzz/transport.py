"""Sockets for the fuzzer: one UDP socket connected to the target, or one TCP connection per
exchange; and a pacer that keeps to ``--rate``.

Every socket is connected to (or, listening, only answers) the one target address, so nothing
is ever sent anywhere else; SO_BROADCAST is never set. Timeouts are deadlines on the monotonic
clock, so nothing here can block for longer than its caller allows.
"""

from __future__ import annotations

import contextlib
import select
import socket
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from sipstatus._fuzz.build import Endpoint
from sipstatus._fuzz.target import Target
from sipstatus._fuzz.wire import frame

MAX_DATAGRAM = 65_535


class LinkError(OSError):
    """The network refused an operation the run cannot do without (exit status 2)."""


class Pacer:
    """At most ``rate`` sends per second, for everything the fuzzer sends (probes included)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next_slot = time.monotonic()

    def wait(self) -> None:
        now = time.monotonic()
        if self.next_slot > now:
            time.sleep(self.next_slot - now)
        self.next_slot = max(now, self.next_slot) + self.interval


class Conversation(Protocol):
    """Send to the target and receive what it sends back, one message at a time.

    ``refused`` turns true when the target refused (ICMP port unreachable, TCP RST or a
    refused connect): a sign of a dead target that needs no timeout.
    """

    local: Endpoint
    refused: bool

    def send(self, data: bytes) -> None: ...

    def receive(self, deadline: float) -> bytes | None: ...

    def close(self) -> None: ...


def _remaining(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


class UdpConversation:
    """A UDP socket connected to the target: the kernel drops datagrams from anyone else."""

    def __init__(self, target: Target, bind: Target | None = None) -> None:
        self.refused = False
        self.sock = socket.socket(target.family, socket.SOCK_DGRAM)
        try:
            if bind is not None:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                self.sock.bind((bind.host, bind.port))
            self.sock.connect(target.address)
        except OSError as exc:
            self.sock.close()
            raise LinkError(exc.errno, f"cannot use {target}: {exc.strerror}") from exc
        host, port = self.sock.getsockname()[:2]
        self.local = Endpoint("UDP", host, port)

    def send(self, data: bytes) -> None:
        try:
            self.sock.send(data)
        except ConnectionRefusedError:
            # An ICMP port-unreachable for an earlier datagram: the target's port is closed.
            self.refused = True

    def receive(self, deadline: float) -> bytes | None:
        while True:
            ready, _, _ = select.select([self.sock], [], [], _remaining(deadline))
            if not ready:
                return None
            try:
                return self.sock.recv(MAX_DATAGRAM)
            except ConnectionRefusedError:
                self.refused = True

    def close(self) -> None:
        self.sock.close()


class TcpConversation:
    """One TCP connection to the target; messages are framed by Content-Length (§18.3)."""

    def __init__(self, target: Target, timeout: float) -> None:
        self.buffer = b""
        self.refused = False
        self.sock = socket.socket(target.family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(target.address)
        except OSError:
            self.sock.close()
            self.refused = True
            self.local = Endpoint("TCP", "127.0.0.1", 0)
            return
        host, port = self.sock.getsockname()[:2]
        self.local = Endpoint("TCP", host, port)

    def send(self, data: bytes) -> None:
        if self.refused:
            return
        try:
            self.sock.sendall(data)
        except OSError:
            self.refused = True

    def receive(self, deadline: float) -> bytes | None:
        while not self.refused:
            framed = frame(self.buffer)
            if framed is not None:
                message, self.buffer = framed
                return message
            ready, _, _ = select.select([self.sock], [], [], _remaining(deadline))
            if not ready:
                return None
            try:
                chunk = self.sock.recv(MAX_DATAGRAM)
            except OSError:
                chunk = b""
            if not chunk:  # closed: hand over what is left, unframed
                self.refused = True
                rest, self.buffer = self.buffer.lstrip(b"\r\n"), b""
                return rest or None
            self.buffer += chunk
        return None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


class Link:
    """How the fuzzer reaches its target: ``exchange()`` gives the conversation for one case
    or probe (the shared UDP socket, or a fresh TCP connection)."""

    def __init__(self, target: Target, connect_timeout: float, bind: Target | None = None) -> None:
        self.target = target
        self.connect_timeout = connect_timeout
        self.udp = UdpConversation(target, bind) if target.transport == "udp" else None

    def exchange(self) -> Conversation:
        if self.udp is not None:
            return self.udp
        return TcpConversation(self.target, self.connect_timeout)

    def release(self, conversation: Conversation) -> None:
        if conversation is not self.udp:
            conversation.close()

    def close(self) -> None:
        if self.udp is not None:
            self.udp.close()


Reply = Callable[[bytes], None]


class Inbox:
    """``--answer`` mode: requests the target sends us, each with a way to answer it.

    UDP: the listening socket is connected to the target, so only its datagrams arrive.
    TCP: connections are accepted from the target's IP address only; others are closed.
    """

    def __init__(self, target: Target, listen: Target) -> None:
        self.target = target
        self.pending: deque[tuple[bytes, Reply]] = deque()
        self.udp: UdpConversation | None = None
        self.server: socket.socket | None = None
        self.peers: dict[socket.socket, bytes] = {}
        if target.transport == "udp":
            self.udp = UdpConversation(target, bind=listen)
            self.local = self.udp.local
            return
        self.server = socket.socket(listen.family, socket.SOCK_STREAM)
        try:
            self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.server.bind((listen.host, listen.port))
            self.server.listen(8)
        except OSError as exc:
            self.server.close()
            raise LinkError(exc.errno, f"cannot listen on {listen}: {exc.strerror}") from exc
        host, port = self.server.getsockname()[:2]
        self.local = Endpoint("TCP", host, port)

    def receive(self, deadline: float) -> tuple[bytes, Reply] | None:
        """The next message from the target (request or response) and how to answer it."""
        if self.pending:
            return self.pending.popleft()
        if self.udp is not None:
            data = self.udp.receive(deadline)
            return None if data is None else (data, self.udp.send)
        return self._receive_tcp(deadline)

    def push_back(self, item: tuple[bytes, Reply]) -> None:
        self.pending.append(item)

    def _receive_tcp(self, deadline: float) -> tuple[bytes, Reply] | None:
        assert self.server is not None
        while True:
            for peer, buffer in list(self.peers.items()):
                framed = frame(buffer)
                if framed is not None:
                    self.peers[peer] = framed[1]
                    return framed[0], _tcp_reply(peer)
            watched = [self.server, *self.peers]
            ready, _, _ = select.select(watched, [], [], _remaining(deadline))
            if not ready:
                return None
            for sock in ready:
                if sock is self.server:
                    self._accept()
                    continue
                try:
                    chunk = sock.recv(MAX_DATAGRAM)
                except OSError:
                    chunk = b""
                if chunk:
                    self.peers[sock] += chunk
                else:
                    del self.peers[sock]
                    sock.close()

    def _accept(self) -> None:
        assert self.server is not None
        conn, address = self.server.accept()
        if address[0].split("%", 1)[0] != self.target.host:
            conn.close()  # only the target may talk to us
            return
        self.peers[conn] = b""

    def close(self) -> None:
        if self.udp is not None:
            self.udp.close()
        for peer in self.peers:
            peer.close()
        if self.server is not None:
            self.server.close()


def _tcp_reply(peer: socket.socket) -> Reply:
    def send(data: bytes) -> None:
        with contextlib.suppress(OSError):
            peer.sendall(data)

    return send
