"""Order attributes and which combinations each session and phase accepts."""

from __future__ import annotations

import enum

from brokercloud.market.instruments import Disposition, Instrument
from brokercloud.market.sessions import Phase, Session


class Side(enum.IntEnum):
    BUY = 0
    SELL = 1


class OrderType(enum.IntEnum):
    LIMIT = 0
    MARKET = 1


class TimeInForce(enum.IntEnum):
    ROD = 0  # rest of day
    IOC = 1  # immediate or cancel
    FOK = 2  # fill or kill


def order_type_allowed(instrument: Instrument, session: Session, phase: Phase,
                       order_type: OrderType, tif: TimeInForce) -> bool:
    """Whether the exchange accepts this order type and validity now.

    Only continuous board-lot trading takes market, IOC and FOK orders; every call auction
    (opening, closing, odd lot, fixed price, and disposition stocks all day) takes limit ROD.
    """
    if phase is Phase.CLOSED:
        return False
    if order_type is OrderType.MARKET and not instrument.market_orders_allowed:
        return False
    if (session is Session.REGULAR and phase is Phase.CONTINUOUS
            and instrument.disposition is Disposition.NONE):
        return True
    return order_type is OrderType.LIMIT and tif is TimeInForce.ROD
