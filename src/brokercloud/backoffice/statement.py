"""The monthly statement (對帳單) of one account, as data: the month's trades, the holdings at
the month's end, the month's cash movements, the net amount of each trading day and the
month's P&L (``performance``: average cost). Rendering
is ``statement_pdf``'s job, so the numbers are tested apart from the layout.

Holdings at the month's end are on a trade-date basis (what the account had traded so far,
settled or not): today's free shares less the cash trades booked after the month, and the
margin and short positions built from the bookings up to it. A depository correction
(``SetHolding``) after the month is not undone, so a statement for an earlier month shows
free shares as corrected.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import msgspec

from brokercloud.backoffice.booking import Booking
from brokercloud.backoffice.cash import CashMove, cash_movements
from brokercloud.backoffice.customers import month_period, trade_history
from brokercloud.backoffice.ledger import Ledger
from brokercloud.backoffice.performance import performance
from brokercloud.backoffice.queries import bookings_of
from brokercloud.core.commands import Credit
from brokercloud.market.fees import trade_value
from brokercloud.market.orders import Side


class StatementHolding(msgspec.Struct, frozen=True):
    """One symbol at the month's end: ``shares`` free (cash), ``financed`` bought on margin,
    ``short`` sold short; ``value`` at ``price`` (None: no price known)."""

    symbol: str
    shares: int
    financed: int
    short: int
    price: int | None
    value: int | None


class Statement(msgspec.Struct, frozen=True, kw_only=True):
    broker: str
    account: str
    name: str
    branch: str
    first: date
    last: date
    trades: list[Booking]
    holdings: list[StatementHolding]
    cash: list[CashMove]
    daily_net: list[tuple[date, int]]  # every trading day of the month, its trades' net
    bought: int  # value of the month's buys
    sold: int
    commission: int
    tax: int
    net: int  # the month's trades' net amount (+ receivable, - payable)
    realized: int  # P&L realized in the month, average cost
    unrealized: int  # of the positions open at the month's end, at the prices given


def statement(ledger: Ledger, broker: str, account: str, month: str, *, name: str = "",
              branch: str = "", prices: Mapping[str, int] | None = None) -> Statement:
    """``month`` as 'YYYY-MM'; ``name`` and ``branch`` from the core's account record;
    ``prices`` (NT$0.01) value the holdings, by default the last marked prices."""
    first, last = month_period(month)
    trades = trade_history(ledger, broker, account, first, last)
    priced = ledger.prices if prices is None else prices
    result = performance(ledger, broker, account, first, last, priced)
    daily: dict[date, int] = {}
    for booking in trades:
        daily[booking.trade_date] = daily.get(booking.trade_date, 0) + booking.net
    days = [date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)]
    return Statement(
        broker=broker, account=account, name=name, branch=branch, first=first, last=last,
        trades=trades,
        holdings=_holdings(ledger, broker, account, last, priced),
        cash=cash_movements(ledger, broker, account, first, last),
        daily_net=[(day, daily.get(day, 0)) for day in days
                   if ledger.calendar.is_trading_day(day)],
        bought=sum(b.value for b in trades if b.side is Side.BUY),
        sold=sum(b.value for b in trades if b.side is Side.SELL),
        commission=sum(b.commission for b in trades), tax=sum(b.tax for b in trades),
        net=sum(b.net for b in trades), realized=result.realized,
        unrealized=result.unrealized)


def _holdings(ledger: Ledger, broker: str, account: str, last: date,
              prices: Mapping[str, int]) -> list[StatementHolding]:
    books = ledger.accounts[account]  # trade_history proved it is the broker's
    free = dict(books.available)
    financed: dict[str, int] = {}
    short: dict[str, int] = {}
    for booking in bookings_of(ledger, broker, account):
        signed = booking.qty if booking.side is Side.BUY else -booking.qty
        if booking.credit is Credit.CASH:
            if booking.trade_date > last:
                free[booking.symbol] -= signed
        elif booking.trade_date <= last:
            into = financed if booking.credit is Credit.MARGIN else short
            sign = 1 if booking.credit is Credit.MARGIN else -1
            into[booking.symbol] = into.get(booking.symbol, 0) + sign * signed
    held = []
    for symbol in sorted(set(free) | set(financed) | set(short)):
        shares, margin, owed = free.get(symbol, 0), financed.get(symbol, 0), short.get(symbol, 0)
        if not (shares or margin or owed):
            continue
        price = prices.get(symbol)
        value = (None if price is None
                 else trade_value(price, shares + margin) - trade_value(price, owed))
        held.append(StatementHolding(symbol, shares, margin, owed, price, value))
    return held
