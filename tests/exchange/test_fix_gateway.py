"""The exchange's FIX front end to end: a real ``running_exchange`` on loopback, members' lines as
real initiator sessions with their own SQLite stores, nothing mocked.

Every exchange message a client receives is also kept raw (``Client.trace``, admin messages and
possible duplicates included), so a test can tell what crossed the wire from what the member's
application was handed (``Client.app.messages``, each application message once, in sequence).

The market: TSMC (2330) at NT$74.70, limits 67.30 / 82.10, tick 0.10; the simulated clock starts
at 09:00:01 on 2026-11-25, so continuous trading is on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from brokercloud.codes import Code, describe
from brokercloud.exchange.clock import SimulatedClock
from brokercloud.exchange.registry import Line, LineRegistry
from brokercloud.exchange.server import ExchangeConfig, RunningExchange, running_exchange
from brokercloud.fix.codec import FixError, FixMessage, fields_to_bytes, parse
from brokercloud.fix.session import (
    FixSession,
    LogonRefusedError,
    SessionBinding,
    SessionConfig,
    State,
)
from brokercloud.fix.store import SessionStore, open_database
from brokercloud.fix.transport import connect_initiator
from brokercloud.market.instruments import Instrument
from brokercloud.market.sessions import at

HOST = "127.0.0.1"
EXCHANGE = "XTAI"
DAY = date(2026, 11, 25)
START = at(9, 0, 1)  # continuous trading
SYMBOL = "2330"
LISTINGS = [(Instrument(symbol=SYMBOL, name="TSMC"), 7470)]
WAIT = 3.0
BUY, SELL = "1", "2"

SHARED = "T9A00A0"  # carries brokers 9A00 and 9B00
OWN = "T9A00A1"  # 9A00 only
OTHER = "T9B00A0"  # 9B00 only
PASSWORDS = {SHARED: "secret-a0", OWN: "secret-a1", OTHER: "secret-b0"}
BROKERS = {SHARED: ("9A00", "9B00"), OWN: ("9A00",), OTHER: ("9B00",)}


def run(coroutine: Coroutine[Any, Any, None]) -> None:
    """pytest-asyncio is not installed: each test runs its own event loop."""
    asyncio.run(coroutine)


def registry(default_rate_limit: int = 0, **rate_limits: int) -> LineRegistry:
    """The three test lines; ``rate_limits`` by line ID override the default (0 = unlimited)."""
    return LineRegistry(
        [Line(line, PASSWORDS[line], frozenset(BROKERS[line]), rate_limits.get(line))
         for line in (SHARED, OWN, OTHER)], EXCHANGE, default_rate_limit)


@contextlib.asynccontextmanager
async def exchange(data_dir: Path, lines: LineRegistry | None = None
                   ) -> AsyncIterator[RunningExchange]:
    """The exchange on loopback, any free ports, a fresh simulated clock at 09:00:01 (a restart
    is leaving this context and entering it again on the same directory)."""
    async with running_exchange(ExchangeConfig(data_dir=str(data_dir)), lines or registry(),
                                LISTINGS, SimulatedClock(DAY, START)) as running:
        yield running


async def eventually(predicate: Callable[[], bool], timeout: float = WAIT) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), timeout)


# -- messages a member sends -----------------------------------------------------------------------

Fields = list[tuple[bytes, str]]


def _body(fields: Fields, drop: tuple[str, ...] = ()) -> bytes:
    return fields_to_bytes([(tag, value) for tag, value in fields if tag.decode() not in drop])


def order(cl: str, side: str, price: str, qty: int = 1000, *, broker: str = "9A00",
          symbol: str = SYMBOL, ord_type: str = "2", tif: str = "0",
          drop: tuple[str, ...] = (), **extra: str) -> bytes:
    """NewOrderSingle body; ``drop`` leaves tags out, ``extra`` (tag_NNN=value) adds or
    replaces fields."""
    fields: Fields = [(b"115", broker), (b"11", cl), (b"1", "12345678"), (b"55", symbol),
                      (b"54", side), (b"38", str(qty)), (b"40", ord_type), (b"44", price),
                      (b"59", tif), (b"60", "20261125-01:00:01.000")]
    return _body(_with(fields, extra), drop)


def cancel(cl: str, *, orig: str = "", order_id: int | str = 0, broker: str = "9A00",
           side: str = BUY) -> bytes:
    fields: Fields = [(b"115", broker), (b"11", cl), (b"55", SYMBOL), (b"54", side),
                      (b"60", "20261125-01:00:01.000")]
    if orig:
        fields.append((b"41", orig))
    if order_id:
        fields.append((b"37", str(order_id)))
    return _body(fields)


def replace(cl: str, qty: int, price: str, *, orig: str = "", order_id: int = 0,
            broker: str = "9A00", side: str = BUY) -> bytes:
    fields: Fields = [(b"115", broker), (b"11", cl), (b"1", "12345678"), (b"55", SYMBOL),
                      (b"54", side), (b"38", str(qty)), (b"40", "2"), (b"44", price),
                      (b"60", "20261125-01:00:01.000")]
    if orig:
        fields.append((b"41", orig))
    if order_id:
        fields.append((b"37", str(order_id)))
    return _body(fields)


def status(*, cl: str = "", order_id: int = 0, broker: str = "9A00") -> bytes:
    fields: Fields = [(b"115", broker), (b"55", SYMBOL), (b"54", BUY)]
    if cl:
        fields.append((b"11", cl))
    if order_id:
        fields.append((b"37", str(order_id)))
    return _body(fields)


def _with(fields: Fields, extra: dict[str, str]) -> Fields:
    replacements = {name.removeprefix("tag_").encode(): value for name, value in extra.items()}
    out = [(tag, replacements.pop(tag, value)) for tag, value in fields]
    return out + list(replacements.items())


def vals(message: FixMessage, *tags: str) -> tuple[str | None, ...]:
    """The values of ``tags`` as text (None where absent)."""
    return tuple(None if (v := message.get(tag.encode())) is None else v.decode()
                 for tag in tags)


def val(message: FixMessage, tag: str) -> str | None:
    return vals(message, tag)[0]


# -- a member's line -------------------------------------------------------------------------------


class Member:
    """The member's application: keeps every application message it is handed."""

    def __init__(self) -> None:
        self.messages: list[FixMessage] = []
        self.logons = 0
        self.logouts = 0

    def on_logon(self, session: FixSession) -> None:
        self.logons += 1

    def on_logout(self, session: FixSession) -> None:
        self.logouts += 1

    def on_message(self, session: FixSession, message: FixMessage) -> None:
        self.messages.append(message)


