"""One investor account in the back office: its terms, positions and balances, and its part of
each settlement date not yet settled.

Everything about an account lives on its own object, so booking a fill or settling an account
touches a few small dictionaries instead of platform-wide ones keyed by (account, symbol):
that locality is most of what makes `bench settlement` fast.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import msgspec

from brokercloud.backoffice import commands as b
from brokercloud.backoffice.positions import Lot

if TYPE_CHECKING:
    from brokercloud.backoffice.margin import Call

FREE, PLEDGED, OWED = 0, 1, 2  # the slots of AccountDay.shares


class AccountDay:
    """One account's movements settling on one date, and its running net amount.

    ``shares`` per symbol: [depository delta, margin account (pledged) delta, short shares
    owed delta]; ``bought`` the cash buys not yet day-traded (day traders only).
    """

    __slots__ = ("bought", "broker_cash", "exchange_cash", "fills", "held", "loans",
                 "payable", "receivable", "shares")

    def __init__(self) -> None:
        self.receivable = self.payable = self.fills = 0
        self.loans = 0  # financing granted minus repaid
        self.held = 0  # short margin and proceeds the broker holds, taken minus released
        self.broker_cash = 0  # what the broker keeps or lays out for this account
        self.exchange_cash = 0  # the broker's net with the exchange for this account
        self.shares: dict[str, list[int]] = {}
        self.bought: dict[str, int] | None = None

    @property
    def net(self) -> int:
        return self.receivable - self.payable


class AccountBooks:
    """One account: commission terms (board lots, odd lots); free shares as traded; financing
    and short lots; what settlement has moved (bank account, depository, margin account,
    short shares owed, loans, held short collateral); its part of each unsettled date."""

    __slots__ = ("account", "available", "bank", "broker", "call", "collateral", "day_trading",
                 "days", "depository", "fees", "financed", "held", "loans", "odd_lot_fees",
                 "owed", "pledged", "shorts")

    def __init__(self, cmd: b.RegisterAccount, odd_lot_min_fee: int) -> None:
        self.account = cmd.account
        self.broker = cmd.broker
        self.set_terms(cmd, odd_lot_min_fee)
        self.available: dict[str, int] = {}
        self.financed: dict[str, list[Lot]] = {}
        self.shorts: dict[str, list[Lot]] = {}
        self.days: dict[date, AccountDay] = {}  # by settlement date, until settled
        self.bank = 0  # the investor's settlement bank account, NT$
        self.loans = 0  # financing outstanding, NT$
        self.held = 0  # short margin and proceeds the broker holds for the investor, NT$
        self.depository: dict[str, int] = {}
        self.pledged: dict[str, int] = {}  # shares in the margin account (collateral)
        self.owed: dict[str, int] = {}  # shares owed on short sales
        self.collateral = 0  # cash topped up against margin calls, NT$
        self.call: Call | None = None  # margin-call state, once the account has one

    def set_terms(self, cmd: b.RegisterAccount, odd_lot_min_fee: int) -> None:
        """Commission terms: the customer's schedule, and the same with the broker's odd-lot
        minimum fee for odd-lot fills."""
        self.day_trading = cmd.day_trading
        self.fees = cmd.fees
        self.odd_lot_fees = msgspec.structs.replace(cmd.fees, min_fee=odd_lot_min_fee)
