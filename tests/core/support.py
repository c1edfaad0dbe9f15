"""Shared helpers for the middle-office core tests: a small world of two brokers, terse order
entry driven straight through ``CoreState.apply``, an independent oracle for what an order
holds, and a fingerprint of the whole state for replay comparisons."""

from __future__ import annotations

from typing import Any

import msgspec

from brokercloud.core import commands as c
from brokercloud.core import events as e
from brokercloud.core.commands import AccountStatus, Credit, Role
from brokercloud.core.model import Order
from brokercloud.core.state import CoreState
from brokercloud.market.instruments import Disposition, Instrument
from brokercloud.market.orders import OrderType, Side
from brokercloud.market.sessions import Session

DAY_MS = 24 * 60 * 60 * 1000
T0 = 1_764_032_400_000  # 2025-11-25 09:00 Taiwan time
TRADING_DAY = "20251125"

BROKER = "9A00"
OTHER_BROKER = "9B00"
BRANCH = "001"
ACCOUNT = "12345678"  # the thesis's margin account, at BROKER
CASH_ACCOUNT = "11112222"  # a cash-only account at BROKER
OTHER_ACCOUNT = "87654321"  # an account at OTHER_BROKER
SALES = "sales1"
SUP1 = "sup1"  # level 1 supervisor at BROKER
SUP2 = "sup2"  # level 2 supervisor at BROKER
OTHER_SUP = "supB"  # level 9 supervisor at OTHER_BROKER

TSMC = "2330"
REF = 7470  # NT$74.70, also the previous close
HOLDING = 10_000  # shares of 2330 in ACCOUNT's depository account
LIMIT = 10_000_000
LOT = 1_000
BUY, SELL = Side.BUY, Side.SELL
CASH, MARGIN, SHORT = Credit.CASH, Credit.MARGIN, Credit.SHORT
MARKET = OrderType.MARKET
ODD_LOT = Session.ODD_LOT

BANDS = [(1_000_000, 1), (5_000_000, 2)]
TIMEOUT_MS = 5 * 60 * 1000


def tsmc(*, limit_bp: int | None = 1_000, margin: bool = True, short: bool = True,
         disposition: Disposition = Disposition.NONE, symbol: str = TSMC) -> Instrument:
    return Instrument(symbol=symbol, name="TSMC", margin_eligible=margin, short_eligible=short,
                      disposition=disposition, limit_bp=limit_bp)


def reference_commands(*, bands: list[tuple[int, int]] | None = None,
                       daily_buy_limit: int = 0, limit_bp: int | None = 1_000) -> list[c.Cmd]:
    """Two brokers, their staff, three accounts, 2330 listed at 74.70."""
    return [
        c.AddBroker(at=T0, broker=BROKER, name="Alpha Securities", daily_buy_limit=daily_buy_limit,
                    approval_bands=bands or [], approval_timeout_ms=TIMEOUT_MS),
        c.AddBranch(at=T0, broker=BROKER, branch=BRANCH, name="Head office"),
        c.AddStaff(at=T0, broker=BROKER, user=SALES, role=Role.SALESPERSON, branch=BRANCH),
        c.AddStaff(at=T0, broker=BROKER, user=SUP1, role=Role.SUPERVISOR, branch=BRANCH,
                   level=1),
        c.AddStaff(at=T0, broker=BROKER, user=SUP2, role=Role.SUPERVISOR, branch=BRANCH,
                   level=2),
        c.AddBroker(at=T0, broker=OTHER_BROKER, name="Beta Securities",
                    approval_bands=bands or []),
        c.AddBranch(at=T0, broker=OTHER_BROKER, branch=BRANCH, name="Head office"),
        c.AddStaff(at=T0, broker=OTHER_BROKER, user=OTHER_SUP, role=Role.SUPERVISOR,
                   branch=BRANCH, level=9),
        c.OpenAccount(at=T0, account=ACCOUNT, broker=BROKER, branch=BRANCH, name="Chen",
                      margin=True, trading_limit=LIMIT, credit_limit=LIMIT),
        c.OpenAccount(at=T0, account=CASH_ACCOUNT, broker=BROKER, branch=BRANCH, name="Lin",
                      trading_limit=LIMIT),
        c.OpenAccount(at=T0, account=OTHER_ACCOUNT, broker=OTHER_BROKER, branch=BRANCH,
                      name="Wang", margin=True, trading_limit=LIMIT, credit_limit=LIMIT),
        c.SetHolding(at=T0, account=ACCOUNT, symbol=TSMC, shares=HOLDING),
        c.ListInstrument(at=T0, instrument=tsmc(limit_bp=limit_bp), reference=REF,
                         previous_close=REF),
    ]


