"""T+2 by the trading calendar: cash and shares moved, margin records, defaults, and
conservation (every settlement date sums to zero across investors, brokers and exchange)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.backoffice.support import (
    ACCOUNT,
    BROKER,
    BUY,
    CASH,
    DAY_TRADER,
    DISCOUNTED,
    ETF,
    FRI,
    FUNDS,
    HOLDING,
    MARGIN,
    OTHER_ACCOUNT,
    OTHER_BROKER,
    SELL,
    SHORT,
    THU,
    TSMC,
    WED,
    fill,
    ledger,
)

from brokercloud.backoffice import commands as b
from brokercloud.backoffice.booking import Booking
from brokercloud.backoffice.ledger import Ledger
from brokercloud.backoffice.queries import Balance, balance_of, defaults_of, holdings_of
from brokercloud.backoffice.settlement import SettlementReport
from brokercloud.codes import Code
from brokercloud.core.commands import AccountStatus, SetAccountStatus
from brokercloud.market.fees import FeeSchedule

MON = date(2026, 11, 30)


def _settle(books: Ledger, day: date) -> SettlementReport:
    assert books.apply(b.Settle(date=day)) == Code.OK
    return books.settled[day]


def _bank(books: Ledger, account: str = ACCOUNT) -> int:
    balance = balance_of(books, BROKER, account)
    assert balance is not None
    return balance.bank


def _assert_conserved(report: SettlementReport) -> None:
    assert sum(report.cash.values()) == 0, report.cash
    symbols = {symbol for moved in report.shares.values() for symbol in moved}
    for symbol in symbols:
        assert sum(moved.get(symbol, 0) for moved in report.shares.values()) == 0, symbol


def test_settle_when_thesis_examples_then_cash_shares_and_loan_move_on_t_plus_2() -> None:
    books = ledger()
    books.apply(fill(BUY, 10_000, 7_620, credit=MARGIN))  # net -306,085, loan 457,000
    books.apply(fill(SELL, 5_000, 7_730))  # net +384,791
    assert books.apply(b.Settle(date=THU)) == Code.OK  # nothing settles on T+1
    assert _bank(books) == FUNDS
    report = _settle(books, FRI)
    assert _bank(books) == FUNDS + 78_706
    assert report.investors == {ACCOUNT: 78_706}
    assert report.cash == {
        "investors": 78_706,
        f"broker:{BROKER}": 1_085 - 457_000 + 550 + 1_159,  # commissions, tax, the loan
        "exchange": 762_000 - 386_500,
    }
    assert report.shares == {"investors": {TSMC: 5_000}, "exchange": {TSMC: -5_000}}
    [holding] = [h for h in holdings_of(books, BROKER, ACCOUNT) if h.symbol == TSMC]
    assert (holding.depository, holding.pledged, holding.owed) == (HOLDING - 5_000, 10_000, 0)
    assert balance_of(books, BROKER, ACCOUNT) == Balance(bank=FUNDS + 78_706, loans=457_000,
                                                        held=0)
    _assert_conserved(report)


def test_settle_when_traded_on_thursday_then_settles_monday_after_the_weekend() -> None:
    books = ledger()
    command = fill(BUY, 1_000, 7_620, trade_date=THU)
    books.apply(command)
    booking = books.booking(command.order_id, command.exec_id)
    assert booking is not None and booking.settle_date == MON
    assert books.apply(b.Settle(date=date(2026, 11, 28))) == Code.NOT_A_SETTLEMENT_DAY
    _settle(books, FRI)
    assert _bank(books) == FUNDS
    _settle(books, MON)
    # 76,200 + commission 108.585 -> 108
    assert _bank(books) == FUNDS - 76_308


def test_settlement_date_when_holiday_or_lunar_new_year_then_calendar_decides() -> None:
    books = ledger()
    # Wed 2026-12-23: Thu 12-24 is T+1, Fri 12-25 a holiday, so T+2 is Mon 12-28
    assert books.settlement_date(date(2026, 12, 23)) == date(2026, 12, 28)
    # Wed 2026-02-11: the two days before Lunar New Year settle without trading
    assert books.settlement_date(date(2026, 2, 11)) == date(2026, 2, 13)
    assert books.settlement_date(date(2026, 2, 13)) is None  # no trading that day


def test_settle_when_christmas_holiday_then_cash_moves_the_monday_after() -> None:
    books = ledger()
    books.apply(fill(SELL, 1_000, 7_620, trade_date=date(2026, 12, 23)))
    assert books.apply(b.Settle(date=date(2026, 12, 25))) == Code.NOT_A_SETTLEMENT_DAY
    _settle(books, date(2026, 12, 28))
    # 76,200 - commission 108 - tax 228.6 -> 228
    assert _bank(books) == FUNDS + 75_864


def test_settle_when_earlier_date_pending_or_repeated_then_refused() -> None:
    books = ledger()
    books.apply(fill(BUY, 1_000, 7_620))  # settles Fri
    books.apply(fill(BUY, 1_000, 7_620, trade_date=THU))  # settles Mon
    assert books.apply(b.Settle(date=MON)) == Code.SETTLEMENT_OUT_OF_ORDER
    _settle(books, FRI)
    assert books.apply(b.Settle(date=FRI)) == Code.ALREADY_SETTLED
    assert books.apply(fill(BUY, 1_000, 7_620)) == Code.TRADE_DATE_SETTLED
    # a late fill from a day before, never traded: its T+2 (Wed 11-26) is already behind us
    assert books.apply(fill(BUY, 1_000, 7_620, trade_date=date(2026, 11, 24))) == (
        Code.TRADE_DATE_SETTLED)
    _settle(books, MON)
    assert books.apply(b.Settle(date=THU)) == Code.SETTLEMENT_OUT_OF_ORDER


def test_settle_when_investor_cannot_pay_then_default_record_and_status_for_core() -> None:
    books = ledger()
    books.apply(b.RegisterAccount(account="55556666", broker=BROKER, fees=FeeSchedule()))
    books.apply(b.Deposit(account="55556666", amount=100_000))
    # 2 lots at 76.2: 152,400 + commission 217.17 -> 217 = 152,617 > NT$100,000
    books.apply(fill(BUY, 2_000, 7_620, account="55556666"))
    books.apply(fill(BUY, 1_000, 7_620))  # a paying investor, same day
    report = _settle(books, FRI)
    [record] = defaults_of(books, BROKER)
    assert (record.account, record.settle_date, record.owed, record.withheld) == (
        "55556666", FRI, 152_617, {TSMC: 2_000})
    # the deadline is 11:00 Taiwan time (03:00 UTC) on T+2
    deadline = int(datetime(2026, 11, 27, 3, 0, tzinfo=UTC).timestamp() * 1000)
    assert report.status_changes == [SetAccountStatus(at=deadline, account="55556666",
                                                      status=AccountStatus.DEFAULTED)]
    assert _bank(books, "55556666") == 100_000  # nothing taken: all or nothing
    assert report.investors == {ACCOUNT: -76_308}  # 76,200 + commission 108
    # the broker lays out 152,617 and keeps both commissions (217 + 108)
    assert report.cash[f"broker:{BROKER}"] == -152_617 + 217 + 108
    assert report.shares[f"broker:{BROKER}"] == {TSMC: 2_000}
    assert report.shares["investors"] == {TSMC: 1_000}  # the paying investor's lot
    assert books.accounts["55556666"].available[TSMC] == 0  # the withheld shares cannot be sold
    assert defaults_of(books, OTHER_BROKER) == []
    _assert_conserved(report)


def test_close_default_when_defaulter_pays_with_penalty_then_shares_back_and_case_closed(
        ) -> None:
    """The defaulter above pays the 152,617 the broker laid out plus the 7% penalty
    (10,683.19 -> 10,683): 163,300 from their bank account to the broker, and the 2,000
    withheld shares move from the broker to their depository, theirs to sell again."""
    books = ledger()
    books.apply(b.RegisterAccount(account="55556666", broker=BROKER, fees=FeeSchedule()))
    books.apply(b.Deposit(account="55556666", amount=100_000))
    books.apply(fill(BUY, 2_000, 7_620, account="55556666"))
    _settle(books, FRI)
    broker_cash = books.books.broker_cash[BROKER]
    assert books.open_defaults("55556666") == [FRI]
    close = b.CloseDefault(account="55556666", settle_date=FRI, on=date(2026, 12, 1))
    assert books.apply(close) == Code.DEFAULT_PAYMENT_EXCEEDS_BANK_BALANCE  # 100,000 < 163,300
    assert books.books.broker_shares[(BROKER, TSMC)] == 2_000  # nothing moved
    books.apply(b.Deposit(account="55556666", amount=100_000))
    assert books.apply(close) == Code.OK
    assert _bank(books, "55556666") == 200_000 - 163_300
    assert books.books.broker_cash[BROKER] == broker_cash + 163_300
    assert (BROKER, TSMC) not in books.books.broker_shares
    account = books.accounts["55556666"]
    assert (account.depository[TSMC], account.available[TSMC]) == (2_000, 2_000)
    assert books.closed_defaults == {("55556666", FRI): 10_683}
    assert books.open_defaults("55556666") == []
    assert books.apply(close) == Code.DEFAULT_ALREADY_CLOSED
    for wrong in (b.CloseDefault(account="55556666", settle_date=MON),
                  b.CloseDefault(account=ACCOUNT, settle_date=FRI),
                  b.CloseDefault(account="00000000", settle_date=FRI)):
        assert books.apply(wrong) == Code.NO_SUCH_DEFAULT
    assert books.apply(b.RegisterBroker(broker="9C00", default_penalty_bp=701)) == (
        Code.INVALID_REFERENCE_DATA)  # the penalty is at most 7%


def test_settle_when_short_sale_then_margin_collected_and_lent_shares_recorded() -> None:
    books = ledger()
    books.apply(fill(SELL, 2_000, 8_000, credit=SHORT))
    report = _settle(books, FRI)
    assert report.cash == {"investors": -144_000, f"broker:{BROKER}": 304_000,
                           "exchange": -160_000}
    assert report.shares == {f"broker:{BROKER}": {TSMC: -2_000}, "exchange": {TSMC: 2_000}}
    [holding] = [h for h in holdings_of(books, BROKER, ACCOUNT) if h.symbol == TSMC]
    assert (holding.depository, holding.owed) == (HOLDING, 2_000)
    assert balance_of(books, BROKER, ACCOUNT) == Balance(bank=FUNDS - 144_000, loans=0,
                                                        held=144_000 + 159_164)
    _assert_conserved(report)


# -- conservation, for any mix of trades ------------------------------------------------------

_ACCOUNTS = (ACCOUNT, DISCOUNTED, DAY_TRADER, OTHER_ACCOUNT)
_BROKER_OF = {ACCOUNT: BROKER, DISCOUNTED: BROKER, DAY_TRADER: BROKER,
              OTHER_ACCOUNT: OTHER_BROKER}
_DAYS = (date(2026, 11, 24), WED, THU, date(2026, 11, 27), date(2026, 11, 30))

_fills = st.lists(st.tuples(
    st.sampled_from(_ACCOUNTS), st.sampled_from((BUY, SELL)),
    st.sampled_from((CASH, CASH, MARGIN, SHORT)), st.sampled_from((TSMC, ETF)),
    st.integers(1, 30).map(lambda lots: lots * 1_000) | st.integers(1, 999),
    st.integers(5_000, 9_000), st.sampled_from(_DAYS)), max_size=60)


@settings(max_examples=60, deadline=None)
@given(_fills, st.integers(0, 3_000_000))
def test_settle_when_any_trades_then_cash_and_shares_sum_to_zero_every_date(
        trades: list[tuple], poor_funds: int) -> None:  # type: ignore[type-arg]
    books = ledger()
    books.apply(b.RegisterAccount(account="55556666", broker=BROKER, fees=FeeSchedule()))
    if poor_funds:
        books.apply(b.Deposit(account="55556666", amount=poor_funds))
    for account, side, credit, symbol, qty, price, day in trades:
        for who in (account, "55556666"):
            books.apply(fill(side, qty, price, credit=credit, account=who,
                             broker=_BROKER_OF.get(who, BROKER), symbol=symbol,
                             trade_date=day))
    for day in sorted(books.days):
        report = _settle(books, day)
        _assert_conserved(report)
        _assert_matches_bookings(report, [x for x in books.bookings.values()
                                          if x.settle_date == day])
    for name, account in books.accounts.items():
        assert all(shares >= 0 for shares in account.depository.values()), name


def _assert_matches_bookings(report: SettlementReport, bookings: list[Booking]) -> None:
    """The report against an oracle built from the day's bookings alone: the exchange takes
    each buy's value and delivers its shares (the reverse for sells), each paying investor
    moves the sum of their bookings' nets, each defaulter owes it."""
    exchange_cash = sum(x.value if x.side is BUY else -x.value for x in bookings)
    exchange_shares: dict[str, int] = {}
    nets: dict[str, int] = {}
    for x in bookings:
        exchange_shares[x.symbol] = exchange_shares.get(x.symbol, 0) + (
            -x.qty if x.side is BUY else x.qty)
        nets[x.account] = nets.get(x.account, 0) + x.net
    assert report.cash["exchange"] == exchange_cash
    assert report.shares.get("exchange", {}) == {k: v for k, v in exchange_shares.items() if v}
    owed = {record.account: record.owed for record in report.defaults}
    assert {**report.investors, **{k: -v for k, v in owed.items()}} == nets
