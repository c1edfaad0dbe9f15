"""Bad input never books and is never dropped; re-delivered fills change nothing; one broker
never sees another's books."""

from __future__ import annotations

from datetime import date

import msgspec
from tests.backoffice.support import (
    ACCOUNT,
    BROKER,
    BUY,
    HOLDING,
    MARGIN,
    OTHER_ACCOUNT,
    OTHER_BROKER,
    SELL,
    SHORT,
    TSMC,
    fill,
    ledger,
)

from brokercloud.backoffice import commands as b
from brokercloud.backoffice.ledger import Ledger
from brokercloud.backoffice.queries import (
    balance_of,
    bookings_of,
    broker_nets,
    exceptions_of,
    holdings_of,
    net_amounts,
)
from brokercloud.codes import Code


def _fingerprint(books: Ledger) -> bytes:
    return msgspec.msgpack.encode([sorted(books.bookings.items()),
                                   sorted((name, sorted(account.available.items()))
                                          for name, account in books.accounts.items())])


def test_book_when_same_fill_delivered_again_then_nothing_changes() -> None:
    books = ledger()
    command = fill(BUY, 1_000, 7_620)
    assert books.apply(command) == Code.OK
    before = _fingerprint(books)
    nets = net_amounts(books, BROKER, ACCOUNT)
    assert books.apply(command) == Code.OK
    assert books.apply(msgspec.structs.replace(command)) == Code.OK
    assert _fingerprint(books) == before
    assert net_amounts(books, BROKER, ACCOUNT) == nets
    assert nets[0].fills == 1
    assert books.exceptions == []


def test_book_when_exec_id_reused_with_other_terms_then_held_not_booked() -> None:
    books = ledger()
    command = fill(BUY, 1_000, 7_620)
    books.apply(command)
    changed = msgspec.structs.replace(command, price=7_630)
    assert books.apply(changed) == Code.EXEC_ID_CONFLICT
    assert books.booking(command.order_id, command.exec_id).price == 7_620
    assert [r.code for r in exceptions_of(books, BROKER)] == [Code.EXEC_ID_CONFLICT]


def test_book_when_unknown_account_then_held_in_exceptions_queue() -> None:
    books = ledger()
    command = fill(BUY, 1_000, 7_620, account="99999999")
    assert books.apply(command) == Code.UNKNOWN_ACCOUNT
    assert books.bookings == {}
    [record] = exceptions_of(books, BROKER)
    assert (record.account, record.order_id, record.exec_id, record.code) == (
        "99999999", command.order_id, command.exec_id, Code.UNKNOWN_ACCOUNT)


def test_book_when_account_of_other_broker_then_held_for_the_reporting_broker_only() -> None:
    books = ledger()
    assert books.apply(fill(BUY, 1_000, 7_620, account=OTHER_ACCOUNT)) == (
        Code.ACCOUNT_OF_OTHER_BROKER)
    assert [r.code for r in exceptions_of(books, BROKER)] == [Code.ACCOUNT_OF_OTHER_BROKER]
    assert exceptions_of(books, OTHER_BROKER) == []
    assert bookings_of(books, OTHER_BROKER) == []


def test_book_when_unknown_symbol_or_bad_numbers_then_held() -> None:
    books = ledger()
    assert books.apply(fill(BUY, 1_000, 7_620, symbol="9999")) == Code.UNKNOWN_SYMBOL
    assert books.apply(fill(BUY, 0, 7_620)) == Code.INVALID_FILL
    assert books.apply(fill(BUY, 1_000, -1)) == Code.INVALID_FILL
    # built in code rather than decoded: a bare int or string is not a side or credit type
    assert books.apply(msgspec.structs.replace(fill(BUY, 1_000, 7_620), side=1)) == (
        Code.INVALID_FILL)
    assert books.apply(msgspec.structs.replace(fill(BUY, 1_000, 7_620), credit="loan")) == (
        Code.INVALID_FILL)
    # no floats in money, and a trade date must be a date
    assert books.apply(msgspec.structs.replace(fill(BUY, 1_000, 7_620), price=76.2)) == (
        Code.INVALID_FILL)
    assert books.apply(msgspec.structs.replace(fill(BUY, 1_000, 7_620),
                                               trade_date="2026-11-25")) == Code.INVALID_FILL
    assert len(exceptions_of(books, BROKER)) == 7
    assert books.bookings == {}


def test_book_when_trade_date_is_a_holiday_then_held() -> None:
    books = ledger()
    assert books.apply(fill(BUY, 1_000, 7_620, trade_date=date(2026, 12, 25))) == (
        Code.NOT_A_TRADING_DAY)
    assert books.apply(fill(BUY, 1_000, 7_620, trade_date=date(2026, 11, 28))) == (
        Code.NOT_A_TRADING_DAY)  # a Saturday


