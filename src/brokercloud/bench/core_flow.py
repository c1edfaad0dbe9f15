"""A broker day for the middle-office benchmarks: reference data, then orders with the reports
the lines would bring back for them."""

from __future__ import annotations

from collections.abc import Iterator

from brokercloud.core import commands as c
from brokercloud.market.instruments import Instrument, InstrumentKind
from brokercloud.market.orders import Side

START_MS = 1_764_030_600_000  # 2025-11-25 08:30 Taiwan
ACCOUNTS = 10_000
SYMBOLS = (("2330", 108500), ("2317", 20050), ("2454", 129500), ("2412", 12500),
           ("2882", 6130), ("0050", 5245))


def reference_data() -> list[c.Cmd]:
    commands: list[c.Cmd] = [
        c.AddBroker(at=START_MS, broker="9A00", name="Bench Securities"),
        c.AddBranch(at=START_MS, broker="9A00", branch="001", name="Head office")]
    for symbol, reference in SYMBOLS:
        kind = InstrumentKind.ETF if symbol.startswith("00") else InstrumentKind.STOCK
        commands.append(c.ListInstrument(
            at=START_MS, reference=reference,
            instrument=Instrument(symbol=symbol, name=symbol, kind=kind, margin_eligible=True)))
    for i in range(ACCOUNTS):
        account = f"{i:08d}"
        commands.append(c.OpenAccount(at=START_MS, account=account, broker="9A00",
                                      branch="001", name=account, trading_limit=10_000_000_000))
        for symbol, _ in SYMBOLS:
            commands.append(c.SetHolding(at=START_MS, account=account, symbol=symbol,
                                         shares=1_000_000))
    return commands


def orders(count: int) -> Iterator[c.PlaceOrder]:
    """Buys and sells of 1-5 lots at the reference price across accounts and symbols."""
    for i in range(count):
        symbol, reference = SYMBOLS[i % len(SYMBOLS)]
        yield c.PlaceOrder(at=START_MS + 1_800_000 + i, broker="9A00",
                           account=f"{i % ACCOUNTS:08d}", user="bench", client_ref=f"b{i}",
                           symbol=symbol, side=Side.BUY if i % 2 else Side.SELL,
                           qty=(1 + i % 5) * 1000, price=reference)


def lifecycle(order_id: str, at: int, price: int, qty: int, n: int) -> list[c.Cmd]:
    """What the lines report for an order that is sent, acknowledged and filled."""
    return [c.MarkSent(at=at, order_id=order_id, line="T9A00A0"),
            c.ExchangeAccepted(at=at, order_id=order_id, exchange_order_id=n),
            c.ExchangeFilled(at=at, order_id=order_id, exec_id=f"X{n}", price=price, qty=qty)]
