"""Trading sessions and their times (Taiwan time), as milliseconds since midnight.

Times are plain integers so the simulator's clock and the core's commands can carry them without
time-zone arithmetic; ``at(9, 0)`` is 09:00.
"""

from __future__ import annotations

import enum
import functools
from datetime import date, timedelta, timezone

TAIWAN = timezone(timedelta(hours=8))  # exchange time; Taiwan keeps no daylight saving
_DAY_MS = 86_400_000
_TAIWAN_OFFSET_MS = 8 * 3_600_000  # UTC+8, no daylight saving since 1979
_EPOCH = date(1970, 1, 1).toordinal()


def taiwan_date(at_ms: int) -> date:
    """The Taiwan date of a moment (ms since the epoch): what ``TAIWAN`` gives, by arithmetic
    and a cache per day, since it runs for every fill and every order sent."""
    return _taiwan_day((at_ms + _TAIWAN_OFFSET_MS) // _DAY_MS)


@functools.cache
def _taiwan_day(days: int) -> date:
    return date.fromordinal(_EPOCH + days)


def at(hour: int, minute: int = 0, second: int = 0, ms: int = 0) -> int:
    """Milliseconds since midnight."""
    return ((hour * 60 + minute) * 60 + second) * 1_000 + ms


def format_time(ms_of_day: int) -> str:
    seconds, ms = divmod(ms_of_day, 1_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{hour:02d}:{minute:02d}:{second:02d}.{ms:03d}"


class Session(enum.StrEnum):
    """Each session has its own book: orders never cross between sessions."""

    REGULAR = "regular"  # board lots: pre-opening, continuous, closing auction
    ODD_LOT = "odd_lot"  # intraday odd lots, periodic call auctions
    FIXED_PRICE = "fixed_price"  # after-hours board lots at the closing price
    AFTER_HOURS_ODD_LOT = "after_hours_odd_lot"  # one call auction at 14:30


class Phase(enum.StrEnum):
    CLOSED = "closed"
    CALL = "call"  # orders collected for a call auction
    CONTINUOUS = "continuous"


PRE_OPEN_START = at(8, 30)
OPEN = at(9, 0)
CLOSING_CALL_START = at(13, 25)
CLOSE = at(13, 30)
ODD_LOT_START = at(9, 0)
ODD_LOT_FIRST_MATCH = at(9, 10)
ODD_LOT_INTERVAL_MS = 5_000
ODD_LOT_END = at(13, 30)
AFTER_HOURS_ODD_LOT_START = at(13, 40)
FIXED_PRICE_START = at(14, 0)
AFTER_HOURS_END = at(14, 30)
DAY_START = PRE_OPEN_START
DAY_END = AFTER_HOURS_END

#: (start inclusive, end exclusive, phase) windows in which each session accepts orders.
SESSION_WINDOWS: dict[Session, tuple[tuple[int, int, Phase], ...]] = {
    Session.REGULAR: (
        (PRE_OPEN_START, OPEN, Phase.CALL),
        (OPEN, CLOSING_CALL_START, Phase.CONTINUOUS),
        (CLOSING_CALL_START, CLOSE, Phase.CALL),
    ),
    Session.ODD_LOT: ((ODD_LOT_START, ODD_LOT_END, Phase.CALL),),
    Session.FIXED_PRICE: ((FIXED_PRICE_START, AFTER_HOURS_END, Phase.CALL),),
    Session.AFTER_HOURS_ODD_LOT: ((AFTER_HOURS_ODD_LOT_START, AFTER_HOURS_END, Phase.CALL),),
}


def phase_at(session: Session, ms_of_day: int) -> Phase:
    """The phase of a session at a time of day; outside its windows it is closed."""
    for start, end, phase in SESSION_WINDOWS[session]:
        if start <= ms_of_day < end:
            return phase
    return Phase.CLOSED


def odd_lot_match_times() -> range:
    """Intraday odd-lot auctions: every 5 s from 09:10 up to and including 13:30."""
    return range(ODD_LOT_FIRST_MATCH, ODD_LOT_END + 1, ODD_LOT_INTERVAL_MS)


def periodic_match_times(interval_s: int) -> range:
    """Disposition-stock auctions in continuous hours: every interval after 09:00, before 13:25."""
    step = interval_s * 1_000
    return range(OPEN + step, CLOSING_CALL_START, step)
