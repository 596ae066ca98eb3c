"""The fuzzing loop: send cases (or answer the target's requests with them), watch the replies,
probe liveness between cases, collect findings.

Findings (docs/fuzzing.md):

* ``target-dead``: after the case, the target no longer answers the OPTIONS probe;
* ``malformed-reply``: the target sent something sipstatus' strict parser rejects;
* ``server-error``: the target answered a malformed case with a 5xx (a malformed request
  deserves a 4xx, RFC 3261 §21.4.1; a 5xx means the server itself went wrong);
* ``endless-message``: a message from the target (TCP) did not end within ``MAX_MESSAGE``
  bytes (or, in ``--answer`` mode, within ``--idle-timeout`` seconds): its connection was
  closed, and the run goes on.

At most ``MAX_REPLIES`` messages are judged per case; the rest (a flood) are counted in
``Outcome.drained`` with the messages the probes drained.

A run stops after ``cases`` cases, after ``duration`` seconds, or when the target dies.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sipstatus._fuzz import answer as ans
from sipstatus._fuzz import build as b
from sipstatus._fuzz import scenario as sc
from sipstatus._fuzz.cases import answer_cases, request_cases, response_cases, step_cases
from sipstatus._fuzz.digest import Credentials
from sipstatus._fuzz.flow import ANSWER_SCENARIOS
from sipstatus._fuzz.model import (
    ENDLESS_MESSAGE,
    MALFORMED_REPLY,
    SERVER_ERROR,
    TARGET_DEAD,
    Case,
    Finding,
    Mutation,
)
from sipstatus._fuzz.probe import Prober, ProbeResult, teardown
from sipstatus._fuzz.target import Target
from sipstatus._fuzz.transport import (
    MAX_DATAGRAM,
    Conversation,
    Endless,
    Inbox,
    Link,
    LinkError,
    Pacer,
)
from sipstatus._fuzz.verdict import judge, rejects
from sipstatus._fuzz.wire import Wire, call_id, find_header, looks_like_sip, status_code

Log = Callable[[str], None]

# Seconds without a message after which a case's answer is taken as complete.
QUIET = 0.02
# Cases kept (and saved) before the one after which the target died.
PRECEDING = 5
# Messages judged per case (replies, or in --answer mode what is blamed on it); more are a
# flood: drained and counted, not judged.
MAX_REPLIES = 8


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a run depends on (the CLI options of ``sipstatus fuzz``)."""

    target: Target
    answer: bool = False
    listen: Target | None = None
    cases: int | None = 100
    duration: float | None = None
    rate: float = 10.0
    seed: int = 0
    probe_timeout: float = 1.0
    probe_retries: int = 1
    reply_wait: float = 0.1
    malformed_ratio: float = 0.5
    methods: tuple[str, ...] | None = None
    idle_timeout: float = 10.0
    scenarios: tuple[str, ...] = ("request",)
    t1: float = 0.5  # RFC 3261 Timer T1 of the scenarios' transactions (seconds)
    credentials: Credentials | None = None  # --user/--password (scenario register)
    probe_user: str | None = None  # --probe-user: probe an element behind a proxy
    labels: tuple[str, ...] | None = None  # mutation labels drawn (--skip-label); None: all


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a run did and found."""

    cases: int
    findings: tuple[Finding, ...]
    target_alive: bool
    elapsed: float
    stopped: str
    labels: tuple[tuple[str, int], ...]
    drained: int = 0  # messages from the target read and dropped unjudged (a flood)
    scenarios: dict[str, Any] = field(default_factory=dict)  # Coverage.as_dict()


def _endpoint(target: Target) -> b.Endpoint:
    return b.Endpoint(target.transport.upper(), target.host, target.port)


def _prober(settings: Settings, run: _Run, open_conversation: Callable[[], Conversation],
            release: Callable[[Conversation], None]) -> Prober:
    return Prober(open_conversation, release, _endpoint(settings.target), run.pacer,
                  settings.probe_timeout, settings.probe_retries, settings.seed,
                  settings.probe_user)


class _Run:
    """State shared by the send and answer loops."""

    def __init__(self, settings: Settings, log: Log) -> None:
        self.settings = settings
        self.log = log
        self.pacer = Pacer(settings.rate)
        self.findings: list[Finding] = []
        self.labels: Counter[str] = Counter()
        self.case_ids: set[str] = set()
        self.started = time.monotonic()
        self.count = 0
        self.recent: deque[Case] = deque(maxlen=PRECEDING + 1)
        self.judged: Counter[int] = Counter()  # case index -> messages judged for it
        self.drained = 0
        self.coverage: sc.Coverage | None = None
        self.acks: dict[str, bytes] = {}  # the scenarios' ACKs of recent calls

    def time_left(self) -> bool:
        duration = self.settings.duration
        return duration is None or time.monotonic() - self.started < duration

    def more_cases(self) -> bool:
        limit = self.settings.cases
        return (limit is None or self.count < limit) and self.time_left()

    def next_case(self, mutation: Mutation, answered: bytes | None = None) -> Case:
        self.count += 1
        self.labels[mutation.label] += 1
        cid = call_id(mutation.data)
        if cid:
            self.case_ids.add(cid)
        case = Case(self.count, mutation.data, mutation.label, answered)
        self.recent.append(case)
        return case

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)
        self.log(
            f"finding: {finding.kind} after case {finding.case.index} "
            f"({finding.case.label}): {finding.detail}"
        )

    def assess(self, case: Case, messages: list[bytes]) -> None:
        """Judge what the target sent after ``case``."""
        case_malformed: bool | None = None
        for message in messages:
            if self.judged[case.index] >= MAX_REPLIES:
                self.drained += 1
                continue
            self.judged[case.index] += 1
            verdict = judge(message)
            if not verdict.well_formed:
                detail = verdict.problem or "rejected"
                if case.malformed and rejects(case.data):
                    detail += " (the case is malformed too: the reply may copy it)"
                self.add(Finding(case, MALFORMED_REPLY, message, verdict.classification,
                                 detail))
            elif verdict.status_code is not None and 500 <= verdict.status_code < 600:
                if case_malformed is None:
                    case_malformed = case.malformed and rejects(case.data)
                if case_malformed:
                    self.add(Finding(case, SERVER_ERROR, message, verdict.classification,
                                     f"{verdict.status_code} to a malformed request"))

    def endless(self, case: Case, endless: Endless) -> None:
        self.add(Finding(case, ENDLESS_MESSAGE, endless.sample, None, endless.detail))

    def probed(self, case: Case, probe: ProbeResult) -> None:
        """Note what a probe after ``case`` met besides its answer."""
        self.drained += probe.drained
        for endless in probe.endless:
            self.endless(case, endless)

    def last_probe(self, probe: ProbeResult) -> ProbeResult:
        """The probe that ends a run: what it met is noted against the latest case."""
        if self.recent:
            self.probed(self.recent[-1], probe)
        return probe

    def dead(self, case: Case, replies: list[bytes], probe: ProbeResult) -> None:
        reply = replies[0] if replies else None
        verdict = judge(reply) if reply is not None else None
        before = tuple(c for c in reversed(self.recent) if c.index < case.index)
        others = len(probe.others) + probe.drained
        meanwhile = f"; {others} other message(s) came meanwhile" if others else ""
        self.add(Finding(
            case, TARGET_DEAD, reply, verdict.classification if verdict else None,
            f"no answer to {probe.attempts} OPTIONS probe(s) of "
            f"{self.settings.probe_timeout:g} s after this case{meanwhile}",
            preceding=before,
        ))

    def outcome(self, alive: bool, stopped: str) -> Outcome:
        coverage = self.coverage.as_dict() if self.coverage is not None else {}
        return Outcome(
            scenarios=coverage,
            cases=self.count,
            findings=tuple(self.findings),
            target_alive=alive,
            elapsed=time.monotonic() - self.started,
            stopped=stopped,
            labels=tuple(sorted(self.labels.items())),
            drained=self.drained,
        )

    def replies(self, conversation: Conversation, case: Case) -> list[bytes]:
        """What the target sends within ``reply_wait`` seconds of ``case``; once it has
        answered, the window closes after ``QUIET`` seconds without another message (or when
        the next send is due anyway). Later replies still reach the case through the probe.
        Beyond ``MAX_REPLIES`` replies are drained and counted; an endless one is a finding."""
        got: list[bytes] = []
        deadline = time.monotonic() + self.settings.reply_wait
        while time.monotonic() < deadline:
            data = conversation.receive(deadline)
            if data is None:
                break
            if self.fresh(data, case):
                if len(got) < MAX_REPLIES:
                    got.append(data)
                else:
                    self.drained += 1
                quiet = max(time.monotonic() + QUIET, self.pacer.next_slot)
                deadline = min(deadline, quiet)
        if conversation.endless is not None:
            self.endless(case, conversation.endless)
        return got

    def fresh(self, data: bytes, case: Case) -> bool:
        """Whether ``data`` answers ``case`` rather than an earlier case (a retransmission, a
        late answer). Call-ID decides; without one, CSeq must match (late probe answers never
        get here)."""
        cid = call_id(data)
        if cid is not None:
            return cid == call_id(case.data) or cid not in self.case_ids
        got, sent = _cseq(data), _cseq(case.data)
        return got is None or sent is None or got == sent


def _cseq(data: bytes) -> tuple[bytes, ...] | None:
    value = find_header(data, "cseq")
    if value is None:
        return None
    parts = value.split()
    return (parts[0].lstrip(b"0"), *parts[1:]) if parts else None


def _never_ended(probe: ProbeResult) -> str:
    return f" (its answer never ended: {probe.endless[0].detail})" if probe.endless else ""


def _collect(run: _Run, case: Case, replies: list[bytes], probe: ProbeResult) -> list[bytes]:
    return replies + [m for m in probe.others if run.fresh(m, case)]


def _request_case(run: _Run, link: Link, prober: Prober, cases: Callable[[], Mutation],
                  local: list[b.Endpoint]) -> tuple[Case, list[bytes], ProbeResult]:
    """One out-of-dialog case (scenario ``request``): send, collect, tear down, probe,
    judge."""
    conversation = link.exchange()
    local[0] = conversation.local
    case = run.next_case(cases())
    try:
        run.pacer.wait()
        conversation.send(case.data)
        replies = run.replies(conversation, case)
        for reply in replies:
            for message in teardown(case.data, reply, conversation.local):
                run.pacer.wait()
                conversation.send(message)
    finally:
        link.release(conversation)
    probe = prober.probe()
    run.probed(case, probe)
    replies = _collect(run, case, replies, probe)
    run.assess(case, replies)
    if run.coverage is not None:
        run.coverage.cases["request"] += 1
        stats = run.coverage.step("request", "request")
        stats.reached += 1
        stats.fuzzed += 1
        for reply in replies:
            stats.responses[str(status_code(reply) or "malformed")] += 1
        if not replies:
            stats.responses["none"] += 1
    return case, replies, probe


def _scenario_case(run: _Run, link: Link, prober: Prober, scenario: str, step: str,
                   make: sc.MakeStep, prefix: str) -> tuple[Case, ProbeResult]:
    """One case of a stateful scenario: play its flow, probe, note the findings."""
    settings = run.settings
    assert run.coverage is not None
    conversations = [link.exchange()]

    def reopen(closed: Conversation) -> Conversation:
        link.release(closed)
        conversations.append(link.exchange())
        return conversations[-1]

    run.count += 1
    try:
        case, events, drained = sc.play(conversations[0], scenario, step, make, settings.t1,
                                        settings.reply_wait, run.coverage, prefix,
                                        _endpoint(settings.target), run.count, run.pacer.wait,
                                        run.acks, settings.credentials, reopen)
    finally:
        link.release(conversations[-1])
    run.drained += drained
    run.labels[case.label] += 1
    run.recent.append(case)
    probe = prober.probe()
    run.probed(case, probe)
    for event in events:
        run.add(sc.finding(case, event))
    return case, probe


def run_send(settings: Settings, log: Log) -> Outcome:
    """Default mode: send generated and mutated requests to the target."""
    run = _Run(settings, log)
    target = _endpoint(settings.target)
    link = Link(settings.target, settings.probe_timeout)
    prober = _prober(settings, run, link.exchange, link.release)
    local = [link.exchange().local if link.udp is not None else b.Endpoint("TCP", "", 0)]
    try:
        first = prober.probe()
        if not first.alive:
            raise LinkError(f"{settings.target} does not answer OPTIONS{_never_ended(first)}: "
                            "nothing to fuzz")
        cases = request_cases(settings.seed, settings.malformed_ratio, settings.methods,
                              lambda: local[0], target, settings.labels)
        scenarios = settings.scenarios or ("request",)
        if scenarios != ("request",):
            run.coverage = sc.Coverage()
        steps = {s: sc.steps_of(s, settings.seed) for s in scenarios if s != "request"}
        at_step = step_cases(settings.seed, settings.malformed_ratio, settings.labels)
        token = sc.run_token(settings.seed)
        stopped = "cases" if settings.cases is not None else "duration"
        try:
            while run.more_cases():
                scenario = scenarios[run.count % len(scenarios)]
                if scenario == "request":
                    case, replies, probe = _request_case(run, link, prober, cases, local)
                else:
                    case, probe = _scenario_case(
                        run, link, prober, scenario, steps[scenario](),
                        lambda _name, tx, routes: at_step(tx, routes),
                        sc.case_prefix(token, run.count + 1))
                    replies = []
                if not probe.alive:
                    run.dead(case, replies, probe)
                    return run.outcome(False, "target-dead")
            if not run.time_left():
                stopped = "duration"
        except KeyboardInterrupt:
            stopped = "interrupted"
        return run.outcome(run.last_probe(prober.probe()).alive, stopped)
    finally:
        link.close()


def run_answer(settings: Settings, log: Log) -> Outcome:
    """``--answer`` mode: answer each request the target sends with a generated or mutated
    response (to fuzz the response parsing of a UAC or proxy); with ``--scenario answer``,
    answer its calls (:func:`run_answer_scenario`)."""
    if set(settings.scenarios) & set(ANSWER_SCENARIOS):
        return run_answer_scenario(settings, log)
    run = _Run(settings, log)
    inbox, prober, link = _answer_side(settings, run)
    try:
        _first_request(run, inbox, prober)
        answers = answer_cases(settings.seed, settings.malformed_ratio, inbox.local,
                               settings.labels)
        stopped = "cases" if settings.cases is not None else "duration"
        last: Case | None = None
        calls: dict[str, Case] = {}  # Call-ID -> the latest case that answered in that call

        def blame(message: bytes) -> Case | None:
            """The case a message from the target follows from: the latest answer in its call
            (an ACK copies the answer's headers), else the latest case."""
            return calls.get(call_id(message) or "", last)

        def endless_messages() -> None:
            for endless in inbox.take_endless():
                if last is None:
                    log(f"before the first case, a message never ended: {endless.detail}")
                else:
                    run.endless(last, endless)

        # Idle: no request to answer for --idle-timeout seconds, whatever else comes meanwhile.
        idle_at = time.monotonic() + settings.idle_timeout
        try:
            while run.more_cases():
                until = idle_at
                if settings.duration is not None:
                    until = min(until, run.started + settings.duration)
                item = inbox.receive(until) if time.monotonic() < until else None
                endless_messages()
                if item is None:
                    stopped = "duration" if not run.time_left() else "target-idle"
                    break
                data, reply = item
                cause = blame(data)
                if cause is not None:  # a malformed request is a finding too
                    run.assess(cause, [data])
                if data[:4].upper() == b"SIP/" or not looks_like_sip(data):
                    continue
                if data.split(b" ", 1)[0] == b"ACK":
                    continue
                case = run.next_case(answers(data), answered=data)
                last = case
                calls[call_id(data) or ""] = case
                run.pacer.wait()
                reply(case.data)
                time.sleep(settings.reply_wait)
                probe = _probe_answer(run, prober, inbox)
                run.probed(case, probe)
                endless_messages()
                idle_at = time.monotonic() + settings.idle_timeout
                for message in probe.others:
                    if message[:4].upper() == b"SIP/":
                        run.assess(blame(message) or case, [message])
                if not probe.alive:
                    run.dead(case, [], probe)
                    return run.outcome(False, "target-dead")
        except KeyboardInterrupt:
            stopped = "interrupted"
        return run.outcome(run.last_probe(_probe_answer(run, prober, inbox)).alive, stopped)
    finally:
        inbox.close()
        if link is not None:
            link.close()


def _first_request(run: _Run, inbox: Inbox, prober: Prober) -> None:
    """Wait for the target's first message, then probe it: a UAC over TCP must find us
    listening before it sends anything, so there is no probe before it."""
    settings = run.settings
    run.log(f"listening on {inbox.local.transport.lower()}:{inbox.local.host_ref}:"
            f"{inbox.local.port} for requests from {settings.target}")
    first = inbox.receive(time.monotonic() + settings.idle_timeout)
    if first is None:
        ended = inbox.take_endless()
        why = f" (a message never ended: {ended[0].detail})" if ended else ""
        raise LinkError(f"{settings.target} sent no request in {settings.idle_timeout:g} s"
                        f"{why}: nothing to answer")
    inbox.push_back(first)
    first_probe = _probe_answer(run, prober, inbox)
    if not first_probe.alive:
        raise LinkError(f"{settings.target} does not answer OPTIONS"
                        f"{_never_ended(first_probe)}: nothing to fuzz")


def run_answer_scenario(settings: Settings, log: Log) -> Outcome:
    """``--answer --scenario answer``: answer the calls the target places, one call per
    case, broken at one step (``_fuzz.answer``); probe after each call."""
    run = _Run(settings, log)
    run.coverage = sc.Coverage()
    inbox, prober, link = _answer_side(settings, run)
    try:
        _first_request(run, inbox, prober)
        at_step = step_cases(settings.seed, settings.malformed_ratio, settings.labels)
        respond = response_cases(settings.seed, settings.malformed_ratio, settings.labels)
        makers = ans.Makers(lambda _name, tx, routes: at_step(tx, routes),
                            lambda _name, plain: respond(plain))
        steps = sc.steps_of(ans.SCENARIO, settings.seed)
        token = sc.run_token(settings.seed)
        answered: dict[ans.Key, bytes] = {}
        stopped = "cases" if settings.cases is not None else "duration"
        try:
            while run.more_cases():
                until = time.monotonic() + settings.idle_timeout
                if settings.duration is not None:
                    until = min(until, run.started + settings.duration)
                played = _answer_case(run, inbox, prober, steps(), makers,
                                      sc.case_prefix(token, run.count + 1), answered, until)
                if played is None:
                    stopped = "duration" if not run.time_left() else "target-idle"
                    break
                case, probe = played
                if not probe.alive:
                    run.dead(case, [], probe)
                    return run.outcome(False, "target-dead")
        except KeyboardInterrupt:
            stopped = "interrupted"
        return run.outcome(run.last_probe(_probe_answer(run, prober, inbox)).alive, stopped)
    finally:
        inbox.close()
        if link is not None:
            link.close()


def _answer_case(run: _Run, inbox: Inbox, prober: Prober, step: str, makers: ans.Makers,
                 prefix: str, answered: dict[ans.Key, bytes],
                 until: float) -> tuple[Case, ProbeResult] | None:
    """One call of the ``answer`` scenario, then a probe; None when no call came."""
    settings = run.settings
    assert run.coverage is not None
    played = ans.play(inbox, step, makers, settings.t1, settings.reply_wait, run.coverage,
                      prefix, _endpoint(settings.target), run.count + 1, run.pacer.wait,
                      answered, until)
    ended = inbox.take_endless()
    if played is None:
        for endless in ended:
            run.log(f"a message never ended: {endless.detail}")
        return None
    case, events, drained = played
    run.count += 1
    run.drained += drained
    run.labels[case.label] += 1
    run.recent.append(case)
    for endless in ended:
        run.endless(case, endless)
    probe = _probe_answer(run, prober, inbox)
    run.probed(case, probe)
    for event in events:
        run.add(sc.finding(case, event))
    return case, probe


def _answer_side(settings: Settings, run: _Run) -> tuple[Inbox, Prober, Link | None]:
    """The listening inbox, and a prober: through the inbox's UDP socket (so the target
    answers where it sends its requests), or over fresh TCP connections."""
    loopback = "::1" if ":" in settings.target.host else "127.0.0.1"
    listen = settings.listen or Target(settings.target.transport, loopback, 0)
    inbox = Inbox(settings.target, listen, message_time=settings.idle_timeout)
    if inbox.udp is not None:
        udp = inbox.udp
        prober = _prober(settings, run, lambda: udp, lambda _c: None)
        return inbox, prober, None
    link = Link(settings.target, settings.probe_timeout)
    prober = _prober(settings, run, link.exchange, link.release)
    return inbox, prober, link


def _probe_answer(run: _Run, prober: Prober, inbox: Inbox) -> ProbeResult:
    """Probe; requests that arrive on the shared UDP socket meanwhile wait in the inbox."""
    probe = prober.probe()
    if inbox.udp is not None:
        for message in probe.others:
            if message[:4].upper() != b"SIP/" and not inbox.push_back((message, inbox.udp.send)):
                run.drained += 1
    return probe


def replay(settings: Settings, data: bytes, log: Log, answered: bytes | None = None) -> Outcome:
    """Send one saved case again (``--replay``), then probe: the reproducer of a finding.

    With ``--answer``, the case answers the next request the target sends; ``answered`` (the
    request the case first answered, saved next to the finding) lets :func:`rebase` aim it at
    the new request."""
    run = _Run(settings, log)
    if sc.is_sequence(data):
        saved = sc.decode(data)
        answering = saved.scenario in ANSWER_SCENARIOS
        if answering and not settings.answer:
            raise ValueError(f"a sequence of scenario {saved.scenario} (sipstatus answering "
                             "the target's call): replay it with --answer")
        if settings.answer and not answering:
            raise ValueError(f"a sequence of scenario {saved.scenario} (sipstatus placing the "
                             "call): replay it without --answer")
        if answering:
            return _replay_answer_sequence(run, saved, log)
        return _replay_sequence(run, saved, log)
    if settings.target.transport == "udp" and len(data) > MAX_DATAGRAM - 28:
        raise LinkError(f"{len(data)} bytes do not fit in one UDP datagram")
    mutation = Mutation(data, "replay", data)
    if settings.answer:
        return _replay_answer(run, settings, mutation, answered, log)
    link = Link(settings.target, settings.probe_timeout)
    prober = _prober(settings, run, link.exchange, link.release)
    try:
        conversation = link.exchange()
        if conversation.refused:
            raise LinkError(f"{settings.target} refused the connection")
        case = run.next_case(mutation)
        try:
            conversation.send(case.data)
            replies = run.replies(conversation, case)
        finally:
            link.release(conversation)
        probe = prober.probe()
        run.probed(case, probe)
        replies = _collect(run, case, replies, probe)
        for reply in replies:
            first = reply.split(b"\r\n", 1)[0].decode("utf-8", "backslashreplace")
            log(f"reply: {first}")
        run.assess(case, replies)
        if not probe.alive:
            run.dead(case, replies, probe)
        return run.outcome(probe.alive, "replayed")
    finally:
        link.close()


def rebase(response: bytes, old: bytes, new: bytes) -> bytes:
    """Aim a saved response at a new request: in the header section, the old request's
    top via-parm, From, To, Call-ID and CSeq values become the new request's (a stack only
    parses a response that matches one of its transactions). Everything a mutation put around
    them stays, byte for byte; the body is untouched."""
    before, after = Wire.split(old), Wire.split(new)
    head, sep, body = response.partition(b"\r\n\r\n")
    for name in ("via", "from", "to", "call-id", "cseq"):
        was, now = before.value(name), after.value(name)
        if name == "via" and was is not None and now is not None:
            was, now = was.split(b",", 1)[0].strip(), now.split(b",", 1)[0].strip()
        if was and now is not None:
            head = head.replace(was, now)
    return head + sep + body


def _replay_answer(run: _Run, settings: Settings, mutation: Mutation,
                   answered: bytes | None, log: Log) -> Outcome:
    inbox, prober, link = _answer_side(settings, run)
    method = Wire.split(answered).method if answered is not None else None
    try:
        deadline = time.monotonic() + (settings.duration or settings.idle_timeout)
        while True:
            item = inbox.receive(deadline) if time.monotonic() < deadline else None
            if item is None:
                raise LinkError(f"{settings.target} sent no request to answer")
            request = Wire.split(item[0])
            if request.method not in (None, "ACK") and method in (None, request.method):
                break
        data = mutation.data
        if answered is None:
            log("no saved request next to the file: sending it unchanged")
        else:
            data = rebase(data, answered, item[0])
        case = run.next_case(Mutation(data, "replay", mutation.data), answered=item[0])
        item[1](case.data)
        time.sleep(settings.reply_wait)
        probe = _probe_answer(run, prober, inbox)
        run.probed(case, probe)
        for endless in inbox.take_endless():
            run.endless(case, endless)
        if not probe.alive:
            run.dead(case, [], probe)
        return run.outcome(probe.alive, "replayed")
    finally:
        inbox.close()
        if link is not None:
            link.close()


def _replay_sequence(run: _Run, saved: sc.Saved, log: Log) -> Outcome:
    """Play a saved sequence again: the same scenario against the (fresh) target, the saved
    broken message re-aimed at the new dialog at the saved step; then probe."""
    settings = run.settings
    run.coverage = sc.Coverage()
    link = Link(settings.target, settings.probe_timeout)
    prober = _prober(settings, run, link.exchange, link.release)
    try:
        first = prober.probe()
        if not first.alive:
            raise LinkError(f"{settings.target} does not answer OPTIONS{_never_ended(first)}: "
                            "nothing to replay against")
        log(f"replaying {saved.scenario} broken at {saved.step} ({saved.label})")
        case, probe = _scenario_case(run, link, prober, saved.scenario, saved.step,
                                     sc.replayer(saved), sc.replay_prefix())
        _log_sequence(case, saved, log)
        if not probe.alive:
            run.dead(case, [], probe)
        return run.outcome(probe.alive, "replayed")
    finally:
        link.close()


def _log_sequence(case: Case, saved: sc.Saved, log: Log) -> None:
    for kind, step, message in case.sequence:
        if kind in ("sent", "broken", "received"):
            first_line = message.split(b"\r\n", 1)[0].decode("utf-8", "backslashreplace")
            log(f"{step:<16} {kind:<8} {first_line}")
    if case.label == "unreached":
        log(f"the flow did not reach {saved.step} this time")


def _replay_answer_sequence(run: _Run, saved: sc.Saved, log: Log) -> Outcome:
    """Play a saved ``answer`` sequence again: wait for the (fresh) target's call, answer
    it with the saved broken message re-aimed at the new call at the saved step; then
    probe."""
    settings = run.settings
    run.coverage = sc.Coverage()
    inbox, prober, link = _answer_side(settings, run)
    try:
        log(f"replaying {saved.scenario} broken at {saved.step} ({saved.label}): waiting for "
            f"a call on {inbox.local.transport.lower()}:{inbox.local.host_ref}:"
            f"{inbox.local.port}")
        until = time.monotonic() + (settings.duration or settings.idle_timeout)
        played = _answer_case(run, inbox, prober, saved.step,
                              ans.replaying(saved.broken, saved.original, saved.label),
                              sc.replay_prefix(), {}, until)
        if played is None:
            raise LinkError(f"{settings.target} placed no call to answer")
        case, probe = played
        _log_sequence(case, saved, log)
        if not probe.alive:
            run.dead(case, [], probe)
        return run.outcome(probe.alive, "replayed")
    finally:
        inbox.close()
        if link is not None:
            link.close()
