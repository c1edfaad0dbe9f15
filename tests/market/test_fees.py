from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokercloud.market.fees import (
    DAY_TRADE_TAX_UNTIL,
    ODD_LOT_FEES,
    STANDARD_FEES,
    FeeSchedule,
    buy_amount,
    commission,
    sell_amount,
    tax_rate_ppm,
    trade_value,
    transaction_tax,
)
from brokercloud.market.instruments import InstrumentKind

K = InstrumentKind


def test_fees_when_thesis_buy_then_value_762000_commission_1085() -> None:
    # 10 lots of 2330 at 76.2: 762,000 x 0.1425% = 1,085.85 -> 1,085.
    assert trade_value(7_620, 10_000) == 762_000
    assert commission(7_620, 10_000) == 1_085
    assert buy_amount(7_620, 10_000) == 763_085
    assert transaction_tax(7_620, 10_000) == 2_286  # a seller would pay 2,286.0


def test_fees_when_thesis_sell_then_net_384791() -> None:
    # 5 lots at 77.3: 386,500; commission 550.7625 -> 550; tax 1,159.5 -> 1,159.
    assert trade_value(7_730, 5_000) == 386_500
    assert commission(7_730, 5_000) == 550
    assert transaction_tax(7_730, 5_000) == 1_159
    assert sell_amount(7_730, 5_000) == 384_791


def test_commission_when_small_trade_then_minimum_fee() -> None:
    # 1 lot at 10.00: 10,000 x 0.1425% = 14.25 -> below the NT$20 minimum.
    assert commission(1_000, 1_000) == 20
    assert commission(1_400, 1_000) == 20  # 19.95
    assert commission(1_405, 1_000) == 20  # 20.02
    assert commission(1_500, 1_000) == 21  # 21.375


def test_commission_when_zero_quantity_then_no_fee() -> None:
    assert commission(7_620, 0) == 0
    assert buy_amount(7_620, 0) == 0


def test_commission_when_discount_then_single_truncation_at_the_end() -> None:
    sixty = FeeSchedule(discount_bp=6_000)
    assert commission(7_620, 10_000, sixty) == 651  # 1,085.85 x 0.6 = 651.51
    # 1 lot at 76.2: 108.585 x 0.6 = 65.151 -> 65 (truncating 108 first would give 64).
    assert commission(7_620, 1_000, FeeSchedule(discount_bp=6_000, min_fee=1)) == 65
    # 5 lots at 76.2 at 28%: 542.925 x 0.28 = 152.019 -> 152 (542 x 0.28 = 151.76).
    assert commission(7_620, 5_000, FeeSchedule(discount_bp=2_800)) == 152
    # The minimum applies after the discount: 1 lot at 20.40 at 60% = 17.44 -> NT$20.
    assert commission(2_040, 1_000, sixty) == 20


def test_commission_when_cents_in_value_then_value_not_truncated_first() -> None:
    # 14.05 x 999 = 14,035.95 -> 20.0012 -> 20 (truncating the value to 14,035 gives 19.99).
    assert trade_value(1_405, 999) == 14_035
    assert commission(1_405, 999, ODD_LOT_FEES) == 20
    # 13.37 x 77,777 shares = 1,039,878.49 -> x 0.1425% = 1,481.82 -> 1,481.
    assert commission(1_337, 77_777) == 1_481
    assert trade_value(1_337, 77_777) == 1_039_878


def test_commission_when_odd_lot_schedule_then_nt1_minimum() -> None:
    # 50 shares at 108.5 = 5,425 x 0.1425% = 7.73 -> 7, above NT$1.
    assert commission(10_850, 50, ODD_LOT_FEES) == 7
    # 3 shares at 20.40 = 61.2 -> 0.087 -> NT$1 minimum (NT$20 on the board-lot schedule).
    assert commission(2_040, 3, ODD_LOT_FEES) == 1
    assert commission(2_040, 3) == 20
    assert buy_amount(2_040, 3, ODD_LOT_FEES) == 62


def test_transaction_tax_when_kind_then_rate_by_kind() -> None:
    price, shares = 10_000, 10_000  # NT$1,000,000
    assert transaction_tax(price, shares, K.STOCK) == 3_000
    assert transaction_tax(price, shares, K.PREFERRED) == 3_000
    assert transaction_tax(price, shares, K.ETF) == 1_000
    assert transaction_tax(price, shares, K.ETN) == 1_000
    assert transaction_tax(price, shares, K.TDR) == 1_000
    assert transaction_tax(price, shares, K.REIT) == 0


def test_transaction_tax_when_day_trade_stock_then_half_rate() -> None:
    assert transaction_tax(7_730, 5_000, day_trade=True) == 579  # 579.75
    assert sell_amount(7_730, 5_000, day_trade=True) == 385_371
    # Day-trade relief is for stocks only.
    assert transaction_tax(5_245, 10_000, K.ETF, day_trade=True) == 524  # 524.5
    assert transaction_tax(10_000, 10_000, K.PREFERRED, day_trade=True) == 3_000


def test_transaction_tax_when_day_trade_after_sunset_then_full_rate() -> None:
    assert tax_rate_ppm(K.STOCK, day_trade=True, trade_date=DAY_TRADE_TAX_UNTIL) == 1_500
    assert tax_rate_ppm(K.STOCK, day_trade=True, trade_date=date(2028, 1, 3)) == 3_000
    assert transaction_tax(7_730, 5_000, day_trade=True, trade_date=date(2028, 1, 3)) == 1_159


def test_transaction_tax_when_fraction_then_truncated() -> None:
    assert transaction_tax(2_040, 3) == 0  # 61.2 x 0.3% = 0.18
    assert transaction_tax(2_040, 200) == 12  # 4,080 x 0.3% = 12.24


def test_sell_amount_when_etf_or_reit_then_lower_tax() -> None:
    # 0050 at 52.45, 10 lots: 524,500; commission 747.41 -> 747; ETF tax 524.5 -> 524.
    assert sell_amount(5_245, 10_000, K.ETF) == 524_500 - 747 - 524
    assert sell_amount(1_500, 10_000, K.REIT) == 150_000 - 213


@pytest.mark.parametrize("kwargs", [
    {"rate_ppm": -1}, {"discount_bp": -1}, {"discount_bp": 10_001}, {"min_fee": -1},
])
def test_fee_schedule_when_out_of_range_then_value_error(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        FeeSchedule(**kwargs)


def test_fee_schedule_when_default_then_standard_terms() -> None:
    assert FeeSchedule(rate_ppm=1_425, discount_bp=10_000, min_fee=20) == STANDARD_FEES
    assert ODD_LOT_FEES.min_fee == 1


@given(price=st.integers(1, 1_000_000), shares=st.integers(1, 499_000),
       discount=st.integers(0, 10_000))
def test_commission_when_any_trade_then_exact_floor_or_minimum(
        price: int, shares: int, discount: int) -> None:
    fees = FeeSchedule(discount_bp=discount, min_fee=1)
    fee = commission(price, shares, fees)
    scaled = price * shares * 1_425 * discount  # NT$ x 10^12: cents, ppm and bp
    assert fee == max(scaled // 10**12, 1)
    assert buy_amount(price, shares, fees) - sell_amount(price, shares, K.REIT, fees) == 2 * fee
