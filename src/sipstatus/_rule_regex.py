"""Regular expressions compiled from the grammar's own rules: the fast path of validation.

Lark's LALR parser costs about 20 µs a call plus a few µs a token, which is far too slow to
validate every header of every message (RFC 3261 traffic runs to thousands of messages a
second). But the SIP header grammar is regular apart from nested comments, so each value
rule can be turned into one regular expression, which Python's C regex engine matches in
about a microsecond.

The regexes are not written by hand: :func:`rule_regex` walks the rule trees that Lark
loaded from ``grammar/*.lark`` and pastes in the compiled terminals, so the grammar stays
the single source of syntax. Two things the LALR parser does that a regex does not are
emulated:

* **Lexer priority.** In a parser state where a keyword terminal (``branch``, ``q``, ``*``
  ...) and a general one (``token``) can both start, the contextual lexer always takes the
  higher-priority keyword. So an alternative that starts with the general terminal gets a
  negative look-ahead for the sibling's higher-priority first terminals.
* **Tokens.** The lexer matches each terminal once, longest first, and never gives
  characters back; each terminal's regex is wrapped in an atomic group to do the same
  (which also keeps nested quantifiers from backtracking exponentially).
* **Recursion.** ``comment`` nests; it is unrolled to :data:`COMMENT_DEPTH` levels, which
  makes the regex accept a subset of the grammar. Callers treat a regex miss as "ask Lark"
  (see ``_validate``), never as a rejection on its own.

``tests/parse/test_grammar_differential.py`` checks with hypothesis that each regex
accepts exactly what the Lark parser accepts, on values generated from the grammar and on
mutations of them.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from sipstatus._grammar import parser

#: How deeply nested comments are unrolled into the regexes.
COMMENT_DEPTH = 4


@functools.cache
def _token_type() -> type:
    from lark import Token

    return Token


@functools.cache
def _rule_trees() -> dict[str, Any]:
    return {name: tree for name, _params, tree, _options in parser().grammar.rule_defs}


@functools.cache
def _terminal(name: str) -> tuple[str, int]:
    term = parser().get_terminal(name)
    return term.pattern.to_regexp(), term.priority


class _Compiler:
    def __init__(self) -> None:
        self.depth: dict[str, int] = {}

    def rule(self, name: str) -> str:
        seen = self.depth.get(name, 0)
        if seen >= COMMENT_DEPTH:
            return "(?!)"  # deeper nesting: leave it to the LALR parser
        self.depth[name] = seen + 1
        try:
            return self.node(_rule_trees()[name])
        finally:
            self.depth[name] = seen

    def node(self, tree: Any) -> str:
        kind = tree.data
        if kind == "expansions":
            return self.alternatives(tree.children)
        if kind == "expansion":
            return "".join(self.node(child) for child in tree.children)
        if kind == "alias":
            return self.node(tree.children[0])
        if kind == "maybe":
            return f"(?:{self.node(tree.children[0])})?"
        if kind == "expr":
            inner, op = tree.children[0], tree.children[1]
            body = self.node(inner)
            if op == "~":
                low = int(tree.children[2])
                high = int(tree.children[3]) if len(tree.children) > 3 else low
                return f"(?:{body}){{{low},{high}}}"
            return f"(?:{body}){op}"
        if kind == "value":
            symbol = tree.children[0]
            if symbol.is_term:
                # Atomic: the lexer matches a terminal once and never gives characters
                # back, and neither may the regex (nested quantifiers such as
                # (ctext+)* would otherwise backtrack exponentially on a bad value).
                return f"(?>{_terminal(symbol.name)[0]})"
            return self.rule(symbol.name)
        raise ValueError(f"unexpected node {kind} in the grammar")  # pragma: no cover

    def alternatives(self, options: list[Any]) -> str:
        firsts = [_first_terminals(option) for option in options]
        parts = []
        for index, option in enumerate(options):
            guard = ""
            mine = firsts[index]
            lowest = min((_terminal(t)[1] for t in mine), default=0)
            stronger = {
                t
                for other, theirs in enumerate(firsts)
                if other != index
                for t in theirs
                if t not in mine and _terminal(t)[1] > lowest
            }
            for name in sorted(stronger):
                guard += f"(?!{_terminal(name)[0]})"
            parts.append(guard + self.node(option))
        return "(?:" + "|".join(parts) + ")"


def _first_terminals(tree: Any, seen: frozenset[str] = frozenset()) -> frozenset[str]:
    """The terminals that can start ``tree`` (FIRST set, ignoring empty expansions)."""
    kind = tree.data
    if kind == "expansions":
        result: frozenset[str] = frozenset()
        for child in tree.children:
            result |= _first_terminals(child, seen)
        return result
    if kind == "expansion":
        result = frozenset()
        for child in tree.children:
            result |= _first_terminals(child, seen)
            if not _can_be_empty(child):
                break
        return result
    if kind in ("alias", "maybe", "expr"):
        return _first_terminals(tree.children[0], seen)
    if kind == "value":
        symbol = tree.children[0]
        if symbol.is_term:
            return frozenset((symbol.name,))
        if symbol.name in seen:
            return frozenset()
        return _first_terminals(_rule_trees()[symbol.name], seen | {symbol.name})
    return frozenset()  # pragma: no cover


def _can_be_empty(tree: Any) -> bool:
    kind = tree.data
    if kind == "maybe":
        return True
    if kind == "expr":
        op = tree.children[1]
        if op in ("*", "?"):
            return True
        if op == "~":
            return int(tree.children[2]) == 0
        return _can_be_empty(tree.children[0])
    if kind == "expansions":
        return any(_can_be_empty(child) for child in tree.children)
    if kind == "expansion":
        return all(_can_be_empty(child) for child in tree.children)
    if kind == "alias":
        return _can_be_empty(tree.children[0])
    if kind == "value":
        symbol = tree.children[0]
        if isinstance(symbol, _token_type()) or symbol.is_term:
            return False
        return _can_be_empty(_rule_trees()[symbol.name])
    return False  # pragma: no cover


@functools.cache
def rule_regex_source(name: str) -> str:
    """The regular expression (source text) that rule ``name`` compiles to."""
    return _Compiler().rule(name)


@functools.cache
def rule_regex(name: str) -> re.Pattern[str]:
    """Rule ``name`` of the grammar as a compiled regex; use ``.fullmatch``."""
    return re.compile(rule_regex_source(name))


@functools.cache
def terminal_regex(name: str) -> re.Pattern[str]:
    """Terminal ``name`` of the grammar as a compiled regex; use ``.fullmatch``."""
    return re.compile(_terminal(name)[0])
