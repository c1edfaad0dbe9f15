"""The communication module: one pool of exchange lines shared by every broker on the platform.

The thesis (ch. 5 §2) has each broker lease two lines of 20 orders/s, so a basket crawls out at
40 orders/s while the same broker's neighbours sit on idle lines. Pooled, ten brokers share
twenty lines: any one broker can burst to 400 orders/s, yet every broker must still always get
a line. Deciding who goes next, on which line and when, is the heart of this package and lives
in `scheduler` as pure, deterministic code (time is passed in, nothing is random), so it can be
tested schedule by schedule; the FIX initiator sessions that carry the orders are wired around
it, not into it.
"""

from brokercloud.lines.pacing import MILLISECOND, SECOND, Pacer
from brokercloud.lines.scheduler import Dispatch, LineSpec, Scheduler

__all__ = ["MILLISECOND", "SECOND", "Dispatch", "LineSpec", "Pacer", "Scheduler"]
