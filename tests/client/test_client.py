"""The SDK and the ``brokercloud`` client commands against a real ``brokercloud serve`` on
loopback: one server for the whole module, since starting the platform takes seconds."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import pytest

from brokercloud.client import ApiError, AsyncClient, Client, Order, StreamClosedError
from brokercloud.client._common import API, Flows, make_signer
from brokercloud.codes import Code
from brokercloud.platform import DEMO_PASSWORD

INVESTOR, ACCOUNT = "9a00-investor", "10000001"
# 2412 trades near NT$125: a resting bid at NT$115 (inside the 10% band, on tick) stays open.
CHEAP, RESTING_PRICE = "2412", 11_500


class Platform:
    def __init__(self, data_dir: Path, url: str) -> None:
        self.data_dir, self.url = data_dir, url
        self.key = data_dir / "keys" / f"{INVESTOR}.pem"
        self.cert = data_dir / "keys" / f"{INVESTOR}.crt"

    def investor(self) -> Client:
        client = Client(self.url, key_file=self.key, certificate_file=self.cert)
        client.login(INVESTOR, DEMO_PASSWORD)
        return client


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data_dir = tmp_path_factory.mktemp("platform")
    process = subprocess.Popen(
        [sys.executable, "-m", "brokercloud.cli", "serve", "--data-dir", str(data_dir),
         "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert process.stdout is not None
    try:
        port = next(int(line.split()[1]) for line in process.stdout if line.startswith("READY"))
        yield Platform(data_dir, f"http://127.0.0.1:{port}")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def _until(api: Client, order_id: str, reached: Callable[[Order], bool]) -> Order:
    """The order once ``reached`` holds: the API answers once a request is journaled, the
    exchange's answer comes later."""
    deadline = time.monotonic() + 10
    while not reached(order := api.order(order_id)):
        assert time.monotonic() < deadline, f"never reached; now {order}"
        time.sleep(0.05)
    return order


def _settled(api: Client, order: Order) -> Order:
    """The order once the exchange has answered it."""
    return _until(api, order.order_id, lambda o: o.state not in {"pending_send", "sent"})


def test_signed_buy_reaches_the_exchange_and_is_listed(platform: Platform):
    with platform.investor() as api:
        placed = api.place_order(ACCOUNT, "2330", "buy", 1000, 108_500)
        assert placed.symbol == "2330" and placed.qty == 1000
        assert placed.client_ref.startswith("sdk-")
        settled = _settled(api, placed)
        assert settled.state in {"acknowledged", "partially_filled", "filled"}
        assert placed.order_id in [order.order_id for order in api.orders()]
        assert [o.order_id for o in api.orders(ACCOUNT)] == [o.order_id for o in api.orders()]
        fills = api.fills()
        assert sum(f.qty for f in fills if f.order_id == placed.order_id) == settled.cum_qty


def test_the_same_client_ref_is_the_same_order(platform: Platform):
    with platform.investor() as api:
        first = api.place_order(ACCOUNT, CHEAP, "buy", 1000, RESTING_PRICE, client_ref="twice")
        again = api.place_order(ACCOUNT, CHEAP, "buy", 1000, RESTING_PRICE, client_ref="twice")
        assert again.order_id == first.order_id
        api.cancel(first.order_id)


def test_signed_amends_and_cancel_of_a_resting_order_reach_the_exchange(platform: Platform):
    with platform.investor() as api:
        placed = _settled(api, api.place_order(ACCOUNT, CHEAP, "buy", 2000, RESTING_PRICE))
        assert placed.state == "acknowledged"
        api.amend(placed.order_id, qty=1000)  # the SDK looks the order's account up to sign
        _until(api, placed.order_id, lambda order: order.qty == 1000)
        api.amend(placed.order_id, price=RESTING_PRICE - 50, account=ACCOUNT)
        _until(api, placed.order_id, lambda order: order.price == RESTING_PRICE - 50)
        api.cancel(placed.order_id, account=ACCOUNT)
        _until(api, placed.order_id, lambda order: order.state == "cancelled")


