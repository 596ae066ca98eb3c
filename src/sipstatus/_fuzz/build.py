"""Typed builders for realistic SIP messages (RFC 3261), the ground that the strategies draw on.

There is no randomness here. Every choice a message can vary in is a field of a frozen
dataclass, so ``sipstatus.strategies`` draws the fields with hypothesis (and shrinking works on
them), and these builders turn the fields into wire bytes that are valid by construction:

* requests carry the six headers RFC 3261 §8.1.1 requires, responses the five that
  §8.2.6.2 copies, and a correct Content-Length (§20.14) on every message;
* Via, From, To, Call-ID and CSeq of a response are those of the request (§8.2.6.2), the To tag
  is added to every response but 100 (§8.2.6.2), CSeq names the request's method (§8.1.1.5);
* bodies are SDP (RFC 4566) where an offer or answer belongs, and the other common types
  (pidf+xml, sipfrag, dtmf-relay, text/plain, multipart/mixed) where the method calls for them.

Everything a builder writes stays inside the RFC 3261 §25.1 ABNF: for example a Reason-Phrase
never holds ``"`` or a bare ``%``, and folding (LWS, §7.3.1) is only put right after the colon,
where ``HCOLON = *( SP / HTAB ) ":" SWS`` allows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sipstatus._fuzz.wire import COMPACT_OF, Wire

# Reason phrases of the registered codes (RFC 3261 §21 and the RFCs cited; IANA SIP parameters).
REASONS: dict[int, str] = {
    100: "Trying",
    180: "Ringing",
    181: "Call Is Being Forwarded",
    182: "Queued",
    183: "Session Progress",
    199: "Early Dialog Terminated",  # RFC 6228
    200: "OK",
    202: "Accepted",  # RFC 6665
    204: "No Notification",  # RFC 5839
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Moved Temporarily",
    305: "Use Proxy",
    380: "Alternative Service",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    410: "Gone",
    412: "Conditional Request Failed",  # RFC 3903
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    415: "Unsupported Media Type",
    416: "Unsupported URI Scheme",
    417: "Unknown Resource-Priority",  # RFC 4412
    420: "Bad Extension",
    421: "Extension Required",
    422: "Session Interval Too Small",  # RFC 4028
    423: "Interval Too Brief",
    428: "Use Identity Header",  # RFC 8224
    429: "Provide Referrer Identity",  # RFC 3892
    430: "Flow Failed",  # RFC 5626
    433: "Anonymity Disallowed",  # RFC 5079
    436: "Bad Identity Info",  # RFC 8224
    437: "Unsupported Credential",  # RFC 8224
    438: "Invalid Identity Header",  # RFC 8224
    439: "First Hop Lacks Outbound Support",  # RFC 5626
    440: "Max-Breadth Exceeded",  # RFC 5393
    469: "Bad Info Package",  # RFC 6086
    470: "Consent Needed",  # RFC 5360
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    482: "Loop Detected",
    483: "Too Many Hops",
    484: "Address Incomplete",
    485: "Ambiguous",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    489: "Bad Event",  # RFC 6665
    491: "Request Pending",
    493: "Undecipherable",
    494: "Security Agreement Required",  # RFC 3329
    500: "Server Internal Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Server Time-out",
    505: "Version Not Supported",
    513: "Message Too Large",
    555: "Push Notification Service Not Supported",  # RFC 8599
    580: "Precondition Failure",  # RFC 3312
    600: "Busy Everywhere",
    603: "Decline",
    604: "Does Not Exist Anywhere",
    606: "Not Acceptable",
    607: "Unwanted",  # RFC 8197
    608: "Rejected",  # RFC 8688
}

# RFC 3261 §8.1.1.5 and the method-defining RFCs.
METHODS: tuple[str, ...] = (
    "INVITE",
    "ACK",
    "BYE",
    "CANCEL",
    "REGISTER",
    "OPTIONS",
    "PRACK",  # RFC 3262
    "SUBSCRIBE",  # RFC 6665
    "NOTIFY",  # RFC 6665
    "PUBLISH",  # RFC 3903
    "INFO",  # RFC 6086
    "REFER",  # RFC 3515
    "MESSAGE",  # RFC 3428
    "UPDATE",  # RFC 3311
)

# Requests sent inside a dialog carry a To tag (RFC 3261 §12.2.1.1).
IN_DIALOG: frozenset[str] = frozenset({"ACK", "BYE", "PRACK", "INFO", "UPDATE", "NOTIFY"})


def default_reason(code: int) -> str:
    """The registered phrase, else the phrase of the class's x00 (RFC 3261 §21)."""
    return REASONS.get(code) or REASONS[code // 100 * 100]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a message comes from or goes to: transport and an IP literal (no brackets)."""

    transport: str
    host: str
    port: int

    @property
    def host_ref(self) -> str:
        """The host as written in a URI or Via (RFC 3261 §25.1 IPv6reference: brackets)."""
        return f"[{self.host}]" if ":" in self.host else self.host


@dataclass(frozen=True, slots=True)
class Header:
    """One header field. ``value`` is written as is (already rendered)."""

    name: str
    value: str

    def render(self, style: Style) -> bytes:
        lower = self.name.lower()
        name = COMPACT_OF.get(lower, self.name) if style.compact else self.name
        if lower in style.fold and self.value:
            # RFC 3261 §7.3.1: LWS = [*WSP CRLF] 1*WSP; HCOLON ends in SWS, so a fold right
            # after the colon is allowed for every header.
            return f"{name}:\r\n{style.fold_ws}{self.value}\r\n".encode()
        return f"{name}{style.colon}{self.value}\r\n".encode()


@dataclass(frozen=True, slots=True)
class Style:
    """How a message is written, independently of what it says (RFC 3261 §7.3.1, §7.3.3)."""

    compact: bool = False
    colon: str = ": "
    fold: frozenset[str] = frozenset()
    fold_ws: str = " "
    combine_via: bool = False


@dataclass(frozen=True, slots=True)
class SipUri:
    """``sip:``/``sips:`` URI (RFC 3261 §19.1.1). ``host`` holds IPv6 references in brackets."""

    host: str
    user: str | None = None
    port: int | None = None
    scheme: str = "sip"
    params: tuple[tuple[str, str | None], ...] = ()

    def render(self) -> str:
        userinfo = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.scheme}:{userinfo}{self.host}{port}{render_params(self.params)}"


