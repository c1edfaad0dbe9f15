"""T+2 settlement: what one settlement date moves, and moving it.

Booking adds each fill's movements to the ``Day`` of its settlement date; ``settle_day``
then moves them in one pass over accounts, not fills. Every movement has two sides, so
across investors, brokers and the exchange cash and each symbol's shares sum to zero on every
settlement date (the conservation test); a defaulting investor's cash is laid out by the
broker and the shares they bought are withheld by the broker, which keeps the sums whole.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import msgspec

from brokercloud.backoffice.accounts import FREE, AccountBooks, AccountDay
from brokercloud.backoffice.nets import BrokerNet
from brokercloud.core.commands import AccountStatus, SetAccountStatus
from brokercloud.market.sessions import TAIWAN

#: A broker reports an investor's default by 11:00 on T+2 (MARKET_RULES); the status change
#: for the core carries that moment as its time.
DEFAULT_REPORT_TIME = time(11, 0)
EXCHANGE = "exchange"

Position = tuple[str, str]  # (account or broker, symbol)


class Day:
    """Everything settling on one date, by account."""

    __slots__ = ("accounts", "settle_date", "trade_date")

    def __init__(self, trade_date: date, settle_date: date) -> None:
        self.trade_date = trade_date
        self.settle_date = settle_date
        self.accounts: dict[str, AccountDay] = {}

    def broker_nets(self, accounts: dict[str, AccountBooks]) -> list[BrokerNet]:
        """Each broker's multilateral net with the exchange: cash, and shares per symbol
        (the exchange delivers a buy, in any credit, and takes a sell)."""
        cash: dict[str, int] = {}
        shares: dict[str, dict[str, int]] = {}
        for account, part in self.accounts.items():
            broker = accounts[account].broker
            _add(cash, broker, part.exchange_cash)
            by_symbol = shares.setdefault(broker, {})
            for symbol, (free, pledged, owed) in part.shares.items():
                _add(by_symbol, symbol, free + pledged - owed)
        return [BrokerNet(broker, self.trade_date, self.settle_date, amount,
                          {symbol: qty for symbol, qty in shares[broker].items() if qty})
                for broker, amount in sorted(cash.items())]


class DefaultRecord(msgspec.Struct, frozen=True):
    """An investor who did not pay: the start of the broker's default workflow. The broker
    paid ``owed`` on their behalf and holds ``withheld`` shares (by symbol) until the case
    closes."""

    broker: str
    account: str
    settle_date: date
    owed: int
    withheld: dict[str, int]


class SettlementReport(msgspec.Struct, frozen=True):
    """What moved on one date. ``investors``: each paying or paid investor's cash by account;
    ``cash`` per party ("investors" together, each "broker:CODE", the "exchange"); ``shares``
    per party and symbol (investors' depository and margin accounts together). ``cash`` and
    each symbol of ``shares`` sum to zero."""

    settle_date: date
    investors: dict[str, int]
    cash: dict[str, int]
    shares: dict[str, dict[str, int]]
    defaults: list[DefaultRecord]
    status_changes: list[SetAccountStatus]


class Balances:
    """What settlement has moved so far for brokers and the exchange (investors' balances are
    on their ``AccountBooks``)."""

    def __init__(self) -> None:
        self.broker_cash: dict[str, int] = {}
        self.broker_shares: dict[Position, int] = {}
        self.exchange_cash = 0
        self.exchange_shares: dict[str, int] = {}


def _add(target: dict[Any, int], key: object, amount: int) -> None:
    """Add to a running total; a zero changes nothing and creates no entry."""
    if amount:
        target[key] = target.get(key, 0) + amount


def settle_day(day: Day, books: Balances,
               accounts: dict[str, AccountBooks]) -> SettlementReport:
    """Move ``day``: investors pay or are paid, shares are booked by the depository, margin
    loans and short collateral recorded, each broker settles its net with the exchange.

    An investor whose bank account cannot cover their payable defaults (all or nothing): the
    broker pays for them and withholds the shares they bought for cash and still have
    (``available``, as traded; shares already sold on must still reach the buyer). Shares
    bought on margin are already in the broker's custody as collateral. One pass over the
    day's accounts, each touching only its own small dictionaries."""
    investors: dict[str, int] = {}
    investor_shares: dict[str, int] = {}
    broker_cash: dict[str, int] = {}
    broker_shares: dict[Position, int] = {}  # withheld shares in, shares lent to shorts out
    defaults: list[DefaultRecord] = []
    exchange_cash = 0
    for name, part in day.accounts.items():
        account = accounts[name]
        del account.days[day.settle_date]
        broker = account.broker
        net = part.receivable - part.payable
        withheld: dict[str, int] = {}
        if net < 0 and account.bank < -net:
            withheld = _withhold(part.shares, account.available)
            for symbol, qty in withheld.items():
                account.available[symbol] -= qty  # withheld: no longer theirs to sell
            defaults.append(DefaultRecord(broker, name, day.settle_date, -net, withheld))
            broker_cash[broker] = broker_cash.get(broker, 0) + net
        else:
            account.bank += net
            investors[name] = net
        broker_cash[broker] = broker_cash.get(broker, 0) + part.broker_cash
        exchange_cash -= part.exchange_cash
        for symbol, (free, pledged, owed) in part.shares.items():
            kept = withheld.get(symbol, 0) if withheld else 0
            delivered = free - kept
            if delivered:
                account.depository[symbol] = account.depository.get(symbol, 0) + delivered
            if pledged:
                account.pledged[symbol] = account.pledged.get(symbol, 0) + pledged
            if owed:
                account.owed[symbol] = account.owed.get(symbol, 0) + owed
            if kept or owed:
                _add(broker_shares, (broker, symbol), kept - owed)
            if delivered or pledged:
                investor_shares[symbol] = investor_shares.get(symbol, 0) + delivered + pledged
        account.loans += part.loans
        account.held += part.held
    return _report(day.settle_date, books, investors, investor_shares, broker_cash,
                   broker_shares, exchange_cash, defaults)


def _report(settle_date: date, books: Balances, investors: dict[str, int],
            investor_shares: dict[str, int], broker_cash: dict[str, int],
            broker_shares: dict[Position, int], exchange_cash: int,
            defaults: list[DefaultRecord]) -> SettlementReport:
    """Brokers' and the exchange's side of the day, into their balances and the report."""
    cash = {"investors": sum(investors.values()), EXCHANGE: exchange_cash}
    for broker, amount in broker_cash.items():
        _add(books.broker_cash, broker, amount)
        cash[f"broker:{broker}"] = amount
    books.exchange_cash += exchange_cash
    shares: dict[str, dict[str, int]] = {"investors": investor_shares}
    exchange = {symbol: -qty for symbol, qty in investor_shares.items()}
    for (broker, symbol), qty in broker_shares.items():
        _add(books.broker_shares, (broker, symbol), qty)
        _add(shares.setdefault(f"broker:{broker}", {}), symbol, qty)
        _add(exchange, symbol, -qty)
    for symbol, qty in exchange.items():
        _add(books.exchange_shares, symbol, qty)
    shares[EXCHANGE] = exchange
    deadline = int(datetime.combine(settle_date, DEFAULT_REPORT_TIME, TAIWAN).timestamp()
                   * 1000)
    defaults.sort(key=lambda record: record.account)
    return SettlementReport(settle_date, investors, cash, _nonzero(shares), defaults, [
        SetAccountStatus(at=deadline, account=record.account, status=AccountStatus.DEFAULTED)
        for record in defaults])


def _nonzero(shares: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    moved = {party: {symbol: qty for symbol, qty in by_symbol.items() if qty}
             for party, by_symbol in shares.items()}
    return {party: by_symbol for party, by_symbol in moved.items() if by_symbol}


def _withhold(shares: dict[str, list[int]], available: dict[str, int]) -> dict[str, int]:
    """The shares a defaulter bought for cash that they still have, by symbol."""
    withheld = {symbol: min(moved[FREE], max(available.get(symbol, 0), 0))
                for symbol, moved in shares.items() if moved[FREE] > 0}
    return {symbol: qty for symbol, qty in withheld.items() if qty}