class Desk:
    """A CoreState driven one command at a time, with journal-like sequence numbers."""

    def __init__(self, *, reference: bool = True, **options: Any) -> None:
        self.state = CoreState()
        self.seq = 0
        self.now = T0 + 60_000
        self.commands: list[c.Cmd] = []
        self._refs = 0
        if reference:
            for command in reference_commands(**options):
                self.do(command)

    def do(self, command: c.Cmd) -> list[e.Event]:
        self.seq += 1
        self.commands.append(command)
        return self.state.apply(self.seq, command)

    def tick(self, ms: int = 1_000) -> int:
        self.now += ms
        return self.now

    def place(self, **fields: Any) -> list[e.Event]:
        if "client_ref" not in fields:
            self._refs += 1
            fields["client_ref"] = f"r{self._refs}"
        values: dict[str, Any] = {
            "at": self.tick(), "broker": BROKER, "account": ACCOUNT, "user": SALES,
            "symbol": TSMC, "side": BUY, "qty": LOT, "price": 7620}
        values.update(fields)
        return self.do(c.PlaceOrder(**values))

    def order_id(self, **fields: Any) -> str:
        """Place an order that must pass the checks; its ID."""
        events = self.place(**fields)
        updated = first(events, e.OrderUpdated)
        return updated.order_id

    def code(self, **fields: Any) -> int:
        """Place an order that must be refused; its code."""
        return first(self.place(**fields), e.OrderRejected).code

    def sent(self, order_id: str) -> list[e.Event]:
        return self.do(c.MarkSent(at=self.tick(), order_id=order_id, line="T9A00A0"))

    def accepted(self, order_id: str, exchange_order_id: int = 1) -> list[e.Event]:
        return self.do(c.ExchangeAccepted(at=self.tick(), order_id=order_id,
                                          exchange_order_id=exchange_order_id))

    def live(self, **fields: Any) -> str:
        """An order placed, sent and acknowledged by the exchange."""
        order_id = self.order_id(**fields)
        self.sent(order_id)
        self.accepted(order_id)
        return order_id

    def fill(self, order_id: str, qty: int, price: int = 7620,
             exec_id: str | None = None) -> list[e.Event]:
        return self.do(c.ExchangeFilled(at=self.tick(), order_id=order_id,
                                        exec_id=exec_id or f"X{self.seq}", price=price, qty=qty))

    def cancel(self, order_id: str, broker: str = BROKER, user: str = SALES) -> list[e.Event]:
        return self.do(c.CancelOrder(at=self.tick(), broker=broker, user=user,
                                     order_id=order_id))

    def exchange_cancelled(self, order_id: str, qty: int) -> list[e.Event]:
        return self.do(c.ExchangeCancelled(at=self.tick(), order_id=order_id, qty=qty))

    def order(self, order_id: str) -> Order:
        return self.state.orders[order_id]

    def account(self, account: str = ACCOUNT) -> Any:
        return self.state.accounts[account]

    def status(self, account: str, status: AccountStatus) -> None:
        self.do(c.SetAccountStatus(at=self.tick(), account=account, status=status))


