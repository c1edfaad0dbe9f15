"""Shared helpers for the exchange behaviour tests: one listing, terse order entry, snapshots."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from brokercloud.exchange.book import Book
from brokercloud.exchange.commands import AmendOrder, CancelOrder, NewOrder
from brokercloud.exchange.engine import Exchange
from brokercloud.exchange.events import Accepted, Event, Filled
from brokercloud.exchange.schedule import Action, ScheduledAction
from brokercloud.market.instruments import Instrument
from brokercloud.market.orders import OrderType, Side, TimeInForce
from brokercloud.market.sessions import Session, at

SYMBOL = "2330"
REF = 7470  # NT$74.70: limits 67.30 / 82.10, tick 0.10
LIMIT_DOWN = 6730
LIMIT_UP = 8210
TSMC = Instrument(symbol=SYMBOL, name="TSMC")
BUY, SELL = Side.BUY, Side.SELL
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET
ROD, IOC, FOK = TimeInForce.ROD, TimeInForce.IOC, TimeInForce.FOK
REGULAR = Session.REGULAR
ODD_LOT = Session.ODD_LOT
FIXED_PRICE = Session.FIXED_PRICE
AFTER_HOURS_ODD_LOT = Session.AFTER_HOURS_ODD_LOT
LOT = 1_000

Snapshot = tuple[tuple[list[tuple[int, int]], list[tuple[int, int]]], list[tuple[int, int, int]]]


def exchange(*listings: tuple[Instrument, int], seed: int = 1, time: int = 0) -> Exchange:
    """An exchange with the given listings (default: TSMC at 74.70), advanced to ``time``.

    Every book is validated after every command and every scheduled action, so each test
    proves the books stay consistent at each step, not only where it looks."""
    ex = Exchange(listings or [(TSMC, REF)], seed=seed)
    for name in ("new_order", "cancel", "amend"):
        setattr(ex, name, _validating(ex, getattr(ex, name)))
    ex.on_action = _validating_actions(ex)
    if time:
        ex.advance_to(time)
    return ex


def _validating(ex: Exchange, command: Callable[[Any], None]) -> Callable[[Any], None]:
    def run(cmd: Any) -> None:
        command(cmd)
        validate_all(ex)
    return run


def _validating_actions(ex: Exchange) -> Callable[[ScheduledAction], None]:
    """After each scheduled action; the thousands of periodic auctions in a day only when they
    emitted something (an auction that emits nothing leaves its books untouched)."""
    seen = [-1]

    def check(action: ScheduledAction) -> None:
        periodic = action.action in (Action.ODD_LOT_AUCTION, Action.DISPOSITION_AUCTION)
        if not periodic or len(ex.events) != seen[0]:
            validate_all(ex)
            seen[0] = len(ex.events)
    return check


def continuous(*listings: tuple[Instrument, int], seed: int = 1) -> Exchange:
    """An exchange in continuous trading (09:00:01), nothing traded yet."""
    return exchange(*listings, seed=seed, time=at(9, 0, 1))


def order(ex: Exchange, side: Side, qty: int, price: int = 0, cl: str = "", *,
          broker: str = "B1", account: str = "A1", symbol: str = SYMBOL,
          order_type: OrderType = LIMIT, tif: TimeInForce = ROD,
          session: Session = REGULAR) -> int:
    """Send a new order; returns its exchange order ID, or 0 if it was rejected."""
    cl = cl or f"c{len(ex.events) + 1}"
    start = len(ex.events)
    ex.new_order(NewOrder(broker, account, cl, symbol, side, qty, price, order_type, tif,
                          session))
    for event in ex.events[start:]:
        if type(event) is Accepted:
            return event.order_id
    return 0


def validate_all(ex: Exchange) -> None:
    """Prove every book of every listing consistent (the helpers call it after each command)."""
    for listing in ex.listings.values():
        for book in listing.books.values():
            book.validate()


def buy(ex: Exchange, qty: int, price: int = 0, cl: str = "", **kw: Any) -> int:
    return order(ex, BUY, qty, price, cl, **kw)


def sell(ex: Exchange, qty: int, price: int = 0, cl: str = "", **kw: Any) -> int:
    return order(ex, SELL, qty, price, cl, **kw)


def cancel(ex: Exchange, order_id: int, broker: str = "B1") -> list[Event]:
    start = len(ex.events)
    ex.cancel(CancelOrder(broker, order_id=order_id))
    return ex.events[start:]


def amend(ex: Exchange, order_id: int, *, qty: int | None = None, price: int | None = None,
          broker: str = "B1", cl: str = "") -> list[Event]:
    start = len(ex.events)
    ex.amend(AmendOrder(broker, order_id=order_id, cl_ord_id=cl, qty=qty, price=price))
    return ex.events[start:]


def book_of(ex: Exchange, session: Session = REGULAR, symbol: str = SYMBOL) -> Book:
    book = ex.book(symbol, session)
    assert book is not None
    book.validate()
    return book


def snapshot(book: Book) -> Snapshot:
    """Everything a rejected command must leave alone: full depth and every resting order."""
    book.validate()
    depth = book.depth(len(book.prices))
    return depth, [(o.order_id, o.leaves, o.level) for o in book.resting()]


def since(ex: Exchange, start: int) -> list[Event]:
    return ex.events[start:]


def of_type(events: Sequence[Event], kind: type) -> list:
    return [e for e in events if type(e) is kind]


def fills(events: Sequence[Event]) -> list[tuple[int, int, int, int, int]]:
    """(order_id, price, qty, leaves, cum_qty) of every fill, in event order."""
    return [(e.order_id, e.price, e.qty, e.leaves, e.cum_qty) for e in events
            if type(e) is Filled]
