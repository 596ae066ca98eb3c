"""The hypothesis strategies behind the public module ``sipstatus.strategies`` (which
re-exports :func:`status_lines`, :func:`responses`, :func:`requests`, :func:`malformed`,
:class:`Mutation` and :data:`MUTATION_LABELS`), and the private ones the fuzzer draws its cases
from (``sipstatus._fuzz.cases``): requests aimed at a target, answers to a peer's requests.

Messages are built by the typed builders of ``sipstatus._fuzz.build`` and broken by the
mutators of ``sipstatus._fuzz.mutations``; some slots also take text generated from the
grammar (:func:`_grammar_values`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable

try:
    from hypothesis import assume
    from hypothesis import strategies as st
    from hypothesis.errors import InvalidArgument
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "sipstatus.strategies needs hypothesis: pip install 'sipstatus[hypothesis]'"
    ) from exc

from sipstatus._fuzz import build as b
from sipstatus._fuzz.grammar_gen import accepted_by, grammar_text
from sipstatus._fuzz.model import Mutation
from sipstatus._fuzz.mutations import LABELS as LABELS
from sipstatus._fuzz.mutations import MUTATORS as MUTATORS
from sipstatus._fuzz.mutations import Mutator
from sipstatus._fuzz.wire import Wire
from sipstatus._registry import VALUE_RULES, header_key

#: Every label :func:`malformed` can give a :class:`Mutation` (docs/fuzzing.md explains each).
MUTATION_LABELS: tuple[str, ...] = LABELS


# --- grammar hook ------------------------------------------------------------------------------

#: Rules of RFC 3261 §25.1 that the builders ask :func:`_grammar_values` for.
GRAMMAR_SLOTS = ("Reason-Phrase", "callid", "display-name", "TEXT-UTF8-TRIM", "extension-header")


@functools.cache
def _grammar_values(rule: str) -> st.SearchStrategy[str]:
    """Text for the RFC 3261 §25.1 rule ``rule`` (one of :data:`GRAMMAR_SLOTS`), generated
    from the Lark grammar itself (``hypothesis.extra.lark.from_lark``, with the fixes for
    look-arounds and open-ended values in ``sipstatus._fuzz.grammar_gen``), printable ASCII
    only.

    Contract for each slot (what the builders splice the text into):

    * ``Reason-Phrase``: a status line's reason, no CR/LF, not starting or ending in whitespace;
    * ``callid``: a Call-ID value; ``display-name``: a From/To display name (token list or
      quoted-string); ``TEXT-UTF8-TRIM``: a Subject value;
    * ``extension-header``: one whole ``header-name HCOLON header-value`` field without CRLF,
      whose name is not one that sipstatus reads with its own rule.

    Every string is re-parsed with the grammar's LALR parser and dropped if the contextual
    lexer would read it differently from how it was generated.
    """
    return _GRAMMAR_SLOT_STRATEGIES[rule]()


def _grammar_reason_phrases() -> st.SearchStrategy[str]:
    return grammar_text("status_line", ascii_only=True).map(
        lambda line: line[:-2].split(" ", 2)[2]).filter(
        lambda reason: reason != "" and reason == reason.strip(" \t"))


def _grammar_display_names() -> st.SearchStrategy[str]:
    return grammar_text("display_name", ascii_only=True).map(
        lambda name: name.rstrip(" \t")).filter(
        lambda name: name != "" and accepted_by("name_addr_value", name + " <sip:a@b>"))


def _grammar_extension_headers() -> st.SearchStrategy[str]:
    def usable(field: str) -> bool:
        name = field.split(":", 1)[0].strip(" \t")
        return (header_key(name) not in VALUE_RULES and header_key(name) != "identity"
                and accepted_by("sip_head", f"SIP/2.0 200 OK\r\n{field}\r\n\r\n"))

    return grammar_text("extension_header", ascii_only=True).map(
        lambda field: field.rstrip(" \t")).filter(usable)


def _grammar_rule_text(start: str) -> Callable[[], st.SearchStrategy[str]]:
    def strategy() -> st.SearchStrategy[str]:
        return grammar_text(start, ascii_only=True).filter(
            lambda text: accepted_by(start, text))
    return strategy


_GRAMMAR_SLOT_STRATEGIES: dict[str, Callable[[], st.SearchStrategy[str]]] = {
    "Reason-Phrase": _grammar_reason_phrases,
    "callid": _grammar_rule_text("call_id_value"),
    "display-name": _grammar_display_names,
    "TEXT-UTF8-TRIM": _grammar_rule_text("text_value"),
    "extension-header": _grammar_extension_headers,
}


def _or_grammar(rule: str, fallback: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(fallback, _grammar_values(rule))


# --- small parts -------------------------------------------------------------------------------

ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
DOMAINS = (
    "example.com",
    "atlanta.example.com",
    "biloxi.example.com",
    "chicago.example.com",
    "sip.example.org",
    "pbx.example.net",
    "proxy1.example.net",
)
USERS = ("alice", "bob", "carol", "1001", "+15551234567", "voicemail", "conf-42", "j.doe")
USER_AGENTS = ("Linphone/5.2.0", "Asterisk PBX 20.5.0", "FreeSWITCH-mod_sofia/1.10.10",
               "kamailio (5.6.3 (x86_64/linux))", "Grandstream GXP2170 1.0.11.3",
               "PolycomVVX-VVX_411-UA/6.4.3.5018", "MicroSIP/3.21.3")
CODECS = ((0, "PCMU/8000"), (8, "PCMA/8000"), (9, "G722/8000"), (18, "G729/8000"),
          (96, "opus/48000/2"), (101, "telephone-event/8000"))


@functools.cache
def _tokens(alphabet: str = ALNUM, min_size: int = 1, max_size: int = 16) -> st.SearchStrategy[str]:
    return st.text(st.sampled_from(alphabet), min_size=min_size, max_size=max_size)


@functools.cache
def _ipv4() -> st.SearchStrategy[str]:
    # Documentation ranges only (RFC 5737).
    prefixes = st.sampled_from(("192.0.2.", "198.51.100.", "203.0.113."))
    return st.builds(lambda p, n: f"{p}{n}", prefixes, st.integers(1, 254))


@functools.cache
def _ipv6() -> st.SearchStrategy[str]:
    # Documentation prefix only (RFC 3849); the reference form of RFC 3261 §25.1 (brackets).
    return st.builds(lambda n: f"[2001:db8::{n:x}]", st.integers(1, 0xFFFF))


@functools.cache
def _hosts() -> st.SearchStrategy[str]:
    labels = _tokens("abcdefghijklmnopqrstuvwxyz0123456789", 1, 12)
    generated = st.builds(lambda a: f"{a}.example.com", labels)
    return st.one_of(st.sampled_from(DOMAINS), _ipv4(), _ipv6(), generated)


@functools.cache
def _ports() -> st.SearchStrategy[int | None]:
    return st.one_of(st.none(), st.just(5060), st.integers(1024, 65535))


@functools.cache
def _users() -> st.SearchStrategy[str]:
    digits = st.builds(lambda d: "+" + d, _tokens("0123456789", 6, 15))
    return st.one_of(st.sampled_from(USERS), _tokens(ALNUM + "-_.", 1, 16), digits)


@functools.cache
def _display_names() -> st.SearchStrategy[str | None]:
    words = _tokens(ALNUM, 1, 10)
    token_list = st.lists(words, min_size=1, max_size=3).map(" ".join)
    quoted_text = st.text(
        st.sampled_from(ALNUM + " .,-'()éüßЖ中"), min_size=0, max_size=24
    ).map(lambda t: '"' + t + '"')
    escaped = st.builds(lambda a, c: f'"{a} \\{c} x"', words, st.sampled_from('"\\'))
    return st.one_of(st.none(), token_list, quoted_text, escaped,
                     _or_grammar("display-name", st.nothing()))


@functools.cache
def _tags() -> st.SearchStrategy[str]:
    return _tokens(ALNUM + "-.", 4, 24)


@functools.cache
def _branches() -> st.SearchStrategy[str]:
    # RFC 3261 §8.1.1.7: the magic cookie, then anything unique.
    return _tokens(ALNUM + "-.", 1, 24).map(lambda t: "z9hG4bK" + t)


@st.composite
def _call_ids(draw: st.DrawFn, host: str) -> str:
    if draw(_CALL_ID_FORM) == 0:
        return draw(_or_grammar("callid", _CALL_ID_WORDS))
    return f"{draw(_CALL_ID_WORDS)}@{host}"


_CALL_ID_WORDS = st.text(st.sampled_from(ALNUM + "-.!_+~"), min_size=6, max_size=32)
_CALL_ID_FORM = st.integers(0, 2)


@functools.cache
def _cseqs() -> st.SearchStrategy[int]:
    # RFC 3261 §8.1.1.5: less than 2**31.
    return st.one_of(st.integers(1, 100), st.integers(1, 2**31 - 1))


@functools.cache
def _reasons(code: int) -> st.SearchStrategy[str]:
    # Reason-Phrase = *(reserved / unreserved / escaped / UTF8-NONASCII / UTF8-CONT / SP / HTAB)
    chars = ALNUM + "-_.!~*'();/?:@&=+$, " + "éüßЖ中"
    free = st.text(st.sampled_from(chars), min_size=1, max_size=32).map(str.strip)
    return st.one_of(
        st.just(b.default_reason(code)),
        st.just(b.default_reason(code)),
        st.just(""),
        free,
        _or_grammar("Reason-Phrase", st.nothing()),
    )


@functools.cache
def _texts() -> st.SearchStrategy[str]:
    words = st.text(st.sampled_from(ALNUM + ".,!?'-éü中"), min_size=1, max_size=10)
    fallback = st.lists(words, min_size=1, max_size=6).map(" ".join)
    return _or_grammar("TEXT-UTF8-TRIM", fallback)


def _codes(codes: Iterable[int] | st.SearchStrategy[int] | None) -> st.SearchStrategy[int]:
    if codes is None:
        return st.one_of(st.sampled_from(sorted(b.REASONS)), st.integers(100, 699))
    if isinstance(codes, st.SearchStrategy):
        return codes
    chosen = tuple(codes)
    if not chosen:
        raise InvalidArgument("codes must name at least one status code")
    for code in chosen:
        if not isinstance(code, int) or not 100 <= code <= 699:
            raise InvalidArgument(f"status codes are 100-699 (RFC 3261 §7.2), got {code!r}")
    return st.sampled_from(chosen)


def methods_strategy(methods: Iterable[str] | None) -> st.SearchStrategy[str]:
    if methods is None:
        return st.sampled_from(b.METHODS)
    chosen = tuple(methods)
    if not chosen:
        raise InvalidArgument("methods must name at least one method")
    for method in chosen:
        if not isinstance(method, str) or not method or not all(
            c in ALNUM + "-.!%*_+`'~" for c in method
        ):
            raise InvalidArgument(f"a method is an RFC 3261 token, got {method!r}")
    return st.sampled_from(chosen)


@st.composite
def _styles(draw: st.DrawFn) -> b.Style:
    if draw(st.integers(0, 3)) != 0:
        return b.Style(combine_via=draw(st.booleans()))
    fold = draw(st.frozensets(st.sampled_from(("via", "from", "to", "subject", "contact")),
                              max_size=2))
    return b.Style(
        compact=draw(st.booleans()),
        colon=draw(st.sampled_from((": ", ":", " : ", ":\t", ":  "))),
        fold=fold,
        fold_ws=draw(st.sampled_from((" ", "\t", "   "))),
        combine_via=draw(st.booleans()),
    )


# --- bodies ------------------------------------------------------------------------------------


@st.composite
def _sdps(draw: st.DrawFn, address: str | None = None) -> b.Body:
    if address is None:
        address = draw(st.one_of(_ipv4(), _ipv6())).strip("[]")
    audio = b.Media(
        "audio",
        draw(st.integers(512, 32767)) * 2,
        tuple(draw(st.lists(st.sampled_from(CODECS), min_size=1, max_size=4, unique=True))),
        draw(st.sampled_from(("sendrecv", "sendonly", "recvonly", "inactive"))),
    )
    media: tuple[b.Media, ...] = (audio,)
    if draw(st.integers(0, 4)) == 0:
        media += (b.Media("video", draw(st.integers(512, 32767)) * 2, ((97, "H264/90000"),)),)
    sdp = b.Sdp(
        session_id=draw(st.integers(0, 2**32 - 1)),
        version=draw(st.integers(0, 2**16)),
        address=address,
        media=media,
        session_name=draw(st.sampled_from(("-", "call", "SIP Call"))),
        ptime=draw(st.sampled_from((None, 20, 30))),
    )
    return b.sdp_body(sdp)


@st.composite
def _offer_bodies(draw: st.DrawFn) -> b.Body | None:
    """INVITE/UPDATE/2xx/183 body: SDP mostly, sometimes none, sometimes multipart/mixed."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return None
    sdp = draw(_sdps())
    if kind == 1:
        boundary = draw(_tokens(ALNUM + "'+_-.", 1, 40))
        extra = b.text_body(draw(_texts()))
        return b.multipart_body(boundary, (sdp, extra))
    return sdp


