"""The public API, pinned name by name: what ``import sipstatus``, ``sipstatus.capture`` and
``sipstatus.strategies`` export, the console script, and every sub-command and flag of the
command line. A change here is a change for users: make it on purpose, and update the lists.

Only public entry points are used (the package, its two public modules, ``python -m
sipstatus``), so moving private modules around must leave this file passing.
"""

from __future__ import annotations

import importlib
import os
import re
import runpy
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import pytest
from hypothesis import given, settings

import sipstatus
import sipstatus.capture
import sipstatus.hep
import sipstatus.lake
import sipstatus.strategies

ROOT = Path(__file__).resolve().parents[1]
CAPTURE = ROOT / "fixtures" / "captures" / "sipp-kamailio-udp-calls.pcapng"

#: sorted(sipstatus.__all__)
PACKAGE_ALL = [
    "Action", "Advice", "AuthChallenge", "Backoff", "CODES", "COMPACT_FORMS", "CSeq",
    "Category", "Challenge", "Classification", "CodeInfo", "CodeStatus", "ContactEntry",
    "DEFAULT_LIMITS", "HeaderField", "Headers", "Limits", "MediaType", "NameAddr", "Params",
    "ProxyChoice", "RAck", "ReasonValue", "RequestLine", "RetryAfter", "SessionExpires",
    "SipParseError", "SipRequest", "SipResponse", "StatusLine", "Target", "TokenWithParams",
    "Uri", "Via", "WarningValue", "backoff_window", "best_response", "classify",
    "iter_messages", "lookup", "parse", "parse_request", "parse_response", "parse_status_line",
]

CAPTURE_ALL = ["CaptureError", "CapturedMessage", "Head", "read", "summarize", "to_arrow"]
#: Names of sipstatus.capture not starting with "_" (modules and `annotations` left out;
#: to_arrow is the lake's, imported when first asked for).
CAPTURE_PUBLIC = ["CaptureError", "CapturedMessage", "Head", "read", "summarize"]

HEP_ALL = ["CHUNK_NAMES", "FAMILY_IPV4", "FAMILY_IPV6", "HEP_PORT", "HepError", "HepFramer",
           "HepListener", "HepPacket", "HepSender", "HepStats", "MAX_PAYLOAD", "PAYLOAD_SIP",
           "PAYLOAD_TYPES", "decode", "encode", "packet_of", "read"]

LAKE_ALL = ["LakeBuild", "LakeError", "SCHEMA_VERSION", "build", "columns", "expand_inputs",
            "schema", "to_arrow"]

STRATEGIES_ALL = ["MUTATION_LABELS", "Mutation", "malformed", "requests", "responses",
                  "status_lines"]
#: Names of sipstatus.strategies not starting with "_" (modules and `annotations` left
#: out). Besides __all__ this holds the module's constants. (The names it merely imported,
#: Callable, Iterable, InvalidArgument, Wire and assume, were never its API and went with
#: the move of the strategies into sipstatus._fuzz.)
STRATEGIES_PUBLIC = [
    "ALNUM", "CODECS", "DOMAINS", "GRAMMAR_SLOTS", "LABELS", "MUTATION_LABELS", "MUTATORS",
    "Mutation", "OPTIONAL_HEADERS", "USERS", "USER_AGENTS", "malformed", "requests",
    "responses", "status_lines",
]

#: Sub-commands, in the order `sipstatus --help` lists them.
COMMANDS = ["parse", "explain", "codes", "scan", "ladder", "report", "fuzz"]

#: Every option string of the top level and of each sub-command.
OPTIONS = {
    "": {"-h", "--help"},
    "parse": {"-h", "--help", "--strict"},
    "explain": {"-h", "--help", "--json", "--owns-call-id", "--no-owns-call-id"},
    "codes": {"-h", "--help", "--class", "--json"},
    "scan": {"-h", "--help", "--port", "--format", "--summary", "--calls", "--metrics",
             "--validate", "--max-memory", "--no-progress", "--out", "--append", "--raw",
             "--jobs", "--dask", "--hep", "--hep-port", "--count", "--duration", "--hep-out",
             "--node-id", "--node-name", "--rate"},
    "ladder": {"-h", "--help", "--call-id", "--format", "-o", "--output", "--by", "--color",
               "--colour", "--port"},
    "report": {"-h", "--help", "-o", "--output", "--title", "--port"},
    "fuzz": {"-h", "--help", "--answer", "--listen", "--replay", "--cases", "--duration",
             "--rate", "--seed", "--malformed-ratio", "--methods", "--probe-timeout",
             "--probe-retries", "--probe-user", "--reply-wait", "--idle-timeout", "--out",
             "--skip-label", "--overwrite", "-q", "--quiet", "--scenario", "--t1", "--user",
             "--password"},
}

