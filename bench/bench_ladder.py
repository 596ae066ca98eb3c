"""Time to draw a 10,000-message ladder (issue 13: at most 2 s, no item cap).

Usage:  python bench/bench_ladder.py [--messages 10000] [--repeat 3]

The messages are those of fixtures/captures/sipp-kamailio-udp-calls.pcapng (calls answered,
cancelled, redirected, rejected, with SDP and retransmissions), copied with fresh Call-IDs
and later times until there are ``--messages`` of them, read as ``capture.read`` reads them
(that reading is not timed). It prints the time to build the model (columns, retransmissions,
call notes, the classifier's notes, SDP summaries) and to draw it in each format, best of
``--repeat``, in this process.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sipstatus._parse import parse
from sipstatus.capture import CapturedMessage, read
from sipstatus.capture._head import scan_head
from sipstatus.ladder import FORMATS, build, draw

T = TypeVar("T")
CAPTURE = (Path(__file__).resolve().parent.parent / "fixtures" / "captures"
           / "sipp-kamailio-udp-calls.pcapng")


def messages(count: int) -> list[CapturedMessage]:
    base = list(read(CAPTURE))
    span = base[-1].time - base[0].time + 1.0
    out: list[CapturedMessage] = []
    copy = 0
    while len(out) < count:
        for message in base:
            if len(out) == count:
                break
            old = message.head.call_id.encode()
            data = message.data.replace(old, old + b"-" + str(copy).encode())
            head = scan_head(data)
            assert head is not None
            out.append(dataclasses.replace(
                message, frame=len(out) + 1, time=message.time + copy * span, data=data,
                message=parse(data) if message.message is not None else None, head=head))
        copy += 1
    return out


def best(repeat: int, work: Callable[[], T]) -> tuple[float, float, T]:
    """The first time, the best time, and the result of ``work``."""
    times: list[float] = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return times[0], min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    msgs = messages(args.messages)
    first, seconds, ladder = best(args.repeat, lambda: build(msgs))
    print(f"{len(msgs)} messages, {len(ladder.arrows)} arrows, {len(ladder.columns)} columns, "
          f"{len(ladder.dialogs)} dialogs")
    print(f"  {'model':<9} {seconds:7.3f} s  (first build, header values not yet read: "
          f"{first:.3f} s)")
    for fmt in FORMATS:
        _, drawn, text = best(args.repeat, lambda fmt=fmt: draw(ladder, fmt))  # type: ignore[misc]
        print(f"  {fmt:<9} {drawn:7.3f} s  (with the first build {first + drawn:.3f} s, "
              f"{len(text) / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
