"""`brokercloud bench api`: the AP server under load, over loopback.

The whole platform runs as its own process (``brokercloud serve``: core, shared lines, AP
server, back office, with the exchange simulator in a child process); this process is the
clients: salespeople and clerks of the three demo brokers, logged in over HTTP, entering limit
orders for 2330 at its reference price (buys and sells alternate, so half of them trade) over
``IN_FLIGHT`` keep-alive connections of a lean client (``http_load``: httpx alone cost more CPU
than the server), and listening on the WebSocket stream.

The demo accounts' daily trading limits and holdings are sized for people, not for a benchmark,
so the bench seeds the core first with the demo's reference data and larger limits and holdings
(``serve`` keeps a core it finds). Its lines are provisioned for the bar, as an operator would,
with headroom: ``LINES_PER_BROKER`` lines of 20 messages a second per demo broker (240 lines,
4,800 orders a second), instead of the demo's two; 150 lines (exactly 3,000 a second) made the
pool's own pacing the cap. Everything else is ``serve`` as shipped.

- ``ws_sessions``: WebSocket sessions open at once (up to ``WS_TARGET``) that each received the
  stream event of an order its own user placed while all were open.
- ``orders_per_s`` / ``p99_ms``: sustained order entry with ``IN_FLIGHT`` orders outstanding,
  a round trip ending when the exchange's acknowledgement reaches the client on the stream.
  In a closed loop the mean round trip is ``IN_FLIGHT`` / throughput (Little's law): 54 at
  3,000 a second is 18 ms, the load at which both bars hold together with the most margin on
  each; more outstanding orders lengthen the queue on the one event-loop thread faster than
  they add throughput (48: ~2,970/s at p99 22 ms; 56: ~3,150/s at 24-25 ms; 72: ~3,550/s at
  29 ms).
- ``http_orders_per_s`` / ``http_p99_ms``: the same entry, a round trip ending with the API's
  answer (201: the order is durable in the core and queued for a line) -- the AP server's own
  capacity.
- ``cpu_us_per_order`` / ``http_cpu_us_per_order``: CPU time (user + system, every thread) the
  ``serve`` process spent during each of those two windows, per order completed in it: far
  steadier than throughput on a machine shared with other work. The platform's work runs on one
  event loop, so 3,000 orders a second leave it ~330 µs an order. The exchange simulator's
  own CPU (its child process, on the other core) is not in it.
- ``logins_per_s``: a storm of ``STORM_LOGINS`` concurrent logins (argon2id as configured);
  ``storm_order_p99_ms``: the API round trip of already logged-in users' orders meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import itertools
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Iterator
from pathlib import Path

import httpx2
import msgspec

from brokercloud.bench.http_load import ConnectionPool
from brokercloud.bench.report import percentile_us, report
from brokercloud.core import commands as c
from brokercloud.core.sequencer import Core
from brokercloud.gateway.stream import events_of
from brokercloud.platform import DEMO_PASSWORD, _staff_commands, demo_reference

IN_FLIGHT = 54
LINES_PER_BROKER = 80
ACK_SECONDS = 10.0
HTTP_SECONDS = 10.0
WS_TARGET = 2_000
WS_CONNECTING = 100  # handshakes in progress at once
STORM_LOGINS = 200
STORM_WORKERS = 8  # logged-in users entering orders during the storm
SYMBOL, REFERENCE = "2330", 108_500
ACKED = {"acknowledged", "partially_filled", "filled", "rejected", "cancelled"}
_encode = msgspec.json.encode
_decode = msgspec.json.decode
USERS: dict[str, tuple[str, ...]] = {
    f"{key}-{role}": tuple(f"{n}{i:07d}" for i in range(1, 4))
    for n, key in enumerate(("9a00", "9b00", "9c00"), start=1) for role in ("sales", "clerk")}


def _seed(data: Path) -> None:
    """The demo's reference data with limits and holdings a benchmark cannot exhaust."""
    now_ms = int(time.time() * 1000)
    commands: list[c.Cmd] = []
    for command in demo_reference(now_ms) + _staff_commands(now_ms):
        if isinstance(command, c.OpenAccount):
            commands.append(msgspec.structs.replace(command, trading_limit=10**15))
        elif isinstance(command, c.SetHolding):
            commands.append(msgspec.structs.replace(command, shares=10**10))
        else:
            commands.append(command)
    core = Core(data / "core")
    core.execute(commands)
    core.close()