def test_unsigned_investor_cancel_and_amend_are_refused(platform: Platform):
    with platform.investor() as signed, Client(platform.url) as unsigned:
        unsigned.login(INVESTOR, DEMO_PASSWORD)
        placed = _settled(signed, signed.place_order(ACCOUNT, CHEAP, "buy", 2000,
                                                     RESTING_PRICE))
        for attempt in (lambda: unsigned.cancel(placed.order_id),
                        lambda: unsigned.amend(placed.order_id, qty=1000)):
            with pytest.raises(ApiError) as refused:
                attempt()
            assert (refused.value.status, refused.value.code) == (403, Code.SIGNATURE_MISSING)
        assert signed.order(placed.order_id).qty == 2000
        signed.cancel(placed.order_id)


def test_a_signed_request_sent_twice_is_one_order_and_its_nonce_is_spent(platform: Platform):
    with platform.investor() as api:
        flows = Flows(api.token, make_signer(platform.key, platform.cert))
        call = next(flows.place_order(ACCOUNT, CHEAP, "buy", 1000, RESTING_PRICE))
        url = f"{platform.url}{API}{call.path}"
        answers = [httpx2.post(url, json=call.json, headers=flows.headers()) for _ in range(2)]
        assert [answer.status_code for answer in answers] == [201, 201]
        assert answers[0].json()["order_id"] == answers[1].json()["order_id"]
        other = httpx2.post(url, json={**call.json, "qty": 2000}, headers=flows.headers())
        assert (other.status_code, other.json()["code"]) == (403, Code.NONCE_REPLAYED)
        mine = [o for o in api.orders() if o.client_ref == call.json["client_ref"]]
        assert len(mine) == 1
        api.cancel(mine[0].order_id)


def test_refusals_raise_api_error_with_the_platform_code(platform: Platform):
    with platform.investor() as api:
        with pytest.raises(ApiError) as refused:
            api.place_order(ACCOUNT, "2330", "buy", 1000, 108_501)
        assert (refused.value.status, refused.value.code) == (422, Code.PRICE_NOT_ON_TICK)
        assert refused.value.message
    with Client(platform.url) as unsigned:
        unsigned.login(INVESTOR, DEMO_PASSWORD)
        with pytest.raises(ApiError) as refused:
            unsigned.place_order(ACCOUNT, "2330", "buy", 1000, 108_500)
        assert refused.value.status == 403
    with Client(platform.url) as api, pytest.raises(ApiError) as refused:
        api.login(INVESTOR, "wrong")
    assert refused.value.status == 401


def test_another_broker_sees_nothing(platform: Platform):
    with platform.investor() as api:
        mine = api.place_order(ACCOUNT, CHEAP, "buy", 1000, RESTING_PRICE)
        api.cancel(mine.order_id)
    with Client(platform.url) as other:
        other.login("9b00-investor", DEMO_PASSWORD)
        assert other.orders() == [] and other.fills() == []
        with pytest.raises(ApiError) as refused:
            other.order(mine.order_id)
        assert refused.value.code == Code.FORBIDDEN
        with pytest.raises(ApiError):
            other.cancel(mine.order_id)


def test_logout_ends_the_session(platform: Platform):
    api = platform.investor()
    api.logout()
    with pytest.raises(ApiError) as refused:
        api.orders()
    assert refused.value.status == 401
    api.close()


def test_async_client(platform: Platform):
    async def scenario() -> tuple[list[Order], list[Order]]:
        async with AsyncClient(platform.url, key_file=platform.key,
                               certificate_file=platform.cert) as api:
            await api.login(INVESTOR, DEMO_PASSWORD)
            placed = await api.place_order(ACCOUNT, CHEAP, "buy", 2000, RESTING_PRICE)
            while (await api.order(placed.order_id)).state != "acknowledged":
                await asyncio.sleep(0.05)
            await api.amend(placed.order_id, qty=1000, account=ACCOUNT)
            await api.cancel(placed.order_id)
            assert (await api.order(placed.order_id)).order_id == placed.order_id
            return [placed], await api.orders()

    placed, listed = asyncio.run(scenario())
    assert placed[0].order_id in [order.order_id for order in listed]