# --- requests ----------------------------------------------------------------------------------


@st.composite
def _transactions(
    draw: st.DrawFn,
    method: str,
    local: b.Endpoint | None = None,
    remote: b.Endpoint | None = None,
) -> b.Transaction:
    caller_host = local.host_ref if local is not None else draw(_hosts())
    callee_host = remote.host_ref if remote is not None else draw(_hosts())
    callee_port = remote.port if remote is not None else draw(_ports())
    caller = draw(_users())
    callee = draw(_users())
    if local is not None:
        top = b.ViaHop(local.transport, local.host_ref, local.port, draw(_branches()), rport=True)
    else:
        top = b.ViaHop(
            draw(st.sampled_from(("UDP", "UDP", "TCP", "TLS", "SCTP", "WS"))),
            draw(st.one_of(_hosts(), _ipv4())),
            draw(_ports()),
            draw(_branches()),
            rport=draw(st.booleans()),
        )
    below = tuple(
        b.ViaHop("UDP", host, port, branch, received=received)
        for host, port, branch, received in draw(
            st.lists(
                st.tuples(_hosts(), _ports(), _branches(), st.one_of(st.none(), _ipv4())),
                max_size=2,
            )
        )
    )
    from_uri = b.SipUri(caller_host, caller)
    to_uri = b.SipUri(callee_host, callee)
    if method == "REGISTER":
        from_uri = to_uri = b.SipUri(callee_host, caller)
        request_uri = b.SipUri(callee_host, None, callee_port).render()
    else:
        params: tuple[tuple[str, str | None], ...] = ()
        if draw(st.integers(0, 5)) == 0:
            params = (("transport", draw(st.sampled_from(("udp", "tcp", "tls")))),)
        request_uri = b.SipUri(callee_host, callee, callee_port, params=params).render()
    from_ = b.Address(from_uri, draw(_display_names()), (("tag", draw(_tags())),),
                      brackets=draw(st.integers(0, 4)) != 0)
    in_dialog = method in b.IN_DIALOG or (
        method in ("INVITE", "SUBSCRIBE", "REFER", "MESSAGE", "OPTIONS")
        and draw(st.integers(0, 4)) == 0
    )
    to_params = (("tag", draw(_tags())),) if in_dialog else ()
    to = b.Address(to_uri, draw(_display_names()), to_params,
                   brackets=draw(st.integers(0, 4)) != 0)
    contact = None
    if method in ("INVITE", "SUBSCRIBE", "REFER", "NOTIFY", "UPDATE", "REGISTER") or draw(
        st.integers(0, 5)
    ) == 0:
        contact_port = local.port if local is not None else draw(_ports())
        transport = () if local is None else (("transport", local.transport.lower()),)
        contact = b.Address(b.SipUri(caller_host, caller, contact_port, params=transport))
    route = tuple(
        b.Address(b.SipUri(host, None, None, params=(("lr", None),)))
        for host in draw(st.lists(_hosts(), max_size=2))
    )
    return b.Transaction(
        method=method,
        request_uri=request_uri,
        vias=(top, *below),
        from_=from_,
        to=to,
        call_id=draw(_call_ids(caller_host.strip("[]"))),
        cseq=draw(_cseqs()),
        max_forwards=draw(st.one_of(st.just(70), st.integers(1, 255))),
        contact=contact,
        route=route,
        record_route=tuple(
            b.Address(b.SipUri(host, None, None, params=(("lr", None),)))
            for host in draw(st.lists(_hosts(), max_size=2))
        ),
    )


