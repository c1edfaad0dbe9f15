"""Margin loans repaid in cash (現金償還): the loan with its interest leaves the investor's bank
account for the broker, oldest lots first, and the shares become the investor's own. Shorts
closed by returning shares (現券償還): the shares go back to the broker, the margin and proceeds
it held come back. Nothing moves when cash or shares are short, the position has not settled
or the input is bad.

Margin buy of 10 lots of 2330 at 76.2 on Wed 2026-11-25: loan 457,000 paid out on settlement,
Fri 2026-11-27, when the investor paid their own part of 306,085 (bank 5,000,000 ->
4,693,915). Interest 4.5% a year, calendar days, truncated."""

from __future__ import annotations

from datetime import date

from tests.backoffice.support import (
    ACCOUNT,
    BROKER,
    BUY,
    FRI,
    FUNDS,
    HOLDING,
    MARGIN,
    OTHER_ACCOUNT,
    SELL,
    SHORT,
    TSMC,
    fill,
)
from tests.backoffice.support import ledger as make_ledger

from brokercloud.backoffice import commands as b
from brokercloud.backoffice.cash import CashKind
from brokercloud.backoffice.ledger import Ledger
from brokercloud.backoffice.queries import interest_accrued
from brokercloud.backoffice.statement_pdf import _CASH_KINDS
from brokercloud.codes import Code

DEC9 = date(2026, 12, 9)  # 12 days after the payout
AFTER_SETTLEMENT = FUNDS - 306_085


def _financed() -> Ledger:
    books = make_ledger()
    assert books.apply(fill(BUY, 10_000, 7_620, credit=MARGIN)) == Code.OK
    assert books.apply(b.Settle(date=FRI)) == Code.OK
    return books


def _state(books: Ledger) -> tuple[int, int, int, int, int, int]:
    account = books.accounts[ACCOUNT]
    return (account.bank, account.loans, account.pledged.get(TSMC, 0),
            account.depository.get(TSMC, 0), account.available.get(TSMC, 0),
            books.books.broker_cash.get(BROKER, 0))


def test_repay_cash_when_whole_position_then_loan_and_interest_paid_shares_released() -> None:
    books = _financed()
    bank, loans, pledged, depository, available, broker_cash = _state(books)
    assert (bank, loans, pledged) == (AFTER_SETTLEMENT, 457_000, 10_000)
    # 457,000 x 4.5% x 12 / 365 = 676.11 -> 676
    assert books.apply(b.RepayCash(account=ACCOUNT, symbol=TSMC, qty=10_000, on=DEC9)) == 0
    assert _state(books) == (AFTER_SETTLEMENT - 457_676, 0, 0, depository + 10_000,
                             available + 10_000, broker_cash + 457_676)
    assert TSMC not in books.accounts[ACCOUNT].financed
    [move] = [m for m in books.cash_moves if m.kind is CashKind.REPAYMENT]
    assert (move.account, move.on, move.amount) == (ACCOUNT, DEC9, -457_676)


def test_repay_cash_when_part_then_that_share_of_the_loan_and_its_interest() -> None:
    books = _financed()
    before = _state(books)
    # 4 of 10 lots: loan 457,000 x 4,000 / 10,000 = 182,800; interest 182,800 x 4.5% x 12 / 365
    # = 270.44 -> 270
    assert books.apply(b.RepayCash(account=ACCOUNT, symbol=TSMC, qty=4_000, on=DEC9)) == 0
    assert _state(books) == (before[0] - 183_070, 457_000 - 182_800, 6_000, before[3] + 4_000,
                             before[4] + 4_000, before[5] + 183_070)
    [lot] = books.accounts[ACCOUNT].financed[TSMC]
    assert (lot.shares, lot.first) == (6_000, 274_200)


def test_repay_cash_when_refused_then_nothing_moves() -> None:
    unsettled = make_ledger()
    unsettled.apply(fill(BUY, 10_000, 7_620, credit=MARGIN))  # the loan is not paid out yet
    assert unsettled.apply(b.RepayCash(account=ACCOUNT, symbol=TSMC, qty=1_000,
                                       on=DEC9)) == Code.MARGIN_POSITION_TOO_SMALL
    books = _financed()
    before = _state(books)
    for command, code in [
        (b.RepayCash(account=ACCOUNT, symbol=TSMC, qty=10_001, on=DEC9),
         Code.MARGIN_POSITION_TOO_SMALL),
        (b.RepayCash(account=ACCOUNT, symbol=TSMC, qty=0, on=DEC9),
         Code.INVALID_REFERENCE_DATA),
        (b.RepayCash(account="99999999", symbol=TSMC, qty=1_000, on=DEC9),
         Code.UNKNOWN_ACCOUNT),
        (b.RepayCash(account=OTHER_ACCOUNT, symbol=TSMC, qty=1_000, on=DEC9),
         Code.MARGIN_POSITION_TOO_SMALL),  # another account's loan is not this one's
    ]:
        assert books.apply(command) == code
    books.accounts[ACCOUNT].bank = 457_675  # a peso short of loan and interest
    assert books.apply(b.RepayCash(account=ACCOUNT, symbol=TSMC, qty=10_000,
                                   on=DEC9)) == Code.REPAYMENT_EXCEEDS_BANK_BALANCE
    assert _state(books)[1:] == before[1:]
    assert books.accounts[ACCOUNT].financed[TSMC][0].shares == 10_000


