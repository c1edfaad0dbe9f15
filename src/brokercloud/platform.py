"""``brokercloud serve``: the whole platform on loopback, in one process beside the exchange.

Wired in the order data flows:
1. the exchange simulator (its FIX acceptor and market-data feed), with a simulated market of
   other members trading so the demo is lively, in a child process of its own
   (``exchange.child_process``): the exchange is another system, and shares no event loop
   with the platform;
2. the middle office's core (journal, sequencer) with the demo's brokers, accounts, holdings
   and instruments;
3. the shared line pool, logged on to the exchange over FIX;
4. the AP server (HTTP and WebSocket) for every role, with the demo's users;
5. the back office, a listener of the core's sequencer that books every fill off the order
   path; at start-up it settles what is due, tells the core of defaults and gives the core
   the day's opening holdings; the AP server is given it (``create_app(back_office=...)``)
   for the settlement routes and the net amounts it pushes on the stream.

Everything lives under ``./brokercloud-data``: stopping and starting again keeps every order.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import msgspec
import uvicorn
import uvloop
from rich.console import Console

from brokercloud.backoffice import commands as b
from brokercloud.backoffice.feed import CoreFeed
from brokercloud.backoffice.store import BackOffice
from brokercloud.backoffice.to_core import mark_prices_forever, start_day, start_days_forever
from brokercloud.core import commands as c
from brokercloud.core.sequencer import Core, Sequencer
from brokercloud.exchange.child_process import (
    ExchangeEndpoints,
    ExchangeStartError,
    exchange_process,
)
from brokercloud.exchange.md_feed import FeedQuote, MarketDataClient
from brokercloud.exchange.registry import demo_registry
from brokercloud.exchange.standalone import StandaloneOptions
from brokercloud.fix.store import open_database
from brokercloud.gateway.app import create_app
from brokercloud.gateway.certificates import CertificateAuthority
from brokercloud.gateway.identities import IdentityStore, User
from brokercloud.gateway.nonces import NonceStore
from brokercloud.gateway.signing import generate_key, make_csr, save_key
from brokercloud.gateway.stream import EventHub
from brokercloud.lines.pool import LineConfig, LinePool, specs_of
from brokercloud.lines.usage import LineUsage
from brokercloud.market.securities import demo_instruments
from brokercloud.market.sessions import TAIWAN
from brokercloud.shutdown import stop_on_signals

log = logging.getLogger("brokercloud.platform")

DEMO_PASSWORD = "demo-password"
DEMO_BROKERS = (("9A00", "Alpha Securities"), ("9B00", "Beta Securities"),
                ("9C00", "Gamma Securities"))
MARKET_ORDERS_PER_S = 20  # the simulated other members' flow into the exchange
LAST_PRICES_S = 5.0  # marking waits this long for the market data's last prices


class ServeOptions(msgspec.Struct, frozen=True):
    data_dir: str = "brokercloud-data"
    host: str = "127.0.0.1"
    http_port: int = 8000
    seed: int = 1
    lines_per_broker: int = 2


def demo_reference(now_ms: int) -> list[c.Cmd]:
    """Three brokers with two branches each, investors with holdings, and the instruments."""
    commands: list[c.Cmd] = [
        c.ListInstrument(at=now_ms, instrument=item.instrument, reference=item.reference,
                         previous_close=item.reference) for item in demo_instruments()]
    for n, (broker, name) in enumerate(DEMO_BROKERS):
        commands += [c.AddBroker(at=now_ms, broker=broker, name=name,
                                 approval_bands=[(5_000_000, 1), (20_000_000, 2)]),
                     c.AddBranch(at=now_ms, broker=broker, branch="001", name="Head office"),
                     c.AddBranch(at=now_ms, broker=broker, branch="002", name="Taichung")]
        for i in range(1, 4):
            account = f"{n + 1}{i:07d}"
            commands += [c.OpenAccount(at=now_ms, account=account, broker=broker,
                                       branch="001", name=f"Investor {account}",
                                       margin=i == 1, trading_limit=10_000_000,
                                       credit_limit=5_000_000 if i == 1 else 0),
                         c.SetHolding(at=now_ms, account=account, symbol="2330", shares=5_000),
                         c.SetHolding(at=now_ms, account=account, symbol="0050", shares=10_000)]
    return commands


def demo_users() -> list[User]:
    users = [User(user_id="operator", broker="", role=c.Role.OPERATOR)]
    for n, (broker, _) in enumerate(DEMO_BROKERS):
        accounts = tuple(f"{n + 1}{i:07d}" for i in range(1, 4))
        key = broker.lower()
        users += [
            User(user_id=f"{key}-investor", broker=broker, role=c.Role.INVESTOR,
                 accounts=accounts[:1]),
            User(user_id=f"{key}-sales", broker=broker, role=c.Role.SALESPERSON,
                 branch="001", accounts=accounts),
            User(user_id=f"{key}-clerk", broker=broker, role=c.Role.CLERK, branch="001"),
            # no branch: the head office's supervisor oversees every branch of the broker
            User(user_id=f"{key}-supervisor", broker=broker, role=c.Role.SUPERVISOR, level=2),
            User(user_id=f"{key}-admin", broker=broker, role=c.Role.BROKER_ADMIN),
            User(user_id=f"{key}-dma", broker=broker, role=c.Role.DMA_CLIENT,
                 accounts=accounts[1:]),
        ]
    return users


def _staff_commands(now_ms: int) -> list[c.Cmd]:
    return [c.AddStaff(at=now_ms, broker=user.broker, user=user.user_id, role=user.role,
                       branch=user.branch, level=user.level)
            for user in demo_users() if user.role is c.Role.SUPERVISOR]


def demo_certificates(data: Path, now: datetime.datetime) -> CertificateAuthority:
    """The platform's certificate authority, and for each demo investor a key and a certificate
    in ``keys/`` (what the investor's own software would hold), made once."""
    directory = data / "ca"
    ca = (CertificateAuthority.load(directory) if (directory / "ca-cert.pem").exists()
          else CertificateAuthority.create(directory, now))
    keys = data / "keys"
    keys.mkdir(exist_ok=True)
    for user in demo_users():
        if user.role is not c.Role.INVESTOR or (keys / f"{user.user_id}.pem").exists():
            continue
        key = generate_key()
        account = user.accounts[0]
        certificate = ca.issue(make_csr(key, account), broker=user.broker, account=account,
                               now=now)
        (keys / f"{user.user_id}.crt").write_bytes(certificate)
        save_key(key, keys / f"{user.user_id}.pem")
    return ca


async def _quotes(hub: EventHub, host: str, md_port: int) -> None:
    """The exchange's market data into the AP server's streams, for whoever subscribed: the
    feed follows a symbol from the first time a session asks for it."""
    feed = await MarketDataClient.connect(host, md_port)
    asking = asyncio.create_task(_follow_asked(feed, hub))
    encoder = msgspec.json.Encoder()
    try:
        while True:
            message = await feed.receive()
            if isinstance(message, FeedQuote):  # snapshots too (a subclass)
                hub.publish_quote(message.symbol, encoder.encode(message))
    finally:
        asking.cancel()


async def _follow_asked(feed: MarketDataClient, hub: EventHub) -> None:
    while True:
        await feed.subscribe(await hub.quotes_asked.get())


#: How late an overdue approval may leave the supervisors' queue (one journaled command each).
EXPIRE_APPROVALS_EVERY_S = 5.0
MARK_PRICES_EVERY_S = 60.0  # margin maintenance ratios follow the market this closely


async def serve_platform(options: ServeOptions, console: Console | None = None) -> None:
    console = console or Console()
    data = Path(options.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    registry = demo_registry([broker for broker, _ in DEMO_BROKERS], options.lines_per_broker)
    now_ms = _now_ms()
    core = Core(data / "core")
    fresh = not core.state.brokers
    if fresh:
        core.execute(demo_reference(now_ms) + _staff_commands(now_ms))
    # the platform's argon2id parameters (``gateway.passwords``), not argon2-cffi's heavier
    # defaults; hashes made with other parameters are upgraded at their next login
    identities = IdentityStore(data / "identities.db")
    for user in demo_users():
        if identities.get(user.user_id) is None:
            await identities.add_user_async(user, DEMO_PASSWORD)
    ca = demo_certificates(data, datetime.datetime.now(datetime.UTC))
    office, feed = _open_back_office(data, core, fresh)
    nonces = NonceStore(data / "nonces.db")
    stop = stop_on_signals()
    try:
        async with exchange_process(_exchange_options(options)) as exchange:
            lines = [LineConfig(line.line, line.password, line.brokers) for line in registry.lines]
            usage = LineUsage(specs_of(lines))  # counted by the pool, read by the operator

            async def start_lines(sequencer: Sequencer) -> Callable[[], Awaitable[None]]:
                pool = LinePool(sequencer, lines, open_database(data / "lines.db"), options.host,
                                exchange.fix_port, usage=usage)
                await pool.start()
                await start_day(office, sequencer, _taiwan_today(), _now_ms())
                timers = [
                    asyncio.create_task(start_days_forever(office, sequencer, _taiwan_today,
                                                           _now_ms)),
                    asyncio.create_task(mark_prices_forever(
                        office, sequencer, _taiwan_today,
                        lambda: _last_prices(core, options.host, exchange.md_port),
                        _now_ms, MARK_PRICES_EVERY_S))]

                async def stop() -> None:
                    for timer in timers:
                        timer.cancel()
                    await pool.stop()
                return stop

            app = create_app(core, identities, listeners=[feed], on_start=start_lines, ca=ca,
                             nonces=nonces, line_usage=usage,
                             expire_approvals_every_s=EXPIRE_APPROVALS_EVERY_S,
                             back_office=office)
            booking = asyncio.create_task(feed.run())
            quotes = asyncio.create_task(_quotes(app.state.hub, options.host, exchange.md_port))
            server = uvicorn.Server(uvicorn.Config(app, host=options.host, port=options.http_port,
                                                   log_level="warning", lifespan="on",
                                                   ws_per_message_deflate=False,
                                                   # loopback, no proxy in front; a log line
                                                   # and a middleware layer per request less
                                                   access_log=False, proxy_headers=False,
                                                   timeout_graceful_shutdown=5))
            serving = asyncio.create_task(server.serve())
            while not server.started and not serving.done():
                await asyncio.sleep(0.05)
            port = server.servers[0].sockets[0].getsockname()[1] if server.servers else 0
            _announce(console, options, port, exchange)
            print("READY", port, exchange.fix_port, exchange.md_port, flush=True)
            await stop.wait()
            server.should_exit = True
            await serving
            quotes.cancel()
            booking.cancel()
            # finished before the exchange goes: its feed closing under a cancelled read could
            # otherwise end the quotes task with that error instead (logged as never retrieved)
            await asyncio.gather(quotes, booking, return_exceptions=True)
    finally:  # the exchange may not have started: the stores close all the same
        _close_stores(core, feed, office, nonces, identities)


#: What each demo investor's settlement bank account holds at first start: more than two
#: days of buying up to the demo's daily trading limit, so T+2 finds the money.
DEMO_BANK_BALANCE = 50_000_000


def _open_back_office(data: Path, core: Core, fresh: bool) -> tuple[BackOffice, CoreFeed]:
    """The back office, caught up with whatever the core decided while it was not listening;
    on the demo's first start, the investors' bank accounts are funded."""
    office = BackOffice(data / "backoffice")
    feed = CoreFeed(office, core.state)
    feed.catch_up()
    if fresh:
        today = _taiwan_today()
        office.execute([b.Deposit(account=account, amount=DEMO_BANK_BALANCE, on=today)
                        for account in core.state.accounts])
    return office, feed


async def _last_prices(core: Core, host: str, md_port: int) -> dict[str, int]:
    """What margin accounts are valued at: each symbol's last regular-session trade on the
    exchange's market data, else the core's reference price."""
    prices = {symbol: listed.reference for symbol, listed in core.state.listed.items()}
    feed = await MarketDataClient.connect(host, md_port)
    try:
        prices.update(await asyncio.wait_for(feed.last_prices(list(prices)), LAST_PRICES_S))
    finally:
        await feed.close()
    return prices


def _exchange_options(options: ServeOptions) -> StandaloneOptions:
    """The demo's exchange: always trading (its clock opens at 09:00 and runs in real time),
    with the same demo lines as the pool's and other members trading."""
    return StandaloneOptions(
        data_dir=str(Path(options.data_dir) / "exchange"), host=options.host, fix_port=0,
        md_port=0, clock="simulated", speed=1.0, start="09:00", seed=options.seed,
        lines_per_broker=options.lines_per_broker, market_orders_per_s=MARKET_ORDERS_PER_S,
        log_level="WARNING")  # as quiet as the platform's own log


def _taiwan_today() -> datetime.date:
    return datetime.datetime.now(TAIWAN).date()


def _now_ms() -> int:
    return int(datetime.datetime.now().timestamp() * 1000)


def _close_stores(core: Core, feed: CoreFeed, office: BackOffice, nonces: NonceStore,
                  identities: IdentityStore) -> None:
    """After the servers stopped: book what the back office still holds, close every file,
    and snapshot the core and the back office, so the next start replays only what comes
    after."""
    feed.drain()
    office.snapshot()
    office.close()
    nonces.close()
    identities.close()
    core.snapshot()
    core.close()


def _announce(console: Console, options: ServeOptions, port: int,
              exchange: ExchangeEndpoints) -> None:
    console.print("[bold]brokercloud[/bold] is running (demo data; prices are illustrative)")
    console.print(f"  API:          http://{options.host}:{port}/api/v1  "
                  f"(docs: http://{options.host}:{port}/docs)")
    console.print(f"  exchange:     FIX 4.4 on {options.host}:{exchange.fix_port}, "
                  f"market data on {options.host}:{exchange.md_port}")
    console.print(f"  data:         {Path(options.data_dir).resolve()}")
    console.print(f"  demo logins (password '{DEMO_PASSWORD}'): operator, and for each of "
                  "9a00 / 9b00 / 9c00: <broker>-investor, -sales, -clerk, -supervisor, "
                  "-admin, -dma")
    console.print(f"  investors sign orders: keys and certificates in "
                  f"{Path(options.data_dir).resolve() / 'keys'}")


def serve(options: ServeOptions) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    try:
        uvloop.run(serve_platform(options))
    except ExchangeStartError as error:
        log.error("%s; nothing was started", error)
        return 1
    return 0
