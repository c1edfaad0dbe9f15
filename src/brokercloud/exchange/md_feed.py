"""Market data over TCP: a documented, simpler stream than FIX market data.

Newline-delimited JSON. A client sends ``{"op": "subscribe", "symbols": ["2330"]}``,
``{"op": "unsubscribe", "symbols": [...]}`` or ``{"op": "snapshot", "symbol": "2330"}``. The
server sends ``quote`` and ``trade`` messages, each with ``seq``: a per-symbol sequence number
that rises by one with every message for that symbol, and ``snapshot`` messages (the current
quote with the symbol's current ``seq``) on subscribe and on request; an ``error`` names the
``symbol`` when a subscription or snapshot for it was refused. A connection that has
been sent nothing for ``MD_HEARTBEAT_S`` gets a ``heartbeat``, so a subscriber can tell a quiet
market from a dead feed.

A client that falls behind is not allowed to slow the exchange: once its unsent bytes exceed
the high-water mark its messages are dropped, it sees a gap in ``seq``, asks for a snapshot and
continues from it. ``MarketDataClient`` does exactly that.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection

import msgspec

from brokercloud.exchange.engine import Exchange
from brokercloud.exchange.market_data import MarketDataMessage, Quote, Trade
from brokercloud.market.sessions import Session

log = logging.getLogger("brokercloud.exchange.md")

HIGH_WATER_BYTES = 256 * 1024
MD_HEARTBEAT_S = 5.0
MAX_REQUEST_BYTES = 4096


class Request(msgspec.Struct):
    op: str
    symbols: list[str] = []
    symbol: str = ""


class FeedQuote(msgspec.Struct, tag="quote"):
    symbol: str
    seq: int
    time: int
    bids: list[tuple[int, int]]
    asks: list[tuple[int, int]]
    last_price: int
    volume: int
    indicative_price: int = 0
    indicative_volume: int = 0


class FeedTrade(msgspec.Struct, tag="trade"):
    symbol: str
    seq: int
    time: int
    price: int
    qty: int


class FeedSnapshot(FeedQuote, tag="snapshot"):
    """The current quote with the symbol's current ``seq``: continue from ``seq + 1``."""


class FeedError(msgspec.Struct, tag="error", omit_defaults=True):
    text: str
    symbol: str = ""  # the symbol a refused subscription or snapshot asked for


class FeedHeartbeat(msgspec.Struct, tag="heartbeat"):
    """Nothing else was sent for a heartbeat interval: the feed is alive."""


FeedMessage = FeedQuote | FeedTrade | FeedSnapshot | FeedError | FeedHeartbeat
_HEARTBEAT_LINE = msgspec.json.encode(FeedHeartbeat()) + b"\n"
_encoder = msgspec.json.Encoder()


class MarketDataFeed:
    """Fans the exchange's regular-session quotes and trades out to TCP clients."""

    def __init__(self, exchange: Exchange, high_water: int = HIGH_WATER_BYTES,
                 heartbeat_s: float = MD_HEARTBEAT_S) -> None:
        self.exchange = exchange
        self.high_water = high_water
        self.heartbeat_s = heartbeat_s
        self._heartbeats: asyncio.Task[None] | None = None
        self._seq: dict[str, int] = {}
        self._latest: dict[str, Quote] = {}
        self._clients: dict[str, set[_FeedConnection]] = {}
        self._tokens: dict[str, int] = {}
        self._connections: set[_FeedConnection] = set()
        self.dropped = 0

    async def start(self, host: str, port: int) -> asyncio.Server:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _FeedConnection(self), host, port)
        self._heartbeats = asyncio.create_task(self._heartbeat_forever())
        return server

    async def _heartbeat_forever(self) -> None:
        """Checked at half the interval, so a silent connection hears from us within it."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.heartbeat_s / 2)
            quiet_since = loop.time() - self.heartbeat_s / 2
            for client in self._connections:
                if client.last_sent <= quiet_since:
                    client.write(_HEARTBEAT_LINE, force=True)

    def subscribe(self, client: _FeedConnection, symbol: str) -> None:
        if symbol not in self.exchange.listings:
            client.send(FeedError(f"unknown symbol {symbol!r}", symbol))
            return
        if symbol not in self._tokens:  # publishes the current quote: the snapshot's source
            self._tokens[symbol] = self.exchange.subscribe(
                symbol, self._publisher(symbol), Session.REGULAR)
        self._clients.setdefault(symbol, set()).add(client)
        self.snapshot(client, symbol)  # first, then the messages after it

    def unsubscribe(self, client: _FeedConnection, symbol: str) -> None:
        clients = self._clients.get(symbol)
        if clients is None:
            return
        clients.discard(client)
        if not clients:
            del self._clients[symbol]
            self.exchange.unsubscribe(self._tokens.pop(symbol))

    def snapshot(self, client: _FeedConnection, symbol: str) -> None:
        # the latest quote is current only while someone watches the book
        quote = self._latest.get(symbol) if symbol in self._tokens else None
        if quote is None:
            client.send(FeedError(f"no quote yet for {symbol!r}", symbol))
            return
        client.send(FeedSnapshot(symbol, self._seq.get(symbol, 0), quote.time, quote.bids,
                                 quote.asks, quote.last_price, quote.volume,
                                 quote.indicative_price, quote.indicative_volume))

    def _publisher(self, symbol: str) -> Callable[[MarketDataMessage], None]:
        def publish(message: MarketDataMessage) -> None:
            seq = self._seq.get(symbol, 0) + 1
            self._seq[symbol] = seq
            if isinstance(message, Trade):
                out: FeedMessage = FeedTrade(symbol, seq, message.time, message.price,
                                             message.qty)
            else:
                self._latest[symbol] = message
                out = FeedQuote(symbol, seq, message.time, message.bids, message.asks,
                                message.last_price, message.volume, message.indicative_price,
                                message.indicative_volume)
            line = _encoder.encode(out) + b"\n"
            for client in self._clients.get(symbol, ()):
                if not client.write(line):
                    self.dropped += 1
        return publish

    def connected(self, client: _FeedConnection) -> None:
        self._connections.add(client)

    def disconnected(self, client: _FeedConnection) -> None:
        self._connections.discard(client)
        for symbol in list(self._clients):
            self.unsubscribe(client, symbol)

    def close(self) -> None:
        """Hang up on every client (the exchange is stopping)."""
        if self._heartbeats is not None:
            self._heartbeats.cancel()
        for client in list(self._connections):
            client.close()


class _FeedConnection(asyncio.Protocol):
    def __init__(self, feed: MarketDataFeed) -> None:
        self.feed = feed
        self.transport: asyncio.Transport | None = None
        self._buffer = b""
        self.last_sent = asyncio.get_running_loop().time()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.feed.connected(self)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            self._on_request(line)
        if len(self._buffer) > MAX_REQUEST_BYTES:
            self.send(FeedError("request line too long; closing"))
            self.close()

    def _on_request(self, line: bytes) -> None:
        try:
            request = msgspec.json.decode(line, type=Request)
        except (msgspec.DecodeError, msgspec.ValidationError) as error:
            self.send(FeedError(f"bad request: {error}"))
            return
        if request.op == "subscribe":
            for symbol in request.symbols:
                self.feed.subscribe(self, symbol)
        elif request.op == "unsubscribe":
            for symbol in request.symbols:
                self.feed.unsubscribe(self, symbol)
        elif request.op == "snapshot":
            self.feed.snapshot(self, request.symbol)
        else:
            self.send(FeedError(f"unknown op {request.op!r}"))

    def send(self, message: FeedMessage) -> None:
        self.write(_encoder.encode(message) + b"\n", force=True)

    def write(self, line: bytes, *, force: bool = False) -> bool:
        """Queue a line unless this client is too far behind; False when it was dropped."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return False
        if not force and transport.get_write_buffer_size() > self.feed.high_water:
            return False
        transport.write(line)
        self.last_sent = asyncio.get_running_loop().time()
        return True

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.feed.disconnected(self)