def test_stream_delivers_live_events_and_refuses_a_stale_resume(platform: Platform):
    pytest.importorskip("wsproto", reason="httpx2's WebSockets (and uvicorn's) need wsproto")

    async def scenario() -> dict:
        async with AsyncClient(platform.url, key_file=platform.key,
                               certificate_file=platform.cert) as api:
            await api.login(INVESTOR, DEMO_PASSWORD)
            logged = await api.place_order(ACCOUNT, CHEAP, "buy", 1000, RESTING_PRICE)
            await api.cancel(logged.order_id)  # the server's log holds events from here on
            with pytest.raises(StreamClosedError) as closed:
                async for _ in api.stream(resume_after=0):  # older than the server keeps
                    pass
            assert closed.value.code == 1013

            async def first_event() -> dict:
                async with contextlib.aclosing(api.stream()) as events:
                    async for event in events:
                        if event["type"] != "NetAmount":  # state pushes carry no seq
                            return event
                raise AssertionError("the stream ended")

            first = asyncio.ensure_future(first_event())
            await asyncio.sleep(0.5)  # connected and subscribed
            placed = await api.place_order(ACCOUNT, CHEAP, "buy", 1000, RESTING_PRICE)
            event = await asyncio.wait_for(first, 10)
            await api.cancel(placed.order_id)
            return event

    event = asyncio.run(scenario())
    assert event["seq"] > 0


def test_supervisor_sees_approvals(platform: Platform):
    with Client(platform.url) as supervisor:
        supervisor.login("9a00-supervisor", DEMO_PASSWORD)
        assert isinstance(supervisor.approvals(), list)


def _cli(config: Path, *args: str, columns: int = 200) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "brokercloud.cli", *args], check=False,
                          text=True, capture_output=True, timeout=30,
                          env={**os.environ, "BROKERCLOUD_CONFIG": str(config),
                               "COLUMNS": str(columns)})


