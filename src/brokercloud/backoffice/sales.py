"""Salesperson performance and bonus, and each customer's contribution, per broker.

Commission is the broker's revenue from a customer: the sum of the commission booked on the
customer's fills traded in the period (``Booking.commission``, already discounted). A
salesperson's bonus is a broker-set integer rate in parts per million of their customers'
commission, truncated to NT$1 once per salesperson and period (not per fill, which would lose
up to NT$1 a fill). The ranking orders customers by commission contributed, most first, ties
by account number, per broker or per branch.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import msgspec

from brokercloud.backoffice.customers import CustomerError, check_period
from brokercloud.backoffice.ledger import Ledger
from brokercloud.backoffice.queries import bookings_of
from brokercloud.codes import Code
from brokercloud.core.model import Account

_PPM = 1_000_000


class Contribution(msgspec.Struct, frozen=True):
    """A customer's place in the ranking: ``rank`` from 1; ``share_ppm`` of the ranked
    customers' total commission, truncated."""

    rank: int
    account: str
    branch: str
    commission: int
    fills: int
    value: int  # traded value, NT$
    share_ppm: int


class SalesResult(msgspec.Struct, frozen=True):
    """One salesperson's period: their customers' commission and the bonus on it."""

    salesperson: str
    customers: int
    commission: int
    bonus: int


def _commission_by_account(ledger: Ledger, broker: str, first: date,
                           last: date) -> dict[str, tuple[int, int, int]]:
    """Account -> (commission, fills, traded value) for fills traded in the period."""
    check_period(first, last)
    totals: dict[str, tuple[int, int, int]] = {}
    for booking in bookings_of(ledger, broker):
        if first <= booking.trade_date <= last:
            commission, fills, value = totals.get(booking.account, (0, 0, 0))
            totals[booking.account] = (commission + booking.commission, fills + 1,
                                       value + booking.value)
    return totals


def salesperson_results(ledger: Ledger, served: Mapping[str, str], broker: str, first: date,
                        last: date, bonus_ppm: int) -> list[SalesResult]:
    """Every salesperson serving an account of ``broker`` (``served``: account ->
    salesperson, see ``customers.salespeople``), by commission, most first."""
    if type(bonus_ppm) is not int or bonus_ppm < 0:
        raise CustomerError(Code.INVALID_BONUS_RATE)
    totals = _commission_by_account(ledger, broker, first, last)
    commission: dict[str, int] = {}
    customers: dict[str, int] = {}
    for account, salesperson in served.items():
        owned = ledger.accounts.get(account)
        if owned is None or owned.broker != broker:
            continue
        customers[salesperson] = customers.get(salesperson, 0) + 1
        commission[salesperson] = commission.get(salesperson, 0) + totals.get(
            account, (0, 0, 0))[0]
    results = [SalesResult(name, customers[name], amount, amount * bonus_ppm // _PPM)
               for name, amount in commission.items()]
    return sorted(results, key=lambda result: (-result.commission, result.salesperson))


def contribution_ranking(ledger: Ledger, core_accounts: Mapping[str, Account], broker: str,
                         first: date, last: date,
                         branch: str | None = None) -> list[Contribution]:
    """The broker's customers who traded in the period (optionally one branch's, as the
    core records it), ranked by the commission they contributed."""
    totals = _commission_by_account(ledger, broker, first, last)
    rows = [(account, core_accounts[account].branch if account in core_accounts else "",
             *amounts) for account, amounts in totals.items()]
    rows = [row for row in rows if branch is None or row[1] == branch]
    rows.sort(key=lambda row: (-row[2], row[0]))
    whole = sum(row[2] for row in rows)
    return [Contribution(rank, account, where, commission, fills, value,
                         commission * _PPM // whole if whole else 0)
            for rank, (account, where, commission, fills, value) in enumerate(rows, 1)]
