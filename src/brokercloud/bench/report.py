"""How every benchmark reports: a readable table, then the figures as one JSON object."""

from __future__ import annotations

import json
import statistics

from rich.console import Console
from rich.table import Table


def percentile_us(samples_ns: list[int], pct: float) -> float:
    """The pct-th percentile of nanosecond samples, in microseconds (nearest rank)."""
    ordered = sorted(samples_ns)
    rank = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[rank] / 1_000


def median(values: list[float]) -> float:
    return statistics.median(values)


def report(title: str, figures: dict[str, object], bars: dict[str, str] | None = None) -> None:
    console = Console(stderr=False)
    table = Table(title=title)
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("bar")
    for name, value in figures.items():
        shown = f"{value:,.1f}" if isinstance(value, float) else (
            f"{value:,}" if isinstance(value, int) else str(value))
        table.add_row(name, shown, (bars or {}).get(name, ""))
    console.print(table)
    print(json.dumps(figures), flush=True)
