"""A real acceptor on loopback and a raw FIX client whose every byte the test chooses.

The raw client builds frames with the codec's ``frame``/``fields_to_bytes`` so a test controls
sequence numbers, PossDupFlag, SendingTime and checksums, and reads the acceptor's replies with
``FrameDecoder`` + ``parse``. Nothing is mocked: every test speaks TCP to a real ``FixSession``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from brokercloud.fix import tags as t
from brokercloud.fix.codec import FixMessage, FrameDecoder, FrameProblem, frame, parse
from brokercloud.fix.session import (
    FixSession,
    SessionBinding,
    SessionConfig,
    UnsupportedMessageError,
)
from brokercloud.fix.store import SessionStore, open_database
from brokercloud.fix.transport import connect_initiator, start_acceptor

ACCEPTOR = "XTAI"
CLIENT = "BRK01"
PASSWORD = "pw"
WAIT = 2.0  # seconds any expected reply may take on loopback


def run(coroutine: Coroutine[Any, Any, None]) -> None:
    """pytest-asyncio is not installed: each test runs its own event loop. Any exception that
    escapes a protocol callback (asyncio would log it and drop the connection) fails the test."""
    escaped: list[dict[str, Any]] = []

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _, context: escaped.append(context))
        await coroutine

    asyncio.run(main())
    assert not escaped, f"exceptions escaped into the event loop: {escaped}"


STALL_S = 0.5  # an event loop late by this much has seen the machine stall


class LoopWatch:
    """The largest delay the event loop showed while a scenario ran."""

    def __init__(self) -> None:
        self.max_lag = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(0.05)
            self.max_lag = max(self.max_lag, loop.time() - start - 0.05)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._watch())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


def run_timed(scenario: Callable[[Path], Coroutine[Any, Any, None]], tmp_path: Path,
              attempts: int = 3) -> None:
    """Run a scenario whose assertions depend on timing (heartbeats, pacing), each attempt in a
    fresh directory. A failure is retried only if the event loop was seen to stall (a frozen
    machine makes every timing meaningless); any other failure is reported at once."""
    for attempt in range(attempts):
        directory = tmp_path / f"attempt{attempt}"
        directory.mkdir()
        watch = LoopWatch()

        async def main(directory: Path = directory, watch: LoopWatch = watch) -> None:
            watch.start()
            try:
                await scenario(directory)
            finally:
                watch.stop()

        try:
            run(main())
            return
        except (AssertionError, TimeoutError):
            if watch.max_lag < STALL_S or attempt == attempts - 1:
                raise


def utc(offset_s: float = 0.0) -> bytes:
    now = time.time() + offset_s
    return b"%s.%03d" % (time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(now)).encode(),
                         int((now % 1) * 1000))


async def eventually(predicate: Callable[[], bool], timeout: float = WAIT) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), timeout)


class Recorder:
    """The application on either side: keeps every delivery; answers NewOrderSingle with an
    ExecutionReport; a D without Symbol is a FIX error; other types are unsupported."""

    def __init__(self) -> None:
        self.messages: list[FixMessage] = []
        self.arrival: list[float] = []  # event-loop time of each delivery
        self.sessions: list[FixSession] = []
        self.logouts = 0

    def on_logon(self, session: FixSession) -> None:
        self.sessions.append(session)

    def on_logout(self, session: FixSession) -> None:
        self.logouts += 1

    def on_message(self, session: FixSession, message: FixMessage) -> None:
        self.messages.append(message)
        self.arrival.append(asyncio.get_running_loop().time())
        if message.msg_type == b"D":
            message.require(t.SYMBOL)
            if session.initiator:
                return
            session.send(b"8", b"11=%s\x01150=0\x0139=0\x01" % message.fields[t.CL_ORD_ID])
        elif message.msg_type != b"8":
            raise UnsupportedMessageError

    def values(self, tag: bytes, msg_type: bytes = b"D") -> list[bytes | None]:
        return [m.get(tag) for m in self.messages if m.msg_type == msg_type]


class Acceptor:
    """``start_acceptor`` with a password-checking resolver over one SQLite file."""

    def __init__(self, db_path: Path, *, heartbeat_s: int = 30, logon_timeout: float = 5.0,
                 max_held: int = 10_000) -> None:
        self.db_path = db_path
        self.heartbeat_s = heartbeat_s
        self.logon_timeout = logon_timeout
        self.max_held = max_held
        self.app = Recorder()
        self.db: sqlite3.Connection | None = None
        self.server: asyncio.Server | None = None
        self.port = 0
        self.closed: list[FixSession] = []

    def resolve(self, logon: FixMessage) -> SessionBinding | str:
        if logon.get(t.PASSWORD) != PASSWORD.encode():
            return "wrong password"
        assert self.db is not None
        sender = logon.fields[t.SENDER_COMP_ID].decode()
        config = SessionConfig(ACCEPTOR, sender, heartbeat_s=self.heartbeat_s,
                               max_held=self.max_held)
        return SessionBinding(config, SessionStore(self.db, config.session_id), self.app,
                              on_close=self.closed.append)

    def store(self, client: str = CLIENT) -> SessionStore:
        assert self.db is not None
        return SessionStore(self.db, f"{ACCEPTOR}->{client}")

    async def __aenter__(self) -> Acceptor:
        self.db = open_database(self.db_path)
        self.server = await start_acceptor("127.0.0.1", 0, self.resolve, self.logon_timeout)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None and self.db is not None
        self.server.close()
        for session in self.app.sessions:
            session.disconnect()
        await self.server.wait_closed()
        await asyncio.sleep(0)
        self.db.close()


class Initiator:
    """A ``connect_initiator`` session over its own SQLite file."""

    def __init__(self, db_path: Path, port: int, *, sender: str = CLIENT,
                 heartbeat_s: int = 30, password: str = PASSWORD,
                 outbound_rate: float = 0) -> None:
        self.db_path = db_path
        self.port = port
        self.app = Recorder()
        self.config = SessionConfig(sender, ACCEPTOR, heartbeat_s=heartbeat_s,
                                    username="u", password=password,
                                    outbound_rate=outbound_rate)
        self.db: sqlite3.Connection | None = None
        self.session: FixSession | None = None

    def store(self) -> SessionStore:
        assert self.db is not None
        return SessionStore(self.db, self.config.session_id)

    async def connect(self) -> FixSession:
        self.db = open_database(self.db_path)
        binding = SessionBinding(self.config, self.store(), self.app)
        self.session = await connect_initiator("127.0.0.1", self.port, binding, timeout=WAIT)
        return self.session

    async def close(self) -> None:
        if self.session is not None:
            await self.session.logout("bye", timeout=WAIT)
        if self.db is not None:
            self.db.close()
            self.db = None


class RawClient:
    """A FIX peer written by hand: the test decides every field of every frame."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 sender: str = CLIENT) -> None:
        self.reader = reader
        self.writer = writer
        self.sender = sender.encode()
        self.decoder = FrameDecoder()
        self.queue: list[FixMessage] = []
        self.problems: list[FrameProblem] = []
        self.next_seq = 1
        self.eof = False

    @classmethod
    async def connect(cls, port: int, sender: str = CLIENT) -> RawClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer, sender)

    def build(self, msg_type: bytes, body: bytes = b"", *, seq: int | None = None,
              poss_dup: bool = False, orig_sending_time: bytes | None = None,
              sending_time: bytes | None = None, target: bytes = ACCEPTOR.encode()) -> bytes:
        """A frame from this client; ``seq`` None takes (and advances) the next number."""
        if seq is None:
            seq = self.next_seq
            self.next_seq += 1
        header = b"35=%s\x0149=%s\x0156=%s\x0134=%d\x0152=%s\x01" % (
            msg_type, self.sender, target, seq, sending_time or utc())
        if poss_dup:
            header += b"43=Y\x01"
        if orig_sending_time is not None:
            header += b"122=%s\x01" % orig_sending_time
        return frame(header + body)

    async def write(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send(self, msg_type: bytes, body: bytes = b"", **kwargs: Any) -> None:
        await self.write(self.build(msg_type, body, **kwargs))

    async def logon(self, *, heartbeat_s: int = 30, password: str = PASSWORD,
                    reset: bool = False, seq: int | None = None) -> FixMessage:
        body = b"98=0\x01108=%d\x01553=u\x01554=%s\x01" % (heartbeat_s, password.encode())
        if reset:
            body += b"141=Y\x01"
        await self.send(b"A", body, seq=seq)
        return await self.expect(b"A")

    async def receive(self, timeout: float = WAIT) -> FixMessage:
        """The next message from the acceptor; fails on timeout or a closed connection."""
        async def next_message() -> FixMessage:
            while not self.queue:
                data = await self.reader.read(65536)
                if not data:
                    self.eof = True
                    raise ConnectionError("acceptor closed the connection")
                for item in self.decoder.feed(data):
                    if isinstance(item, FrameProblem):
                        self.problems.append(item)
                    else:
                        self.queue.append(parse(item))
            return self.queue.pop(0)
        return await asyncio.wait_for(next_message(), timeout)

    async def expect(self, msg_type: bytes, timeout: float = WAIT) -> FixMessage:
        message = await self.receive(timeout)
        assert message.msg_type == msg_type, f"expected 35={msg_type!r}, got {message!r}"
        assert message.fields[t.SENDER_COMP_ID] == ACCEPTOR.encode()
        assert message.fields[t.TARGET_COMP_ID] == self.sender
        return message

    async def expect_nothing(self, quiet_s: float = 0.3) -> None:
        try:
            message = await self.receive(quiet_s)
        except TimeoutError:
            return
        raise AssertionError(f"expected silence, got {message!r}")

    async def expect_disconnect(self, timeout: float = WAIT) -> list[FixMessage]:
        """Read to end of stream; return whatever came before it."""
        before: list[FixMessage] = []
        try:
            while True:
                before.append(await self.receive(timeout))
        except ConnectionError:
            return before

    async def test_request(self, test_id: bytes = b"PING") -> FixMessage:
        """TestRequest at the next seq; the Heartbeat answering it proves the session is up
        and counted every number before it (a gap would bring a ResendRequest instead)."""
        await self.send(b"1", b"112=%s\x01" % test_id)
        heartbeat = await self.expect(b"0")
        assert heartbeat.get(t.TEST_REQ_ID) == test_id
        return heartbeat

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


async def with_timeout(awaitable: Awaitable[Any], timeout: float = WAIT) -> Any:
    return await asyncio.wait_for(awaitable, timeout)
