"""Hypothesis strategies for SIP messages: well-formed ones, and ones broken on purpose.

Install with ``pip install 'sipstatus[hypothesis]'``; this module is the only part of sipstatus
that needs hypothesis (``import sipstatus`` never imports it).

* :func:`status_lines`, :func:`responses` and :func:`requests` generate wire ``bytes`` that are
  valid by construction and realistic: consistent Via/From/To/Call-ID/CSeq, a correct
  Content-Length, SDP offers and answers where RFC 3264 puts them, the other usual bodies
  (pidf+xml, sipfrag, dtmf-relay, text/plain, multipart/mixed), every response class 1xx-6xx,
  and now and then compact header names, folded header values and unusual colon spacing.
* :func:`malformed` generates :class:`Mutation` values: a well-formed message broken in one of
  the ways that have broken real SIP stacks (:data:`MUTATION_LABELS`, docs/fuzzing.md).

Every choice is drawn with hypothesis primitives, so failing examples shrink: towards fewer
headers, smaller numbers, earlier positions and the first (simplest) variant of each mutation.

Example, a property test of your own SIP parser::

    from hypothesis import given
    from sipstatus import strategies as sips

    @given(sips.responses(codes=[180, 486, 503], methods=["INVITE"]))
    def test_my_parser_reads_every_response(data: bytes) -> None:
        assert my_stack.parse(data).status in (180, 486, 503)

    @given(sips.malformed())
    def test_my_parser_rejects_cleanly(case: sips.Mutation) -> None:
        try:
            my_stack.parse(case.data)
        except my_stack.ParseError:
            pass  # anything else escaping (or a hang) is a bug; case.label says which class
"""

from __future__ import annotations

from sipstatus._fuzz.model import Mutation
from sipstatus._fuzz.strategies import (
    ALNUM,
    CODECS,
    DOMAINS,
    GRAMMAR_SLOTS,
    LABELS,
    MUTATION_LABELS,
    MUTATORS,
    OPTIONAL_HEADERS,
    USER_AGENTS,
    USERS,
    malformed,
    requests,
    responses,
    status_lines,
)

__all__ = [
    "MUTATION_LABELS",
    "Mutation",
    "malformed",
    "requests",
    "responses",
    "status_lines",
]
# Also reachable here, as before the strategies moved into sipstatus._fuzz (not in __all__):
# the vocabularies the strategies draw from and the mutation table.
_VOCABULARY = (ALNUM, CODECS, DOMAINS, GRAMMAR_SLOTS, LABELS, MUTATORS, OPTIONAL_HEADERS,
               USER_AGENTS, USERS)
