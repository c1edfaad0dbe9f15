"""The fixed symbols benchmarks trade, so every run measures the same books."""

from __future__ import annotations

from brokercloud.market.instruments import Instrument

#: 20 symbols across every stock tick band (reference prices are illustrative).
BENCH_REFERENCES = (7470, 5810, 12350, 2345, 98000, 4560, 55100, 1875, 3005, 64000,
                    880, 15650, 27300, 3920, 10050, 49900, 7720, 2215, 33100, 6600)


def bench_listings(count: int = 20) -> list[tuple[Instrument, int]]:
    return [(Instrument(symbol=f"{9000 + i}", name=f"Bench {i}"), BENCH_REFERENCES[i % 20])
            for i in range(count)]