def test_book_when_sell_exceeds_holdings_then_refused_with_reason() -> None:
    books = ledger()
    command = fill(SELL, HOLDING + 1_000, 7_620)
    assert books.apply(command) == Code.HOLDINGS_WOULD_GO_NEGATIVE
    [record] = exceptions_of(books, BROKER)
    assert record.detail == f"{HOLDING} shares available, {HOLDING + 1_000} sold"
    assert books.accounts[ACCOUNT].available[TSMC] == HOLDING
    assert books.bookings == {}


def test_book_when_todays_buy_covers_the_sell_then_booked() -> None:
    books = ledger()
    books.apply(fill(BUY, 2_000, 7_620))
    assert books.apply(fill(SELL, HOLDING + 2_000, 7_620)) == Code.OK
    assert books.accounts[ACCOUNT].available[TSMC] == 0
    assert books.apply(fill(SELL, 1_000, 7_620)) == Code.HOLDINGS_WOULD_GO_NEGATIVE


def test_book_when_margin_sell_or_cover_exceeds_position_then_refused() -> None:
    books = ledger()
    books.apply(fill(BUY, 1_000, 7_620, credit=MARGIN))
    assert books.apply(fill(SELL, 2_000, 7_620, credit=MARGIN)) == (
        Code.MARGIN_POSITION_TOO_SMALL)
    assert books.apply(fill(BUY, 1_000, 7_620, credit=SHORT)) == Code.MARGIN_POSITION_TOO_SMALL
    assert len(books.bookings) == 1


def test_hold_exception_when_core_reports_unknown_order_then_listed_for_its_broker() -> None:
    books = ledger()
    books.apply(b.HoldException(broker=BROKER, order_id="20261125-00000042",
                                code=Code.UNKNOWN_ORDER_ID, detail="ExchangeFilled"))
    [record] = exceptions_of(books, BROKER)
    assert (record.order_id, record.code, record.detail) == (
        "20261125-00000042", Code.UNKNOWN_ORDER_ID, "ExchangeFilled")
    assert exceptions_of(books, OTHER_BROKER) == []


def test_queries_when_two_brokers_trade_then_each_sees_only_its_own() -> None:
    books = ledger()
    books.apply(fill(BUY, 1_000, 7_620))
    books.apply(fill(SELL, 2_000, 7_700, account=OTHER_ACCOUNT, broker=OTHER_BROKER))
    assert {x.account for x in bookings_of(books, BROKER)} == {ACCOUNT}
    assert {x.account for x in bookings_of(books, OTHER_BROKER)} == {OTHER_ACCOUNT}
    assert net_amounts(books, BROKER, OTHER_ACCOUNT) == []
    assert [n.account for n in net_amounts(books, OTHER_BROKER)] == [OTHER_ACCOUNT]
    assert holdings_of(books, BROKER, OTHER_ACCOUNT) == []
    assert balance_of(books, BROKER, OTHER_ACCOUNT) is None
    assert balance_of(books, OTHER_BROKER, OTHER_ACCOUNT) is not None
    # 1 lot at 76.2 bought: the broker pays the exchange 76,200 and receives 1,000 shares
    [mine] = broker_nets(books, BROKER)
    assert (mine.cash, mine.shares) == (-76_200, {TSMC: 1_000})
    [theirs] = broker_nets(books, OTHER_BROKER)
    assert (theirs.cash, theirs.shares) == (154_000, {TSMC: -2_000})


def test_broker_net_when_many_investors_trade_then_multilateral_net_per_symbol() -> None:
    books = ledger()
    books.apply(fill(BUY, 3_000, 7_620))
    books.apply(fill(SELL, 1_000, 7_700, account="11112222"))
    books.apply(fill(SELL, 1_000, 15_000, symbol="0050"))
    # cash: -228,600 + 77,000 + 150,000; shares: 2330 +3,000 -1,000, 0050 -1,000
    [net] = broker_nets(books, BROKER)
    assert net.cash == -1_600
    assert net.shares == {TSMC: 2_000, "0050": -1_000}


def test_reference_when_amounts_not_whole_then_refused() -> None:
    books = ledger()
    assert books.apply(b.Deposit(account=ACCOUNT, amount=100.5)) == Code.INVALID_REFERENCE_DATA
    assert books.apply(b.SetHolding(account=ACCOUNT, symbol=TSMC, shares=True)) == (
        Code.INVALID_REFERENCE_DATA)
    assert books.apply(b.MarkPrices(date=date(2026, 11, 25), prices={TSMC: 76.2})) == (
        Code.INVALID_REFERENCE_DATA)
    assert books.apply(b.TopUp(account=ACCOUNT, amount=1.0)) == Code.INVALID_REFERENCE_DATA
    assert books.accounts[ACCOUNT].available[TSMC] == HOLDING
