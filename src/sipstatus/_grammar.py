"""Loading the Lark grammar (``grammar/*.lark``, shipped as the package ``sipstatus.grammar``),
and keeping the cost of building it off the start-up path.

The grammar is the single source of SIP syntax. It becomes one LALR(1) parser with the
contextual lexer and several start rules: ``sip_head`` for a whole start line and header
section, ``request_line`` and ``status_line``, and one ``<header>_value`` rule for each typed
header.

Building that parser from the ``.lark`` files takes about a second, and compiling the
regexes derived from it (``_rule_regex``) keeps Python's ``re`` busy for a few hundred
milliseconds more. A process that validates should pay neither, so:

* **Artefacts keyed by their inputs.** What is derived from the grammar is shipped prebuilt
  in the grammar package: the LALR parser as :meth:`Lark.save` writes it
  (``compiled_parser.pickle``) and the regex sources of ``_rule_regex``
  (``compiled_regexes.json``). Each file starts with the key it was built for:
  :func:`grammar_key` hashes the ``.lark`` files' bytes, the Lark version, the parser's
  options and start rules, and this module's source; the regex file's key adds the source of
  ``_rule_regex``. A file whose key is not the current one (an edited grammar, another Lark)
  is never used: the artefact is rebuilt from the grammar and kept in the per-user cache
  under its key. ``python tools/rebuild_grammar.py`` rewrites the shipped files, and
  ``tests/parse/test_grammar_cache.py`` fails while they are stale.
* **Compiled regex code** (CPython): :func:`compiled_regex` keeps the code that ``re``
  compiles a pattern to in the per-user cache and gives it straight to ``_sre.compile``,
  which is what ``re.compile`` does last. The key is the pattern, its flags and the
  interpreter (its version and build, ``_sre``'s constants, the sources of ``re``'s parser
  and compiler). A 40 kB pattern costs ``re`` about 100 ms; loading its code, about 1 ms.
  A self-test on first use checks that this path builds exactly the pattern
  ``re.compile`` builds (patterns compare their code), else ``re.compile`` is used.
* **The per-user cache** is ``$SIPSTATUS_CACHE_DIR`` if set (set and empty: no cache),
  else ``$XDG_CACHE_HOME/sipstatus`` or ``~/.cache/sipstatus`` (``%LOCALAPPDATA%`` on
  Windows, ``~/Library/Caches`` on macOS). Files are written under a temporary name and
  renamed into place (``os.replace``), so concurrent writers never leave a half-written
  file; each file carries its key and a SHA-256 of its body. A file that is missing,
  unreadable, damaged or for another key is ignored, and a cache that cannot be written is
  not written: the artefact is built in memory, silently, and the result is the same. The
  parser file is a pickle: the directory must be writable by you alone, as ``~/.cache`` is.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import io
import marshal
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sipstatus._registry import VALUE_RULES as REGISTRY_RULES

if TYPE_CHECKING:  # lark is imported when the grammar is first needed
    from lark import Lark
    from lark.exceptions import UnexpectedInput

#: Start rules for one header value: every value rule of the header registry.
VALUE_START_RULES: tuple[str, ...] = tuple(sorted(set(REGISTRY_RULES.values())))

START_RULES = ("sip_head", "request_line", "status_line", *VALUE_START_RULES)

#: The package holding ``sip.lark`` (which imports ``core.lark`` and ``uri.lark``).
GRAMMAR_PACKAGE = "sipstatus.grammar"
#: How the parser is built (part of :func:`grammar_key`).
LARK_OPTIONS: dict[str, Any] = {
    "parser": "lalr",
    "lexer": "contextual",
    "maybe_placeholders": True,
    "propagate_positions": False,
}
#: The prebuilt parser in the grammar package (:func:`save_parser`, wrapped by :func:`wrap`).
SHIPPED_PARSER = "compiled_parser.pickle"
#: Environment variable naming the per-user cache directory ("" turns the cache off).
CACHE_ENV = "SIPSTATUS_CACHE_DIR"
#: Options left out of the saved parser: where the grammar came from, not what it is.
_UNSAVED_OPTIONS = ("import_paths", "source_path")
_MAGIC = b"sipstatus-artefact 1\n"


# -- keys and files ---------------------------------------------------------------------------


def digest(*parts: bytes) -> str:
    """SHA-256 (hex) of ``parts``, each prefixed by its length so that no two lists of parts
    hash alike."""
    sha = _sha256()()
    for part in parts:
        sha.update(len(part).to_bytes(8, "big"))
        sha.update(part)
    return str(sha.hexdigest())


@functools.cache
def _sha256() -> Callable[[], Any]:
    # hashlib's own SHA-256 modules first: importing hashlib loads OpenSSL (3-15 ms), which
    # is most of what a warm start costs. The digest is the same either way.
    for name in ("_sha2", "_sha256"):
        with contextlib.suppress(ImportError):
            return cast("Callable[[], Any]", importlib.import_module(name).sha256)
    import hashlib  # pragma: no cover - here, not at import: programs that never validate

    return hashlib.sha256  # pragma: no cover


def module_source(path: str | None) -> bytes | None:
    """The bytes of a module's source file (its ``__file__``), or None if unreadable."""
    try:
        return Path(path).read_bytes() if path else None
    except (OSError, ValueError):
        return None


