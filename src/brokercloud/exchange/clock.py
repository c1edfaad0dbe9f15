"""Exchange time for a running simulator: Taiwan wall-clock time, or a simulated day that runs
``speed`` times faster than real time from a chosen start."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

from brokercloud.market.sessions import TAIWAN


class WallClock:
    """Real Taiwan time of day; the trading date is today's date in Taiwan."""

    def __init__(self) -> None:
        self.trading_date: date = datetime.now(TAIWAN).date()

    def now(self) -> int:
        moment = datetime.now(TAIWAN)
        midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        return (moment - midnight) // timedelta(milliseconds=1)


class SimulatedClock:
    """Starts at ``start`` (ms since midnight) and runs ``speed`` times real time."""

    def __init__(self, trading_date: date, start: int, speed: float = 1.0) -> None:
        self.trading_date = trading_date
        self._start = start
        self._speed = speed
        self._origin = time.monotonic()

    def now(self) -> int:
        return self._start + int((time.monotonic() - self._origin) * 1000 * self._speed)

    def resume_from(self, ms_of_day: int) -> None:
        """Never go back in time: after a restart, continue from where the journal ended."""
        if ms_of_day > self.now():
            self._start = ms_of_day
            self._origin = time.monotonic()


Clock = WallClock | SimulatedClock
