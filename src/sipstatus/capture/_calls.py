"""Calls: one per Call-ID whose dialog starts with an INVITE, with its outcome.

The outcome follows the final response to the call's last initial INVITE (an INVITE without
a To tag; a 401/407 challenge followed by a new INVITE is not an outcome), read through the
code table (``sipstatus._codes.lookup``: class and advice of each code):

==============  ===========================================================================
answered        a 2xx (the call may since have ended with BYE: ``ended`` is then true)
busy            486 Busy Here, 600 Busy Everywhere
cancelled       the caller sent CANCEL, or 487 Request Terminated came back
redirected      any 3xx
no answer       408 Request Timeout, 480 Temporarily Unavailable; or no final response to
                an INVITE ``TIMER_B`` seconds old when the capture ends
rejected        other 4xx and 6xx (refused by the callee or the network: 403, 404, 488, 603,
                an unanswered 401/407 challenge ...)
failed          5xx (the server side failed)
in progress     no final response yet
==============  ===========================================================================

These map onto Wireshark's VoIP Calls states (IN_CALL/COMPLETED, REJECTED, CANCELLED,
CALL_SETUP) and sngrep's (IN CALL/COMPLETED, BUSY, REJECTED, CANCELLED, DIVERTED, CALL SETUP),
with "busy", "no answer" and "failed" split out of "rejected".

A call is released ``LINGER`` seconds after its last message once it has an outcome other than
"answered", or after its BYE is answered; ``finished`` receives it then (or at the end of the
capture), so memory holds only calls that are still going on. Calls are also bounded by count:
they hold at most ``max_bytes`` (their share of the scan's memory budget), each counted as
``CALL_ENTRY_BYTES`` plus the length of its Call-ID; beyond that the least recently active
call is released early with the outcome it has so far; if that outcome was not settled yet
(an answered call not yet ended by an answered BYE, a call without a final response) it is
counted in ``evicted["calls"]``, and a later message of its Call-ID is reported as ``lost``.

Legs (``_legs``): Call-IDs tied together by hints (``X-CID``, ``Session-ID``,
``P-Charging-Vector``, the HEP correlation id) are the legs of one call. Each leg is followed
as above; the call is released when every leg is done (or, evicted, with all its legs), as
one :class:`Call`: its first leg's (the leg seen first, whose Call-ID is the call's key), so
outcome, final code, times, addresses and INVITE count are those of the first leg, the
caller's side of a B2BUA, while ``messages`` counts the messages of every leg, ``last_ns`` is
the last message of any leg, and ``call_ids`` lists the legs in the order they were first
seen. A call of one leg is exactly what it was before legs were followed.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sipstatus._codes import Category, lookup
from sipstatus.capture._budget import CALL_ENTRY_BYTES, EvictedKeys, MemoryBudget
from sipstatus.capture._head import Head
from sipstatus.capture._legs import Group, Legs
from sipstatus.capture._transactions import LINGER_NS

TIMER_B_NS = 32 * 1_000_000_000

OUTCOMES = ("answered", "busy", "cancelled", "redirected", "no answer", "rejected", "failed",
            "in progress")


@dataclass(slots=True)
class Call:
    """The state of one call (mutable while the call is alive)."""

    call_id: str
    frame: int
    start_ns: int
    src: str
    sport: int
    dst: str
    dport: int
    transport: str
    last_ns: int
    messages: int = 0
    invites: int = 0  # initial INVITE transactions (challenge rounds included)
    invite_ns: int = 0  # start of the latest initial INVITE
    progress_code: int = 0  # latest provisional response
    indicative_ns: int | None = None  # first non-100 response (RFC 6076 SRD end point)
    indicative_code: int = 0
    final_code: int = 0
    final_ns: int | None = None
    answered_ns: int | None = None
    cancelled: bool = False
    bye_ns: int | None = None
    bye_code: int = 0
    bye_final_ns: int | None = None
    end_ns: int = 0  # capture time when the outcome was judged
    seq: int = 0  # rank of the call's first message among the calls' (capture order)
    legs: tuple[str, ...] = ()  # the Call-IDs of its legs, when it has several (at release)

    @property
    def call_ids(self) -> tuple[str, ...]:
        """The Call-IDs of the call's legs, the first seen first (the key, ``call_id``)."""
        return self.legs or (self.call_id,)

    def outcome(self, now_ns: int | None = None) -> str:
        if self.answered_ns is not None:
            return "answered"
        code = self.final_code
        if code:
            if code in (486, 600):
                return "busy"
            if code == 487 or self.cancelled:
                return "cancelled"
            if code in (408, 480):
                return "no answer"
            category = lookup(code).category
            if category is Category.REDIRECTION:
                return "redirected"
            if category is Category.SERVER_FAILURE:
                return "failed"
            return "rejected"
        if self.cancelled:
            return "cancelled"
        now = self.end_ns if now_ns is None else now_ns
        if now - self.invite_ns >= TIMER_B_NS and self.progress_code == 0:
            return "no answer"
        return "in progress"

    @property
    def ended(self) -> bool:
        """The call was answered and then released with a BYE that got a 2xx."""
        return self.bye_final_ns is not None and 200 <= self.bye_code < 300

    @property
    def duration_ms(self) -> float | None:
        """RFC 6076 SDT: from the 2xx to the INVITE until the BYE."""
        if self.answered_ns is None or self.bye_ns is None:
            return None
        return (self.bye_ns - self.answered_ns) / 1e6

    @property
    def setup_ms(self) -> float | None:
        """From the first INVITE to the final response (answer or failure)."""
        if self.final_ns is None:
            return None
        return (self.final_ns - self.start_ns) / 1e6