@functools.cache
def lark_version() -> str:
    """The installed Lark's version, read from its source when it has not been imported yet
    (importing Lark takes ~50 ms, and the common path never needs it)."""
    module = sys.modules.get("lark")
    if module is not None:
        return str(module.__version__)
    spec = importlib.util.find_spec("lark")
    text = module_source(spec.origin if spec else None) or b""
    found = re.search(rb"""^__version__\s*(?::\s*str\s*)?=\s*["']([^"'\s]+)["']""", text, re.M)
    if found:
        return found.group(1).decode("ascii", "replace")
    import lark  # pragma: no cover - here: its version is not in its source

    return str(lark.__version__)  # pragma: no cover


@functools.cache
def grammar_dir() -> Path | None:
    """The directory of the grammar package, or None when it is not a directory (a zip)."""
    spec = importlib.util.find_spec(GRAMMAR_PACKAGE)
    for location in (spec.submodule_search_locations or ()) if spec else ():
        if Path(location, "sip.lark").is_file():
            return Path(location)
    return None  # pragma: no cover - installed as a zip file


@functools.cache
def grammar_key() -> str | None:
    """The key of everything built from the grammar: a SHA-256 of each ``.lark`` file's
    name and bytes, the Lark version, :data:`LARK_OPTIONS`, :data:`START_RULES` and this
    module's source. None when any of these cannot be read: then nothing is cached."""
    directory = grammar_dir()
    source = module_source(__file__)
    if directory is None or source is None:
        return None  # pragma: no cover - installed as a zip file
    try:
        files = sorted(path for path in directory.iterdir() if path.suffix == ".lark")
        parts = [part for path in files for part in (path.name.encode(), path.read_bytes())]
    except OSError:  # pragma: no cover - the grammar vanished under us
        return None
    return digest(b"grammar", *parts, lark_version().encode(),
                  repr(sorted(LARK_OPTIONS.items())).encode(), " ".join(START_RULES).encode(),
                  source)


def wrap(body: bytes, key: str) -> bytes:
    """An artefact file: a magic line, ``key``, the SHA-256 of ``body``, then ``body``."""
    return _MAGIC + key.encode() + b"\n" + digest(body).encode() + b"\n" + body


def unwrap(blob: bytes | None, key: str) -> bytes | None:
    """The body of artefact file ``blob`` if it is intact and was built for ``key``."""
    head = _MAGIC + key.encode() + b"\n"
    if blob is None or not blob.startswith(head):
        return None
    check, body = blob[len(head):len(head) + 65], blob[len(head) + 65:]
    return body if check == digest(body).encode() + b"\n" else None


def shipped(name: str, key: str) -> bytes | None:
    """The body of artefact ``name`` of the grammar package, if it was built for ``key``."""
    directory = grammar_dir()
    return unwrap(_read(directory / name), key) if directory else None


