"""`brokercloud bench auction`: uncross 100,000 pre-opening orders in one symbol."""

from __future__ import annotations

import time
from random import Random

from brokercloud.bench.demo_listings import bench_listings
from brokercloud.bench.report import median, report
from brokercloud.exchange.commands import NewOrder
from brokercloud.exchange.engine import Exchange
from brokercloud.market.lots import BOARD_LOT
from brokercloud.market.orders import Side
from brokercloud.market.sessions import OPEN, PRE_OPEN_START


def _uncross_once(orders: int, seed: int) -> tuple[float, int, int]:
    listings = bench_listings(1)
    exchange = Exchange(listings, seed=seed)
    exchange.advance_to(PRE_OPEN_START)
    prices = exchange.listings[listings[0][0].symbol].prices
    mid = len(prices) // 2
    rng = Random(seed)
    for i in range(orders):
        side = Side.BUY if i % 2 else Side.SELL
        skew = 3 if side is Side.BUY else -3  # buyers a little keener: a real cross
        level = min(max(mid + skew + int(rng.gauss(0, 8)), 0), len(prices) - 1)
        exchange.new_order(NewOrder("B001", f"A{i % 5000}", f"C{i}", listings[0][0].symbol,
                                    side, rng.randint(1, 20) * BOARD_LOT, prices[level]))
    exchange.events.clear()
    start = time.perf_counter()
    exchange.advance_to(OPEN)
    seconds = time.perf_counter() - start
    book = exchange.book(listings[0][0].symbol)
    return seconds, book.volume if book else 0, len(exchange.events)


def run(orders: int = 100_000, seed: int = 3) -> dict[str, object]:
    runs = [_uncross_once(orders, seed) for _ in range(3)]
    figures: dict[str, object] = {
        "orders": orders,
        "seconds": round(median([r[0] for r in runs]), 4),
        "volume_shares": runs[0][1],
        "fill_events": runs[0][2],
    }
    report("auction: opening uncross in one symbol", figures,
           {"seconds": "<= 0.5 (median of 3 runs)"})
    return figures
