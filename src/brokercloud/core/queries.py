"""The thesis's three records, read back: original orders, acknowledgements and fills.

Every query names the broker it is for and returns nothing of any other broker's (tenancy is
not optional); an account narrows it further. Records come in order of entry.
"""

from __future__ import annotations

import msgspec

from brokercloud.core.model import Order
from brokercloud.core.state import CoreState, is_approval_entry


class Acknowledgement(msgspec.Struct, frozen=True):
    order_id: str
    account: str
    exchange_order_id: int
    at: int


class FillRecord(msgspec.Struct, frozen=True):
    order_id: str
    account: str
    exec_id: str
    at: int
    price: int
    qty: int


class AuditEntry(msgspec.Struct, frozen=True):
    """One line of an order's audit trail: what happened, when, by whom."""

    order_id: str
    account: str
    at: int
    seq: int
    what: str
    by: str


def orders_of(state: CoreState, broker: str, account: str | None = None) -> list[Order]:
    return [order for order in state.orders.values()
            if order.broker == broker and (account is None or order.account == account)]


def acknowledgements_of(state: CoreState, broker: str,
                        account: str | None = None) -> list[Acknowledgement]:
    return [Acknowledgement(order.order_id, order.account, order.exchange_order_id,
                            order.acked_at)
            for order in orders_of(state, broker, account) if order.exchange_order_id]


def fills_of(state: CoreState, broker: str, account: str | None = None) -> list[FillRecord]:
    return [FillRecord(order.order_id, order.account, exec_id, fill.at, fill.price, fill.qty)
            for order in orders_of(state, broker, account)
            for exec_id, fill in (order.fills or {}).items()]


def approval_trail_of(state: CoreState, broker: str,
                      account: str | None = None) -> list[AuditEntry]:
    """The approval history of a broker's orders: requests, decisions, expiries, and refused
    decisions with who tried and the code that refused them."""
    return [AuditEntry(order.order_id, order.account, step.at, step.seq, step.what, step.by)
            for order in orders_of(state, broker, account)
            for step in order.audit if is_approval_entry(step.what)]