#: The positional arguments (metavars) of each sub-command.
POSITIONALS = {
    "": ["COMMAND"],
    "parse": ["FILE"],
    "explain": ["INPUT"],
    "codes": [],
    "scan": ["CAPTURE"],
    "ladder": ["CAPTURE"],
    "report": ["CAPTURE"],
    "fuzz": ["TARGET"],
}


def _public_names(module: types.ModuleType) -> list[str]:
    return sorted(name for name, value in vars(module).items()
                  if not name.startswith("_") and name != "annotations"
                  and not isinstance(value, types.ModuleType))


def _star_import(module: str) -> dict[str, object]:
    namespace: dict[str, object] = {}
    exec(f"from {module} import *", namespace)
    namespace.pop("__builtins__")
    return namespace


# -- names -------------------------------------------------------------------------------


def test_package_all() -> None:
    assert sorted(sipstatus.__all__) == PACKAGE_ALL
    assert len(set(sipstatus.__all__)) == len(sipstatus.__all__)


def test_package_public_names_are_its_all() -> None:
    # Every public name of the package is listed in __all__ (submodules aside).
    assert _public_names(sipstatus) == PACKAGE_ALL
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert sipstatus.__version__ == project["version"]


@pytest.mark.parametrize(("module", "all_names", "public"), [
    (sipstatus.capture, CAPTURE_ALL, CAPTURE_PUBLIC),
    (sipstatus.hep, HEP_ALL, HEP_ALL),
    (sipstatus.lake, LAKE_ALL, LAKE_ALL),
    (sipstatus.strategies, STRATEGIES_ALL, STRATEGIES_PUBLIC),
], ids=["capture", "hep", "lake", "strategies"])
def test_module_names(module: types.ModuleType, all_names: list[str],
                      public: list[str]) -> None:
    assert sorted(module.__all__) == all_names
    assert _public_names(module) == public


@pytest.mark.parametrize("name", ["sipstatus", "sipstatus.capture", "sipstatus.hep",
                                  "sipstatus.lake", "sipstatus.strategies"])
def test_star_import_gives_the_same_objects(name: str) -> None:
    module = importlib.import_module(name)
    namespace = _star_import(name)
    assert sorted(namespace) == sorted(module.__all__)
    for attribute, value in namespace.items():
        assert value is getattr(module, attribute), attribute


def test_submodules_are_reachable_from_the_package() -> None:
    assert importlib.import_module("sipstatus.capture") is sipstatus.capture
    assert importlib.import_module("sipstatus.strategies") is sipstatus.strategies
    assert sipstatus.capture.__name__ == "sipstatus.capture"
    assert sipstatus.strategies.__name__ == "sipstatus.strategies"


RESPONSE = (b"SIP/2.0 503 Service Unavailable\r\n"
            b"Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n"
            b"From: <sip:a@example.com>;tag=1\r\nTo: Bob <sip:b@example.com>;tag=2\r\n"
            b"Call-ID: c@h\r\nCSeq: 1 INVITE\r\nContact: <sip:b@192.0.2.1>;q=0.5\r\n"
            b"Retry-After: 30\r\nContent-Type: text/plain\r\nWarning: 399 h \"x\"\r\n"
            b"Reason: Q.850;cause=16\r\nSession-Expires: 90;refresher=uac\r\n"
            b"WWW-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\nEvent: presence\r\n"
            b"RAck: 1 1 INVITE\r\nContent-Length: 0\r\n\r\n")


def test_what_the_api_returns_is_of_the_exported_classes() -> None:
    """Objects made anywhere in the package are instances of the classes it exports (a
    class defined twice after a move would break isinstance checks of users)."""
    message = sipstatus.parse(RESPONSE)
    assert type(message) is sipstatus.SipResponse
    assert type(message.headers) is sipstatus.Headers
    assert type(message.headers.fields[0]) is sipstatus.HeaderField
    assert type(message.status_line) is sipstatus.StatusLine
    assert type(message.via[0]) is sipstatus.Via
    assert type(message.via[0].params) is sipstatus.Params
    assert type(message.to) is sipstatus.NameAddr
    assert type(message.to.uri) is sipstatus.Uri
    assert type(message.contact[0]) is sipstatus.ContactEntry
    assert type(message.cseq) is sipstatus.CSeq
    assert type(message.retry_after) is sipstatus.RetryAfter
    assert type(message.content_type) is sipstatus.MediaType
    assert type(message.warning[0]) is sipstatus.WarningValue
    assert type(message.reason_header[0]) is sipstatus.ReasonValue
    assert type(message.session_expires) is sipstatus.SessionExpires
    assert type(message.www_authenticate[0]) is sipstatus.Challenge
    assert type(message.event) is sipstatus.TokenWithParams
    assert type(message.rack) is sipstatus.RAck
    request = sipstatus.parse_request(b"OPTIONS sip:b@example.com SIP/2.0\r\n\r\n")
    assert type(request) is sipstatus.SipRequest
    assert type(request.request_line) is sipstatus.RequestLine
    assert type(sipstatus.parse_status_line("SIP/2.0 200 OK")) is sipstatus.StatusLine
    assert [type(m) for m in sipstatus.iter_messages(RESPONSE * 2)] == [sipstatus.SipResponse] * 2

    result = sipstatus.classify(message)
    assert type(result) is sipstatus.Classification
    assert type(result.advice) is sipstatus.Advice
    assert type(result.category) is sipstatus.Category
    assert type(result.advice.action) is sipstatus.Action
    assert type(result.info) is sipstatus.CodeInfo
    assert type(result.info.status) is sipstatus.CodeStatus
    assert type(sipstatus.lookup(486)) is sipstatus.CodeInfo
    assert sipstatus.lookup(486) is sipstatus.CODES[486]
    assert type(sipstatus.best_response([503, 404])) is sipstatus.ProxyChoice
    assert type(sipstatus.backoff_window(owns_call_id=True)) is sipstatus.Backoff
    auth = sipstatus.classify(sipstatus.parse_response(
        b"SIP/2.0 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n"
        b"Content-Length: 0\r\n\r\n"))
    assert type(auth.advice.challenges[0]) is sipstatus.AuthChallenge
    moved = sipstatus.classify(sipstatus.parse_response(
        b"SIP/2.0 302 Moved\r\nContact: <sip:c@example.com>\r\nContent-Length: 0\r\n\r\n"))
    assert type(moved.advice.targets[0]) is sipstatus.Target
    assert type(sipstatus.DEFAULT_LIMITS) is sipstatus.Limits
    with pytest.raises(sipstatus.SipParseError) as caught:
        sipstatus.parse(b"SIP/2.0 48 Busy\r\n\r\n")
    assert type(caught.value) is sipstatus.SipParseError


