"""`brokercloud bench booking`: does booking slow order entry? (SPEC: "booking runs
continuously, decoupled from the order path, without slowing it (measure it)".)

The same day runs twice through the core's sequencer with fsync'd group commit: 50,000 orders,
then the lines' reports that send, acknowledge and fill each one (200,000 commands). Once
alone, once with the back office listening (``CoreFeed``: it books every fill on the same
event loop, its journal's fsync on a worker thread). ``commands_per_s`` is the core's
throughput from the first submission to the last answer; ``booking_lag_ms`` is how long after
the core's last answer the back office had booked the last fill.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from brokercloud.backoffice.feed import CoreFeed
from brokercloud.backoffice.store import BackOffice
from brokercloud.bench.core_flow import lifecycle, orders, reference_data
from brokercloud.bench.report import report
from brokercloud.core import events as e
from brokercloud.core.sequencer import Core, Sequencer

ORDERS = 50_000


async def run_day(data_dir: Path, count: int, with_backoffice: bool) -> tuple[float, float, int]:
    """(commands/s, booking lag in s, fills booked)."""
    core = Core(data_dir / "core")
    core.execute(reference_data())
    office = BackOffice(data_dir / "backoffice") if with_backoffice else None
    feed = CoreFeed(office, core.state) if office is not None else None
    booking = None
    if feed is not None:
        feed.catch_up()
        booking = asyncio.create_task(feed.run())
    placed = list(orders(count))
    async with Sequencer(core, [feed] if feed is not None else []) as sequencer:
        start = time.perf_counter()
        answers = [sequencer.submit_nowait(command) for command in placed]
        reports = []
        for n, (command, answer) in enumerate(zip(placed, answers, strict=True)):
            events = await answer
            updated = next(x for x in events if isinstance(x, e.OrderUpdated))
            reports += lifecycle(updated.order_id, command.at, command.price, command.qty, n)
        last = None
        for command in reports:
            last = sequencer.submit_nowait(command)
        if last is not None:
            await last
        seconds = time.perf_counter() - start
        done = time.perf_counter()
        while office is not None and len(office.ledger.bookings) < count:
            await asyncio.sleep(0.001)
        lag = time.perf_counter() - done if office is not None else 0.0
    booked = len(office.ledger.bookings) if office is not None else 0
    if booking is not None:
        booking.cancel()
    if office is not None:
        office.close()
    core.close()
    return (len(placed) + len(reports)) / seconds, lag, booked


def run() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as alone, tempfile.TemporaryDirectory() as together:
        without, _, _ = asyncio.run(run_day(Path(alone), ORDERS, with_backoffice=False))
        with_office, lag, booked = asyncio.run(run_day(Path(together), ORDERS,
                                                    with_backoffice=True))
    figures: dict[str, object] = {
        "orders": ORDERS,
        "fills_booked": booked,
        "commands_per_s_alone": round(without),
        "commands_per_s_with_backoffice": round(with_office),
        "slowdown_pct": round(100 * (1 - with_office / without), 1),
        "booking_lag_ms": round(lag * 1000, 1),
    }
    report("booking: the core's throughput with and without the back office", figures)
    return figures
