"""The UDP listener under load: 20,000 SIP messages sent as HEP as fast as a sender process
can, received by the whole scan pipeline without loss (counts only, never times)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from sipstatus.capture._packets import sip_payloads
from sipstatus.capture._pcap import CaptureFile
from sipstatus.capture._scan import Scan
from sipstatus.hep import HepListener, encode, packet_of
from sipstatus.hep._scan import ListenerSource, run_sources

pytestmark = pytest.mark.network

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parents[1] / "fixtures" / "captures"
COUNT = 20_000
#: What 20,000 datagrams of this size hold in the kernel (about 2.3 KiB each), with margin.
NEEDED_RCVBUF = 64 << 20


def test_udp_listener_takes_20000_messages_without_loss(tmp_path: Path) -> None:
    payloads = list(sip_payloads(CaptureFile(FIXTURES / "sipp-kamailio-udp-calls.pcapng")))
    packets = [encode(packet_of(payloads[n % len(payloads)])) for n in range(COUNT)]
    blob = tmp_path / "packets.hep"
    blob.write_bytes(b"".join(packets))
    with HepListener("hep://127.0.0.1:0", rcvbuf=NEEDED_RCVBUF) as listener:
        if listener.rcvbuf_granted < NEEDED_RCVBUF:
            pytest.skip(f"the kernel grants a receive buffer of {listener.rcvbuf_granted} "
                        f"bytes only (no CAP_NET_ADMIN for SO_RCVBUFFORCE, rmem_max lower)")
        scan = Scan(calls=True)
        source = ListenerSource(listener, count=COUNT, duration=120)

        def listen() -> None:
            for _ in run_sources(scan, [source]):
                pass

        thread = threading.Thread(target=listen)
        thread.start()
        sender = subprocess.run([sys.executable, str(HERE / "hep_blast.py"),
                                 str(listener.port), str(blob)], capture_output=True,
                                timeout=120, check=True, text=True)
        thread.join(120)
        assert not thread.is_alive()
    sent = int(sender.stdout.split()[0])
    assert sent == COUNT
    assert listener.stats.sip == COUNT and listener.stats.malformed == 0
    assert scan.summary.messages == COUNT