def test_cli_login_order_orders_amend_cancel_signed_with_the_remembered_key(
        platform: Platform, tmp_path: Path):
    config = tmp_path / "session.json"
    assert _cli(config, "orders").returncode == 1  # not logged in yet
    login = _cli(config, "login", INVESTOR, "--url", platform.url, "--password", DEMO_PASSWORD,
                 "--key", str(platform.key), "--cert", str(platform.cert))
    assert login.returncode == 0, login.stderr
    assert config.stat().st_mode & 0o777 == 0o600
    saved = json.loads(config.read_text())
    assert (saved["key"], saved["cert"]) == (str(platform.key.resolve()),
                                             str(platform.cert.resolve()))
    with Client(platform.url, token=saved["token"]) as api:
        before = {order.order_id for order in api.orders()}
        placed = _cli(config, "order", "buy", CHEAP, "2", "--price", "115", "--account",
                      ACCOUNT)
        assert placed.returncode == 0, placed.stderr
        (new,) = [order for order in api.orders() if order.order_id not in before]
        assert (new.qty, new.price) == (2000, 11_500)
        order_id = new.order_id
        listing = _cli(config, "orders")
        assert listing.returncode == 0 and order_id in listing.stdout
        narrow = _cli(config, "orders", columns=80)  # IDs are copied to cancel: never cut
        assert narrow.returncode == 0 and order_id in narrow.stdout, narrow.stdout
        _until(api, order_id, lambda order: order.state == "acknowledged")
        amended = _cli(config, "amend", order_id, "--lots", "1")
        assert amended.returncode == 0, amended.stderr
        _until(api, order_id, lambda order: order.qty == 1000)
        repriced = _cli(config, "amend", order_id, "--price", "114.5", "--account", ACCOUNT)
        assert repriced.returncode == 0, repriced.stderr
        _until(api, order_id, lambda order: order.price == 11_450)
        cancelled = _cli(config, "cancel", order_id)
        assert cancelled.returncode == 0, cancelled.stderr
        _until(api, order_id, lambda order: order.state == "cancelled")
    assert _cli(config, "fills").returncode == 0
    assert _cli(config, "amend", order_id).returncode == 2  # neither --lots nor --price
    for bad, says in ((("--lots", "0"), "lots must be positive"),
                      (("--price", "abc"), "not a price"),
                      (("--lots", "1"), str(int(Code.ORDER_NOT_AMENDABLE)))):  # cancelled
        refused = _cli(config, "amend", order_id, *bad)
        assert refused.returncode == 1 and says in refused.stderr, refused.stderr
    refused = _cli(config, "order", "buy", "2330", "1", "--price", "1085.01", "--account",
                   ACCOUNT)
    assert refused.returncode == 1 and "1002" in refused.stderr
    with Client(platform.url, token=saved["token"]) as api:  # one account: no need to name it
        before = {order.order_id for order in api.orders()}
        placed = _cli(config, "order", "buy", CHEAP, "1", "--price", "115")
        assert placed.returncode == 0, placed.stderr
        assert [order.account for order in api.orders()
                if order.order_id not in before] == [ACCOUNT]
    sales = tmp_path / "sales.json"
    assert _cli(sales, "login", "9a00-sales", "--url", platform.url, "--password",
                DEMO_PASSWORD).returncode == 0
    unnamed = _cli(sales, "order", "buy", CHEAP, "1", "--price", "115")
    assert unnamed.returncode == 1 and "name the account with --account" in unnamed.stderr


def test_cli_when_logged_in_without_a_key_then_investor_cancel_refused_unsigned(
        platform: Platform, tmp_path: Path):
    config = tmp_path / "session.json"
    assert _cli(config, "login", INVESTOR, "--url", platform.url, "--password",
                DEMO_PASSWORD).returncode == 0
    with platform.investor() as api:
        order_id = api.place_order(ACCOUNT, CHEAP, "buy", 1000, RESTING_PRICE).order_id
        refused = _cli(config, "cancel", order_id)
        assert refused.returncode == 1 and str(int(Code.SIGNATURE_MISSING)) in refused.stderr
        signed = _cli(config, "cancel", order_id, "--key", str(platform.key), "--cert",
                      str(platform.cert))
        assert signed.returncode == 0, signed.stderr
    half = _cli(config, "login", INVESTOR, "--url", platform.url, "--password", DEMO_PASSWORD,
                "--key", str(platform.key))
    assert half.returncode == 1 and "--cert" in half.stderr


