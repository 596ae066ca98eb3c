"""A small, deliberately faulty SIP server over UDP, for the fuzzer's tests.

It answers OPTIONS with 200 and other requests with 404 (no answer to ACK), like a tolerant
stack: it copies Via, From, To, Call-ID and CSeq from the request. Its bug: a request whose
Content-Length is negative makes it "crash" (the process exits at once, status 139, as after
a segmentation fault), the bug class of RFC 4475 §3.1.2.3 and envoy PR #45362.

    python tests/fuzz/faulty_target.py PORT        (127.0.0.1, UDP; prints "ready" when bound)
"""

from __future__ import annotations

import os
import re
import socket
import sys

POISON = re.compile(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*-")
HEADER = re.compile(rb"(?im)^(via|v|from|f|to|t|call-id|i|cseq)[ \t]*:[^\r\n]*\r\n")


def answer(request: bytes) -> bytes | None:
    first, _, _ = request.partition(b"\r\n")
    parts = first.split(b" ")
    if len(parts) != 3 or parts[2] != b"SIP/2.0" or parts[0] == b"ACK":
        return None
    head = request.split(b"\r\n\r\n", 1)[0] + b"\r\n"
    copied = b"".join(m.group(0) for m in HEADER.finditer(head))
    status = b"200 OK" if parts[0] == b"OPTIONS" else b"404 Not Found"
    return b"SIP/2.0 " + status + b"\r\n" + copied + b"Content-Length: 0\r\n\r\n"


def main(port: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    print("ready", flush=True)
    while True:
        data, peer = sock.recvfrom(65535)
        if POISON.search(data.split(b"\r\n\r\n", 1)[0]):
            os._exit(139)
        reply = answer(data)
        if reply is not None:
            sock.sendto(reply, peer)


if __name__ == "__main__":
    main(int(sys.argv[1]))
