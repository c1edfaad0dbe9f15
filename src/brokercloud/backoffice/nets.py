"""Net amounts: each investor's net receivable or payable per trade date, each broker's
multilateral net with the exchange per day, and the push interface for the front ends.

Push: ``NetFeed.subscribe(account, listener)`` calls ``listener(NetAmount)`` synchronously
inside the booking that changed the account's net (the thesis's "push the net amount to the
front end", Table 5-4: 1,000 ms; here the same call). ``subscribe_all(listener)`` is told of
every account's changes, for a front end serving accounts it cannot list in advance (an AP
server's stream: accounts opened later, whole brokers); it filters by tenancy itself.
``subscribe_queue`` wraps ``subscribe`` in an ``asyncio.Queue`` for an AP server's WebSocket
task: booking may run on another thread, so delivery goes through
``loop.call_soon_threadsafe``; a full queue drops its oldest entry, since each ``NetAmount``
is the account's whole current net, not a delta. A listener that
raises is logged and never disturbs booking.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date

import msgspec

log = logging.getLogger("brokercloud.backoffice.nets")


class NetAmount(msgspec.Struct, frozen=True):
    """An investor's net for one trade date: ``net`` > 0 the broker pays the investor on
    ``settle_date``, < 0 the investor pays. ``receivable``/``payable`` are the gross sides."""

    broker: str
    account: str
    trade_date: date
    settle_date: date
    receivable: int
    payable: int
    net: int
    fills: int


class BrokerNet(msgspec.Struct, frozen=True):
    """A broker's multilateral net with the exchange for one trade date: ``cash`` > 0 the
    exchange pays the broker; ``shares`` per symbol, > 0 the exchange delivers to the broker."""

    broker: str
    trade_date: date
    settle_date: date
    cash: int
    shares: dict[str, int]


NetListener = Callable[[NetAmount], object]


class NetFeed:
    """Listeners per account, told of every change of that account's net amounts."""

    def __init__(self) -> None:
        self.listeners: dict[str, list[NetListener]] = {}  # by account; read on every booking
        self.everyone: list[NetListener] = []  # every account's; read on every booking

    def subscribe(self, account: str, listener: NetListener) -> Callable[[], None]:
        """Start telling ``listener``; returns the function that stops it."""
        self.listeners.setdefault(account, []).append(listener)

        def unsubscribe() -> None:
            listeners = self.listeners.get(account, [])
            if listener in listeners:
                listeners.remove(listener)
            if not listeners:
                self.listeners.pop(account, None)
        return unsubscribe

    def subscribe_all(self, listener: NetListener) -> Callable[[], None]:
        """Tell ``listener`` of every account's changes; returns the function that stops it."""
        self.everyone.append(listener)

        def unsubscribe() -> None:
            if listener in self.everyone:
                self.everyone.remove(listener)
        return unsubscribe

    def publish(self, amount: NetAmount) -> None:
        for listener in (*self.listeners.get(amount.account, ()), *self.everyone):
            try:
                listener(amount)
            except Exception:  # a front end's bug must not stop booking
                log.exception("net amount listener for %s failed", amount.account)


def subscribe_queue(feed: NetFeed, account: str, loop: asyncio.AbstractEventLoop,
                    maxsize: int = 64) -> tuple[asyncio.Queue[NetAmount], Callable[[], None]]:
    """An ``asyncio.Queue`` on ``loop`` receiving ``account``'s net amounts, and the function
    that unsubscribes it."""
    queue: asyncio.Queue[NetAmount] = asyncio.Queue(maxsize)

    def put(amount: NetAmount) -> None:
        if queue.full():
            queue.get_nowait()  # the newest net supersedes the oldest
        queue.put_nowait(amount)

    return queue, feed.subscribe(account, lambda amount: loop.call_soon_threadsafe(put, amount))