def _by_hand(api: Client) -> tuple[list[int], int]:
    """The account's fills (cash, board lots of a stock) and their net worked out here:
    commission 0.1425% truncated (at least NT$20), tax 0.3% on sells."""
    sides = {order.order_id: order.side.name for order in api.orders(ACCOUNT)}
    net = 0
    for fill in api.fills(ACCOUNT):
        value = fill.price * fill.qty // 100
        commission = max(value * 1_425 // 1_000_000, 20)
        net += (value - commission - value * 3 // 1_000 if sides[fill.order_id] == "SELL"
                else -value - commission)
    return sorted(fill.qty for fill in api.fills(ACCOUNT)), net


def test_settlements_match_the_fills_by_hand_and_the_cli_prints_them(platform: Platform,
                                                                     tmp_path: Path):
    with platform.investor() as api:
        # our own sell then our own buy at one price: one of them fills, whoever else trades
        api.place_order(ACCOUNT, "2330", "sell", 1000, 108_500)
        _settled(api, api.place_order(ACCOUNT, "2330", "buy", 1000, 108_500))
        deadline = time.monotonic() + 10
        while True:  # the back office books off the order path: wait until it caught up
            fills, net = _by_hand(api)
            result = api.settlements(ACCOUNT)
            if fills and sum(a.fills for a in result.amounts) == len(fills) and (
                    _by_hand(api) == (fills, net)):
                break
            assert time.monotonic() < deadline, (fills, result)
            time.sleep(0.1)
        [amount] = result.amounts
        [total] = result.totals
        assert (amount.account, amount.net, amount.receivable - amount.payable) == (
            ACCOUNT, net, net)
        assert (total.net, total.accounts, total.fills) == (net, 1, len(fills))
        assert (amount.settle_date - amount.trade_date).days >= 2
    config = tmp_path / "session.json"
    assert _cli(config, "login", "9a00-sales", "--url", platform.url, "--password",
                DEMO_PASSWORD).returncode == 0
    with platform.investor() as api:
        for _ in range(5):  # resting orders may fill meanwhile: compare with the net right after
            listing = _cli(config, "settlements")
            assert listing.returncode == 0, listing.stderr
            [now] = api.settlements(ACCOUNT).amounts
            if f"{now.net:,}" in listing.stdout:
                break
        else:
            raise AssertionError(listing.stdout)
    assert ACCOUNT in listing.stdout
    assert "accounts)" in listing.stdout  # the salesperson's net across its customers
    refused = _cli(config, "settlements", "--account", "20000001")  # another broker's
    assert refused.returncode == 1 and str(int(Code.FORBIDDEN)) in refused.stderr


def test_async_settlements_refused_for_a_clerk(platform: Platform):
    async def scenario() -> int:
        async with AsyncClient(platform.url) as api:
            await api.login("9a00-clerk", DEMO_PASSWORD)
            with pytest.raises(ApiError) as refused:
                await api.settlements()
            return refused.value.code

    assert asyncio.run(scenario()) == Code.FORBIDDEN


def test_stream_pushes_the_net_amount_after_a_fill_under_serve(platform: Platform):
    pytest.importorskip("wsproto", reason="httpx2's WebSockets (and uvicorn's) need wsproto")

    async def scenario() -> tuple[dict, list]:
        async with AsyncClient(platform.url, key_file=platform.key,
                               certificate_file=platform.cert) as api:
            await api.login(INVESTOR, DEMO_PASSWORD)

            async def first_net() -> dict:
                async with contextlib.aclosing(api.stream()) as events:
                    async for event in events:
                        if event["type"] == "NetAmount":
                            return event
                raise AssertionError("the stream ended")

            net = asyncio.ensure_future(first_net())
            await asyncio.sleep(0.5)  # connected and subscribed
            await api.place_order(ACCOUNT, "2330", "sell", 1000, 108_500)
            await api.place_order(ACCOUNT, "2330", "buy", 1000, 108_500)  # one of them fills
            pushed = await asyncio.wait_for(net, 10)
            return pushed, (await api.settlements(ACCOUNT)).amounts

    pushed, amounts = asyncio.run(scenario())
    assert (pushed["broker"], pushed["account"]) == ("9A00", ACCOUNT)
    assert pushed["net"] == pushed["receivable"] - pushed["payable"] and pushed["fills"] >= 1
    [now] = [a for a in amounts if a.trade_date.isoformat() == pushed["trade_date"]]
    assert now.fills >= pushed["fills"]  # the route shows that booking, or a later one


def test_positions_from_the_sdks_and_the_cli_agree_and_stay_the_callers(
        platform: Platform, tmp_path: Path):
    """Earlier tests' resting orders may fill at any moment (the simulated market trades), so
    the three readings agree on what is held, and each is consistent in itself."""
    with platform.investor() as api:
        positions = api.positions()

        async def from_async() -> list[tuple[str, str]]:
            async with AsyncClient(platform.url) as aapi:
                await aapi.login(INVESTOR, DEMO_PASSWORD)
                return [(p.account, p.symbol) for p in await aapi.positions()]

        assert asyncio.run(from_async()) == [(p.account, p.symbol) for p in positions]
    assert positions and {p.account for p in positions} == {ACCOUNT}  # the demo's holdings
    assert all(p.position == p.holding + p.bought - p.sold for p in positions)
    with Client(platform.url) as other:
        other.login("9b00-investor", DEMO_PASSWORD)
        assert ACCOUNT not in {p.account for p in other.positions()}
        with pytest.raises(ApiError) as refused:
            other.positions(ACCOUNT)
        assert refused.value.status == 403
    config = tmp_path / "session.json"
    assert _cli(config, "login", INVESTOR, "--url", platform.url, "--password",
                DEMO_PASSWORD).returncode == 0
    shown = _cli(config, "positions")
    assert shown.returncode == 0, shown.stderr
    for position in positions:
        assert position.symbol in shown.stdout and f"{position.holding:,}" in shown.stdout


class AnswerLost:
    """A TCP relay to the platform that loses the first answer: it passes the first request
    on, waits until the server has answered (the order exists), then hangs up. Later
    connections are relayed whole. It runs its own event loop on a thread, since the client
    under test blocks."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.connections = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def __enter__(self) -> AnswerLost:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(5)
        return self

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        self._writers += [writer, up_writer]
        if self.connections == 1:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            up_writer.write(head + await reader.readexactly(length))
            await up_reader.read(1)  # the platform answered: the order is in the core
            writer.close()
            up_writer.close()
            self._tasks.discard(task)
            return

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer),
                             return_exceptions=True)
        self._tasks.discard(task)


def test_place_order_when_the_answer_is_lost_then_retried_and_still_one_order(
        platform: Platform):
    """The SDK sends a signed order again when its answer is lost; the platform answers the
    repeat with the first order (same client ref, same nonce), never a second order."""
    with platform.investor() as api:
        port = int(platform.url.rsplit(":", 1)[1])
        with AnswerLost(port) as relay, Client(
                f"http://127.0.0.1:{relay.port}", token=api.token, key_file=platform.key,
                certificate_file=platform.cert) as lossy:
            order = lossy.place_order(ACCOUNT, CHEAP, "buy", 1000, RESTING_PRICE,
                                      client_ref="lost-answer")
        assert relay.connections == 2  # the first answer was lost, the retry got one
        assert [o.order_id for o in api.orders() if o.client_ref == "lost-answer"] == [
            order.order_id]


def test_a_stream_the_client_closes_is_gone_at_once_under_serve(platform: Platform):
    """A quiet session's close is seen without an event to send it (uvicorn tells the
    request reader, not the sender)."""
    websockets = pytest.importorskip("websockets")

    def token(user: str) -> str:
        answer = httpx2.post(f"{platform.url}/api/v1/sessions",
                             json={"user_id": user, "password": DEMO_PASSWORD})
        return answer.json()["token"]

    operator = {"Authorization": f"Bearer {token('operator')}"}

    def sessions() -> int:
        usage = httpx2.get(f"{platform.url}/api/v1/platform/brokers", headers=operator).json()
        return next(u["stream_sessions"] for u in usage if u["broker"] == "9C00")

    def until(count: int) -> int:
        deadline = time.monotonic() + 5
        while (now := sessions()) != count and time.monotonic() < deadline:
            time.sleep(0.02)
        return now

    async def open_and_close(before: int) -> tuple[int, int]:
        url = platform.url.replace("http", "ws") + f"/api/v1/stream?token={token('9c00-clerk')}"
        async with websockets.connect(url):
            opened = await asyncio.to_thread(until, before + 1)
        return opened, await asyncio.to_thread(until, before)

    before = sessions()
    assert asyncio.run(open_and_close(before)) == (before + 1, before)
