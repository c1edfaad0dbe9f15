"""The basic order checks every layer repeats (the front end, the risk engine, the exchange):
quantity for the session, and a limit price against the day's limits and the tick table.
A stale client is a hole, so each layer runs the same code rather than trusting the last."""

from __future__ import annotations

from brokercloud.codes import Code
from brokercloud.market.instruments import InstrumentKind
from brokercloud.market.lots import BOARD_LOT, MAX_BOARD_LOT_SHARES, MAX_ODD_LOT
from brokercloud.market.prices import is_on_tick
from brokercloud.market.sessions import Session

ODD_LOT_SESSIONS = frozenset({Session.ODD_LOT, Session.AFTER_HOURS_ODD_LOT})


def quantity_error(session: Session, qty: int) -> Code:
    """Whole lots up to 499 in board-lot sessions, 1-999 shares in odd-lot sessions."""
    if qty <= 0:
        return Code.QUANTITY_NOT_POSITIVE
    if session in ODD_LOT_SESSIONS:
        return Code.NOT_ODD_LOT if qty > MAX_ODD_LOT else Code.OK
    if qty % BOARD_LOT:
        return Code.NOT_BOARD_LOTS
    return Code.QUANTITY_ABOVE_CAP if qty > MAX_BOARD_LOT_SHARES else Code.OK


def price_error(price: int, limit_down: int, limit_up: int,
                kind: InstrumentKind = InstrumentKind.STOCK, *,
                session: Session = Session.REGULAR) -> Code:
    """Why a limit price may not be entered (``Code.OK`` when it may). Fixed-price orders are
    checked against the close by whoever knows it."""
    if price <= 0:
        return Code.PRICE_NOT_POSITIVE
    if session is Session.FIXED_PRICE:
        return Code.OK
    if price < limit_down or price > limit_up:
        return Code.PRICE_OUTSIDE_LIMITS
    return Code.OK if is_on_tick(price, kind) else Code.PRICE_NOT_ON_TICK