def first(events: list[e.Event], kind: type) -> Any:
    """The first event of a kind; fails listing what came instead."""
    for event in events:
        if isinstance(event, kind):
            return event
    raise AssertionError(f"no {kind.__name__} in {events!r}")


def kinds(events: list[e.Event]) -> list[str]:
    return [type(event).__name__ for event in events]


def refused_code(events: list[e.Event]) -> int:
    return first(events, e.CommandRejected).code


# -- an independent oracle for what an order holds (not the core's reservations module) -------

def oracle_holds(side: Side, credit: Credit, price: int, shares: int, *, discount_bp: int = 10_000,
                 rate_ppm: int = 1_425, min_fee: int = 20) -> tuple[int, int]:
    """(trading NT$, credit NT$) for ``shares`` at ``price`` (NT$0.01), written from the rules:
    value truncated to NT$; commission truncated, at least the minimum; margin loan 60% rounded
    down to NT$1,000; short margin 90% rounded up to NT$100."""
    if shares <= 0:
        return 0, 0
    cents = price * shares
    value = cents // 100
    if side is Side.BUY:
        fee = max(cents * rate_ppm * discount_bp // (100 * 1_000_000 * 10_000), min_fee)
        if credit is Credit.MARGIN:
            loan = value * 6 // 10 // 1_000 * 1_000
            return value + fee - loan, loan
        return value + fee, 0
    if credit is Credit.SHORT:
        exact = -(-cents // 100)
        margin = -(-exact * 9 // 10)
        return 0, -(-margin // 100) * 100
    return 0, 0


def order_reference_price(order: Order, limit_down: int, limit_up: int) -> int:
    if order.order_type is OrderType.MARKET:
        return limit_up if order.side is Side.BUY else limit_down
    return order.price


# -- comparing states -------------------------------------------------------------------------

def fingerprint(state: CoreState) -> dict[str, Any]:
    """Everything a replay must rebuild, as plain data."""
    return {
        "brokers": {
            key: (b.name, b.bought_today, dict(b.client_refs), dict(b.stock_limits),
                  dict(b.branches), b.approval_bands, b.approval_timeout_ms,
                  {u: (s.role, s.branch, s.level) for u, s in b.staff.items()})
            for key, b in state.brokers.items()},
        "accounts": {
            key: (a.broker, a.status, a.margin, a.trading_limit, a.credit_limit, a.used_trading,
                  a.used_credit, dict(a.holdings), dict(a.bought), dict(a.sell_reserved),
                  dict(a.day_lots), msgspec.to_builtins(a.fees))
            for key, a in state.accounts.items()},
        "listed": {key: (x.reference, x.previous_close, x.limit_down, x.limit_up,
                         msgspec.to_builtins(x.instrument))
                   for key, x in state.listed.items()},
        "orders": {key: msgspec.to_builtins(o) for key, o in state.orders.items()},
        "unknown": [msgspec.to_builtins(r) for r in state.unknown_reports],
        "counters": (state.trading_day, state.order_counter, state.seq),
    }


def core_view(state: CoreState) -> dict[str, Any]:
    """What the brief compares across snapshot and replay: orders' states, accounts' limits."""
    return {
        "orders": {key: (o.state, o.cum_qty, o.leaves) for key, o in state.orders.items()},
        "accounts": {key: (a.used_trading, a.used_credit, dict(a.holdings), dict(a.sell_reserved))
                     for key, a in state.accounts.items()},
    }


def disposition_listing(level: Disposition, symbol: str = "3008") -> c.ListInstrument:
    return c.ListInstrument(at=T0, instrument=tsmc(symbol=symbol, disposition=level),
                            reference=REF)



def trail(order: Order) -> tuple[tuple[int, int, str, str], ...]:
    """An order's audit trail as plain (at, seq, what, by) tuples, to compare with literals."""
    return tuple(msgspec.structs.astuple(step) for step in order.audit)
