"""Salesperson commission and bonus, and the contribution ranking per broker and branch,
with every figure worked out by hand (0.1425%, the discounted account at 60%)."""

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
    fill,
    ledger,
)
from tests.backoffice.test_customers import STAFF

from brokercloud.backoffice.customers import CustomerError, salespeople
from brokercloud.backoffice.ledger import Ledger
from brokercloud.backoffice.sales import (
    Contribution,
    SalesResult,
    contribution_ranking,
    salesperson_results,
)
from brokercloud.codes import Code

NOV_1, NOV_30 = date(2026, 11, 1), date(2026, 11, 30)


def _month() -> Ledger:
    books = ledger()
    for command in (
            fill(BUY, 1_000, 100_000),  # 1,000,000 x 0.1425% = 1,425
            fill(BUY, 1_000, 100_000, account=DISCOUNTED),  # x 60% = 855
            fill(BUY, 2_000, 50_000, account=DAY_TRADER),  # 1,000,000: 1,425
            fill(BUY, 10, 50_000, account=DAY_TRADER),  # odd lot 5,000: 7.125 -> 7
            fill(BUY, 1_000, 100_000, account=OTHER_ACCOUNT, broker=OTHER_BROKER),  # 1,425
            fill(BUY, 1_000, 100_000, trade_date=date(2026, 12, 1))):  # December: not counted
        assert books.apply(command) == Code.OK
    return books


def test_salesperson_results_when_month_booked_then_commission_and_bonus_by_hand() -> None:
    results = salesperson_results(_month(), salespeople(STAFF, BROKER), BROKER, NOV_1, NOV_30,
                                  bonus_ppm=150_000)  # 15% of commission
    assert results == [
        SalesResult("9a00-sales-a", 2, 1_425 + 855, 342),  # 2,280 x 15% = 342
        SalesResult("9a00-sales-b", 1, 1_425 + 7, 214)]  # 1,432 x 15% = 214.8 -> 214


def test_salesperson_results_when_other_brokers_accounts_named_then_ignored() -> None:
    served = salespeople(STAFF, BROKER) | {OTHER_ACCOUNT: "9a00-sales-a"}
    [first, _] = salesperson_results(_month(), served, BROKER, NOV_1, NOV_30, bonus_ppm=0)
    assert (first.customers, first.commission, first.bonus) == (2, 2_280, 0)


def test_salesperson_results_when_rate_negative_or_fractional_then_refused() -> None:
    for bad in (-1, 0.5):
        with pytest.raises(CustomerError) as refused:
            salesperson_results(_month(), {}, BROKER, NOV_1, NOV_30, bad)  # type: ignore[arg-type]
        assert refused.value.code == Code.INVALID_BONUS_RATE


def test_contribution_ranking_when_broker_wide_then_by_commission_with_shares() -> None:
    ranking = contribution_ranking(_month(), core_accounts(), BROKER, NOV_1, NOV_30)
    assert ranking == [  # of 3,712 in all, shares per million truncated
        Contribution(1, DAY_TRADER, "002", 1_432, 2, 1_005_000, 385_775),
        Contribution(2, ACCOUNT, "001", 1_425, 1, 1_000_000, 383_890),
        Contribution(3, DISCOUNTED, "001", 855, 1, 1_000_000, 230_334)]


def test_contribution_ranking_when_one_branch_then_its_customers_only() -> None:
    ranking = contribution_ranking(_month(), core_accounts(), BROKER, NOV_1, NOV_30, "001")
    assert [(c.rank, c.account, c.commission, c.share_ppm) for c in ranking] == [
        (1, ACCOUNT, 1_425, 625_000), (2, DISCOUNTED, 855, 375_000)]  # of 2,280
    other = contribution_ranking(_month(), core_accounts(), OTHER_BROKER, NOV_1, NOV_30)
    assert [(c.account, c.commission) for c in other] == [(OTHER_ACCOUNT, 1_425)]
