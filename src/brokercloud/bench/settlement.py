"""`brokercloud bench settlement`: 1,000,000 fills across 100,000 accounts of 10 brokers over
five trading days, through booking, net amounts and T+2 settlement.

The fills are made before the clock starts (deterministic: cash buys and sells, margin buys,
short sales over 50 symbols; sells only of shares the account holds). ``seconds`` (wall) and
``cpu_seconds`` are booking every fill plus settling every date in memory (``Ledger``), with
the sequencer's GC settings as in the platform's process; ``journal_seconds`` is what
journaling the same commands adds (msgpack, one write per 4,096, no fsync: the journal's own
cost, not the disk's).
"""

from __future__ import annotations

import gc
import os
import random
import tempfile
import time
from datetime import date

from brokercloud.backoffice import commands as b
from brokercloud.backoffice.ledger import Ledger
from brokercloud.backoffice.store import BackOffice, encode
from brokercloud.bench.report import report
from brokercloud.codes import Code
from brokercloud.core.commands import Credit
from brokercloud.core.sequencer import GC_THRESHOLDS
from brokercloud.market.calendar import TWSE_CALENDAR
from brokercloud.market.fees import FeeSchedule
from brokercloud.market.orders import Side

FILLS = 1_000_000
ACCOUNTS = 100_000
BROKERS = 10
SYMBOLS = 50
DAYS = 5
FIRST_DAY = date(2026, 11, 23)  # a Monday
_BATCH = 4_096


def reference() -> list[b.BoCmd]:
    """Brokers, symbols, and accounts each holding 10 lots of two symbols, well funded."""
    commands: list[b.BoCmd] = [b.RegisterBroker(broker=f"9{n:03d}") for n in range(BROKERS)]
    commands += [b.RegisterSymbol(symbol=str(1101 + n)) for n in range(SYMBOLS)]
    for n in range(ACCOUNTS):
        account = f"{n:08d}"
        commands += [
            b.RegisterAccount(account=account, broker=f"9{n % BROKERS:03d}",
                              fees=FeeSchedule(discount_bp=6_000 if n % 3 else 10_000),
                              day_trading=n % 5 == 0),
            b.SetHolding(account=account, symbol=str(1101 + n % SYMBOLS), shares=10_000),
            b.SetHolding(account=account, symbol=str(1101 + (n + 7) % SYMBOLS), shares=10_000),
            b.Deposit(account=account, amount=50_000_000)]
    return commands


def fills(count: int = FILLS, seed: int = 1) -> list[b.BookFill]:
    rng = random.Random(seed)
    days = [FIRST_DAY]
    while len(days) < DAYS:
        days.append(TWSE_CALENDAR.next_trading_day(days[-1]))
    made = []
    for i in range(count):
        n = rng.randrange(ACCOUNTS)
        kind = rng.random()
        held = str(1101 + (n + 7 * rng.randrange(2)) % SYMBOLS)
        if kind < 0.45:
            side, credit, symbol = Side.BUY, Credit.CASH, str(1101 + rng.randrange(SYMBOLS))
        elif kind < 0.8:
            side, credit, symbol = Side.SELL, Credit.CASH, held
        elif kind < 0.93:
            side, credit, symbol = Side.BUY, Credit.MARGIN, held
        else:
            side, credit, symbol = Side.SELL, Credit.SHORT, held
        made.append(b.BookFill(
            broker=f"9{n % BROKERS:03d}", account=f"{n:08d}", order_id=f"O{i}",
            exec_id=str(i), symbol=symbol, side=side, credit=credit,
            price=rng.randrange(2_000, 20_000, 5), qty=1_000 if rng.random() < 0.9 else 37,
            trade_date=days[i * DAYS // count]))
    return made


def _settle_all(ledger: Ledger) -> int:
    refused = 0
    for day in sorted(ledger.days):
        refused += ledger.apply(b.Settle(date=day)) != Code.OK
    return refused


def run() -> dict[str, object]:
    commands = fills()
    ledger = Ledger()
    for command in reference():
        ledger.apply(command)
    gc.collect()
    gc.freeze()  # the platform's process runs with the sequencer's GC settings
    before = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    start, cpu = time.perf_counter(), time.process_time()
    apply = ledger.apply
    booked = sum(apply(command) == Code.OK for command in commands)
    booking_seconds = time.perf_counter() - start
    refused = _settle_all(ledger)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu
    gc.set_threshold(*before)
    gc.unfreeze()
    with tempfile.TemporaryDirectory() as data_dir:
        office = BackOffice(data_dir, fsync=False)
        start = time.perf_counter()
        for i in range(0, len(commands), _BATCH):
            office.journal.append([encode(command) for command in commands[i:i + _BATCH]])
        journal_seconds = time.perf_counter() - start
        office.close()
    figures: dict[str, object] = {
        "fills": len(commands),
        "accounts": ACCOUNTS,
        "booked": booked,
        "held": len(ledger.exceptions),
        "settlement_dates": len(ledger.settled),
        "settle_refused": refused,
        "defaults": sum(len(r.defaults) for r in ledger.settled.values()),
        "booking_seconds": round(booking_seconds, 3),
        "journal_seconds": round(journal_seconds, 3),
        "cpu_seconds": round(cpu_seconds, 3),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "seconds": round(seconds, 3),
    }
    report("settlement: booking, nets and T+2 settlement", figures, {"seconds": "<= 10"})
    return figures
