"""Running the exchange simulator as a network service: the FIX acceptor for lines, the market
data feed, and a clock task that moves the engine through the day.

Startup and shutdown form one async context manager (``running_exchange``): everything started
is stopped, in reverse order, whatever happens inside.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import msgspec

from brokercloud.exchange.clock import Clock
from brokercloud.exchange.fix_gateway import ExchangeGateway
from brokercloud.exchange.md_feed import MD_HEARTBEAT_S, MarketDataFeed
from brokercloud.exchange.registry import LineRegistry
from brokercloud.fix.store import open_database
from brokercloud.fix.transport import start_acceptor
from brokercloud.market.instruments import Instrument

log = logging.getLogger("brokercloud.exchange")

TICK_S = 0.05  # how often the clock task moves the engine (auctions run on time within this)
CLOSING_LOGOUT_S = 1.0  # how long a closing exchange waits for members to answer its Logout


class ExchangeConfig(msgspec.Struct, frozen=True):
    data_dir: str
    host: str = "127.0.0.1"
    fix_port: int = 0  # 0: any free port (tests)
    md_port: int = 0
    seed: int = 1
    price_stabilization: bool = False
    heartbeat_s: int = 10
    md_heartbeat_s: float = MD_HEARTBEAT_S


class RunningExchange(msgspec.Struct):
    gateway: ExchangeGateway
    feed: MarketDataFeed
    fix_port: int
    md_port: int


@contextlib.asynccontextmanager
async def running_exchange(config: ExchangeConfig, registry: LineRegistry,
                           listings: Sequence[tuple[Instrument, int]],
                           clock: Clock) -> AsyncIterator[RunningExchange]:
    Path(config.data_dir).mkdir(parents=True, exist_ok=True)
    db = open_database(Path(config.data_dir) / "exchange.db")
    gateway = ExchangeGateway(registry, listings, db, clock, seed=config.seed,
                              price_stabilization=config.price_stabilization,
                              heartbeat_s=config.heartbeat_s)
    feed = MarketDataFeed(gateway.exchange, heartbeat_s=config.md_heartbeat_s)
    fix_server = await start_acceptor(config.host, config.fix_port, gateway.resolve)
    md_server = await feed.start(config.host, config.md_port)
    ticker = asyncio.create_task(_tick_forever(gateway))
    try:
        yield RunningExchange(gateway, feed, fix_server.sockets[0].getsockname()[1],
                              md_server.sockets[0].getsockname()[1])
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        md_server.close()
        feed.close()
        fix_server.close()
        # a Logout with a reason, so members know the exchange closed rather than the network
        await asyncio.gather(*(session.logout("exchange closing", CLOSING_LOGOUT_S)
                               for session in list(gateway.sessions.values())))
        await md_server.wait_closed()
        await fix_server.wait_closed()
        db.execute("COMMIT")
        db.close()


async def _tick_forever(gateway: ExchangeGateway) -> None:
    while True:
        try:
            gateway.tick()
        except Exception:  # a failing step must not stop the clock for everyone
            log.exception("clock step failed")
        await asyncio.sleep(TICK_S)
