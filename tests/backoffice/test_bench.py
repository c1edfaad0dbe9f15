"""`bench settlement` and `bench booking` in reduced size: every fill booked, every date
settled, nothing created or lost, the same whether one shard or two do the work."""

from __future__ import annotations

import asyncio
from pathlib import Path

from brokercloud.bench import booking
from brokercloud.bench import settlement as bench

ACCOUNTS = 2_000
FILLS = 20_000


def test_run_shards_when_small_flow_then_all_booked_settled_and_conserved() -> None:
    commands = bench.fills(FILLS, ACCOUNTS)
    _, one = bench.run_shards(commands, 1, ACCOUNTS)
    _, two = bench.run_shards(commands, 2, ACCOUNTS)
    for results in (one, two):
        assert sum(r.booked for r in results) == FILLS
        assert sum(r.held for r in results) == sum(r.refused for r in results) == 0
        assert all(r.conserved and r.settled == bench.DAYS for r in results)
    assert sum(r.defaults for r in one) == sum(r.defaults for r in two)


def test_booking_day_when_back_office_listens_then_every_fill_booked(tmp_path: Path) -> None:
    rate, lag, booked = asyncio.run(booking.run_day(tmp_path, 500, with_backoffice=True))
    assert booked == 500 and rate > 0 and lag >= 0