class TracingSession(FixSession):
    """An initiator that also keeps every message the exchange sent, as it arrived."""

    def __init__(self, binding: SessionBinding, trace: list[FixMessage],
                 garbled: list[bytes]) -> None:
        super().__init__(binding, initiator=True)
        self.trace = trace
        self.garbled = garbled

    def _on_frame(self, raw: bytes) -> None:
        try:
            self.trace.append(parse(raw))
        except FixError:  # the session answers it with a Reject; the test fails on it
            self.garbled.append(raw)
        super()._on_frame(raw)


class Client:
    """One line of a member: its own SQLite store, reconnectable (``connect`` again after the
    exchange or the client restarted)."""

    def __init__(self, directory: Path, line: str, password: str | None = None) -> None:
        self.path = directory / f"client-{line}.db"
        self.config = SessionConfig(line, EXCHANGE, password=PASSWORDS.get(line, "")
                                    if password is None else password)
        self.app = Member()
        self.trace: list[FixMessage] = []
        self.garbled: list[bytes] = []  # frames from the exchange that break FIX
        self.db = open_database(self.path)
        self.store = SessionStore(self.db, self.config.session_id)
        self.session: FixSession | None = None

    async def connect(self, port: int) -> FixSession:
        loop = asyncio.get_running_loop()
        binding = SessionBinding(self.config, self.store, self.app)
        _, session = await loop.create_connection(
            lambda: TracingSession(binding, self.trace, self.garbled), HOST, port)
        self.session = session
        await asyncio.wait_for(asyncio.shield(session.logged_on), WAIT)
        return session

    def reopen(self) -> None:
        """The member's process restarted: a new connection to the same SQLite file."""
        self.db.close()
        self.db = open_database(self.path)
        self.store = SessionStore(self.db, self.config.session_id)

    def send(self, msg_type: bytes, body: bytes) -> int:
        assert self.session is not None
        return self.session.send(msg_type, body)

    def received(self, msg_type: bytes = b"8", **where: str) -> list[FixMessage]:
        """Application messages of one type, filtered by tag values (tag_NNN=value)."""
        wanted = [(name.removeprefix("tag_"), value) for name, value in where.items()]
        return [m for m in self.app.messages if m.msg_type == msg_type
                and all(val(m, tag) == value for tag, value in wanted)]

    def wire(self, msg_type: bytes) -> list[FixMessage]:
        """Everything of one type that arrived on the wire (admin messages included)."""
        return [m for m in self.trace if m.msg_type == msg_type]

    async def expect(self, count: int, msg_type: bytes = b"8", **where: str
                     ) -> list[FixMessage]:
        """Wait until ``count`` matching application messages arrived; return them."""
        try:
            await eventually(lambda: len(self.received(msg_type, **where)) >= count)
        except TimeoutError:
            raise AssertionError(
                f"expected {count} x 35={msg_type.decode()} {where}; received: "
                f"{self.app.messages}; garbled: {self.garbled}") from None
        found = self.received(msg_type, **where)
        assert len(found) == count, found
        return found

    async def report(self, cl: str, exec_type: str) -> FixMessage:
        """The one ExecutionReport with this ClOrdID and ExecType."""
        return (await self.expect(1, tag_11=cl, tag_150=exec_type))[0]

    async def quiet(self, seconds: float = 0.15) -> None:
        """Let anything still in flight arrive."""
        await asyncio.sleep(seconds)

    async def disconnected(self) -> None:
        assert self.session is not None
        await asyncio.wait_for(asyncio.shield(self.session.closed), WAIT)

    async def close(self) -> None:
        if self.session is not None and self.session.state is State.ACTIVE:
            await self.session.logout(timeout=WAIT)
        elif self.session is not None:
            self.session.disconnect()
        self.db.close()


@contextlib.asynccontextmanager
async def logged_on(directory: Path, line: str, port: int) -> AsyncIterator[Client]:
    client = Client(directory, line)
    try:
        await client.connect(port)
        yield client
        assert client.garbled == [], client.garbled
    finally:
        await client.close()


# -- a whole session -------------------------------------------------------------------------------


