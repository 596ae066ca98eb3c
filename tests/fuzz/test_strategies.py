"""sipstatus.strategies: valid examples parse strictly, malformed ones mostly do not, every
mutation label is reachable, shrinking works, and hypothesis stays an optional dependency."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import sipstatus
from sipstatus import strategies as sips
from sipstatus._fuzz.cases import Drawer

FAST = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
FIND = settings(max_examples=3000, database=None, deadline=None,
                suppress_health_check=list(HealthCheck))


def _body(data: bytes) -> bytes:
    return data.split(b"\r\n\r\n", 1)[1]


@FAST
@given(sips.requests())
def test_requests_parse_strictly(data: bytes) -> None:
    message = sipstatus.parse(data, strict=True)
    assert isinstance(message, sipstatus.SipRequest)
    assert message.cseq is not None and message.cseq.method == message.method
    assert message.content_length == len(_body(data)) == len(message.body)
    for name in ("via", "from", "to", "call-id", "cseq", "max-forwards"):
        assert message.headers.get(name) is not None, name
    if message.method in ("INVITE", "SUBSCRIBE", "REFER"):
        assert message.headers.get("contact")


@FAST
@given(sips.responses())
def test_responses_parse_strictly(data: bytes) -> None:
    message = sipstatus.parse(data, strict=True)
    assert isinstance(message, sipstatus.SipResponse)
    assert 100 <= message.status_code <= 699
    assert message.content_length == len(_body(data))
    to = message.headers.get("to")
    assert to is not None
    if message.status_code != 100:  # RFC 3261 §8.2.6.2: every response but 100 tags To
        assert ";tag=" in to
    if 300 <= message.status_code < 400:
        assert message.headers.get("contact")


@FAST
@given(sips.responses(codes=[183, 401, 486], methods=["INVITE"]))
def test_responses_honour_codes_and_methods(data: bytes) -> None:
    message = sipstatus.parse(data, strict=True)
    assert isinstance(message, sipstatus.SipResponse)
    assert message.status_code in (183, 401, 486)
    assert message.cseq is not None and message.cseq.method == "INVITE"
    if message.status_code == 401:
        assert (message.headers.get("www-authenticate") or "").startswith("Digest ")
    if message.status_code == 183:
        assert message.content_type is None or message.content_type.mime in (
            "application/sdp", "multipart/mixed")


@FAST
@given(sips.requests(methods=["MESSAGE", "INFO"]))
def test_requests_honour_methods_and_carry_bodies(data: bytes) -> None:
    message = sipstatus.parse(data, strict=True)
    assert isinstance(message, sipstatus.SipRequest)
    assert message.method in ("MESSAGE", "INFO")
    assert message.body and message.content_type is not None


def _sample(strategy: st.SearchStrategy[bytes], count: int, seed: int = 7) -> list[bytes]:
    draw = Drawer(lambda data: data.draw(strategy), seed=seed)
    return [draw.draw() for _ in range(count)]


def test_responses_cover_every_class() -> None:
    found = set()
    for data in _sample(sips.responses(), 120):
        message = sipstatus.parse(data, strict=True)
        assert isinstance(message, sipstatus.SipResponse)
        found.add(message.status_code // 100)
    assert found == {1, 2, 3, 4, 5, 6}


def test_bodies_compact_forms_and_folding_appear() -> None:
    sample = _sample(sips.requests(), 250)
    sdp = [d for d in sample if re.search(rb"\r\nv=0\r\no=- \d+ \d+ IN IP[46] ", d)]
    compact = [d for d in sample if re.search(rb"\r\n[vftimlc] ?:", d)]
    folded = [d for d in sample if re.search(rb":\r\n[ \t]", d)]
    multipart = [d for d in sample if b"multipart/mixed;boundary=" in d]
    for kind in (sdp, compact, folded, multipart):
        assert kind, "never generated"
        assert all(sipstatus.parse(d, strict=True) for d in kind)


@FAST
@given(sips.status_lines())
def test_status_lines(line: bytes) -> None:
    match = re.fullmatch(rb"SIP/2\.0 ([1-6][0-9][0-9]) ([^\r\n]*)\r\n", line)
    assert match is not None
    headers = (b"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1"
               b"\r\nTo: <sip:b@example.com>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n"
               b"Content-Length: 0\r\n\r\n")
    message = sipstatus.parse(line + headers, strict=True)
    assert isinstance(message, sipstatus.SipResponse)
    assert message.status_code == int(match.group(1))
    assert message.reason == match.group(2).decode("utf-8")


@FAST
@given(sips.malformed())
def test_mutations_change_a_valid_message(case: sips.Mutation) -> None:
    assert case.label in sips.MUTATION_LABELS
    assert case.data != case.original
    assert sipstatus.parse(case.original, strict=True)
    assert len(case.data) <= 60_000


def test_most_mutations_are_rejected_by_the_strict_parser() -> None:
    draw = Drawer(lambda data: data.draw(sips.malformed()), seed=20)
    cases = [draw.draw() for _ in range(250)]
    rejected = 0
    for case in cases:
        try:
            sipstatus.parse(case.data, strict=True)
        except sipstatus.SipParseError:
            rejected += 1
    assert len({case.label for case in cases}) >= 30
    assert rejected / len(cases) > 0.6, f"only {rejected} of {len(cases)} rejected"


def test_at_least_twelve_labels_and_each_is_reachable() -> None:
    from hypothesis import find

    assert len(set(sips.MUTATION_LABELS)) == len(sips.MUTATION_LABELS) >= 12
    drawn = set()
    draw = Drawer(lambda data: data.draw(sips.malformed()), seed=1)
    for _ in range(600):
        drawn.add(draw.draw().label)
    for label in sorted(set(sips.MUTATION_LABELS) - drawn):

        def labelled(case: sips.Mutation, label: str = label) -> bool:
            return case.label == label

        assert find(sips.malformed(), labelled, settings=FIND)


BASE = (b"OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1"
        b"\r\nMax-Forwards: 70\r\nFrom: <sip:a@example.com>;tag=1\r\n"
        b"To: <sip:b@example.com>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0"
        b"\r\n\r\n")


@pytest.mark.filterwarnings("ignore:Generating overly large repr")  # find() of a 45 kB case
def test_shrinking_reaches_minimal_mutations() -> None:
    from hypothesis import find

    flood = find(sips.malformed(base=st.just(BASE)), lambda m: m.label == "via-flood",
                 settings=FIND)
    # The count shrank to the least the mutation draws, the flood went on top (False < True).
    assert flood.data.count(b"SIP/2.0/UDP") - BASE.count(b"SIP/2.0/UDP") == 1000
    cut = find(sips.malformed(base=st.just(BASE)), lambda m: m.label == "truncated",
               settings=FIND)
    assert cut.data == BASE[:1]  # the cut position shrank to its minimum


def test_base_strategy_is_used() -> None:
    from hypothesis import find

    case = find(sips.malformed(base=st.just(BASE)), lambda m: m.label == "nul-byte",
                settings=FIND)
    assert case.original == BASE
    assert case.data in (b"\x00" + BASE, b"\r\n\x00" + BASE)  # shrunk: one NUL, up front


@settings(max_examples=40, deadline=None)
@given(sips.malformed(base=st.just(BASE), labels=("nul-byte", "bare-lf", "via-flood")))
def test_labels_choose_the_mutations(case: sips.Mutation) -> None:
    assert case.label in ("nul-byte", "bare-lf", "via-flood") and case.original == BASE


@pytest.mark.parametrize(
    "make",
    [lambda: sips.responses(codes=[99]), lambda: sips.responses(codes=[]),
     lambda: sips.requests(methods=["IN VITE"]), lambda: sips.status_lines(codes=[700]),
     lambda: sips.malformed(labels=["nul-byte", "no-such-label"]),
     lambda: sips.malformed(labels=[])],
)
def test_invalid_arguments(make: object) -> None:
    with pytest.raises(InvalidArgument):
        make()  # type: ignore[operator]


def test_importing_sipstatus_and_its_cli_does_not_import_hypothesis() -> None:
    code = ("import sys, sipstatus, sipstatus._cli, sipstatus._cli.fuzz; "
            "sipstatus._cli.build_parser(); "
            "assert 'hypothesis' not in sys.modules, 'hypothesis imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_seeded_drawer_is_reproducible() -> None:
    def first(seed: int) -> list[bytes]:
        draw = Drawer(lambda data: data.draw(sips.malformed()).data, seed=seed)
        return [draw.draw() for _ in range(15)]

    assert first(5) == first(5)
    assert first(5) != first(6)


def test_without_hypothesis_the_errors_say_what_to_install() -> None:
    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "from sipstatus import _cli\n"
        "assert _cli.main(['fuzz', 'udp:127.0.0.1:9']) == 2\n"
        "try:\n"
        "    import sipstatus.strategies\n"
        "except ImportError as exc:\n"
        "    assert \"pip install 'sipstatus[hypothesis]'\" in str(exc), exc\n"
        "else:\n"
        "    raise AssertionError('sipstatus.strategies imported without hypothesis')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "needs hypothesis: pip install 'sipstatus[hypothesis]'" in done.stderr
