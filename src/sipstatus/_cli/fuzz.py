"""``sipstatus fuzz``: fuzz a running SIP stack over the network (docs/fuzzing.md).

Exit status: 0 no finding, 1 findings, 2 usage or network error. Needs hypothesis
(``pip install 'sipstatus[hypothesis]'``), imported only when the command runs.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path
from typing import Any

_TOKEN = re.compile(r"[A-Za-z0-9.!%*_+`'~-]+")  # RFC 3261 §25.1 token
_USER = re.compile(r"[A-Za-z0-9.!~*'()&=+$,;?/_-]+")  # RFC 3261 §25.1 user (unescaped)
#: The scenarios of --scenario (sipstatus._fuzz.scenario.SCENARIOS, spelled out here so that
#: building the parser imports nothing of the fuzz engine; a test keeps them equal).
SCENARIOS = ("request", "invite", "register", "prack", "subscribe")
#: The scenarios of --answer --scenario (sipstatus as the UAS; never part of "all").
ANSWER_SCENARIOS = ("answer",)

HELP = "fuzz a SIP stack over UDP or TCP and report crashes, hangs and bad replies"

EPILOG = """\
targets: udp:HOST:PORT or tcp:HOST:PORT, IPv6 in brackets (udp:[::1]:5060).
Only point it at a stack you own, on loopback or a lab network: it sends only to TARGET and
refuses every address that is not unicast (broadcast, multicast, unspecified, also in IPv6
forms and behind host names).

examples:
  sipstatus fuzz udp:127.0.0.1:5060 --cases 500 --seed 7 --out findings/
  sipstatus fuzz udp:127.0.0.1:5060 --scenario invite --cases 200 --t1 0.05 --out calls/
  sipstatus fuzz udp:127.0.0.1:5060 --scenario register --user alice --password secret
  sipstatus fuzz --answer --listen 127.0.0.1:5070 udp:127.0.0.1:5080 --duration 60
  sipstatus fuzz --answer --scenario answer --listen 127.0.0.1:5070 udp:127.0.0.1:5080
  sipstatus fuzz --replay findings/finding-0001-target-dead-nul-byte.sip udp:127.0.0.1:5060