def render_params(params: tuple[tuple[str, str | None], ...]) -> str:
    return "".join(f";{name}" if value is None else f";{name}={value}" for name, value in params)


@dataclass(frozen=True, slots=True)
class Address:
    """name-addr or addr-spec (RFC 3261 §20.10, §20.20, §20.39) with header parameters.

    ``display`` is the display name as written (a token sequence or a quoted-string).
    Angle brackets are always written when there is a display name or when the URI has
    parameters, so that URI parameters never read as header parameters (§20.10).
    """

    uri: SipUri
    display: str | None = None
    params: tuple[tuple[str, str | None], ...] = ()
    brackets: bool = True

    @property
    def tag(self) -> str | None:
        for name, value in self.params:
            if name == "tag":
                return value
        return None

    def with_tag(self, tag: str) -> Address:
        return Address(self.uri, self.display, (*self.params, ("tag", tag)), self.brackets)

    def render(self) -> str:
        bare = not self.brackets and self.display is None and not self.uri.params
        if bare:
            return self.uri.render() + render_params(self.params)
        display = f"{self.display} " if self.display is not None else ""
        return f"{display}<{self.uri.render()}>{render_params(self.params)}"


@dataclass(frozen=True, slots=True)
class ViaHop:
    """One via-parm (RFC 3261 §20.42): ``SIP/2.0/<transport> host[:port];branch=...``."""

    transport: str
    host: str
    port: int | None
    branch: str
    rport: bool = False
    received: str | None = None

    def render(self) -> str:
        port = f":{self.port}" if self.port is not None else ""
        out = f"SIP/2.0/{self.transport} {self.host}{port};branch={self.branch}"
        if self.rport:
            out += ";rport"
        if self.received is not None:
            out += f";received={self.received}"
        return out


@dataclass(frozen=True, slots=True)
class Body:
    """A message body and the headers that describe it (RFC 3261 §7.4, §20.15)."""

    content_type: str
    data: bytes
    disposition: str | None = None
    mime_version: bool = False


@dataclass(frozen=True, slots=True)
class Transaction:
    """What a request and every response to it share (RFC 3261 §8.1.1, §8.2.6.2)."""

    method: str
    request_uri: str
    vias: tuple[ViaHop, ...]
    from_: Address
    to: Address
    call_id: str
    cseq: int
    max_forwards: int = 70
    contact: Address | None = None
    route: tuple[Address, ...] = ()
    record_route: tuple[Address, ...] = ()


