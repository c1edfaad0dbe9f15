"""Net amounts on the stream: every change of an account's net, pushed to each session that
may see that account, as ``{"type": "NetAmount", ...}``.

The back office's ``NetFeed`` calls its listeners inside the booking that changed a net. That
runs on the event loop in ``serve`` but may run on another thread elsewhere, so the listener
only hands the amount to the loop (``call_soon_threadsafe``); tenancy and the sessions are
read there. Who may see an amount is ``authz.authorize`` of ``VIEW_SETTLEMENT`` on its broker
and account, the rule of the settlement routes (a clerk is never pushed one).

A ``NetAmount`` is state, not a delta: a session that resumes (``resume_after``) is first
given the current net of each unsettled date of its accounts (account- or branch-bound
callers; broker-wide staff reload ``GET /api/v1/settlements``), then every later change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import msgspec

from brokercloud.backoffice.ledger import Ledger
from brokercloud.backoffice.nets import NetAmount, NetFeed
from brokercloud.gateway.authz import Action, Caller, ForbiddenError, authorize
from brokercloud.gateway.settlements import visible_nets
from brokercloud.gateway.stream import EventHub, Subscription

_encoder = msgspec.json.Encoder()


def encode(amount: NetAmount) -> bytes:
    return _encoder.encode({"type": "NetAmount", **msgspec.structs.asdict(amount)})


def may_see(caller: Caller, amount: NetAmount) -> bool:
    try:
        authorize(caller, Action.VIEW_SETTLEMENT, broker=amount.broker, account=amount.account)
    except ForbiddenError:
        return False
    return True


def start_pushing(feed: NetFeed, hub: EventHub) -> Callable[[], None]:
    """Push every change of ``feed`` into ``hub``'s sessions, from now on and on the running
    loop; returns the function that stops it."""
    loop = asyncio.get_running_loop()

    def deliver(amount: NetAmount) -> None:
        hub.push(encode(amount), amount.broker,
                 lambda subscription: may_see(subscription.caller, amount))

    return feed.subscribe_all(lambda amount: loop.call_soon_threadsafe(deliver, amount))


def send_current(ledger: Ledger, hub: EventHub, subscription: Subscription) -> None:
    """A resumed account- or branch-bound session's current net amounts, oldest first."""
    caller = subscription.caller
    if caller.bound:
        for amount in visible_nets(ledger, caller):
            if may_see(caller, amount):
                hub.send(subscription, encode(amount))
