from __future__ import annotations

import itertools

import pytest

from brokercloud.market.instruments import Disposition, Instrument
from brokercloud.market.orders import OrderType, Side, TimeInForce, order_type_allowed
from brokercloud.market.sessions import Phase, Session

LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET
ROD, IOC, FOK = TimeInForce.ROD, TimeInForce.IOC, TimeInForce.FOK
ALL_TYPES = list(itertools.product(OrderType, TimeInForce))

NORMAL = Instrument(symbol="2330", name="TSMC")
NO_LIMIT = Instrument(symbol="6999", name="New listing", limit_bp=None)


def _accepted(instrument: Instrument, session: Session, phase: Phase) -> set[tuple]:
    return {(t, tif) for t, tif in ALL_TYPES
            if order_type_allowed(instrument, session, phase, t, tif)}


def test_enums_when_read_then_wire_values() -> None:
    assert (Side.BUY, Side.SELL) == (0, 1)
    assert (LIMIT, MARKET) == (0, 1)
    assert (ROD, IOC, FOK) == (0, 1, 2)


def test_order_type_allowed_when_continuous_then_every_combination() -> None:
    assert _accepted(NORMAL, Session.REGULAR, Phase.CONTINUOUS) == set(ALL_TYPES)


@pytest.mark.parametrize(("session", "phase"), [
    (Session.REGULAR, Phase.CALL),  # opening and closing auctions
    (Session.ODD_LOT, Phase.CALL),
    (Session.FIXED_PRICE, Phase.CALL),
    (Session.AFTER_HOURS_ODD_LOT, Phase.CALL),
])
def test_order_type_allowed_when_call_auction_then_limit_rod_only(
        session: Session, phase: Phase) -> None:
    assert _accepted(NORMAL, session, phase) == {(LIMIT, ROD)}


@pytest.mark.parametrize("session", list(Session))
def test_order_type_allowed_when_closed_then_nothing(session: Session) -> None:
    assert _accepted(NORMAL, session, Phase.CLOSED) == set()


@pytest.mark.parametrize("disposition",
                         [Disposition.FIRST, Disposition.REPEAT, Disposition.ALTERED])
def test_order_type_allowed_when_disposition_stock_continuous_then_limit_rod_only(
        disposition: Disposition) -> None:
    stock = Instrument(symbol="1314", name="Disposition", disposition=disposition)
    assert not stock.market_orders_allowed
    assert _accepted(stock, Session.REGULAR, Phase.CONTINUOUS) == {(LIMIT, ROD)}


def test_order_type_allowed_when_no_price_limit_then_no_market_orders() -> None:
    assert not NO_LIMIT.market_orders_allowed
    assert _accepted(NO_LIMIT, Session.REGULAR, Phase.CONTINUOUS) == {
        (LIMIT, ROD), (LIMIT, IOC), (LIMIT, FOK)}
    assert _accepted(NO_LIMIT, Session.REGULAR, Phase.CALL) == {(LIMIT, ROD)}


def test_order_type_allowed_when_alert_only_then_unrestricted() -> None:
    alert = Instrument(symbol="2609", name="Attention", alert=True)
    assert alert.market_orders_allowed
    assert _accepted(alert, Session.REGULAR, Phase.CONTINUOUS) == set(ALL_TYPES)
