"""An account's cash movements over a period: settlements, deposits, margin top-ups and
defaults, as the monthly statement lists them.

Settlements and defaults are read from the settlement reports (dated by their settlement
date); deposits and top-ups are kept by the ledger as they are applied (``Ledger.cash_moves``)
with the value date the bank gave, since the ledger's balances alone forget when money moved.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from brokercloud.backoffice.ledger import Ledger


class CashKind(enum.StrEnum):
    DEPOSIT = "deposit"  # into the settlement bank account
    TOP_UP = "top_up"  # from the bank account to margin collateral
    REPAYMENT = "repayment"  # a margin loan and its interest paid back in cash
    SHORT_RETURNED = "short_returned"  # shares returned for a short: margin and proceeds back
    SETTLEMENT = "settlement"  # T+2: the investor paid (-) or was paid (+)
    DEFAULT = "default"  # the investor did not pay: the broker paid ``-amount`` for them
    DEFAULT_PAID = "default_paid"  # the defaulter paid the broker back, with the penalty


class CashMove(msgspec.Struct, frozen=True):
    """One movement of an investor's bank account: ``amount`` + in, - out (a default moves
    nothing from the account; its amount is what the broker laid out, as a negative)."""

    broker: str
    account: str
    on: date | None  # None: a deposit or top-up journaled without its value date
    kind: CashKind
    amount: int


def cash_movements(ledger: Ledger, broker: str, account: str, first: date,
                   last: date) -> list[CashMove]:
    """The account's movements dated ``first`` to ``last`` (both included), oldest first;
    another broker's account has none. Undated deposits and top-ups are left out."""
    moves = [move for move in ledger.cash_moves
             if move.account == account and move.broker == broker
             and move.on is not None and first <= move.on <= last]
    for settle_date, report in ledger.settled.items():
        if not first <= settle_date <= last:
            continue
        if account in report.investors and ledger.accounts[account].broker == broker:
            moves.append(CashMove(broker, account, settle_date, CashKind.SETTLEMENT,
                                  report.investors[account]))
        moves += [CashMove(broker, account, settle_date, CashKind.DEFAULT, -record.owed)
                  for record in report.defaults
                  if record.account == account and record.broker == broker]
    return sorted(moves, key=lambda move: (move.on or first, move.kind))
