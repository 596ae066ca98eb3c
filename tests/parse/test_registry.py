"""The header registry (``sipstatus._registry``) against its sources: the grammar's
``known_header`` rule, the IANA registry's references, RFC 3261 §20's numbering, and the
typed accessors of a message. Everything that derives from the registry is checked to
derive from it."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

import sipstatus
from sipstatus._grammar import VALUE_START_RULES, parser
from sipstatus._registry import (
    ACCESSORS,
    COMPACT_FORMS,
    EMPTY_ALLOWED,
    HEADERS,
    LEG_HINTS,
    SPECS,
    UNREGISTERED,
    VALUE_RULES,
    citation,
    header_key,
    spellings,
)

REFERENCE = Path(__file__).parents[2] / "fixtures" / "reference" / "sip-header-fields.tsv"


def _known_headers() -> dict[str, tuple[str, str | None, str, bool]]:
    """Per alternative of ``known_header``: (long name, compact form, value rule, whether
    the value is optional), keyed by the lower-case long name."""
    tree = next(t for name, _p, t, _o in parser().grammar.rule_defs if name == "known_header")
    found = {}
    for alias in tree.children:
        expansion = alias.children[0]
        terminal = expansion.children[0].children[0].name
        last = expansion.children[2]
        optional = last.data == "maybe"
        value = next(last.find_pred(lambda node: node.data == "value"))
        pattern = parser().get_terminal(terminal).pattern.value
        names = re.fullmatch(r"(?:\(\?:)?([A-Za-z-]+)(?:\|([a-z]))?\)?\(\?=.*", pattern)
        assert names is not None, pattern
        long_name, compact = names.groups()
        found[long_name.lower()] = (long_name, compact, value.children[0].name, optional)
    return found


def test_registry_rows_are_the_grammars_known_headers() -> None:
    grammar = _known_headers()
    with_rule = {spec.key: spec for spec in HEADERS if spec.rule is not None}
    assert set(with_rule) == set(grammar)
    for key, (long_name, compact, rule, optional) in grammar.items():
        spec = with_rule[key]
        assert (spec.name, spec.compact, spec.rule, spec.empty_allowed) == (
            long_name, compact, rule, optional), key


def test_value_start_rules_are_the_registrys_rules() -> None:
    assert set(VALUE_START_RULES) == set(VALUE_RULES.values())
    assert {key for key, (*_, optional) in _known_headers().items() if optional} == EMPTY_ALLOWED


def _reference() -> dict[str, dict[str, str]]:
    with REFERENCE.open(encoding="utf-8", newline="") as handle:
        return {row["header_name"].lower(): row
                for row in csv.DictReader(handle, delimiter="\t")}


def test_citations_name_the_rfc_that_defines_each_header() -> None:
    reference = _reference()
    for spec in HEADERS:
        if spec.section == UNREGISTERED:  # RFC 6648: an X- header is never registered
            assert spec.name.startswith("X-") and spec.key not in reference, spec.name
            continue
        row = reference[spec.key]
        defining = re.findall(r"RFC [0-9]+", row["reference"])
        cited = re.fullmatch(r"(RFC [0-9]+) §[0-9]+(?:\.[0-9]+)*", spec.section)
        assert cited is not None, spec.section
        assert cited.group(1) in defining, (spec.name, spec.section, row["reference"])
        assert (spec.compact or "") == row["compact"], spec.name


def test_rfc_3261_headers_are_numbered_as_in_section_20() -> None:
    # RFC 3261 §20 defines 44 header fields, §20.1 Accept to §20.44 WWW-Authenticate, in
    # this order (alphabetical but for CSeq after Content-Type and Min-Expires before
    # MIME-Version, as printed).
    printed = [
        "Accept", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow",
        "Authentication-Info", "Authorization", "Call-ID", "Call-Info", "Contact",
        "Content-Disposition", "Content-Encoding", "Content-Language", "Content-Length",
        "Content-Type", "CSeq", "Date", "Error-Info", "Expires", "From", "In-Reply-To",
        "Max-Forwards", "Min-Expires", "MIME-Version", "Organization", "Priority",
        "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Require", "Record-Route",
        "Reply-To", "Require", "Retry-After", "Route", "Server", "Subject", "Supported",
        "Timestamp", "To", "Unsupported", "User-Agent", "Via", "Warning", "WWW-Authenticate",
    ]
    ours = [(spec.name, spec.section) for spec in HEADERS if spec.section.startswith("RFC 3261")]
    assert ours == [(name, f"RFC 3261 §20.{n}") for n, name in enumerate(printed, 1)]


def test_compact_forms_and_keys() -> None:
    assert len(COMPACT_FORMS) == 19
    assert sipstatus.COMPACT_FORMS is COMPACT_FORMS
    for letter, name in COMPACT_FORMS.items():
        assert header_key(letter.upper()) == name.lower()
        assert spellings(name.lower()) == (name.lower(), letter)
    assert spellings("x-custom") == ("x-custom",)


def _typed_accessors() -> set[str]:
    """Properties of a message that read one header (the rest read the message itself)."""
    own = {"defects", "request_uri", "status_line", "request_line"}
    names = set()
    for cls in (sipstatus.SipResponse, sipstatus.SipRequest):
        for klass in cls.__mro__:
            for name, member in vars(klass).items():
                if not name.startswith("_") and name not in own and (
                        isinstance(member, property) or hasattr(member, "kind")):
                    names.add(name)
    return names


def test_every_typed_accessor_is_in_the_registry() -> None:
    assert _typed_accessors() == set(ACCESSORS)


@pytest.mark.parametrize("accessor", sorted(ACCESSORS))
def test_accessor_docs_cite_the_registry(accessor: str) -> None:
    doc = getattr(sipstatus.SipResponse, accessor).__doc__ or ""
    assert f"({SPECS[ACCESSORS[accessor]].section})" in doc


@pytest.mark.parametrize(("line", "rule"), [
    (b"RSeq: x1", "RSeq (RFC 3262 §7.1)"),
    (b"Event: ;", "Event (RFC 6665 §8.2.1)"),
    (b"o: ;", "o (RFC 6665 §8.2.1)"),
    (b"To: <", "To (RFC 3261 §20.39)"),
    (b"Min-Expires: x", "Min-Expires (RFC 3261 §20.23)"),
    (b"X-Custom: \x01", "extension-header (RFC 3261 §25.1)"),
])
def test_strict_errors_cite_the_registry(line: bytes, rule: str) -> None:
    data = (b"SIP/2.0 200 OK\r\nCall-ID: a@b\r\nCSeq: 1 INVITE\r\n" + line
            + b"\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(sipstatus.SipParseError) as caught:
        sipstatus.parse(data, strict=True)
    assert caught.value.rule == rule


def test_range_limits_come_from_the_registry() -> None:
    data = (b"SIP/2.0 200 OK\r\nCall-ID: a@b\r\nCSeq: 1 INVITE\r\nMin-Expires: 4294967296"
            b"\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(sipstatus.SipParseError) as caught:
        sipstatus.parse(data, strict=True)
    assert caught.value.rule == citation("Min-Expires")
    assert "above 2**32-1" in str(caught.value)
    defects = sipstatus.parse(data).defects
    assert defects == ("Min-Expires 4294967296 is above 2**32-1 (RFC 3261 §10.2.1.1) at line 4",)


def test_the_fuzzer_and_the_capture_reader_use_the_registrys_compact_forms() -> None:
    from sipstatus._fuzz import wire
    from sipstatus.capture._head import scan_head

    assert {k: v.lower() for k, v in COMPACT_FORMS.items()} == wire.COMPACT_FORMS
    head = scan_head(b"SIP/2.0 200 OK\r\ni: a@b\r\nCSeq: 1 INVITE\r\nv: SIP/2.0/UDP h;branch=z9"
                     b"\r\nf: <sip:a@b>;tag=1\r\nt: <sip:b@c>;tag=2\r\nl: 0\r\n\r\n")
    assert head is not None
    assert (head.call_id, head.via_branch, head.from_tag, head.to_tag) == ("a@b", "z9", "1", "2")


def test_the_leg_hints_are_read_from_the_registry() -> None:
    assert LEG_HINTS == {"session-id": "session-id", "p-charging-vector": "icid",
                         "x-cid": "call-id", "x-call-id": "call-id"}
