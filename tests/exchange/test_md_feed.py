"""The market-data feed end to end: a real ``running_exchange``, subscribers over loopback TCP
(``MarketDataClient`` and hand-written connections), orders sent over FIX to move the market.
Also the ``brokercloud exchange`` command as a subprocess.

TSMC (2330) at NT$74.70, tick 0.10; the simulated clock starts at 09:00:01 (continuous trading).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from brokercloud.exchange.clock import SimulatedClock
from brokercloud.exchange.md_feed import (
    FeedHeartbeat,
    FeedQuote,
    FeedSnapshot,
    FeedTrade,
    MarketDataClient,
)
from brokercloud.exchange.server import ExchangeConfig, RunningExchange, running_exchange

from .test_fix_gateway import (
    BUY,
    DAY,
    LISTINGS,
    SELL,
    SHARED,
    START,
    SYMBOL,
    WAIT,
    Client,
    eventually,
    exchange,
    logged_on,
    order,
    registry,
    run,
    vals,
)

HOST = "127.0.0.1"


@contextlib.asynccontextmanager
async def subscriber(port: int, *symbols: str) -> AsyncIterator[MarketDataClient]:
    client = await MarketDataClient.connect(HOST, port)
    try:
        if symbols:
            await client.subscribe(*symbols)
        yield client
    finally:
        await client.close()


async def receive(client: MarketDataClient) -> Any:
    return await asyncio.wait_for(client.receive(), WAIT)


def state(quote: FeedQuote) -> tuple[Any, ...]:
    """What a quote says about the market (not how it was delivered)."""
    return (quote.symbol, quote.seq, quote.time, quote.bids, quote.asks, quote.last_price,
            quote.volume, quote.indicative_price, quote.indicative_volume)


class Raw:
    """A feed connection whose every byte the test writes, reading one JSON line at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def send(self, line: bytes) -> None:
        self.writer.write(line)
        await self.writer.drain()

    async def line(self) -> dict[str, Any]:
        data = await asyncio.wait_for(self.reader.readline(), WAIT)
        assert data.endswith(b"\n"), data
        decoded: dict[str, Any] = json.loads(data)
        return decoded

    async def closed(self) -> bool:
        return await asyncio.wait_for(self.reader.read(), WAIT) == b""


@contextlib.asynccontextmanager
async def raw(port: int) -> AsyncIterator[Raw]:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        yield Raw(reader, writer)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


# -- subscribing -----------------------------------------------------------------------------------


def test_subscribe_gets_a_snapshot_then_quotes_and_trades_in_sequence(tmp_path: Path) -> None:
    async def main() -> None:
        async with exchange(tmp_path / "exchange") as ex, \
                logged_on(tmp_path, SHARED, ex.fix_port) as member, \
                subscriber(ex.md_port, SYMBOL) as md:
            snapshot = await receive(md)
            assert type(snapshot) is FeedSnapshot
            assert (snapshot.symbol, snapshot.seq, snapshot.bids, snapshot.asks,
                    snapshot.last_price, snapshot.volume) == (SYMBOL, 1, [], [], 0, 0)

            member.send(b"D", order("C1", BUY, "74.70", 2000))
            member.send(b"D", order("C2", BUY, "74.60", 1000))
            member.send(b"D", order("C3", SELL, "74.90", 3000))
            member.send(b"D", order("C4", SELL, "74.70", 1000))
            messages = [await receive(md) for _ in range(5)]
            assert [(type(m), m.seq) for m in messages] == [
                (FeedQuote, 2), (FeedQuote, 3), (FeedQuote, 4), (FeedTrade, 5), (FeedQuote, 6)]
            assert [(m.bids, m.asks, m.last_price, m.volume) for m in messages[:3]] == [
                ([(7470, 2000)], [], 0, 0),
                ([(7470, 2000), (7460, 1000)], [], 0, 0),
                ([(7470, 2000), (7460, 1000)], [(7490, 3000)], 0, 0)]
            trade, quote = messages[3], messages[4]
            assert (trade.symbol, trade.price, trade.qty) == (SYMBOL, 7470, 1000)
            assert (quote.bids, quote.asks, quote.last_price, quote.volume) == (
                [(7470, 1000), (7460, 1000)], [(7490, 3000)], 7470, 1000)
            assert trade.time == quote.time >= messages[2].time >= snapshot.time
            assert md.trades == [trade]
            assert md.quotes[SYMBOL] is quote
            assert md.expected == {SYMBOL: 7} and md.gaps == 0
            assert ex.feed.dropped == 0
    run(main())


