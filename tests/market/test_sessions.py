from __future__ import annotations

from datetime import date, datetime

import pytest

from brokercloud.market.sessions import (
    CLOSE,
    CLOSING_CALL_START,
    OPEN,
    TAIWAN,
    Phase,
    Session,
    at,
    format_time,
    odd_lot_match_times,
    periodic_match_times,
    phase_at,
    taiwan_date,
)

CLOSED, CALL, CONT = Phase.CLOSED, Phase.CALL, Phase.CONTINUOUS


def test_at_when_time_of_day_then_milliseconds() -> None:
    assert at(0) == 0
    assert at(9) == 32_400_000
    assert at(8, 29, 59, 999) == at(8, 30) - 1
    assert format_time(at(13, 25, 5, 7)) == "13:25:05.007"


@pytest.mark.parametrize(("time", "regular", "odd", "fixed", "after_odd"), [
    (at(8, 0), CLOSED, CLOSED, CLOSED, CLOSED),
    (at(8, 29, 59, 999), CLOSED, CLOSED, CLOSED, CLOSED),
    (at(8, 30), CALL, CLOSED, CLOSED, CLOSED),
    (at(8, 59, 59, 999), CALL, CLOSED, CLOSED, CLOSED),
    (at(9, 0), CONT, CALL, CLOSED, CLOSED),
    (at(13, 24, 59, 999), CONT, CALL, CLOSED, CLOSED),
    (at(13, 25), CALL, CALL, CLOSED, CLOSED),
    (at(13, 29, 59, 999), CALL, CALL, CLOSED, CLOSED),
    (at(13, 30), CLOSED, CLOSED, CLOSED, CLOSED),
    (at(13, 39, 59, 999), CLOSED, CLOSED, CLOSED, CLOSED),
    (at(13, 40), CLOSED, CLOSED, CLOSED, CALL),
    (at(14, 0), CLOSED, CLOSED, CALL, CALL),
    (at(14, 29, 59, 999), CLOSED, CLOSED, CALL, CALL),
    (at(14, 30), CLOSED, CLOSED, CLOSED, CLOSED),
    (at(17, 0), CLOSED, CLOSED, CLOSED, CLOSED),
])
def test_phase_at_when_boundary_then_start_inclusive_end_exclusive(
        time: int, regular: Phase, odd: Phase, fixed: Phase, after_odd: Phase) -> None:
    assert phase_at(Session.REGULAR, time) is regular
    assert phase_at(Session.ODD_LOT, time) is odd
    assert phase_at(Session.FIXED_PRICE, time) is fixed
    assert phase_at(Session.AFTER_HOURS_ODD_LOT, time) is after_odd


def test_odd_lot_match_times_when_listed_then_every_5s_from_0910_to_1330() -> None:
    times = odd_lot_match_times()
    assert times[0] == at(9, 10)
    assert times[1] == at(9, 10, 5)
    assert times[-1] == at(13, 30)
    assert len(times) == 3_121  # 4 h 20 min = 15,600 s / 5 s + 1
    assert at(9, 10, 2) not in times
    assert at(13, 29, 55) in times


def test_periodic_match_times_when_300s_then_0905_to_1320() -> None:
    times = periodic_match_times(300)
    assert times[0] == at(9, 5)
    assert times[-1] == at(13, 20)
    assert len(times) == 52  # 09:05 ... 13:20; the closing call at 13:30 takes the rest
    assert all(OPEN < t < CLOSING_CALL_START for t in times)


def test_periodic_match_times_when_1200s_then_every_20_minutes() -> None:
    times = periodic_match_times(20 * 60)
    assert times[0] == at(9, 20)
    assert times[-1] == at(13, 20)
    assert len(times) == 13


def test_periodic_match_times_when_1800s_then_every_30_minutes() -> None:
    times = periodic_match_times(30 * 60)
    assert list(times) == [at(h, m) for h in range(9, 14) for m in (0, 30)][1:-1]
    assert CLOSE not in times


def test_taiwan_date_when_around_taiwan_midnight_then_as_the_time_zone_says() -> None:
    midnight = int(datetime(2026, 11, 26, tzinfo=TAIWAN).timestamp() * 1000)
    for moment in (midnight - 1, midnight, midnight + 1, 1_795_564_800_000, 0,
                   1_893_456_000_000):
        assert taiwan_date(moment) == datetime.fromtimestamp(moment / 1000, TAIWAN).date(), moment
    assert taiwan_date(midnight - 1) == date(2026, 11, 25)
    assert taiwan_date(midnight) == date(2026, 11, 26)
