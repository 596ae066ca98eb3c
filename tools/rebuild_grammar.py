"""Rebuild the grammar artefacts shipped in the grammar package from ``grammar/*.lark``.

    python tools/rebuild_grammar.py           # rewrite them (after editing the grammar,
                                              # _grammar.py or _rule_regex.py, or moving Lark)
    python tools/rebuild_grammar.py --check   # exit 1 and say why if they are stale

The artefacts are ``grammar/compiled_parser.pickle`` (the LALR parser, ``Lark.save``) and
``grammar/compiled_regexes.json`` (the regex sources of ``_rule_regex``). Each records the
key it was built for (``_grammar.grammar_key``, ``_rule_regex.regex_key``), and sipstatus
never uses one whose key is not the current one, so a stale file only costs start-up time;
``tests/parse/test_grammar_cache.py`` runs :func:`stale` and fails while one is stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sipstatus import _grammar, _rule_regex


def canonical_parser(lark: Any) -> Any:
    """What the parser is, independent of how its build happened to number the LALR states
    (the numbering follows set iteration order, so it varies with PYTHONHASHSEED)."""
    from lark.grammar import Rule
    from lark.lexer import TerminalDef

    data, memo = lark.memo_serialize([TerminalDef, Rule])
    data["options"] = {name: value for name, value in data["options"].items()
                       if name not in ("import_paths", "source_path")}
    frontend = dict(data.pop("parser"))
    table = frontend.pop("parser")
    tokens, states = table["tokens"], table["states"]
    order: dict[int, int] = {}
    queue = [table["start_states"][start] for start in sorted(table["start_states"])]
    while queue:
        state = queue.pop(0)
        if state in order:
            continue
        order[state] = len(order)
        queue += [arg for _token, (action, arg) in sorted(
            ((tokens[token], entry) for token, entry in states[state].items()),
            key=lambda item: item[0]) if action == 0]
    unreached = sorted(set(states) - set(order))
    order.update({state: len(order) + index for index, state in enumerate(unreached)})

    def action(entry: tuple[int, Any]) -> Any:
        kind, arg = entry
        return (kind, order[arg]) if kind == 0 else (kind, memo[arg["@"]])

    canonical_states = sorted(
        (order[state], sorted((tokens[token], action(entry)) for token, entry in row.items()))
        for state, row in states.items())
    return {
        "data": data, "memo": memo, "frontend": frontend, "states": canonical_states,
        "start": {name: order[state] for name, state in table["start_states"].items()},
        "end": {name: order[state] for name, state in table["end_states"].items()},
    }


def _shipped_path(name: str) -> Path:
    directory = _grammar.grammar_dir()
    if directory is None:
        raise SystemExit("the grammar package is not a directory: cannot rebuild in place")
    return directory / name


def _problems(fresh: Any) -> dict[str, str | None]:
    """For each shipped artefact, why it is stale, or None if it is current."""
    grammar_key, regex_key = _grammar.grammar_key(), _rule_regex.regex_key()
    assert grammar_key is not None and regex_key is not None
    unusable = "missing, damaged or built for another key"
    problems: dict[str, str | None] = {}
    body = _grammar.shipped(_grammar.SHIPPED_PARSER, grammar_key)
    loaded = _grammar.load_parser(body)
    problems[_grammar.SHIPPED_PARSER] = (
        unusable if body is None
        else "differs from the parser the grammar builds"
        if loaded is None or canonical_parser(loaded) != canonical_parser(fresh) else None)
    table = _rule_regex.decode_regexes(_grammar.shipped(_rule_regex.SHIPPED_REGEXES, regex_key))
    problems[_rule_regex.SHIPPED_REGEXES] = (
        unusable if table is None
        else "differs from the regexes the grammar builds"
        if table != _rule_regex.build_regexes(fresh) else None)
    return problems


def stale() -> list[str]:
    """Why the shipped artefacts are stale (nothing when they are current): each must carry
    the current key and equal what the grammar builds now."""
    problems = _problems(_grammar.build_parser())
    return [f"{name}: {problem}" for name, problem in problems.items() if problem]


def rebuild() -> None:
    """Rewrite the shipped artefacts that are stale (a current one is left alone: the
    parser's pickle differs from build to build in the order of its sets)."""
    grammar_key, regex_key = _grammar.grammar_key(), _rule_regex.regex_key()
    assert grammar_key is not None and regex_key is not None
    fresh = _grammar.build_parser()
    problems = _problems(fresh)
    files = {
        _grammar.SHIPPED_PARSER: lambda: _grammar.wrap(_grammar.save_parser(fresh), grammar_key),
        _rule_regex.SHIPPED_REGEXES: lambda: _grammar.wrap(
            _rule_regex.encode_regexes(_rule_regex.build_regexes(fresh)), regex_key),
    }
    for name, build in files.items():
        path = _shipped_path(name)
        if not problems[name]:
            print(f"{path}: current")
            continue
        data = build()
        if not _grammar.write_atomically(path, data):
            raise SystemExit(f"could not write {path}")
        print(f"wrote {path} ({len(data):,} bytes; it was {problems[name]})")


def main(argv: list[str] | None = None) -> int:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument("--check", action="store_true",
                           help="only say whether the shipped artefacts are stale")
    options = arguments.parse_args(argv)
    if options.check:
        problems = stale()
        for problem in problems:
            print(f"stale: {problem}", file=sys.stderr)
        if problems:
            print("rebuild them with: python tools/rebuild_grammar.py", file=sys.stderr)
        return 1 if problems else 0
    rebuild()
    return 0


if __name__ == "__main__":
    sys.exit(main())
