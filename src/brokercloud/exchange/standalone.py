"""``brokercloud exchange``: the simulator on its own, reachable over FIX and the market-data
feed, until interrupted -- or, started by another process (``serve``) with
``stop_with_stdin``, until that process closes the pipe or dies, so it never outlives it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from datetime import date
from pathlib import Path

import msgspec
import uvloop
from rich.console import Console

from brokercloud import gc_policy
from brokercloud.exchange.clock import Clock, SimulatedClock, WallClock
from brokercloud.exchange.registry import LineRegistry, demo_registry, load_registry
from brokercloud.exchange.server import ExchangeConfig, running_exchange
from brokercloud.exchange.simulated_market import trade_forever
from brokercloud.market.securities import demo_instruments
from brokercloud.market.sessions import at
from brokercloud.shutdown import stop_on_signals

DEMO_BROKERS = ["9A00", "9B00", "9C00"]


class StandaloneOptions(msgspec.Struct, frozen=True):
    data_dir: str = "brokercloud-data/exchange"
    host: str = "127.0.0.1"
    fix_port: int = 9878
    md_port: int = 9879
    registry: str = ""  # a registry file; empty: demo lines for the demo brokers
    clock: str = "simulated"  # or "wall"
    speed: float = 60.0
    start: str = "08:30"
    trading_date: str = ""  # simulated clock only; empty: today
    seed: int = 1
    price_stabilization: bool = True
    rate_limit: int | None = None  # overrides the registry's default (0 = off)
    lines_per_broker: int = 2  # the demo registry's (ignored with a registry file)
    market_orders_per_s: int = 0  # simulated other members' orders; 0 = none
    stop_with_stdin: bool = False
    log_level: str = "INFO"


def make_clock(options: StandaloneOptions) -> Clock:
    if options.clock == "wall":
        return WallClock()
    hour, _, minute = options.start.partition(":")
    day = date.fromisoformat(options.trading_date) if options.trading_date else date.today()
    return SimulatedClock(day, at(int(hour), int(minute or 0)), options.speed)


def make_registry(options: StandaloneOptions) -> LineRegistry:
    registry = load_registry(options.registry) if options.registry else demo_registry(
        DEMO_BROKERS, options.lines_per_broker)
    if options.rate_limit is not None:
        registry = registry.with_rate_limit(options.rate_limit)
    return registry


async def serve_exchange(options: StandaloneOptions, console: Console | None = None) -> None:
    console = console or Console()
    registry = make_registry(options)
    listings = [(item.instrument, item.reference) for item in demo_instruments()]
    config = ExchangeConfig(data_dir=options.data_dir, host=options.host,
                            fix_port=options.fix_port, md_port=options.md_port, seed=options.seed,
                            price_stabilization=options.price_stabilization)
    stop = stop_on_signals()
    helpers: list[asyncio.Task[None]] = []
    if options.stop_with_stdin:
        helpers.append(asyncio.create_task(_set_at_stdin_end(stop)))
    async with running_exchange(config, registry, listings, make_clock(options)) as running:
        gc_before = gc_policy.settle()  # the journal is replayed: that lives all day
        try:
            if options.market_orders_per_s > 0:
                helpers.append(asyncio.create_task(
                    trade_forever(running.gateway, options.seed, options.market_orders_per_s)))
            _announce(console, options, registry, running.fix_port, running.md_port)
            print("READY", running.fix_port, running.md_port, flush=True)
            await stop.wait()
        finally:
            for helper in helpers:
                helper.cancel()
            gc_policy.restore(gc_before)


def _announce(console: Console, options: StandaloneOptions, registry: LineRegistry,
              fix_port: int, md_port: int) -> None:
    console.print(f"exchange simulator: FIX 4.4 on {options.host}:{fix_port} "
                  f"(TargetCompID {registry.target_comp_id}), market data on "
                  f"{options.host}:{md_port}, journal in {Path(options.data_dir)}")
    for line in registry.lines:
        console.print(f"  line {line.line}: brokers {', '.join(sorted(line.brokers))}, "
                      f"{registry.rate_limit(line) or 'unlimited'} msgs/s")


async def _set_at_stdin_end(stop: asyncio.Event) -> None:
    """The starting process holds our stdin open: its end, by a close or by that process
    dying, means stop."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    with contextlib.suppress(ConnectionError):
        await reader.read()  # nothing is sent: this returns at the end
    stop.set()


def run(options: StandaloneOptions) -> int:
    logging.basicConfig(level=options.log_level, format="%(asctime)s %(name)s %(message)s")
    uvloop.run(serve_exchange(options))
    return 0
