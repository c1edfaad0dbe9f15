"""The real-time stream: every session gets the core's events it may see, the moment they are
decided, and can resume after a reconnect without missing one.

The hub listens to the sequencer, keeps the last events in a bounded log (each carries the
journal sequence number of the command that produced it, so the log is in order), and hands
each subscriber the events of its broker and, for account-bound roles, of its accounts. A
client that reconnects passes the last sequence number it saw and is first replayed what came
after it. A subscriber that falls too far behind is dropped (it reconnects and resumes) rather
than slowing the core.

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
        self.symbols: set[str] = set()  # quotes it asked for (public data: no tenancy)

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


def events_of(message: str | bytes) -> list[dict[str, Any]]:
    """The events of one stream message, in order."""
    decoded = msgspec.json.decode(message)
    return decoded if isinstance(decoded, list) else [decoded]


class EventHub:
    """Fans the core's events out to subscribed sessions."""

    def __init__(self, capacity: int = LOG_CAPACITY) -> None:
        self._log: deque[tuple[int, e.Event]] = deque(maxlen=capacity)
        self._subscribers: set[Subscription] = set()
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
            self._log.append((event.seq, event))
            payload = None
            for subscription in list(self._subscribers):
                if visible(subscription.caller, event):
                    payload = payload or _encoder.encode(event)
                    self._offer(subscription, payload)

    def publish_quote(self, symbol: str, payload: bytes) -> None:
        """Market data for the sessions that asked for this symbol (a quote is public)."""
        for subscription in list(self._subscribers):
            if symbol in subscription.symbols:
                self._offer(subscription, payload)

    def push(self, payload: bytes, wants: Callable[[Subscription], bool]) -> None:
        """State that is not a core event (a net amount: ``gateway.net_push``), to every
        session ``wants`` names; the slow-client rule applies as to events."""
        for subscription in list(self._subscribers):
            if wants(subscription):
                self._offer(subscription, payload)

    def send(self, subscription: Subscription, payload: bytes) -> None:
        """One session only (what a resumed session is owed besides the log)."""
        self._offer(subscription, payload)

    def ask_quotes(self, subscription: Subscription, symbols: Iterable[str]) -> None:
        """Quotes of ``symbols`` (listed ones: the caller checks) for this session from now."""
        for symbol in symbols:
            subscription.symbols.add(symbol)
            if symbol not in self._asked:
                self._asked.add(symbol)
                self.quotes_asked.put_nowait(symbol)

    def subscribe(self, caller: Caller, resume_after: int | None = None) -> Subscription:
        subscription = Subscription(caller)
        if resume_after is not None:
            for seq, event in self._log:
                if seq > resume_after and visible(caller, event):
                    self._offer(subscription, _encoder.encode(event))
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    def oldest(self) -> int:
        """The earliest sequence number a resume can still start after."""
        return self._log[0][0] - 1 if self._log else 0

    def _offer(self, subscription: Subscription, payload: bytes) -> None:
        try:
            subscription.queue.put_nowait(payload)
        except asyncio.QueueFull:
            subscription.dropped = True
            self._subscribers.discard(subscription)
            subscription.queue.get_nowait()
            subscription.queue.put_nowait(None)  # tells the socket to close; the client resumes