OPTIONAL_HEADERS = ("User-Agent", "Allow", "Supported", "Subject", "Date", "Timestamp",
                    "Organization", "P-Asserted-Identity", "X-Extension", "Accept")


@st.composite
def _optional_headers(draw: st.DrawFn, names: tuple[str, ...]) -> tuple[b.Header, ...]:
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=4))
    out: list[b.Header] = []
    for name in chosen:
        if name in ("User-Agent", "Server"):
            value = draw(st.sampled_from(USER_AGENTS))
        elif name == "Allow":
            value = ", ".join(draw(st.lists(st.sampled_from(b.METHODS), min_size=1,
                                            max_size=len(b.METHODS), unique=True)))
        elif name == "Supported":
            value = ", ".join(draw(st.lists(
                st.sampled_from(("timer", "100rel", "replaces", "path", "outbound", "gruu")),
                max_size=3, unique=True)))
        elif name == "Subject" or name == "Organization":
            value = draw(_texts())
        elif name == "Date":
            value = b.sip_date(draw(st.integers(0, 6)), draw(st.integers(1, 28)),
                               draw(st.integers(0, 11)), draw(st.integers(2000, 2038)),
                               draw(st.integers(0, 86399)))
        elif name == "Timestamp":
            value = f"{draw(st.integers(0, 10**6))}.{draw(st.integers(0, 999)):03d}"
        elif name == "P-Asserted-Identity":
            value = f"<sip:{draw(_users())}@{draw(st.sampled_from(DOMAINS))}>"
        elif name == "Accept":
            value = draw(st.sampled_from(("application/sdp", "application/sdp, text/plain",
                                          "application/pidf+xml", "*/*")))
        else:
            if draw(st.booleans()):
                line = draw(_grammar_values("extension-header"))
                header_name, _, value = line.partition(":")
                out.append(b.Header(header_name.strip(), value.strip()))
                continue
            name = "X-" + draw(_tokens(ALNUM + "-", 1, 12))
            value = draw(_tokens(ALNUM + "-_.;=", 0, 24))
        out.append(b.Header(name, value))
    return tuple(out)


