"""A small SIP UAS with a bug that only a dialog reaches, for the stateful fuzzer's tests.

It answers OPTIONS outside a dialog with 200, an INVITE with 180 then 200 (a To tag of its own
choosing, a Contact), CANCEL of a known call with 200, a request in one of its dialogs (the
Call-ID and To tag it chose) with 200 (BYE ends the dialog), a request with a To tag it does
not know with 481, any other request with 404; it never answers ACK. It copies Via, From, To,
Call-ID and CSeq as RFC 3261 §8.2.6.2 says.

Its bug: a request **inside one of its dialogs** (not an ACK) whose Content-Length does not
say the length of its body (negative, garbage, too large, too small, several) makes it "crash"
(exit status 139, as after a segmentation fault). The same request outside a dialog is
answered as usual, so only a fuzzer that gets into a dialog finds it.

    python tests/fuzz/dialog_target.py PORT      UDP on 127.0.0.1; prints "ready" once bound
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import socket

HEADER = re.compile(rb"(?im)^(via|v|from|f|to|t|call-id|i|cseq)[ \t]*:[^\r\n]*\r\n")
CALL_ID = re.compile(rb"(?im)^(?:call-id|i)[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?$")
TO = re.compile(rb"(?im)^(?:to|t)[ \t]*:([^\r\n]*)\r?$")
TAG = re.compile(rb";[ \t]*tag[ \t]*=[ \t]*([^;,>\s]+)", re.IGNORECASE)
LENGTH = re.compile(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?$")


def to_tag(head: bytes) -> bytes | None:
    found = TO.search(head)
    if found is None:
        return None
    value = found.group(1)
    tag = TAG.search(value.rsplit(b">", 1)[-1])
    return tag.group(1) if tag else None


def length_lies(head: bytes, body: bytes) -> bool:
    values = LENGTH.findall(head)
    return len(values) > 1 or (len(values) == 1 and values[0] != str(len(body)).encode())


def response(head: bytes, status: bytes, tag: bytes | None, port: int, contact: bool) -> bytes:
    copied = b"".join(m.group(0) for m in HEADER.finditer(head + b"\r\n"))
    if tag is not None:
        copied = re.sub(rb"(?im)^((?:to|t)[ \t]*:[^\r\n]*)", lambda m: m.group(1) + b";tag="
                        + tag, copied, count=1)
    extra = b"Contact: <sip:uas@127.0.0.1:%d>\r\n" % port if contact else b""
    return b"SIP/2.0 " + status + b"\r\n" + copied + extra + b"Content-Length: 0\r\n\r\n"


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("port", type=int)
    args = options.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", args.port))
    dialogs: dict[bytes, bytes] = {}  # Call-ID -> our To tag
    print("ready", flush=True)
    while True:
        data, peer = sock.recvfrom(65535)
        head, _, body = data.partition(b"\r\n\r\n")
        parts = head.split(b"\r\n", 1)[0].split(b" ")
        if len(parts) != 3 or parts[2] != b"SIP/2.0" or parts[0] == b"ACK":
            continue
        method = parts[0]
        found = CALL_ID.search(head)
        cid = found.group(1) if found else b""
        tag = to_tag(head)
        ours = tag is not None and dialogs.get(cid) == tag
        if ours and length_lies(head, body):
            os._exit(139)
        replies: list[bytes] = []
        if tag is None and method == b"INVITE":
            mine = secrets.token_hex(4).encode()
            dialogs[cid] = mine
            while len(dialogs) > 256:
                del dialogs[next(iter(dialogs))]
            replies = [response(head, b"180 Ringing", mine, args.port, True),
                       response(head, b"200 OK", mine, args.port, True)]
        elif method == b"CANCEL":
            known = cid in dialogs
            replies = [response(head, b"200 OK" if known else
                                b"481 Call/Transaction Does Not Exist", None, args.port, False)]
        elif ours:
            if method == b"BYE":
                dialogs.pop(cid, None)
            replies = [response(head, b"200 OK", None, args.port, method == b"INVITE")]
        elif tag is not None:
            replies = [response(head, b"481 Call/Transaction Does Not Exist", None, args.port,
                                False)]
        elif method == b"OPTIONS":
            replies = [response(head, b"200 OK", b"opt", args.port, False)]
        else:
            replies = [response(head, b"404 Not Found", b"nf", args.port, False)]
        for reply in replies:
            sock.sendto(reply, peer)


if __name__ == "__main__":
    main()