def cache_dir() -> Path | None:
    """The per-user cache directory (see the module's docstring), or None for no cache."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return Path(configured) if configured else None
    home = os.path.expanduser("~")
    if sys.platform == "win32":  # pragma: no cover - tested on POSIX
        base = os.environ.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local")
    elif sys.platform == "darwin":  # pragma: no cover - tested on Linux
        base = os.path.join(home, "Library", "Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or ""
        if not os.path.isabs(base):  # unset, or relative: the XDG spec says ignore it
            base = os.path.join(home, ".cache")
    return Path(base, "sipstatus") if os.path.isabs(base) else None


def cache_name(kind: str, key: str, suffix: str) -> str:
    """The cache file name of artefact ``kind`` for ``key``."""
    return f"{kind}-{key[:32]}.{suffix}"


def read_cached(name: str, key: str) -> bytes | None:
    """The body of cache file ``name`` if it is there, intact, and built for ``key``."""
    directory = cache_dir()
    return unwrap(_read(directory / name), key) if directory else None


def write_cached(name: str, key: str, body: bytes) -> bool:
    """Keep ``body`` (built for ``key``) in cache file ``name``; False if it could not be."""
    directory = cache_dir()
    return write_atomically(directory / name, wrap(body, key)) if directory else False


def write_atomically(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``, so that no
    reader ever sees half of it. False (and nothing left behind) if it could not be done."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{os.urandom(4).hex()}.tmp")
    try:
        _make_directory(path.parent)
        with open(temporary, "xb") as file:
            file.write(data)
        os.replace(temporary, path)
    except (OSError, ValueError):
        with contextlib.suppress(OSError, ValueError):
            temporary.unlink()
        return False
    return True


def _make_directory(directory: Path) -> None:
    """Make ``directory`` and any missing parents, readable by the user alone."""
    if not directory.is_dir():
        if directory.parent != directory:
            _make_directory(directory.parent)
        directory.mkdir(mode=0o700, exist_ok=True)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (OSError, ValueError):
        return None


# -- the LALR parser --------------------------------------------------------------------------


@functools.cache
def parser() -> Lark:
    """The shared LALR parser over every start rule: loaded from the shipped or cached
    artefact when one was built for :func:`grammar_key` (~20 ms, plus ~50 ms to import
    Lark), else built from the grammar (~1 s) and cached.

    Its ``.grammar`` (the rule trees, which only grammar-driven tools need) is read from the
    ``.lark`` files on first access when the parser was loaded rather than built."""
    key = grammar_key()
    if key is not None:
        for body in (shipped(SHIPPED_PARSER, key),
                     read_cached(cache_name("parser", key, "pickle"), key)):
            loaded = load_parser(body)
            if loaded is not None:
                return loaded
    built = build_parser()
    if key is not None:
        write_cached(cache_name("parser", key, "pickle"), key, save_parser(built))
    return built


def build_parser() -> Lark:
    """The parser, built from ``grammar/*.lark`` (about a second); no cache is involved."""
    lark = _parser_class().open_from_package(GRAMMAR_PACKAGE, "sip.lark", ("",),
                                             start=list(START_RULES), **LARK_OPTIONS)
    _use_compiled_regex(lark)
    return lark


def save_parser(lark: Lark) -> bytes:
    """``lark`` as :meth:`Lark.save` writes it (a pickle), without where it was read from."""
    buffer = io.BytesIO()
    lark.save(buffer, exclude_options=_UNSAVED_OPTIONS)
    return buffer.getvalue()


def load_parser(body: bytes | None) -> Lark | None:
    """The parser saved in ``body`` by :func:`save_parser`, or None if it cannot be loaded."""
    if body is None:
        return None
    try:
        lark = _parser_class().load(io.BytesIO(body))
    except Exception:  # a damaged or foreign file: the caller builds the parser instead
        return None
    _use_compiled_regex(lark)
    return lark


@functools.cache
def _parser_class() -> type[Lark]:
    from lark import Lark  # here, not at import: most programs never need the grammar
    from lark.load_grammar import FromPackageLoader, load_grammar

    class SipLark(Lark):
        """A Lark parser whose ``grammar`` is read from the ``.lark`` files when first asked
        for, if it was loaded from an artefact (which holds only the parser)."""

        def __getattr__(self, name: str) -> Any:
            if name != "grammar":
                raise AttributeError(name)
            loader = FromPackageLoader(GRAMMAR_PACKAGE, ("",))
            path, text = loader(None, "sip.lark")
            grammar, _used = load_grammar(  # type: ignore[no-untyped-call]
                text, path, [loader], self.options.keep_all_tokens)
            self.grammar = grammar
            return grammar

    return SipLark


class _CompiledRegexModule:
    """Stands in for the ``re`` module in Lark's lexers: the scanners they build on first
    use (one alternation of terminals per parser state) come through :func:`compiled_regex`.
    Anything else is the ``re`` module's own."""

    def __getattr__(self, name: str) -> Any:
        return getattr(re, name)

    def compile(self, pattern: str, flags: int = 0) -> re.Pattern[str]:
        return compiled_regex(pattern, int(flags))

    def match(self, pattern: str, string: str, flags: int = 0) -> re.Match[str] | None:
        return compiled_regex(pattern, int(flags)).match(string)


def _use_compiled_regex(lark: Lark) -> None:
    """Let the contextual lexer's per-state lexers compile their scanners through the cache.
    They build the same patterns either way; a Lark that keeps its lexers elsewhere simply
    keeps using ``re``."""
    lexer = getattr(getattr(lark, "parser", None), "lexer", None)
    lexers = [*getattr(lexer, "lexers", {}).values(), getattr(lexer, "root_lexer", None)]
    for each in lexers:
        if getattr(each, "re", None) is re:
            each.re = _COMPILED_REGEX_MODULE


_COMPILED_REGEX_MODULE = _CompiledRegexModule()


# -- compiled regex code ----------------------------------------------------------------------

#: Exercises what the grammar's regexes use: groups, look-ahead, atomic groups, repeats,
#: classes, case-insensitive parts, alternation.
_SELF_TEST = r"(?i:sips?:)(?>[A-Za-z0-9\-_.!~*'()]+)(?!x)(?:%[0-9A-F]{2}|[&=+$]){1,3}(a|\[)?.*"


@functools.cache
def _sre_engine() -> tuple[Any, Any, Any, str] | None:
    """(``_sre``, ``re._parser``, ``re._compiler``, the interpreter's identity) when compiled
    regex code can be cached, else None."""
    if sys.implementation.name != "cpython":  # pragma: no cover - tested on CPython
        return None
    try:
        sre, parse, compiler, constants = (importlib.import_module(name) for name in (
            "_sre", "re._parser", "re._compiler", "re._constants"))
        sources = [module_source(module.__file__) for module in (parse, compiler, constants)]
    except Exception:  # pragma: no cover - an interpreter whose re is built otherwise
        return None
    if None in sources:  # pragma: no cover - a frozen or zipped standard library
        return None
    identity = digest(sys.version.encode(), sys.implementation.cache_tag.encode(),
                      repr((sre.MAGIC, sre.CODESIZE, sre.MAXREPEAT, sre.MAXGROUPS)).encode(),
                      *cast("list[bytes]", sources))
    return sre, parse, compiler, identity


@functools.cache
def _compiles_like_re() -> bool:
    """Whether :func:`_compile_code` builds exactly the patterns ``re.compile`` builds
    (patterns compare equal only if their compiled code is the same). Checked before any
    code is written to the cache: what is read back was written by the same interpreter."""
    engine = _sre_engine()
    try:
        return engine is not None and all(
            _compile_code(engine, _SELF_TEST, flags)[0] == re.compile(_SELF_TEST, flags)
            for flags in (0, int(re.I)))
    except Exception:  # pragma: no cover - an interpreter whose re works otherwise
        return False


def _compile_code(engine: tuple[Any, Any, Any, str], source: str,
                  flags: int) -> tuple[re.Pattern[str], tuple[Any, ...]]:
    """What ``re.compile(source, flags)`` does, keeping the arguments of ``_sre.compile``."""
    sre, parse, compiler, _identity = engine
    tree = parse.parse(source, flags)
    code = [int(word) for word in compiler._code(tree, flags)]
    groupindex = dict(tree.state.groupdict)
    indexgroup: list[str | None] = [None] * tree.state.groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    args = (source, flags | tree.state.flags, code, tree.state.groups - 1, groupindex,
            tuple(indexgroup))
    return sre.compile(*args), args


#: Patterns shorter than this compile faster than their code is read back.
CACHED_PATTERN_SIZE = 500


@functools.cache
def compiled_regex(source: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile(source, flags)`` for a ``str`` pattern, its compiled code kept in the
    per-user cache (CPython, patterns of :data:`CACHED_PATTERN_SIZE` characters or more;
    otherwise, or without a cache, it is ``re.compile``)."""
    directory = cache_dir()
    engine = _sre_engine() if directory and len(source) >= CACHED_PATTERN_SIZE else None
    if engine is None or directory is None:
        return re.compile(source, flags)
    key = digest(b"re", engine[3].encode(), str(flags).encode(), source.encode())
    path = directory / "re" / f"{key[:32]}.bin"
    body = unwrap(_read(path), key)
    if body is not None:
        with contextlib.suppress(Exception):  # damaged: compile it again below
            stored = marshal.loads(body)
            if stored[0] == source:
                return cast("re.Pattern[str]", engine[0].compile(*stored))
    if not _compiles_like_re():  # pragma: no cover - an interpreter whose re works otherwise
        return re.compile(source, flags)
    pattern, args = _compile_code(engine, source, flags)
    write_atomically(path, wrap(marshal.dumps(args), key))
    return pattern


# -- Lark's errors in words -------------------------------------------------------------------


def lark_fault(text: str, rule: str) -> tuple[int, str] | None:
    """Parse ``text`` from start rule ``rule`` with the LALR parser: None when the grammar
    accepts it, else where the parse stopped (an index into ``text``) and what it expected,
    in words. The exact, slow judge behind every fast check."""
    from lark.exceptions import UnexpectedInput

    try:
        parser().parse(text, start=rule)
    except UnexpectedInput as exc:
        return max(0, min(exc.pos_in_stream or 0, len(text))), expected_text(exc)
    return None


#: Terminal names in words, for "expected ..." messages.
TERMINAL_WORDS = {
    "STATUS_CODE": "Status-Code (3 digits)",
    "SIP_VERSION": 'SIP-Version ("SIP/2.0")',
    "SP": "a single space (SP)",
    "CRLF": "end of line (CRLF)",
    "EOL": "end of line (CRLF)",
    "METHOD": "Method (a token)",
    "REQUEST_URI": "Request-URI",
    "REASON_PHRASE": "Reason-Phrase",
    "TOKEN": "a token",
    "DIGITS": "digits",
    "LWS": "white space",
    "HCOLON": '":"',
    "COLON": '":"',
    "SEMI": '";"',
    "COMMA": '","',
    "EQUAL": '"="',
    "SLASH": '"/"',
    "LAQUOT": '"<"',
    "RAQUOT": '">"',
    "LPAREN": '"("',
    "RPAREN": '")"',
    "STAR": '"*"',
    "QUOTED_STRING": "a quoted-string",
    "ADDR_SPEC": "a URI",
    "BARE_ADDR_SPEC": "a URI",
    "ABSOLUTE_URI": "an absolute URI",
    "HOST_TOKEN": "a host",
    "PORT": "a port",
    "GEN_VALUE": "a token, host or quoted-string",
    "AUTH_VALUE": "a token or quoted-string",
    "QVALUE": "a q-value (0 to 1, up to 3 decimals)",
    "RECEIVED_ADDRESS": "an IP address",
    "HEADER_NAME": "a header name (token)",
    "HEADER_VALUE": "a header value",
    "CALLID": "a Call-ID (word[@word])",
    "WARN_CODE": "warn-code (3 digits)",
    "WARN_AGENT": "warn-agent",
    "SIP_DATE": 'an RFC 1123 date ending in "GMT"',
    "CTEXT": "comment text",
    "TTL": "a ttl (1 to 3 digits)",
}


def expected_text(exc: UnexpectedInput) -> str:
    """Describe what the parser wanted where it stopped."""
    expected = sorted(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())
    words: list[str] = []
    for name in expected:
        word = TERMINAL_WORDS.get(name, name.replace("_", "-").lower())
        if word not in words:
            words.append(word)
    if not words:
        return "unexpected end of input"
    if len(words) > 4:
        words = [*words[:4], "..."]
    return "expected " + " or ".join(words)
