"""A small, deliberately faulty SIP server, for the fuzzer's tests.

It answers OPTIONS with 200 and other requests with 404 (no answer to ACK), like a tolerant
stack: it copies Via, From, To, Call-ID and CSeq from the request. Its bug: a request whose
Content-Length is negative makes it "crash" (the process exits at once, status 139, as after
a segmentation fault), the bug class of RFC 4475 §3.1.2.3 and envoy PR #45362.

Misbehaviours on request (all on 127.0.0.1; "ready" is printed once the sockets are bound):

    python tests/fuzz/faulty_target.py PORT                 UDP, as above
    python tests/fuzz/faulty_target.py PORT --flood RATE    also sends RATE unrelated responses
                                                            a second to whoever sent it the
                                                            latest request (UDP), from PORT
    python tests/fuzz/faulty_target.py PORT --endless head  also listens on TCP PORT: answers
    python tests/fuzz/faulty_target.py PORT --endless body  OPTIONS, and any other request with
                                                            a response whose header section
                                                            (or announced body) never ends,
                                                            streamed until the peer goes
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import threading
import time

POISON = re.compile(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*-")
HEADER = re.compile(rb"(?im)^(via|v|from|f|to|t|call-id|i|cseq)[ \t]*:[^\r\n]*\r\n")
LENGTH = re.compile(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*([0-9]{1,9})[ \t]*\r?$")
FILLER = b"X-Filler: " + b"a" * 1_000 + b"\r\n"


def answer(request: bytes) -> bytes | None:
    first, _, _ = request.partition(b"\r\n")
    parts = first.split(b" ")
    if len(parts) != 3 or parts[2] != b"SIP/2.0" or parts[0] == b"ACK":
        return None
    head = request.split(b"\r\n\r\n", 1)[0] + b"\r\n"
    copied = b"".join(m.group(0) for m in HEADER.finditer(head))
    status = b"200 OK" if parts[0] == b"OPTIONS" else b"404 Not Found"
    return b"SIP/2.0 " + status + b"\r\n" + copied + b"Content-Length: 0\r\n\r\n"


def flood_message(serial: int) -> bytes:
    """A well-formed response that answers nothing the fuzzer sent."""
    return (b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-flood-%d\r\n"
            b"From: <sip:flood@192.0.2.1>;tag=f\r\nTo: <sip:flood@192.0.2.1>;tag=t\r\n"
            b"Call-ID: flood-%d@192.0.2.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
            % (serial, serial))


def flood(sock: socket.socket, peers: list[tuple[str, int]], rate: int) -> None:
    """Send ``rate`` datagrams a second, in bursts every 10 ms, to the latest peer."""
    burst = max(1, rate // 100)
    serial = 0
    tick = time.monotonic()
    while True:
        if peers:
            for _ in range(burst):
                serial += 1
                try:
                    sock.sendto(flood_message(serial), peers[-1])
                except OSError:
                    break
        tick += 0.01
        time.sleep(max(0.0, tick - time.monotonic()))


def endless(conn: socket.socket, mode: str) -> None:
    """Stream a response that never ends until the peer closes the connection."""
    head = b"SIP/2.0 200 OK\r\nCall-ID: endless\r\n"
    if mode == "body":
        head += b"Content-Length: 99999999\r\n\r\n"
    block = FILLER * 64
    try:
        conn.sendall(head)
        while True:
            conn.sendall(block)
    except OSError:
        return


def serve_connection(conn: socket.socket, mode: str) -> None:
    buffer = b""
    with conn:
        while True:
            try:
                chunk = conn.recv(65535)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while b"\r\n\r\n" in buffer:
                head, rest = buffer.split(b"\r\n\r\n", 1)
                found = LENGTH.search(head)
                length = int(found.group(1)) if found else 0
                if len(rest) < length:
                    break
                request, buffer = head + b"\r\n\r\n" + rest[:length], rest[length:]
                reply = answer(request)
                if reply is None:
                    continue
                if not request.startswith(b"OPTIONS "):
                    endless(conn, mode)
                    return
                try:
                    conn.sendall(reply)
                except OSError:
                    return


def serve_tcp(server: socket.socket, mode: str) -> None:
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve_connection, args=(conn, mode), daemon=True).start()


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("port", type=int)
    options.add_argument("--flood", type=int, metavar="RATE", default=0)
    options.add_argument("--endless", choices=("head", "body"))
    args = options.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", args.port))
    peers: list[tuple[str, int]] = []
    if args.flood:
        threading.Thread(target=flood, args=(sock, peers, args.flood), daemon=True).start()
    if args.endless:
        server = socket.create_server(("127.0.0.1", args.port))
        threading.Thread(target=serve_tcp, args=(server, args.endless), daemon=True).start()
    print("ready", flush=True)
    while True:
        data, peer = sock.recvfrom(65535)
        if POISON.search(data.split(b"\r\n\r\n", 1)[0]):
            os._exit(139)
        if peers[-1:] != [peer]:
            peers.append(peer)
            del peers[:-1]
        reply = answer(data)
        if reply is not None:
            sock.sendto(reply, peer)


if __name__ == "__main__":
    main()
