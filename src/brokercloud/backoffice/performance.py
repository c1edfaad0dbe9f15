"""Each customer's performance: realized P&L by moving average cost, unrealized P&L at given
prices, and what they paid in commission, tax, short-sale fees and financing interest.

Average cost (移動平均成本), as Taiwan brokers' statements show it: a position's cost is
what opening it cost in cash, commission included (a buy's value plus commission; a short
sale's proceeds net of commission, tax and the short-sale fee); closing part of it takes the
same share of that cost, truncated to NT$1 (``cost * closed // open``), and realizes what
closing brought in (a sell's value less commission, tax and financing interest; a cover's
value plus commission) against it. Cash, margin (financed) and short positions are kept apart
per symbol, as the ledger keeps them: a margin sell repays financed shares, a cash sell sells
free ones.

Shares with no cost the back office knows (opening depository holdings, bought before the
books started) are not in the average: a sale closes the costed shares first, and the part
beyond them realizes nothing and is counted in ``uncosted_shares``, so no P&L figure is made
up.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import msgspec

from brokercloud.backoffice.booking import Booking
from brokercloud.backoffice.customers import CustomerError, check_period
from brokercloud.backoffice.ledger import Ledger
from brokercloud.backoffice.queries import bookings_of
from brokercloud.codes import Code
from brokercloud.core.commands import Credit
from brokercloud.market.fees import trade_value
from brokercloud.market.orders import Side


class Position(msgspec.Struct, frozen=True):
    """An open position after the period: ``qty`` shares (negative: short) costing ``cost``
    NT$ (a short's: the net proceeds it opened with); ``unrealized`` at ``price`` (None: no
    price given for the symbol)."""

    symbol: str
    credit: Credit
    qty: int
    cost: int
    price: int | None
    unrealized: int | None


class Performance(msgspec.Struct, frozen=True, kw_only=True):
    """One account over ``first`` .. ``last``: P&L realized in the period, what it paid in
    the period, and its open positions at the end valued at the given prices."""

    account: str
    first: date
    last: date
    realized: int
    unrealized: int  # over the positions with a price
    commission: int
    tax: int
    short_fees: int
    interest: int
    uncosted_shares: int
    positions: list[Position]


class _Open:
    """One symbol's cash, margin or short position as average cost sees it."""

    __slots__ = ("cost", "qty")

    def __init__(self) -> None:
        self.qty = 0
        self.cost = 0

    def open(self, qty: int, cost: int) -> None:
        self.qty += qty
        self.cost += cost

    def close(self, qty: int) -> tuple[int, int]:
        """(shares closed against the position, their share of its cost)."""
        closed = min(qty, self.qty)
        if not closed:
            return 0, 0
        cost = self.cost * closed // self.qty
        self.qty -= closed
        self.cost -= cost
        return closed, cost


def _cash_in(booking: Booking) -> int:
    """What the fill brought the investor's side of the trade, before any loan: a sale's
    value less its charges, or minus a purchase's value and commission."""
    if booking.side is Side.SELL:
        return (booking.value - booking.commission - booking.tax - booking.fee
                - booking.interest)
    return -(booking.value + booking.commission)


def performance(ledger: Ledger, broker: str, account: str, first: date, last: date,
                prices: Mapping[str, int]) -> Performance:
    """Replay the account's bookings traded up to ``last`` by average cost; realize only
    what closed from ``first`` on. ``prices`` (NT$0.01) value what is still open."""
    check_period(first, last)
    owned = ledger.accounts.get(account)
    if owned is None or owned.broker != broker:
        raise CustomerError(Code.UNKNOWN_CUSTOMER)
    if any(type(price) is not int or price <= 0 for price in prices.values()):
        raise CustomerError(Code.INVALID_MARK_PRICE)
    books: dict[tuple[str, Credit], _Open] = {}
    realized = commission = tax = fees = interest = uncosted = 0
    for booking in sorted(bookings_of(ledger, broker, account),
                          key=lambda booking: booking.trade_date):
        if booking.trade_date > last:
            continue
        short = booking.credit is Credit.SHORT
        book = books.setdefault((booking.symbol, booking.credit), _Open())
        cash = _cash_in(booking)
        opening = booking.side is (Side.SELL if short else Side.BUY)
        in_period = booking.trade_date >= first
        if opening:
            book.open(booking.qty, cash if short else -cash)
        else:
            closed, cost = book.close(booking.qty)
            part = cash * closed // booking.qty  # the share of the fill that had a cost
            if in_period:
                realized += part - cost if not short else cost + part
                uncosted += booking.qty - closed
        if in_period:
            commission += booking.commission
            tax += booking.tax
            fees += booking.fee
            interest += booking.interest
    positions = _positions(books, prices)
    return Performance(
        account=account, first=first, last=last, realized=realized,
        unrealized=sum(p.unrealized for p in positions if p.unrealized is not None),
        commission=commission, tax=tax, short_fees=fees, interest=interest,
        uncosted_shares=uncosted, positions=sorted(positions, key=lambda p: (p.symbol, p.credit)))


def _positions(books: dict[tuple[str, Credit], _Open],
               prices: Mapping[str, int]) -> list[Position]:
    """Open positions; a long gains what its value exceeds its cost, a short what its
    proceeds exceed the value it must buy back at."""
    found = []
    for (symbol, credit), book in books.items():
        if not book.qty:
            continue
        sign = -1 if credit is Credit.SHORT else 1
        price = prices.get(symbol)
        unrealized = (None if price is None
                      else sign * (trade_value(price, book.qty) - book.cost))
        found.append(Position(symbol, credit, sign * book.qty, book.cost, price, unrealized))
    return found
