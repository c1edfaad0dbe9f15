"""`brokercloud bench matching`: mixed continuous flow on one core across 20 symbols.

The flow (about 50% resting limits, 30% marketable, 20% cancels and amends) is generated before
the clock starts. Throughput is measured on a plain loop; latency on a second run of the same
flow on a fresh exchange, timing every command (the timer's own cost is included).
"""

from __future__ import annotations

import time

from brokercloud.bench.demo_listings import bench_listings
from brokercloud.bench.report import percentile_us, report
from brokercloud.exchange.commands import Command
from brokercloud.exchange.engine import Exchange
from brokercloud.exchange.flow import FlowConfig, OrderFlow
from brokercloud.market.sessions import OPEN

BATCH = 10_000


def _fresh_exchange() -> Exchange:
    exchange = Exchange(bench_listings(), seed=1)
    exchange.advance_to(OPEN)
    return exchange


def _throughput(commands: list[Command]) -> float:
    exchange = _fresh_exchange()
    handle, events = exchange.handle, exchange.events
    start = time.perf_counter()
    for i in range(0, len(commands), BATCH):
        for command in commands[i:i + BATCH]:
            handle(command)
        events.clear()  # a consumer takes the events; here they are dropped
    return len(commands) / (time.perf_counter() - start)


def _latencies(commands: list[Command]) -> list[int]:
    exchange = _fresh_exchange()
    handle, events = exchange.handle, exchange.events
    clock = time.perf_counter_ns
    samples = [0] * len(commands)
    for i, command in enumerate(commands):
        begin = clock()
        handle(command)
        samples[i] = clock() - begin
        if len(events) > BATCH:
            events.clear()
    return samples


def run(orders: int = 500_000, seed: int = 7) -> dict[str, object]:
    flow = OrderFlow(bench_listings(), FlowConfig(seed=seed, orders_per_second=1_000_000))
    commands = [command for _, command in flow.commands(orders)]
    _throughput(commands[:50_000])  # warm-up
    rates = [_throughput(commands) for _ in range(3)]
    samples = _latencies(commands)
    figures: dict[str, object] = {
        "orders": len(commands),
        "symbols": 20,
        "orders_per_s": round(sorted(rates)[1]),
        "p50_us": round(percentile_us(samples, 50), 2),
        "p99_us": round(percentile_us(samples, 99), 2),
        "p999_us": round(percentile_us(samples, 99.9), 2),
    }
    report("matching: mixed flow, one core", figures,
           {"orders_per_s": ">= 250,000 (median of 3 runs)"})
    return figures