@st.composite
def _request_parts(
    draw: st.DrawFn, tx: b.Transaction
) -> tuple[tuple[b.Header, ...], b.Body | None]:
    """Method-specific headers and body (RFC 3261, 3262, 3265/6665, 3311, 3428, 3515, 3903,
    6086)."""
    method = tx.method
    extra: list[b.Header] = []
    body: b.Body | None = None
    if method in ("INVITE", "UPDATE"):
        body = draw(_offer_bodies())
        if draw(st.booleans()):
            interval = draw(st.integers(90, 7200))
            extra.append(b.Header("Session-Expires", f"{interval};refresher=uac"))
    elif method == "REGISTER":
        expires = draw(st.integers(0, 7200))
        extra.append(b.Header("Expires", str(expires)))
    elif method in ("SUBSCRIBE", "PUBLISH", "NOTIFY"):
        event = draw(st.sampled_from(("presence", "dialog", "message-summary", "refer")))
        extra.append(b.Header("Event", event))
        if method != "NOTIFY":
            extra.append(b.Header("Expires", str(draw(st.integers(0, 7200)))))
        if method == "NOTIFY":
            state = draw(st.sampled_from(("active;expires=3600", "pending",
                                          "terminated;reason=timeout")))
            extra.append(b.Header("Subscription-State", state))
        if method != "SUBSCRIBE":
            entity = f"sip:{draw(_users())}@{draw(st.sampled_from(DOMAINS))}"
            body = {
                "presence": b.pidf_body(entity, draw(st.sampled_from(("open", "closed")))),
                "dialog": None,
                "message-summary": b.message_summary_body(
                    draw(st.booleans()), draw(st.integers(0, 99)), draw(st.integers(0, 99))
                ),
                "refer": b.sipfrag_body(draw(st.sampled_from((100, 180, 200, 486, 503)))),
            }[event]
    elif method == "INFO":
        extra.append(b.Header("Info-Package", "dtmf"))
        body = b.dtmf_body(draw(st.sampled_from("0123456789*#")), draw(st.integers(40, 2000)))
    elif method == "REFER":
        target = b.SipUri(draw(_hosts()), draw(_users()))
        extra.append(b.Header("Refer-To", f"<{target.render()}>"))
    elif method == "MESSAGE":
        body = b.text_body(draw(_texts()))
    elif method == "PRACK":
        extra.append(b.Header("RAck", f"{draw(st.integers(1, 2**31 - 1))} {tx.cseq} INVITE"))
    elif method == "OPTIONS" and draw(st.booleans()):
        extra.append(b.Header("Accept", "application/sdp"))
    extra.extend(draw(_optional_headers(OPTIONAL_HEADERS)))
    return tuple(extra), body


