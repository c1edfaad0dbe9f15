"""One order book per symbol and session, indexed by tick.

The day's limits bound every price, so each side is a plain list with one FIFO queue per valid
price between limit-down and limit-up (a few hundred at most): finding a level is one dict
lookup, and the best price moves by scanning a short array instead of maintaining a tree.

Cancelled orders are not searched for inside their queue: their open quantity drops to zero and
the matcher discards them when it reaches them (lazy deletion); a level whose open quantity
reaches zero is cleared at once, so dead entries never pile up behind live ones for long.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from itertools import count

import msgspec

from brokercloud.exchange.events import Event, Filled
from brokercloud.market.orders import OrderType, Side, TimeInForce
from brokercloud.market.sessions import Session

BUY = Side.BUY
SELL = Side.SELL
MARKET = OrderType.MARKET


class Order(msgspec.Struct, gc=False):
    """The exchange's working copy of an order. ``leaves`` is 0 once it left the book."""

    order_id: int
    broker: str
    account: str
    cl_ord_id: str
    symbol: str
    session: Session
    side: Side
    order_type: OrderType
    tif: TimeInForce
    price: int
    qty: int
    leaves: int
    cum_qty: int = 0
    level: int = -1  # index of the price level it rests on, -1 if not resting
    entered: int = 0  # time of day it took its current place in the queue


