"""Other members trading on the simulator: keeps quotes moving and gives a demo's orders
someone to trade with. Their orders enter the engine directly (journaled like any line's), as
the members' own lines would deliver them."""

from __future__ import annotations

import asyncio
import logging

from brokercloud.exchange.fix_gateway import ExchangeGateway
from brokercloud.exchange.flow import FlowConfig, OrderFlow
from brokercloud.market.securities import demo_instruments

log = logging.getLogger("brokercloud.exchange.simulated_market")

MEMBERS = "SIMULATED-MARKET"  # the orders' origin in the exchange's journal


async def trade_forever(gateway: ExchangeGateway, seed: int, orders_per_s: int) -> None:
    """``orders_per_s`` orders a second across the demo's listings, limit-ROD only while the
    bellwether (2330) is in a call auction."""
    listings = [(item.instrument, item.reference) for item in demo_instruments()]
    flow = OrderFlow(listings, FlowConfig(seed=seed, orders_per_second=orders_per_s, brokers=5))
    while True:
        await asyncio.sleep(1 / orders_per_s)
        flow.limit_rod_only = not gateway.exchange.listings["2330"].continuous
        try:
            gateway.apply(MEMBERS, flow.next_command())
        except Exception:  # a demo flow must never take the exchange down
            log.exception("simulated market order failed")