def request_parts(tx: b.Transaction) -> st.SearchStrategy[tuple[tuple[b.Header, ...],
                                                             b.Body | None]]:
    """Method-specific headers and body for the request ``tx`` (the fuzzer's scenarios draw
    the fuzzed step's request with it)."""
    return _request_parts(tx)


@st.composite
def request_bytes(
    draw: st.DrawFn,
    methods: st.SearchStrategy[str],
    local: b.Endpoint | None = None,
    remote: b.Endpoint | None = None,
) -> bytes:
    method = draw(methods)
    tx = draw(_transactions(method, local, remote))
    extra, body = draw(_request_parts(tx))
    return bytes(b.request(tx, extra, body, draw(_styles())))


def requests(methods: Iterable[str] | None = None) -> st.SearchStrategy[bytes]:
    """Well-formed SIP requests as wire bytes (RFC 3261 §7.1, §8.1.1).

    ``methods`` limits the methods (default: the 14 of RFC 3261 and its extensions, INVITE to
    UPDATE). Every request has the six headers §8.1.1 requires and a correct Content-Length;
    INVITE and UPDATE mostly carry an SDP offer, MESSAGE text, INFO dtmf-relay, NOTIFY and
    PUBLISH their event's document; in-dialog methods carry a To tag.
    """
    return request_bytes(methods_strategy(methods))


