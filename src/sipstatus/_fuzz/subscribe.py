"""The ``subscribe`` scenario: sipstatus as the subscriber of RFC 6665 (SIP-specific event
notification), the target as the notifier.

SUBSCRIBE → 2xx → the target's NOTIFY answered → a refresh SUBSCRIBE in the dialog → its
NOTIFY answered → the un-SUBSCRIBE (Expires: 0) → the final NOTIFY (``terminated``) answered.
Steps: ``subscribe/subscribe`` (the initial SUBSCRIBE), ``subscribe/notify`` (our response to
the target's first NOTIFY: the step's message is a response, drawn as ``--answer`` draws
them, often not a 200), ``subscribe/refresh`` and ``subscribe/unsubscribe``. A broken
refresh or un-SUBSCRIBE not answered 2xx is followed by a well-formed one.

* The event package is ``message-summary`` (RFC 3842): every kind of UA and voicemail server
  knows it, a subscription to it is normally accepted at once (``active``) and its state is
  a few lines of text; ``presence`` (RFC 3856) calls for authorization first, often leaving
  the subscription ``pending`` with no state to notify.
* A NOTIFY may come before the SUBSCRIBE's 2xx (RFC 6665 §4.1.2.4): it sets the dialog up
  as its UAS would (RFC 3261 §12.1.1: the notifier's tag is the NOTIFY's From tag, the
  remote target its Contact, the route set its Record-Route in order).
* A NOTIFY matches the subscription by Call-ID, To tag (ours), From tag (the notifier's,
  once known) and Event package (RFC 6665 §4.1.3, §8.2.1); one that does not gets 481.
  Its CSeq is the notifier's own sequence: ``Flow.stray`` checks it does not go backwards.
* A retransmitted NOTIFY gets the final response again (RFC 3261 §17.2.2), well formed: a
  broken answer the target did not take would otherwise leave its NOTIFY failing until
  Timer F and the subscription with it (RFC 6665 §4.2.2). A provisional answer drawn for
  the step is followed by a 200.

Coverage at ``subscribe/notify``: ``reached`` counts first NOTIFYs answered, ``fuzzed`` the
cases whose step it was, and ``responses`` what the target did after our answer, since it
sends no response to a response: ``resent`` counts retransmissions of that NOTIFY (the
target did not take the answer, or it was lost), nothing means it took it.
"""

from __future__ import annotations

import time
from dataclasses import replace

from sipstatus._fuzz import build as b
from sipstatus._fuzz.dialog import Dialog, addresses, cseq_number, tag_of, uri_of, write
from sipstatus._fuzz.flow import (
    ACK_WAIT,
    At,
    Flow,
    MakeStep,
    code_of,
    stepper,
    unknown_dialog,
)
from sipstatus._fuzz.model import VALID
from sipstatus._fuzz.wire import Wire, call_id, status_code, top_via_branch

#: The event package subscribed to, and the body it notifies (RFC 3842).
EVENT = "message-summary"
ACCEPT = "application/simple-message-summary"
#: Expires of the subscription (seconds): short, so that one whose un-SUBSCRIBE failed soon
#: lapses by itself.
SUBSCRIBE_EXPIRES = 60


def package(value: bytes | None) -> bytes:
    """The event type of an Event value, without parameters, lower case (RFC 6665 §8.2.1)."""
    return (value or b"").split(b";", 1)[0].strip().lower()


