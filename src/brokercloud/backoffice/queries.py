"""The back office read back, one broker at a time.

Every query names the broker it is for and returns nothing of another broker's (an account
of another broker reads as empty, exactly like a missing one); an account narrows it further.
"""

from __future__ import annotations

import msgspec

from brokercloud.backoffice.booking import Booking
from brokercloud.backoffice.ledger import ExceptionRecord, Ledger
from brokercloud.backoffice.nets import BrokerNet, NetAmount
from brokercloud.backoffice.settlement import DefaultRecord


class Holding(msgspec.Struct, frozen=True):
    """One symbol of an account: ``depository`` and ``pledged`` (margin account) shares and
    ``owed`` short shares as settled; ``available`` free shares counting today's trades."""

    symbol: str
    depository: int
    pledged: int
    owed: int
    available: int


def _owns(ledger: Ledger, broker: str, account: str) -> bool:
    terms = ledger.accounts.get(account)
    return terms is not None and terms.broker == broker


def bookings_of(ledger: Ledger, broker: str, account: str | None = None) -> list[Booking]:
    return [booking for booking in ledger.bookings.values()
            if booking.broker == broker and (account is None or booking.account == account)]


def net_amounts(ledger: Ledger, broker: str, account: str | None = None) -> list[NetAmount]:
    """Investors' net amounts per trade date, oldest first."""
    return [NetAmount(broker, name, day.trade_date, day.settle_date, running.receivable,
                      running.payable, running.net, running.fills)
            for _, day in sorted(ledger.days.items())
            for name, running in day.nets.items()
            if (account is None or name == account) and _owns(ledger, broker, name)]


def broker_nets(ledger: Ledger, broker: str) -> list[BrokerNet]:
    """The broker's multilateral net with the exchange per trade date, oldest first."""
    return [net for _, day in sorted(ledger.days.items()) for net in day.broker_nets()
            if net.broker == broker]


def exceptions_of(ledger: Ledger, broker: str) -> list[ExceptionRecord]:
    return [record for record in ledger.exceptions if record.broker == broker]


def defaults_of(ledger: Ledger, broker: str) -> list[DefaultRecord]:
    return [record for report in ledger.settled.values() for record in report.defaults
            if record.broker == broker]


def holdings_of(ledger: Ledger, broker: str, account: str) -> list[Holding]:
    if not _owns(ledger, broker, account):
        return []
    books = ledger.books
    symbols = {symbol for source in (books.depository, books.pledged, books.owed,
                                     ledger.available)
               for owner, symbol in source if owner == account}
    position = [(account, symbol) for symbol in sorted(symbols)]
    return [Holding(key[1], books.depository.get(key, 0), books.pledged.get(key, 0),
                    books.owed.get(key, 0), ledger.available.get(key, 0)) for key in position]
