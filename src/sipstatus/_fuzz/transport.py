"""Sockets for the fuzzer: one UDP socket connected to the target, or one TCP connection per
exchange; and a pacer that keeps to ``--rate``.

Every socket is connected to (or, listening, only answers) the one target address, so nothing
is ever sent anywhere else; SO_BROADCAST is never set. Timeouts are deadlines on the monotonic
clock, so nothing here can block for longer than its caller allows.

What a hostile peer can make the fuzzer read is bounded (docs/fuzzing.md, "Bounds against a
hostile target"): one message at most ``MAX_MESSAGE`` bytes (a datagram cannot hold more; a
stream message that does not end within them is *endless*: the connection is closed and the
message reported), one TCP request in ``--answer`` mode at most ``message_time`` seconds, and
at most ``MAX_PEERS`` connections at once (an answer such a connection does not take within
``message_time`` seconds is abandoned).
"""

from __future__ import annotations

import contextlib
import select
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sipstatus._fuzz.build import Endpoint
from sipstatus._fuzz.target import Target
from sipstatus._fuzz.wire import MAX_MESSAGE, Framer

MAX_DATAGRAM = 65_535
#: Bytes of an endless message kept for the report.
SAMPLE = 1_024
#: TCP connections from the target held at once in ``--answer`` mode (the least recently
#: active one is closed for a new one).
MAX_PEERS = 8
#: Messages held for the ``--answer`` loop (more are dropped and counted).
MAX_PENDING = 64
#: Receive buffer asked for each UDP socket (the kernel may grant less): room for the answer
#: to a probe behind a flood.
UDP_RECEIVE_BUFFER = 1 << 20


class LinkError(OSError):
    """The network refused an operation the run cannot do without (exit status 2)."""