def test_capture_returns_its_exported_classes() -> None:
    first = next(sipstatus.capture.read(CAPTURE))
    assert type(first) is sipstatus.capture.CapturedMessage
    assert type(first.head) is sipstatus.capture.Head
    assert type(first.message) is sipstatus.SipRequest
    assert isinstance(sipstatus.capture.summarize(CAPTURE), dict)
    assert issubclass(sipstatus.capture.CaptureError, ValueError)


@settings(max_examples=5, database=None)
@given(sipstatus.strategies.malformed())
def test_strategies_make_their_exported_mutation(case: object) -> None:
    assert type(case) is sipstatus.strategies.Mutation
    assert case.label in sipstatus.strategies.MUTATION_LABELS  # type: ignore[attr-defined]


# -- the console script and `python -m sipstatus` -----------------------------------------


def test_console_script_entry_point() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"] == {"sipstatus": "sipstatus.__main__:main"}
    module, _, attribute = project["scripts"]["sipstatus"].partition(":")
    main = getattr(importlib.import_module(module), attribute)
    assert callable(main)


def test_entry_point_runs_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    from sipstatus.__main__ import main

    assert main(["codes", "--class", "6xx"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "6xx global failure"
    assert "  603  Decline" in out


def test_python_dash_m_runs_main(monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m sipstatus ARGS` exits with main()'s status (in process: runpy)."""
    monkeypatch.delitem(sys.modules, "sipstatus.__main__", raising=False)
    monkeypatch.setattr(sys, "argv", ["sipstatus", "explain", "486"])
    with pytest.raises(SystemExit) as caught:
        runpy.run_module("sipstatus", run_name="__main__", alter_sys=True)
    assert caught.value.code == 0
    assert capsys.readouterr().out.startswith("486 Busy Here\n")


# -- sub-commands and flags, read from --help ----------------------------------------------


def _help(*argv: str) -> str:
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", PYTHON_COLORS="0")
    done = subprocess.run([sys.executable, "-m", "sipstatus", *argv, "--help"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    return done.stdout


def _options(text: str) -> set[str]:
    """Option strings of the lines of `--help` that describe an option (`  -x, --xx ARG`)."""
    found = set()
    for line in text.splitlines():
        if re.match(r"  -", line):
            head = re.split(r"\s{2,}", line.strip())[0]
            found.update(part.split()[0] for part in head.split(", "))
    return found


def _section(text: str, title: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(title) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith(" ")),
               len(lines))
    return lines[start:end]


def _positionals(text: str) -> list[str]:
    if "positional arguments:" not in text.splitlines():
        return []
    return [m[1] for line in _section(text, "positional arguments:")
            if (m := re.match(r"  (\S+)", line))]


def test_subcommands() -> None:
    text = _help()
    listed = [m[1] for line in _section(text, "positional arguments:")
              if (m := re.match(r"    ([a-z]+)(?:\s|$)", line))]
    assert listed == COMMANDS
    assert text.startswith("usage: sipstatus [-h] COMMAND ...")


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_flags_and_arguments(command: str) -> None:
    text = _help(command) if command else _help()
    assert _options(text) == OPTIONS[command]
    assert _positionals(text) == POSITIONALS[command]
    assert text.startswith(f"usage: sipstatus {command}".rstrip() + " [-h]")
