"""`brokercloud bench lines`: ten brokers share twenty exchange lines (thesis ch. 5 §2).

Broker B0 sends a 2,000-order basket at t=0; B1 sends single orders (a seeded Poisson stream,
5/s); B2..B9 a light background (Poisson, 1/s each), all for the first 5 s. The clock is
simulated and there are no sockets: this measures the scheduling policy, not the network.
Bars: the basket goes out at >= 380 orders/s (the pool's 400 less what the others use), B1's
orders wait <= 100 ms at p99, and no line ever carries more than its 20 orders in any second.
For comparison the same day in the thesis's old world (each broker alone on its own two lines),
on shared lines without fair queuing (one FIFO for everyone), and with the pool paced as one.
"""

from __future__ import annotations

import bisect
import random
import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import NamedTuple

from brokercloud.bench.report import percentile_us, report
from brokercloud.lines import SECOND, LineSpec, Scheduler


@dataclass(frozen=True)
class Scenario:
    brokers: int = 10
    lines: int = 20
    rate: int = 20  # orders/s per line
    basket: int = 2_000  # B0's orders, all at t=0
    single_rate: float = 5.0  # B1's orders/s
    background_rate: float = 1.0  # each of B2.. orders/s
    seconds: float = 5.0  # how long B1 and the background send
    seed: int = 1


class Arrival(NamedTuple):
    at: int  # ns
    broker: str
    item: str


class Sent(NamedTuple):
    line_id: str
    at: int  # ns


def broker(n: int) -> str:
    return f"B{n}"


def arrivals(s: Scenario) -> list[Arrival]:
    """The day's orders in arrival order; items are unique strings naming their broker."""
    rng = random.Random(s.seed)
    flow = [Arrival(0, broker(0), f"B0-{n}") for n in range(s.basket)]
    for b in range(1, s.brokers):
        rate = s.single_rate if b == 1 else s.background_rate
        t, n = rng.expovariate(rate), 0
        while t < s.seconds:
            flow.append(Arrival(round(t * SECOND), broker(b), f"{broker(b)}-{n}"))
            t, n = t + rng.expovariate(rate), n + 1
    return sorted(flow, key=lambda a: a.at)  # stable: the basket stays in order


def shared_lines(s: Scenario) -> list[LineSpec]:
    everyone = frozenset(broker(b) for b in range(s.brokers))
    return [LineSpec(f"L{i:02}", everyone, s.rate) for i in range(s.lines)]


def own_lines(s: Scenario) -> list[LineSpec]:
    """The thesis's old world: the lines dealt out evenly, each broker alone on its own."""
    per = s.lines // s.brokers
    return [LineSpec(f"L{i:02}", frozenset({broker(i // per)}), s.rate)
            for i in range(per * s.brokers)]


def simulate(scheduler: Scheduler, flow: list[Arrival]) -> dict[Hashable, Sent]:
    """Drive the scheduler on a simulated clock until every order has gone out: jump to the
    next arrival or the next time a line is free, whichever comes first."""
    sent: dict[Hashable, Sent] = {}
    i, now = 0, 0
    while True:
        at = scheduler.next_ready_time(now)
        if i < len(flow):
            at = flow[i].at if at is None else min(at, flow[i].at)
        if at is None:
            return sent
        now = at
        while i < len(flow) and flow[i].at <= now:
            scheduler.enqueue(flow[i].broker, flow[i].item)
            i += 1
        for d in scheduler.dispatch(now):
            sent[d.item] = Sent(d.line_id, now)


def fifo(flow: list[Arrival]) -> list[Arrival]:
    """The same flow as one queue: shared lines without fair queuing."""
    return [a._replace(broker="ALL") for a in flow]


def waits_ns(flow: list[Arrival], sent: dict[Hashable, Sent], who: str) -> list[int]:
    return [sent[a.item].at - a.at for a in flow if a.item.startswith(f"{who}-")]


def basket_rate(flow: list[Arrival], sent: dict[Hashable, Sent]) -> float:
    """B0's orders per second, from their enqueue (t=0) to the last one dispatched."""
    basket = [sent[a.item].at for a in flow if a.item.startswith("B0-")]
    return len(basket) / (max(basket) / SECOND)


def max_per_window(sent: dict[Hashable, Sent], window: int = SECOND) -> int:
    """The most orders any one line carried in any half-open window [t, t + window)."""
    per_line: dict[str, list[int]] = {}
    for s in sent.values():
        per_line.setdefault(s.line_id, []).append(s.at)
    most = 0
    for times in per_line.values():
        times.sort()
        for k, t in enumerate(times):
            most = max(most, bisect.bisect_left(times, t + window) - k)
    return most


def ms(samples_ns: list[int], pct: float) -> float:
    return round(percentile_us(samples_ns, pct) / 1_000, 2)


def measure(s: Scenario) -> dict[str, object]:
    flow = arrivals(s)
    started = time.perf_counter()
    shared = simulate(Scheduler(shared_lines(s)), flow)
    elapsed = time.perf_counter() - started
    old = simulate(Scheduler(own_lines(s)), flow)
    single_fifo = simulate(Scheduler(_fifo_lines(s)), fifo(flow))
    paced = simulate(Scheduler(shared_lines(s), pace_pool=True), flow)
    b1 = broker(1)
    background = [w for b in range(2, s.brokers) for w in waits_ns(flow, shared, broker(b))]
    return {
        "basket_orders_per_s": round(basket_rate(flow, shared), 1),
        "other_broker_wait_ms_p50": ms(waits_ns(flow, shared, b1), 50),
        "other_broker_wait_ms_p99": ms(waits_ns(flow, shared, b1), 99),
        "background_wait_ms_p50": ms(background, 50) if background else 0.0,
        "background_wait_ms_p99": ms(background, 99) if background else 0.0,
        "max_orders_per_line_in_any_1s": max_per_window(shared),
        "orders": len(shared),
        "old_world_basket_orders_per_s": round(basket_rate(flow, old), 1),
        "old_world_other_broker_wait_ms_p99": ms(waits_ns(flow, old, b1), 99),
        "fifo_basket_orders_per_s": round(basket_rate(flow, single_fifo), 1),
        "fifo_other_broker_wait_ms_p99": ms(waits_ns(flow, single_fifo, b1), 99),
        "paced_pool_basket_orders_per_s": round(basket_rate(flow, paced), 1),
        "paced_pool_other_broker_wait_ms_p99": ms(waits_ns(flow, paced, b1), 99),
        "paced_pool_max_orders_per_line_in_any_1s": max_per_window(paced),
        "scheduler_us_per_order": round(elapsed / len(shared) * 1e6, 2),
    }


def _fifo_lines(s: Scenario) -> list[LineSpec]:
    return [LineSpec(line.line_id, frozenset({"ALL"}), line.rate) for line in shared_lines(s)]


def run() -> dict[str, object]:
    s = Scenario()
    figures = measure(s)
    report(f"lines: {s.brokers} brokers share {s.lines} lines at {s.rate} orders/s each",
           figures, {"basket_orders_per_s": ">= 380", "other_broker_wait_ms_p99": "<= 100",
                     "max_orders_per_line_in_any_1s": f"<= {s.rate}",
                     "paced_pool_max_orders_per_line_in_any_1s": f"<= {s.rate}"})
    return figures
