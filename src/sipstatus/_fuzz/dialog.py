"""The fuzzer's side of a dialog (RFC 3261 §12), as the UAC that sent the INVITE, and the
requests it sends in it, written with the typed builders of ``_fuzz.build``.

No I/O and no randomness: ``_fuzz.scenario`` plays the flow, this module keeps its state and
writes its messages.

* The dialog is set up from the INVITE's 2xx (§12.1.2): the remote tag is the To tag, the
  remote target the Contact URI, the route set the Record-Route URIs in reverse order.
* Requests in the dialog (§12.2.1.1) carry the local tag in From, the remote tag in To, the
  Call-ID, a CSeq one above the previous request's (ACK and CANCEL reuse the INVITE's number,
  §13.2.2.4, §9.1); with a loose-routing first route (``;lr``) the Request-URI is the remote
  target and Route the route set, else (strict routing) the Request-URI is the first route and
  Route the rest plus the remote target.
* ACK for a non-2xx and CANCEL are hop-by-hop (§17.1.1.3, §9.1): the INVITE's Request-URI,
  top Via branch, From and Call-ID; the ACK takes To from the response.

Tolerant helpers (``uri_of``, ``addresses``, ``tag_of``) read what a possibly broken target
wrote; they never raise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sipstatus._fuzz import build as b
from sipstatus._fuzz.wire import Wire

#: The user part of the fuzzer's own From and Contact URIs, and of the INVITE's target.
LOCAL_USER = "sipstatus-fuzz"
REMOTE_USER = "service"
#: The RTP port the fuzzer's SDP names (nothing listens there: no media is ever sent).
SDP_PORT = 40000

_TAG = re.compile(rb";\s*tag\s*=\s*([!-+\--:<-=?-~]+)", re.IGNORECASE)  # printable, not ;,>


def addresses(value: bytes) -> list[bytes]:
    """Split a header value holding a comma-separated list of addresses (Contact,
    Record-Route), commas inside ``<...>`` or quotes not counting."""
    out: list[bytes] = []
    depth, quoted, start = 0, False, 0
    for index, char in enumerate(value):
        if char == 0x22 and (index == 0 or value[index - 1] != 0x5C):
            quoted = not quoted
        elif not quoted and char == 0x3C:
            depth += 1
        elif not quoted and char == 0x3E:
            depth = max(0, depth - 1)
        elif not quoted and depth == 0 and char == 0x2C:
            out.append(value[start:index].strip())
            start = index + 1
    out.append(value[start:].strip())
    return [part for part in out if part]


def uri_of(address: bytes) -> str | None:
    """The URI of a name-addr (between angle brackets) or addr-spec (up to its parameters)."""
    if b"<" in address:
        inner = address.split(b"<", 1)[1]
        if b">" not in inner:
            return None
        uri = inner.split(b">", 1)[0].strip()
    else:
        uri = address.split(b";", 1)[0].strip()
    if not uri or any(c < 0x21 or c > 0x7E for c in uri):
        return None
    return uri.decode("ascii")


def tag_of(value: bytes | None) -> str | None:
    """The tag parameter of a From or To value (after the URI), or None."""
    if value is None:
        return None
    after = value.rsplit(b">", 1)[1] if b">" in value else value
    found = _TAG.search(after)
    return found.group(1).decode("latin-1") if found else None


def cseq_number(data: bytes) -> int | None:
    """The CSeq sequence number of a message, or None if it has no readable one."""
    value = Wire.split(data).value("cseq")
    if not value:
        return None
    number = value.split()[0]
    return int(number) if number.isdigit() and len(number) < 12 else None


def loose(uri: str) -> bool:
    """Whether a route URI has the ``lr`` parameter (RFC 3261 §19.1.1, loose routing)."""
    params = uri.split("?", 1)[0].split(";")[1:]
    return any(p.split("=", 1)[0].strip().lower() == "lr" for p in params)


@dataclass
class Dialog:
    """The UAC's view of one call: its identifiers, then the dialog once a 2xx set it up.

    ``prefix`` makes the branches and tags of one case unique; ``cseq`` is the number of the
    latest request sent (ACK and CANCEL excepted).
    """

    local: b.Endpoint
    target: b.Endpoint
    prefix: str
    cseq: int = 1
    remote_tag: str | None = None
    remote_target: str | None = None
    route_set: tuple[str, ...] = ()
    remote_cseq: int | None = None
    terminated: bool = False
    branches: int = field(default=0)

    @property
    def call_id(self) -> str:
        return f"{self.prefix}@{self.local.host_ref}"

    @property
    def local_tag(self) -> str:
        return f"{self.prefix}-tag"

    @property
    def confirmed(self) -> bool:
        return self.remote_tag is not None and not self.terminated

    def branch(self) -> str:
        self.branches += 1
        return f"z9hG4bK-{self.prefix}-{self.branches}"

    def via(self, branch: str) -> b.ViaHop:
        return b.ViaHop(self.local.transport, self.local.host_ref, self.local.port, branch,
                        rport=True)

    def initial_uri(self) -> str:
        return b.SipUri(self.target.host_ref, REMOTE_USER, self.target.port).render()

    def from_(self) -> b.Address:
        return b.Address(b.SipUri(self.local.host_ref, LOCAL_USER, self.local.port),
                         params=(("tag", self.local_tag),))

    def to(self) -> b.Address:
        remote = b.Address(b.SipUri(self.target.host_ref, REMOTE_USER, self.target.port))
        return remote if self.remote_tag is None else remote.with_tag(self.remote_tag)

    def contact(self) -> b.Address:
        transport = (("transport", self.local.transport.lower()),)
        return b.Address(b.SipUri(self.local.host_ref, LOCAL_USER, self.local.port,
                                  params=transport))

    def confirm(self, response: bytes) -> bool:
        """Set the dialog up from a 2xx to the INVITE (RFC 3261 §12.1.2); False when the
        response carries no To tag (no dialog can be formed)."""
        wire = Wire.split(response)
        tag = tag_of(wire.value("to"))
        if tag is None:
            return False
        self.remote_tag = tag
        contacts = addresses(wire.value("contact") or b"")
        target = uri_of(contacts[0]) if contacts else None
        self.remote_target = target or self.initial_uri()
        routes: list[str] = []
        for index in wire.indexes("record-route"):
            for address in addresses(wire.value_at(index)):
                uri = uri_of(address)
                if uri is not None:
                    routes.append(uri)
        self.route_set = tuple(reversed(routes))
        return True

    def routing(self) -> tuple[str, tuple[b.Header, ...]]:
        """Request-URI and Route header fields of a request in the dialog (§12.2.1.1)."""
        target = self.remote_target or self.initial_uri()
        if not self.route_set:
            return target, ()
        if loose(self.route_set[0]):
            return target, tuple(b.Header("Route", f"<{uri}>") for uri in self.route_set)
        rest = (*self.route_set[1:], target)
        return self.route_set[0], tuple(b.Header("Route", f"<{uri}>") for uri in rest)

    def invite(self) -> tuple[b.Transaction, tuple[b.Header, ...]]:
        """The dialog-creating INVITE (§8.1.1, §13.2.1)."""
        tx = b.Transaction("INVITE", self.initial_uri(), (self.via(self.branch()),),
                           self.from_(), self.to(), self.call_id, self.cseq,
                           contact=self.contact())
        return tx, ()

    def in_dialog(self, method: str) -> tuple[b.Transaction, tuple[b.Header, ...]]:
        """The next request of the dialog: a new branch, CSeq one higher (§12.2.1.1)."""
        self.cseq += 1
        uri, routes = self.routing()
        contact = self.contact() if method in ("INVITE", "UPDATE", "REFER") else None
        tx = b.Transaction(method, uri, (self.via(self.branch()),), self.from_(), self.to(),
                           self.call_id, self.cseq, contact=contact)
        return tx, routes

    def ack_2xx(self, cseq: int) -> tuple[b.Transaction, tuple[b.Header, ...]]:
        """ACK for a 2xx (§13.2.2.4): in the dialog, a new branch, the INVITE's CSeq number."""
        uri, routes = self.routing()
        tx = b.Transaction("ACK", uri, (self.via(self.branch()),), self.from_(), self.to(),
                           self.call_id, cseq)
        return tx, routes

    def cancel(self, invite: b.Transaction) -> tuple[b.Transaction, tuple[b.Header, ...]]:
        """CANCEL of a pending INVITE (§9.1): its Request-URI, top Via, From, To, Call-ID and
        CSeq number."""
        tx = b.Transaction("CANCEL", invite.request_uri, invite.vias, invite.from_,
                           invite.to, invite.call_id, invite.cseq)
        return tx, ()

    def ack_error(self, invite: b.Transaction, response: bytes) -> b.Transaction:
        """ACK for a non-2xx final response (§17.1.1.3): the INVITE's Request-URI, top Via,
        From, Call-ID and CSeq number, To from the response (with its tag)."""
        tag = tag_of(Wire.split(response).value("to"))
        to = invite.to if tag is None else invite.to.with_tag(tag)
        return b.Transaction("ACK", invite.request_uri, invite.vias[:1], invite.from_, to,
                             invite.call_id, invite.cseq)

    def sdp(self, version: int) -> b.Body:
        media = b.Media("audio", SDP_PORT, ((0, "PCMU/8000"), (101, "telephone-event/8000")))
        return b.sdp_body(b.Sdp(session_id=self.cseq, version=version,
                                address=self.local.host, media=(media,)))

    def body(self, method: str) -> tuple[tuple[b.Header, ...], b.Body | None]:
        """The plain well-formed headers and body of a step's request (when it is not the
        step being fuzzed: that one gets drawn parts)."""
        if method == "INVITE":
            return (), self.sdp(self.cseq)
        if method == "UPDATE":
            return (), self.sdp(self.cseq)
        if method == "INFO":
            return (b.Header("Info-Package", "dtmf"),), b.dtmf_body("5", 160)
        if method == "MESSAGE":
            return (), b.text_body("sipstatus fuzz")
        if method == "REFER":
            refer_to = b.SipUri(self.target.host_ref, "transfer", self.target.port)
            return (b.Header("Refer-To", f"<{refer_to.render()}>"),), None
        if method == "OPTIONS":
            return (b.Header("Accept", "application/sdp"),), None
        return (), None