class Book:
    """Price-time priority book over a fixed ladder of valid prices."""

    __slots__ = (
        "ask_levels",
        "ask_qty",
        "band_high",
        "band_low",
        "best_ask",
        "best_bid",
        "bid_levels",
        "bid_qty",
        "emit",
        "halted",
        "index",
        "last_price",
        "match_ids",
        "prices",
        "seqs",
        "session",
        "symbol",
        "tape",
        "top",
        "volume",
    )

    def __init__(self, symbol: str, session: Session, prices: list[int],
                 seqs: Iterator[int], match_ids: Iterator[int],
                 emit: Callable[[Event], object]) -> None:
        n = len(prices)
        self.symbol = symbol
        self.session = session
        self.prices = prices
        self.index = {price: i for i, price in enumerate(prices)}
        self.top = n - 1
        self.bid_levels: list[deque[Order]] = [deque() for _ in range(n)]
        self.ask_levels: list[deque[Order]] = [deque() for _ in range(n)]
        self.bid_qty = [0] * n
        self.ask_qty = [0] * n
        self.best_bid = -1  # highest bid level with open quantity, -1 if none
        self.best_ask = n  # lowest ask level with open quantity, n if none
        self.seqs = seqs
        self.match_ids = match_ids
        self.emit = emit
        self.last_price = 0
        self.volume = 0
        self.tape: list[tuple[int, int]] | None = None  # (price, shares) per trade when watched
        # price stabilisation: continuous matching stops before trading outside these levels
        self.band_low = 0
        self.band_high = n - 1
        self.halted = False

    # -- resting and removing -------------------------------------------------------------

    def rest(self, order: Order, level: int, now: int) -> None:
        """Queue an order at the back of its level (market orders: behind other market orders,
        ahead of the limit orders at that price)."""
        order.level = level
        order.entered = now
        if order.side is BUY:
            queue = self.bid_levels[level]
            self.bid_qty[level] += order.leaves
            if level > self.best_bid:
                self.best_bid = level
        else:
            queue = self.ask_levels[level]
            self.ask_qty[level] += order.leaves
            if level < self.best_ask:
                self.best_ask = level
        if order.order_type is MARKET:
            ahead = 0
            for queued in queue:
                if queued.order_type is not MARKET:
                    break
                ahead += 1
            queue.insert(ahead, order)
        else:
            queue.append(order)

    def remove(self, order: Order) -> int:
        """Take an order's open quantity out of the book; returns that quantity."""
        qty = order.leaves
        level = order.level
        order.leaves = 0
        order.level = -1
        if order.side is BUY:
            left = self.bid_qty[level] - qty
            self.bid_qty[level] = left
            if left == 0:
                self.bid_levels[level].clear()
                if level == self.best_bid:
                    self._lower_best_bid()
        else:
            left = self.ask_qty[level] - qty
            self.ask_qty[level] = left
            if left == 0:
                self.ask_levels[level].clear()
                if level == self.best_ask:
                    self._raise_best_ask()
        return qty

    def reduce(self, order: Order, new_leaves: int) -> None:
        """Lower an order's open quantity in place; it keeps its place in the queue."""
        cut = order.leaves - new_leaves
        order.leaves = new_leaves
        order.qty -= cut
        if order.side is BUY:
            self.bid_qty[order.level] -= cut
        else:
            self.ask_qty[order.level] -= cut

    def refresh_best(self) -> None:
        """Re-derive the best levels after an auction emptied levels from the top."""
        self._lower_best_bid()
        self._raise_best_ask()

    def _lower_best_bid(self) -> None:
        qty = self.bid_qty
        i = self.best_bid
        while i >= 0 and qty[i] == 0:
            i -= 1
        self.best_bid = i

    def _raise_best_ask(self) -> None:
        qty = self.ask_qty
        i = self.best_ask
        n = self.top + 1
        while i < n and qty[i] == 0:
            i += 1
        self.best_ask = i

    # -- continuous matching ----------------------------------------------------------------

    def available(self, side: Side, limit: int, needed: int) -> bool:
        """Whether the opposite side holds ``needed`` shares at prices ``limit`` or better (FOK)."""
        total = 0
        if side is BUY:
            qty = self.ask_qty
            for i in range(self.best_ask, limit + 1):
                total += qty[i]
                if total >= needed:
                    return True
        else:
            qty = self.bid_qty
            for i in range(self.best_bid, limit - 1, -1):
                total += qty[i]
                if total >= needed:
                    return True
        return False

    def match(self, order: Order, limit: int, now: int) -> None:  # noqa: PLR0915 (hot loop)
        """Trade an incoming order against the opposite side up to level ``limit``, at the
        resting orders' prices, in price-time priority."""
        if order.side is BUY:
            levels, qty_at, sign = self.ask_levels, self.ask_qty, 1
            best = self.best_ask
            if best > limit:
                return
        else:
            levels, qty_at, sign = self.bid_levels, self.bid_qty, -1
            best = self.best_bid
            if best < limit or best < 0:
                return
        seqs = self.seqs
        emit = self.emit
        tape = self.tape
        symbol = self.symbol
        prices = self.prices
        leaves = order.leaves
        cum = order.cum_qty
        end = self.top + 1
        band_low, band_high = self.band_low, self.band_high
        traded = 0
        price = 0
        while leaves:
            if best < band_low or best > band_high:
                self.halted = True  # the next fill would leave the stabilisation band
                break
            queue = levels[best]
            price = prices[best]
            level_left = qty_at[best]
            while leaves and queue:
                resting = queue[0]
                rest_leaves = resting.leaves
                if rest_leaves == 0:
                    queue.popleft()
                    continue
                qty = leaves if leaves < rest_leaves else rest_leaves
                leaves -= qty
                cum += qty
                rest_leaves -= qty
                level_left -= qty
                traded += qty
                resting.leaves = rest_leaves
                resting.cum_qty += qty
                match_id = next(self.match_ids)
                emit(Filled(next(seqs), now, resting.order_id, resting.broker, resting.account,
                            resting.cl_ord_id, symbol, resting.side, price, qty, rest_leaves,
                            resting.cum_qty, match_id))
                emit(Filled(next(seqs), now, order.order_id, order.broker, order.account,
                            order.cl_ord_id, symbol, order.side, price, qty, leaves, cum,
                            match_id))
                if tape is not None:
                    tape.append((price, qty))
                if rest_leaves == 0:
                    resting.level = -1
                    queue.popleft()
            qty_at[best] = level_left
            if level_left:
                break
            queue.clear()
            best += sign
            while 0 <= best < end and qty_at[best] == 0:
                best += sign
            if best == end or best < 0 or (best > limit if sign == 1 else best < limit):
                break
        order.leaves = leaves
        order.cum_qty = cum
        if sign == 1:
            self.best_ask = best
        else:
            self.best_bid = best
        if traded:
            self.last_price = price
            self.volume += traded

    # -- views ------------------------------------------------------------------------------

    def depth(self, levels: int = 5) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Best ``levels`` bids (high to low) and asks (low to high) as (price, shares)."""
        bids: list[tuple[int, int]] = []
        i = self.best_bid
        while i >= 0 and len(bids) < levels:
            if self.bid_qty[i]:
                bids.append((self.prices[i], self.bid_qty[i]))
            i -= 1
        asks: list[tuple[int, int]] = []
        i = self.best_ask
        while i <= self.top and len(asks) < levels:
            if self.ask_qty[i]:
                asks.append((self.prices[i], self.ask_qty[i]))
            i += 1
        return bids, asks

    def resting(self) -> Iterator[Order]:
        """Every live order in the book, bids then asks, in priority order within a level."""
        for levels in (self.bid_levels, self.ask_levels):
            for queue in levels:
                for order in queue:
                    if order.leaves:
                        yield order

    def is_crossed(self) -> bool:
        return self.best_bid >= 0 and self.best_ask <= self.top and self.best_bid >= self.best_ask

    def validate(self) -> None:
        """Prove the book is internally consistent (tests call this after every step)."""
        for side_levels, side_qty in ((self.bid_levels, self.bid_qty),
                                      (self.ask_levels, self.ask_qty)):
            for i, queue in enumerate(side_levels):
                live = sum(o.leaves for o in queue)
                if live != side_qty[i]:
                    raise AssertionError(f"level {i}: queued {live} != counted {side_qty[i]}")
                for o in queue:
                    if o.leaves and o.level != i:
                        raise AssertionError(f"order {o.order_id} at level {i} says {o.level}")
        expect_bid = max((i for i, q in enumerate(self.bid_qty) if q), default=-1)
        expect_ask = min((i for i, q in enumerate(self.ask_qty) if q), default=self.top + 1)
        if (expect_bid, expect_ask) != (self.best_bid, self.best_ask):
            raise AssertionError(
                f"best bid/ask {self.best_bid}/{self.best_ask}, expected {expect_bid}/{expect_ask}")


def new_counter() -> Iterator[int]:
    """Sequence numbers start at 1 so 0 can mean 'none'."""
    return count(1)
