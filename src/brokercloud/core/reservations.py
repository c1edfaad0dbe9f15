"""What an open order holds against its account's limits, as a function of its open quantity.

Recomputing from ``leaves`` after every fill, cancel or amendment (instead of subtracting
running pieces) means a reservation can never drift: when ``leaves`` reaches zero it is zero.
A fill releases the reservation of the filled shares and charges what they really cost, so a
better price (price improvement) frees the difference at once.
"""

from __future__ import annotations

from brokercloud.core.commands import Credit
from brokercloud.core.model import Listed, Order
from brokercloud.market.fees import FeeSchedule, buy_amount
from brokercloud.market.orders import OrderType, Side

FINANCING_PPM = 600_000  # a margin buy's loan: up to 60% of its value
SHORT_MARGIN_PPM = 900_000  # a short sale's margin: at least 90% of its value
_PPM = 1_000_000


def financing(value: int) -> int:
    """Margin loan: 60% of value, rounded down to NT$1,000 (platform convention)."""
    return value * FINANCING_PPM // _PPM // 1_000 * 1_000


def short_margin(value: int) -> int:
    """Short-sale margin: 90% of value, rounded up to NT$100 (platform convention)."""
    return -(-value * SHORT_MARGIN_PPM // _PPM // 100) * 100 if value else 0


def reference_price(order: Order, listed: Listed) -> int:
    """The price an order's money is reserved at: its limit, or the worst it may trade at."""
    if order.order_type is OrderType.MARKET:
        return listed.limit_up if order.side is Side.BUY else listed.limit_down
    return order.price


def holds(order: Order, price: int, shares: int, fees: FeeSchedule) -> tuple[int, int]:
    """(trading-limit NT$, credit-limit NT$) that ``shares`` of this order at ``price`` take:
    a buy its cost (a margin buy splits it into own part and loan), a short sale its margin."""
    if shares <= 0:
        return 0, 0
    if order.side is Side.BUY:
        total = buy_amount(price, shares, fees)
        if order.credit is Credit.MARGIN:
            loan = financing(price * shares // 100)
            return total - loan, loan
        return total, 0
    if order.credit is Credit.SHORT:
        return 0, short_margin(-(-price * shares // 100))
    return 0, 0


def reservation(order: Order, shares: int, listed: Listed, fees: FeeSchedule) -> tuple[int, int]:
    """What ``shares`` of this order still open hold, at its reference price."""
    return holds(order, reference_price(order, listed), shares, fees)
