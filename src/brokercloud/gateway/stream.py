"""The real-time stream: every session gets the core's events it may see, the moment they are
decided, and can resume after a reconnect without missing one.

The hub listens to the sequencer, keeps the last events in a bounded log (each carries the
journal sequence number of the command that produced it, so the log is in order), and hands
each subscriber the events of its broker and, for account-bound roles, of its accounts. A
client that reconnects passes the last sequence number it saw and is first replayed what came
after it. A subscriber that falls too far behind is dropped (it reconnects and resumes) rather
than slowing the core.

The hub finds an event's sessions through indexes (``_Audience``): by broker, and for
sessions bound to a fixed set of accounts, by account. Asking every session instead cost each
event one visibility check per session connected: with the 2,000 sessions an AP process is
sized for, more than the rest of the order's work.

A WebSocket message is one event (a JSON object), or, when several are already waiting for the
session, a JSON array of up to ``BATCH_LIMIT`` of them in order (``events_of`` reads either):
under load a send per event was most of the stream's cost, a system call each.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from brokercloud.core import events as e
from brokercloud.gateway.authz import Caller, account_scope

LOG_CAPACITY = 200_000
QUEUE_LIMIT = 10_000
BATCH_LIMIT = 100  # events a message; well under a client's usual 1 MiB message limit

#: Events a front end is told about (the outbox events are for the lines, not people).
STREAMED = (e.OrderUpdated, e.OrderRejected, e.Fill, e.ApprovalRequested, e.ApprovalDecided)
_encoder = msgspec.json.Encoder()


def visible(caller: Caller, event: e.Event) -> bool:
    """Tenancy for the stream: the caller's broker, and its accounts where it is bound."""
    if event.broker != caller.broker:
        return False
    scope = account_scope(caller)
    account = getattr(event, "account", None)
    return scope is None or account is None or account in scope


class Subscription:
    def __init__(self, caller: Caller) -> None:
        self.caller = caller
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(QUEUE_LIMIT)
        self.dropped = False
        self.ended = False  # the client went away
        self.symbols: set[str] = set()  # quotes it asked for (public data: no tenancy)

    def end(self) -> None:
        """The client went away: the waiting ``next_message`` returns None at once (else the
        session would wait for its next event to find out, and a quiet one never would)."""
        self.ended = True
        while not self.queue.empty():  # nobody is there to read them
            self.queue.get_nowait()
        self.queue.put_nowait(None)

    async def next_message(self) -> bytes | None:
        """The next message for the socket (module docstring), or None once the session was
        dropped for falling behind: the socket closes and the client resumes."""
        first = await self.queue.get()
        if first is None or self.queue.empty():
            return first
        batch = [first]
        while len(batch) < BATCH_LIMIT and not self.queue.empty():
            payload = self.queue.get_nowait()
            if payload is None:  # dropped: what came before goes out, then the close
                self.queue.put_nowait(None)
                break
            batch.append(payload)
        return batch[0] if len(batch) == 1 else b"[" + b",".join(batch) + b"]"


class _Audience:
    """One broker's sessions: those bound to a fixed set of accounts under each account, the
    others (broker-wide staff; branch supervisors, whose branch may gain accounts) asked
    ``visible`` one by one."""

    __slots__ = ("asked", "by_account", "everyone")

    def __init__(self) -> None:
        self.everyone: set[Subscription] = set()
        self.asked: set[Subscription] = set()
        self.by_account: dict[str, set[Subscription]] = {}

    def add(self, subscription: Subscription) -> None:
        self.everyone.add(subscription)
        accounts = _fixed_accounts(subscription.caller)
        if accounts is None:
            self.asked.add(subscription)
        for account in accounts or ():
            self.by_account.setdefault(account, set()).add(subscription)

    def remove(self, subscription: Subscription) -> None:
        """New sets rather than ``discard``: a set keeps the table of its largest size, and
        iterating one sized for 2,000 sessions after they left cost every later event."""
        gone = {subscription}
        self.everyone = self.everyone - gone
        self.asked = self.asked - gone
        for account in _fixed_accounts(subscription.caller) or ():
            holders = self.by_account.get(account, set()) - gone
            if holders:
                self.by_account[account] = holders
            else:
                self.by_account.pop(account, None)

    def of(self, event: e.Event) -> list[Subscription]:
        account = getattr(event, "account", None)
        if account is None:
            return list(self.everyone)
        return [*self.by_account.get(account, ()),
                *(subscription for subscription in self.asked
                  if visible(subscription.caller, event))]


