"""Extractors: each reads one header value, as lenient parsing accepts it, into its typed
value (``_values``). The typed accessors of a message call them (``_message``).

Values arrive decoded for people (``_base.people_text``). An extractor raises ValueError or
IndexError for a value that makes no sense at all; the accessor turns that into a
SipParseError placed by the grammar.
"""

from __future__ import annotations

import re

from sipstatus._base import slot_setter
from sipstatus._params import EMPTY_PARAMS, Params
from sipstatus._split import number, split_list, split_params, unquote
from sipstatus._values import (
    Challenge,
    ContactEntry,
    CSeq,
    MediaType,
    NameAddr,
    RAck,
    ReasonValue,
    RetryAfter,
    SessionExpires,
    TokenWithParams,
    Via,
    WarningValue,
    set_lazy_text,
)

_TOKEN = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")


_new = object.__new__


def name_addr(value: str) -> NameAddr:
    entry = _new(NameAddr)  # NameAddr(value.strip()) without the __init__ call
    set_lazy_text(entry, value.strip())
    return entry


def contact_list(value: str) -> tuple[ContactEntry, ...]:
    if value.strip() == "*":
        return (ContactEntry("*"),)
    return tuple(map(ContactEntry, split_list(value)))


def via_list(value: str) -> tuple[Via, ...]:
    return tuple(map(Via, split_list(value)))


# Numbers and simple values ------------------------------------------------------------------


set_cseq_seq = slot_setter(CSeq, "seq")
set_cseq_method = slot_setter(CSeq, "method")


def cseq(value: str) -> CSeq:
    seq, space, method = value.partition(" ")
    if not space or not seq.isdigit():  # LWS other than one SP, or no LWS at all
        seq, method = value.split(None, 1)
    result: CSeq = object.__new__(CSeq)
    set_cseq_seq(result, int(seq))
    set_cseq_method(result, method.strip())
    return result


def rack(value: str) -> RAck:
    rseq, seq, method = value.split(None, 2)
    return RAck(rseq=number(rseq), cseq=number(seq), method=method.strip())


def token_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def retry_after(value: str) -> RetryAfter:
    value = value.strip()
    digits = re.match(r"[0-9]+", value)
    if digits is None:
        raise ValueError("Retry-After must start with delta-seconds")
    index = digits.end()
    comment = None
    rest = value[index:].lstrip()
    if rest.startswith("("):
        end = _comment_end(rest)
        comment = rest[1:end].strip()
        rest = rest[end + 1 :]
    _, params = split_params(rest) if rest.strip() else ("", EMPTY_PARAMS)
    duration = params.get("duration")
    return RetryAfter(
        text=value,
        seconds=int(digits.group()),
        comment=comment,
        duration=number(duration) if duration is not None else None,
        params=params,
    )


def _comment_end(text: str) -> int:
    """Index of the ")" that closes the comment opened at text[0] (comments nest)."""
    depth = 0
    index = 0
    while True:
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
        index += 1


def challenge(value: str) -> Challenge:
    value = value.strip()
    scheme, rest = value.split(None, 1) if len(value.split(None, 1)) == 2 else (value, "")
    if not _TOKEN.fullmatch(scheme):
        raise ValueError("an auth-scheme is a token")
    pairs = []
    for item in split_list(rest):
        name, _, param = item.partition("=")
        pairs.append((name.strip(), unquote(param.strip())))
    return Challenge(text=value, scheme=scheme, params=Params(tuple(pairs)))


def warnings(value: str) -> tuple[WarningValue, ...]:
    result = []
    for item in split_list(value):
        code, agent, text = item.split(" ", 2)
        result.append(WarningValue(text=item, code=number(code), agent=agent,
                                   warn_text=unquote(text)))
    return tuple(result)


def reasons(value: str) -> tuple[ReasonValue, ...]:
    result = []
    for item in split_list(value):
        protocol, params = split_params(item)
        cause = params.get("cause")
        result.append(
            ReasonValue(
                text=item,
                protocol=protocol,
                cause=number(cause) if cause is not None else None,
                reason_text=params.get("text"),
                params=params,
            )
        )
    return tuple(result)


def media_type(value: str) -> MediaType:
    head, params = split_params(value)
    kind, _, subtype = head.partition("/")
    return MediaType(text=value.strip(), type=kind.strip(), subtype=subtype.strip(),
                     params=params)


def media_types(value: str) -> tuple[MediaType, ...]:
    return tuple(media_type(item) for item in split_list(value))


def tokens_with_params(value: str) -> tuple[TokenWithParams, ...]:
    result = []
    for item in split_list(value):
        head, params = split_params(item)
        result.append(TokenWithParams(text=item, value=head, params=params))
    return tuple(result)


def session_expires(value: str) -> SessionExpires:
    head, params = split_params(value)
    return SessionExpires(text=value.strip(), seconds=number(head),
                          refresher=params.get("refresher"), params=params)


def delta_with_params(value: str) -> int:
    head, _ = split_params(value)
    return number(head)
