"""Send HEP packets from a file to udp:127.0.0.1:PORT as fast as this process can (or at RATE
packets a second): ``python hep_blast.py PORT FILE [RATE]``. FILE holds the packets back to
back (each one's total length is in its header). Prints the number sent and the seconds it
took. A separate process, so that the sender does not share the listener's interpreter."""

from __future__ import annotations

import socket
import sys
import time


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    rate = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    data = open(path, "rb").read()  # noqa: SIM115 - a script, read once
    packets = []
    at = 0
    while at < len(data):
        length = int.from_bytes(data[at + 4:at + 6], "big")
        packets.append(data[at:at + length])
        at += length
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    address = ("127.0.0.1", port)
    send = sock.sendto
    start = time.perf_counter()
    if rate:
        for n, packet in enumerate(packets):
            due = start + n / rate
            while time.perf_counter() < due:
                pass
            send(packet, address)
    else:
        for packet in packets:
            send(packet, address)
    print(len(packets), time.perf_counter() - start)


if __name__ == "__main__":
    main()
