"""T+2 settlement: what one settlement date moves, and moving it.

Booking adds each fill's movements to the ``Day`` of its settlement date; ``settle_day``
then moves them in one pass over accounts, not fills. Every movement has two sides, so
across investors, brokers and the exchange cash and each symbol's shares sum to zero on every
settlement date (the conservation test); a defaulting investor's cash is laid out by the
broker and the shares they bought are withheld by the broker, which keeps the sums whole.
"""

from __future__ import annotations

from datetime import date, datetime, time

import msgspec

from brokercloud.backoffice.nets import BrokerNet, Running
from brokercloud.core.commands import AccountStatus, SetAccountStatus
from brokercloud.market.sessions import TAIWAN

#: A broker reports an investor's default by 11:00 on T+2 (MARKET_RULES); the status change
#: for the core carries that moment as its time.
DEFAULT_REPORT_TIME = time(11, 0)
EXCHANGE = "exchange"

Position = tuple[str, str]  # (account or broker, symbol)


class Day:
    """Everything settling on one date, accumulated fill by fill."""

    __slots__ = ("broker_cash", "broker_shares", "exchange_cash", "exchange_shares", "free",
                 "held", "loans", "nets", "owed", "pledged", "settle_date", "trade_date")

    def __init__(self, trade_date: date, settle_date: date) -> None:
        self.trade_date = trade_date
        self.settle_date = settle_date
        self.nets: dict[str, Running] = {}  # investor's cash, by account
        self.free: dict[Position, int] = {}  # depository account shares
        self.pledged: dict[Position, int] = {}  # margin account shares (financing collateral)
        self.owed: dict[Position, int] = {}  # shares an investor owes on short sales
        self.loans: dict[str, int] = {}  # financing granted minus repaid, by account
        self.held: dict[str, int] = {}  # short margin and proceeds the broker holds
        self.broker_cash: dict[str, int] = {}  # what each broker keeps or lays out
        self.broker_shares: dict[Position, int] = {}  # shares brokers lend or get back (shorts)
        self.exchange_cash: dict[str, int] = {}  # each broker's net with the exchange
        self.exchange_shares: dict[Position, int] = {}  # (broker, symbol) from the exchange

    def broker_nets(self) -> list[BrokerNet]:
        """Each broker's multilateral net with the exchange (multilateral netting)."""
        shares: dict[str, dict[str, int]] = {}
        for (broker, symbol), qty in self.exchange_shares.items():
            shares.setdefault(broker, {})[symbol] = qty
        return [BrokerNet(broker, self.trade_date, self.settle_date, cash,
                          shares.get(broker, {}))
                for broker, cash in sorted(self.exchange_cash.items())]


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
    """What moved on one date. ``cash`` per party ("investor:ACCOUNT", "broker:CODE",
    "exchange"), ``shares`` per party and symbol; both sum to zero."""

    settle_date: date
    cash: dict[str, int]
    shares: dict[str, dict[str, int]]
    defaults: list[DefaultRecord]
    status_changes: list[SetAccountStatus]


class Balances:
    """What settlement has moved so far: the books after the last settled date."""

    def __init__(self) -> None:
        self.bank: dict[str, int] = {}  # investors' settlement bank accounts
        self.depository: dict[Position, int] = {}
        self.pledged: dict[Position, int] = {}
        self.owed: dict[Position, int] = {}
        self.loans: dict[str, int] = {}
        self.held: dict[str, int] = {}
        self.broker_cash: dict[str, int] = {}
        self.broker_shares: dict[Position, int] = {}
        self.exchange_cash = 0
        self.exchange_shares: dict[str, int] = {}


def _add(target: dict, key: object, amount: int) -> None:  # type: ignore[type-arg]
    target[key] = target.get(key, 0) + amount


def settle_day(day: Day, books: Balances, brokers_of: dict[str, str],
               available: dict[Position, int]) -> SettlementReport:
    """Move ``day``: investors pay or are paid, shares are booked by the depository, margin
    loans and short collateral recorded, the exchange settles each broker's net.

    An investor whose bank account cannot cover their payable defaults (all or nothing): the
    broker pays for them and withholds the shares they bought for cash and still have
    (``available``, as traded; shares already sold on must still reach the buyer). Shares
    bought on margin are already in the broker's custody as collateral."""
    cash: dict[str, int] = {}
    shares: dict[str, dict[str, int]] = {}
    defaulted: dict[str, DefaultRecord] = {}
    for account, running in day.nets.items():
        net = running.net
        balance = books.bank.get(account, 0)
        if net < 0 and balance < -net:
            broker = brokers_of[account]
            defaulted[account] = DefaultRecord(broker, account, day.settle_date, -net, {})
            _add(cash, f"broker:{broker}", net)
            continue
        books.bank[account] = balance + net
        _add(cash, f"investor:{account}", net)
    for (account, symbol), qty in day.free.items():
        record = defaulted.get(account)
        withheld = 0
        if record is not None and qty > 0:
            withheld = min(qty, max(available.get((account, symbol), 0), 0))
            if withheld:
                record.withheld[symbol] = withheld
            _add(books.broker_shares, (record.broker, symbol), withheld)
            _add(shares.setdefault(f"broker:{record.broker}", {}), symbol, withheld)
        _add(books.depository, (account, symbol), qty - withheld)
        _add(shares.setdefault(f"investor:{account}", {}), symbol, qty - withheld)
    for (account, symbol), qty in day.pledged.items():
        _add(books.pledged, (account, symbol), qty)
        _add(shares.setdefault(f"investor:{account}", {}), symbol, qty)
    for (account, symbol), qty in day.owed.items():
        _add(books.owed, (account, symbol), qty)
    for source, target in ((day.loans, books.loans), (day.held, books.held)):
        for account, amount in source.items():
            _add(target, account, amount)
    for broker, amount in day.broker_cash.items():
        _add(books.broker_cash, broker, amount)
        _add(cash, f"broker:{broker}", amount)
    for (broker, symbol), qty in day.broker_shares.items():
        _add(books.broker_shares, (broker, symbol), qty)
        _add(shares.setdefault(f"broker:{broker}", {}), symbol, qty)
    exchange_cash = -sum(day.exchange_cash.values())
    books.exchange_cash += exchange_cash
    cash[EXCHANGE] = exchange_cash
    exchange_shares = shares.setdefault(EXCHANGE, {})
    for (_, symbol), qty in day.exchange_shares.items():
        _add(exchange_shares, symbol, -qty)
        _add(books.exchange_shares, symbol, -qty)
    for record in defaulted.values():
        _add(books.broker_cash, record.broker, -record.owed)
    deadline = int(datetime.combine(day.settle_date, DEFAULT_REPORT_TIME, TAIWAN).timestamp()
                   * 1000)
    records = sorted(defaulted.values(), key=lambda record: record.account)
    return SettlementReport(day.settle_date, cash, shares, records, [
        SetAccountStatus(at=deadline, account=record.account, status=AccountStatus.DEFAULTED)
        for record in records])
