"""The grammar artefacts and the per-user cache (``_grammar``, ``_rule_regex``; issue 10).

* The shipped artefacts (``grammar/compiled_*``) are what the grammar builds now, and carry
  the current key (``tools/rebuild_grammar.py --check`` in a test).
* A warm start does no grammar work: Lark's grammar compiler is not called and no large
  regex is compiled (counted, never timed).
* An artefact for another key (another Lark, an edited grammar) is not used; damaged cache
  files are rebuilt; a cache that cannot be written is not written, silently.
* A parser loaded from an artefact says exactly what the one built from the grammar says.
"""

from __future__ import annotations

import functools
import importlib.util
import marshal
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import lark
import pytest
from lark import Lark
from lark.exceptions import UnexpectedInput
from lark.load_grammar import Grammar
from parse_corpus import CORPUS

import sipstatus
from sipstatus import _grammar, _rule_regex
from sipstatus._grammar import (
    GRAMMAR_PACKAGE,
    LARK_OPTIONS,
    START_RULES,
    VALUE_START_RULES,
    expected_text,
    lark_fault,
    parser,
)
from sipstatus._registry import VALUE_RULES, header_key
from sipstatus._rule_regex import rule_regex, terminal_regex

ROOT = Path(__file__).resolve().parents[2]

TYPICAL = (
    b"SIP/2.0 200 OK\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds"
    b";received=192.0.2.101;rport=5060\r\n"
    b"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
    b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:bob@192.0.2.4:5060;transport=udp>;expires=3600\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: 0\r\n\r\n"
)
BAD = TYPICAL.replace(b"CSeq: 314159 INVITE", b"CSeq: 314159 INVITE extra")
BAD_ERROR = "invalid CSeq header: expected end of line (CRLF) at line 6, column 20"


def _clear() -> None:
    """Forget everything the two modules worked out in this process."""
    for function in (_grammar.parser, _grammar.grammar_key, _grammar.lark_version,
                     _grammar.compiled_regex, _rule_regex.regex_key, _rule_regex.rule_regex,
                     _rule_regex.rule_regex_source, _rule_regex.terminal_regex,
                     _rule_regex._prebuilt):
        function.cache_clear()


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """An empty per-user cache directory, and nothing remembered in this process."""
    directory = tmp_path / "cache"
    monkeypatch.setenv(_grammar.CACHE_ENV, str(directory))
    _clear()
    yield directory
    _clear()