def test_last_prices_are_the_last_trades_and_leave_out_untraded_and_unknown_symbols(
        tmp_path: Path) -> None:
    async def main() -> None:
        async with exchange(tmp_path / "exchange") as ex, \
                logged_on(tmp_path, SHARED, ex.fix_port) as member:
            async with subscriber(ex.md_port) as md:
                assert await asyncio.wait_for(md.last_prices([SYMBOL, "9999"]), WAIT) == {}
            member.send(b"D", order("C1", BUY, "74.70", 1000))
            member.send(b"D", order("C2", SELL, "74.70", 1000))
            await member.report("C2", "F")
            member.send(b"D", order("C3", BUY, "74.50", 1000))  # a quote, not a trade
            await member.report("C3", "0")
            async with subscriber(ex.md_port) as md:
                assert await asyncio.wait_for(md.last_prices([SYMBOL, "9999"]), WAIT) == {
                    SYMBOL: 7470}
    run(main())


def test_a_subscriber_joining_mid_day_gets_the_current_state(tmp_path: Path) -> None:
    async def main() -> None:
        async with exchange(tmp_path / "exchange") as ex, \
                logged_on(tmp_path, SHARED, ex.fix_port) as member, \
                subscriber(ex.md_port, SYMBOL) as early:
            await receive(early)
            member.send(b"D", order("C1", BUY, "74.70", 3000))
            member.send(b"D", order("C2", SELL, "74.70", 1000))
            member.send(b"D", order("C3", SELL, "75.00", 2000))
            for _ in range(4):
                await receive(early)
            current = early.quotes[SYMBOL]
            assert (current.seq, current.bids, current.asks, current.last_price,
                    current.volume) == (5, [(7470, 2000)], [(7500, 2000)], 7470, 1000)

            async with subscriber(ex.md_port, SYMBOL) as late:
                snapshot = await receive(late)
                assert type(snapshot) is FeedSnapshot
                assert state(snapshot) == state(current)
                assert late.expected == {SYMBOL: 6} and late.trades == []
                # from here both see the same messages with the same numbers
                member.send(b"D", order("C4", SELL, "74.70", 2000))
                for client in (early, late):
                    trade, quote = await receive(client), await receive(client)
                    assert (type(trade), trade.seq, trade.qty) == (FeedTrade, 6, 2000)
                    assert (type(quote), quote.seq, quote.bids, quote.volume) == (
                        FeedQuote, 7, [], 3000)
                assert state(early.quotes[SYMBOL]) == state(late.quotes[SYMBOL])

            # an unsubscribed symbol sends nothing more; subscribing again resumes its numbers
            await early.request(op="unsubscribe", symbols=[SYMBOL])
            await asyncio.sleep(0.1)
            member.send(b"D", order("C5", BUY, "74.00"))
            await member.report("C5", "0")
            await early.subscribe(SYMBOL)
            again = await receive(early)
            assert (type(again), again.bids) == (FeedSnapshot, [(7400, 1000)])
            assert again.seq > 7
    run(main())


def test_unknown_symbols_and_malformed_requests_get_errors_and_the_connection_stays_usable(
        tmp_path: Path) -> None:
    async def main() -> None:
        async with exchange(tmp_path / "exchange") as ex, raw(ex.md_port) as conn:
            await conn.send(b'{"op": "subscribe", "symbols": ["9999"]}\n')
            assert await conn.line() == {"type": "error", "text": "unknown symbol '9999'",
                                         "symbol": "9999"}
            await conn.send(b"this is not json\n")
            error = await conn.line()
            assert error["type"] == "error" and error["text"].startswith("bad request: ")
            await conn.send(b'{"symbols": ["2330"]}\n')
            assert await conn.line() == {
                "type": "error", "text": "bad request: Object missing required field `op`"}
            await conn.send(b'{"op": "subscribe", "symbols": "2330"}\n')
            error = await conn.line()
            assert error["type"] == "error" and "Expected `array`" in error["text"]
            await conn.send(b'{"op": "dance"}\n')
            assert await conn.line() == {"type": "error", "text": "unknown op 'dance'"}
            await conn.send(b"\n")  # an empty line is no request either
            assert (await conn.line())["type"] == "error"

            # still usable: two requests in one write, one split across two
            await conn.send(b'{"op": "subscribe", "symbols": ["9999", "2330"]}\n{"op": "sna')
            assert await conn.line() == {"type": "error", "text": "unknown symbol '9999'",
                                         "symbol": "9999"}
            snapshot = await conn.line()
            assert (snapshot["type"], snapshot["symbol"], snapshot["seq"]) == ("snapshot",
                                                                               SYMBOL, 1)
            await conn.send(b'pshot", "symbol": "2330"}\n')
            assert await conn.line() == snapshot

            # a request line that never ends is refused and the connection closed
            async with raw(ex.md_port) as endless:
                await endless.send(b"{" + b" " * 5000)
                assert await endless.line() == {"type": "error",
                                                "text": "request line too long; closing"}
                assert await endless.closed()
    run(main())


