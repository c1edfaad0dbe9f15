"""Margin accounts: the whole-account maintenance ratio, margin calls and forced disposal.

Ratio (MARKET_RULES) = (market value of financed shares + short-sale margin and proceeds held
+ top-ups) / (financing loans + market value of shorted shares), in basis points, truncated.
Below 130% the account is called: top up within 2 business days or, from the next business
day, its positions are disposed of; only 166% clears a call. Positions are trade-date (the
financing and short lots), valued at the last price marked for each symbol. The call's life
is a transition table, like the order's.
"""

from __future__ import annotations

import enum
from datetime import date

import msgspec

from brokercloud.backoffice.accounts import AccountBooks
from brokercloud.core.commands import Credit
from brokercloud.market.orders import Side

CALL_BP = 13_000  # below 130%: margin call
CLEAR_BP = 16_600  # a call clears at 166%
TOP_UP_DAYS = 2  # business days to top up
_BP = 10_000


class CallState(enum.StrEnum):
    OK = "ok"
    CALLED = "called"
    DISPOSAL = "disposal"


class Trigger(enum.StrEnum):
    BELOW_CALL = "below_call"  # ratio < 130%
    BETWEEN = "between"  # 130% <= ratio < 166%
    HEALTHY = "healthy"  # ratio >= 166%, or nothing financed or shorted
    DEADLINE_PASSED = "deadline_passed"  # called, past the top-up deadline, not cleared


_TRANSITIONS: dict[tuple[CallState, Trigger], CallState] = {
    (CallState.OK, Trigger.BELOW_CALL): CallState.CALLED,
    (CallState.OK, Trigger.BETWEEN): CallState.OK,  # no call above 130%
    (CallState.OK, Trigger.HEALTHY): CallState.OK,
    (CallState.CALLED, Trigger.BELOW_CALL): CallState.CALLED,  # the deadline stays
    (CallState.CALLED, Trigger.BETWEEN): CallState.CALLED,  # only 166% clears
    (CallState.CALLED, Trigger.HEALTHY): CallState.OK,
    (CallState.CALLED, Trigger.DEADLINE_PASSED): CallState.DISPOSAL,
    (CallState.DISPOSAL, Trigger.BELOW_CALL): CallState.DISPOSAL,
    (CallState.DISPOSAL, Trigger.BETWEEN): CallState.DISPOSAL,
    (CallState.DISPOSAL, Trigger.DEADLINE_PASSED): CallState.DISPOSAL,
    (CallState.DISPOSAL, Trigger.HEALTHY): CallState.OK,  # sold enough, or topped up
}


def next_call_state(state: CallState, trigger: Trigger) -> CallState:
    return _TRANSITIONS[(state, trigger)]


class MarginCall(msgspec.Struct, frozen=True):
    """A call: the ratio that caused it, the top-up that would restore 166%, the deadline."""

    broker: str
    account: str
    called_on: date
    ratio_bp: int
    shortfall: int
    deadline: date


class DisposalOrder(msgspec.Struct, frozen=True):
    """A position to close because a call was not met: financed shares sold (credit margin),
    short shares bought back (credit short)."""

    broker: str
    account: str
    on: date
    symbol: str
    side: Side
    credit: Credit
    qty: int


class Call:
    """An account's call state; ``call`` is the open call, if any."""

    __slots__ = ("call", "state")

    def __init__(self) -> None:
        self.state = CallState.OK
        self.call: MarginCall | None = None


def exposure(books: AccountBooks, prices: dict[str, int]) -> tuple[int, int] | None:
    """(collateral, owed) in NT$ at ``prices``; None when a position has no price yet."""
    collateral, owed = books.collateral, 0
    for lots, financed in ((books.financed, True), (books.shorts, False)):
        for symbol, held in lots.items():
            shares = sum(lot.shares for lot in held)
            if not shares:
                continue
            price = prices.get(symbol)
            if price is None:
                return None
            value = price * shares // 100
            if financed:
                collateral += value
                owed += sum(lot.first for lot in held)
            else:
                collateral += sum(lot.first + lot.second for lot in held)
                owed += value
    return collateral, owed


def ratio_bp(collateral: int, owed: int) -> int | None:
    """The maintenance ratio in basis points, truncated; None with nothing owed."""
    return collateral * _BP // owed if owed else None


def shortfall(collateral: int, owed: int) -> int:
    """The top-up that restores 166%: 1.66 x owed rounded up, minus the collateral."""
    return max(-(-owed * CLEAR_BP // _BP) - collateral, 0)


def trigger_for(call: Call, ratio: int | None, today: date) -> Trigger:
    if ratio is None or ratio >= CLEAR_BP:
        return Trigger.HEALTHY
    if call.call is not None and today > call.call.deadline:
        return Trigger.DEADLINE_PASSED
    return Trigger.BELOW_CALL if ratio < CALL_BP else Trigger.BETWEEN


def disposal_orders(books: AccountBooks, today: date) -> list[DisposalOrder]:
    """Every open financed and short position of the account, to be closed."""
    orders = [DisposalOrder(books.broker, books.account, today, symbol, Side.SELL,
                            Credit.MARGIN, shares)
              for symbol, lots in sorted(books.financed.items())
              if (shares := sum(lot.shares for lot in lots))]
    orders += [DisposalOrder(books.broker, books.account, today, symbol, Side.BUY,
                             Credit.SHORT, shares)
               for symbol, lots in sorted(books.shorts.items())
               if (shares := sum(lot.shares for lot in lots))]
    return orders