def _start_platform(data: Path) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "brokercloud.cli", "serve", "--data-dir", str(data),
         "--port", "0", "--lines-per-broker", str(LINES_PER_BROKER)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("READY"):
            return process, int(line.split()[1])
    raise RuntimeError("the platform did not start")


class Clients:
    """Logged-in users, an order generator, and what the stream has acknowledged."""

    def __init__(self, http: httpx2.AsyncClient, pool: ConnectionPool, port: int) -> None:
        self.http = http
        self.pool = pool
        self.port = port
        self.tokens: dict[str, str] = {}
        self.acked: dict[str, float] = {}
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self._orders = self._order_bodies()
        self.errors = 0

    async def login(self, user_id: str) -> str:
        response = await self.http.post("/api/v1/sessions",
                                        json={"user_id": user_id, "password": DEMO_PASSWORD})
        response.raise_for_status()
        return response.json()["token"]

    def _order_bodies(self) -> Iterator[tuple[str, bytes]]:
        users = itertools.cycle(USERS)
        for n in itertools.count():
            user = next(users)
            accounts = USERS[user]
            yield user, _encode({"account": accounts[n // len(USERS) % len(accounts)],
                                 "client_ref": f"bench-{n}", "symbol": SYMBOL, "side": n % 2,
                                 "qty": 1000, "price": REFERENCE})

    async def place(self) -> str | None:
        """One order over HTTP: its ID, or None if it was refused."""
        user, body = next(self._orders)
        async with self.pool.connection() as connection:
            status, answer = await connection.post("/api/v1/orders", body, self.tokens[user])
        if status != 201:
            self.errors += 1
            return None
        return _decode(answer)["order_id"]

    def ack_future(self, order_id: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if order_id in self.acked:
            future.set_result(self.acked[order_id])
        else:
            self.waiting[order_id] = future
        return future

    def on_event(self, event: dict[str, object]) -> None:
        if event.get("type") != "OrderUpdated" or event.get("state") not in ACKED:
            return
        order_id = str(event["order_id"])
        if order_id in self.acked:
            return
        self.acked[order_id] = now = time.perf_counter()
        future = self.waiting.pop(order_id, None)
        if future is not None and not future.done():
            future.set_result(now)

    def stream_url(self, user: str) -> str:
        return f"ws://127.0.0.1:{self.port}/api/v1/stream?token={self.tokens[user]}"


async def _listen(clients: Clients, user: str) -> None:
    import websockets  # noqa: PLC0415 (a test extra)

    async with websockets.connect(clients.stream_url(user), max_queue=None) as socket:
        async for message in socket:
            for event in events_of(message):
                clients.on_event(event)


async def _closed_loop(clients: Clients, seconds: float, workers: int,
                       until_ack: bool) -> tuple[int, float, list[int]]:
    """``workers`` clients each placing an order as soon as its last one is done."""
    samples: list[int] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            order_id = await clients.place()
            if order_id is None:
                continue
            end = (await asyncio.wait_for(clients.ack_future(order_id), 30) if until_ack
                   else time.perf_counter())
            samples.append(int((end - start) * 1e9))

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return len(samples), time.perf_counter() - began, samples


async def _ws_sessions(clients: Clients, target: int) -> tuple[int, int]:
    """Open ``target`` sessions over the users' tokens; once all are open, each user places one
    order. Returns (opened, opened and received its own user's order)."""
    import websockets  # noqa: PLC0415

    users = list(USERS)
    gate = asyncio.Semaphore(WS_CONNECTING)
    opened = asyncio.Event()
    placed: dict[str, str] = {}
    placed_event = asyncio.Event()
    counts = {"open": 0, "received": 0}
    ready = asyncio.Event()

    async def session(n: int) -> None:
        user = users[n % len(users)]
        try:
            async with gate:
                socket = await websockets.connect(clients.stream_url(user), max_queue=None,
                                                  open_timeout=60)
        except (OSError, websockets.WebSocketException, TimeoutError):
            return
        async with socket:
            counts["open"] += 1
            if counts["open"] == target:
                opened.set()
            await ready.wait()
            await placed_event.wait()
            with contextlib.suppress(TimeoutError, websockets.WebSocketException):
                async with asyncio.timeout(30):
                    async for message in socket:
                        if any(event.get("order_id") == placed.get(user)
                               for event in events_of(message)):
                            counts["received"] += 1
                            return

    tasks = [asyncio.create_task(session(n)) for n in range(target)]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(opened.wait(), 120)
    ready.set()
    await asyncio.sleep(0.5)
    for user in users:
        body = {"account": USERS[user][0], "client_ref": f"ws-{user}", "symbol": SYMBOL,
                "side": 0, "qty": 1000, "price": REFERENCE}
        response = await clients.http.post("/api/v1/orders", json=body, headers={
            "Authorization": f"Bearer {clients.tokens[user]}"})
        placed[user] = response.json().get("order_id", "")
    placed_event.set()
    await asyncio.gather(*tasks)
    return counts["open"], counts["received"]


async def _login_storm(clients: Clients) -> tuple[float, list[int]]:
    users = itertools.cycle(USERS)
    storm_done = asyncio.Event()
    samples: list[int] = []

    async def trader() -> None:
        while not storm_done.is_set():
            start = time.perf_counter_ns()
            if await clients.place() is not None:
                samples.append(time.perf_counter_ns() - start)

    traders = [asyncio.create_task(trader()) for _ in range(STORM_WORKERS)]
    await asyncio.sleep(0.5)
    samples.clear()  # only what overlaps the storm
    began = time.perf_counter()
    await asyncio.gather(*(clients.login(next(users)) for _ in range(STORM_LOGINS)))
    elapsed = time.perf_counter() - began
    storm_done.set()
    await asyncio.gather(*traders)
    return STORM_LOGINS / elapsed, samples


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system, all threads) a process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _cpu_per_order(pid: int, loop: Awaitable[tuple[int, float, list[int]]],
                         ) -> tuple[tuple[int, float, list[int]], int]:
    """Run a closed loop; with it, the serve process's CPU µs per completed order."""
    before = _cpu_s(pid)
    result = await loop
    return result, round((_cpu_s(pid) - before) * 1e6 / max(result[0], 1))


def _ms(samples: list[int], pct: float) -> float:
    return round(percentile_us(samples, pct) / 1000, 1) if samples else 0.0


async def _measure(port: int, pid: int) -> dict[str, object]:
    limits = httpx2.Limits(max_connections=STORM_LOGINS + IN_FLIGHT,
                           max_keepalive_connections=STORM_LOGINS + IN_FLIGHT)
    async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits,
                                  timeout=120) as http:
        pool = ConnectionPool()
        await pool.fill("127.0.0.1", port, IN_FLIGHT)
        clients = Clients(http, pool, port)
        for user in USERS:
            clients.tokens[user] = await clients.login(user)
        opened, received = await _ws_sessions(clients, WS_TARGET)
        listeners = [asyncio.create_task(_listen(clients, user)) for user in USERS]
        await asyncio.sleep(0.5)
        # warm-up, through the lines too: orders merely accepted would queue for the lines
        # ahead of the measured ones
        await _closed_loop(clients, 3, IN_FLIGHT, until_ack=True)
        (acked, ack_elapsed, ack_samples), ack_cpu = await _cpu_per_order(
            pid, _closed_loop(clients, ACK_SECONDS, IN_FLIGHT, until_ack=True))
        logins_per_s, storm_samples = await _login_storm(clients)
        (done, http_elapsed, http_samples), http_cpu = await _cpu_per_order(
            pid, _closed_loop(clients, HTTP_SECONDS, IN_FLIGHT, until_ack=False))
        for listener in listeners:
            listener.cancel()
        await asyncio.gather(*listeners, return_exceptions=True)
        await pool.close()
    return {
        "orders_per_s": round(acked / ack_elapsed),
        "p50_ms": _ms(ack_samples, 50),
        "p99_ms": _ms(ack_samples, 99),
        "cpu_us_per_order": ack_cpu,
        "http_orders_per_s": round(done / http_elapsed),
        "http_p50_ms": _ms(http_samples, 50),
        "http_p99_ms": _ms(http_samples, 99),
        "http_cpu_us_per_order": http_cpu,
        "ws_sessions": received,
        "ws_opened": opened,
        "logins_per_s": round(logins_per_s, 1),
        "storm_order_p99_ms": _ms(storm_samples, 99),
        "refused_orders": clients.errors,
    }


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 4 * WS_TARGET + 1024) if hard != resource.RLIM_INFINITY else 4 * WS_TARGET
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def run() -> dict[str, object]:
    _raise_fd_limit()  # the platform inherits it
    with tempfile.TemporaryDirectory() as directory:
        data = Path(directory)
        _seed(data)
        process, port = _start_platform(data)
        try:
            figures = asyncio.run(_measure(port, process.pid))
        finally:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(10)
    report(f"api: the AP server over loopback ({datetime.date.today()})", figures,
           {"orders_per_s": ">= 3,000", "p99_ms": "<= 25", "ws_sessions": ">= 2,000"})
    return figures