def test_a_snapshot_request_without_a_subscription_is_never_stale(tmp_path: Path) -> None:
    async def main() -> None:
        async with exchange(tmp_path / "exchange") as ex, \
                logged_on(tmp_path, SHARED, ex.fix_port) as member, raw(ex.md_port) as conn:
            await conn.send(b'{"op": "snapshot", "symbol": "2330"}\n')
            assert await conn.line() == {"type": "error", "text": "no quote yet for '2330'",
                                         "symbol": "2330"}
            async with subscriber(ex.md_port, SYMBOL) as md:
                await receive(md)
                await conn.send(b'{"op": "snapshot", "symbol": "2330"}\n')
                assert (await conn.line())["seq"] == 1
            await eventually(lambda: not ex.feed._tokens)
            # nobody watches the book now: the feed cannot know the current quote
            member.send(b"D", order("C1", BUY, "74.70"))
            await member.report("C1", "0")
            await conn.send(b'{"op": "snapshot", "symbol": "2330"}\n')
            answer = await conn.line()
            assert answer == {"type": "error", "text": "no quote yet for '2330'", "symbol": "2330"}
    run(main())


# -- a subscriber that falls behind ----------------------------------------------------------------


async def slow_subscriber(running: RunningExchange) -> MarketDataClient:
    """A subscriber whose stalled reader backs up to the exchange's side after a few kilobytes,
    not megabytes: small socket buffers at both ends and a small stream buffer."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (HOST, running.md_port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
    client = MarketDataClient(reader, writer)
    await client.subscribe(SYMBOL)
    assert type(await receive(client)) is FeedSnapshot  # subscribed: the exchange knows it
    address = sock.getsockname()
    for connection in running.feed._clients[SYMBOL]:  # the exchange's end of this one
        assert connection.transport is not None
        theirs = connection.transport.get_extra_info("socket")
        if theirs.getpeername() == address:
            theirs.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    return client


async def follow(client: MarketDataClient) -> None:
    with contextlib.suppress(ConnectionError):
        while True:
            await client.receive()


def test_a_slow_subscriber_misses_messages_detects_the_gap_and_recovers_by_snapshot(
        tmp_path: Path) -> None:
    async def main() -> None:
        async with exchange(tmp_path / "exchange") as ex, \
                logged_on(tmp_path, SHARED, ex.fix_port) as member, \
                subscriber(ex.md_port, SYMBOL) as healthy:
            ex.feed.high_water = 1024
            slow = await slow_subscriber(ex)  # it stops reading after the snapshot
            try:
                healthy_reader = asyncio.create_task(follow(healthy))
                sent = 0
                prices = [f"{p / 100:.2f}" for p in range(7000, 7460, 10)]
                while ex.feed.dropped < 200:  # a few hundred quotes the slow one cannot take
                    assert sent < 2000, "the slow subscriber never backed up"
                    for i in range(50):
                        member.send(b"D", order(f"C{sent + i}", BUY, prices[(sent + i) % 46]))
                    sent += 50
                    await member.expect(sent, tag_150="0")  # lets the healthy one read
                await eventually(lambda: healthy.expected[SYMBOL] == ex.feed._seq[SYMBOL] + 1)
                assert healthy.gaps == 0

                slow_reader = asyncio.create_task(follow(slow))
                # the slow one catches up with what it was sent, then the next message shows
                # the gap; the market moves until it has recovered
                for i in range(50):
                    member.send(b"D", order(f"M{i}", SELL, "75.00"))
                    await asyncio.sleep(0.02)
                    if slow.gaps and slow.expected == healthy.expected \
                            and not slow._recovering:
                        break
                await eventually(lambda: slow.expected == healthy.expected
                                 and not slow._recovering)
                assert slow.gaps == 1
                assert state(slow.quotes[SYMBOL]) == state(healthy.quotes[SYMBOL])
                assert slow.quotes[SYMBOL].asks == [(7500, (i + 1) * 1000)]
                assert healthy.gaps == 0
                slow_reader.cancel()
                healthy_reader.cancel()
                await asyncio.gather(slow_reader, healthy_reader, return_exceptions=True)
            finally:
                await slow.close()
    run(main())


# -- the exchange going away -----------------------------------------------------------------------


def test_subscribers_are_disconnected_when_the_exchange_stops(tmp_path: Path) -> None:
    async def main() -> None:
        async with exchange(tmp_path / "exchange") as ex:
            md = await MarketDataClient.connect(HOST, ex.md_port)
            await md.subscribe(SYMBOL)
            await receive(md)
            idle = await MarketDataClient.connect(HOST, ex.md_port)  # never subscribed
        try:
            for client in (md, idle):
                try:
                    message = await receive(client)
                except ConnectionError:
                    continue
                raise AssertionError(f"expected the feed to close, got {message!r}")
        finally:
            await md.close()
            await idle.close()
    run(main())


# -- the command -----------------------------------------------------------------------------------


def test_brokercloud_exchange_command_serves_fix_and_market_data(tmp_path: Path) -> None:
    async def main() -> None:
        data_dir = tmp_path / "data"
        command = Path(sys.executable).with_name("brokercloud")
        with open(tmp_path / "stderr.txt", "wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                str(command), "exchange", "--fix-port", "0", "--md-port", "0",
                "--data-dir", str(data_dir), "--start", "09:00", "--speed", "1",
                "--trading-date", "2026-11-25", stdout=asyncio.subprocess.PIPE, stderr=stderr,
                env={**os.environ, "COLUMNS": "200"})
            try:
                assert process.stdout is not None
                ready: list[str] = []
                while not ready:
                    line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
                    assert line, (tmp_path / "stderr.txt").read_text()
                    if line.startswith("READY "):
                        ready = line.split()
                fix_port, md_port = int(ready[1]), int(ready[2])

                member = Client(tmp_path, "T9A00A0", password="pw-9A00-0")
                try:
                    await member.connect(fix_port)
                    member.send(b"D", order("C1", BUY, "1085.00", 2000))
                    ack = await member.report("C1", "0")
                    assert vals(ack, "128", "37", "39", "44", "151") == (
                        "9A00", "1", "0", "1085.00", "2000")
                    async with subscriber(md_port, "2330") as md:
                        snapshot = await receive(md)
                        assert (type(snapshot), snapshot.bids) == (FeedSnapshot,
                                                                   [(108500, 2000)])
                    await member.close()
                finally:
                    member.db.close()
                process.terminate()
                assert await asyncio.wait_for(process.wait(), 10) == 0
                assert (data_dir / "exchange.db").exists()
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
    run(main())



# -- liveness --------------------------------------------------------------------------------------


def test_a_quiet_connection_gets_heartbeats_and_a_dead_feed_is_detected(tmp_path: Path) -> None:
    """Nothing to say for a heartbeat interval: the feed says it is alive. A client that hears
    nothing at all for its silence limit gives up with an error rather than waiting forever."""
    async def main() -> None:
        config = ExchangeConfig(data_dir=str(tmp_path / "exchange"), md_heartbeat_s=0.2)
        async with running_exchange(config, registry(), LISTINGS,
                                    SimulatedClock(DAY, START)) as ex, raw(ex.md_port) as idle:
            started = asyncio.get_running_loop().time()
            assert await idle.line() == {"type": "heartbeat"}
            assert await idle.line() == {"type": "heartbeat"}
            assert asyncio.get_running_loop().time() - started < 0.2 * 2 + 0.15
            async with subscriber(ex.md_port, SYMBOL) as md:
                assert isinstance(await receive(md), FeedSnapshot)
                assert isinstance(await receive(md), FeedHeartbeat)  # the market is quiet

        hung_up = asyncio.Event()

        async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read()  # accepts requests, never answers
            writer.close()
            await writer.wait_closed()
            hung_up.set()

        server = await asyncio.start_server(mute, HOST, 0)
        silent = await MarketDataClient.connect(HOST, server.sockets[0].getsockname()[1],
                                                silence_s=0.2)
        try:
            await silent.subscribe(SYMBOL)
            try:
                await silent.receive()
            except ConnectionError as error:
                assert "silent for 0.2 s" in str(error)
            else:
                raise AssertionError("a silent feed was not detected")
        finally:
            await silent.close()
            await asyncio.wait_for(hung_up.wait(), WAIT)
            server.close()
            await server.wait_closed()
    run(main())
