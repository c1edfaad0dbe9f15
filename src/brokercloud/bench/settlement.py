"""`brokercloud bench settlement`: 1,000,000 fills across 100,000 accounts of 10 brokers over
five trading days, through booking, net amounts and T+2 settlement.

The back office shards by broker, as the core does (ARCHITECTURE: "a broker's accounts live on
one shard"): nothing in booking or settlement crosses brokers. The bench runs one shard per
core (two here) in forked processes, each with its brokers' accounts and fills.

The fills are made before the clock starts (deterministic: cash buys and sells, margin buys,
short sales over 50 symbols, 10% odd lots; sells only of shares the account holds).
``seconds`` is the wall time from the start signal until every shard has booked its fills and
settled every date in memory (``Ledger``, with the sequencer's GC settings as in the
platform's process); ``cpu_seconds`` is the shards' CPU time together (one process would take
about that long on a quiet machine); every settlement report is checked to sum to zero.
``journal_seconds`` is what journaling all the commands adds (msgpack, one write per 4,096,
no fsync: the journal's own cost, not the disk's).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import random
import tempfile
import time
from datetime import date
from multiprocessing.connection import Connection

import msgspec

from brokercloud import gc_policy
from brokercloud.backoffice import commands as b
from brokercloud.backoffice.ledger import Ledger
from brokercloud.backoffice.store import BackOffice, encode
from brokercloud.bench.report import report
from brokercloud.codes import Code
from brokercloud.core.commands import Credit
from brokercloud.market.calendar import TWSE_CALENDAR
from brokercloud.market.fees import FeeSchedule
from brokercloud.market.orders import Side

FILLS = 1_000_000
ACCOUNTS = 100_000
BROKERS = 10
SYMBOLS = 50
DAYS = 5
SHARDS = 2  # one per core of the benchmark machine
FIRST_DAY = date(2026, 11, 23)  # a Monday
_BATCH = 4_096


def reference(shard: int = 0, shards: int = 1, accounts: int = ACCOUNTS) -> list[b.BoCmd]:
    """One shard's brokers and accounts (each holding 10 lots of two symbols, well funded),
    and every symbol."""
    mine = [n for n in range(BROKERS) if n % shards == shard]
    commands: list[b.BoCmd] = [b.RegisterBroker(broker=f"9{n:03d}") for n in mine]
    commands += [b.RegisterSymbol(symbol=str(1101 + n)) for n in range(SYMBOLS)]
    for n in range(accounts):
        if n % BROKERS % shards != shard:
            continue
        account = f"{n:08d}"
        commands += [
            b.RegisterAccount(account=account, broker=f"9{n % BROKERS:03d}",
                              fees=FeeSchedule(discount_bp=6_000 if n % 3 else 10_000),
                              day_trading=n % 5 == 0),
            b.SetHolding(account=account, symbol=str(1101 + n % SYMBOLS), shares=10_000),
            b.SetHolding(account=account, symbol=str(1101 + (n + 7) % SYMBOLS), shares=10_000),
            b.Deposit(account=account, amount=50_000_000)]
    return commands


def fills(count: int = FILLS, accounts: int = ACCOUNTS, seed: int = 1) -> list[b.BookFill]:
    rng = random.Random(seed)
    days = [FIRST_DAY]
    while len(days) < DAYS:
        days.append(TWSE_CALENDAR.next_trading_day(days[-1]))
    made = []
    for i in range(count):
        n = rng.randrange(accounts)
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


class ShardResult(msgspec.Struct, frozen=True):
    booked: int
    held: int
    settled: int
    refused: int
    defaults: int
    conserved: bool
    cpu_seconds: float


def _conserved(ledger: Ledger) -> bool:
    """Every settlement report sums to zero: cash, and each symbol's shares."""
    for settled in ledger.settled.values():
        totals: dict[str, int] = {}
        for moved in settled.shares.values():
            for symbol, qty in moved.items():
                totals[symbol] = totals.get(symbol, 0) + qty
        if sum(settled.cash.values()) or any(totals.values()):
            return False
    return True


def _shard(shard: int, shards: int, accounts: int, commands: list[b.BookFill],
           conn: Connection) -> None:
    """One shard: its reference data untimed, then on the signal every fill and every date."""
    ledger = Ledger()
    for command in reference(shard, shards, accounts):
        ledger.apply(command)
    gc.collect()
    gc_policy.settle()  # as the platform's process runs
    conn.send("ready")
    conn.recv()
    cpu = time.process_time()
    apply, ok = ledger.apply, Code.OK
    booked = sum(apply(command) is ok for command in commands)
    refused = sum(apply(b.Settle(date=day)) is not ok for day in sorted(ledger.days))
    cpu_seconds = time.process_time() - cpu
    conn.send(ShardResult(booked, len(ledger.exceptions), len(ledger.settled), refused,
                          sum(len(r.defaults) for r in ledger.settled.values()),
                          _conserved(ledger), cpu_seconds))


def run_shards(commands: list[b.BookFill], shards: int,
               accounts: int = ACCOUNTS) -> tuple[float, list[ShardResult]]:
    """Wall seconds from the start signal until every shard answered, and their results."""
    context = multiprocessing.get_context("fork")
    pipes, workers = [], []
    for shard in range(shards):
        mine = [command for command in commands if int(command.broker[1:]) % shards == shard]
        parent, child = context.Pipe()
        worker = context.Process(target=_shard, args=(shard, shards, accounts, mine, child))
        worker.start()
        pipes.append(parent)
        workers.append(worker)
    for pipe in pipes:
        pipe.recv()
    start = time.perf_counter()
    for pipe in pipes:
        pipe.send("go")
    results = [pipe.recv() for pipe in pipes]
    seconds = time.perf_counter() - start
    for worker in workers:
        worker.join()
    return seconds, results


def _journal_seconds(commands: list[b.BookFill]) -> float:
    with tempfile.TemporaryDirectory() as data_dir:
        office = BackOffice(data_dir, fsync=False)
        start = time.perf_counter()
        for i in range(0, len(commands), _BATCH):
            office.journal.append([encode(command) for command in commands[i:i + _BATCH]])
        seconds = time.perf_counter() - start
        office.close()
    return seconds


def run() -> dict[str, object]:
    commands = fills()
    seconds, results = run_shards(commands, SHARDS)
    figures: dict[str, object] = {
        "fills": len(commands),
        "accounts": ACCOUNTS,
        "shards": SHARDS,
        "booked": sum(r.booked for r in results),
        "held": sum(r.held for r in results),
        "settlement_dates": max(r.settled for r in results),
        "settle_refused": sum(r.refused for r in results),
        "defaults": sum(r.defaults for r in results),
        "conserved": all(r.conserved for r in results),
        "cpu_seconds": round(sum(r.cpu_seconds for r in results), 3),
        "journal_seconds": round(_journal_seconds(commands), 3),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "seconds": round(seconds, 3),
    }
    report("settlement: booking, nets and T+2 settlement", figures, {"seconds": "<= 10"})
    return figures
