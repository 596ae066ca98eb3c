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

Walking the rule trees needs the grammar loaded (about a second), so the regex sources of
the value rules, the start lines and every terminal are prebuilt: shipped in the grammar
package (``compiled_regexes.json``) and kept in the per-user cache, under a key that adds
this module's source to the grammar's (``_grammar.grammar_key``); see ``_grammar`` for how
a stale or missing file is rebuilt. The regexes are compiled through
``_grammar.compiled_regex``, which caches their compiled code.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

from sipstatus._grammar import (
    START_RULES,
    cache_name,
    compiled_regex,
    digest,
    grammar_key,
    module_source,
    parser,
    read_cached,
    shipped,
    write_cached,
)

if TYPE_CHECKING:
    from lark import Lark

#: How deeply nested comments are unrolled into the regexes.
COMMENT_DEPTH = 4

#: The prebuilt regexes in the grammar package (see :func:`build_regexes`).
SHIPPED_REGEXES = "compiled_regexes.json"
#: The rules whose regex sources are prebuilt: the start lines and every value rule.
PREBUILT_RULES: tuple[str, ...] = tuple(rule for rule in START_RULES if rule != "sip_head")


@functools.cache
def _token_type() -> type:
    from lark import Token  # here, not at import: most programs never need the grammar

    return Token


@functools.cache
def regex_key() -> str | None:
    """The key of the prebuilt regexes: the grammar's key and this module's source."""
    base = grammar_key()
    source = module_source(__file__)
    if base is None or source is None:
        return None  # pragma: no cover - installed as a zip file
    return digest(b"regexes", base.encode(), source)


def build_regexes(lark: Lark) -> dict[str, dict[str, str]]:
    """The regex sources of :data:`PREBUILT_RULES` (``"rules"``) and of every terminal
    (``"terminals"``), compiled from the rule trees of ``lark``."""
    compiler = _Compiler(lark)
    return {
        "rules": {name: compiler.rule(name) for name in PREBUILT_RULES},
        "terminals": {name: compiler.terminals[name][0] for name in sorted(compiler.terminals)},
    }


def encode_regexes(table: dict[str, dict[str, str]]) -> bytes:
    """The file form of :func:`build_regexes`' table (JSON, one entry a line)."""
    import json  # here, not at import: programs that never validate need no JSON

    return json.dumps(table, indent=0, sort_keys=True, ensure_ascii=True).encode() + b"\n"


def decode_regexes(body: bytes | None) -> dict[str, dict[str, str]] | None:
    """The table in ``body`` (from :func:`encode_regexes`), or None if it is not one."""
    if body is None:
        return None
    import json  # here, not at import: programs that never validate need no JSON

    try:
        table = json.loads(body)
    except ValueError:
        return None
    if (isinstance(table, dict) and set(table) == {"rules", "terminals"}
            and all(isinstance(part, dict) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in part.items())
                for part in table.values())
            and set(PREBUILT_RULES) <= set(table["rules"])):
        return table
    return None


@functools.cache
def _prebuilt() -> dict[str, dict[str, str]]:
    """The prebuilt regex sources: shipped, cached, or built now (and cached)."""
    key = regex_key()
    if key is not None:
        for body in (shipped(SHIPPED_REGEXES, key),
                     read_cached(cache_name("regexes", key, "json"), key)):
            table = decode_regexes(body)
            if table is not None:
                return table
    table = build_regexes(parser())
    if key is not None:
        write_cached(cache_name("regexes", key, "json"), key, encode_regexes(table))
    return table


class _Compiler:
    def __init__(self, lark: Lark) -> None:
        self.depth: dict[str, int] = {}
        self.trees: dict[str, Any] = {
            name: tree for name, _params, tree, _options in lark.grammar.rule_defs}
        self.terminals: dict[str, tuple[str, int]] = {
            term.name: (term.pattern.to_regexp(), term.priority) for term in lark.terminals}

    def rule(self, name: str) -> str:
        seen = self.depth.get(name, 0)
        if seen >= COMMENT_DEPTH:
            return "(?!)"  # deeper nesting: leave it to the LALR parser
        self.depth[name] = seen + 1
        try:
            return self.node(self.trees[name])
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
                return f"(?>{self.terminals[symbol.name][0]})"
            return self.rule(symbol.name)
        raise ValueError(f"unexpected node {kind} in the grammar")  # pragma: no cover

    def alternatives(self, options: list[Any]) -> str:
        firsts = [self.first_terminals(option) for option in options]
        parts = []
        for index, option in enumerate(options):
            guard = ""
            mine = firsts[index]
            lowest = min((self.terminals[t][1] for t in mine), default=0)
            stronger = {
                t
                for other, theirs in enumerate(firsts)
                if other != index
                for t in theirs
                if t not in mine and self.terminals[t][1] > lowest
            }
            for name in sorted(stronger):
                guard += f"(?!{self.terminals[name][0]})"
            parts.append(guard + self.node(option))
        return "(?:" + "|".join(parts) + ")"

    def first_terminals(self, tree: Any, seen: frozenset[str] = frozenset()) -> frozenset[str]:
        """The terminals that can start ``tree`` (FIRST set, ignoring empty expansions)."""
        kind = tree.data
        if kind == "expansions":
            result: frozenset[str] = frozenset()
            for child in tree.children:
                result |= self.first_terminals(child, seen)
            return result
        if kind == "expansion":
            result = frozenset()
            for child in tree.children:
                result |= self.first_terminals(child, seen)
                if not self.can_be_empty(child):
                    break
            return result
        if kind in ("alias", "maybe", "expr"):
            return self.first_terminals(tree.children[0], seen)
        if kind == "value":
            symbol = tree.children[0]
            if symbol.is_term:
                return frozenset((symbol.name,))
            if symbol.name in seen:
                return frozenset()
            return self.first_terminals(self.trees[symbol.name], seen | {symbol.name})
        return frozenset()  # pragma: no cover

    def can_be_empty(self, tree: Any) -> bool:
        kind = tree.data
        if kind == "maybe":
            return True
        if kind == "expr":
            op = tree.children[1]
            if op in ("*", "?"):
                return True
            if op == "~":
                return int(tree.children[2]) == 0
            return self.can_be_empty(tree.children[0])
        if kind == "expansions":
            return any(self.can_be_empty(child) for child in tree.children)
        if kind == "expansion":
            return all(self.can_be_empty(child) for child in tree.children)
        if kind == "alias":
            return self.can_be_empty(tree.children[0])
        if kind == "value":
            symbol = tree.children[0]
            if isinstance(symbol, _token_type()) or symbol.is_term:
                return False
            return self.can_be_empty(self.trees[symbol.name])
        return False  # pragma: no cover


@functools.cache
def rule_regex_source(name: str) -> str:
    """The regular expression (source text) that rule ``name`` compiles to."""
    source = _prebuilt()["rules"].get(name)
    return source if source is not None else _Compiler(parser()).rule(name)


@functools.cache
def rule_regex(name: str) -> re.Pattern[str]:
    """Rule ``name`` of the grammar as a compiled regex; use ``.fullmatch``."""
    return compiled_regex(rule_regex_source(name))


@functools.cache
def terminal_regex(name: str) -> re.Pattern[str]:
    """Terminal ``name`` of the grammar as a compiled regex; use ``.fullmatch``."""
    source = _prebuilt()["terminals"].get(name)
    if source is None:
        source = parser().get_terminal(name).pattern.to_regexp()
    return compiled_regex(source)