def test_session_lifecycle_orders_fills_status_and_logout(tmp_path: Path) -> None:
    async def main() -> None:
        async with exchange(tmp_path / "exchange") as ex, \
                logged_on(tmp_path, SHARED, ex.fix_port) as a:
            assert ex.gateway.sessions[SHARED] is not None
            logon = a.wire(b"A")[0]
            assert vals(logon, "34", "49", "56", "108") == ("1", EXCHANGE, SHARED, "10")

            a.send(b"D", order("C1", BUY, "74.80", 1000))
            ack = await a.report("C1", "0")
            assert vals(ack, "128", "37", "11", "1", "55", "54", "38", "40", "44", "59", "336",
                        "17", "150", "39", "151", "14", "6") == (
                "9A00", "1", "C1", "12345678", SYMBOL, "1", "1000", "2", "74.80", "0", "regular",
                "1", "0", "0", "1000", "0", "0")
            # TransactTime is exchange time (09:00:01 Taiwan and on) in UTC
            assert (val(ack, "60") or "")[:17] in ("20261125-01:00:01", "20261125-01:00:02")
            assert val(ack, "5001") is None and val(ack, "58") is None

            a.send(b"D", order("C2", BUY, "74.70", 2000))
            a.send(b"D", order("C3", SELL, "74.60", 4000))
            await a.expect(3, tag_150="0")
            fills = await a.expect(4, tag_150="F")
            # price-time priority: the sell takes 1,000 at 74.80, then 2,000 at 74.70; each
            # trade reports the resting side first, ExecIDs are the exchange sequence
            assert [vals(m, "37", "11", "17", "39", "151", "14", "31", "32", "6") for m in fills] \
                == [("1", "C1", "4", "2", "0", "1000", "74.80", "1000", "74.8000"),
                    ("3", "C3", "5", "1", "3000", "1000", "74.80", "1000", "74.8000"),
                    ("2", "C2", "6", "2", "0", "2000", "74.70", "2000", "74.7000"),
                    ("3", "C3", "7", "1", "1000", "3000", "74.70", "2000", "74.7333")]
            assert all(val(m, "128") == "9A00" for m in a.app.messages)

            request_seq = a.send(b"H", status(cl="C3"))
            assert request_seq == 5  # after Logon and three orders
            answer = (await a.expect(1, tag_150="I"))[0]
            assert vals(answer, "37", "11", "39", "151", "14", "6", "38", "44", "54") == (
                "3", "C3", "1", "1000", "3000", "74.7333", "4000", "74.60", "2")
            assert val(answer, "17") == f"S{SHARED}-5"  # status answers are not executions
            a.send(b"H", status(order_id=1))
            answer = (await a.expect(2, tag_150="I"))[1]
            assert vals(answer, "37", "11", "39", "151", "14", "6") == (
                "1", "C1", "2", "0", "1000", "74.8000")

            # the exchange numbers its messages without gaps: Logon, then one per report
            assert [m.get_int(b"34") for m in a.trace] == list(range(1, len(a.trace) + 1))
            assert a.store.next_target_seq == len(a.trace) + 1

            assert a.session is not None
            await a.session.logout("end of day")
            assert a.session.state is State.DISCONNECTED
            assert a.trace[-1].msg_type == b"5"
            await eventually(lambda: SHARED not in ex.gateway.sessions)
            assert a.app.logons == 1 and a.app.logouts == 1
    run(main())


# -- who may log on --------------------------------------------------------------------------------


def test_logon_refused_with_the_reason_in_a_logout(tmp_path: Path) -> None:
    async def refused(directory: Path, config: SessionConfig, port: int) -> str:
        directory.mkdir(exist_ok=True)
        db = open_database(directory / "client.db")
        binding = SessionBinding(config, SessionStore(db, config.session_id), Member())
        try:
            with pytest.raises(LogonRefusedError) as refusal:
                await connect_initiator(HOST, port, binding, timeout=WAIT)
        finally:
            db.close()
        return str(refusal.value)

    async def main() -> None:
        async with exchange(tmp_path / "exchange") as ex:
            port = ex.fix_port
            assert await refused(tmp_path / "1", SessionConfig(SHARED, EXCHANGE, password="nope"),
                                 port) == f"wrong password for line {SHARED}"
            assert await refused(tmp_path / "2", SessionConfig(SHARED, EXCHANGE), port) \
                == f"wrong password for line {SHARED}"
            assert await refused(tmp_path / "3", SessionConfig(OTHER, EXCHANGE,
                                                               password=PASSWORDS[SHARED]),
                                 port) == f"wrong password for line {OTHER}"
            assert await refused(tmp_path / "4", SessionConfig("T9Z99A0", EXCHANGE,
                                                               password="secret-a0"),
                                 port) == "line T9Z99A0 is not registered at this exchange"
            assert await refused(tmp_path / "5", SessionConfig(SHARED, "ROCO",
                                                               password=PASSWORDS[SHARED]),
                                 port) == "TargetCompID must be XTAI"
            assert ex.gateway.sessions == {}
            # on the wire: a Logout outside the line's sequence, carrying the reason
            (tmp_path / "7").mkdir()
            wrong = Client(tmp_path / "7", SHARED, password="nope")
            with pytest.raises(LogonRefusedError):
                await wrong.connect(port)
            assert [vals(m, "35", "34", "58") for m in wrong.trace] == [
                ("5", "1", f"wrong password for line {SHARED}")]
            assert wrong.session is not None and wrong.session.state is State.DISCONNECTED
            wrong.db.close()

            first = Client(tmp_path, SHARED)
            try:
                await first.connect(port)
                # refusals consumed none of the line's numbers: the exchange's Logon is 34=1
                assert vals(first.wire(b"A")[0], "34") == ("1",)
                assert await refused(tmp_path / "6", SessionConfig(
                    SHARED, EXCHANGE, password=PASSWORDS[SHARED]), port) \
                    == f"line {SHARED} is already logged on"
                # the session already logged on is untouched and keeps trading
                assert first.session is not None and first.session.state is State.ACTIVE
                assert ex.gateway.sessions[SHARED] is not None
                first.send(b"D", order("C1", BUY, "74.70"))
                assert vals(await first.report("C1", "0"), "37", "39") == ("1", "0")
                assert first.session is not None
                await first.session.logout()
                await eventually(lambda: ex.gateway.sessions == {})
                # logged out, the line may log on again (and resumes its numbers)
                again = await first.connect(port)
                assert again.state is State.ACTIVE and ex.gateway.sessions[SHARED] is not None
                assert vals(first.wire(b"A")[1], "34") == ("4",)  # Logon, ack, Logout before
            finally:
                await first.close()
    run(main())


