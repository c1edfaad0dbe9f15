"""What the exchange reports. Every event carries the exchange sequence number (``seq``, strictly
increasing across the whole exchange), the exchange order ID, the broker and the account, so a
member can route it without looking anything up. ``time`` is milliseconds since midnight."""

from __future__ import annotations

import msgspec

from brokercloud.codes import Code
from brokercloud.market.orders import OrderType, Side, TimeInForce
from brokercloud.market.sessions import Session


class Accepted(msgspec.Struct, frozen=True, gc=False, tag=True):
    seq: int
    time: int
    order_id: int
    broker: str
    account: str
    cl_ord_id: str
    symbol: str
    session: Session
    side: Side
    order_type: OrderType
    tif: TimeInForce
    price: int
    qty: int


class Rejected(msgspec.Struct, frozen=True, gc=False, tag=True):
    """A new order refused; it never reached the book (``order_id`` is 0)."""

    seq: int
    time: int
    order_id: int
    broker: str
    account: str
    cl_ord_id: str
    symbol: str
    code: Code


class Filled(msgspec.Struct, frozen=True, gc=False, tag=True):
    """One side of one trade. ``seq`` doubles as the exec ID; ``match_id`` pairs the two sides."""

    seq: int
    time: int
    order_id: int
    broker: str
    account: str
    cl_ord_id: str
    symbol: str
    side: Side
    price: int
    qty: int
    leaves: int
    cum_qty: int
    match_id: int


class Cancelled(msgspec.Struct, frozen=True, gc=False, tag=True):
    """The open quantity ``qty`` left the book: on request, IOC/FOK/market remainder, or at 13:25
    for resting market orders. ``code`` says which."""

    seq: int
    time: int
    order_id: int
    broker: str
    account: str
    cl_ord_id: str
    symbol: str
    qty: int
    code: Code


class Expired(msgspec.Struct, frozen=True, gc=False, tag=True):
    """A day order still open when its session ended."""

    seq: int
    time: int
    order_id: int
    broker: str
    account: str
    cl_ord_id: str
    symbol: str
    qty: int
    code: Code


class Amended(msgspec.Struct, frozen=True, gc=False, tag=True):
    """An amendment took effect: ``price`` and ``qty`` (total) are the order's new terms."""

    seq: int
    time: int
    order_id: int
    broker: str
    account: str
    cl_ord_id: str
    orig_cl_ord_id: str
    symbol: str
    price: int
    qty: int
    leaves: int


class RequestRejected(msgspec.Struct, frozen=True, gc=False, tag=True):
    """A cancel or amend refused; the order (if any) is unchanged."""

    seq: int
    time: int
    order_id: int
    broker: str
    account: str
    cl_ord_id: str
    orig_cl_ord_id: str
    request: str  # "cancel" or "amend"
    code: Code


Event = Accepted | Rejected | Filled | Cancelled | Expired | Amended | RequestRejected