def write(tx: b.Transaction, routes: tuple[b.Header, ...], extra: tuple[b.Header, ...],
          body: b.Body | None) -> bytes:
    """The request's bytes: Route fields first among the extra headers (their order among
    themselves is what counts, §20.34), then ``extra``, then the body."""
    return bytes(b.request(tx, (*routes, *extra, b.Header("User-Agent", "sipstatus-fuzz")),
                           body, b.Style()))


def identifiers(data: bytes) -> tuple[str | None, str | None, str | None]:
    """Call-ID, From tag and To tag of a message, read tolerantly."""
    wire = Wire.split(data)
    cid = wire.value("call-id")
    return (cid.decode("latin-1") if cid else None, tag_of(wire.value("from")),
            tag_of(wire.value("to")))


_REBASED = ("via", "from", "to", "call-id", "cseq", "contact", "route", "authorization",
            "proxy-authorization", "rack")


def adapt(broken: bytes, old: bytes, new: bytes) -> bytes:
    """Re-aim a saved broken message at a new flow (``--replay``): ``old`` is the well-formed
    message it was made from, ``new`` the well-formed message of the same step in the new
    flow. In the broken message's start line and header section, the old message's
    Request-URI and values of Via (top), From, To, Call-ID, CSeq, Contact, Route,
    Authorization / Proxy-Authorization (the Digest response the new challenge called for)
    and RAck (the RSeq the target chose) become the new one's, then what a mutation may have
    cut apart: tags, branch, Call-ID and sent-by. The body and everything the mutation put
    around those values stay, byte for byte."""
    was, now = Wire.split(old), Wire.split(new)
    pairs: list[tuple[bytes, bytes]] = []
    old_start, new_start = was.start.split(b" "), now.start.split(b" ")
    if len(old_start) == 3 and len(new_start) == 3:
        pairs.append((old_start[1], new_start[1]))
    for name in _REBASED:
        for a, c in zip(was.indexes(name), now.indexes(name), strict=False):
            pairs.append((was.value_at(a), now.value_at(c)))
            if name == "via":
                break
    tokens: list[tuple[bytes, bytes]] = []
    for name in ("from", "to"):
        a_tag, c_tag = tag_of(was.value(name)), tag_of(now.value(name))
        if a_tag and c_tag:
            tokens.append((a_tag.encode(), c_tag.encode()))
    old_via, new_via = was.value("via") or b"", now.value("via") or b""
    for a_via, c_via in ((old_via, new_via),):
        a_parts, c_parts = a_via.split(b";"), c_via.split(b";")
        tokens.append((a_parts[0], c_parts[0]))
        a_branch = [p for p in a_parts[1:] if p.strip().lower().startswith(b"branch=")]
        c_branch = [p for p in c_parts[1:] if p.strip().lower().startswith(b"branch=")]
        if a_branch and c_branch:
            tokens.append((a_branch[0], c_branch[0]))
    a_cid, c_cid = was.value("call-id"), now.value("call-id")
    if a_cid and c_cid:
        tokens.append((a_cid, c_cid))
    head, sep, body = broken.partition(b"\r\n\r\n")
    for group in (pairs, tokens):
        for before, after in sorted(group, key=lambda p: -len(p[0])):
            if before and before != after:
                head = head.replace(before, after)
    return head + sep + body


def adapt_answer(broken: bytes, old: bytes, request: bytes) -> bytes:
    """Re-aim a saved broken response (``--replay`` of a step that answers the target) at
    ``request``, the request of the new flow it answers: ``old`` is the well-formed response
    it was made from. The status line stays; what ``old`` echoed of its request becomes what
    the response to ``request`` echoes (:func:`adapt`, then every Via, not only the top one:
    a proxy routes the response on the next)."""
    echoed = b.echo_response(Wire.split(request), 200, "OK", None, (), None, b.Style())
    new = old.split(b"\r\n", 1)[0] + b"\r\n" + echoed.split(b"\r\n", 1)[1]
    data = adapt(broken, old, new)
    was, now = Wire.split(old), Wire.split(new)
    head, sep, body = data.partition(b"\r\n\r\n")
    pairs = zip(was.indexes("via")[1:], now.indexes("via")[1:], strict=False)
    for a, c in pairs:
        before, after = was.value_at(a), now.value_at(c)
        if before and before != after:
            head = head.replace(before, after)
    return head + sep + body