@dataclass(frozen=True, slots=True)
class Answer(Transaction):
    """The transaction of a request a peer sent us, at a scenario step whose message is the
    response to it: ``request`` as received (the response echoes its Via, From, To, Call-ID
    and CSeq byte for byte, §8.2.6.2), ``local`` where the response comes from."""

    request: bytes = b""
    local: Endpoint | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """A start line, header fields and a body; ``bytes()`` writes Content-Length itself."""

    start_line: str
    headers: tuple[Header, ...]
    body: Body | None = None
    style: Style = Style()

    def __bytes__(self) -> bytes:
        data = self.body.data if self.body is not None else b""
        fields = list(self.headers)
        if self.body is not None:
            fields.append(Header("Content-Type", self.body.content_type))
            if self.body.disposition is not None:
                fields.append(Header("Content-Disposition", self.body.disposition))
            if self.body.mime_version:
                fields.append(Header("MIME-Version", "1.0"))
        fields.append(Header("Content-Length", str(len(data))))
        head = f"{self.start_line}\r\n".encode() + b"".join(h.render(self.style) for h in fields)
        return head + b"\r\n" + data


def via_headers(vias: tuple[ViaHop, ...], style: Style) -> tuple[Header, ...]:
    if style.combine_via and len(vias) > 1:
        return (Header("Via", ", ".join(hop.render() for hop in vias)),)
    return tuple(Header("Via", hop.render()) for hop in vias)


def request(tx: Transaction, extra: tuple[Header, ...], body: Body | None, style: Style) -> Message:
    """A request that RFC 3261 §8.1.1 calls well formed, ``extra`` after the mandatory six."""
    headers = (
        *via_headers(tx.vias, style),
        Header("Max-Forwards", str(tx.max_forwards)),
        *(Header("Route", r.render()) for r in tx.route),
        Header("From", tx.from_.render()),
        Header("To", tx.to.render()),
        Header("Call-ID", tx.call_id),
        Header("CSeq", f"{tx.cseq} {tx.method}"),
        *((Header("Contact", tx.contact.render()),) if tx.contact is not None else ()),
        *extra,
    )
    return Message(f"{tx.method} {tx.request_uri} SIP/2.0", headers, body, style)


def response(
    tx: Transaction,
    code: int,
    reason: str,
    to_tag: str | None,
    extra: tuple[Header, ...],
    body: Body | None,
    style: Style,
) -> Message:
    """The response to ``tx`` (RFC 3261 §8.2.6.2): Via, From, Call-ID, CSeq copied, To copied
    with ``to_tag`` added unless the request's To already had one; Record-Route copied into
    dialog-creating responses (§12.1.1)."""
    to = tx.to if tx.to.tag is not None or to_tag is None else tx.to.with_tag(to_tag)
    copies_rr = tx.method in ("INVITE", "SUBSCRIBE", "REFER") and 101 <= code < 300
    headers = (
        *via_headers(tx.vias, style),
        *(Header("Record-Route", r.render()) for r in (tx.record_route if copies_rr else ())),
        Header("From", tx.from_.render()),
        Header("To", to.render()),
        Header("Call-ID", tx.call_id),
        Header("CSeq", f"{tx.cseq} {tx.method}"),
        *extra,
    )
    return Message(f"SIP/2.0 {code} {reason}", headers, body, style)


@dataclass(frozen=True, slots=True)
class Media:
    """One SDP media description (RFC 4566 §5.14) with its rtpmap attributes."""

    kind: str
    port: int
    formats: tuple[tuple[int, str], ...]
    direction: str = "sendrecv"


@dataclass(frozen=True, slots=True)
class Sdp:
    """An SDP offer or answer (RFC 4566; RFC 3264), written with CRLF line ends."""

    session_id: int
    version: int
    address: str
    media: tuple[Media, ...]
    session_name: str = "-"
    ptime: int | None = None

    def render(self) -> bytes:
        family = "IP6" if ":" in self.address else "IP4"
        lines = [
            "v=0",
            f"o=- {self.session_id} {self.version} IN {family} {self.address}",
            f"s={self.session_name}",
            f"c=IN {family} {self.address}",
            "t=0 0",
        ]
        for m in self.media:
            lines.append(f"m={m.kind} {m.port} RTP/AVP {' '.join(str(pt) for pt, _ in m.formats)}")
            for pt, encoding in m.formats:
                lines.append(f"a=rtpmap:{pt} {encoding}")
                if encoding.startswith("telephone-event/"):
                    lines.append(f"a=fmtp:{pt} 0-16")
            if self.ptime is not None and m.kind == "audio":
                lines.append(f"a=ptime:{self.ptime}")
            lines.append(f"a={m.direction}")
        return ("\r\n".join(lines) + "\r\n").encode()


