"""Helpers for the fuzzing tests (conftest.py holds the fixtures): free loopback ports, and
processes started and stopped here.

Every process a test starts runs in its own session and is stopped by its process-group id
(SIGTERM, then SIGKILL after a bounded wait), so nothing outlives the test.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
FAULTY_TARGET = HERE / "faulty_target.py"
KAMAILIO_CFG = HERE / "kamailio.cfg"


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (checked, then released)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free loopback port")


def stop(process: subprocess.Popen[bytes], timeout: float = 5.0) -> int | None:
    """Stop ``process`` and every process of its group; returns its exit status."""
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout)
    with suppress(ProcessLookupError):  # children left behind by a process that exited first
        os.killpg(process.pid, signal.SIGKILL)
    return process.returncode


@contextmanager
def started(argv: list[str], log: Path, ready: float = 0.0) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        if ready:
            time.sleep(ready)
        yield process
    finally:
        stop(process)


def wait_for_udp_sip(port: int, timeout: float = 10.0) -> None:
    """Wait until something answers an OPTIONS on udp:127.0.0.1:port."""
    probe = (
        "OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{local};"
        "branch=z9hG4bK-ready;rport\r\nMax-Forwards: 70\r\nFrom: <sip:ready@127.0.0.1>;tag=1\r\n"
        "To: <sip:127.0.0.1>\r\nCall-ID: ready@127.0.0.1\r\nCSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n"
    )
    end = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect(("127.0.0.1", port))
        sock.settimeout(0.2)
        local = sock.getsockname()[1]
        while time.monotonic() < end:
            try:
                sock.send(probe.format(port=port, local=local).encode())
                if sock.recv(65535).startswith(b"SIP/2.0"):
                    return
            except OSError:
                time.sleep(0.1)
    raise RuntimeError(f"nothing answered on udp:127.0.0.1:{port} within {timeout} s")


def need(program: str, package: str) -> str:
    path = shutil.which(program)
    if path is None:
        pytest.skip(f"{program} not installed (Debian package {package!r}; .ci/run installs it)")
    return path


DIALOG_TARGET = HERE / "dialog_target.py"
KAMAILIO_PROXY_CFG = HERE / "kamailio-proxy.cfg"
KAMAILIO_REGISTRAR_CFG = HERE / "kamailio-registrar.cfg"
SIPP_UAS_100REL = HERE / "sipp-uas-100rel.xml"
SIPP_UAS_DIALOG = HERE / "sipp-uas-dialog.xml"
SIPP_NOTIFIER = HERE / "sipp-notifier.xml"


def wait_listening(port: int, timeout: float = 10.0) -> None:
    """Wait until something accepts TCP connections on 127.0.0.1:``port``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise RuntimeError(f"nothing listens on tcp:127.0.0.1:{port}")