# -- brokers on lines ------------------------------------------------------------------------------


def test_broker_not_registered_on_the_line_is_rejected(tmp_path: Path) -> None:
    async def main() -> None:
        async with exchange(tmp_path / "exchange") as ex, \
                logged_on(tmp_path, OWN, ex.fix_port) as own:
            seq = own.send(b"D", order("X1", BUY, "74.70", broker="9B00"))
            rejected = await own.report("X1", "8")
            assert vals(rejected, "128", "37", "11", "17", "150", "39", "103", "151", "14", "6",
                        "1", "55", "54", "38", "5001", "58") == (
                "9B00", "NONE", "X1", f"L{OWN}-{seq}", "8", "8", "99", "0", "0", "0",
                "12345678", SYMBOL, "1", "1000", str(int(Code.BROKER_NOT_ON_LINE)),
                describe(Code.BROKER_NOT_ON_LINE))
            assert Code.BROKER_NOT_ON_LINE == 3501

            own.send(b"D", order("X1", BUY, "74.70", broker="9A00"))  # same line, its broker
            assert vals(await own.report("X1", "0"), "128", "37", "39") == ("9A00", "1", "0")

            own.send(b"F", cancel("X2", order_id=1, broker="9B00"))
            own.send(b"G", replace("X3", 1000, "74.60", order_id=1, broker="9B00"))
            own.send(b"H", status(order_id=1, broker="9B00"))
            refusals = await own.expect(2, b"9")
            assert [vals(m, "128", "11", "434", "102", "5001") for m in refusals] == [
                ("9B00", "X2", "1", "99", "3501"), ("9B00", "X3", "2", "99", "3501")]
            status_refusal = (await own.expect(1, tag_150="I"))[0]  # a status answer, refused
            assert vals(status_refusal, "128", "11", "37", "39", "5001") == (
                "9B00", None, "NONE", "8", "3501")
            # none of it reached the engine: one order, still resting untouched
            assert list(ex.gateway.exchange.orders) == [1]
            assert ex.gateway.exchange.book(SYMBOL).depth() == ([(7470, 1000)], [])
    run(main())


def test_shared_line_carries_two_brokers_and_reports_go_to_the_orders_line(
        tmp_path: Path) -> None:
    async def main() -> None:
        async with exchange(tmp_path / "exchange") as ex, \
                logged_on(tmp_path, SHARED, ex.fix_port) as shared, \
                logged_on(tmp_path, OTHER, ex.fix_port) as other:
            # ClOrdIDs are each broker's own: both brokers may use S1 on the one line
            shared.send(b"D", order("S1", BUY, "74.70", 3000, broker="9A00"))
            shared.send(b"D", order("S1", SELL, "74.70", 1000, broker="9B00"))
            acks = await shared.expect(2, tag_150="0")
            assert [vals(m, "128", "37", "11", "54") for m in acks] == [
                ("9A00", "1", "S1", "1"), ("9B00", "2", "S1", "2")]
            fills = await shared.expect(2, tag_150="F")
            assert [vals(m, "128", "37", "39", "151", "14", "31", "32") for m in fills] == [
                ("9A00", "1", "1", "2000", "1000", "74.70", "1000"),
                ("9B00", "2", "2", "0", "1000", "74.70", "1000")]

            # 9B00 on its own line trades against 9A00's order from the shared line: each
            # side's report goes back on the line its order came in on
            other.send(b"D", order("O1", SELL, "74.70", 1000, broker="9B00"))
            assert vals(await other.report("O1", "0"), "128", "37") == ("9B00", "3")
            other_fill = await other.report("O1", "F")
            assert vals(other_fill, "128", "37", "39", "14") == ("9B00", "3", "2", "1000")
            shared_fills = await shared.expect(3, tag_150="F")
            assert vals(shared_fills[2], "128", "37", "11", "39", "151", "14", "17") == (
                "9A00", "1", "S1", "1", "1000", "2000", str(int(val(other_fill, "17") or 0) - 1))
            assert all(val(m, "128") == "9B00" for m in other.app.messages)
            assert {val(m, "128") for m in shared.app.messages} == {"9A00", "9B00"}

            # a broker cannot see or touch another broker's order, even on a shared line
            shared.send(b"H", status(order_id=1, broker="9B00"))
            unknown = (await shared.expect(1, tag_150="I"))[0]
            assert vals(unknown, "128", "37", "39", "5001", "58") == (
                "9B00", "NONE", "8", "3002", describe(Code.UNKNOWN_ORDER))
    run(main())


# -- the per-line rate limit -----------------------------------------------------------------------


