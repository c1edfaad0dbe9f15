from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokercloud.market.calendar import (
    TWSE_CALENDAR,
    TWSE_HOLIDAYS,
    TWSE_SETTLEMENT_ONLY,
    TradingCalendar,
    add_trading_days,
    is_settlement_day,
    is_trading_day,
    next_trading_day,
    previous_trading_day,
    settlement_date,
    trading_days_between,
)

D = date.fromisoformat


@pytest.mark.parametrize(("day", "trading"), [
    ("2026-03-02", True),  # Monday
    ("2026-03-06", True),  # Friday
    ("2026-03-07", False),  # Saturday
    ("2026-03-08", False),  # Sunday
    ("2026-01-01", False),  # New Year
    ("2026-01-02", True),
    ("2026-02-11", True),  # last day before Lunar New Year
    ("2026-02-12", False),  # settlement only
    ("2026-02-20", False),  # Lunar New Year make-up holiday
    ("2026-02-23", True),  # first day after Lunar New Year
    ("2026-02-27", False),  # Peace Memorial Day, observed
    ("2026-10-09", False),  # National Day, observed (10-10 is a Saturday)
    ("2025-10-06", False),  # Mid-Autumn Festival
    ("2025-12-25", False),  # Constitution Day
    ("2027-02-05", False),  # illustrative: Lunar New Year's Eve
])
def test_is_trading_day_when_date_then_weekends_and_closures_excluded(
        day: str, trading: bool) -> None:
    assert is_trading_day(D(day)) is trading


def test_is_settlement_day_when_settlement_only_then_settles_but_no_trading() -> None:
    for day in TWSE_SETTLEMENT_ONLY:
        assert is_settlement_day(day)
        assert not is_trading_day(day)
    assert not is_settlement_day(D("2026-02-16"))
    assert not is_settlement_day(D("2026-02-14"))


def test_holidays_when_listed_then_weekdays_in_2025_to_2027() -> None:
    assert all(d.weekday() < 5 for d in TWSE_HOLIDAYS | TWSE_SETTLEMENT_ONLY)
    assert {d.year for d in TWSE_HOLIDAYS} == {2025, 2026, 2027}
    assert not TWSE_HOLIDAYS & TWSE_SETTLEMENT_ONLY


def test_next_trading_day_when_friday_then_monday() -> None:
    assert next_trading_day(D("2026-03-06")) == D("2026-03-09")
    assert next_trading_day(D("2026-03-07")) == D("2026-03-09")


def test_next_trading_day_when_lunar_new_year_then_after_the_break() -> None:
    assert next_trading_day(D("2026-02-11")) == D("2026-02-23")
    assert previous_trading_day(D("2026-02-23")) == D("2026-02-11")


def test_add_trading_days_when_n_zero_then_same_or_next_trading_day() -> None:
    assert add_trading_days(D("2026-03-04"), 0) == D("2026-03-04")
    assert add_trading_days(D("2026-03-07"), 0) == D("2026-03-09")


def test_add_trading_days_when_across_weekend_and_holiday_then_skips_them() -> None:
    assert add_trading_days(D("2026-03-05"), 2) == D("2026-03-09")
    # Thu 2026-04-02 + 1: Fri 04-03 and Mon 04-06 are closed.
    assert add_trading_days(D("2026-04-02"), 1) == D("2026-04-07")


def test_add_trading_days_when_negative_then_value_error() -> None:
    with pytest.raises(ValueError):
        add_trading_days(D("2026-03-04"), -1)


@pytest.mark.parametrize(("trade", "settle"), [
    ("2026-03-04", "2026-03-06"),  # Wed -> Fri
    ("2026-03-05", "2026-03-09"),  # Thu -> Mon, across a weekend
    ("2026-03-06", "2026-03-10"),  # Fri -> Tue
    ("2026-02-26", "2026-03-03"),  # Thu -> Tue, across Fri 02-27 holiday and the weekend
    ("2026-04-01", "2026-04-07"),  # Wed -> Tue, across 04-03 and 04-06
    ("2026-02-10", "2026-02-12"),  # into the settlement-only days before Lunar New Year
    ("2026-02-11", "2026-02-13"),  # last trading day still settles before the holiday
    ("2025-01-22", "2025-01-24"),
    ("2025-12-24", "2025-12-29"),  # Wed -> Mon, across Constitution Day
])
def test_settlement_date_when_trade_date_then_t_plus_2_business_days(
        trade: str, settle: str) -> None:
    assert settlement_date(D(trade)) == D(settle)


def test_settlement_date_when_days_given_then_counts_that_many() -> None:
    assert settlement_date(D("2026-03-04"), days=0) == D("2026-03-04")
    assert settlement_date(D("2026-03-04"), days=1) == D("2026-03-05")
    assert settlement_date(D("2026-03-04"), days=3) == D("2026-03-09")


@pytest.mark.parametrize("day", ["2026-03-07", "2026-01-01", "2026-02-12"])
def test_settlement_date_when_not_a_trading_day_then_value_error(day: str) -> None:
    with pytest.raises(ValueError):
        settlement_date(D(day))


def test_trading_days_between_when_range_then_counts_half_open() -> None:
    assert trading_days_between(D("2026-03-02"), D("2026-03-02")) == 0
    assert trading_days_between(D("2026-03-02"), D("2026-03-06")) == 4
    assert trading_days_between(D("2026-03-02"), D("2026-03-09")) == 5
    assert trading_days_between(D("2026-03-09"), D("2026-03-02")) == -5
    assert trading_days_between(D("2026-02-11"), D("2026-02-23")) == 1
    # 2026: 261 weekdays less 16 holidays and 2 settlement-only days.
    assert trading_days_between(D("2025-12-31"), D("2026-12-31")) == 243


def test_trading_calendar_when_no_holidays_then_weekdays_only() -> None:
    plain = TradingCalendar()
    assert plain.is_trading_day(D("2026-01-01"))
    assert plain.settlement_date(D("2026-02-11")) == D("2026-02-13")
    assert not plain.is_trading_day(D("2026-01-03"))


def test_trading_calendar_when_date_in_both_sets_then_full_holiday() -> None:
    cal = TradingCalendar([D("2026-03-04")], [D("2026-03-04"), D("2026-03-05")])
    assert cal.settlement_only == frozenset({D("2026-03-05")})
    assert not cal.is_settlement_day(D("2026-03-04"))
    assert cal.settlement_date(D("2026-03-03")) == D("2026-03-06")


_DATES = st.dates(min_value=date(2024, 6, 1), max_value=date(2028, 6, 1))


@given(start=_DATES, n=st.integers(0, 300))
def test_add_trading_days_when_counted_back_then_same_n(start: date, n: int) -> None:
    start = add_trading_days(start, 0)
    end = add_trading_days(start, n)
    assert is_trading_day(end)
    assert trading_days_between(start, end) == n


@given(a=_DATES, b=_DATES)
def test_trading_days_between_when_any_dates_then_matches_day_by_day_count(
        a: date, b: date) -> None:
    lo, hi = min(a, b), max(a, b)
    count = sum(TWSE_CALENDAR.is_trading_day(lo + timedelta(days=i))
                for i in range(1, (hi - lo).days + 1))
    assert trading_days_between(lo, hi) == count
    assert trading_days_between(hi, lo) == -count