@pytest.fixture
def unshipped(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the package shipped no artefacts."""
    monkeypatch.setattr(_grammar, "SHIPPED_PARSER", "absent.pickle")
    monkeypatch.setattr(_rule_regex, "SHIPPED_REGEXES", "absent.json")


class Work:
    """Counts the expensive steps: Lark compiling the grammar, the regex compiler compiling
    a pattern (``_grammar`` compiles the large ones itself so as to cache their code)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.grammar_compiled = 0
        self.regexes_compiled = 0
        compile_grammar = Grammar.compile
        compile_code = _grammar._compile_code

        def counted_grammar(grammar: Grammar, *args: Any, **kwargs: Any) -> Any:
            self.grammar_compiled += 1
            return compile_grammar(grammar, *args, **kwargs)

        def counted_code(*args: Any) -> Any:
            self.regexes_compiled += 1
            return compile_code(*args)

        monkeypatch.setattr(Grammar, "compile", counted_grammar)
        monkeypatch.setattr(_grammar, "_compile_code", counted_code)

    @property
    def done(self) -> tuple[int, int]:
        return self.grammar_compiled, self.regexes_compiled


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> Work:
    return Work(monkeypatch)


def _use_the_grammar() -> None:
    """What a validating process does: a strict parse, a Lark-judged fault, defects."""
    assert sipstatus.parse(TYPICAL, strict=True).status_code == 200
    with pytest.raises(sipstatus.SipParseError) as caught:
        sipstatus.parse(BAD, strict=True)
    assert str(caught.value) == BAD_ERROR
    assert sipstatus.parse(BAD).defects


def _files(directory: Path) -> list[str]:
    return sorted(str(path.relative_to(directory)) for path in directory.rglob("*")
                  if path.is_file())


# -- the shipped artefacts --------------------------------------------------------------------


def test_the_shipped_artefacts_are_current() -> None:
    # The same check as `python tools/rebuild_grammar.py --check`: each shipped file carries
    # the current key and equals what the grammar builds now.
    spec = importlib.util.spec_from_file_location("rebuild_grammar",
                                                  ROOT / "tools" / "rebuild_grammar.py")
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.stale() == [], "run: python tools/rebuild_grammar.py"


def test_the_key_covers_the_grammar_files_lark_reads() -> None:
    loader = lark.load_grammar.FromPackageLoader(GRAMMAR_PACKAGE, ("",))
    path, text = loader(None, "sip.lark")
    _tree, used = lark.load_grammar.load_grammar(text, path, [loader], False)
    directory = _grammar.grammar_dir()
    assert directory is not None
    hashed = {path.name for path in directory.iterdir() if path.suffix == ".lark"}
    assert {Path(str(resource.path)).name for resource in used} <= hashed
    assert {"sip.lark", "core.lark", "uri.lark"} <= hashed


def test_the_lark_version_is_read_without_importing_lark(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "lark")
    _grammar.lark_version.cache_clear()
    try:
        assert _grammar.lark_version() == lark.__version__
        assert "lark" not in sys.modules
    finally:
        _grammar.lark_version.cache_clear()


def test_the_shipped_artefacts_spare_the_grammar_work(cache: Path, work: Work) -> None:
    _use_the_grammar()
    assert work.grammar_compiled == 0
    # Only compiled regex code is cached: the parser and the regex sources came shipped.
    assert {name.split("/")[0] for name in _files(cache)} == {"re"}
    _clear()
    before = work.regexes_compiled
    assert before > 0
    _use_the_grammar()
    assert work.done == (0, before)


def test_a_warm_cache_spares_the_grammar_work(cache: Path, work: Work,
                                              unshipped: None) -> None:
    _use_the_grammar()
    assert work.grammar_compiled >= 1 and work.regexes_compiled >= 1
    names = _files(cache)
    assert any(name.startswith("parser-") for name in names)
    assert any(name.startswith("regexes-") for name in names)
    _clear()
    done = work.done
    _use_the_grammar()
    assert work.done == done
    assert _files(cache) == names


def test_another_lark_version_is_not_served_the_shipped_artefacts(
        cache: Path, work: Work, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped_key = _grammar.grammar_key()
    _clear()
    monkeypatch.setattr(_grammar, "lark_version", functools.cache(lambda: "0.0.1-other"))
    assert _grammar.grammar_key() != shipped_key
    _use_the_grammar()
    assert work.grammar_compiled >= 1  # rebuilt from the grammar, then cached
    assert any(name.startswith("parser-") for name in _files(cache))
    _clear()
    done = work.done
    _use_the_grammar()
    assert work.done == done


# -- a cache that cannot be used --------------------------------------------------------------


@pytest.mark.parametrize("where", ["under a file", "read-only", "off"])
def test_an_unwritable_cache_is_not_written(
        where: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capfd: pytest.CaptureFixture[str], work: Work, unshipped: None) -> None:
    if where == "under a file":
        (tmp_path / "file").write_text("")
        directory = tmp_path / "file" / "cache"
    elif where == "read-only":
        directory = tmp_path / "cache"
        directory.mkdir()
        directory.chmod(0o500)
    else:
        directory = tmp_path / "unused"
    monkeypatch.setenv(_grammar.CACHE_ENV, "" if where == "off" else str(directory))
    _clear()
    try:
        _use_the_grammar()  # built in memory: no exception, no warning (they are errors here)
        assert work.grammar_compiled >= 1
        assert capfd.readouterr() == ("", "")
        if where != "read-only" or os.geteuid() != 0:  # root writes where it likes
            assert not directory.exists() or _files(directory) == []
    finally:
        if where == "read-only":
            directory.chmod(0o700)
        _clear()


def test_damaged_cache_files_are_rebuilt(cache: Path, work: Work, unshipped: None) -> None:
    _use_the_grammar()
    names = _files(cache)
    good = {name: (cache / name).read_bytes() for name in names}
    key = _grammar.grammar_key()
    regex_key = _rule_regex.regex_key()
    assert key is not None and regex_key is not None
    def junk_body(name: str, _data: bytes) -> bytes:
        # an intact envelope around a body that is not what it should be
        return _grammar.wrap(b"not a pickle, not JSON, not code",
                             regex_key if name.startswith("regexes") else key)

    damages: list[Callable[[str, bytes], bytes]] = [
        lambda _name, data: data[: len(data) // 2],  # truncated
        lambda _name, data: data[:-10] + bytes(10),  # zeroed: the checksum fails
        lambda _name, _data: b"",  # empty
        lambda _name, _data: os.urandom(300),  # noise
        lambda _name, data: data.replace(b"sipstatus-artefact 1", b"sipstatus-artefact 9"),
        junk_body,
    ]
    # Two rounds: every kind of damage spread over the files, then junk in intact envelopes.
    for round_ in range(2):
        for index, name in enumerate(names):
            damage = damages[index % len(damages)] if round_ == 0 else junk_body
            (cache / name).write_bytes(damage(name, good[name]))
        _clear()
        grammar_before = work.grammar_compiled
        _use_the_grammar()
        assert work.grammar_compiled > grammar_before
        # rewritten whole
        assert all(_grammar.unwrap((cache / name).read_bytes(), key if name.startswith(
            "parser") else regex_key) is not None for name in names if "/" not in name)
    _clear()
    done = work.done
    _use_the_grammar()
    assert work.done == done


def test_cached_regex_code_must_be_for_its_pattern(cache: Path) -> None:
    source = _rule_regex.rule_regex_source("via_value")
    pattern = _grammar.compiled_regex(source)
    [path] = (cache / "re").iterdir()
    key = path.read_bytes().split(b"\n")[1].decode()
    # An intact file whose code claims another pattern: not used.
    path.write_bytes(_grammar.wrap(marshal.dumps(("x", 32, [], 0, {}, (None,))), key))
    _clear()
    assert _grammar.compiled_regex(source) == pattern


def test_concurrent_writers_leave_whole_files(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "file.bin"
    payloads = [bytes([n]) * 200_000 for n in range(8)]
    threads = [threading.Thread(target=_grammar.write_atomically, args=(target, data))
               for data in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert target.read_bytes() in payloads
    assert [path.name for path in target.parent.iterdir()] == ["file.bin"]


def test_processes_starting_together_share_one_cache(tmp_path: Path) -> None:
    env = dict(os.environ, SIPSTATUS_CACHE_DIR=str(tmp_path / "cache"))
    code = ("import sipstatus\n"
            f"assert sipstatus.parse({TYPICAL!r}, strict=True).status_code == 200\n"
            f"assert sipstatus.parse({BAD!r}).defects\n")
    processes = [subprocess.Popen([sys.executable, "-c", code], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(4)]
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert (process.returncode, out, err) == (0, b"", b"")
    names = _files(tmp_path / "cache")
    assert names and not [name for name in names if name.endswith(".tmp")]


def test_the_cache_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(_grammar.CACHE_ENV, str(tmp_path))
    assert _grammar.cache_dir() == tmp_path
    monkeypatch.setenv(_grammar.CACHE_ENV, "")
    assert _grammar.cache_dir() is None
    monkeypatch.delenv(_grammar.CACHE_ENV)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _grammar.cache_dir() == tmp_path / "xdg" / "sipstatus"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # the XDG spec: ignore it
    assert _grammar.cache_dir() == tmp_path / "home" / ".cache" / "sipstatus"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert _grammar.cache_dir() == tmp_path / "home" / ".cache" / "sipstatus"
    monkeypatch.setenv("HOME", "not/absolute")
    assert _grammar.cache_dir() is None


def test_small_patterns_are_not_cached(cache: Path) -> None:
    assert _grammar.compiled_regex("a+b") == re.compile("a+b")
    assert not cache.exists()


def test_odd_corners(tmp_path: Path) -> None:
    assert _grammar.module_source(None) is None
    assert _grammar.module_source(str(tmp_path / "missing.py")) is None
    assert _grammar.unwrap(None, "key") is None
    assert _grammar.load_parser(None) is None
    assert _rule_regex.decode_regexes(b'{"rules": {}, "terminals": {}}') is None
    assert _rule_regex.decode_regexes(b"[]") is None
    # Lark's lexers get the re module's own names through the stand-in
    assert _grammar._COMPILED_REGEX_MODULE.error is re.error
    with pytest.raises(KeyError):
        terminal_regex("NO_SUCH_TERMINAL")


# -- the loaded parser is the built parser ----------------------------------------------------


@functools.cache
def _raw_lark() -> Lark:
    """The parser as it was built before issue 10: straight from the grammar, plain Lark."""
    return Lark.open_from_package(GRAMMAR_PACKAGE, "sip.lark", ("",),
                                  start=list(START_RULES), **LARK_OPTIONS)


def _fault(parse: Callable[..., Any], text: str, rule: str) -> Any:
    try:
        parse(text, start=rule)
    except UnexpectedInput as exc:
        expected = getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ()
        return type(exc).__name__, exc.pos_in_stream, sorted(expected), expected_text(exc)
    return None


def _corpus_values() -> list[tuple[str, str]]:
    values = []
    for path in sorted(CORPUS.rglob("*.sip")):
        head = path.read_bytes().split(b"\r\n\r\n")[0].decode("latin-1")
        for line in head.split("\r\n")[1:]:
            name, colon, value = line.partition(":")
            rule = VALUE_RULES.get(header_key(name.strip()))
            if colon and rule:
                values.append((rule, value.strip(" \t")))
    return values


GARBAGE = ["", " ", "@", "<", ">", '"', "a b", ";", ",", "(", ")", "sip:", "1.2", "x;y=",
           "<sip:a@b", "SIP/2.0/UDP h;branch=[", "314159 INVITE extra", "\x00", "é", "*;q=2"]


def test_the_loaded_parser_says_what_the_built_parser_says(cache: Path) -> None:
    loaded = parser()
    assert "SipLark" in type(loaded).__name__
    cases = _corpus_values() + [(rule, text) for rule in VALUE_START_RULES for text in GARBAGE]
    cases += [("status_line", "SIP/2.0 48 Busy\r\n"), ("request_line", "INVITE  x SIP/2.0\r\n"),
              ("sip_head", "SIP/2.0 200 OK\r\nVia: x\r\n\r\n")]
    assert len(cases) > 500
    faults = 0
    for rule, text in cases:
        expected = _fault(_raw_lark().parse, text, rule)
        assert _fault(loaded.parse, text, rule) == expected, (rule, text)
        if expected is not None:
            faults += 1
            assert lark_fault(text, rule) == (max(0, min(expected[1] or 0, len(text))),
                                              expected[3])
    assert faults > 300


def test_the_loaded_parser_reads_its_grammar_when_asked(cache: Path) -> None:
    loaded = parser()
    assert "grammar" not in vars(loaded)  # loaded, not built
    names = [name for name, *_rest in loaded.grammar.rule_defs]
    assert names == [name for name, *_rest in _raw_lark().grammar.rule_defs]
    terminals, _rules, _ignore = loaded.grammar.compile(["via_value"], ())
    assert terminals
    assert getattr(loaded, "no_such_attribute", None) is None


def test_the_regexes_are_the_grammars(cache: Path) -> None:
    built = _rule_regex.build_regexes(_raw_lark())
    for name, source in built["rules"].items():
        assert rule_regex(name).pattern == source
    for name in ("HEADER_NAME", "HEADER_VALUE", "METHOD", "ADDR_SPEC"):
        assert terminal_regex(name).pattern == built["terminals"][name]
    # a rule that is not prebuilt is compiled from the grammar on demand
    assert "via_parm" not in built["rules"]
    assert rule_regex("via_parm").pattern == _rule_regex._Compiler(_raw_lark()).rule("via_parm")
