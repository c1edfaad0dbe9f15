"""A whole trading day on the simulated clock, 08:30 to 14:30, in seconds of real time.

The same seed gives the same day, event for event. Used by the demo (``brokercloud serve``),
by tests and by benchmarks.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from random import Random

import msgspec

from brokercloud.exchange.commands import NewOrder
from brokercloud.exchange.engine import Exchange
from brokercloud.exchange.events import Event
from brokercloud.exchange.flow import FlowConfig, FlowMix, OrderFlow
from brokercloud.exchange.schedule import ScheduledAction
from brokercloud.market.instruments import Instrument
from brokercloud.market.lots import BOARD_LOT
from brokercloud.market.orders import Side
from brokercloud.market.sessions import (
    AFTER_HOURS_END,
    AFTER_HOURS_ODD_LOT_START,
    CLOSE,
    FIXED_PRICE_START,
    PRE_OPEN_START,
    Phase,
    Session,
    phase_at,
)


class DaySummary(msgspec.Struct):
    seed: int
    commands: int
    events: dict[str, int]
    volume: dict[str, int]  # board-lot shares per symbol
    closes: dict[str, int]
    next_references: dict[str, int]
    elapsed_s: float


def run_day(listings: Sequence[tuple[Instrument, int]], *, seed: int = 1,
            orders_per_second: int = 20, odd_lot_percent: int = 5,
            price_stabilization: bool = True,
            on_event: Callable[[Event], object] | None = None,
            on_action: Callable[[ScheduledAction], object] | None = None) -> DaySummary:
    """Run one day; ``on_event`` sees every exchange event, ``on_action`` every phase change
    and auction as the clock reaches it."""
    started = time.perf_counter()
    counts: Counter[str] = Counter()

    def emit(event: Event) -> None:
        counts[type(event).__name__] += 1
        if on_event is not None:
            on_event(event)

    exchange = Exchange(listings, seed=seed, emit=emit,
                        price_stabilization=price_stabilization)
    if on_action is not None:
        exchange.on_action = on_action
    flow = OrderFlow(listings, FlowConfig(
        seed=seed, orders_per_second=orders_per_second, start=PRE_OPEN_START, end=CLOSE,
        mix=FlowMix(odd_lot=odd_lot_percent)))
    commands = 0
    for at_time, command in flow.commands():
        exchange.advance_to(at_time)
        flow.limit_rod_only = phase_at(Session.REGULAR, at_time) is not Phase.CONTINUOUS
        exchange.handle(command)
        commands += 1
    commands += _after_hours(exchange, Random(seed))
    exchange.advance_to(AFTER_HOURS_END)
    return DaySummary(
        seed=seed, commands=commands, events=dict(counts),
        volume={s: listing.books[Session.REGULAR].volume
                for s, listing in exchange.listings.items()},
        closes={s: listing.close for s, listing in exchange.listings.items()},
        next_references={s: listing.next_reference() for s, listing in exchange.listings.items()},
        elapsed_s=round(time.perf_counter() - started, 3))


def _after_hours(exchange: Exchange, rng: Random) -> int:
    """A few after-hours odd-lot orders around the close, and fixed-price orders at it."""
    sent = 0
    exchange.advance_to(AFTER_HOURS_ODD_LOT_START)
    for symbol, listing in exchange.listings.items():
        for i in range(4):
            side = Side.BUY if i % 2 else Side.SELL
            price = listing.close or listing.reference
            exchange.new_order(NewOrder("B000", "B000-0000001", f"AH-{symbol}-{i}", symbol, side,
                                        rng.randint(1, 999), price,
                                        session=Session.AFTER_HOURS_ODD_LOT))
            sent += 1
    exchange.advance_to(FIXED_PRICE_START)
    for symbol, listing in exchange.listings.items():
        if not listing.close:
            continue
        for i in range(4):
            side = Side.BUY if i % 2 else Side.SELL
            exchange.new_order(NewOrder("B001", "B001-0000001", f"FX-{symbol}-{i}", symbol, side,
                                        rng.randint(1, 5) * BOARD_LOT, listing.close,
                                        session=Session.FIXED_PRICE))
            sent += 1
    return sent