@dataclass(frozen=True, slots=True)
class Endless:
    """A stream message given up on: its first bytes, and why (with what was read)."""

    sample: bytes
    detail: str


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

    ``receive(deadline)`` waits until ``deadline`` for one message. It looks once even when the
    deadline has passed (so that a caller can drain what is waiting), so a caller that loops
    must check its deadline itself: a flooding peer always has a message waiting.
    ``refused`` turns true when the target refused (ICMP port unreachable, TCP RST or a
    refused connect): a sign of a dead target that needs no timeout. ``endless`` is set (and
    the connection closed) when a message did not end within ``MAX_MESSAGE`` bytes.
    """

    local: Endpoint
    refused: bool
    endless: Endless | None

    def send(self, data: bytes) -> None: ...

    def receive(self, deadline: float) -> bytes | None: ...

    def close(self) -> None: ...


def _remaining(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def overrun_detail(framer: Framer, started: float | None) -> str:
    """Why a stream message was given up on, in words (the framer has overrun)."""
    took = "" if started is None else f" in {time.monotonic() - started:.2f} s"
    if framer.length is not None:
        return (f"its Content-Length makes it a {framer.length}-byte message, more than the "
                f"{MAX_MESSAGE} bytes read of one message{took}; connection closed")
    return (f"no end of its header section within {MAX_MESSAGE} bytes "
            f"({framer.pending} read{took}); connection closed")


class UdpConversation:
    """A UDP socket connected to the target: the kernel drops datagrams from anyone else."""

    def __init__(self, target: Target, bind: Target | None = None) -> None:
        self.refused = False
        self.endless: Endless | None = None  # a datagram always ends
        self.sock = socket.socket(target.family, socket.SOCK_DGRAM)
        try:
            with contextlib.suppress(OSError):
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RECEIVE_BUFFER)
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
        looked = False
        while not looked or time.monotonic() < deadline:
            looked = True
            ready, _, _ = select.select([self.sock], [], [], _remaining(deadline))
            if not ready:
                return None
            try:
                return self.sock.recv(MAX_DATAGRAM)
            except ConnectionRefusedError:
                self.refused = True
        return None

    def close(self) -> None:
        self.sock.close()


class TcpConversation:
    """One TCP connection to the target; messages are framed by Content-Length (§18.3), each
    read up to ``MAX_MESSAGE`` bytes."""

    def __init__(self, target: Target, timeout: float) -> None:
        self.framer = Framer(MAX_MESSAGE)
        self.started: float | None = None  # when the first byte of the current message came
        self.refused = False
        self.endless: Endless | None = None
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
        if self.refused or self.endless is not None:
            return
        try:
            self.sock.sendall(data)
        except OSError:
            self.refused = True

    def receive(self, deadline: float) -> bytes | None:
        looked = False
        while not self.refused and self.endless is None:
            message = self.framer.next()
            if message is not None:
                self.started = time.monotonic() if self.framer.pending else None
                return message
            if self.framer.overrun:
                self._give_up()
                return None
            if looked and time.monotonic() >= deadline:
                return None
            looked = True
            ready, _, _ = select.select([self.sock], [], [], _remaining(deadline))
            if not ready:
                return None
            try:
                chunk = self.sock.recv(MAX_DATAGRAM)
            except OSError:
                chunk = b""
            if not chunk:  # closed: hand over what is left, unframed
                self.refused = True
                return self.framer.rest() or None
            self.framer.feed(chunk)
            if self.started is None and self.framer.pending:
                self.started = time.monotonic()
        return None

    def _give_up(self) -> None:
        self.endless = Endless(bytes(self.framer.buffer[:SAMPLE]),
                               overrun_detail(self.framer, self.started))
        self.framer.rest()
        self.close()

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


class _Peer:
    """A TCP connection from the target in ``--answer`` mode, and the message it is sending."""

    __slots__ = ("active", "framer", "sock", "started")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.framer = Framer(MAX_MESSAGE)
        self.started: float | None = None
        self.active = time.monotonic()


class Inbox:
    """``--answer`` mode: requests the target sends us, each with a way to answer it.

    UDP: the listening socket is connected to the target, so only its datagrams arrive.
    TCP: connections are accepted from the target's IP address only; others are closed. At
    most ``MAX_PEERS`` are held; a message unfinished after ``message_time`` seconds, or longer
    than ``MAX_MESSAGE`` bytes, is endless: its connection is closed and it is listed in
    ``endless`` (until ``take_endless``).
    """

    def __init__(self, target: Target, listen: Target, message_time: float = 10.0) -> None:
        self.target = target
        self.message_time = message_time
        self.pending: deque[tuple[bytes, Reply]] = deque()
        self.endless: list[Endless] = []
        self.udp: UdpConversation | None = None
        self.server: socket.socket | None = None
        self.peers: list[_Peer] = []
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
        """The next message from the target (request or response) and how to answer it.
        Looks once even when ``deadline`` has passed (see ``Conversation``)."""
        if self.pending:
            return self.pending.popleft()
        if self.udp is not None:
            data = self.udp.receive(deadline)
            return None if data is None else (data, self.udp.send)
        return self._receive_tcp(deadline)

    def push_back(self, item: tuple[bytes, Reply]) -> bool:
        """Hold ``item`` for ``receive``; False (dropped) when ``MAX_PENDING`` are held."""
        if len(self.pending) >= MAX_PENDING:
            return False
        self.pending.append(item)
        return True

    def take_endless(self) -> list[Endless]:
        taken, self.endless = self.endless, []
        return taken

    def _receive_tcp(self, deadline: float) -> tuple[bytes, Reply] | None:
        assert self.server is not None
        looked = False
        while True:
            now = time.monotonic()
            for peer in list(self.peers):
                message = peer.framer.next()
                if message is not None:
                    peer.started = now if peer.framer.pending else None
                    return message, _tcp_reply(peer.sock)
                if peer.framer.overrun:
                    self._give_up(peer, overrun_detail(peer.framer, peer.started))
                elif peer.started is not None and now - peer.started > self.message_time:
                    self._give_up(peer, f"unfinished after {now - peer.started:.1f} s "
                                        f"({peer.framer.pending} bytes); connection closed")
            if looked and now >= deadline:
                return None
            looked = True
            wait = _remaining(deadline)
            unfinished = [p.started for p in self.peers if p.started is not None]
            if unfinished:  # wake up when the oldest unfinished message runs out of time
                wait = min(wait, max(0.0, min(unfinished) + self.message_time - now) + 0.001)
            watched = [self.server, *(p.sock for p in self.peers)]
            ready, _, _ = select.select(watched, [], [], wait)
            for sock in ready:
                if sock is self.server:
                    self._accept()
                    continue
                sender = next((p for p in self.peers if p.sock is sock), None)
                if sender is not None:  # (not closed for a new connection just now)
                    self._read(sender)

    def _read(self, peer: _Peer) -> None:
        try:
            chunk = peer.sock.recv(MAX_DATAGRAM)
        except OSError:
            chunk = b""
        if not chunk:
            self._drop(peer)
            return
        peer.active = time.monotonic()
        peer.framer.feed(chunk)
        if peer.started is None and peer.framer.pending:
            peer.started = peer.active

    def _accept(self) -> None:
        assert self.server is not None
        try:
            conn, address = self.server.accept()
        except OSError:
            return  # gone before it was accepted
        if address[0].split("%", 1)[0] != self.target.host:
            conn.close()  # only the target may talk to us
            return
        if len(self.peers) >= MAX_PEERS:
            self._drop(min(self.peers, key=lambda p: p.active))
        conn.settimeout(self.message_time)  # an answer the target does not take is abandoned
        self.peers.append(_Peer(conn))

    def _give_up(self, peer: _Peer, detail: str) -> None:
        self.endless.append(Endless(bytes(peer.framer.buffer[:SAMPLE]), detail))
        self._drop(peer)

    def _drop(self, peer: _Peer) -> None:
        self.peers.remove(peer)
        with contextlib.suppress(OSError):
            peer.sock.shutdown(socket.SHUT_RDWR)
        peer.sock.close()

    def close(self) -> None:
        if self.udp is not None:
            self.udp.close()
        for peer in list(self.peers):
            self._drop(peer)
        if self.server is not None:
            self.server.close()


def _tcp_reply(peer: socket.socket) -> Reply:
    def send(data: bytes) -> None:
        with contextlib.suppress(OSError):
            peer.sendall(data)

    return send
