"""Text generated from the grammar with ``hypothesis.extra.lark.from_lark``, with the fixes
that this grammar needs (hypothesis is imported here, so only strategies and tests import
this module).

``from_lark`` turns each terminal into ``st.from_regex(pattern, fullmatch=True)``. Three
things about ``grammar/*.lark`` defeat that, and are fixed with ``explicit=`` strategies:

* **Look-arounds.** Header-name terminals end in ``(?=[ \\t]*:)``, keyword parameters and
  URIs in a negative look-ahead. A full match of the terminal alone can never satisfy a
  look-ahead that needs the next character, so such terminals would be dropped. Here they
  are generated without their look-arounds and kept when the full pattern matches them
  followed by a character that can come next.
* **Values the ABNF leaves open.** ``SIP-Version`` is any ``1*DIGIT "." 1*DIGIT`` and numbers
  are unbounded; RFC 3261 fixes the version (SIP/2.0) and the ranges in prose. Generated
  versions are SIP/2.0 in any case, numbers stay small, status codes run 100-699.
* **The contextual lexer.** A string built token by token may lex differently from how it
  was built (two adjacent terminals can merge). Callers filter with the parser itself.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Collection

from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark
from lark.exceptions import LarkError
from lark.grammar import Rule, Symbol
from lark.lexer import TerminalDef

from sipstatus._grammar import parser

#: Octets as latin-1 characters: what may appear on the wire outside a quoted-pair.
WIRE_ALPHABET = st.sampled_from(
    "\t\r\n" + "".join(map(chr, range(0x20, 0x7F))) + "".join(map(chr, range(0x80, 0x100)))
)

_LOOKAROUND = re.compile(r"\(\?<?[=!](?:[^()\\]|\\.|\((?:[^()\\]|\\.)*\))*\)")
_FOLLOWERS = (":", "=", ">", " ", ";", ",", "\r", "")


def _without_lookarounds(pattern: str) -> str:
    previous = None
    while previous != pattern:
        previous, pattern = pattern, _LOOKAROUND.sub("", pattern)
    return pattern


def _small_number(low: int, high: int, digits: int | None = None) -> st.SearchStrategy[str]:
    numbers = st.integers(low, high).map(str)
    if digits is not None:
        numbers = st.integers(low, high).map(lambda n: f"{n:0{digits}d}")
    return numbers


@functools.cache
def explicit_terminals(ascii_only: bool = False) -> dict[str, st.SearchStrategy[str]]:
    """The ``explicit=`` strategies that make ``from_lark`` work on this grammar."""
    explicit: dict[str, st.SearchStrategy[str]] = {
        "SIP_VERSION": st.sampled_from(("SIP/2.0", "sip/2.0", "Sip/2.0")),
        "STATUS_CODE": _small_number(100, 699),
        "DIGITS": _small_number(0, 255),
        "TTL": _small_number(0, 255),
        "WARN_CODE": _small_number(100, 999),
    }
    for terminal in parser().terminals:
        name = terminal.name
        if name in explicit:
            continue
        full = terminal.pattern.to_regexp()
        if "(?=" not in full and "(?!" not in full and "(?<" not in full:
            continue
        compiled = re.compile(full)
        bare = _without_lookarounds(full)

        def lexes_alone(text: str, compiled: re.Pattern[str] = compiled) -> bool:
            for follower in _FOLLOWERS:
                match = compiled.match(text + follower)
                if match is not None and match.end() == len(text):
                    return True
            return False

        alphabet = ASCII_ALPHABET if ascii_only else WIRE_ALPHABET
        explicit[name] = st.from_regex(bare, fullmatch=True, alphabet=alphabet).filter(
            lexes_alone)
    return explicit


#: Printable ASCII and HTAB: for text that callers splice into messages as UTF-8.
ASCII_ALPHABET = st.sampled_from("\t\r\n" + "".join(map(chr, range(0x20, 0x7F))))


@functools.cache
def _reachable(start: str) -> frozenset[str]:
    """The names of the rules and terminals that rule ``start`` reaches, in the rules the
    parser compiled for all its start rules."""
    expansions: dict[str, list[tuple[Symbol, ...]]] = {}
    for rule in parser().rules:
        expansions.setdefault(rule.origin.name, []).append(tuple(rule.expansion))
    reached: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            for expansion in expansions.get(name, ()):
                todo.extend(symbol.name for symbol in expansion)
    return frozenset(reached)


class _CompiledGrammar:
    """``parser().grammar`` as ``from_lark`` uses it: ``compile(start, ())`` gives the
    terminals and rules the parser was compiled to, those that ``start`` reaches, instead of
    compiling the grammar again (a second or so for each start rule). Lark's own compile
    would also keep rules that ``start`` does not reach, which no draw from ``start`` uses."""

    def compile(self, start: list[str], terminals_to_keep: Collection[str]
                ) -> tuple[list[TerminalDef], list[Rule], list[str]]:
        reached = frozenset().union(*map(_reachable, start))
        ignore = list(parser().grammar.ignore)
        return ([t for t in parser().terminals if t.name in reached or t.name in ignore],
                [rule for rule in parser().rules if rule.origin.name in reached], ignore)


@functools.cache
def generating_parser() -> Lark:
    """The strict parser, with the rules it was compiled to as its grammar: what to give
    ``hypothesis.extra.lark.from_lark`` so that it does not compile the grammar again."""
    lark = copy.copy(parser())
    lark.grammar = _CompiledGrammar()  # type: ignore[assignment]
    return lark


@functools.cache
def grammar_text(start: str, *, ascii_only: bool = False) -> st.SearchStrategy[str]:
    """Strings that grammar rule ``start`` generates: latin-1 text, one char per octet
    (``ascii_only``: printable ASCII, HTAB and the CRLFs the rule itself writes)."""
    used = _reachable(start)
    alphabet = ASCII_ALPHABET if ascii_only else WIRE_ALPHABET
    explicit = {k: v for k, v in explicit_terminals(ascii_only).items() if k in used}
    return from_lark(generating_parser(), start=start, explicit=explicit, alphabet=alphabet)


def accepted_by(start: str, text: str) -> bool:
    """Whether the LALR parser accepts ``text`` as rule ``start``."""
    try:
        parser().parse(text, start=start)
    except LarkError:
        return False
    return True
