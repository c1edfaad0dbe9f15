"""A small back-office world: two brokers, their accounts, 2330 and 0050, and terse fills."""

from __future__ import annotations

import itertools
from datetime import date

from brokercloud.backoffice import commands as b
from brokercloud.backoffice.ledger import Ledger
from brokercloud.core.commands import Credit
from brokercloud.market.fees import FeeSchedule
from brokercloud.market.instruments import InstrumentKind
from brokercloud.market.orders import Side

BROKER = "9A00"
OTHER_BROKER = "9B00"
ACCOUNT = "12345678"  # the thesis's account, at BROKER
DISCOUNTED = "11112222"  # 60% of the standard rate, at BROKER
DAY_TRADER = "33334444"  # day-trading account, at BROKER
OTHER_ACCOUNT = "87654321"  # at OTHER_BROKER
TSMC, ETF = "2330", "0050"
BUY, SELL = Side.BUY, Side.SELL
CASH, MARGIN, SHORT = Credit.CASH, Credit.MARGIN, Credit.SHORT
WED = date(2026, 11, 25)  # a trading Wednesday; T+2 is Friday 2026-11-27
THU = date(2026, 11, 26)  # T+2 across the weekend: Monday 2026-11-30
FRI = date(2026, 11, 27)  # WED's settlement date
HOLDING = 20_000  # shares of 2330 every account holds in its depository account
FUNDS = 5_000_000  # NT$ in every account's settlement bank account

_exec_ids = itertools.count(1)


def reference() -> list[b.BoCmd]:
    fees = FeeSchedule()
    commands: list[b.BoCmd] = [
        b.RegisterBroker(broker=BROKER), b.RegisterBroker(broker=OTHER_BROKER),
        b.RegisterSymbol(symbol=TSMC), b.RegisterSymbol(symbol=ETF, kind=InstrumentKind.ETF),
        b.RegisterAccount(account=ACCOUNT, broker=BROKER, fees=fees),
        b.RegisterAccount(account=DISCOUNTED, broker=BROKER,
                          fees=FeeSchedule(discount_bp=6_000)),
        b.RegisterAccount(account=DAY_TRADER, broker=BROKER, fees=fees, day_trading=True),
        b.RegisterAccount(account=OTHER_ACCOUNT, broker=OTHER_BROKER, fees=fees),
    ]
    for account in (ACCOUNT, DISCOUNTED, DAY_TRADER, OTHER_ACCOUNT):
        commands += [b.SetHolding(account=account, symbol=TSMC, shares=HOLDING),
                     b.SetHolding(account=account, symbol=ETF, shares=HOLDING),
                     b.Deposit(account=account, amount=FUNDS)]
    return commands


def ledger() -> Ledger:
    books = Ledger()
    for command in reference():
        assert books.apply(command) == 0, command
    return books


def fill(side: Side, qty: int, price: int, *, credit: Credit = CASH, account: str = ACCOUNT,
         broker: str = BROKER, symbol: str = TSMC, trade_date: date = WED,
         exec_id: str = "", order_id: str = "") -> b.BookFill:
    n = next(_exec_ids)
    return b.BookFill(broker=broker, account=account, order_id=order_id or f"O{n}",
                      exec_id=exec_id or f"E{n}", symbol=symbol, side=side, credit=credit,
                      price=price, qty=qty, trade_date=trade_date)
