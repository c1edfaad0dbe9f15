"""Customer master data and trade history: the core's record, the salesperson, the discount
set in the core; one broker never sees another's customers."""

from __future__ import annotations

from datetime import date

import pytest
from tests.backoffice.customer_support import core_accounts
from tests.backoffice.support import (
    ACCOUNT,
    BROKER,
    BUY,
    DAY_TRADER,
    DISCOUNTED,
    OTHER_ACCOUNT,
    OTHER_BROKER,
    SELL,
    THU,
    WED,
    fill,
    ledger,
)

from brokercloud.backoffice.customers import (
    CustomerError,
    customer_record,
    customer_records,
    month_period,
    salespeople,
    trade_history,
)
from brokercloud.codes import Code
from brokercloud.core.commands import AccountStatus, Role
from brokercloud.gateway.identities import User

STAFF = [
    User(user_id="9a00-sales-b", broker=BROKER, role=Role.SALESPERSON, accounts=(DAY_TRADER,)),
    User(user_id="9a00-sales-a", broker=BROKER, role=Role.SALESPERSON,
         accounts=(ACCOUNT, DISCOUNTED)),
    User(user_id="9a00-investor", broker=BROKER, role=Role.INVESTOR, accounts=(ACCOUNT,)),
    User(user_id="9b00-sales", broker=OTHER_BROKER, role=Role.SALESPERSON,
         accounts=(OTHER_ACCOUNT,)),
]


def test_salespeople_when_staff_listed_then_only_this_brokers_salespeople_count() -> None:
    assert salespeople(STAFF, BROKER) == {
        ACCOUNT: "9a00-sales-a", DISCOUNTED: "9a00-sales-a", DAY_TRADER: "9a00-sales-b"}
    assert salespeople(STAFF, OTHER_BROKER) == {OTHER_ACCOUNT: "9b00-sales"}


def test_customer_record_when_discount_set_in_core_then_shown_with_master_data() -> None:
    books = ledger()
    record = customer_record(core_accounts(), books, salespeople(STAFF, BROKER), BROKER,
                             DISCOUNTED)
    assert (record.name, record.branch, record.salesperson, record.status) == (
        "陳美麗", "001", "9a00-sales-a", AccountStatus.OPEN)
    assert (record.margin, record.day_trading, record.trading_limit, record.credit_limit) == (
        False, False, 10_000_000, 5_000_000)
    assert (record.commission_rate_ppm, record.discount_bp, record.min_fee) == (1_425, 6_000, 20)
    assert record.booked_discount_bp == 6_000  # the back office books with the same terms


def test_customer_records_when_listed_per_broker_and_branch_then_never_other_brokers() -> None:
    accounts, books = core_accounts(), ledger()
    served = salespeople(STAFF, BROKER)
    assert [r.account for r in customer_records(accounts, books, served, BROKER)] == [
        DISCOUNTED, ACCOUNT, DAY_TRADER]
    assert [r.account for r in customer_records(accounts, books, served, BROKER, "002")] == [
        DAY_TRADER]
    assert [r.account for r in customer_records(accounts, books, {}, OTHER_BROKER)] == [
        OTHER_ACCOUNT]
    with pytest.raises(CustomerError) as refused:
        customer_record(accounts, books, served, BROKER, OTHER_ACCOUNT)
    assert refused.value.code == Code.UNKNOWN_CUSTOMER
    with pytest.raises(CustomerError):
        customer_record(accounts, books, served, BROKER, "99999999")


def test_trade_history_when_range_given_then_that_range_in_booking_order() -> None:
    books = ledger()
    first, second, third = (fill(BUY, 1_000, 100_000), fill(SELL, 1_000, 101_000),
                            fill(BUY, 1_000, 99_000, trade_date=THU))
    for command in (first, second, third, fill(BUY, 1_000, 100_000, account=DISCOUNTED)):
        assert books.apply(command) == Code.OK
    history = trade_history(books, BROKER, ACCOUNT, WED, THU)
    assert [(b.exec_id, b.value, b.commission, b.tax) for b in history] == [
        (first.exec_id, 1_000_000, 1_425, 0),
        (second.exec_id, 1_010_000, 1_439, 3_030),  # 1,010,000 x 0.1425% = 1,439.25
        (third.exec_id, 990_000, 1_410, 0)]  # 990,000 x 0.1425% = 1,410.75
    assert [b.exec_id for b in trade_history(books, BROKER, ACCOUNT, THU, THU)] == [
        third.exec_id]


def test_trade_history_when_other_broker_or_bad_range_then_refused_with_code() -> None:
    books = ledger()
    with pytest.raises(CustomerError) as other:
        trade_history(books, BROKER, OTHER_ACCOUNT, WED, THU)
    assert other.value.code == Code.UNKNOWN_CUSTOMER
    with pytest.raises(CustomerError) as backwards:
        trade_history(books, BROKER, ACCOUNT, THU, WED)
    assert backwards.value.code == Code.INVALID_PERIOD


def test_month_period_when_month_given_then_first_and_last_day() -> None:
    assert month_period("2026-11") == (date(2026, 11, 1), date(2026, 11, 30))
    assert month_period("2026-12") == (date(2026, 12, 1), date(2026, 12, 31))
    assert month_period("2028-02") == (date(2028, 2, 1), date(2028, 2, 29))
    for bad in ("2026-13", "November", "2026"):
        with pytest.raises(CustomerError) as refused:
            month_period(bad)
        assert refused.value.code == Code.INVALID_PERIOD
