"""TWSE's price-stabilisation measure (switchable): a fill more than 3.5% away from the
stabilisation reference pauses continuous matching for two minutes, then a call auction resumes
it; the same test at the opening and closing auctions delays them by two minutes.

The reference is the opening price during 09:00-09:05 and the volume-weighted average price of
the last five minutes after that. This module only keeps that reference and turns it into the
band of book levels allowed to trade; the engine pauses and resumes.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import deque

from brokercloud.market.sessions import OPEN, at

BAND_PPM = 35_000  # 3.5%
PAUSE_MS = 2 * 60 * 1_000
VWAP_WINDOW_MS = 5 * 60 * 1_000
OPENING_PRICE_UNTIL = at(9, 5)
_PPM = 1_000_000


class Stabilizer:
    """The stabilisation reference of one symbol's board-lot book."""

    __slots__ = ("_qty", "_trades", "_value", "last_vwap", "opening_price", "prices")

    def __init__(self, prices: list[int], reference: int) -> None:
        self.prices = prices
        self.opening_price = 0
        self.last_vwap = reference  # used when the window holds no trade
        self._trades: deque[tuple[int, int, int]] = deque()  # (time, price x qty, qty)
        self._value = 0
        self._qty = 0

    def record(self, now: int, trades: list[tuple[int, int]]) -> None:
        """Add trades (price, qty) made at ``now`` (only continuous trades count)."""
        for price, qty in trades:
            if not self.opening_price and now >= OPEN:
                self.opening_price = price
            self._trades.append((now, price * qty, qty))
            self._value += price * qty
            self._qty += qty

    def reference(self, now: int) -> int:
        if now < OPENING_PRICE_UNTIL and self.opening_price:
            return self.opening_price
        trades = self._trades
        while trades and trades[0][0] <= now - VWAP_WINDOW_MS:
            _, value, qty = trades.popleft()
            self._value -= value
            self._qty -= qty
        if self._qty:
            self.last_vwap = self._value // self._qty
        return self.last_vwap

    def band(self, now: int) -> tuple[int, int]:
        """(lowest, highest) book level that may trade without pausing."""
        return band_levels(self.prices, self.reference(now))


def band_levels(prices: list[int], reference: int) -> tuple[int, int]:
    """Levels whose price is within 3.5% of ``reference`` (exactly 3.5% is still inside)."""
    low = -(-reference * (_PPM - BAND_PPM) // _PPM)
    high = reference * (_PPM + BAND_PPM) // _PPM
    return bisect_left(prices, low), bisect_right(prices, high) - 1


def outside_band(prices: list[int], level: int, reference: int) -> bool:
    low, high = band_levels(prices, reference)
    return level < low or level > high