def _fixed_accounts(caller: Caller) -> frozenset[str] | None:
    scope = account_scope(caller)
    return scope if isinstance(scope, frozenset) else None


def events_of(message: str | bytes) -> list[dict[str, Any]]:
    """The events of one stream message, in order."""
    decoded = msgspec.json.decode(message)
    return decoded if isinstance(decoded, list) else [decoded]


class EventHub:
    """Fans the core's events out to subscribed sessions."""

    def __init__(self, capacity: int = LOG_CAPACITY) -> None:
        # the events themselves (each carries its seq): a (seq, event) pair per event was a
        # tuple for every young-generation collection to walk, ~5 an order
        self._log: deque[e.Event] = deque(maxlen=capacity)
        self._audiences: dict[str, _Audience] = {}
        self._watching: dict[str, set[Subscription]] = {}  # by symbol
        #: Each symbol any session asked quotes for, once: whoever feeds the hub quotes
        #: (``serve``) follows the exchange's market data for these only, so a book nobody
        #: watches costs the exchange and the feed nothing.
        self.quotes_asked: asyncio.Queue[str] = asyncio.Queue()
        self._asked: set[str] = set()

    def publish(self, events: Iterable[e.Event]) -> None:
        """A sequencer listener: called with each command's events, in journal order."""
        for event in events:
            if not isinstance(event, STREAMED):
                continue
            self._log.append(event)
            audience = self._audiences.get(event.broker)
            recipients = audience.of(event) if audience is not None else ()
            if recipients:
                payload = _encoder.encode(event)
                for subscription in recipients:
                    self._offer(subscription, payload)

    def publish_quote(self, symbol: str, payload: bytes) -> None:
        """Market data for the sessions that asked for this symbol (a quote is public)."""
        for subscription in list(self._watching.get(symbol, ())):
            self._offer(subscription, payload)

    def push(self, payload: bytes, broker: str,
             wants: Callable[[Subscription], bool]) -> None:
        """State that is not a core event (a net amount: ``gateway.net_push``), to each of
        ``broker``'s sessions ``wants`` names; the slow-client rule applies as to events."""
        audience = self._audiences.get(broker)
        for subscription in list(audience.everyone if audience is not None else ()):
            if wants(subscription):
                self._offer(subscription, payload)

    def send(self, subscription: Subscription, payload: bytes) -> None:
        """One session only (what a resumed session is owed besides the log)."""
        self._offer(subscription, payload)

    def ask_quotes(self, subscription: Subscription, symbols: Iterable[str]) -> None:
        """Quotes of ``symbols`` (listed ones: the caller checks) for this session from now."""
        for symbol in symbols:
            subscription.symbols.add(symbol)
            self._watching.setdefault(symbol, set()).add(subscription)
            if symbol not in self._asked:
                self._asked.add(symbol)
                self.quotes_asked.put_nowait(symbol)

    def subscribe(self, caller: Caller, resume_after: int | None = None) -> Subscription:
        subscription = Subscription(caller)
        if resume_after is not None:
            for event in self._log:
                if event.seq > resume_after and visible(caller, event):
                    self._offer(subscription, _encoder.encode(event))
        self._audiences.setdefault(caller.broker, _Audience()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        audience = self._audiences.get(subscription.caller.broker)
        if audience is not None:
            audience.remove(subscription)
        for symbol in subscription.symbols:  # new sets, as in ``_Audience.remove``
            self._watching[symbol] = self._watching.get(symbol, set()) - {subscription}

    def sessions_of(self, broker: str) -> int:
        """How many sessions of ``broker`` are open (the operator's view of an AP process)."""
        audience = self._audiences.get(broker)
        return len(audience.everyone) if audience is not None else 0

    def oldest(self) -> int:
        """The earliest sequence number a resume can still start after."""
        return self._log[0].seq - 1 if self._log else 0

    def _offer(self, subscription: Subscription, payload: bytes) -> None:
        try:
            subscription.queue.put_nowait(payload)
        except asyncio.QueueFull:
            subscription.dropped = True
            self.unsubscribe(subscription)
            subscription.queue.get_nowait()
            subscription.queue.put_nowait(None)  # tells the socket to close; the client resumes