def test_cash_kinds_when_listed_then_every_kind_has_a_statement_label() -> None:
    """A statement must name every movement it may list, repayments included."""
    assert set(_CASH_KINDS) == set(CashKind)


def _shorted() -> Ledger:
    """2 lots of 2330 sold short at 80.00 on Wed, settled Fri: margin 144,000 (90%) and the
    proceeds 160,000 - commission 228 - tax 480 - fee 128 = 159,164 held by the broker."""
    books = make_ledger()
    assert books.apply(fill(SELL, 2_000, 8_000, credit=SHORT)) == Code.OK
    assert books.apply(b.Settle(date=FRI)) == Code.OK
    return books


def test_return_shares_when_short_settled_then_shares_back_to_broker_and_cash_released() -> None:
    books = _shorted()
    account = books.accounts[ACCOUNT]
    bank, broker_cash = account.bank, books.books.broker_cash[BROKER]
    assert (account.owed[TSMC], account.held) == (2_000, 303_164)
    assert books.books.broker_shares[(BROKER, TSMC)] == -2_000  # lent out
    assert books.apply(b.ReturnShares(account=ACCOUNT, symbol=TSMC, qty=2_000, on=DEC9)) == 0
    assert (account.owed[TSMC], account.held, account.bank) == (0, 0, bank + 303_164)
    assert (account.depository[TSMC], account.available[TSMC]) == (HOLDING - 2_000,
                                                                   HOLDING - 2_000)
    assert books.books.broker_cash[BROKER] == broker_cash - 303_164
    assert (BROKER, TSMC) not in books.books.broker_shares
    assert TSMC not in account.shorts
    [move] = [m for m in books.cash_moves if m.kind is CashKind.SHORT_RETURNED]
    assert (move.on, move.amount) == (DEC9, 303_164)


def test_return_shares_when_refused_then_nothing_moves() -> None:
    unsettled = make_ledger()
    unsettled.apply(fill(SELL, 2_000, 8_000, credit=SHORT))
    assert unsettled.apply(b.ReturnShares(account=ACCOUNT, symbol=TSMC, qty=1_000,
                                          on=DEC9)) == Code.MARGIN_POSITION_TOO_SMALL
    books = _shorted()
    account = books.accounts[ACCOUNT]
    before = (account.bank, account.held, dict(account.depository), dict(account.owed))
    assert books.apply(b.ReturnShares(account=ACCOUNT, symbol=TSMC, qty=2_001,
                                      on=DEC9)) == Code.MARGIN_POSITION_TOO_SMALL
    account.available[TSMC] = 1_000  # most of the shares already sold for cash
    assert books.apply(b.ReturnShares(account=ACCOUNT, symbol=TSMC, qty=2_000,
                                      on=DEC9)) == Code.HOLDINGS_WOULD_GO_NEGATIVE
    assert books.apply(b.ReturnShares(account=ACCOUNT, symbol=TSMC, qty=-1,
                                      on=DEC9)) == Code.INVALID_REFERENCE_DATA
    assert (account.bank, account.held, dict(account.depository), dict(account.owed)) == before


def test_interest_accrued_when_days_pass_then_what_a_repayment_that_day_would_charge() -> None:
    books = _financed()
    assert interest_accrued(books, BROKER, ACCOUNT, FRI) == 0  # paid out today
    assert interest_accrued(books, BROKER, ACCOUNT, date(2026, 11, 28)) == 56  # 56.34 a day
    assert interest_accrued(books, BROKER, ACCOUNT, DEC9) == 676
    assert interest_accrued(books, "9B00", ACCOUNT, DEC9) == 0  # another broker sees nothing
    bank = books.accounts[ACCOUNT].bank
    books.apply(b.RepayCash(account=ACCOUNT, symbol=TSMC, qty=10_000, on=DEC9))
    assert bank - books.accounts[ACCOUNT].bank == 457_000 + 676
    assert interest_accrued(books, BROKER, ACCOUNT, DEC9) == 0  # nothing left open