def test_rate_limit_rejects_the_excess_of_a_burst_per_line(tmp_path: Path) -> None:
    async def main() -> None:
        lines = registry(default_rate_limit=5)
        async with exchange(tmp_path / "exchange", lines) as ex, \
                logged_on(tmp_path, SHARED, ex.fix_port) as burst, \
                logged_on(tmp_path, OWN, ex.fix_port) as calm:
            seqs = [burst.send(b"D", order(f"B{i}", BUY, "70.00")) for i in range(20)]
            for i in range(5):
                calm.send(b"D", order(f"C{i}", BUY, "70.10"))
            await burst.expect(20)
            acks = burst.received(tag_150="0")
            rejects = burst.received(tag_150="8")
            # the bucket holds 5 messages a second: the first 5 pass, the other 15 are refused
            assert [val(m, "11") for m in acks] == [f"B{i}" for i in range(5)]
            assert [val(m, "11") for m in rejects] == [f"B{i}" for i in range(5, 20)]
            for seq, message in zip(seqs[5:], rejects, strict=True):
                assert vals(message, "37", "17", "39", "103", "151", "14", "5001", "58") == (
                    "NONE", f"L{SHARED}-{seq}", "8", "99", "0", "0",
                    str(int(Code.LINE_RATE_LIMIT_EXCEEDED)),
                    describe(Code.LINE_RATE_LIMIT_EXCEEDED))
            assert Code.LINE_RATE_LIMIT_EXCEEDED == 3502
            assert "rate" in describe(Code.LINE_RATE_LIMIT_EXCEEDED).lower()
            # another line has its own bucket
            calm_acks = await calm.expect(5, tag_150="0")
            assert [val(m, "11") for m in calm_acks] == [f"C{i}" for i in range(5)]
            assert calm.received(tag_150="8") == []
            assert ex.gateway.exchange.book(SYMBOL).depth()[0] == [(7010, 5000), (7000, 5000)]

            # the session stays up, and tokens come back at 5 a second
            await asyncio.sleep(0.3)
            burst.send(b"D", order("B20", BUY, "70.00"))
            assert vals(await burst.report("B20", "0"), "37", "39") == ("11", "0")
            assert burst.session is not None and burst.session.state is State.ACTIVE
    run(main())


# -- cancels and replaces --------------------------------------------------------------------------


def test_cancel_by_orig_cl_ord_id_and_by_order_id(tmp_path: Path) -> None:
    async def main() -> None:
        async with exchange(tmp_path / "exchange") as ex, \
                logged_on(tmp_path, SHARED, ex.fix_port) as a:
            a.send(b"D", order("C1", BUY, "74.50", 1000))
            a.send(b"D", order("C2", BUY, "74.40", 2000))
            await a.expect(2, tag_150="0")
            a.send(b"F", cancel("X1", orig="C1"))
            cancelled = await a.report("X1", "4")
            assert vals(cancelled, "37", "11", "41", "17", "39", "151", "14", "6", "38", "44",
                        "5001", "58") == (
                "1", "X1", "C1", "3", "4", "0", "0", "0", "1000", "74.50",
                str(int(Code.CANCELLED_ON_REQUEST)), describe(Code.CANCELLED_ON_REQUEST))
            a.send(b"F", cancel("X2", order_id=2))
            cancelled = await a.report("X2", "4")
            assert vals(cancelled, "37", "11", "41", "39", "151", "14", "38") == (
                "2", "X2", "C2", "4", "0", "0", "2000")
            assert ex.gateway.exchange.book(SYMBOL).depth() == ([], [])

            # a partly filled order cancels its rest and keeps what it traded
            a.send(b"D", order("C3", BUY, "74.70", 3000))
            a.send(b"D", order("C4", SELL, "74.70", 1000))
            await a.expect(2, tag_150="F")
            a.send(b"F", cancel("X3", orig="C3"))
            cancelled = await a.report("X3", "4")
            assert vals(cancelled, "37", "41", "39", "151", "14", "6") == (
                "3", "C3", "4", "0", "1000", "74.7000")
    run(main())


def test_replace_reducing_quantity_keeps_priority(tmp_path: Path) -> None:
    async def main() -> None:
        async with exchange(tmp_path / "exchange") as ex, \
                logged_on(tmp_path, SHARED, ex.fix_port) as a:
            a.send(b"D", order("C1", BUY, "74.70", 3000))
            a.send(b"D", order("C2", BUY, "74.70", 1000))
            await a.expect(2, tag_150="0")
            a.send(b"G", replace("R1", 2000, "74.70", orig="C1"))
            replaced = await a.report("R1", "5")
            assert vals(replaced, "37", "11", "41", "17", "39", "38", "44", "151", "14") == (
                "1", "R1", "C1", "3", "0", "2000", "74.70", "2000", "0")
            assert ex.gateway.exchange.book(SYMBOL).depth() == ([(7470, 3000)], [])

            a.send(b"D", order("S1", SELL, "74.70", 1000))
            fills = await a.expect(2, tag_150="F")
            # the reduced order kept its place ahead of C2
            assert vals(fills[0], "37", "11", "38", "39", "151", "14") == (
                "1", "R1", "2000", "1", "1000", "1000")
            assert a.received(tag_11="C2", tag_150="F") == []

            # reduce again, by OrderID, below what is open but above what is filled
            a.send(b"G", replace("R2", 1500, "74.70", order_id=1))
            refused = (await a.expect(1, b"9"))[0]  # not whole lots
            assert vals(refused, "37", "11", "41", "434", "5001") == ("1", "R2", "R1", "2",
                                                                     str(int(Code.NOT_BOARD_LOTS)))
            a.send(b"G", replace("R3", 1000, "74.70", order_id=1))
            refused = (await a.expect(2, b"9"))[1]  # not above the filled quantity
            assert vals(refused, "11", "5001") == ("R3", str(int(Code.AMEND_BELOW_FILLED)))
    run(main())