# --- responses ---------------------------------------------------------------------------------


@st.composite
def _response_parts(
    draw: st.DrawFn, method: str, code: int, contact_host: str
) -> tuple[tuple[b.Header, ...], b.Body | None]:
    """Headers and body a response of ``code`` to ``method`` carries (RFC 3261 §20, §21)."""
    extra: list[b.Header] = []
    body: b.Body | None = None
    contact = b.Address(b.SipUri(contact_host, draw(_users()), draw(_ports()))).render()
    dialog = method in ("INVITE", "SUBSCRIBE", "REFER")
    if 101 <= code < 300 and dialog:
        extra.append(b.Header("Contact", contact))
    if method == "INVITE" and (code == 183 or 200 <= code < 300):
        body = draw(_offer_bodies()) if code < 200 or draw(st.integers(0, 9)) else None
    if method == "INVITE" and code in (180, 183) and draw(st.booleans()):
        rseq = draw(st.integers(1, 2**31 - 1))
        extra += [b.Header("Require", "100rel"), b.Header("RSeq", str(rseq))]
    if 200 <= code < 300:
        if method == "REGISTER":
            expires = draw(st.integers(0, 7200))
            extra.append(b.Header("Contact", f"{contact};expires={expires}"))
        elif method == "SUBSCRIBE":
            extra.append(b.Header("Expires", str(draw(st.integers(0, 7200)))))
        elif method == "PUBLISH":
            extra += [b.Header("SIP-ETag", draw(_tags())),
                      b.Header("Expires", str(draw(st.integers(1, 7200))))]
        elif method == "OPTIONS":
            extra.append(b.Header("Allow", ", ".join(b.METHODS)))
            extra.append(b.Header("Accept", "application/sdp"))
    elif 300 <= code < 400:
        contacts = draw(st.lists(st.tuples(_users(), _hosts()), min_size=1, max_size=3))
        extra.extend(b.Header("Contact", f"<sip:{u}@{h}>") for u, h in contacts)
    elif code in (401, 407):
        challenge = b.Challenge(
            realm=draw(st.sampled_from(DOMAINS)),
            nonce=draw(_tokens(ALNUM, 8, 32)),
            algorithm=draw(st.sampled_from(("MD5", "SHA-256"))),
            qop=draw(st.sampled_from(("auth", None, "auth,auth-int"))),
            stale=draw(st.booleans()),
        )
        name = "WWW-Authenticate" if code == 401 else "Proxy-Authenticate"
        extra.append(b.Header(name, challenge.render()))
    elif code == 405:
        extra.append(b.Header("Allow", ", ".join(b.METHODS[:6])))
    elif code == 415:
        extra.append(b.Header("Accept", "application/sdp"))
    elif code == 420:
        extra.append(b.Header("Unsupported", draw(st.sampled_from(("foo", "100rel", "timer")))))
    elif code == 421:
        extra.append(b.Header("Require", "100rel"))
    elif code == 422:
        extra.append(b.Header("Min-SE", str(draw(st.integers(90, 1800)))))
    elif code == 423:
        extra.append(b.Header("Min-Expires", str(draw(st.integers(60, 3600)))))
    if code in (404, 413, 480, 486, 500, 503, 600, 603) and draw(st.booleans()):
        # RFC 3261 §20.33
        value = str(draw(st.integers(0, 86400)))
        value += draw(st.sampled_from(("", " (in a meeting)", ";duration=3600")))
        extra.append(b.Header("Retry-After", value))
    if code >= 300 and draw(st.integers(0, 3)) == 0:
        text = draw(_tokens(ALNUM + " ", 1, 30)).strip() or "x"
        agent = draw(st.sampled_from(DOMAINS))
        warn_code = draw(st.sampled_from((301, 370, 399)))
        extra.append(b.Header("Warning", f'{warn_code} {agent} "{text}"'))
    if code >= 400 and draw(st.integers(0, 4)) == 0:
        extra.append(b.Header("Reason", f'Q.850;cause={draw(st.integers(1, 127))};text="x"'))
    extra.extend(draw(_optional_headers(("Server", "Allow", "Supported", "Date", "X-Extension"))))
    return tuple(extra), body


