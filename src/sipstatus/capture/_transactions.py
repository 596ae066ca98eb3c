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

Both are bounded by count as well as time: each holds at most its share of the scan's memory
budget, counting every entry as an estimate (``RESEND_STATE_ENTRY_BYTES``,
``TRANSACTION_ENTRY_BYTES``) plus the length of its Call-ID (and branch or From tag). Entries
are kept in order of their last message, so the least recently active one is evicted first
(counted in ``evicted["resend_states"]``, ``evicted["transactions"]``; an evicted transaction
is released as at the end of the capture), and the time sweeps stop at the first entry that is
still active. A message that finds no state because its state was evicted is reported as
``lost`` (see :class:`EvictedKeys` for the rare false alarm).
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sipstatus.capture._budget import (
    RESEND_STATE_ENTRY_BYTES,
    TRANSACTION_ENTRY_BYTES,
    EvictedKeys,
    MemoryBudget,
)
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

    Deviations, to keep memory bounded: states idle for ``idle_seconds`` of capture time are
    forgotten (tshark keeps them forever, which changes nothing unless a Call-ID is reused
    after that long), and beyond ``max_bytes`` the least recently active states are evicted
    (a resend in an evicted state's direction is then not flagged, nor an ACK's setup time
    measured).
    """

    def __init__(self, idle_seconds: int = 600, max_bytes: int | None = None,
                 evicted: Counter[str] | None = None) -> None:
        self.idle_seconds = idle_seconds
        self.max_bytes = (MemoryBudget().dialogs("resend_states", ("resend_states",))
                          if max_bytes is None else max_bytes)
        self.evicted: Counter[str] = Counter() if evicted is None else evicted
        self.held = 0
        self._states: OrderedDict[tuple[str, str, int, str, int], _LedgerState] = (
            OrderedDict())
        self._gone = EvictedKeys()
        self._next_sweep = 0

    def __len__(self) -> int:
        return len(self._states)

    def observe(self, head: Head, frame: int, sec: int, nsec: int, src: str, sport: int,
                dst: str, dport: int) -> tuple[bool, int, bool]:
        """Return ``(resend, setup_ms, lost)`` for a UDP message (setup_ms is 0 unless an
        ACK; ``lost``: its direction's state was evicted)."""
        cseq = head.cseq_seq
        if cseq is None:
            return False, 0, False
        if sec >= self._next_sweep:
            self._sweep(sec)
        states = self._states
        method = head.cseq_method
        is_request = head.kind == "request"
        key = (head.call_id, src, sport, dst, dport)
        state = states.get(key)
        setup = 0
        lost = False
        if is_request and method == "ACK" and state is not None:
            setup = c_milliseconds(sec, nsec, state.sec, state.nsec)
        if state is None:
            lost = key in self._gone
            state = states[key] = _LedgerState(cseq, method, sec if is_request else 0,
                                               nsec if is_request else 0)
            self.held += RESEND_STATE_ENTRY_BYTES + len(key[0])
            if self.held > self.max_bytes:
                self._evict()
            compare = 0
        else:
            states.move_to_end(key)
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
        return resend > 0, setup, lost

    def _evict(self) -> None:
        """Evict the least recently active states (never the newest) until the rest fit."""
        states = self._states
        while self.held > self.max_bytes and len(states) > 1:
            key, _state = states.popitem(last=False)
            self.held -= RESEND_STATE_ENTRY_BYTES + len(key[0])
            self._gone.add(key)
            self.evicted["resend_states"] += 1

    def _sweep(self, now: int) -> None:
        cutoff = now - self.idle_seconds
        states = self._states
        while states:
            key = next(iter(states))
            if states[key].last_sec >= cutoff:
                break
            del states[key]
            self.held -= RESEND_STATE_ENTRY_BYTES + len(key[0])
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
    # (code, hash of the To tag) seen, made on first use: a fixed size whatever the tags
    responses: set[tuple[int, int]] | None = None


# What Transactions.observe reports for one message: the transaction (None if unmatched),
# whether the message is a retransmission in RFC 3261's sense (a copy of a request or final
# response already seen), the response time in ms (responses: since the request; ACK: since
# the INVITE), whether it is the transaction's first final response, and whether the message
# lost its transaction to an eviction. A plain tuple: this runs once per message.
Observation = tuple["Transaction | None", bool, "float | None", bool, bool]
_UNMATCHED: Observation = (None, False, None, False, False)
_LOST: Observation = (None, False, None, False, True)


class Transactions:
    """RFC 3261 §17 matching (see the module docstring). Released transactions go to
    ``on_release``: ``LINGER`` after their last message, when evicted, or at :meth:`flush`."""

    def __init__(self, on_release: Callable[[Transaction], None] | None = None,
                 max_bytes: int | None = None, evicted: Counter[str] | None = None) -> None:
        self.on_release = on_release
        self.max_bytes = (MemoryBudget().dialogs("transactions", ("transactions",))
                          if max_bytes is None else max_bytes)
        self.evicted: Counter[str] = Counter() if evicted is None else evicted
        self.held = 0
        self._live: OrderedDict[tuple[object, ...], Transaction] = OrderedDict()
        # (Call-ID, CSeq) of an INVITE -> its key in _live
        self._invites: dict[tuple[str, int], tuple[object, ...]] = {}
        self._gone = EvictedKeys()
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

    @staticmethod
    def _cost(txn: Transaction, key: tuple[object, ...]) -> int:
        tag = key[1] if len(key) == 3 else key[3]  # the branch, or the From tag
        return TRANSACTION_ENTRY_BYTES + len(txn.call_id) + (len(tag) if isinstance(tag, str)
                                                             else 0)

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
        live = self._live
        if method == "ACK":
            key = self._key(head, "INVITE")  # ACK to a non-2xx
            invite = live.get(key)
            if invite is None or invite.cseq != head.cseq_seq:
                key = self._invites.get((head.call_id, cseq), key)  # ACK to a 2xx
                invite = live.get(key)
            if invite is None or invite.cseq != head.cseq_seq:
                gone = self._gone
                if key in gone or (head.call_id, cseq) in gone:
                    return _LOST
                return _UNMATCHED
            live.move_to_end(key)
            repeated = invite.ack_ns is not None
            if not repeated:
                invite.ack_ns = now_ns
            invite.last_ns = now_ns
            return invite, repeated, (now_ns - invite.start_ns) / 1e6, False, False
        key = self._key(head, method)
        txn = live.get(key)
        if txn is not None:
            live.move_to_end(key)
            txn.requests += 1
            txn.last_ns = now_ns
            return txn, True, None, False, False
        txn = Transaction(method, head.call_id, cseq, frame, now_ns, now_ns,
                          head.has_to_tag)
        live[key] = txn
        if method == "INVITE":
            self._invites[(head.call_id, txn.cseq)] = key
        self.held += self._cost(txn, key)
        if self.held > self.max_bytes:
            self._evict()
        return txn, False, None, False, key in self._gone

    def _response(self, head: Head, now_ns: int) -> Observation:
        key = self._key(head, head.cseq_method)
        txn = self._live.get(key)
        if txn is None or txn.cseq != head.cseq_seq:
            return _LOST if key in self._gone else _UNMATCHED
        self._live.move_to_end(key)
        txn.last_ns = now_ns
        code = head.status_code
        signature = (code, hash(head.to_tag))
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
        return (txn, repeated and code >= 200, (now_ns - txn.start_ns) / 1e6, first_final,
                False)

    def _evict(self) -> None:
        """Release the least recently active transactions (never the newest) until the rest
        fit."""
        live = self._live
        gone = self._gone
        while self.held > self.max_bytes and len(live) > 1:
            key = next(iter(live))
            txn = live[key]
            gone.add(key)
            if txn.method == "INVITE":
                gone.add((txn.call_id, txn.cseq))
            self.evicted["transactions"] += 1
            self._release(key)

    def _sweep(self, now_ns: int) -> None:
        cutoff = now_ns - LINGER_NS
        live = self._live
        while live:
            key = next(iter(live))
            if live[key].last_ns >= cutoff:
                break
            self._release(key)
        self._next_sweep = now_ns + LINGER_NS // 4

    def flush(self) -> None:
        """Release every transaction (at the end of the capture)."""
        while self._live:
            self._release(next(iter(self._live)))

    def _release(self, key: tuple[object, ...]) -> None:
        txn = self._live.pop(key)
        self.held -= self._cost(txn, key)
        if txn.method == "INVITE" and self._invites.get((txn.call_id, txn.cseq)) == key:
            del self._invites[(txn.call_id, txn.cseq)]
        self.released += 1
        if self.on_release is not None:
            self.on_release(txn)