def sdp_body(sdp: Sdp) -> Body:
    return Body("application/sdp", sdp.render())


def multipart_body(boundary: str, parts: tuple[Body, ...]) -> Body:
    """multipart/mixed (RFC 2046 §5.1.1; RFC 5621 for SIP) with a correct boundary."""
    out = b""
    for part in parts:
        out += f"--{boundary}\r\nContent-Type: {part.content_type}\r\n\r\n".encode()
        out += part.data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return Body(f"multipart/mixed;boundary={boundary}", out, mime_version=True)


def pidf_body(entity: str, basic: str) -> Body:
    """A minimal presence document (RFC 3863)."""
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\r\n'
        f'<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="{entity}">\r\n'
        f'  <tuple id="t1"><status><basic>{basic}</basic></status></tuple>\r\n'
        "</presence>\r\n"
    )
    return Body("application/pidf+xml", xml.encode())


def sipfrag_body(code: int) -> Body:
    """The status line a REFER's NOTIFY reports (RFC 3515 §2.4.5, RFC 3420)."""
    line = f"SIP/2.0 {code} {default_reason(code)}\r\n"
    return Body("message/sipfrag;version=2.0", line.encode())


def dtmf_body(signal: str, duration: int) -> Body:
    return Body("application/dtmf-relay", f"Signal={signal}\r\nDuration={duration}\r\n".encode())


def message_summary_body(waiting: bool, new: int, old: int) -> Body:
    """RFC 3842 §5.2."""
    text = f"Messages-Waiting: {'yes' if waiting else 'no'}\r\nVoice-Message: {new}/{old}\r\n"
    return Body("application/simple-message-summary", text.encode())


def text_body(text: str) -> Body:
    return Body("text/plain;charset=UTF-8", text.encode("utf-8"))


@dataclass(frozen=True, slots=True)
class Challenge:
    """A Digest challenge (RFC 3261 §20.27, §20.44; RFC 8760 algorithms)."""

    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: str | None = "auth"
    stale: bool = False
    opaque: str | None = None

    def render(self) -> str:
        out = f'Digest realm="{self.realm}", nonce="{self.nonce}", algorithm={self.algorithm}'
        if self.qop is not None:
            out += f', qop="{self.qop}"'
        if self.opaque is not None:
            out += f', opaque="{self.opaque}"'
        if self.stale:
            out += ", stale=TRUE"
        return out


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def sip_date(weekday: int, day: int, month: int, year: int, seconds: int) -> str:
    """SIP-date (RFC 3261 §20.17, rfc1123-date, always GMT)."""
    hours, rest = divmod(seconds % 86400, 3600)
    return (
        f"{WEEKDAYS[weekday % 7]}, {day:02d} {MONTHS[month % 12]} {year} "
        f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d} GMT"
    )


_TO_TAG = re.compile(rb";\s*tag\s*=", re.IGNORECASE)
_ECHOED = ("via", "from", "to", "call-id", "cseq")


def echo_response(
    request: Wire,
    code: int,
    reason: str,
    to_tag: str | None,
    extra: tuple[Header, ...],
    body: Body | None,
    style: Style,
) -> bytes:
    """A response to a request received from a peer (RFC 3261 §8.2.6.2), its Via, From, To,
    Call-ID and CSeq copied byte for byte (Record-Route too, for a dialog-creating 1xx/2xx,
    §12.1.1), the To tag added unless the request had one or ``to_tag`` is None."""
    copied: list[bytes] = []
    dialog = request.method in ("INVITE", "SUBSCRIBE", "REFER") and 101 <= code < 300
    for index, field in enumerate(request.headers):
        name = request.name_at(index)
        if name in _ECHOED or (dialog and name == "record-route"):
            value = request.value_at(index)
            if name == "to" and to_tag is not None and not _TO_TAG.search(value):
                value += f";tag={to_tag}".encode()
            copied.append(field.partition(b":")[0].strip() + b": " + value + b"\r\n")
    head = Message(f"SIP/2.0 {code} {reason}", extra, body, style)
    rendered = bytes(head)
    first_end = rendered.index(b"\r\n") + 2
    return rendered[:first_end] + b"".join(copied) + rendered[first_end:]