@st.composite
def _response_bytes(
    draw: st.DrawFn, codes: st.SearchStrategy[int], methods: st.SearchStrategy[str]
) -> bytes:
    method = draw(methods)
    code = draw(codes)
    tx = draw(_transactions(method))
    extra, body = draw(_response_parts(method, code, tx.to.uri.host))
    to_tag = None if code == 100 else draw(_tags())
    reason = draw(_reasons(code))
    return bytes(b.response(tx, code, reason, to_tag, extra, body, draw(_styles())))


def responses(
    codes: Iterable[int] | st.SearchStrategy[int] | None = None,
    methods: Iterable[str] | None = None,
) -> st.SearchStrategy[bytes]:
    """Well-formed SIP responses as wire bytes (RFC 3261 §7.2, §8.2.6).

    ``codes``: the status codes to use (an iterable of ints in 100-699, or a strategy);
    default: every registered code plus any 100-699, so all six classes appear.
    ``methods``: the method of the request answered (CSeq), default all 14.
    Each response copies Via, From, Call-ID, CSeq of a generated request and tags To (except
    100); 3xx carry Contact, 401/407 a challenge, 2xx/183 to INVITE mostly an SDP answer, ...
    """
    return _response_bytes(_codes(codes), methods_strategy(methods))


def status_lines(codes: Iterable[int] | st.SearchStrategy[int] | None = None) -> (
    st.SearchStrategy[bytes]
):
    """``SIP/2.0 <code> <reason>\\r\\n`` (RFC 3261 §7.2): registered or unregistered codes in
    100-699, registered, empty, free-text or non-ASCII UTF-8 reason phrases."""
    return _codes(codes).flatmap(
        lambda code: _reasons(code).map(lambda r: f"SIP/2.0 {code} {r}\r\n".encode())
    )