def test_replace_changing_price_loses_priority(tmp_path: Path) -> None:
    async def main() -> None:
        async with exchange(tmp_path / "exchange") as ex, \
                logged_on(tmp_path, SHARED, ex.fix_port) as a:
            a.send(b"D", order("C1", BUY, "74.70"))
            a.send(b"D", order("C2", BUY, "74.70"))
            await a.expect(2, tag_150="0")
            # away and back: C1 rejoins the 74.70 queue behind C2
            a.send(b"G", replace("R1", 1000, "74.60", orig="C1"))
            assert vals(await a.report("R1", "5"), "37", "41", "44", "38", "151", "39") == (
                "1", "C1", "74.60", "1000", "1000", "0")
            a.send(b"G", replace("R2", 1000, "74.70", orig="R1"))
            assert vals(await a.report("R2", "5"), "37", "41", "44") == ("1", "R1", "74.70")
            assert ex.gateway.exchange.book(SYMBOL).depth() == ([(7470, 2000)], [])

            a.send(b"D", order("S1", SELL, "74.70"))
            fills = await a.expect(2, tag_150="F")
            assert [vals(m, "37", "11") for m in fills] == [("2", "C2"), ("3", "S1")]
            a.send(b"D", order("S2", SELL, "74.70"))
            fills = await a.expect(4, tag_150="F")
            assert [vals(m, "37", "11", "39") for m in fills[2:]] == [
                ("1", "R2", "2"), ("4", "S2", "2")]

            # a new price that crosses trades at once
            a.send(b"D", order("S3", SELL, "75.00"))
            a.send(b"D", order("B1", BUY, "74.90"))
            await a.report("B1", "0")
            a.send(b"G", replace("B2", 1000, "75.00", orig="B1"))
            assert vals(await a.report("B2", "5"), "37", "44", "151") == ("6", "75.00", "1000")
            fill = await a.report("B2", "F")
            assert vals(fill, "37", "39", "31", "32", "6") == ("6", "2", "75.00", "1000",
                                                              "75.0000")
            assert ex.gateway.exchange.book(SYMBOL).depth() == ([], [])
    run(main())


def test_replace_changing_price_and_quantity_is_refused(tmp_path: Path) -> None:
    async def main() -> None:
        async with exchange(tmp_path / "exchange") as ex, \
                logged_on(tmp_path, SHARED, ex.fix_port) as a:
            a.send(b"D", order("C1", BUY, "74.70", 2000))
            await a.report("C1", "0")
            a.send(b"G", replace("R1", 1000, "74.60", orig="C1"))
            refused = (await a.expect(1, b"9"))[0]
            assert vals(refused, "128", "37", "11", "41", "39", "434", "102", "5001", "58") == (
                "9A00", "1", "R1", "C1", "0", "2", "99",
                str(int(Code.AMEND_PRICE_AND_QUANTITY)), describe(Code.AMEND_PRICE_AND_QUANTITY))
            assert Code.AMEND_PRICE_AND_QUANTITY == 3005
            assert ex.gateway.exchange.book(SYMBOL).depth() == ([(7470, 2000)], [])
            # nothing changed, so the refused request's ClOrdID is still free
            a.send(b"G", replace("R1", 1000, "74.70", orig="C1"))
            assert vals(await a.report("R1", "5"), "38", "151") == ("1000", "1000")
            # restating the order unchanged changes nothing
            a.send(b"G", replace("R2", 1000, "74.70", orig="R1"))
            refused = (await a.expect(2, b"9"))[1]
            assert vals(refused, "11", "5001") == ("R2", str(int(Code.AMEND_NOTHING)))
    run(main())


def test_cancel_refused_for_unknown_filled_and_other_brokers_orders(tmp_path: Path) -> None:
    async def main() -> None:
        async with exchange(tmp_path / "exchange") as ex, \
                logged_on(tmp_path, SHARED, ex.fix_port) as a:
            a.send(b"F", cancel("X1", orig="NOPE"))
            a.send(b"F", cancel("X2", order_id=99))
            unknown = await a.expect(2, b"9")
            assert [vals(m, "37", "11", "41", "39", "434", "102", "5001", "58") for m in unknown] \
                == [("NONE", "X1", "NOPE", "8", "1", "1", "3002", describe(Code.UNKNOWN_ORDER)),
                    ("99", "X2", "NONE", "8", "1", "1", "3002", describe(Code.UNKNOWN_ORDER))]

            a.send(b"D", order("C1", BUY, "74.70"))
            a.send(b"D", order("C2", SELL, "74.70"))
            await a.expect(2, tag_150="F")
            a.send(b"F", cancel("X3", orig="C1"))
            a.send(b"G", replace("X4", 1000, "74.60", order_id=2, side=SELL))
            done = await a.expect(4, b"9")
            assert [vals(m, "37", "11", "41", "39", "434", "102", "5001") for m in done[2:]] == [
                ("1", "X3", "C1", "2", "1", "0", "3003"),
                ("2", "X4", "C2", "2", "2", "0", "3003")]

            # another broker's live order is as unknown as a missing one
            a.send(b"D", order("C3", BUY, "74.50"))
            await a.report("C3", "0")
            a.send(b"F", cancel("X5", order_id=3, broker="9B00"))
            a.send(b"F", cancel("X6", orig="C3", broker="9B00"))
            a.send(b"G", replace("X7", 1000, "74.60", order_id=3, broker="9B00"))
            foreign = await a.expect(7, b"9")
            assert [vals(m, "128", "11", "39", "434", "102", "5001") for m in foreign[4:]] == [
                ("9B00", "X5", "8", "1", "1", "3002"), ("9B00", "X6", "8", "1", "1", "3002"),
                ("9B00", "X7", "8", "2", "1", "3002")]
            assert ex.gateway.exchange.book(SYMBOL).depth() == ([(7450, 1000)], [])
    run(main())


# -- malformed messages ----------------------------------------------------------------------------


