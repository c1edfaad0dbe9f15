"""`brokercloud bench fix`: NewOrderSingle -> ExecutionReport round trips over loopback.

The exchange runs as its own process (``brokercloud exchange``, rate limit off), as it would in
production; this process is one FIX line (an initiator session with its own SQLite store). A
round trip ends when the order's acknowledgement (ExecType 0 or 8) arrives.

- ``msgs_per_s``: sustained, with up to ``WINDOW`` orders in flight; buys and sells alternate
  at one price, so half the orders also trade.
- ``p50_us_at_1000``: median round trip while sending 1,000 orders a second, one at a time;
  the load generator busy-polls between sends (see ``_busy_poll``).

The orders' bodies are formatted before each measurement starts: this process shares the two
cores with the exchange, and formatting them is the load generator's work, not the FIX path's
(each order is still numbered, stamped, stored and framed by the session when it is sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from brokercloud.bench.report import percentile_us, report
from brokercloud.exchange.standalone import DEMO_BROKERS
from brokercloud.fix import tags as t
from brokercloud.fix.codec import FixMessage, fields_to_bytes
from brokercloud.fix.session import FixSession, SessionBinding, SessionConfig
from brokercloud.fix.store import SessionStore, open_database
from brokercloud.fix.tags import MsgType
from brokercloud.fix.transport import connect_initiator

WINDOW = 256
SUSTAINED_ORDERS = 30_000
PACED_ORDERS = 3_000
PACED_RATE = 1_000
LINE = "T9A00A0"
PASSWORD = "pw-9A00-0"  # demo_registry's password for the line


class _Acks:
    """The bench's application: notes when each order's acknowledgement arrives."""

    def __init__(self) -> None:
        self.acked: dict[bytes, int] = {}
        self.waiter: asyncio.Event = asyncio.Event()
        self.progress: asyncio.Event = asyncio.Event()  # set whenever an ack arrives
        self.target = 0

    def on_logon(self, session: FixSession) -> None:
        return

    def on_logout(self, session: FixSession) -> None:
        return

    def on_message(self, session: FixSession, message: FixMessage) -> None:
        if message.fields.get(t.EXEC_TYPE) in (b"0", b"8"):
            self.acked[message.fields[t.CL_ORD_ID]] = time.perf_counter_ns()
            self.progress.set()
            if len(self.acked) >= self.target:
                self.waiter.set()


def _orders(prefix: str, count: int) -> Iterator[tuple[bytes, bytes]]:
    """(ClOrdID, body) for alternating buys and sells of one lot of 2330 at one price, all
    formatted before the iterator is returned."""
    return iter([_order(f"{prefix}{n}", n) for n in range(1, count + 1)])


def _order(cl_ord_id: str, n: int) -> tuple[bytes, bytes]:
    return cl_ord_id.encode(), fields_to_bytes([
        (t.ON_BEHALF_OF_COMP_ID, DEMO_BROKERS[0]), (t.CL_ORD_ID, cl_ord_id),
        (t.ACCOUNT, "12345678"), (t.SYMBOL, "2330"), (t.SIDE, b"1" if n % 2 else b"2"),
        (t.ORDER_QTY, 1000), (t.ORD_TYPE, b"2"), (t.PRICE, b"1085.00"),
        (t.TIME_IN_FORCE, b"0"), (t.TRANSACT_TIME, b"20261125-01:00:00.000")])


async def _sustained(session: FixSession, acks: _Acks, count: int, prefix: str) -> float:
    orders = _orders(prefix, count)
    sent_at: dict[bytes, int] = {}
    acks.target = count
    start = time.perf_counter()
    sent = 0
    while sent < count:
        while sent < count and sent - len(acks.acked) < WINDOW:
            cl_ord_id, body = next(orders)
            sent_at[cl_ord_id] = time.perf_counter_ns()
            session.send(MsgType.NEW_ORDER_SINGLE, body)
            sent += 1
        acks.progress.clear()
        await acks.progress.wait()
    await asyncio.wait_for(acks.waiter.wait(), 60)
    return count / (time.perf_counter() - start)


async def _busy_poll() -> None:
    """Keeps this process's event loop polling instead of sleeping between sends, as latency
    harnesses do: what is measured is then the exchange's round trip, not how long this VM
    takes to wake the load generator's CPU (~50-100 µs here). The exchange itself waits in
    epoll as usual."""
    while True:
        await asyncio.sleep(0)


async def _paced(session: FixSession, acks: _Acks, count: int, rate: int) -> list[int]:
    poller = asyncio.create_task(_busy_poll())
    try:
        return await _paced_orders(session, acks, count, rate)
    finally:
        poller.cancel()


async def _paced_orders(session: FixSession, acks: _Acks, count: int, rate: int) -> list[int]:
    orders = _orders("P", count)
    acks.acked.clear()
    acks.waiter.clear()
    acks.target = count
    sent_at: dict[bytes, int] = {}
    loop = asyncio.get_running_loop()
    begin = loop.time()
    for i in range(count):
        delay = begin + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        cl_ord_id, body = next(orders)
        sent_at[cl_ord_id] = time.perf_counter_ns()
        session.send(MsgType.NEW_ORDER_SINGLE, body)
    await asyncio.wait_for(acks.waiter.wait(), 60)
    return [acks.acked[k] - sent_at[k] for k in sent_at]


def _start_exchange(data_dir: str) -> tuple[subprocess.Popen[str], int]:
    """The exchange with its line rate limit and price stabilisation off: this measures the
    FIX path, and one price all day would never trip stabilisation anyway."""
    process = subprocess.Popen(
        [sys.executable, "-m", "brokercloud.cli", "exchange", "--data-dir", data_dir,
         "--fix-port", "0", "--md-port", "0", "--rate-limit", "0", "--start", "09:00",
         "--speed", "1", "--no-price-stabilization"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("READY"):
            return process, int(line.split()[1])
    raise RuntimeError("the exchange did not start")


async def _measure(port: int, data_dir: str) -> dict[str, object]:
    db = open_database(Path(data_dir) / "bench-line.db")
    config = SessionConfig(LINE, "XTAI", password=PASSWORD)
    acks = _Acks()
    session = await connect_initiator("127.0.0.1", port,
                                      SessionBinding(config, SessionStore(db, config.session_id),
                                                     acks))
    await _sustained(session, acks, 2_000, "W")  # warm-up (its own ClOrdIDs: no duplicates)
    acks.acked.clear()
    acks.waiter.clear()
    rates = [await _sustained(session, acks, SUSTAINED_ORDERS, "S")]
    samples = await _paced(session, acks, PACED_ORDERS, PACED_RATE)
    await session.logout()
    return {
        "orders": SUSTAINED_ORDERS,
        "msgs_per_s": round(rates[0]),
        "p50_us_at_1000": round(percentile_us(samples, 50), 1),
        "p99_us_at_1000": round(percentile_us(samples, 99), 1),
    }


def run() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as data_dir:
        process, port = _start_exchange(data_dir)
        try:
            figures = asyncio.run(_measure(port, data_dir))
        finally:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(10)
    report("fix: NewOrderSingle -> ExecutionReport over loopback", figures,
           {"msgs_per_s": ">= 20,000", "p50_us_at_1000": "<= 300"})
    return figures