@st.composite
def answers(draw: st.DrawFn, request: bytes, local: b.Endpoint) -> bytes:
    """A well-formed response to a request a peer sent us (the fuzzer's ``--answer`` mode)."""
    wire = Wire.split(request)
    method = wire.method or "INVITE"
    code = draw(st.sampled_from((100, 180, 183, 200)) if draw(st.booleans()) else _codes(None))
    extra, body = draw(_response_parts(method, code, local.host_ref))
    to_tag = None if code == 100 else draw(_tags())
    return b.echo_response(wire, code, draw(_reasons(code)), to_tag, extra, body, draw(_styles()))


# --- mutations ---------------------------------------------------------------------------------


@st.composite
def _mutations(draw: st.DrawFn, base: st.SearchStrategy[bytes],
               mutators: tuple[tuple[str, Mutator], ...]) -> Mutation:
    original = draw(base)
    label, mutator = draw(st.sampled_from(mutators))
    data = mutator(draw, Wire.split(original))
    assume(data != original)
    return Mutation(data, label, original)


def malformed(base: st.SearchStrategy[bytes] | None = None, *,
              labels: Collection[str] | None = None) -> st.SearchStrategy[Mutation]:
    """Messages broken in one of the ways that have broken real SIP stacks.

    ``base`` is a strategy of well-formed messages to break (default: a mix of
    :func:`requests` and :func:`responses`). Each :class:`Mutation` holds the broken ``data``,
    the ``label`` of its bug class (:data:`MUTATION_LABELS`: over-long values, Content-Length
    missing/negative/too large/too small/duplicated/conflicting/garbage, missing or doubled
    CRLF, bare CR or LF, NUL, control characters, invalid UTF-8, overflowing and negative
    numbers, missing/duplicated/empty headers, thousands of Via headers, unbalanced quotes and
    angle brackets, bad IPv6 references, bad URIs and Vias, truncation, wrong multipart
    boundaries, ...) and the ``original``. Cases stay under 60,000 bytes (one UDP datagram).

    ``labels``: break messages only in these ways (default: every one); InvalidArgument names
    the labels that are not in :data:`MUTATION_LABELS`.
    """
    mutators = MUTATORS
    if labels is not None:
        unknown = sorted(set(labels) - set(MUTATION_LABELS))
        if unknown or not labels:
            raise InvalidArgument(
                f"not mutation labels: {', '.join(unknown) or '(none given)'}")
        mutators = tuple((label, mutator) for label, mutator in MUTATORS if label in labels)
    return _mutations(st.one_of(requests(), responses()) if base is None else base, mutators)
