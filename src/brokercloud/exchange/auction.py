"""Call auctions: TWSE's price rule and the uncross.

The price is the one with the largest executable volume at which every buy above it and every
sell below it fills and at least one side at it fills in full. Among several such prices the one
nearest the anchor wins (the day's last trade, or the reference price before any trade); if two
are equally near, the higher one (platform convention: it never arises with a contiguous set
of candidates around a valid anchor, but the rule must be total).

Everything works on the book's per-level totals, so finding the price costs one pass over the
crossed range of levels, however many orders sit in it.
"""

from __future__ import annotations

from collections import deque
from random import Random

from brokercloud.exchange.book import Book, Order
from brokercloud.exchange.events import Filled


class AuctionResult(tuple[int, int]):
    """(level index, volume in shares)."""

    __slots__ = ()

    @property
    def level(self) -> int:
        return self[0]

    @property
    def volume(self) -> int:
        return self[1]


def auction_price(book: Book, anchor: int) -> AuctionResult | None:
    """The auction level and volume, or None when nothing would trade."""
    low, high = book.best_ask, book.best_bid
    if high < 0 or low > book.top or high < low:
        return None
    bid_qty, ask_qty, prices = book.bid_qty, book.ask_qty, book.prices
    buys_above = 0  # buy shares strictly above level i
    for i in range(book.top, high, -1):
        buys_above += bid_qty[i]
    sells_at_or_below = [0] * (high - low + 1)
    running = sum(ask_qty[: low + 1])
    for i in range(low, high + 1):
        if i > low:
            running += ask_qty[i]
        sells_at_or_below[i - low] = running
    best: tuple[int, int, int, int] | None = None  # (volume, -distance, price, level)
    for i in range(high, low - 1, -1):
        buys_at_or_above = buys_above + bid_qty[i]
        sells = sells_at_or_below[i - low]
        volume = min(buys_at_or_above, sells)
        sells_below = sells - ask_qty[i]
        if volume and buys_above <= volume and sells_below <= volume:
            key = (volume, -abs(prices[i] - anchor), prices[i], i)
            if best is None or key > best:
                best = key
        buys_above = buys_at_or_above
    if best is None:
        return None
    return AuctionResult((best[3], best[0]))


def uncross(book: Book, anchor: int, now: int, rng: Random | None = None) -> AuctionResult | None:
    """Run the auction: fill buys from the highest price and sells from the lowest, each in
    queue order, at one price. With ``rng`` the queue at the auction price is shuffled first
    (random priority, as in fixed-price and odd-lot sessions). Each filled order gets one fill
    event; all share the auction's match ID."""
    result = auction_price(book, anchor)
    if result is None:
        return None
    level, volume = result
    price = book.prices[level]
    match_id = next(book.match_ids)
    if rng is not None:
        _shuffle_level(book.bid_levels[level], rng)
        _shuffle_level(book.ask_levels[level], rng)
    _fill_side(book, book.bid_levels, book.bid_qty, range(book.best_bid, level - 1, -1),
               volume, price, match_id, now)
    _fill_side(book, book.ask_levels, book.ask_qty, range(book.best_ask, level + 1),
               volume, price, match_id, now)
    book.refresh_best()
    book.last_price = price
    book.volume += volume
    if book.tape is not None:
        book.tape.append((price, volume))
    return result


def _shuffle_level(queue: deque[Order], rng: Random) -> None:
    live = [order for order in queue if order.leaves]
    rng.shuffle(live)
    queue.clear()
    queue.extend(live)


def _fill_side(book: Book, levels: list[deque[Order]], qty_at: list[int], walk: range,
               volume: int, price: int, match_id: int, now: int) -> None:
    seqs, emit, symbol = book.seqs, book.emit, book.symbol
    left = volume
    for i in walk:
        queue = levels[i]
        while left and queue:
            order = queue[0]
            leaves = order.leaves
            if leaves == 0:
                queue.popleft()
                continue
            qty = leaves if leaves < left else left
            left -= qty
            leaves -= qty
            order.leaves = leaves
            order.cum_qty += qty
            qty_at[i] -= qty
            emit(Filled(next(seqs), now, order.order_id, order.broker, order.account,
                        order.cl_ord_id, symbol, order.side, price, qty, leaves, order.cum_qty,
                        match_id))
            if leaves:
                break
            order.level = -1
            queue.popleft()
        if not qty_at[i]:
            queue.clear()
        if not left:
            return
