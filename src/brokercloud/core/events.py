"""What applying a command decided. Every event names the broker (and the account where there
is one) so distribution can enforce tenancy without looking anything up."""

from __future__ import annotations

import msgspec

from brokercloud.codes import Code
from brokercloud.core.oms import OrderState


class Evt(msgspec.Struct, frozen=True, tag=True, kw_only=True, gc=False):
    seq: int  # the journal sequence number of the command that caused it
    broker: str


class CommandRejected(Evt):
    """A command refused as a whole; the record of what was asked stays in the journal."""

    code: Code
    command: str


class ReferenceChanged(Evt):
    what: str
    key: str


class OrderUpdated(Evt):
    """An order's state changed. ``code`` says why for rejections, cancels and expiries."""

    account: str
    order_id: str
    client_ref: str
    state: OrderState
    cum_qty: int
    leaves: int
    code: Code = Code.OK


class OrderRejected(Evt):
    """A new order refused before it got an ID in the book (risk or basic checks)."""

    account: str
    client_ref: str
    code: Code


class ApprovalRequested(Evt):
    account: str
    order_id: str
    amount: int
    level: int


class ApprovalDecided(Evt):
    account: str
    order_id: str
    user: str
    approved: bool
    reason: str = ""


class SendOrder(Evt):
    """For the lines: send this order to the exchange (the outbox)."""

    order_id: str


class SendCancel(Evt):
    order_id: str


class SendAmend(Evt):
    order_id: str
    qty: int | None
    price: int | None


class Fill(Evt):
    account: str
    order_id: str
    exec_id: str
    symbol: str
    side: int
    price: int
    qty: int


class UnknownReport(Evt):
    """An exchange report for an order we do not know: kept for the operator, never dropped."""

    order_id: str
    report: str


Event = (CommandRejected | ReferenceChanged | OrderUpdated | OrderRejected | ApprovalRequested
         | ApprovalDecided | SendOrder | SendCancel | SendAmend | Fill | UnknownReport)
