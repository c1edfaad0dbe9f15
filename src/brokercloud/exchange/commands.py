"""Commands a member broker sends to the exchange. Immutable; the engine keeps its own working
``Order`` objects so a caller can never mutate exchange state through a command it still holds."""

from __future__ import annotations

import msgspec

from brokercloud.market.orders import OrderType, Side, TimeInForce
from brokercloud.market.sessions import Session


class NewOrder(msgspec.Struct, frozen=True, gc=False):
    """A new order. ``qty`` is in shares; ``price`` in NT$0.01 (ignored for market orders)."""

    broker: str
    account: str
    cl_ord_id: str
    symbol: str
    side: Side
    qty: int
    price: int = 0
    order_type: OrderType = OrderType.LIMIT
    tif: TimeInForce = TimeInForce.ROD
    session: Session = Session.REGULAR


class CancelOrder(msgspec.Struct, frozen=True, gc=False):
    """Cancel the rest of an order, named by exchange order ID or by its client order ID."""

    broker: str
    order_id: int = 0
    orig_cl_ord_id: str = ""
    cl_ord_id: str = ""


class AmendOrder(msgspec.Struct, frozen=True, gc=False):
    """Reduce the quantity (``qty`` = new total order quantity, keeps priority) or change the
    price (loses priority); never both."""

    broker: str
    order_id: int = 0
    orig_cl_ord_id: str = ""
    cl_ord_id: str = ""
    qty: int | None = None
    price: int | None = None


Command = NewOrder | CancelOrder | AmendOrder
