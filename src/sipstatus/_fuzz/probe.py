"""Liveness probe and dialog clean-up messages for the fuzzer.

The probe is the VoIPER/PROTOS pattern (docs/fuzzing.md): a valid OPTIONS to the target, wait
``timeout`` for its answer, try ``retries`` more times; no answer at all means the target is
dead (or hung: a TCP target that accepts the connection but never answers is dead too).
The answer is the response carrying the probe's own Call-ID and top Via branch; it proves the
target alive even when it is malformed. Anything else that arrives meanwhile is kept (up to
``KEPT``: late replies to the case, requests in ``--answer`` mode) or drained and counted, so
that a flooding target is told from a dead one: before each probe is sent, what waits is
drained (at most ``MAX_DRAIN`` messages), so that the answer finds room in the socket buffer.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from sipstatus._fuzz import build as b
from sipstatus._fuzz.transport import Conversation, Endless, Pacer
from sipstatus._fuzz.wire import CRLF, Wire, call_id, status_code, top_via_branch

PROBE_USER = "sipstatus-probe"
#: Messages other than the answer kept per probe; more are drained and counted.
KEPT = 8
#: Messages drained, at most, before each probe is sent.
MAX_DRAIN = 4_096
#: With a probe user (a proxy in front of the element fuzzed), the answers by which a proxy
#: says the next hop is gone (RFC 3261 §16.7, §21.4.9, §21.5): no answer from the element.
NEXT_HOP_GONE = frozenset({408, 480, 500, 502, 503, 504})


def options(local: b.Endpoint, target: b.Endpoint, serial: int, seed: int,
            user: str | None = None, run: str = "") -> tuple[bytes, str]:
    """A valid OPTIONS (RFC 3261 §11) from ``local`` to ``target`` (to ``user`` there, when
    given: a proxy relays it), and its Call-ID. ``run`` keeps the Call-ID and branch apart
    from an earlier run's against the same long-lived target (a proxy's transaction layer
    would take the same branch for a retransmission of the earlier probe)."""
    serial_id = f"{seed}-{run}-{serial}" if run else f"{seed}-{serial}"
    cid = f"sipstatus-probe-{serial_id}@{local.host_ref}"
    tx = b.Transaction(
        method="OPTIONS",
        request_uri=b.SipUri(target.host_ref, user, target.port).render(),
        vias=(b.ViaHop(local.transport, local.host_ref, local.port,
                       f"z9hG4bK-sipstatus-{serial_id}", rport=True),),
        from_=b.Address(b.SipUri(local.host_ref, PROBE_USER, local.port),
                        params=(("tag", f"probe{serial}"),)),
        to=b.Address(b.SipUri(target.host_ref, user, target.port)),
        call_id=cid,
        cseq=serial % 2**31 or 1,
    )
    extra = (b.Header("Accept", "application/sdp"), b.Header("User-Agent", "sipstatus-fuzz"))
    return bytes(b.request(tx, extra, None, b.Style())), cid


@dataclass(frozen=True, slots=True)
class ProbeResult:
    alive: bool
    answer: bytes | None
    others: tuple[bytes, ...]  # messages that arrived meanwhile and were not the answer
    attempts: int
    drained: int = 0  # messages beyond ``others``, read and dropped
    endless: tuple[Endless, ...] = ()  # answers given up on (TCP)


def answers(data: bytes, cid: str, branch: str | None) -> bool:
    """Whether ``data`` is the answer to the probe with Call-ID ``cid`` and top Via branch
    ``branch``: a response carrying both."""
    return (status_code(data) is not None and call_id(data) == cid
            and top_via_branch(data) == branch)


class Prober:
    """Sends probes through conversations that ``open_conversation`` gives. With ``user``,
    the probe is addressed to that user at the target, so that a proxy relays it to the
    element behind it, and a :data:`NEXT_HOP_GONE` answer counts as none."""

    def __init__(
        self,
        open_conversation: Callable[[], Conversation],
        release: Callable[[Conversation], None],
        target: b.Endpoint,
        pacer: Pacer,
        timeout: float,
        retries: int,
        seed: int,
        user: str | None = None,
    ) -> None:
        self.open_conversation = open_conversation
        self.release = release
        self.target = target
        self.pacer = pacer
        self.timeout = timeout
        self.retries = retries
        self.seed = seed
        self.user = user
        self.run = secrets.token_hex(4)
        self.serial = 0
        self.call_ids: set[str] = set()

    def probe(self) -> ProbeResult:
        others: list[bytes] = []
        drained = 0
        endless: list[Endless] = []

        def keep(data: bytes) -> None:
            nonlocal drained
            if call_id(data) in self.call_ids:
                return  # a late answer to an earlier probe
            if len(others) < KEPT:
                others.append(data)
            else:
                drained += 1

        for attempt in range(1, self.retries + 2):
            self.serial += 1
            conversation = self.open_conversation()
            try:
                if conversation.refused:  # TCP connect refused
                    self._pause()
                    continue
                message, cid = options(conversation.local, self.target, self.serial, self.seed,
                                       self.user, self.run)
                branch = top_via_branch(message)
                self.call_ids.add(cid)
                self.pacer.wait()
                for _ in range(MAX_DRAIN):
                    waiting = conversation.receive(time.monotonic())
                    if waiting is None:
                        break
                    keep(waiting)
                conversation.send(message)
                deadline = time.monotonic() + self.timeout
                while not conversation.refused and time.monotonic() < deadline:
                    data = conversation.receive(deadline)
                    if data is None:
                        break
                    if answers(data, cid, branch):
                        if self.user is None or status_code(data) not in NEXT_HOP_GONE:
                            return ProbeResult(True, data, tuple(others), attempt, drained,
                                               tuple(endless))
                        if (status_code(data) or 0) >= 200:
                            break  # the proxy's final word: try again
                        continue
                    keep(data)
                if conversation.endless is not None:
                    endless.append(conversation.endless)
                if conversation.refused:
                    self._pause()
            finally:
                self.release(conversation)
        return ProbeResult(False, None, tuple(others), self.retries + 1, drained, tuple(endless))

    def _pause(self) -> None:
        # A refusal is immediate; give a restarting target the probe timeout before retrying.
        time.sleep(min(self.timeout, 0.5))


def teardown(request: bytes, response: bytes, local: b.Endpoint) -> tuple[bytes, ...]:
    """What ends the transaction or dialog an INVITE case opened, so that the target stops
    retransmitting and frees its state: ACK for a non-2xx final response (RFC 3261
    §17.1.1.3), ACK and BYE for a 2xx (§13.2.2.4, §15.1.1). Empty if not applicable."""
    code = status_code(response)
    sent, got = Wire.split(request), Wire.split(response)
    if code is None or code < 200 or sent.method != "INVITE":
        return ()
    parts = sent.start.split(b" ")
    cseq, cid = got.value("cseq"), got.value("call-id")
    from_, to = got.value("from"), got.value("to")
    if len(parts) != 3 or not cseq or not cseq.split()[0].isdigit() or not cid:
        return ()
    if from_ is None or to is None:
        return ()
    number = int(cseq.split()[0])
    common = [b"Max-Forwards: 70", b"From: " + from_, b"To: " + to, b"Call-ID: " + cid]

    def message(method: bytes, via: bytes, seq: int) -> bytes:
        fields = [b"Via: " + via, *common, b"CSeq: %d " % seq + method, b"Content-Length: 0"]
        start = method + b" " + parts[1] + b" SIP/2.0"
        return start + CRLF + b"".join(f + CRLF for f in fields) + CRLF

    if code >= 300:
        top = sent.indexes("via")
        via = sent.value_at(top[0]) if top else b""
        return (message(b"ACK", via, number),)

    # The branch names the call too: a proxy would take one call's BYE for a retransmission
    # of another's with the same CSeq.
    call = hashlib.sha256(cid).hexdigest()[:12]

    def fresh_via(kind: str) -> bytes:
        branch = f"z9hG4bK-sipstatus-{kind}-{call}-{number}"
        return b.ViaHop(local.transport, local.host_ref, local.port, branch, rport=True).render(
        ).encode()

    return message(b"ACK", fresh_via("ack"), number), message(b"BYE", fresh_via("bye"), number + 1)
