"""The middle office's state records: brokers, staff, accounts with their limits, holdings and
reservations, listed securities, and orders with their audit trail.

Plain slotted classes, mutated only by ``state.CoreState.apply``. Amounts are whole NT$, prices
NT$0.01, quantities shares.
"""

from __future__ import annotations

import msgspec

from brokercloud.core.commands import AccountStatus, Credit, Role
from brokercloud.core.oms import OrderState
from brokercloud.market.fees import FeeSchedule
from brokercloud.market.instruments import Instrument
from brokercloud.market.orders import OrderType, Side, TimeInForce
from brokercloud.market.prices import price_ladder, price_limits
from brokercloud.market.sessions import Session


class Staff:
    __slots__ = ("branch", "level", "role", "user")

    def __init__(self, user: str, role: Role, branch: str, level: int) -> None:
        self.user = user
        self.role = role
        self.branch = branch
        self.level = level


class Broker:
    __slots__ = ("approval_bands", "approval_timeout_ms", "bought_today", "branches", "broker",
                 "client_refs", "commission_ppm", "daily_buy_limit", "min_fee", "name", "staff",
                 "stock_limits")

    def __init__(self, broker: str, name: str, commission_ppm: int, min_fee: int,
                 daily_buy_limit: int, approval_bands: list[tuple[int, int]],
                 approval_timeout_ms: int) -> None:
        self.broker = broker
        self.name = name
        self.commission_ppm = commission_ppm
        self.min_fee = min_fee
        self.daily_buy_limit = daily_buy_limit
        self.approval_bands = sorted(approval_bands)
        self.approval_timeout_ms = approval_timeout_ms
        self.bought_today = 0  # reserved and filled buy amounts, NT$
        self.branches: dict[str, str] = {}
        self.staff: dict[str, Staff] = {}
        self.stock_limits: dict[str, int] = {}
        self.client_refs: dict[str, str] = {}  # client_ref -> order_id, today

    def approval_level(self, amount: int) -> int:
        """The supervisor level the broker's policy names for an order of ``amount``."""
        level = 0
        for threshold, band_level in self.approval_bands:
            if amount >= threshold:
                level = band_level
        return level


class Account:
    __slots__ = (
        "account",
        "bought",
        "branch",
        "broker",
        "credit_limit",
        "day_lots",
        "day_trading",
        "fees",
        "holdings",
        "margin",
        "name",
        "sell_reserved",
        "status",
        "trading_limit",
        "used_credit",
        "used_trading",
    )

    def __init__(self, account: str, broker: str, branch: str, name: str, *, margin: bool,
                 trading_limit: int, credit_limit: int, fees: FeeSchedule,
                 day_trading: bool) -> None:
        self.account = account
        self.broker = broker
        self.branch = branch
        self.name = name
        self.margin = margin
        self.status = AccountStatus.OPEN
        self.trading_limit = trading_limit
        self.credit_limit = credit_limit
        self.fees = fees  # the broker's rate with this customer's discount
        self.day_trading = day_trading
        self.used_trading = 0  # reserved by open buys plus spent on filled buys, NT$
        self.used_credit = 0  # reserved and used financing / short margin, NT$
        self.holdings: dict[str, int] = {}  # depository shares at the start of the day
        self.bought: dict[str, int] = {}  # shares bought today (filled)
        self.sell_reserved: dict[str, int] = {}  # shares in open sells plus sold today
        self.day_lots: dict[str, int] = {}  # lots ordered today (disposition pre-collection)

    def start_day(self) -> None:
        """A new trading day: today's counters restart (settlement moves holdings; later)."""
        self.used_trading = self.used_credit = 0
        self.bought.clear()
        self.sell_reserved.clear()
        self.day_lots.clear()

    def available_shares(self, symbol: str) -> int:
        """What a sell may still take: holdings plus today's buys, minus what sells hold."""
        return (self.holdings.get(symbol, 0) + self.bought.get(symbol, 0)
                - self.sell_reserved.get(symbol, 0))


class Listed:
    __slots__ = ("instrument", "limit_down", "limit_up", "previous_close", "reference",
                 "valid_prices")

    def __init__(self, instrument: Instrument, reference: int, previous_close: int) -> None:
        self.instrument = instrument
        self.reference = reference
        self.previous_close = previous_close or reference
        limit = instrument.limit_bp if instrument.limit_bp is not None else 5_000
        self.limit_down, self.limit_up = price_limits(reference, limit, instrument.kind)
        self.valid_prices = frozenset(price_ladder(self.limit_down, self.limit_up,
                                                   instrument.kind))


class OrderFill(msgspec.Struct, gc=False, array_like=True, frozen=True):
    """One execution of an order. A struct the cyclic GC does not track, not a tuple: a
    tuple is tracked until a collection looks at it, and the dict holding it from then on."""

    at: int
    price: int
    qty: int


class AuditStep(msgspec.Struct, gc=False, array_like=True, frozen=True):
    """One line of an order's audit trail: when, at which journal sequence, what, by whom."""

    at: int
    seq: int
    what: str
    by: str


class Order(msgspec.Struct, gc=False):
    """An order with everything the thesis's three records need: the original order, its
    acknowledgement (``exchange_order_id``, ``acked_at``) and its fills; plus an audit trail.
    A struct rather than a class: one is built per order on the hot path."""

    order_id: str
    at: int
    broker: str
    account: str
    user: str
    client_ref: str
    symbol: str
    side: Side
    qty: int
    price: int
    order_type: OrderType
    tif: TimeInForce
    session: Session
    credit: Credit
    state: OrderState = OrderState.NEW
    cum_qty: int = 0
    leaves: int = 0
    reserved_trading: int = 0
    reserved_credit: int = 0
    held_shares: int = 0  # shares this sell takes out of the account's availability
    approval_level: int = 0
    exchange_order_id: int = 0
    acked_at: int = 0
    line: str = ""
    pending: str = ""  # "cancel" or "amend" while a request is at the exchange
    # by exec ID; None until the first fill. No container is built per order up front, and
    # what they hold is untracked: a day of orders must not turn into a day of objects for the
    # cyclic GC to scan (``bench api``: a 90 ms collection every 20 s of trading).
    fills: dict[str, OrderFill] | None = None
    audit: tuple[AuditStep, ...] = ()  # oldest first
