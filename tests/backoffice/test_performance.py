"""Realized P&L by moving average cost, unrealized at given prices, and charges paid, all
computed by hand below (standard schedule: 0.1425%, NT$20 minimum; tax 0.3%)."""

from __future__ import annotations

import pytest
from tests.backoffice.support import (
    ACCOUNT,
    BROKER,
    BUY,
    CASH,
    FRI,
    MARGIN,
    OTHER_ACCOUNT,
    SELL,
    SHORT,
    THU,
    TSMC,
    WED,
    fill,
    ledger,
)

from brokercloud.backoffice.customers import CustomerError
from brokercloud.backoffice.ledger import Ledger
from brokercloud.backoffice.performance import Position, performance
from brokercloud.codes import Code


def _traded() -> Ledger:
    """Two buys on Wednesday, part sold Thursday, the rest and 500 opening shares Friday."""
    books = ledger()
    for command in (
            fill(BUY, 2_000, 100_000),  # 2,000,000 + 2,850 commission = 2,002,850
            fill(BUY, 1_000, 101_000),  # 1,010,000 + 1,439 = 1,011,439; 3,000 cost 3,014,289
            fill(SELL, 1_500, 102_000, trade_date=THU),
            fill(SELL, 2_000, 103_000, trade_date=FRI)):
        assert books.apply(command) == Code.OK
    return books


def test_performance_when_part_sold_then_average_cost_realized_and_rest_marked() -> None:
    result = performance(_traded(), BROKER, ACCOUNT, WED, THU, {TSMC: 103_000})
    # Thursday's sale: 1,530,000 - 2,180 commission - 4,590 tax = 1,523,230 in; its cost is
    # 3,014,289 x 1,500 / 3,000 = 1,507,144 (truncated): realized 16,086
    assert result.realized == 16_086
    assert (result.commission, result.tax, result.uncosted_shares) == (
        2_850 + 1_439 + 2_180, 4_590, 0)
    # 1,500 left costing 3,014,289 - 1,507,144 = 1,507,145, worth 1,545,000 at 1,030
    assert result.positions == [Position(TSMC, CASH, 1_500, 1_507_145, 103_000, 37_855)]
    assert result.unrealized == 37_855


def test_performance_when_sale_exceeds_costed_shares_then_rest_uncosted() -> None:
    result = performance(_traded(), BROKER, ACCOUNT, THU, FRI, {TSMC: 103_000})
    # Friday: 2,060,000 - 2,935 - 6,180 = 2,050,885 for 2,000 shares; 1,500 of them had a
    # cost: 2,050,885 x 1,500 / 2,000 = 1,538,163 - 1,507,145 = 31,018; 500 were opening shares
    assert result.realized == 16_086 + 31_018
    assert result.uncosted_shares == 500
    assert (result.commission, result.tax) == (2_180 + 2_935, 4_590 + 6_180)
    assert (result.positions, result.unrealized) == ([], 0)


def test_performance_when_period_after_buys_then_earlier_buys_still_give_the_cost() -> None:
    result = performance(_traded(), BROKER, ACCOUNT, FRI, FRI, {})
    assert (result.realized, result.commission, result.tax) == (31_018, 2_935, 6_180)


def test_performance_when_short_covered_then_proceeds_less_cover_cost() -> None:
    books = ledger()
    assert books.apply(fill(SELL, 1_000, 100_000, credit=SHORT)) == Code.OK
    assert books.apply(fill(BUY, 1_000, 99_000, credit=SHORT, trade_date=THU)) == Code.OK
    result = performance(books, BROKER, ACCOUNT, WED, THU, {})
    # opened: 1,000,000 - 1,425 commission - 3,000 tax - 800 short fee (0.08%) = 994,775
    # covered: 990,000 + 1,410 = 991,410
    assert result.realized == 994_775 - 991_410
    assert (result.short_fees, result.commission, result.tax) == (800, 1_425 + 1_410, 3_000)


def test_performance_when_short_open_then_gain_if_price_fell() -> None:
    books = ledger()
    assert books.apply(fill(SELL, 1_000, 100_000, credit=SHORT)) == Code.OK
    result = performance(books, BROKER, ACCOUNT, WED, WED, {TSMC: 98_000})
    assert result.positions == [Position(TSMC, SHORT, -1_000, 994_775, 98_000, 994_775 - 980_000)]


def test_performance_when_margin_sold_then_interest_is_a_cost() -> None:
    """The thesis's margin buy, 10 lots at 76.2, sold the next day at 77.3."""
    books = ledger()
    assert books.apply(fill(BUY, 10_000, 7_620, credit=MARGIN)) == Code.OK
    assert books.apply(fill(SELL, 10_000, 7_730, credit=MARGIN, trade_date=THU)) == Code.OK
    result = performance(books, BROKER, ACCOUNT, WED, THU, {})
    # cost 762,000 + 1,085; loan 457,000 from Fri 11-27 to Mon 11-30: 3 days at 4.5%,
    # 457,000 x 0.045 x 3 / 365 = 169.03 -> 169; in 773,000 - 1,101 - 2,319 tax - 169
    assert result.interest == 169
    assert result.realized == (773_000 - 1_101 - 2_319 - 169) - (762_000 + 1_085)


def test_performance_when_other_broker_or_bad_price_then_refused() -> None:
    books = _traded()
    with pytest.raises(CustomerError) as other:
        performance(books, BROKER, OTHER_ACCOUNT, WED, THU, {})
    assert other.value.code == Code.UNKNOWN_CUSTOMER
    for bad in (0, 103_000.0):
        with pytest.raises(CustomerError) as refused:
            performance(books, BROKER, ACCOUNT, WED, THU, {TSMC: bad})  # type: ignore[dict-item]
        assert refused.value.code == Code.INVALID_MARK_PRICE
