"""What the exchange reports. Every event carries the exchange sequence number (``seq``, strictly
increasing across the whole exchange), the exchange order ID, the broker and the account, so a
member can route it without looking anything up. ``time`` is milliseconds since midnight."""

from __future__ import annotations

import msgspec

from brokercloud.codes import Code
from brokercloud.market.orders import OrderType, Side, TimeInForce
from brokercloud.market.sessions import Session


class OrderEvent(msgspec.Struct, frozen=True, gc=False):
    """What every event names: when, which order, whose."""

    seq: int
    time: int
    order_id: int
    broker: str
    account: str
    cl_ord_id: str


class SymbolEvent(OrderEvent, frozen=True, gc=False):
    symbol: str


class Accepted(SymbolEvent, frozen=True, gc=False, tag=True):
    session: Session
    side: Side
    order_type: OrderType
    tif: TimeInForce
    price: int
    qty: int


class Rejected(SymbolEvent, frozen=True, gc=False, tag=True):
    """A new order refused; it never reached the book (``order_id`` is 0)."""

    code: Code


class Filled(SymbolEvent, frozen=True, gc=False, tag=True):
    """One side of one trade. ``seq`` doubles as the exec ID; ``match_id`` pairs the two sides."""

    side: Side
    price: int
    qty: int
    leaves: int
    cum_qty: int
    match_id: int


class OrderEnded(SymbolEvent, frozen=True, gc=False):
    """The open quantity ``qty`` left the book for good; ``code`` says why."""

    qty: int
    code: Code


class Cancelled(OrderEnded, frozen=True, gc=False, tag=True):
    """On request, an IOC/FOK remainder, or a resting market order at 13:25."""


class Expired(OrderEnded, frozen=True, gc=False, tag=True):
    """A day order still open when its session ended."""


class Amended(SymbolEvent, frozen=True, gc=False, tag=True):
    """An amendment took effect: ``price`` and ``qty`` (total) are the order's new terms."""

    orig_cl_ord_id: str
    price: int
    qty: int
    leaves: int


class RequestRejected(OrderEvent, frozen=True, gc=False, tag=True):
    """A cancel or amend refused; the order (if any) is unchanged."""

    orig_cl_ord_id: str
    request: str  # "cancel" or "amend"
    code: Code


Event = Accepted | Rejected | Filled | Cancelled | Expired | Amended | RequestRejected
