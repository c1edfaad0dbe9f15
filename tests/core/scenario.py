"""A small trading day run through a Core in phases (reference data, orders, reports), for the
snapshot, replay and sequencer tests."""

from __future__ import annotations

from collections.abc import Callable

from brokercloud.codes import Code
from brokercloud.core import commands as c
from brokercloud.core import events as e
from brokercloud.core.sequencer import Core

from .support import (
    ACCOUNT,
    BANDS,
    BROKER,
    BUY,
    CASH_ACCOUNT,
    LOT,
    MARGIN,
    OTHER_ACCOUNT,
    OTHER_BROKER,
    SELL,
    SHORT,
    SUP1,
    T0,
    TSMC,
    reference_commands,
)


def place(at: int, ref: str, **fields: object) -> c.PlaceOrder:
    values: dict[str, object] = {"broker": BROKER, "account": ACCOUNT, "user": "sales1",
                                 "symbol": TSMC, "side": BUY, "qty": LOT, "price": 7_620}
    values.update(fields)
    return c.PlaceOrder(at=at, client_ref=ref, **values)  # type: ignore[arg-type]


def order_ids(results: list[list[e.Event]]) -> list[str]:
    return [event.order_id for events in results for event in events
            if isinstance(event, e.OrderUpdated)]


def orders_phase(at: int) -> list[c.Cmd]:
    return [
        place(at, "m1", qty=10 * LOT, credit=MARGIN),
        place(at + 1, "s1", side=SELL, qty=5 * LOT, price=7_730),
        place(at + 2, "sh1", side=SELL, credit=SHORT, qty=3 * LOT, price=7_630),
        place(at + 3, "big", account=CASH_ACCOUNT, qty=14 * LOT),  # needs level-1 approval
        place(at + 4, "b1", broker=OTHER_BROKER, account=OTHER_ACCOUNT, qty=2 * LOT),
        place(at + 5, "bad", symbol="9999"),  # refused
        place(at + 6, "m1", qty=LOT),  # duplicate client ref
    ]


def reports_phase(at: int, ids: list[str]) -> list[c.Cmd]:
    margin, sell, short, big, theirs = ids
    commands: list[c.Cmd] = []
    for n, order_id in enumerate((margin, sell, short, theirs), 1):
        commands += [c.MarkSent(at=at, order_id=order_id, line="L1"),
                     c.ExchangeAccepted(at=at, order_id=order_id, exchange_order_id=n)]
    commands += [
        c.ExchangeFilled(at=at + 1, order_id=margin, exec_id="E1", price=7_600, qty=3 * LOT),
        c.ExchangeFilled(at=at + 1, order_id=margin, exec_id="E1", price=7_600, qty=3 * LOT),
        c.ExchangeFilled(at=at + 2, order_id=sell, exec_id="E2", price=7_730, qty=5 * LOT),
        c.ExchangeFilled(at=at + 2, order_id=short, exec_id="E3", price=7_700, qty=LOT),
        c.Approve(at=at + 3, broker=BROKER, user=SUP1, order_id=big),
        c.CancelOrder(at=at + 4, broker=BROKER, user="sales1", order_id=big),
        c.CancelOrder(at=at + 4, broker=OTHER_BROKER, user="x", order_id=margin),  # refused
        c.ExchangeFilled(at=at + 5, order_id="nobody", exec_id="E9", price=1, qty=1),
    ]
    return commands


def end_phase(at: int, ids: list[str]) -> list[c.Cmd]:
    margin, _, short, _, theirs = ids
    return [
        c.CancelOrder(at=at, broker=BROKER, user="sales1", order_id=margin),
        c.ExchangeCancelled(at=at + 1, order_id=margin, qty=7 * LOT),
        c.ExchangeExpired(at=at + 2, order_id=short, qty=2 * LOT),
        c.ExchangeRejected(at=at + 3, order_id=theirs, code=Code.PRICE_OUTSIDE_LIMITS),
        c.ExchangeFilled(at=at + 3, order_id=theirs, exec_id="E4", price=7_620, qty=2 * LOT),
    ]


def run_day(core: Core, between: Callable[[int], None] = lambda phase: None) -> list[c.Cmd]:
    """Run the day through ``core.execute``; ``between(n)`` runs after phase n (1-3)."""
    journaled: list[c.Cmd] = list(reference_commands(bands=BANDS))
    core.execute(journaled)
    between(1)
    placed = orders_phase(T0 + 60_000)
    ids = order_ids(core.execute(placed))
    journaled += placed
    between(2)
    reports = reports_phase(T0 + 120_000, ids)
    core.execute(reports)
    journaled += reports
    between(3)
    ending = end_phase(T0 + 180_000, ids)
    core.execute(ending)
    return journaled + ending
