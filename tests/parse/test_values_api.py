"""The value types of the public API: every one is immutable, SipParseError survives pickling
with all its fields, and Params implements the whole read-only mapping protocol (names
case-insensitive, first occurrence wins, duplicates kept in ``pairs()``)."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from typing import Any

import pytest

import sipstatus
from sipstatus import Params, SipParseError

RESPONSE = (
    b"SIP/2.0 503 Service Unavailable\r\n"
    b"Via: SIP/2.0/UDP h.example.com:5060;branch=z9hG4bK1;rport;received=192.0.2.9\r\n"
    b"Via: SIP/2.0/TCP p.example.com;branch=z9hG4bK2\r\n"
    b"From: \"Alice\" <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>;tag=2\r\n"
    b"Call-ID: c@h\r\nCSeq: 7 INVITE\r\n"
    b"Contact: <sip:bob@192.0.2.1>;q=0.5;expires=60\r\n"
    b"Record-Route: <sip:p.example.com;lr>\r\n"
    b"Retry-After: 30 (maintenance);duration=60\r\n"
    b"Content-Type: text/plain;charset=utf-8\r\nWarning: 399 h.example.com \"later\"\r\n"
    b"Reason: Q.850;cause=16;text=\"Normal\"\r\nSession-Expires: 90;refresher=uac\r\n"
    b"WWW-Authenticate: Digest realm=\"r\", nonce=\"n\", qop=\"auth\"\r\n"
    b"Event: presence;id=1\r\nRAck: 1 7 INVITE\r\nContent-Length: 2\r\n\r\nok"
)
REQUEST = b"OPTIONS sip:bob@example.com;transport=tcp SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n"


def _instances() -> list[object]:
    """One instance of every value type that the API hands out."""
    response = sipstatus.parse_response(RESPONSE)
    request = sipstatus.parse_request(REQUEST)
    unauthorized = sipstatus.classify(sipstatus.parse_response(
        b"SIP/2.0 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n"
        b"Content-Length: 0\r\n\r\n"))
    moved = sipstatus.classify(sipstatus.parse_response(
        b"SIP/2.0 302 Moved\r\nContact: <sip:c@example.com>;q=1\r\nContent-Length: 0\r\n\r\n"))
    assert response.to is not None and response.from_ is not None
    return [
        response, request, response.status_line, request.request_line,
        response.headers.fields[0], request.request_uri, response.to.uri,
        response.cseq, response.retry_after, response.content_type, response.warning[0],
        response.reason_header[0], response.session_expires, response.www_authenticate[0],
        response.event, response.rack,
        sipstatus.classify(response), sipstatus.classify(response).advice,
        sipstatus.lookup(503), sipstatus.backoff_window(owns_call_id=False),
        unauthorized.advice.challenges[0], moved.advice.targets[0],
        sipstatus.best_response([503, 486]), sipstatus.DEFAULT_LIMITS,
    ]


def _exported_dataclasses() -> set[type]:
    return {value for name in sipstatus.__all__
            if inspect.isclass(value := getattr(sipstatus, name))
            and dataclasses.is_dataclass(value)}


# -- immutability ---------------------------------------------------------------------------


def test_every_exported_dataclass_is_covered_below() -> None:
    assert {type(obj) for obj in _instances()} == _exported_dataclasses()


@pytest.mark.parametrize("obj", _instances(), ids=lambda o: type(o).__name__)
def test_dataclass_values_are_frozen(obj: Any) -> None:
    before = repr(obj)
    for field in dataclasses.fields(obj):
        value = getattr(obj, field.name)
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, field.name, value)
        with pytest.raises(dataclasses.FrozenInstanceError):
            delattr(obj, field.name)
    # A new attribute: AttributeError, or TypeError from CPython 3.11's frozen __setattr__ on
    # a slotted dataclass (its super() call names the class replaced by slots=True).
    with pytest.raises((AttributeError, TypeError)):
        obj.not_a_field = 1
    assert not hasattr(obj, "not_a_field")
    assert repr(obj) == before


def _lazy_values() -> list[Any]:
    response = sipstatus.parse_response(RESPONSE)
    return [response.via[0], response.via[1], response.to, response.from_,
            response.contact[0], response.record_route[0]]


@pytest.mark.parametrize("value", _lazy_values(), ids=lambda v: type(v).__name__)
@pytest.mark.parametrize("attribute", ["text", "params", "uri", "host", "tag", "anything"])
def test_lazy_values_refuse_every_attribute(value: Any, attribute: str) -> None:
    text = str(value)
    with pytest.raises(AttributeError, match=f"^{type(value).__name__} is immutable$"):
        setattr(value, attribute, "x")
    assert str(value) == value.text == text


def test_lazy_values_are_the_exported_types_and_stay_readable() -> None:
    via, second, to, from_, contact, route = _lazy_values()
    assert [type(v) for v in (via, to, contact)] == [sipstatus.Via, sipstatus.NameAddr,
                                                      sipstatus.ContactEntry]
    for value in (via, to, contact):
        with pytest.raises(AttributeError):
            value._parts = ()
    # Refused writes change nothing, before or after the value was split.
    assert (via.host, via.port, via.branch, via.rport, via.received) == (
        "h.example.com", 5060, "z9hG4bK1", "", "192.0.2.9")
    assert (second.transport, second.rport, second.maddr) == ("TCP", None, None)
    assert (to.tag, from_.display_name, contact.q, contact.expires) == ("2", "Alice", 0.5, 60)
    assert route.uri.params["lr"] is None


def test_lazy_values_refuse_deletion() -> None:
    via = _lazy_values()[0]
    with pytest.raises(AttributeError):
        del via.text


def test_messages_cannot_be_changed() -> None:
    response = sipstatus.parse_response(RESPONSE)
    for name, value in (("status_code", 200), ("reason", "OK"), ("body", b""),
                        ("headers", response.headers), ("version", "SIP/2.0")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(response, name, value)
    with pytest.raises((AttributeError, TypeError)):  # TypeError: see above
        response.via = ()  # a typed accessor, not a field
    assert len(response.via) == 2
    assert response.status_code == 503 and response.body == b"ok"


def test_headers_and_params_are_read_only_collections() -> None:
    response = sipstatus.parse_response(RESPONSE)
    headers, params = response.headers, response.via[0].params
    with pytest.raises(TypeError):
        headers[0] = ("Via", "x")  # type: ignore[index]
    with pytest.raises(TypeError):
        del headers[0]  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        headers.extra = 1  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        params["branch"] = "x"  # type: ignore[index]
    with pytest.raises(TypeError):
        del params["branch"]  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        params.extra = 1  # type: ignore[attr-defined]
    assert headers[0] == ("Via", "SIP/2.0/UDP h.example.com:5060;branch=z9hG4bK1;rport;"
                                 "received=192.0.2.9")
    assert params["branch"] == "z9hG4bK1"


# -- SipParseError and pickle -----------------------------------------------------------------


def _round_trips(error: SipParseError) -> list[SipParseError]:
    copies = [pickle.loads(pickle.dumps(error, protocol))
              for protocol in range(pickle.HIGHEST_PROTOCOL + 1)]
    return [*copies, copy.copy(error), copy.deepcopy(error)]


def test_a_parse_error_survives_pickling() -> None:
    with pytest.raises(SipParseError) as caught:
        sipstatus.parse(b"SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\nCSeq x\r\n\r\n", strict=True)
    error = caught.value
    assert (error.line, error.column) == (3, 1)
    for again in _round_trips(error):
        assert type(again) is SipParseError
        assert (again.message, again.offset, again.line, again.column, again.rule,
                again.expected) == (error.message, error.offset, error.line, error.column,
                                    error.rule, error.expected)
        assert str(again) == str(error) and again.args == error.args
        assert again.description == error.description


def test_every_field_survives_pickling() -> None:
    error = SipParseError("bad thing at line 4, column 7", offset=51, line=4, column=7,
                          rule="Via (RFC 3261 §20.42)", expected="a token")
    for again in _round_trips(error):
        assert (again.message, again.offset, again.line, again.column, again.rule,
                again.expected) == ("bad thing at line 4, column 7", 51, 4, 7,
                                    "Via (RFC 3261 §20.42)", "a token")
        assert again.description == "bad thing"
        assert isinstance(again, ValueError)


def test_lazy_values_survive_pickling() -> None:
    response = sipstatus.parse_response(RESPONSE)
    assert len(response.via) == 2
    assert pickle.loads(pickle.dumps(response.via[0])) == response.via[0]
    assert pickle.loads(pickle.dumps(response)) == response


# -- Params -----------------------------------------------------------------------------------

PAIRS = (("Branch", "z9hG4bK1"), ("rport", None), ("received", "192.0.2.9"),
         ("branch", "second"))


def test_params_look_up_names_in_any_case_first_occurrence_wins() -> None:
    params = Params(PAIRS)
    assert params["branch"] == params["BRANCH"] == params["Branch"] == "z9hG4bK1"
    assert params.get("RECEIVED") == "192.0.2.9"
    assert params["rport"] is None and "rport" in params and "RPort" in params
    assert params.get("rport", "default") is None  # present without a value
    assert params.get("ttl") is None
    assert params.get("ttl", "default") == "default"


def test_params_missing_name_is_a_key_error() -> None:
    with pytest.raises(KeyError) as caught:
        Params(PAIRS)["Maddr"]
    assert caught.value.args == ("Maddr",)


@pytest.mark.parametrize("key", [1, None, b"branch", ("branch",), 2.5])
def test_params_contains_only_str_names(key: object) -> None:
    assert key not in Params(PAIRS)


def test_params_iterate_in_wire_order_with_duplicates() -> None:
    params = Params(PAIRS)
    assert list(params) == ["Branch", "rport", "received", "branch"]
    assert list(params.keys()) == list(params)
    assert len(params) == 4
    assert params.pairs() == PAIRS  # every parameter as written, duplicates included


def test_params_items_and_values_without_duplicates() -> None:
    params = Params((("transport", "tcp"), ("lr", None), ("maddr", "192.0.2.1")))
    assert list(params.items()) == [("transport", "tcp"), ("lr", None),
                                    ("maddr", "192.0.2.1")]
    assert list(params.values()) == ["tcp", None, "192.0.2.1"]
    assert dict(params) == {"transport": "tcp", "lr": None, "maddr": "192.0.2.1"}
    assert ("lr", None) in params.items()
    assert repr(params) == "Params({'transport': 'tcp', 'lr': None, 'maddr': '192.0.2.1'})"


def test_params_values_follow_the_first_occurrence() -> None:
    # A look-up by name of a duplicated parameter gives its first value, in values() too.
    params = Params(PAIRS)
    assert list(params.values()) == ["z9hG4bK1", None, "192.0.2.9", "z9hG4bK1"]


def test_params_items_and_pairs_as_documented() -> None:
    # items() looks each name up (first occurrence wins); pairs() keeps every occurrence.
    params = Params(PAIRS)
    assert tuple(params.items()) == (("Branch", "z9hG4bK1"), ("rport", None),
                                     ("received", "192.0.2.9"), ("branch", "z9hG4bK1"))
    assert params.pairs() == PAIRS


def test_params_equality_and_hash() -> None:
    params = Params(PAIRS)
    same = Params(tuple(PAIRS))
    assert params == same and hash(params) == hash(same)
    assert len({params, same}) == 1
    assert params != Params(PAIRS[:3])  # the duplicate counts
    assert params != Params((PAIRS[1], PAIRS[0], *PAIRS[2:]))  # order counts
    assert Params((("a", "1"),)) != Params((("A", "1"),))  # as written
    assert Params((("lr", None), ("a", "1"))) == {"a": "1", "lr": None}  # as a mapping
    assert Params() == {} and Params() == Params()
    assert Params((("a", "1"),)) != [("a", "1")]


def test_empty_params() -> None:
    empty = Params()
    assert len(empty) == 0 and not empty and list(empty) == []
    assert "a" not in empty and empty.get("a") is None and empty.pairs() == ()
    assert repr(empty) == "Params({})"


def test_params_of_a_parsed_via() -> None:
    via = sipstatus.parse_response(RESPONSE).via[0]
    assert via.params.pairs() == (("branch", "z9hG4bK1"), ("rport", None),
                                  ("received", "192.0.2.9"))
    assert via.params == Params((("branch", "z9hG4bK1"), ("rport", None),
                                 ("received", "192.0.2.9")))
