"""Customer master data and trade history, per broker: what the broker's staff look up first.

The master record joins three sources without copying any of them: the core's account record
(name, branch, status, margin, limits, and the commission discount a broker administrator set
with ``SetCommissionDiscount``: the core is where it changes), the salesperson who serves the
account (the AP server's staff identities: a salesperson's ``accounts``), and the back office's
own terms (the schedule it books with, the day-trading flag). Every function names the broker
it answers for; another broker's account reads exactly like a missing one
(``UNKNOWN_CUSTOMER``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Protocol

import msgspec

from brokercloud.backoffice.booking import Booking
from brokercloud.backoffice.ledger import Ledger
from brokercloud.backoffice.queries import bookings_of
from brokercloud.codes import Code, describe
from brokercloud.core.commands import AccountStatus, Role
from brokercloud.core.model import Account


class CustomerError(Exception):
    """A refused customer-management query, with its code and the code's fixed sentence."""

    def __init__(self, code: Code) -> None:
        super().__init__(describe(code))
        self.code = code


class StaffIdentity(Protocol):
    """What ``salespeople`` reads of a user (``gateway.identities.User`` fits)."""

    user_id: str
    broker: str
    role: Role
    accounts: tuple[str, ...]


class CustomerRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One account's master data. ``discount_bp`` is the share of the broker's rate the
    customer pays (10,000 = no discount, 6,000 = 6折); ``booked_discount_bp`` is the one the
    back office books fills with (None: the account has not reached the back office)."""

    account: str
    broker: str
    branch: str
    name: str
    salesperson: str  # "" when no salesperson serves the account
    status: AccountStatus
    margin: bool
    day_trading: bool
    trading_limit: int
    credit_limit: int
    commission_rate_ppm: int
    discount_bp: int
    min_fee: int
    booked_discount_bp: int | None


def salespeople(users: Iterable[StaffIdentity], broker: str) -> dict[str, str]:
    """Account -> the salesperson serving it, for one broker (the first one named wins, so
    an account shared by two salespeople is credited once)."""
    served: dict[str, str] = {}
    for user in sorted(users, key=lambda user: user.user_id):
        if user.broker == broker and user.role is Role.SALESPERSON:
            for account in user.accounts:
                served.setdefault(account, user.user_id)
    return served


def customer_record(core_accounts: Mapping[str, Account], ledger: Ledger,
                    served: Mapping[str, str], broker: str, account: str) -> CustomerRecord:
    found = core_accounts.get(account)
    if found is None or found.broker != broker:
        raise CustomerError(Code.UNKNOWN_CUSTOMER)
    books = ledger.accounts.get(account)
    fees = found.fees
    return CustomerRecord(
        account=account, broker=broker, branch=found.branch, name=found.name,
        salesperson=served.get(account, ""), status=found.status, margin=found.margin,
        day_trading=found.day_trading, trading_limit=found.trading_limit,
        credit_limit=found.credit_limit, commission_rate_ppm=fees.rate_ppm,
        discount_bp=fees.discount_bp, min_fee=fees.min_fee,
        booked_discount_bp=books.fees.discount_bp if books is not None else None)


def customer_records(core_accounts: Mapping[str, Account], ledger: Ledger,
                     served: Mapping[str, str], broker: str,
                     branch: str | None = None) -> list[CustomerRecord]:
    """The broker's accounts (optionally one branch's), by account number."""
    return [customer_record(core_accounts, ledger, served, broker, name)
            for name, found in sorted(core_accounts.items())
            if found.broker == broker and (branch is None or found.branch == branch)]


def check_period(first: date, last: date) -> None:
    if first > last:
        raise CustomerError(Code.INVALID_PERIOD)


def month_period(month: str) -> tuple[date, date]:
    """'2026-11' -> (2026-11-01, 2026-11-30)."""
    try:
        year, number = (int(part) for part in month.split("-"))
        first = date(year, number, 1)
    except ValueError:
        raise CustomerError(Code.INVALID_PERIOD) from None
    following = date(year + number // 12, number % 12 + 1, 1)
    return first, date.fromordinal(following.toordinal() - 1)


def trade_history(ledger: Ledger, broker: str, account: str, first: date,
                  last: date) -> list[Booking]:
    """The account's booked fills traded ``first`` to ``last`` (both included), by trade
    date and, within a day, in the order they were booked."""
    check_period(first, last)
    owned = ledger.accounts.get(account)
    if owned is None or owned.broker != broker:
        raise CustomerError(Code.UNKNOWN_CUSTOMER)
    return sorted((booking for booking in bookings_of(ledger, broker, account)
                   if first <= booking.trade_date <= last),
                  key=lambda booking: booking.trade_date)
