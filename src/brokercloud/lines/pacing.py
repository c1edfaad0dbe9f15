"""Exact pacing of the orders sent on one line: the generic cell rate algorithm (GCRA).

Why not `fix.throttle.TokenBucket`: that one *polices* what arrives, on float seconds with a
second's worth of burst, as the exchange does. Here we *shape* what we send, and every order the
exchange's bucket refuses costs a reject and a resend. So time is integer nanoseconds and the
interval between sends is rounded up: "never more than `rate` orders in any one-second window"
is then exactly true, not true up to floating-point drift. GCRA is a token bucket written as one
number, the theoretical arrival time (TAT) of the next send.
"""

from __future__ import annotations

import math
from fractions import Fraction

SECOND = 1_000_000_000
MILLISECOND = 1_000_000

_NEVER = -(1 << 62)  # the TAT of a pacer that has never sent: ready at any time


class Pacer:
    """``rate`` sends a second, at most ``burst`` of them back to back; time is passed in."""

    __slots__ = ("_tat", "interval", "tolerance")

    def __init__(self, rate: float, burst: int = 1) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be positive, got {rate!r}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst!r}")
        # Fraction(float) is exact, so the ceiling is too: the interval never rounds down.
        self.interval = math.ceil(Fraction(SECOND) / Fraction(rate))
        self.tolerance = (burst - 1) * self.interval
        self._tat = _NEVER

    def ready_at(self) -> int:
        """The earliest time the next send conforms (far in the past if it already does)."""
        return self._tat - self.tolerance

    def ready(self, now: int) -> bool:
        return now >= self._tat - self.tolerance

    def take(self, now: int) -> None:
        """Record a send at ``now``; the caller has checked `ready`."""
        self._tat = max(self._tat, now) + self.interval
