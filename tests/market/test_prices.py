"""Tick table, limits, ladder and price text, against values computed by hand from MARKET_RULES.

Limit rule: up = ref x (1 + pct) rounded DOWN to the tick of the band the result falls in;
down = ref x (1 - pct) rounded UP to its band's tick; never closer than one tick to ref.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokercloud.market.instruments import InstrumentKind
from brokercloud.market.prices import (
    DEFAULT_LIMIT_BP,
    THESIS_LIMIT_BP,
    format_price,
    is_on_tick,
    limit_down,
    limit_up,
    parse_price,
    price_ladder,
    price_limits,
    round_down_to_tick,
    round_to_nearest_tick,
    round_up_to_tick,
    tick_below,
    tick_size,
)

STOCK = InstrumentKind.STOCK
ETF = InstrumentKind.ETF
FUND_KINDS = (InstrumentKind.ETF, InstrumentKind.ETN, InstrumentKind.REIT)
STOCK_TICK_KINDS = (InstrumentKind.STOCK, InstrumentKind.PREFERRED, InstrumentKind.TDR)


@pytest.mark.parametrize(("price", "tick"), [
    (1, 1), (999, 1),
    (1_000, 5), (4_995, 5), (4_999, 5),
    (5_000, 10), (9_990, 10), (9_999, 10),
    (10_000, 50), (49_950, 50), (49_999, 50),
    (50_000, 100), (99_900, 100), (99_999, 100),
    (100_000, 500), (500_000, 500), (10_000_000, 500),
])
def test_tick_size_when_stock_band_edge_then_band_tick(price: int, tick: int) -> None:
    for kind in STOCK_TICK_KINDS:
        assert tick_size(price, kind) == tick


@pytest.mark.parametrize(("price", "tick"), [
    (1, 1), (4_999, 1), (5_000, 5), (9_999, 5), (10_000, 5), (100_000, 5),
])
def test_tick_size_when_fund_band_edge_then_fund_tick(price: int, tick: int) -> None:
    for kind in FUND_KINDS:
        assert tick_size(price, kind) == tick


@pytest.mark.parametrize(("price", "below"), [
    (1_000, 1), (1_005, 5), (5_000, 5), (5_010, 10), (10_000, 10), (50_000, 50),
    (100_000, 100), (100_500, 500),
])
def test_tick_below_when_at_band_edge_then_lower_band_tick(price: int, below: int) -> None:
    assert tick_below(price) == below


def test_tick_below_when_fund_at_50_then_001() -> None:
    assert tick_below(5_000, ETF) == 1
    assert tick_below(5_005, ETF) == 5


@pytest.mark.parametrize(("price", "on_tick"), [
    (1, True), (999, True), (1_000, True), (1_001, False), (1_005, True),
    (4_995, True), (4_996, False), (5_000, True), (5_005, False), (5_010, True),
    (9_990, True), (10_000, True), (10_010, False), (10_050, True),
    (49_950, True), (50_000, True), (50_050, False), (50_100, True),
    (99_900, True), (100_000, True), (100_100, False), (100_500, True),
    (0, False), (-5, False),
])
def test_is_on_tick_when_stock_price_then_multiple_of_band_tick(price: int, on_tick: bool) -> None:
    assert is_on_tick(price) is on_tick


@pytest.mark.parametrize(("price", "on_tick"), [
    (4_999, True), (4_998, True), (5_000, True), (5_001, False), (5_005, True), (5_245, True),
])
def test_is_on_tick_when_fund_price_then_fund_table(price: int, on_tick: bool) -> None:
    assert is_on_tick(price, ETF) is on_tick


@pytest.mark.parametrize(("price", "down", "up", "nearest"), [
    (1_001, 1_000, 1_005, 1_000),
    (1_002, 1_000, 1_005, 1_000),
    (1_003, 1_000, 1_005, 1_005),
    (4_997, 4_995, 5_000, 4_995),
    (4_998, 4_995, 5_000, 5_000),
    (5_003, 5_000, 5_010, 5_000),
    (5_005, 5_000, 5_010, 5_010),  # exact half rounds up
    (7_475, 7_470, 7_480, 7_480),
    (9_996, 9_990, 10_000, 10_000),
    (10_020, 10_000, 10_050, 10_000),
    (10_025, 10_000, 10_050, 10_050),
    (100_250, 100_000, 100_500, 100_500),
    (7_470, 7_470, 7_470, 7_470),
])
def test_rounding_when_stock_off_tick_then_neighbouring_valid_prices(
        price: int, down: int, up: int, nearest: int) -> None:
    assert round_down_to_tick(price) == down
    assert round_up_to_tick(price) == up
    assert round_to_nearest_tick(price) == nearest


def test_rounding_when_fund_price_then_fund_ticks() -> None:
    assert round_down_to_tick(5_003, ETF) == 5_000
    assert round_up_to_tick(5_003, ETF) == 5_005
    assert round_to_nearest_tick(5_002, ETF) == 5_000
    assert round_to_nearest_tick(5_003, ETF) == 5_005
    assert round_to_nearest_tick(4_999, ETF) == 4_999


def test_price_limits_when_thesis_example_then_published_values() -> None:
    assert price_limits(7_470, THESIS_LIMIT_BP) == (6_950, 7_990)
    assert price_limits(7_470, DEFAULT_LIMIT_BP) == (6_730, 8_210)
    assert limit_up(7_470) == 8_210
    assert limit_down(7_470) == 6_730


# (reference, 10% down, 10% up, 7% down, 7% up), each worked out by hand, e.g. 4550 at 10%:
# 45.50 x 1.1 = 50.05 -> band >= 50 (tick 0.1) -> 50.00; 45.50 x 0.9 = 40.95 -> tick 0.05 -> 40.95.
STOCK_LIMITS = [
    (995, 896, 1_090, 926, 1_060),  # 10.945 -> 10.90 in the 0.05 band; 8.955 -> 8.96
    (1_000, 900, 1_100, 930, 1_070),
    (1_005, 905, 1_105, 935, 1_075),  # 9.045 -> 9.05 (0.01 band)
    (1_070, 963, 1_175, 996, 1_140),  # 7%: 9.951 -> 9.96
    (935, 842, 1_025, 870, 1_000),  # 7%: 10.0045 -> 10.00 (0.05 band)
    (4_550, 4_095, 5_000, 4_235, 4_865),
    (5_000, 4_500, 5_500, 4_650, 5_350),
    (5_500, 4_950, 6_050, 5_120, 5_880),  # 7%: 51.15 -> 51.20; 58.85 -> 58.80
    (5_550, 4_995, 6_100, 5_170, 5_930),  # 10%: 49.95 on the 0.05 band; 61.05 -> 61.00
    (9_100, 8_190, 10_000, 8_470, 9_730),  # 10%: 100.10 -> 100.0 (0.5 band)
    (10_000, 9_000, 11_000, 9_300, 10_700),
    (45_500, 40_950, 50_000, 42_350, 48_650),  # 10%: 500.50 -> 500 (tick 1)
    (50_000, 45_000, 55_000, 46_500, 53_500),
    (91_000, 81_900, 100_000, 84_700, 97_300),  # 10%: 1,001 -> 1,000 (tick 5)
    (100_000, 90_000, 110_000, 93_000, 107_000),
]


@pytest.mark.parametrize(("ref", "down10", "up10", "down7", "up7"), STOCK_LIMITS)
def test_price_limits_when_stock_near_band_edge_then_hand_computed(
        ref: int, down10: int, up10: int, down7: int, up7: int) -> None:
    assert price_limits(ref, 1_000, STOCK) == (down10, up10)
    assert price_limits(ref, 700, STOCK) == (down7, up7)


FUND_LIMITS = [
    (4_546, 4_092, 5_000, 4_228, 4_864),  # 10%: 50.006 -> 50.00; 40.914 -> 40.92
    (4_550, 4_095, 5_005, 4_232, 4_868),  # 10%: 50.05 is on the 0.05 fund tick
    (4_600, 4_140, 5_060, 4_278, 4_922),
    (4_999, 4_500, 5_495, 4_650, 5_345),  # 10%: 54.989 -> 54.95; 44.991 -> 45.00
    (5_000, 4_500, 5_500, 4_650, 5_350),
    (5_005, 4_505, 5_505, 4_655, 5_355),  # 10%: 55.055 -> 55.05; 45.045 -> 45.05
    (5_500, 4_950, 6_050, 5_115, 5_885),  # 7%: 51.15 and 58.85 are fund ticks
]


@pytest.mark.parametrize(("ref", "down10", "up10", "down7", "up7"), FUND_LIMITS)
def test_price_limits_when_fund_near_50_then_hand_computed(
        ref: int, down10: int, up10: int, down7: int, up7: int) -> None:
    assert price_limits(ref, 1_000, ETF) == (down10, up10)
    assert price_limits(ref, 700, ETF) == (down7, up7)


def test_price_limits_when_leveraged_etf_then_twice_the_range() -> None:
    assert price_limits(5_000, 2_000, ETF) == (4_000, 6_000)
    assert price_limits(4_200, 2_000, ETF) == (3_360, 5_040)


@pytest.mark.parametrize(("ref", "down", "up"), [
    (1, 1, 2),  # 0.011 -> 0.01 would not move: one tick up; nothing below 0.01
    (5, 4, 6),  # 0.055 / 0.045 both round back to 0.05: one tick each way
    (9, 8, 10),  # 0.099 -> 0.09, 0.081 -> 0.09: one tick each way
    (10, 9, 11),  # exactly one tick: 0.11 / 0.09
])
def test_price_limits_when_limit_below_one_tick_then_one_tick(ref: int, down: int, up: int) -> None:
    assert price_limits(ref) == (down, up)


def _valid_prices(kind: InstrumentKind, high: int) -> st.SearchStrategy[int]:
    return st.integers(1, high).map(lambda p: round_up_to_tick(p, kind))


@given(kind=st.sampled_from(list(InstrumentKind)), data=st.data(),
       limit_bp=st.sampled_from([700, 1_000, 2_000, 3_000]))
def test_price_limits_when_any_valid_reference_then_bracket_it_on_tick(
        kind: InstrumentKind, data: st.DataObject, limit_bp: int) -> None:
    ref = data.draw(_valid_prices(kind, 1_000_000))
    down, up = price_limits(ref, limit_bp, kind)
    assert down <= ref < up
    assert down < ref or ref == tick_size(1, kind)
    assert is_on_tick(down, kind)
    assert is_on_tick(up, kind)
    # Rounding never widens the range beyond the percentage.
    assert up * 10_000 <= ref * (10_000 + limit_bp) or up == ref + tick_size(ref, kind)
    assert down * 10_000 >= ref * (10_000 - limit_bp) or down == ref - tick_below(ref, kind)


def test_price_ladder_when_crossing_band_edge_then_tick_changes() -> None:
    assert price_ladder(990, 1_020) == [990, 991, 992, 993, 994, 995, 996, 997, 998, 999,
                                        1_000, 1_005, 1_010, 1_015, 1_020]
    assert price_ladder(4_990, 5_020) == [4_990, 4_995, 5_000, 5_010, 5_020]
    assert price_ladder(4_997, 5_010, ETF) == [4_997, 4_998, 4_999, 5_000, 5_005, 5_010]
    assert price_ladder(7_470, 7_470) == [7_470]


def test_price_ladder_when_thesis_limits_then_count_of_ticks() -> None:
    ladder = price_ladder(6_950, 7_990)
    assert len(ladder) == 105  # 69.5 to 79.9 in steps of 0.1
    assert ladder[0] == 6_950
    assert ladder[-1] == 7_990


@pytest.mark.parametrize(("low", "high"), [(1_001, 1_100), (1_000, 1_001), (1_100, 1_000),
                                           (0, 100)])
def test_price_ladder_when_bounds_invalid_then_value_error(low: int, high: int) -> None:
    with pytest.raises(ValueError):
        price_ladder(low, high)


@given(kind=st.sampled_from(list(InstrumentKind)), data=st.data())
def test_price_ladder_when_any_range_then_on_tick_and_strictly_increasing(
        kind: InstrumentKind, data: st.DataObject) -> None:
    low = data.draw(_valid_prices(kind, 200_000))
    high = data.draw(st.integers(low, low + 20_000).map(lambda p: round_up_to_tick(p, kind)))
    ladder = price_ladder(low, high, kind)
    assert ladder[0] == low
    assert ladder[-1] == high
    assert all(is_on_tick(p, kind) for p in ladder)
    assert all(a < b for a, b in itertools.pairwise(ladder))
    # Nothing valid is skipped: each step is exactly the tick of the lower price.
    assert all(b - a == tick_size(a, kind) for a, b in itertools.pairwise(ladder))


@pytest.mark.parametrize(("price", "text"), [
    (7_470, "74.70"), (1, "0.01"), (5, "0.05"), (100, "1.00"), (108_500, "1085.00"), (0, "0.00"),
])
def test_format_price_when_cents_then_two_decimals(price: int, text: str) -> None:
    assert format_price(price) == text
    assert parse_price(text) == price


@pytest.mark.parametrize(("text", "price"), [
    ("74.7", 7_470), ("74.70", 7_470), ("74", 7_400), ("0.05", 5), (" 12.5 ", 1_250),
    ("1.230", 123), ("1085", 108_500), ("010.10", 1_010),
])
def test_parse_price_when_decimal_text_then_cents(text: str, price: int) -> None:
    assert parse_price(text) == price


@pytest.mark.parametrize("text", [
    "1.234", "abc", "-1", "+1", "", ".", ".5", "1.2.3", "1,000", "1e3", "12 5", "0x10",
    "１２", "1.-1", "nan", "inf",
])
def test_parse_price_when_bad_text_then_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_price(text)
