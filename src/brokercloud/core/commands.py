"""Commands: every input that changes the middle office's state. Each carries ``at``, its time
in milliseconds since the epoch, stamped by whoever accepted it, so apply never reads a clock."""

from __future__ import annotations

import enum

import msgspec

from brokercloud.codes import Code
from brokercloud.market.instruments import Instrument
from brokercloud.market.orders import OrderType, Side, TimeInForce
from brokercloud.market.sessions import Session


class Credit(enum.StrEnum):
    """How an order is financed (the exchange's account type)."""

    CASH = "cash"
    MARGIN = "margin"  # 融資 buy, or a sell that repays financing
    SHORT = "short"  # 融券 sell, or a buy that covers a short


class AccountStatus(enum.StrEnum):
    OPEN = "open"
    SUSPENDED = "suspended"
    DEFAULTED = "defaulted"


class Role(enum.StrEnum):
    INVESTOR = "investor"
    SALESPERSON = "salesperson"
    CLERK = "clerk"
    SUPERVISOR = "supervisor"
    BROKER_ADMIN = "broker_admin"
    OPERATOR = "operator"
    DMA_CLIENT = "dma_client"


class Cmd(msgspec.Struct, frozen=True, tag=True, kw_only=True, gc=False):
    at: int  # ms since the epoch


# -- reference data ------------------------------------------------------------------------------

class AddBroker(Cmd):
    broker: str
    name: str
    commission_ppm: int = 1425
    min_fee: int = 20
    daily_buy_limit: int = 0  # NT$ across all accounts, 0 = none
    approval_bands: list[tuple[int, int]] = []  # (order amount NT$ from, supervisor level)
    approval_timeout_ms: int = 5 * 60 * 1000


class AddBranch(Cmd):
    broker: str
    branch: str
    name: str


class AddStaff(Cmd):
    broker: str
    user: str
    role: Role
    branch: str = ""
    level: int = 0  # supervisors: which approval bands they may decide


class OpenAccount(Cmd):
    account: str
    broker: str
    branch: str
    name: str
    margin: bool = False
    trading_limit: int = 0  # NT$ of buys a day (投資額度)
    credit_limit: int = 0  # NT$ of financing and short margin (信用額度)
    discount_bp: int = 10_000  # the customer's commission discount
    day_trading: bool = False


class SetAccountStatus(Cmd):
    account: str
    status: AccountStatus


class SetAccountLimits(Cmd):
    account: str
    trading_limit: int
    credit_limit: int


class SetCommissionDiscount(Cmd):
    """A broker administrator changes a customer's commission discount: the share of the
    broker's rate the customer pays, in basis points (10,000 = none, 6,000 = "6折"), as
    ``market.fees.FeeSchedule`` holds it."""

    account: str
    discount_bp: int


class SetStockLimit(Cmd):
    """A broker's cap on one order's amount in one stock (0 removes it)."""

    broker: str
    symbol: str
    max_order_amount: int


class SetHolding(Cmd):
    """Shares in the account's depository account, as the depository reports them."""

    account: str
    symbol: str
    shares: int


class ListInstrument(Cmd):
    """The exchange's morning publication for one security."""

    instrument: Instrument
    reference: int
    previous_close: int = 0


# -- orders ----------------------------------------------------------------------------------------

class PlaceOrder(Cmd):
    broker: str
    account: str
    user: str
    client_ref: str  # the channel's own ID for the order, unique per broker and day
    symbol: str
    side: Side
    qty: int
    price: int = 0
    order_type: OrderType = OrderType.LIMIT
    tif: TimeInForce = TimeInForce.ROD
    session: Session = Session.REGULAR
    credit: Credit = Credit.CASH
    prepaid: bool = False  # disposition stocks: cash or shares already collected


class CancelOrder(Cmd):
    broker: str
    user: str
    order_id: str


class AmendOrder(Cmd):
    broker: str
    user: str
    order_id: str
    qty: int | None = None  # new total quantity (reduce only)
    price: int | None = None


class Approve(Cmd):
    broker: str
    user: str
    order_id: str


class Deny(Cmd):
    broker: str
    user: str
    order_id: str
    reason: str = ""


class ExpireApprovals(Cmd):
    """Approvals older than the broker's timeout at ``at`` expire."""


# -- the communication module and the exchange --------------------------------------------------

class MarkSent(Cmd):
    order_id: str
    line: str


class ExchangeReport(Cmd):
    """A report the exchange sent on a line. ``line_seq`` is its FIX sequence number there:
    the core remembers the highest it absorbed per line, so after a crash the line asks the
    exchange again for everything after it (a report counted by the FIX session but not yet
    journaled by the core is never lost)."""

    order_id: str
    line: str = ""
    line_seq: int = 0


class ExchangeAccepted(ExchangeReport):
    exchange_order_id: int = 0


class ExchangeRejected(ExchangeReport):
    code: Code = Code.OK


class ExchangeFilled(ExchangeReport):
    exec_id: str = ""
    price: int = 0
    qty: int = 0


class ExchangeCancelled(ExchangeReport):
    qty: int = 0
    code: Code = Code.CANCELLED_ON_REQUEST


class ExchangeExpired(ExchangeReport):
    qty: int = 0


class ExchangeAmended(ExchangeReport):
    """The exchange's confirmation of an amendment: the order's new total and price."""

    qty: int = 0
    price: int = 0


class ExchangeRequestRejected(ExchangeReport):
    """The exchange refused a cancel or an amendment (OrderCancelReject)."""

    code: Code = Code.OK


Command = (AddBroker | AddBranch | AddStaff | OpenAccount | SetAccountStatus | SetAccountLimits
           | SetCommissionDiscount | SetStockLimit | SetHolding | ListInstrument | PlaceOrder
           | CancelOrder | AmendOrder | Approve | Deny | ExpireApprovals | MarkSent
           | ExchangeAccepted | ExchangeRejected | ExchangeFilled | ExchangeCancelled
           | ExchangeExpired | ExchangeAmended | ExchangeRequestRejected)
