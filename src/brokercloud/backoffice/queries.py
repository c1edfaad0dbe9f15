"""The back office read back, one broker at a time.

Every query names the broker it is for and returns nothing of another broker's (an account
of another broker reads as empty, exactly like a missing one); an account narrows it further.
"""

from __future__ import annotations

from datetime import date

import msgspec

from brokercloud.backoffice.booking import Booking
from brokercloud.backoffice.ledger import ExceptionRecord, Ledger
from brokercloud.backoffice.nets import BrokerNet, NetAmount
from brokercloud.backoffice.positions import accrued_interest
from brokercloud.backoffice.settlement import DefaultRecord


class Holding(msgspec.Struct, frozen=True):
    """One symbol of an account: ``depository`` and ``pledged`` (margin account) shares and
    ``owed`` short shares as settled; ``available`` free shares counting today's trades."""

    symbol: str
    depository: int
    pledged: int
    owed: int
    available: int


class Balance(msgspec.Struct, frozen=True):
    """An account's money as settled: its settlement bank account, financing outstanding and
    the short collateral (margin and proceeds) the broker holds for it."""

    bank: int
    loans: int
    held: int


def _owns(ledger: Ledger, broker: str, account: str) -> bool:
    terms = ledger.accounts.get(account)
    return terms is not None and terms.broker == broker


def bookings_of(ledger: Ledger, broker: str, account: str | None = None) -> list[Booking]:
    return [booking for booking in ledger.bookings.values()
            if booking.broker == broker and (account is None or booking.account == account)]


def net_amounts(ledger: Ledger, broker: str, account: str | None = None) -> list[NetAmount]:
    """Investors' net amounts per trade date not yet settled, oldest first."""
    names = [account] if account is not None else [
        name for name, books in ledger.accounts.items() if books.broker == broker]
    amounts = [ledger.net_amount(name, settle_date) for name in names
               if _owns(ledger, broker, name) for settle_date in ledger.accounts[name].days]
    return sorted((amount for amount in amounts if amount is not None),
                  key=lambda amount: (amount.settle_date, amount.account))


def broker_nets(ledger: Ledger, broker: str) -> list[BrokerNet]:
    """The broker's multilateral net with the exchange per trade date, oldest first."""
    return [net for _, day in sorted(ledger.days.items())
            for net in day.broker_nets(ledger.accounts) if net.broker == broker]


def exceptions_of(ledger: Ledger, broker: str) -> list[ExceptionRecord]:
    return [record for record in ledger.exceptions if record.broker == broker]


def defaults_of(ledger: Ledger, broker: str) -> list[DefaultRecord]:
    return [record for report in ledger.settled.values() for record in report.defaults
            if record.broker == broker]


def holdings_of(ledger: Ledger, broker: str, account: str) -> list[Holding]:
    if not _owns(ledger, broker, account):
        return []
    books = ledger.accounts[account]
    symbols = set(books.depository) | set(books.pledged) | set(books.owed) | set(
        books.available)
    return [Holding(symbol, books.depository.get(symbol, 0), books.pledged.get(symbol, 0),
                    books.owed.get(symbol, 0), books.available.get(symbol, 0))
            for symbol in sorted(symbols)]


def interest_accrued(ledger: Ledger, broker: str, account: str, on: date) -> int:
    """Financing interest the account's open loans have accrued by ``on`` (0 for another
    broker's account)."""
    if not _owns(ledger, broker, account):
        return 0
    books = ledger.accounts[account]
    rate = ledger.brokers[books.broker].financing_rate_ppm
    return sum(accrued_interest(lots, on, rate) for lots in books.financed.values())


def balance_of(ledger: Ledger, broker: str, account: str) -> Balance | None:
    if not _owns(ledger, broker, account):
        return None
    books = ledger.accounts[account]
    return Balance(books.bank, books.loans, books.held)
