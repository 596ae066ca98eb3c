"""Benchmark `sipstatus scan` against tshark on the same capture, in the same run (issue 4).

Usage:  python bench/bench_scan.py [--calls N] [--runs R] [--capture FILE] [--keep DIR]

Without --capture it synthesises a capture (tests/capture/pcapgen.py) of N calls (default
2,100 -> 20,790 SIP messages), half over UDP, half over one TCP connection, into a temporary
directory. Then, interleaving the commands in every round so that background load hits them
alike, it times R rounds (default 5) of:

  summary  sipstatus scan --format json CAPTURE          vs  tshark -q -z sip,stat -r CAPTURE
  records  sipstatus scan --format jsonl CAPTURE         vs  tshark -r CAPTURE -Y sip -T fields
                                                             -e frame.number -e sip.Method
                                                             -e sip.Status-Code -e sip.Call-ID
                                                             -e sip.CSeq

and prints the median wall times, their ratios (budget: summary <= 1.0, records <= 0.5) and the
peak RSS of every command (budget for sipstatus: 64 MiB). It also checks that sipstatus and
tshark count the same messages, resends and setup times. Exit status 1 if tshark is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "capture"))

import pcapgen  # noqa: E402

SDP = (b"v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
       b"m=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n")


def synthesise(path: Path, calls: int) -> int:
    """Write a capture of ``calls`` call flows; return the number of SIP messages in it."""
    a, b = "192.0.2.10", "192.0.2.20"
    frames: list[pcapgen.Frame] = []
    t = 1_700_000_000_000_000_000
    up = pcapgen.TcpFlow(a, 40000, b, 5060)
    down = pcapgen.TcpFlow(b, 5060, a, 40000, isn=5000)
    frames += [pcapgen.Frame(t, pcapgen.ethernet(up.syn())),
               pcapgen.Frame(t, pcapgen.ethernet(down.syn()))]
    count = 0
    for i in range(calls):
        tcp = i % 2 == 1
        transport = "TCP" if tcp else "UDP"
        cid = f"{i}-bench@192.0.2.10"

        def send(src: str, message: bytes, gap_ms: int = 3, tcp: bool = tcp) -> None:
            nonlocal t, count
            t += gap_ms * 1_000_000
            count += 1
            if tcp:
                flow = up if src == a else down
                ip = flow.send(message)
            else:
                dst = b if src == a else a
                ip = pcapgen.udp_packet(src, 5060, dst, 5060, message)
            frames.append(pcapgen.Frame(t, pcapgen.ethernet(ip)))

        branch = f"z9hG4bK-{i}"
        common = {"call_id": cid, "transport": transport}
        invite = pcapgen.request("INVITE", branch=branch + "a", body=SDP, **common)
        send(a, invite)
        if not tcp and i % 10 == 0:
            send(a, invite, 500)  # a UDP retransmission
        send(b, pcapgen.response(100, "Trying", branch=branch + "a", to_tag="", **common))
        send(b, pcapgen.response(180, "Ringing", branch=branch + "a", **common), 200)
        code, reason = ((200, "OK"), (486, "Busy Here"), (404, "Not Found"),
                        (503, "Service Unavailable"), (200, "OK"))[i % 5]
        send(b, pcapgen.response(code, reason, branch=branch + "a", **common), 1000)
        ack_branch = branch + ("b" if code == 200 else "a")
        send(a, pcapgen.request("ACK", branch=ack_branch, to_tag="tt1", **common), 10)
        if code == 200:
            send(a, pcapgen.request("BYE", cseq=2, branch=branch + "c", to_tag="tt1", **common),
                 5000)
            send(b, pcapgen.response(200, "OK", cseq=2, method="BYE", branch=branch + "c",
                                     **common), 20)
        reg = {"call_id": cid + "-reg", "transport": transport}
        send(a, pcapgen.request("REGISTER", branch=branch + "r", **reg))
        send(b, pcapgen.response(401, "Unauthorized", method="REGISTER", branch=branch + "r",
                                 **reg), 5)
        send(a, pcapgen.request("REGISTER", cseq=2, branch=branch + "s", **reg), 5)
        send(b, pcapgen.response(200, "OK", cseq=2, method="REGISTER", branch=branch + "s",
                                 **reg), 5)
    path.write_bytes(pcapgen.pcap(frames))
    return count


def measure(command: list[str]) -> tuple[float, int, bytes]:
    """Wall time, peak RSS (KiB, via GNU time) and stdout of one run."""
    gnu_time = "/usr/bin/time"  # GNU time reports the peak RSS of exactly this process
    if not os.path.exists(gnu_time):
        start = time.perf_counter()
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              check=False)
        return time.perf_counter() - start, 0, done.stdout
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        start = time.perf_counter()
        done = subprocess.run([gnu_time, "-f", "%M", "-o", rss.name, *command],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
        wall = time.perf_counter() - start
        text = Path(rss.name).read_text().strip().splitlines()
    return wall, int(text[-1]) if text and text[-1].isdigit() else 0, done.stdout


def tshark_stat(text: str) -> dict[str, object]:
    def number(label: str) -> int:
        found = re.search(label + r":?\s+(\d+)", text)
        return int(found.group(1)) if found else -1

    return {
        "messages": number("Number of SIP messages"),
        "resent": number("Number of resent SIP messages"),
        "setup": [number(r"Average setup time"), number(r"\n Min"), number(r"\n Max")],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--capture", type=Path)
    parser.add_argument("--keep", type=Path, help="write the synthetic capture here")
    args = parser.parse_args(argv)
    tshark = shutil.which("tshark")
    if tshark is None:
        print("bench_scan: tshark is not installed (Debian package 'tshark')", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        capture = args.capture
        if capture is None:
            capture = (args.keep or Path(tmp)) / "bench.pcap"
            count = synthesise(capture, args.calls)
            print(f"capture: {capture} ({count} SIP messages, "
                  f"{capture.stat().st_size / 1e6:.1f} MB)")
        sipstatus = [sys.executable, "-m", "sipstatus", "scan", "--no-progress"]
        commands = {
            "sipstatus summary": [*sipstatus, "--format", "json", str(capture)],
            "tshark sip,stat": [tshark, "-q", "-z", "sip,stat", "-r", str(capture)],
            "sipstatus jsonl": [*sipstatus, "--format", "jsonl", str(capture)],
            "tshark -T fields": [tshark, "-r", str(capture), "-Y", "sip", "-T", "fields",
                                 "-e", "frame.number", "-e", "sip.Method",
                                 "-e", "sip.Status-Code", "-e", "sip.Call-ID",
                                 "-e", "sip.CSeq"],
        }
        walls: dict[str, list[float]] = {name: [] for name in commands}
        peaks: dict[str, int] = dict.fromkeys(commands, 0)
        outputs: dict[str, bytes] = {}
        for _ in range(args.runs):
            for name, command in commands.items():
                wall, peak, out = measure(command)
                walls[name].append(wall)
                peaks[name] = max(peaks[name], peak)
                outputs[name] = out
        median = {name: statistics.median(values) for name, values in walls.items()}
        print(f"\nmedian wall time over {args.runs} interleaved runs, peak RSS:")
        for name in commands:
            print(f"  {name:<18} {median[name]:7.3f} s   {peaks[name] / 1024:7.1f} MiB")
        summary_ratio = median["sipstatus summary"] / median["tshark sip,stat"]
        records_ratio = median["sipstatus jsonl"] / median["tshark -T fields"]
        rss = max(peaks["sipstatus summary"], peaks["sipstatus jsonl"]) / 1024
        print(f"\nsummary / tshark sip,stat    {summary_ratio:5.2f}x  (budget 1.0x)")
        print(f"jsonl / tshark -T fields     {records_ratio:5.2f}x  (budget 0.5x)")
        print(f"peak RSS of sipstatus        {rss:5.1f} MiB (budget 64 MiB)")
        ours = json.loads(outputs["sipstatus summary"])
        theirs = tshark_stat(outputs["tshark sip,stat"].decode())
        setup = ours["setup_time_ms"]
        same = (ours["messages"] == theirs["messages"] and ours["resent"] == theirs["resent"]
                and [setup["avg"], setup["min"], setup["max"]] == theirs["setup"])
        lines = outputs["sipstatus jsonl"].count(b"\n")
        fields = outputs["tshark -T fields"].count(b"\n")
        print(f"\nsame counts as tshark: {'yes' if same else 'NO'} "
              f"(messages {ours['messages']} / {theirs['messages']}, resent {ours['resent']} / "
              f"{theirs['resent']}, setup {setup['avg']}/{setup['min']}/{setup['max']} / "
              f"{theirs['setup']}); jsonl lines {lines}, tshark field lines {fields}")
        return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