class Calls:
    """Follow calls message by message; released calls go to ``on_finish``."""

    def __init__(self, on_finish: Callable[[Call], None], max_bytes: int | None = None,
                 evicted: Counter[str] | None = None) -> None:
        self.on_finish = on_finish
        self.max_bytes = (MemoryBudget().dialogs("calls", ("calls",)) if max_bytes is None
                          else max_bytes)
        self.evicted: Counter[str] = Counter() if evicted is None else evicted
        self.held = 0
        self._calls: OrderedDict[str, Call] = OrderedDict()  # least recently active first
        self._gone = EvictedKeys()
        self._next_sweep = 0
        #: The groups of legs of the calls followed (``_legs``).
        self.links = Legs(self._calls.get, self.evicted)
        self._seq = 0

    def __len__(self) -> int:
        return len(self._calls)

    def __contains__(self, call_id: object) -> bool:
        """Whether a call with this Call-ID is being followed."""
        return call_id in self._calls

    def key(self, call_id: str) -> str:
        """The key of the call a message of ``call_id`` belongs to now: the Call-ID of the
        call's first leg (``call_id`` itself when it is tied to no other leg)."""
        return self.links.key(call_id)

    def observe(self, head: Head, now_ns: int, frame: int, src: str, sport: int, dst: str,
                dport: int, transport: str, retransmission: bool) -> bool:
        """Follow one message; return whether its call was lost to an eviction."""
        if now_ns >= self._next_sweep:
            self._sweep(now_ns)
        calls = self._calls
        call = calls.get(head.call_id)
        if call is None:
            if head.method != "INVITE" or head.has_to_tag:
                # not the start of a call (or the capture began mid-call, or it was evicted)
                return head.call_id in self._gone
            call = calls[head.call_id] = Call(
                head.call_id, frame, now_ns, src, sport, dst, dport, transport, now_ns,
                seq=self._seq)
            self._seq += 1
            self.held += CALL_ENTRY_BYTES + len(head.call_id)
            legs = self.links
            if len(legs):
                legs.start(call)
            if head.links:
                legs.link(call, head.links)
            if self.held + legs.held > self.max_bytes:
                self._evict(now_ns)
        else:
            calls.move_to_end(head.call_id)
            if head.links:
                self.links.link(call, head.links)
                if self.held + self.links.held > self.max_bytes:
                    self._evict(now_ns)
        call.messages += 1
        call.last_ns = now_ns
        if retransmission:
            return False
        method = head.method
        if method:
            if method == "INVITE" and not head.has_to_tag:
                call.invites += 1
                call.invite_ns = now_ns
                call.final_code, call.final_ns = 0, None
            elif method == "CANCEL" and call.final_code == 0:
                call.cancelled = True
            elif method == "BYE" and call.bye_ns is None:
                call.bye_ns = now_ns
            return False
        code = head.status_code
        if head.cseq_method == "INVITE":
            if code > 100 and call.indicative_ns is None and code not in (401, 407):
                call.indicative_ns, call.indicative_code = now_ns, code
            if code < 200:
                call.progress_code = code
            elif call.final_code == 0 and call.answered_ns is None:
                call.final_code, call.final_ns = code, now_ns
                if code < 300:
                    call.answered_ns = now_ns
        elif head.cseq_method == "BYE" and code >= 200 and call.bye_final_ns is None:
            call.bye_code, call.bye_final_ns = code, now_ns
        return False

    def _evict(self, now_ns: int) -> None:
        """Release the least recently active calls (never the newest) until the rest fit. A
        call whose outcome is settled loses nothing by it (only its linger): only the others
        count as evicted. A call of several legs goes with all its legs."""
        calls = self._calls
        while self.held + self.links.held > self.max_bytes and len(calls) > 1:
            legs, group = self._legs_of(next(iter(calls.values())))
            if not all(self._settled(leg) for leg in legs):
                for leg in legs:
                    self._gone.add(leg.call_id)
                self.evicted["calls"] += 1
            self._release(legs, group, now_ns)

    def _legs_of(self, call: Call) -> tuple[list[Call], Group | None]:
        """The legs of ``call``'s call (the first seen first), and their group if any."""
        group = self.links.group(call.call_id) if len(self.links) else None
        if group is None or call not in group.legs:
            return [call], None
        return group.legs, group  # type: ignore[return-value]  # the legs are Calls

    @staticmethod
    def _settled(call: Call) -> bool:
        if call.answered_ns is not None:
            return call.bye_final_ns is not None
        return call.final_code not in (0, 401, 407) or call.cancelled

    def _done(self, call: Call, now_ns: int) -> bool:
        return now_ns - call.last_ns >= LINGER_NS and self._settled(call)

    def _release(self, legs: list[Call], group: Group | None, now_ns: int) -> None:
        """Release a call: its legs go, and the first leg stands for the call."""
        calls = self._calls
        for leg in legs:
            if calls.pop(leg.call_id, None) is leg:
                self.held -= CALL_ENTRY_BYTES + len(leg.call_id)
            leg.end_ns = now_ns
        first = legs[0]
        if group is not None:
            self.links.forget(group)
            if len(legs) > 1:
                first.legs = tuple(leg.call_id for leg in legs)
                first.messages = sum(leg.messages for leg in legs)
                first.last_ns = max(leg.last_ns for leg in legs)
        self.on_finish(first)

    def _sweep(self, now_ns: int) -> None:
        done = []
        for call in self._calls.values():  # least recently active first
            if now_ns - call.last_ns < LINGER_NS:
                break
            if self._done(call, now_ns):
                done.append(call)
        for call in done:
            if call.call_id not in self._calls:
                continue  # released with another leg of its call
            legs, group = self._legs_of(call)
            if group is None or all(self._done(leg, now_ns) for leg in legs):
                self._release(legs, group, now_ns)
        self._next_sweep = now_ns + LINGER_NS // 4

    def flush(self, now_ns: int) -> None:
        """Release every call (at the end of the capture, whose last time is ``now_ns``)."""
        calls = self._calls
        for call in list(calls.values()):
            if call.call_id in calls:
                self._release(*self._legs_of(call), now_ns)
