"""`brokercloud bench core`: risk, order management and journal on one core, with every batch
fsync'd before its commands are applied and answered (group commit).

Each order is submitted as its own command with its own future, as a gateway would; the clock
stops when the last answer arrives (commands are answered in order). ``p99_us`` is the apply
time per order (risk checks and order management), not the fsync wait.
"""

from __future__ import annotations

import asyncio
import tempfile
import time

from brokercloud.bench.core_flow import orders, reference_data
from brokercloud.bench.report import percentile_us, report
from brokercloud.core.sequencer import Core, Sequencer

ORDERS = 200_000


async def _run(core: Core, count: int) -> float:
    commands = list(orders(count))
    async with Sequencer(core) as sequencer:
        sequencer.measure = True
        start = time.perf_counter()
        last = None
        for command in commands:
            last = sequencer.submit_nowait(command)
        if last is not None:
            await last
        return count / (time.perf_counter() - start)


def run() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as data_dir:
        core = Core(data_dir)
        core.execute(reference_data())
        rate = asyncio.run(_run(core, ORDERS))
        samples = core.apply_ns
        accepted = sum(1 for order in core.state.orders.values())
        core.close()
    figures: dict[str, object] = {
        "orders": ORDERS,
        "accepted": accepted,
        "orders_per_s": round(rate),
        "p50_us": round(percentile_us(samples, 50), 2),
        "p99_us": round(percentile_us(samples, 99), 2),
    }
    report("core: risk + OMS + journal (fsync'd group commit)", figures,
           {"orders_per_s": ">= 100,000", "p99_us": "<= 50 (apply time per order)"})
    return figures
