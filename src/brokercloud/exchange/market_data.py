"""Market data: best five bids and asks, trades, last price and volume, per symbol.

Publishing costs nothing for a book nobody watches: a watched book records its trades on a
tape, and after each command that touched it the exchange asks this publisher to send the tape
and a fresh quote. In call phases the quote carries the indicative (trial) auction price.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import count

import msgspec

from brokercloud.market.sessions import Session

DEPTH = 5


class Quote(msgspec.Struct, frozen=True, tag=True):
    seq: int
    time: int
    symbol: str
    session: Session
    bids: list[tuple[int, int]]  # (price, shares), best first
    asks: list[tuple[int, int]]
    last_price: int  # 0 before the first trade
    volume: int  # shares traded today in this session
    indicative_price: int = 0  # call phases only; 0 when nothing would trade
    indicative_volume: int = 0


class Trade(msgspec.Struct, frozen=True, tag=True):
    seq: int
    time: int
    symbol: str
    session: Session
    price: int
    qty: int


MarketDataMessage = Quote | Trade
Subscriber = Callable[[MarketDataMessage], object]


class MarketDataPublisher:
    """Holds subscriptions and numbers every message it sends (one sequence for the feed)."""

    def __init__(self) -> None:
        self._seqs = count(1)
        self._tokens = count(1)
        self._subscribers: dict[tuple[str, Session], dict[int, Subscriber]] = {}
        self._keys: dict[int, tuple[str, Session]] = {}

    def add(self, symbol: str, session: Session, callback: Subscriber) -> int:
        token = next(self._tokens)
        self._subscribers.setdefault((symbol, session), {})[token] = callback
        self._keys[token] = (symbol, session)
        return token

    def remove(self, token: int) -> tuple[str, Session] | None:
        """Drop a subscription; returns its key if that was the last one for the book."""
        key = self._keys.pop(token, None)
        if key is None:
            return None
        subscribers = self._subscribers[key]
        del subscribers[token]
        if subscribers:
            return None
        del self._subscribers[key]
        return key

    def is_watched(self, symbol: str, session: Session) -> bool:
        return (symbol, session) in self._subscribers

    def publish(self, symbol: str, session: Session, now: int, trades: list[tuple[int, int]],
                quote_fields: tuple[list[tuple[int, int]], list[tuple[int, int]], int, int,
                                    int, int]) -> None:
        """Send the trades since the last call, then one quote."""
        subscribers = self._subscribers.get((symbol, session))
        if not subscribers:
            return
        messages: list[MarketDataMessage] = [
            Trade(next(self._seqs), now, symbol, session, price, qty) for price, qty in trades]
        bids, asks, last, volume, ind_price, ind_volume = quote_fields
        messages.append(Quote(next(self._seqs), now, symbol, session, bids, asks, last, volume,
                              ind_price, ind_volume))
        for callback in list(subscribers.values()):
            for message in messages:
                callback(message)
