"""``serve``'s wiring helpers against real components: margin marks read the exchange's market
data (the exchange simulator runs in its own process, so the platform cannot look into it)."""

from __future__ import annotations

from pathlib import Path

from brokercloud.core import commands as c
from brokercloud.core.sequencer import Core
from brokercloud.market.instruments import Instrument
from brokercloud.platform import _last_prices
from exchange.test_fix_gateway import (  # tests/ is on the path: no package above it
    BUY,
    LISTINGS,
    SELL,
    SHARED,
    exchange,
    logged_on,
    order,
    run,
)

T0 = 1_764_032_400_000


def test_last_prices_when_one_symbol_traded_then_its_trade_and_the_core_reference_otherwise(
        tmp_path: Path) -> None:
    core = Core(tmp_path / "core", fsync=False)
    (tsmc, reference), = LISTINGS
    core.execute([
        c.ListInstrument(at=T0, instrument=tsmc, reference=reference),
        # listed in the core, not at this exchange: no market data, its reference stands
        c.ListInstrument(at=T0, instrument=Instrument(symbol="0050", name="ETF 50"),
                         reference=15_000)])

    async def main() -> None:
        async with exchange(tmp_path / "exchange") as ex, \
                logged_on(tmp_path, SHARED, ex.fix_port) as member:
            assert await _last_prices(core, "127.0.0.1", ex.md_port) == {
                tsmc.symbol: reference, "0050": 15_000}  # nothing traded yet
            member.send(b"D", order("C1", BUY, "74.90", 1000))
            member.send(b"D", order("C2", SELL, "74.90", 1000))
            await member.report("C2", "F")
            assert await _last_prices(core, "127.0.0.1", ex.md_port) == {
                tsmc.symbol: 7490, "0050": 15_000}

    try:
        run(main())
    finally:
        core.close()