class MarketDataClient:
    """Subscribes, follows per-symbol sequence numbers and recovers gaps by snapshot."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 silence_s: float = 3 * MD_HEARTBEAT_S) -> None:
        self._reader = reader
        self._writer = writer
        self.silence_s = silence_s  # no message, not even a heartbeat, for this long: dead
        self.quotes: dict[str, FeedQuote] = {}
        self.trades: list[FeedTrade] = []
        self.expected: dict[str, int] = {}  # next seq per symbol
        self.gaps = 0
        self._recovering: set[str] = set()

    @classmethod
    async def connect(cls, host: str, port: int,
                      silence_s: float = 3 * MD_HEARTBEAT_S) -> MarketDataClient:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, silence_s)

    async def request(self, **fields: object) -> None:
        self._writer.write(msgspec.json.encode(fields) + b"\n")
        await self._writer.drain()

    async def subscribe(self, *symbols: str) -> None:
        await self.request(op="subscribe", symbols=list(symbols))

    async def receive(self) -> FeedMessage:
        """Read and apply one message (gap handling included)."""
        try:
            line = await asyncio.wait_for(self._reader.readline(), self.silence_s)
        except TimeoutError:
            raise ConnectionError(
                f"market data feed silent for {self.silence_s} s (no heartbeat)") from None
        if not line:
            raise ConnectionError("market data feed closed")
        message = msgspec.json.decode(line, type=FeedMessage)  # type: ignore[arg-type]
        await self._apply(message)
        return message

    async def _apply(self, message: FeedMessage) -> None:
        if isinstance(message, FeedError | FeedHeartbeat):
            return
        symbol = message.symbol
        if isinstance(message, FeedSnapshot):
            self._recovering.discard(symbol)
            self.quotes[symbol] = message
            self.expected[symbol] = message.seq + 1
            return
        if symbol in self._recovering:
            return  # the snapshot on its way supersedes this
        expected = self.expected.get(symbol)
        if expected is not None and message.seq != expected:
            self.gaps += 1
            self._recovering.add(symbol)
            await self.request(op="snapshot", symbol=symbol)
            return
        self.expected[symbol] = message.seq + 1
        if isinstance(message, FeedTrade):
            self.trades.append(message)
        else:
            self.quotes[symbol] = message

    async def last_prices(self, symbols: Collection[str]) -> dict[str, int]:
        """Each symbol's last regular-session trade price, for the symbols that traded: the
        snapshots a subscription starts with. A symbol the exchange does not list, or that
        has no quote yet, is left out."""
        await self.subscribe(*symbols)
        waiting = set(symbols)
        prices: dict[str, int] = {}
        while waiting:
            message = await self.receive()
            if isinstance(message, FeedError):  # an unlisted symbol, or no quote yet
                waiting.discard(message.symbol)
            elif isinstance(message, FeedSnapshot) and message.symbol in waiting:
                waiting.discard(message.symbol)
                if message.last_price:
                    prices[message.symbol] = message.last_price
        return prices

    async def close(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()
