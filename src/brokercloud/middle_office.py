"""``brokercloud middle-office``: the middle office as its own process — the core with its
journal, the shared line pool to an exchange — driven by a deterministic order flow.

It is what the crash-recovery test kills with SIGKILL and restarts: on start it replays its
journal, logs its lines on, reconciles what was in flight, then places whatever of the flow the
journal does not hold yet. Each order is announced on stdout (``ACK <client ref> <order ID>``)
only after the core has made it durable, so a watcher knows exactly what was acknowledged.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec

from brokercloud.core import commands as c
from brokercloud.core.oms import FINISHED
from brokercloud.core.sequencer import Core, Sequencer
from brokercloud.core.state import CoreState
from brokercloud.core.timers import expire_approvals_forever
from brokercloud.fix.store import open_database
from brokercloud.lines.pool import LineConfig, LinePool
from brokercloud.market.orders import Side
from brokercloud.market.prices import tick_size
from brokercloud.market.securities import demo_instruments

T0 = 1_795_564_800_000  # 2026-11-25 08:00 Taiwan
#: The exchange's demo listing of TSMC: the same reference the simulator publishes.
_TSMC = next(item for item in demo_instruments() if item.instrument.symbol == "2330")
SYMBOL = _TSMC.instrument
REFERENCE = _TSMC.reference
BROKERS = ("9A00", "9B00")


class Options(msgspec.Struct, frozen=True):
    data_dir: str
    exchange_port: int
    orders: int = 10_000
    line_rate: float = 2_000
    host: str = "127.0.0.1"


def reference_data() -> list[c.Cmd]:
    commands: list[c.Cmd] = [c.ListInstrument(at=T0, instrument=SYMBOL, reference=REFERENCE)]
    for broker in BROKERS:
        commands += [c.AddBroker(at=T0, broker=broker, name=broker),
                     c.AddBranch(at=T0, broker=broker, branch="001", name="HQ")]
        for i in range(10):
            account = f"{broker}{i:04d}"
            commands += [c.OpenAccount(at=T0, account=account, broker=broker, branch="001",
                                       name=account, trading_limit=10_000_000_000),
                         c.SetHolding(at=T0, account=account, symbol=SYMBOL.symbol,
                                      shares=10_000_000)]
    return commands


def flow(count: int) -> Iterator[c.PlaceOrder]:
    """Buys from one broker, sells from the other, at prices that cross: everything trades."""
    for i in range(count):
        broker = BROKERS[i % 2]
        side = Side.BUY if i % 2 == 0 else Side.SELL
        price = REFERENCE + (tick_size(REFERENCE) if side is Side.BUY else 0) * (i % 3)
        yield c.PlaceOrder(at=T0 + 3_600_000 + i, broker=broker, account=f"{broker}{i % 10:04d}",
                           user="flow", client_ref=f"F{i}", symbol=SYMBOL.symbol, side=side,
                           qty=1000, price=price)


def state_digest(state: CoreState) -> dict[str, object]:
    """What must equal a clean replay: every account's positions and reservations and every
    order's state and fills."""
    return {
        "accounts": {a.account: [a.used_trading, a.used_credit, a.bought, a.sell_reserved,
                                 a.holdings] for a in state.accounts.values()},
        "orders": {o.order_id: [o.client_ref, str(o.state), o.cum_qty, o.leaves,
                                sorted(o.fills or {})] for o in state.orders.values()},
    }


def lines() -> list[LineConfig]:
    """The demo registry's lines (`exchange.registry.demo_registry` for these brokers)."""
    return [LineConfig(f"T{broker}A{i}", f"pw-{broker}-{i}", frozenset(BROKERS))
            for broker in BROKERS for i in range(2)]


async def run(options: Options) -> int:
    data_dir = Path(options.data_dir)
    core = Core(data_dir / "core")
    if not core.state.brokers:
        core.execute(reference_data())
    known = {ref for broker in core.state.brokers.values() for ref in broker.client_refs}
    async with Sequencer(core) as sequencer:
        pool = LinePool(sequencer, [msgspec.structs.replace(line, rate=options.line_rate)
                                    for line in lines()],
                        open_database(data_dir / "lines.db"), options.host,
                        options.exchange_port)
        await pool.start()
        expiry = asyncio.create_task(expire_approvals_forever(
            sequencer, lambda: int(time.time() * 1000), every_s=1.0))
        print("READY", core.seq, flush=True)
        for command in flow(options.orders):
            if command.client_ref in known:
                continue
            events = await sequencer.submit(command)
            order_id = getattr(events[0], "order_id", "-")
            sys.stdout.write(f"ACK {command.client_ref} {order_id}\n")
            sys.stdout.flush()
        while any(order.state not in FINISHED for order in core.state.orders.values()):
            await asyncio.sleep(0.05)
        print("DONE", msgspec.json.encode(state_digest(core.state)).decode(), flush=True)
        expiry.cancel()
        await pool.stop()
    core.close()
    return 0


def main(options: Options) -> int:
    return asyncio.run(run(options))
