"""The trading day as a timeline of actions, so a simulated clock can run it in seconds.

The timeline is plain data (time, action, argument) built from ``brokercloud.market.sessions``;
the engine maps each action to what it does. Several actions can fall on one millisecond (13:30
closes the board-lot book, runs the last odd-lot auction and expires both): they run in the
order listed in ``Action``.
"""

from __future__ import annotations

import enum

import msgspec

from brokercloud.market import sessions as s


class Action(enum.IntEnum):
    """In execution order for actions at the same time."""

    PRE_OPEN = 0  # 08:30 board-lot orders accepted for the opening auction
    OPEN = 1  # 09:00 opening auction, continuous trading and intraday odd lots start
    DISPOSITION_AUCTION = 2  # periodic call auction for disposition stocks (arg: interval s)
    CLOSING_CALL = 3  # 13:25 continuous ends, resting market orders deleted
    CLOSING_AUCTION = 4  # 13:30 closing call auction, the day's close is set
    ODD_LOT_AUCTION = 5  # every 5 s from 09:10 to 13:30
    CLOSE = 6  # 13:30 board-lot and intraday odd-lot orders expire
    AFTER_HOURS_ODD_LOT_OPEN = 7  # 13:40
    FIXED_PRICE_OPEN = 8  # 14:00
    END_OF_DAY = 9  # 14:30 fixed-price match, after-hours odd-lot auction, all orders expire


class ScheduledAction(msgspec.Struct, frozen=True, order=True):
    time: int
    action: Action
    arg: int = 0


def day_timeline(disposition_intervals_s: frozenset[int] = frozenset()) -> list[ScheduledAction]:
    """Every action of one trading day in execution order."""
    timeline = [
        ScheduledAction(s.PRE_OPEN_START, Action.PRE_OPEN),
        ScheduledAction(s.OPEN, Action.OPEN),
        ScheduledAction(s.CLOSING_CALL_START, Action.CLOSING_CALL),
        ScheduledAction(s.CLOSE, Action.CLOSING_AUCTION),
        ScheduledAction(s.CLOSE, Action.CLOSE),
        ScheduledAction(s.AFTER_HOURS_ODD_LOT_START, Action.AFTER_HOURS_ODD_LOT_OPEN),
        ScheduledAction(s.FIXED_PRICE_START, Action.FIXED_PRICE_OPEN),
        ScheduledAction(s.AFTER_HOURS_END, Action.END_OF_DAY),
    ]
    timeline += [ScheduledAction(t, Action.ODD_LOT_AUCTION) for t in s.odd_lot_match_times()]
    for interval in sorted(disposition_intervals_s):
        timeline += [ScheduledAction(t, Action.DISPOSITION_AUCTION, interval)
                     for t in s.periodic_match_times(interval)]
    timeline.sort()
    return timeline
