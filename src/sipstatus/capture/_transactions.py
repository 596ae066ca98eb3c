"""Transactions: requests matched to responses, retransmissions, response and setup times.

Two bookkeepers run side by side, because they answer different questions:

:class:`TsharkLedger` reproduces what Wireshark's SIP dissector computes (``packet-sip.c``,
``sip_is_packet_resend``, ``sip_find_request``, ``sip_find_invite``), so that the summary's
``resent`` count and setup times equal ``tshark -z sip,stat``. Its rules, kept as they are:
one state per (Call-ID, source address and port, destination address and port); UDP only
(tshark never flags a TCP message as resent and computes no times over TCP); a message whose
CSeq number or CSeq method differs from the state's starts it afresh (and a request then sets
its "request time"); a request is a resend when the same CSeq was already requested in that
direction (ACK and CANCEL never are); a final response is a resend when the last final
response in that direction had the same CSeq and code; the setup time of an ACK is its time
minus the request time of its direction's state, in whole milliseconds truncated the way C
truncates (so after a CANCEL it is measured from the CANCEL, as tshark 4.0 does); an ACK with
a setup time of 0 ms does not count. These rules were checked message by message against
tshark 4.0.17 on the committed captures (fixtures/captures) and on synthetic ones.

:class:`Transactions` matches the way RFC 3261 §17.1.3 / §17.2.3 do: a response belongs to
the client transaction whose request had the same top Via ``branch`` (with the magic cookie
``z9hG4bK``) and the same CSeq method; without the magic cookie (RFC 2543 peers) the key is
Call-ID, CSeq and From tag. The ACK for a non-2xx final response belongs to the INVITE
transaction; the ACK for a 2xx is found by Call-ID and CSeq number. It works on any transport,
gives response times in milliseconds with microsecond precision, and releases a transaction
``LINGER`` seconds after its last message (64*T1, the longest RFC 3261 timer).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sipstatus.capture._head import Head

LINGER_NS = 32 * 1_000_000_000  # 64*T1 = 32 s: Timers B, D, F, H, J
_MASK32 = 0xFFFFFFFF

_NOTHING, _REQUEST, _PROVISIONAL, _FINAL = 0, 1, 2, 3


def c_milliseconds(sec: int, nsec: int, sec0: int, nsec0: int) -> int:
    """``(s - s0) * 1000 + (ns - ns0) / 1000000`` with C's truncating division, as a guint32
    (how packet-sip.c computes every time it shows)."""
    nanos = nsec - nsec0
    millis = abs(nanos) // 1_000_000
    return ((sec - sec0) * 1000 + (-millis if nanos < 0 else millis)) & _MASK32


class _LedgerState:
    __slots__ = ("cseq", "frame", "last_sec", "method", "nsec", "response_code", "sec", "state")

    def __init__(self, cseq: int, method: str, sec: int, nsec: int) -> None:
        self.cseq = cseq
        self.method = method
        self.state = _NOTHING
        self.frame = 0
        self.sec = sec  # request time
        self.nsec = nsec
        self.response_code = 0
        self.last_sec = sec


class TsharkLedger:
    """tshark's resend flag and setup time (see the module docstring).

    Deviation: states idle for ``idle_seconds`` of capture time are forgotten, to keep memory
    bounded; tshark keeps them forever, which changes nothing unless a Call-ID is reused after
    that long.
    """

    def __init__(self, idle_seconds: int = 600) -> None:
        self.idle_seconds = idle_seconds
        self._states: dict[tuple[object, ...], _LedgerState] = {}
        self._next_sweep = 0

    def __len__(self) -> int:
        return len(self._states)

    def observe(self, head: Head, frame: int, sec: int, nsec: int, src: str, sport: int,
                dst: str, dport: int) -> tuple[bool, int]:
        """Return ``(resend, setup_ms)`` for a UDP message (setup_ms is 0 unless an ACK)."""
        cseq = head.cseq_seq
        if cseq is None:
            return False, 0
        if sec >= self._next_sweep:
            self._sweep(sec)
        states = self._states
        method = head.cseq_method
        is_request = head.kind == "request"
        key = (head.call_id, src, sport, dst, dport)
        state = states.get(key)
        setup = 0
        if is_request and method == "ACK" and state is not None:
            setup = c_milliseconds(sec, nsec, state.sec, state.nsec)
        if state is None:
            state = states[key] = _LedgerState(cseq, method, sec if is_request else 0,
                                               nsec if is_request else 0)
            compare = 0
        else:
            compare = state.cseq
            if cseq != state.cseq or method != state.method:
                state.cseq, state.method, state.state, state.frame = cseq, method, _NOTHING, 0
                if is_request:
                    state.sec, state.nsec = sec, nsec
        state.last_sec = sec
        resend = 0
        if is_request:
            if (cseq == compare and state.state == _REQUEST and method == state.method
                    and method != "ACK" and method != "CANCEL"):
                resend = state.frame
            state.state = _REQUEST
            if not resend:
                state.frame = frame
        else:
            code = head.status_code
            if (cseq == compare and state.state == _FINAL and method == state.method
                    and code >= 200 and code == state.response_code):
                resend = state.frame
            if code >= 200:
                state.response_code = code
                state.state = _FINAL
                if not resend:
                    state.frame = frame
            else:
                state.state = _PROVISIONAL
        return resend > 0, setup

    def _sweep(self, now: int) -> None:
        cutoff = now - self.idle_seconds
        stale = [key for key, state in self._states.items() if state.last_sec < cutoff]
        for key in stale:
            del self._states[key]
        self._next_sweep = now + 60


@dataclass(slots=True)
class Transaction:
    """One RFC 3261 transaction as seen on the wire (mutable while it is alive)."""

    method: str
    call_id: str
    cseq: int
    frame: int
    start_ns: int  # first copy of the request
    last_ns: int
    to_tag_in_request: bool
    requests: int = 1
    first_response_ns: int | None = None
    first_response_code: int = 0
    final_code: int = 0
    final_ns: int | None = None
    ack_ns: int | None = None
    responses: set[tuple[int, str]] | None = None  # (code, To tag) seen; made on first use


# What Transactions.observe reports for one message: the transaction (None if unmatched),
# whether the message is a retransmission in RFC 3261's sense (a copy of a request or final
# response already seen), the response time in ms (responses: since the request; ACK: since
# the INVITE), and whether it is the transaction's first final response. A plain tuple: this
# runs once per message.
Observation = tuple["Transaction | None", bool, "float | None", bool]
_UNMATCHED: Observation = (None, False, None, False)


class Transactions:
    """RFC 3261 §17 matching (see the module docstring). ``finished`` collects transactions
    that were released, for the call and metric bookkeepers to consume."""

    def __init__(self, on_release: Callable[[Transaction], None] | None = None) -> None:
        self.on_release = on_release
        self._live: dict[tuple[object, ...], Transaction] = {}
        self._invites: dict[tuple[str, int], Transaction] = {}  # (Call-ID, CSeq) -> INVITE
        self._next_sweep = 0
        self.released = 0

    def __len__(self) -> int:
        return len(self._live)

    @staticmethod
    def _key(head: Head, method: str) -> tuple[object, ...]:
        branch = head.via_branch
        if branch[:7] == "z9hG4bK":
            return head.call_id, branch, method
        return head.call_id, head.cseq_seq, method, head.from_tag

    def observe(self, head: Head, now_ns: int, frame: int) -> Observation:
        if now_ns >= self._next_sweep:
            self._sweep(now_ns)
        if head.cseq_seq is None:
            return _UNMATCHED
        if head.status_code == 0:
            return self._request(head, now_ns, frame)
        return self._response(head, now_ns)

    def _request(self, head: Head, now_ns: int, frame: int) -> Observation:
        method = head.method
        cseq = head.cseq_seq or 0
        if method == "ACK":
            invite = self._live.get(self._key(head, "INVITE"))  # ACK to a non-2xx
            if invite is None or invite.cseq != head.cseq_seq:
                invite = self._invites.get((head.call_id, cseq))  # ACK to a 2xx
            if invite is None:
                return _UNMATCHED
            repeated = invite.ack_ns is not None
            if not repeated:
                invite.ack_ns = now_ns
            invite.last_ns = now_ns
            return invite, repeated, (now_ns - invite.start_ns) / 1e6, False
        key = self._key(head, method)
        txn = self._live.get(key)
        if txn is not None:
            txn.requests += 1
            txn.last_ns = now_ns
            return txn, True, None, False
        txn = Transaction(method, head.call_id, cseq, frame, now_ns, now_ns,
                          head.has_to_tag)
        self._live[key] = txn
        if method == "INVITE":
            self._invites[(head.call_id, txn.cseq)] = txn
        return txn, False, None, False

    def _response(self, head: Head, now_ns: int) -> Observation:
        txn = self._live.get(self._key(head, head.cseq_method))
        if txn is None or txn.cseq != head.cseq_seq:
            return _UNMATCHED
        txn.last_ns = now_ns
        code = head.status_code
        signature = (code, head.to_tag)
        seen = txn.responses
        if seen is None:
            seen = txn.responses = set()
        repeated = signature in seen
        if not repeated and len(seen) < 32:
            seen.add(signature)
        if txn.first_response_ns is None:
            txn.first_response_ns = now_ns
            txn.first_response_code = code
        first_final = False
        if code >= 200 and txn.final_ns is None:
            txn.final_ns = now_ns
            txn.final_code = code
            first_final = True
        # Repeated provisional responses are legitimate (each INVITE retransmission is
        # answered again), so only a repeated final response counts as a retransmission.
        return txn, repeated and code >= 200, (now_ns - txn.start_ns) / 1e6, first_final

    def _sweep(self, now_ns: int) -> None:
        cutoff = now_ns - LINGER_NS
        self._release([key for key, txn in self._live.items() if txn.last_ns < cutoff])
        self._next_sweep = now_ns + LINGER_NS // 4

    def flush(self) -> None:
        """Release every transaction (at the end of the capture)."""
        self._release(list(self._live))

    def _release(self, keys: list[tuple[object, ...]]) -> None:
        for key in keys:
            txn = self._live.pop(key)
            if txn.method == "INVITE":
                self._invites.pop((txn.call_id, txn.cseq), None)
            self.released += 1
            if self.on_release is not None:
                self.on_release(txn)