def test_malformed_messages_get_rejects_and_the_session_keeps_working(tmp_path: Path) -> None:
    async def main() -> None:
        async with exchange(tmp_path / "exchange") as ex, \
                logged_on(tmp_path, SHARED, ex.fix_port) as a:
            no_symbol = a.send(b"D", order("M1", BUY, "74.70", drop=("55",)))
            bad_side = a.send(b"D", order("M2", "7", "74.70"))
            fine_price = a.send(b"D", order("M3", BUY, "74.705"))
            bad_type = a.send(b"D", order("M4", BUY, "74.70", ord_type="Z"))
            no_broker = a.send(b"D", order("M5", BUY, "74.70", drop=("115",)))
            bad_qty = a.send(b"D", order("M6", BUY, "74.70", tag_38="1e3"))
            bad_id = a.send(b"F", cancel("M7", order_id="x1"))
            quote_request = a.send(b"R", b"131=Q1\x01146=1\x0155=2330\x01")
            await eventually(lambda: len(a.wire(b"3")) == 7 and len(a.wire(b"j")) == 1)
            rejects = a.wire(b"3")
            assert [vals(m, "45", "371", "372", "373", "58") for m in rejects] == [
                (str(no_symbol), "55", "D", "1", "Required tag 55 missing"),
                (str(bad_side), "54", "D", "5", "Value '7' is incorrect for tag 54"),
                (str(fine_price), "44", "D", "6",
                 "Tag 44 must be a price with at most two decimals"),
                (str(bad_type), "40", "D", "5", "Value 'Z' is incorrect for tag 40"),
                (str(no_broker), "115", "D", "1", "Required tag 115 missing"),
                (str(bad_qty), "38", "D", "6", "Tag 38 must be an integer"),
                (str(bad_id), "37", "F", "6",
                 "OrderID (37) must be the exchange's numeric order ID")]
            business = a.received(b"j")
            assert [vals(m, "45", "372", "380", "58") for m in business] == [
                (str(quote_request), "R", "3", "Unsupported message type R")]

            # nothing reached the engine, no sequence problem, and the session carries on
            assert ex.gateway.exchange.orders == {}
            assert a.wire(b"2") == [] and a.wire(b"5") == []
            a.send(b"D", order("M8", BUY, "74.70"))
            assert vals(await a.report("M8", "0"), "37", "39") == ("1", "0")
            a.send(b"D", order("M9", BUY, "74.70", symbol="9999"))
            unknown = await a.report("M9", "8")
            assert vals(unknown, "103", "5001") == ("1", str(int(Code.UNKNOWN_SYMBOL)))
            server = ex.gateway.sessions[SHARED]
            assert server.store is not None
            assert server.store.next_target_seq == a.store.next_sender_seq
            assert a.store.next_target_seq == server.store.next_sender_seq
    run(main())


# -- restarts --------------------------------------------------------------------------------------


def acks_by_cl_ord_id(client: Client) -> Counter[str | None]:
    return Counter(val(m, "11") for m in client.received(tag_150="0"))


def exec_ids(client: Client) -> list[str | None]:
    return [val(m, "17") for m in client.received() if val(m, "150") in ("0", "F", "4", "5")]


def test_exchange_restart_keeps_books_sequences_and_recovers_missed_reports(
        tmp_path: Path) -> None:
    async def main() -> None:
        directory = tmp_path / "exchange"
        a = Client(tmp_path, SHARED)  # broker 9A00
        b = Client(tmp_path, OTHER)  # broker 9B00
        try:
            async with exchange(directory) as ex:
                await a.connect(ex.fix_port)
                await b.connect(ex.fix_port)
                a.send(b"D", order("C1", BUY, "74.70", 3000))
                a.send(b"D", order("C2", SELL, "75.00", 1000))
                await a.expect(2, tag_150="0")
                b.send(b"D", order("B1", SELL, "74.70", 1000, broker="9B00"))
                await b.report("B1", "F")
                await a.report("C1", "F")
                depth = ex.gateway.exchange.book(SYMBOL).depth()
                assert depth == ([(7470, 2000)], [(7500, 1000)])
                a_out, a_in = a.store.next_sender_seq, a.store.next_target_seq
                assert (a_out, a_in) == (4, 5)  # Logon + 2 orders; Logon + 2 acks + 1 fill
            # the exchange stopped: each line got a Logout with the reason and answered it
            await a.disconnected()
            await b.disconnected()
            for client in (a, b):
                assert [vals(m, "58") for m in client.wire(b"5")] == [("exchange closing",)]
            assert (a.store.next_sender_seq, a.store.next_target_seq) == (a_out + 1, a_in + 1)
            a_out, a_in = a_out + 1, a_in + 1  # the Logouts took 34=4 (A's) and 34=5 (ours)

            async with exchange(directory) as ex:
                # the journal rebuilt the books exactly (a fresh clock, the same start)
                assert ex.gateway.exchange.book(SYMBOL).depth() == depth
                assert sorted(ex.gateway.exchange.orders) == [1, 2, 3]
                assert ex.gateway.sessions == {}
                # while A's line is still down, B's order fills A's C1: the report waits
                await b.connect(ex.fix_port)
                b.send(b"D", order("B2", SELL, "74.70", 1000, broker="9B00"))
                assert vals(await b.report("B2", "0"), "37") == ("4",)
                await b.report("B2", "F")

                await a.connect(ex.fix_port)
                logons = a.wire(b"A")
                # both sides resumed their numbers, no reset: the exchange's Logon is 34=7 (the
                # fill took 6), A's Logon was 34=5 and its ResendRequest for 6 was 34=6
                assert [vals(m, "34", "141") for m in logons] == [("1", None), ("7", None)]
                fills = await a.expect(2, tag_11="C1", tag_150="F")
                assert a.store.next_sender_seq == a_out + 2
                await eventually(lambda: ex.gateway.sessions[SHARED].store.next_target_seq
                                 == a_out + 2)
                assert vals(fills[1], "34", "43", "37", "39", "151", "14", "6", "128") == (
                    "6", "Y", "1", "1", "1000", "2000", "74.7000", "9A00")
                assert val(fills[1], "122") is not None  # OrigSendingTime on a resend
                await eventually(lambda: a.store.next_target_seq == 8)

                # A resends C1, not knowing whether it got through: it is not applied twice
                a.send(b"D", order("C1", BUY, "74.70", 3000))
                duplicate = await a.report("C1", "8")
                assert vals(duplicate, "37", "39", "103", "5001", "58") == (
                    "NONE", "8", "6", str(int(Code.DUPLICATE_CLIENT_ORDER_ID)),
                    describe(Code.DUPLICATE_CLIENT_ORDER_ID))
                a.send(b"D", order("C3", BUY, "74.60", 2000))
                assert vals(await a.report("C3", "0"), "37", "17") == ("5", "10")
                assert ex.gateway.exchange.book(SYMBOL).depth() == (
                    [(7470, 1000), (7460, 2000)], [(7500, 1000)])
                await a.quiet()
                # every order acknowledged exactly once across the restart; no report twice
                assert acks_by_cl_ord_id(a) == {"C1": 1, "C2": 1, "C3": 1}
                assert len(exec_ids(a)) == len(set(exec_ids(a))) == 5
                assert acks_by_cl_ord_id(b) == {"B1": 1, "B2": 1}
                assert a.garbled == b.garbled == []
                await a.close()
                await b.close()
        finally:
            a.db.close()
            b.db.close()
    run(main())


