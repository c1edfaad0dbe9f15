"""`brokercloud bench replay`: rebuild the middle office from a journal of 1,000,000 records
(reference data, orders and the reports that sent, acknowledged and filled them)."""

from __future__ import annotations

import tempfile
import time

from brokercloud.bench.core_flow import lifecycle, orders, reference_data
from brokercloud.bench.report import report
from brokercloud.core.sequencer import Core

RECORDS = 1_000_000
_CHUNK = 50_000


def _write_journal(data_dir: str, records: int) -> int:
    core = Core(data_dir, fsync=False)
    core.execute(reference_data())
    n = 0
    placed = orders(records)
    while core.seq < records:
        batch = [next(placed) for _ in range(min(_CHUNK, (records - core.seq) // 4 or 1))]
        results = core.execute(batch)
        follow = []
        for command, events in zip(batch, results, strict=True):
            order_id = getattr(events[0], "order_id", "")
            if order_id:
                n += 1
                follow += lifecycle(order_id, command.at, command.price, command.qty, n)
        core.execute(follow[: max(records - core.seq, 0)])
    written = core.seq
    core.close()
    return written


def run() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as data_dir:
        written = _write_journal(data_dir, RECORDS)
        start = time.perf_counter()
        core = Core(data_dir)
        seconds = time.perf_counter() - start
        orders_rebuilt = len(core.state.orders)
        core.close()
    figures: dict[str, object] = {
        "records": written,
        "seconds": round(seconds, 3),
        "orders": orders_rebuilt,
        "records_per_s": round(written / seconds),
    }
    report("replay: rebuild the core from its journal", figures, {"seconds": "<= 10"})
    return figures
