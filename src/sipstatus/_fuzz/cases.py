"""Reproducible fuzz cases: the strategies of ``sipstatus.strategies``, driven by a seed.

Each case is drawn by running a tiny hypothesis test once through its public
``fuzz_one_input`` entry point, fed with bytes from ``random.Random(seed)``. The same seed, the
same hypothesis version and the same local address give the same sequence of cases, and every
case is a normal hypothesis example (all the strategies' realism, none of the shrinking).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Generic, TypeVar

from hypothesis import HealthCheck, Verbosity, given, settings
from hypothesis import strategies as st

from sipstatus._fuzz import build as b
from sipstatus._fuzz import strategies as sips
from sipstatus._fuzz.build import Endpoint
from sipstatus._fuzz.model import VALID, Mutation

T = TypeVar("T")

_BUFFER = 8192
_ATTEMPTS = 100


class Drawer(Generic[T]):
    """Draws values with ``make(data)`` from a seeded stream of hypothesis inputs."""

    def __init__(self, make: Callable[[st.DataObject], T], seed: int) -> None:
        self.rng = random.Random(seed)
        self.box: list[T] = []

        @settings(database=None, verbosity=Verbosity.quiet,
                  suppress_health_check=list(HealthCheck))
        @given(st.data())
        def draw_one(data: st.DataObject) -> None:
            self.box.append(make(data))

        self.fuzz_one_input: Callable[[bytes], bytes | None] = (
            draw_one.hypothesis.fuzz_one_input  # type: ignore[attr-defined]
        )

    def draw(self) -> T:
        for _ in range(_ATTEMPTS):
            self.box.clear()
            self.fuzz_one_input(self.rng.randbytes(_BUFFER))
            if self.box:
                return self.box[-1]
        raise RuntimeError("the strategy rejected every input; this is a sipstatus bug")


def _malformed_share(data: st.DataObject, ratio: float) -> bool:
    return data.draw(st.integers(0, 999), label="malformed?") < round(ratio * 1000)


#: The mutation labels a run draws from (``--skip-label`` leaves some out); None: all.
Labels = tuple[str, ...] | None


def request_cases(
    seed: int,
    ratio: float,
    methods: tuple[str, ...] | None,
    local: Callable[[], Endpoint],
    remote: Endpoint,
    labels: Labels = None,
) -> Callable[[], Mutation]:
    """Requests to send: valid ones (label ``valid``) and mutated ones, ``ratio`` of them
    mutated. Vias name ``local()`` (with rport) so that replies come back; Request-URI and
    To name the target, so a proxy has no reason to forward anywhere else."""

    def make(data: st.DataObject) -> Mutation:
        valid = sips.request_bytes(sips.methods_strategy(methods), local(), remote)
        if _malformed_share(data, ratio):
            return data.draw(sips.malformed(valid, labels=labels))
        message = data.draw(valid)
        return Mutation(message, VALID, message)

    return Drawer(make, seed).draw


def answer_cases(seed: int, ratio: float, local: Endpoint,
                 labels: Labels = None) -> Callable[[bytes], Mutation]:
    """Responses to requests the target sent: valid (echoing its Via/From/To/Call-ID/CSeq) or
    mutated, ``ratio`` of them mutated."""
    request = [b""]

    def make(data: st.DataObject) -> Mutation:
        valid = sips.answers(request[0], local)
        if _malformed_share(data, ratio):
            return data.draw(sips.malformed(valid, labels=labels))
        message = data.draw(valid)
        return Mutation(message, VALID, message)

    drawer = Drawer(make, seed)

    def answer(to: bytes) -> Mutation:
        request[0] = to
        return drawer.draw()

    return answer


StepMaker = Callable[[b.Transaction, tuple[b.Header, ...]], Mutation]


def step_cases(seed: int, ratio: float, labels: Labels = None) -> StepMaker:
    """The message sent at a scenario's fuzzed step: the step's request (``tx``, with the
    dialog's Route fields ``routes``) with method-specific headers and body drawn as
    :func:`sipstatus.strategies.requests` draws them (but for those the step gives in
    ``routes``: its Authorization, RAck, Require), valid or, ``ratio`` of the time, broken by
    one of the labelled mutations. At a step that answers a request of the target (``tx`` a
    :class:`build.Answer`) it is a response to it, drawn as ``--answer`` draws them."""
    box: list[tuple[b.Transaction, tuple[b.Header, ...]]] = []

    def make(data: st.DataObject) -> Mutation:
        tx, routes = box[-1]
        if isinstance(tx, b.Answer):
            answer = sips.answers(tx.request, tx.local or Endpoint("UDP", "invalid", 0))
            if _malformed_share(data, ratio):
                return data.draw(sips.malformed(answer, labels=labels))
            message = data.draw(answer)
            return Mutation(message, VALID, message)
        extra, body = data.draw(sips.request_parts(tx))
        given = {header.name.lower() for header in routes}  # the step's own headers win
        extra = tuple(header for header in extra if header.name.lower() not in given)
        valid = bytes(b.request(tx, (*routes, *extra), body, b.Style()))
        if _malformed_share(data, ratio):
            return data.draw(sips.malformed(st.just(valid), labels=labels))
        return Mutation(valid, VALID, valid)

    drawer = Drawer(make, seed)

    def at_step(tx: b.Transaction, routes: tuple[b.Header, ...]) -> Mutation:
        box[:] = [(tx, routes)]
        return drawer.draw()

    return at_step


def response_cases(seed: int, ratio: float,
                   labels: Labels = None) -> Callable[[bytes], Mutation]:
    """The response sent at a step of the ``answer`` scenario: the step's well-formed
    response as it is or, ``ratio`` of the time, broken by one of the labelled mutations."""
    box: list[bytes] = []

    def make(data: st.DataObject) -> Mutation:
        valid = box[-1]
        if _malformed_share(data, ratio):
            return data.draw(sips.malformed(st.just(valid), labels=labels))
        return Mutation(valid, VALID, valid)

    drawer = Drawer(make, seed)

    def at_step(valid: bytes) -> Mutation:
        box[:] = [valid]
        return drawer.draw()

    return at_step