def test_client_restart_resumes_and_receives_what_it_missed_exactly_once(
        tmp_path: Path) -> None:
    async def main() -> None:
        a = Client(tmp_path, SHARED)
        b = Client(tmp_path, OTHER)
        try:
            async with exchange(tmp_path / "exchange") as ex:
                await a.connect(ex.fix_port)
                await b.connect(ex.fix_port)
                a.send(b"D", order("C1", BUY, "74.70", 5000))
                await a.report("C1", "0")
                # the member's process dies: no Logout, the connection just drops
                assert a.session is not None
                a.session.disconnect()
                await eventually(lambda: SHARED not in ex.gateway.sessions)
                before = a.app.messages
                out_before, in_before = a.store.next_sender_seq, a.store.next_target_seq

                for i in range(3):  # fills for A while it is away
                    b.send(b"D", order(f"B{i}", SELL, "74.70", 1000, broker="9B00"))
                await b.expect(3, tag_150="F")

                a.reopen()  # a new process: a new connection to the same SQLite file
                assert (a.store.next_sender_seq, a.store.next_target_seq) == (
                    out_before, in_before)
                a.app = Member()
                await a.connect(ex.fix_port)
                fills = await a.expect(3, tag_150="F")
                assert [vals(m, "43", "37", "39", "151", "14", "32") for m in fills] == [
                    ("Y", "1", "1", "4000", "1000", "1000"),
                    ("Y", "1", "1", "3000", "2000", "1000"),
                    ("Y", "1", "1", "2000", "3000", "1000")]
                a.send(b"D", order("C2", BUY, "74.60"))
                ack = await a.report("C2", "0")
                assert val(ack, "43") is None
                await a.quiet()
                # exactly once: nothing from before the restart again, nothing twice
                assert len(a.app.messages) == 4
                assert a.received(tag_11="C1", tag_150="0") == []
                resent = [m for m in a.wire(b"8") if val(m, "43") == "Y"]
                assert resent == fills  # only what it missed was resent
                seen = [val(m, "17") for m in before + a.app.messages]
                assert len(seen) == len(set(seen)) == 5
                assert a.store.next_target_seq == a.trace[-1].get_int(b"34") + 1
                await a.close()
                await b.close()
        finally:
            a.db.close()
            b.db.close()
    run(main())


def test_reports_for_a_line_that_is_down_survive_an_exchange_restart(tmp_path: Path) -> None:
    async def main() -> None:
        directory = tmp_path / "exchange"
        a = Client(tmp_path, SHARED)
        b = Client(tmp_path, OTHER)
        try:
            async with exchange(directory) as ex:
                await a.connect(ex.fix_port)
                await b.connect(ex.fix_port)
                a.send(b"D", order("C1", BUY, "74.70", 2000))
                await a.report("C1", "0")
                assert a.session is not None
                await a.session.logout()
                # A's line is down; B fills A's order: the report is stored for A
                b.send(b"D", order("B1", SELL, "74.70", 1000, broker="9B00"))
                await b.report("B1", "F")
            await b.disconnected()
            async with exchange(directory) as ex:  # the exchange restarts meanwhile
                await a.connect(ex.fix_port)
                fill = (await a.expect(1, tag_150="F"))[0]
                # Logon 1, ack 2, Logout 3, the fill 4, this Logon 5
                assert vals(fill, "34", "43", "37", "151", "14") == ("4", "Y", "1", "1000",
                                                                     "1000")
                # and later numbers do not collide with it
                a.send(b"D", order("C2", BUY, "74.60"))
                ack = await a.report("C2", "0")
                assert ack.get_int(b"34") == a.wire(b"A")[-1].get_int(b"34") + 1
                assert [m.get_int(b"34") for m in a.received()] == [2, 4, 6]
                await a.close()
        finally:
            a.db.close()
            b.db.close()
    run(main())