class Subscription:
    """The subscriber's side of one case: the NOTIFYs answered, the answers to send again
    to their retransmissions, and the state the target notified last."""

    def __init__(self, flow: Flow, at: At) -> None:
        self.flow = flow
        self.at = at
        self.notifies = 0  # NOTIFY transactions answered
        self.again: dict[tuple[str | None, int | None], bytes] = {}  # (branch, CSeq) ->
        self.first: tuple[str | None, int | None] | None = None  # the first NOTIFY's key
        self.state: bytes | None = None  # Subscription-State of the latest NOTIFY

    # --- the target's NOTIFYs (Flow.answerer) ----------------------------------------------

    def answer(self, wire: Wire) -> list[bytes] | None:
        """The replies to a request of the target: NOTIFYs of this subscription are ours to
        answer (the first one as the step ``subscribe/notify``), the rest is left to
        ``Flow.stray``."""
        dialog = self.flow.dialog
        request = bytes(wire)
        if wire.method != "NOTIFY" or call_id(request) != dialog.call_id:
            return None
        try:
            ok = b.echo_response(wire, 200, "OK", None, (), None, b.Style())
            gone = b.echo_response(wire, 481, "Subscription Does Not Exist", None, (), None,
                                   b.Style())
        except (ValueError, UnicodeError):
            return []
        remote = tag_of(wire.value("from"))
        if (tag_of(wire.value("to")) != dialog.local_tag or remote is None
                or package(wire.value("event")) != EVENT.encode()
                or dialog.remote_tag not in (None, remote)):
            return [gone]
        key = (top_via_branch(request), cseq_number(request))
        if key in self.again:
            if key == self.first:
                self.flow.coverage.step("subscribe", "subscribe/notify").responses[
                    "resent"] += 1
            return [self.again[key]]
        if dialog.remote_tag is None:
            confirm_by_notify(dialog, wire, remote)
        self.notifies += 1
        self.state = package(wire.value("subscription-state"))
        if self.state == b"terminated":
            dialog.terminated = True
        if self.notifies > 1:
            self.again[key] = ok
            return [ok]
        tx = b.Answer("NOTIFY", dialog.contact().uri.render(), (), dialog.to(),
                      dialog.from_(), dialog.call_id, key[1] or 0, request=request,
                      local=dialog.local)
        data, original, _ = self.at("subscribe/notify", tx, (), lambda: ok)
        provisional = 100 <= (status_code(original) or 0) < 200
        self.first, self.again[key] = key, ok if provisional else original
        return [data, ok] if provisional else [data]

    def notified(self, count: int) -> None:
        """Wait for the target's NOTIFY number ``count`` (RFC 6665 §4.2.2: sent at once
        upon accepting, refreshing or ending a subscription), up to Timer F (64·T1)."""
        flow = self.flow
        deadline = time.monotonic() + 64 * flow.t1
        while self.notifies < count and not flow.conversation.refused:
            if time.monotonic() >= deadline:
                return
            flow.receive(deadline)

    # --- our SUBSCRIBEs --------------------------------------------------------------------

    def subscribe(self, name: str, tx: b.Transaction, routes: tuple[b.Header, ...],
                  expires: int, plain: bool = False) -> tuple[int, bool]:
        """Send the SUBSCRIBE ``tx`` as step ``name`` (the step's drawn message unless
        ``plain``): its final status code (0: none) and whether it was broken."""
        flow, dialog = self.flow, self.flow.dialog
        headers = (*routes, b.Header("Event", EVENT), b.Header("Expires", str(expires)),
                   b.Header("Accept", ACCEPT))
        if plain:
            flow.reach(name)
            data = original = write(tx, headers, (), None)
            broken = False
        else:
            data, original, broken = self.at(name, tx, headers,
                                             lambda: write(tx, headers, (), None))
        transaction = flow.transact(data, original, broken=broken)
        flow.close(transaction)
        if broken:
            flow.broken_tx = transaction
        final, code = transaction.final, code_of(transaction.final)
        if final is not None and 200 <= code < 300:
            if dialog.remote_tag is None:
                dialog.confirm(final)
            if broken and name != "subscribe/subscribe":
                unknown_dialog(flow, data, original, final)
        return code, broken

    def refresh(self, name: str, expires: int) -> None:
        """A SUBSCRIBE in the dialog (step ``name``: a refresh, or with ``expires`` 0 the
        un-SUBSCRIBE, RFC 6665 §4.1.2.1, §4.1.2.3), then its NOTIFY; a broken one not
        answered 2xx is followed by a well-formed one."""
        dialog = self.flow.dialog
        if not dialog.confirmed:
            return
        count = self.notifies
        code, broken = self.subscribe(name, *self.in_dialog(), expires)
        if broken and not 200 <= code < 300 and dialog.confirmed:
            code, _ = self.subscribe(name, *self.in_dialog(), expires, plain=True)
        if code in (0, 408, 481):  # no answer, or the subscription is gone: the dialog
            dialog.terminated = True  # ends (RFC 3261 §12.2.1.2, RFC 6665 §4.1.2.2)
        elif 200 <= code < 300:
            self.notified(count + 1)

    def in_dialog(self) -> tuple[b.Transaction, tuple[b.Header, ...]]:
        """The next SUBSCRIBE of the dialog, with our Contact (a target refresh request)."""
        tx, routes = self.flow.dialog.in_dialog("SUBSCRIBE")
        return replace(tx, contact=self.flow.dialog.contact()), routes


def confirm_by_notify(dialog: Dialog, wire: Wire, remote: str) -> None:
    """Set the dialog up from a NOTIFY that came before the SUBSCRIBE's 2xx (RFC 6665
    §4.1.2.4), as the UAS of that NOTIFY (RFC 3261 §12.1.1)."""
    dialog.remote_tag = remote
    contacts = addresses(wire.value("contact") or b"")
    dialog.remote_target = (uri_of(contacts[0]) if contacts else None) or dialog.initial_uri()
    routes: list[str] = []
    for index in wire.indexes("record-route"):
        routes += [uri for uri in map(uri_of, addresses(wire.value_at(index))) if uri]
    dialog.route_set = tuple(routes)


def play_subscribe(flow: Flow, make: MakeStep) -> None:
    """The ``subscribe`` scenario (module docstring); the case's step gets the message
    ``make`` draws."""
    dialog = flow.dialog
    subscription = Subscription(flow, stepper(flow, make))
    flow.answerer = subscription.answer
    tx = b.Transaction("SUBSCRIBE", dialog.initial_uri(), (dialog.via(dialog.branch()),),
                       dialog.from_(), dialog.to(), dialog.call_id, dialog.cseq,
                       contact=dialog.contact())
    code, _ = subscription.subscribe("subscribe/subscribe", tx, (), SUBSCRIBE_EXPIRES)
    if not 200 <= code < 300:
        return
    subscription.notified(1)
    mutation = flow.mutation
    if flow.step == "subscribe/notify" and mutation is not None and mutation.label != VALID:
        flow.listen(max(ACK_WAIT, flow.patience))  # what the target does with the answer
    subscription.refresh("subscribe/refresh", SUBSCRIBE_EXPIRES)
    subscription.refresh("subscribe/unsubscribe", 0)
