"""``brokercloud simulate``: the exchange simulator running whole days on its simulated clock,
in seconds, printing each phase as it happens and the day's closing board (references roll
from one day to the next)."""

from __future__ import annotations

import itertools

from rich.console import Console
from rich.table import Table

from brokercloud.exchange.schedule import Action, ScheduledAction
from brokercloud.exchange.simulation import DaySummary, run_day
from brokercloud.market.instruments import Instrument
from brokercloud.market.prices import format_price
from brokercloud.market.securities import demo_instruments
from brokercloud.market.sessions import format_time

_ANNOUNCED = {
    Action.PRE_OPEN: "pre-opening: board-lot orders collected, indicative prices published",
    Action.OPEN: "opening call auction; continuous trading and intraday odd lots begin",
    Action.CLOSING_CALL: "continuous trading ends; closing call auction collects orders",
    Action.CLOSING_AUCTION: "closing call auction: the day's closing prices are set",
    Action.CLOSE: "board-lot and intraday odd-lot day orders expire",
    Action.AFTER_HOURS_ODD_LOT_OPEN: "after-hours odd-lot session opens",
    Action.FIXED_PRICE_OPEN: "after-hours fixed-price session opens at the closing prices",
    Action.END_OF_DAY: "fixed-price and after-hours odd-lot matches; the day ends",
}


def simulate(*, seed: int = 1, rate: int = 20, days: int = 1) -> int:
    console = Console()
    listed = demo_instruments()
    listings = [(item.instrument, item.reference) for item in listed]
    console.print(f"[bold]brokercloud[/bold] exchange simulator: {len(listings)} demo symbols "
                  f"(illustrative reference prices), {rate} orders/s simulated, seed {seed}")

    def announce(scheduled: ScheduledAction) -> None:
        if scheduled.action in _ANNOUNCED:
            console.print(f"  {format_time(scheduled.time)}  {_ANNOUNCED[scheduled.action]}")

    day_numbers = itertools.count(1) if days == 0 else range(1, days + 1)
    for day in day_numbers:
        console.print(f"[bold]simulated day {day}[/bold] (08:30-14:30 on the simulated clock)")
        summary = run_day(listings, seed=seed + day - 1, orders_per_second=rate,
                          on_action=announce)
        _print_board(console, summary, listings)
        listings = [(inst, summary.next_references[inst.symbol]) for inst, _ in listings]
    return 0


def _print_board(console: Console, summary: DaySummary,
                 listings: list[tuple[Instrument, int]]) -> None:
    table = Table(title=f"closing board ({summary.commands:,} commands in "
                        f"{summary.elapsed_s:.2f} s of real time)")
    for column in ("symbol", "name", "reference", "close", "volume (lots)"):
        table.add_column(column, justify="left" if column in ("symbol", "name") else "right")
    for instrument, reference in sorted(listings, key=lambda pair: -summary.volume[pair[0].symbol]):
        close = summary.closes[instrument.symbol]
        table.add_row(instrument.symbol, instrument.name, format_price(reference),
                      format_price(close) if close else "-",
                      f"{summary.volume[instrument.symbol] // 1000:,}")
    console.print(table)
    console.print("events: " + ", ".join(f"{k} {v:,}" for k, v in sorted(summary.events.items())))
