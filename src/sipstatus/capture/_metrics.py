"""RFC 6076 end-to-end performance metrics, computed from calls and transactions.

Each metric carries its definition. Decisions where the RFC leaves room (each one argued):

- A *session attempt* is a call (``_calls``): a Call-ID whose dialog starts with an INVITE.
  Its outcome is the final response to its last initial INVITE, so an INVITE challenged with
  401/407 and retried counts once (RFC 6076 §5 asks that authentication not inflate attempts).
  Calls still "in progress" at the end of the capture are left out of every ratio: their
  outcome is unknown, not a failure.
- A timeout is an INVITE with no final response ``TIMER_B`` (32 s) after it was sent, or a
  BYE / REGISTER with none 32 s (Timer F) after it was sent.
- Delays are reported as count / average / min / max in milliseconds; successes and failures
  separately, as RFC 6076 §4 requires ("MUST NOT be averaged together").
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass

from sipstatus.capture._budget import REGISTRATION_ENTRY_BYTES, MemoryBudget
from sipstatus.capture._calls import TIMER_B_NS, Call
from sipstatus.capture._transactions import Transaction

DEFINITIONS: dict[str, tuple[str, str]] = {
    "RRD": ("RFC 6076 §4.1", "Registration Request Delay: time from the first REGISTER of a "
            "registration (401/407 challenge rounds included) to its 2xx; successful "
            "registrations only."),
    "IRA": ("RFC 6076 §4.2", "Ineffective Registration Attempts: REGISTER transactions ending "
            "in a 4xx other than 401, 402 and 407, a 5xx, a 6xx or a timeout, as a percentage "
            "of all REGISTER transactions."),
    "SRD": ("RFC 6076 §4.3", "Session Request Delay: time from the INVITE to the first "
            "status-indicative response (not 100 Trying): a 18x or 2xx for success, a 4xx, "
            "5xx or 6xx for failure."),
    "SDD": ("RFC 6076 §4.4", "Session Disconnect Delay: time from a BYE to its 2xx "
            "(success) ; failures are BYEs without a final response (timeout)."),
    "SDT": ("RFC 6076 §4.5", "Session Duration Time: time from the 2xx to the INVITE to the "
            "BYE, for answered calls that were released."),
    "SER": ("RFC 6076 §4.6", "Session Establishment Ratio: session attempts answered 200, as "
            "a percentage of session attempts minus those answered 3xx."),
    "SEER": ("RFC 6076 §4.7", "Session Establishment Effectiveness Ratio: attempts answered "
             "200, 480, 486, 600 or 603, as a percentage of attempts minus those answered "
             "3xx."),
    "ISA": ("RFC 6076 §4.8", "Ineffective Session Attempts: attempts answered 408, 500, 503 "
            "or 504, or timed out, as a percentage of all attempts."),
    "SCR": ("RFC 6076 §4.9", "Session Completion Ratio: attempts answered 2xx whose session "
            "was then released by a BYE answered 2xx, as a percentage of all attempts."),
}

_IRA_EXEMPT = (401, 402, 407)
_SEER_CODES = (200, 480, 486, 600, 603)
_ISA_CODES = (408, 500, 503, 504)


class Delay:
    """Count, sum, min and max of one delay, in milliseconds."""

    __slots__ = ("count", "maximum", "minimum", "total")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.minimum = 0.0
        self.maximum = 0.0

    def add(self, ms: float) -> None:
        if self.count == 0 or ms < self.minimum:
            self.minimum = ms
        if self.count == 0 or ms > self.maximum:
            self.maximum = ms
        self.count += 1
        self.total += ms

    def as_dict(self) -> dict[str, float | int | None]:
        if not self.count:
            return {"count": 0, "avg": None, "min": None, "max": None}
        return {"count": self.count, "avg": round(self.total / self.count, 3),
                "min": round(self.minimum, 3), "max": round(self.maximum, 3)}


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    section: str
    definition: str
    value: float | None  # a percentage for ratios; None when undefined (0 attempts)
    numerator: int | None = None
    denominator: int | None = None
    success: dict[str, float | int | None] | None = None  # delays
    failure: dict[str, float | int | None] | None = None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"name": self.name, "rfc": self.section,
                                  "definition": self.definition}
        if self.success is not None:
            out["success_ms"] = self.success
            if self.failure is not None:
                out["failure_ms"] = self.failure
        else:
            out.update(percent=self.value, numerator=self.numerator,
                       denominator=self.denominator)
        return out


class Metrics:
    """Accumulate RFC 6076 metrics. Feed it released calls, released transactions and the
    first final response of every transaction.

    Registrations waiting for their 2xx after a challenge hold at most ``max_bytes``
    (``REGISTRATION_ENTRY_BYTES`` plus the Call-ID each); beyond it the oldest is forgotten
    (``evicted["registrations"]``), and its RRD is then measured from its last REGISTER.
    """

    def __init__(self, max_bytes: int | None = None,
                 evicted: Counter[str] | None = None) -> None:
        self.max_bytes = (MemoryBudget().dialogs("registrations", ("registrations",))
                          if max_bytes is None else max_bytes)
        self.evicted: Counter[str] = Counter() if evicted is None else evicted
        self.held = 0
        self.attempts = 0
        self.redirected = 0
        self.established = 0
        self.effective = 0
        self.ineffective = 0
        self.completed = 0
        self.registers = 0
        self.ineffective_registers = 0
        self.rrd = Delay()
        self.srd_success = Delay()
        self.srd_failure = Delay()
        self.sdd_success = Delay()
        self.sdd_failures = 0
        self.sdt = Delay()
        # Call-ID -> first REGISTER time (ns), oldest first
        self._registrations: OrderedDict[str, int] = OrderedDict()

    def call(self, call: Call) -> None:
        code = call.final_code
        timed_out = code == 0 and not call.cancelled and call.answered_ns is None and (
            call.end_ns - call.invite_ns >= TIMER_B_NS and call.progress_code == 0)
        if code == 0 and call.answered_ns is None and not timed_out:
            return  # in progress (or cancelled before any final): no outcome to count
        self.attempts += 1
        if call.answered_ns is not None:
            code = code or 200
        if 300 <= code < 400:
            self.redirected += 1
        if code == 200:
            self.established += 1
        if code in _SEER_CODES:
            self.effective += 1
        if code in _ISA_CODES or timed_out:
            self.ineffective += 1
        if call.answered_ns is not None and call.ended:
            self.completed += 1
        if call.indicative_ns is not None:
            delay = (call.indicative_ns - call.start_ns) / 1e6
            if call.indicative_code < 300:
                self.srd_success.add(delay)
            elif call.indicative_code >= 400:
                self.srd_failure.add(delay)
        duration = call.duration_ms
        if duration is not None:
            self.sdt.add(duration)

    def final_response(self, txn: Transaction) -> None:
        """A transaction got its first final response."""
        if txn.final_ns is None:
            return
        if txn.method == "BYE" and 200 <= txn.final_code < 300:
            self.sdd_success.add((txn.final_ns - txn.start_ns) / 1e6)
        elif txn.method == "REGISTER":
            registrations = self._registrations
            first = registrations.pop(txn.call_id, None)
            if first is None:
                first = txn.start_ns
            else:
                self.held -= REGISTRATION_ENTRY_BYTES + len(txn.call_id)
            if 200 <= txn.final_code < 300:
                self.rrd.add((txn.final_ns - first) / 1e6)
            elif txn.final_code in (401, 407):
                registrations[txn.call_id] = first
                self.held += REGISTRATION_ENTRY_BYTES + len(txn.call_id)
                while self.held > self.max_bytes and len(registrations) > 1:
                    call_id, _first = registrations.popitem(last=False)
                    self.held -= REGISTRATION_ENTRY_BYTES + len(call_id)
                    self.evicted["registrations"] += 1

    def released(self, txn: Transaction, now_ns: int) -> None:
        """A transaction was released (LINGER after its last message, or capture end)."""
        timed_out = txn.final_ns is None and now_ns - txn.start_ns >= TIMER_B_NS
        if txn.method == "REGISTER" and (txn.final_ns is not None or timed_out):
            self.registers += 1
            code = txn.final_code
            if timed_out or (code >= 400 and code not in _IRA_EXEMPT):
                self.ineffective_registers += 1
        elif txn.method == "BYE" and timed_out:
            self.sdd_failures += 1

    def results(self) -> tuple[Metric, ...]:
        def ratio(name: str, numerator: int, denominator: int) -> Metric:
            section, text = DEFINITIONS[name]
            value = round(100.0 * numerator / denominator, 2) if denominator else None
            return Metric(name, section, text, value, numerator, denominator)

        def delay(name: str, success: Delay, failure: Delay | None = None,
                  failures: int | None = None) -> Metric:
            section, text = DEFINITIONS[name]
            fail: dict[str, float | int | None] | None = None
            if failure is not None:
                fail = failure.as_dict()
            elif failures is not None:
                fail = {"count": failures}
            return Metric(name, section, text, None, success=success.as_dict(), failure=fail)

        usable = self.attempts - self.redirected
        return (
            ratio("SER", self.established, usable),
            ratio("SEER", self.effective, usable),
            ratio("ISA", self.ineffective, self.attempts),
            ratio("SCR", self.completed, self.attempts),
            delay("SRD", self.srd_success, self.srd_failure),
            delay("SDD", self.sdd_success, failures=self.sdd_failures),
            delay("SDT", self.sdt),
            delay("RRD", self.rrd),
            ratio("IRA", self.ineffective_registers, self.registers),
        )
