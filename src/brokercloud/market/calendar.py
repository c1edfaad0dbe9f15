"""TWSE trading and settlement calendar.

Settlement (T+2) and margin-call deadlines count business days, and the exchange's year has two
kinds of closed weekday: full holidays, and the days just before Lunar New Year on which
"the market does not trade but clearing and settlement go on" (市場無交易，僅辦理結算交割).
Settlement counts the second kind, trading does not, so a trade on the last day before the
holiday settles inside the break. Saturdays are never trading days here: TWSE once traded on
make-up Saturdays (補行交易, as late as 2018), but its recent schedules (2023, 2025) say make-up
work Saturdays neither trade nor settle.

Sources and confidence (dates outside 2025-2027 are treated as ordinary weekdays):

- 2025: TWSE's schedule published 2024-11 (Lunar New Year break 01-23 to 02-02, settlement
  only on 01-23/01-24), plus 09-29, 10-24 and 12-25, national holidays created by the 2025
  holidays act; those three are from the government calendar, no TWSE notice was found.
- 2026: confirmed against TWSE's schedule published 2025-10-29 (press reports of the notice).
- 2027: ILLUSTRATIVE. No TWSE schedule was found; dates are the national holidays with the
  weekend make-up rule applied by hand, and the two settlement-only days before Lunar New Year
  follow the 2025/2026 pattern. Replace them when TWSE publishes its 2027 schedule.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import date, timedelta

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5

#: Weekdays on which the market neither trades nor settles.
TWSE_HOLIDAYS: frozenset[date] = frozenset(date.fromisoformat(d) for d in (
    # 2025
    "2025-01-01",  # Founding of the ROC
    "2025-01-27", "2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31",  # Lunar New Year
    "2025-02-28",  # Peace Memorial Day
    "2025-04-03", "2025-04-04",  # Children's Day, Tomb Sweeping Day
    "2025-05-01",  # Labour Day
    "2025-05-30",  # Dragon Boat Festival (observed)
    "2025-09-29",  # Teachers' Day (observed; new national holiday, 2025 act)
    "2025-10-06",  # Mid-Autumn Festival
    "2025-10-10",  # National Day
    "2025-10-24",  # Retrocession Day (observed; new national holiday, 2025 act)
    "2025-12-25",  # Constitution Day (new national holiday, 2025 act)
    # 2026 (TWSE notice of 2025-10-29)
    "2026-01-01",
    "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20",  # Lunar New Year
    "2026-02-27",  # Peace Memorial Day (observed)
    "2026-04-03", "2026-04-06",  # Children's Day, Tomb Sweeping Day (both observed)
    "2026-05-01",
    "2026-06-19",  # Dragon Boat Festival
    "2026-09-25",  # Mid-Autumn Festival
    "2026-09-28",  # Teachers' Day
    "2026-10-09",  # National Day (observed)
    "2026-10-26",  # Retrocession Day (observed)
    "2026-12-25",
    # 2027 (illustrative: national holidays, weekend make-up rule applied by hand)
    "2027-01-01",
    "2027-02-04", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10",  # Lunar New Year
    "2027-03-01",  # Peace Memorial Day (observed)
    "2027-04-05", "2027-04-06",  # Tomb Sweeping Day, Children's Day (observed)
    "2027-04-30",  # Labour Day (observed)
    "2027-06-09",  # Dragon Boat Festival
    "2027-09-15",  # Mid-Autumn Festival
    "2027-09-28",  # Teachers' Day
    "2027-10-11",  # National Day (observed)
    "2027-10-25",  # Retrocession Day
    "2027-12-24",  # Constitution Day (observed)
))

#: Weekdays with no trading on which clearing and settlement still happen (before Lunar New Year).
TWSE_SETTLEMENT_ONLY: frozenset[date] = frozenset(date.fromisoformat(d) for d in (
    "2025-01-23", "2025-01-24",
    "2026-02-12", "2026-02-13",
    "2027-02-02", "2027-02-03",  # illustrative
))

CONFIRMED_YEARS = (2025, 2026)
ILLUSTRATIVE_YEARS = (2027,)


class TradingCalendar:
    """Weekends plus fixed closures; holds only frozensets, so one instance can be shared freely."""

    __slots__ = ("_closed_sorted", "holidays", "settlement_only")

    def __init__(self, holidays: Iterable[date] = (),
                 settlement_only: Iterable[date] = ()) -> None:
        self.holidays: frozenset[date] = frozenset(holidays)
        self.settlement_only: frozenset[date] = frozenset(settlement_only) - self.holidays
        closed = self.holidays | self.settlement_only
        # Only weekday closures matter for counting; sorted for bisect in trading_days_between.
        self._closed_sorted = sorted(d for d in closed if d.weekday() < _SATURDAY)

    def is_trading_day(self, d: date) -> bool:
        return (d.weekday() < _SATURDAY and d not in self.holidays
                and d not in self.settlement_only)

    def is_settlement_day(self, d: date) -> bool:
        """Cash and shares move on trading days and on settlement-only days."""
        return d.weekday() < _SATURDAY and d not in self.holidays

    def next_trading_day(self, d: date) -> date:
        """The first trading day strictly after ``d``."""
        d += _ONE_DAY
        while not self.is_trading_day(d):
            d += _ONE_DAY
        return d

    def previous_trading_day(self, d: date) -> date:
        """The last trading day strictly before ``d``."""
        d -= _ONE_DAY
        while not self.is_trading_day(d):
            d -= _ONE_DAY
        return d

    def add_trading_days(self, d: date, n: int) -> date:
        """The n-th trading day after ``d``; n = 0 rolls a non-trading ``d`` forward."""
        if n < 0:
            raise ValueError(f"n must be >= 0: {n}")
        if n == 0:
            return d if self.is_trading_day(d) else self.next_trading_day(d)
        for _ in range(n):
            d = self.next_trading_day(d)
        return d

    def settlement_date(self, trade_date: date, days: int = 2) -> date:
        """T+days counted in settlement days; a trade can only happen on a trading day."""
        if not self.is_trading_day(trade_date):
            raise ValueError(f"{trade_date} is not a trading day")
        if days < 0:
            raise ValueError(f"days must be >= 0: {days}")
        d = trade_date
        for _ in range(days):
            d += _ONE_DAY
            while not self.is_settlement_day(d):
                d += _ONE_DAY
        return d

    def trading_days_between(self, a: date, b: date) -> int:
        """Trading days in (a, b]; negative when b is before a.

        Counted arithmetically (weekdays minus weekday closures) so long spans stay cheap; with
        ``a`` a trading day, ``trading_days_between(a, add_trading_days(a, n)) == n``.
        """
        if b < a:
            return -self.trading_days_between(b, a)
        weekdays = _weekdays_upto(b) - _weekdays_upto(a)
        closed = (bisect_right(self._closed_sorted, b)
                  - bisect_left(self._closed_sorted, a + _ONE_DAY))
        return weekdays - closed


def _weekdays_upto(d: date) -> int:
    """Monday-Friday dates from an arbitrary fixed origin up to and including ``d``."""
    ordinal = d.toordinal()  # ordinal 1 (0001-01-01) is a Monday
    weeks, rest = divmod(ordinal - 1, 7)
    return weeks * 5 + min(rest + 1, 5)


TWSE_CALENDAR = TradingCalendar(TWSE_HOLIDAYS, TWSE_SETTLEMENT_ONLY)


def is_trading_day(d: date, calendar: TradingCalendar = TWSE_CALENDAR) -> bool:
    return calendar.is_trading_day(d)


def is_settlement_day(d: date, calendar: TradingCalendar = TWSE_CALENDAR) -> bool:
    return calendar.is_settlement_day(d)


def next_trading_day(d: date, calendar: TradingCalendar = TWSE_CALENDAR) -> date:
    return calendar.next_trading_day(d)


def previous_trading_day(d: date, calendar: TradingCalendar = TWSE_CALENDAR) -> date:
    return calendar.previous_trading_day(d)


def add_trading_days(d: date, n: int, calendar: TradingCalendar = TWSE_CALENDAR) -> date:
    return calendar.add_trading_days(d, n)


def settlement_date(trade_date: date, days: int = 2,
                    calendar: TradingCalendar = TWSE_CALENDAR) -> date:
    return calendar.settlement_date(trade_date, days)


def trading_days_between(a: date, b: date, calendar: TradingCalendar = TWSE_CALENDAR) -> int:
    return calendar.trading_days_between(a, b)