exit status: 0 no finding, 1 findings, 2 usage or network error
"""


def _positive(kind: type[int] | type[float]) -> Any:
    def check(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
        if not value > 0 or (isinstance(value, float) and not math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
        return value

    return check


def _ratio(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1: {text!r}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from exc
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "fuzz", help=HELP, description=HELP + ".", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("target", metavar="TARGET", help="udp:HOST:PORT or tcp:HOST:PORT")
    mode = parser.add_argument_group("mode")
    mode.add_argument("--answer", action="store_true",
                      help="listen, and answer the requests TARGET sends with generated and "
                           "mutated responses (fuzzes a UAC's or proxy's response parsing)")
    mode.add_argument("--listen", metavar="HOST:PORT",
                      help="--answer: where to listen (default: loopback, any free port)")
    mode.add_argument("--replay", metavar="FILE", type=Path,
                      help="send FILE (a finding's raw file) once, then probe; a scenario's "
                           "sequence file plays its flow again, the broken message re-aimed "
                           "at the new dialog; with --answer, answer the next request of the "
                           "same method with it, re-aimed at that request")
    mode.add_argument("--scenario", action="append", metavar="NAME",
                      choices=(*SCENARIOS, *ANSWER_SCENARIOS, "all"),
                      help="play this flow and break one step of it (repeatable: cases take "
                           "turns): request (default: one request outside any dialog), "
                           "invite (INVITE, ACK, a request in the dialog, BYE), register "
                           "(REGISTER, its Digest challenge answered, a refresh, the "
                           "removal), prack (INVITE requiring 100rel, PRACK, ACK, BYE), "
                           "subscribe (SUBSCRIBE, the NOTIFYs answered, a refresh, the "
                           "un-SUBSCRIBE), all "
                           "(every one of them in turn); with --answer only answer (answer "
                           "TARGET's call 180/200, send INFO and OPTIONS in it, answer its "
                           "re-INVITE and BYE)")
    mode.add_argument("--user", metavar="NAME",
                      help="--scenario register (and --replay of its sequences): the user "
                           "name to register and authenticate as (default: sipstatus-fuzz)")
    mode.add_argument("--password", metavar="SECRET",
                      help="--scenario register: the password of --user for Digest "
                           "challenges (default: empty; visible to other local users in the "
                           "process list: use a test account)")
    bounds = parser.add_argument_group("bounds")
    bounds.add_argument("--cases", type=_positive(int), default=None,
                        help="test cases to send, probes not counted (default: 100, or no "
                             "limit when --duration is given)")
    bounds.add_argument("--duration", type=_positive(float), metavar="SECONDS",
                        help="stop starting cases after this many seconds")
    bounds.add_argument("--rate", type=_positive(float), default=10.0,
                        help="messages per second, probes included (default: 10)")
    bounds.add_argument("--seed", type=int, default=0,
                        help="seed of the case sequence (default: 0)")
    cases = parser.add_argument_group("cases")
    cases.add_argument("--malformed-ratio", type=_ratio, default=0.5, metavar="R",
                       help="share of cases that are mutated rather than valid (default: 0.5)")
    cases.add_argument("--methods", metavar="M,M",
                       help="request methods to generate (default: all 14)")
    cases.add_argument("--skip-label", action="append", metavar="LABEL",
                       help="never break a message this way (repeatable; e.g. a crash "
                            "already found, to go on fuzzing past it)")
    cases.add_argument("--t1", type=_positive(float), default=0.5, metavar="SECONDS",
                       help="--scenario: RFC 3261 timer T1 of the transactions: UDP "
                            "retransmits after T1, 2*T1, ...; gives up after 64*T1 "
                            "(default: 0.5)")
    probe = parser.add_argument_group("liveness")
    probe.add_argument("--probe-timeout", type=_positive(float), default=1.0, metavar="SECONDS",
                       help="wait this long for the answer to an OPTIONS probe (default: 1)")
    probe.add_argument("--probe-retries", type=_count, default=1, metavar="N",
                       help="probe again N times before calling the target dead (default: 1)")
    probe.add_argument("--probe-user", metavar="USER",
                       help="address the probe to sip:USER@TARGET, so that a proxy at TARGET "
                            "relays it to the element behind it; a 408, 480, 500, 502, 503 "
                            "or 504 (the proxy's word that its next hop is gone) counts as "
                            "no answer")
    probe.add_argument("--reply-wait", type=_positive(float), default=0.1, metavar="SECONDS",
                       help="collect replies to a case this long before probing (default: 0.1)")
    probe.add_argument("--idle-timeout", type=_positive(float), default=10.0, metavar="SECONDS",
                       help="--answer: stop when TARGET sends no request for this long "
                            "(default: 10)")
    parser.add_argument("--out", metavar="DIR", type=Path,
                        help="write report.json and one raw file per finding here (a new or "
                             "empty directory; checked before the run)")
    parser.add_argument("--overwrite", action="store_true",
                        help="--out may hold an earlier run: its report.json and finding files "
                             "are replaced, other files left alone")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    parser.set_defaults(func=run)


def _fail(message: str) -> int:
    print(f"sipstatus fuzz: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    try:
        import hypothesis  # noqa: F401
    except ImportError:
        return _fail("needs hypothesis: pip install 'sipstatus[hypothesis]'")
    # Here, not at the top: the fuzz engine needs hypothesis (optional), and even its
    # hypothesis-free part (target, transport) would add 20-30 ms to every other command.
    from sipstatus._fuzz import report
    from sipstatus._fuzz.digest import Credentials
    from sipstatus._fuzz.run import Settings, replay, run_answer, run_send
    from sipstatus._fuzz.target import TargetError, parse_listen, parse_target
    from sipstatus._fuzz.transport import LinkError

    try:
        target = parse_target(args.target)
        listen = parse_listen(args.listen, target.transport) if args.listen else None
    except TargetError as exc:
        return _fail(str(exc))
    if listen is not None and not args.answer:
        return _fail("--listen goes with --answer")
    if args.overwrite and args.out is None:
        return _fail("--overwrite goes with --out")
    picked = set(args.scenario or ())
    if args.answer and picked - {"request", *ANSWER_SCENARIOS}:
        return _fail("--scenario goes without --answer (the scenarios play the UAC; with "
                     "--answer: --scenario answer)")
    if args.answer and len(picked) > 1:
        return _fail("--answer takes --scenario request or --scenario answer, not both")
    if picked & set(ANSWER_SCENARIOS) and not args.answer:
        return _fail("--scenario answer goes with --answer (sipstatus answers the calls "
                     "TARGET places)")
    if (args.user is not None or args.password is not None) and args.replay is None and not (
            {"register", "all"} & set(args.scenario or ())):
        return _fail("--user and --password go with --scenario register (or all, or "
                     "--replay of a register sequence)")
    if args.user is not None and not _USER.fullmatch(args.user):
        return _fail(f"--user: not a SIP user name: {args.user!r}")
    if args.probe_user is not None and not _USER.fullmatch(args.probe_user):
        return _fail(f"--probe-user: not a SIP user name: {args.probe_user!r}")
    if args.password is not None and any(ord(c) < 0x20 or ord(c) == 0x7F
                                         for c in args.password):
        return _fail("--password: holds a control character")
    methods = None
    if args.methods:
        methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
        bad = [m for m in methods if not _TOKEN.fullmatch(m)]
        if bad or not methods:
            return _fail(f"--methods: not a method token: {', '.join(bad) or args.methods!r}")
    labels = None
    if args.skip_label:
        from sipstatus._fuzz.mutations import LABELS

        unknown = sorted(set(args.skip_label) - set(LABELS))
        if unknown:
            return _fail(f"--skip-label: not a mutation label: {', '.join(unknown)} "
                         "(the labels are listed in docs/fuzzing.md)")
        labels = tuple(label for label in LABELS if label not in args.skip_label)
        if not labels:
            return _fail("--skip-label: every mutation label is skipped "
                         "(--malformed-ratio 0 sends valid messages only)")
    settings = Settings(
        target=target,
        answer=args.answer,
        listen=listen,
        cases=args.cases if args.cases is not None or args.duration else 100,
        duration=args.duration,
        rate=args.rate,
        seed=args.seed,
        probe_timeout=args.probe_timeout,
        probe_retries=args.probe_retries,
        reply_wait=args.reply_wait,
        malformed_ratio=args.malformed_ratio,
        methods=methods,
        idle_timeout=args.idle_timeout,
        scenarios=tuple(dict.fromkeys(
            name for chosen in args.scenario or ("request",)
            for name in (SCENARIOS if chosen == "all" else (chosen,)))),
        t1=args.t1,
        probe_user=args.probe_user,
        labels=labels,
        credentials=(Credentials(args.user or "sipstatus-fuzz", args.password or "")
                     if args.user is not None or args.password is not None else None),
    )

    def log(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    out = None
    if args.out is not None:
        try:
            out = report.prepare(args.out, args.overwrite)
        except report.OutputError as exc:
            return _fail(str(exc))
        if out.kept:
            log(f"{args.out}: leaving {len(out.kept)} file(s) the fuzzer did not write alone")

    try:
        if args.replay is not None:
            try:
                data = args.replay.read_bytes()
            except OSError as exc:
                return _fail(f"cannot read {args.replay}: {exc.strerror}")
            saved = args.replay.with_name(args.replay.name + report.REQUEST_SUFFIX)
            answered = saved.read_bytes() if args.answer and saved.is_file() else None
            try:
                outcome = replay(settings, data, log, answered)
            except ValueError as exc:
                return _fail(f"{args.replay}: {exc}")
        else:
            outcome = (run_answer if args.answer else run_send)(settings, log)
    except LinkError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"network error: {exc}")

    alive = "alive" if outcome.target_alive else "NOT answering"
    drained = f"; {outcome.drained} message(s) drained unjudged" if outcome.drained else ""
    print(f"{outcome.cases} case(s) to {target} in {outcome.elapsed:.1f} s "
          f"(stopped: {outcome.stopped}); {len(outcome.findings)} finding(s){drained}; "
          f"target {alive}")
    for number, finding in enumerate(outcome.findings, 1):
        name = report.finding_file(number, finding)
        where = "" if finding.case.scenario == "request" else f" {finding.case.step}"
        print(f"  {finding.kind:<16} {finding.case.label:<28} case {finding.case.index:<6} "
              f"{name}{where}")
    if out is not None:
        try:
            path = out.write(settings, outcome)
        except report.OutputError as exc:
            return _fail(f"{exc} (the results are above)")
        log(f"report: {path}")
    return 1 if outcome.findings else 0
