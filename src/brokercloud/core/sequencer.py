"""The sequencer: the one place commands enter the middle office.

Callers ``submit`` commands; a single task takes whatever has queued up, writes it to the
journal as one batch with one fsync (in a worker thread, so new commands keep queuing
meanwhile), and only then applies each command in order and answers its caller with the events
it produced. A command is therefore acknowledged only once it is durable, and the state is
exactly the journal applied in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import msgspec

from brokercloud import gc_policy
from brokercloud.core.commands import Cmd, Command
from brokercloud.core.events import Event
from brokercloud.core.journal import JournalFile
from brokercloud.core.snapshot import load_snapshot, write_snapshot
from brokercloud.core.state import CoreState

log = logging.getLogger("brokercloud.core")

MAX_BATCH = 4096
_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Command)

Listener = Callable[[list[Event]], object]


def encode(command: Cmd) -> bytes:
    return _encoder.encode(command)


def decode(payload: bytes) -> Cmd:
    return _decoder.decode(payload)


class Core:
    """The state plus its journal, without asyncio: replay on open, then append-and-apply.
    ``Sequencer`` adds group commit on top; tests and tools may use this directly."""

    def __init__(self, data_dir: str | Path, *, fsync: bool = True) -> None:
        self.data_dir = Path(data_dir)
        self.journal = JournalFile(self.data_dir / "journal.bin", fsync=fsync)
        self.state, start = load_snapshot(self.data_dir)
        if start > self.journal.records:
            log.warning("snapshot at %d is ahead of the journal (%d); ignoring it", start,
                        self.journal.records)
            self.state, start = CoreState(), 0
        self.seq = start
        self.replayed = self.replay(start)
        self.apply_ns: list[int] = []  # per-command apply times when measuring

    def replay(self, start: int) -> int:
        """Apply every journaled command after the snapshot; returns how many."""
        apply = self.state.apply
        count = 0
        for payload in self.journal.read(start):
            self.seq += 1
            try:
                apply(self.seq, _decoder.decode(payload))
            except Exception:  # it failed the same way live; the core must still come up
                log.exception("journaled command %d fails to apply; skipped as it was live",
                              self.seq)
            count += 1
        return count

    def execute(self, commands: Iterable[Cmd]) -> list[list[Event]]:
        """Journal a batch durably, then apply it; the events of each command in order."""
        batch = list(commands)
        self.journal.append([_encoder.encode(command) for command in batch])
        return self.apply_journaled(batch)

    def apply_journaled(self, batch: list[Cmd]) -> list[list[Event]]:
        results = []
        apply = self.state.apply
        for command in batch:
            self.seq += 1
            results.append(apply(self.seq, command))
        return results

    def snapshot(self) -> Path:
        return write_snapshot(self.data_dir, self.state, self.seq)

    def close(self) -> None:
        self.journal.close()


class Sequencer:
    """Group commit on an event loop: one fsync per batch, callers answered after it."""

    def __init__(self, core: Core, listeners: Iterable[Listener] = ()) -> None:
        self.core = core
        self.listeners = list(listeners)
        self._queue: list[tuple[Cmd, asyncio.Future[list[Event]]]] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
        self._gc_before = (0, 0, 0)  # set on entry
        self._busy = False
        self._failed: Exception | None = None
        self.measure = False

    async def __aenter__(self) -> Sequencer:
        self._gc_before = gc_policy.settle()  # reference data and replayed state live all day
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Finish what was submitted (durably written and applied, callers answered), then
        stop."""
        while (self._queue or self._busy) and self._failed is None and (
                self._task is not None and not self._task.done()):
            await asyncio.sleep(0.001)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._writer.shutdown(wait=True)
        gc_policy.restore(self._gc_before)

    def submit_nowait(self, command: Cmd) -> asyncio.Future[list[Event]]:
        future: asyncio.Future[list[Event]] = asyncio.get_running_loop().create_future()
        if self._failed is not None:  # fail-stop: nothing is accepted after a journal failure
            future.set_exception(self._failed)
            return future
        self._queue.append((command, future))
        self._wakeup.set()
        return future

    async def submit(self, command: Cmd) -> list[Event]:
        """Journal durably, apply, and return the events the command produced."""
        return await self.submit_nowait(command)

    async def _run(self) -> None:
        """Pipeline: batch N+1 is encoded and written (fsync included, on the journal's own
        thread, so writes stay in order) while batch N, already durable, is applied."""
        loop = asyncio.get_running_loop()
        append = self.core.journal.append
        previous: tuple[list[tuple[Cmd, asyncio.Future[list[Event]]]], asyncio.Future[None]] \
            | None = None
        while True:
            if not self._queue and previous is None:
                self._busy = False
                await self._wakeup.wait()
                self._wakeup.clear()
            self._busy = True
            current = None
            if self._queue:
                taken, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                batch, payloads = _encodable(taken)
                current = (batch, loop.run_in_executor(self._writer, append, payloads))
            if previous is not None:
                try:
                    await previous[1]
                except Exception as error:  # the journal cannot write: stop, tell everyone
                    self._fail(error, previous[0] + (current[0] if current else []))
                    return
                self._apply(previous[0])
            previous = current

    def _fail(self, error: Exception,
              unwritten: list[tuple[Cmd, asyncio.Future[list[Event]]]]) -> None:
        log.critical("journal write failed; the sequencer stops accepting commands: %s", error)
        self._failed = error
        waiting = [future for _, future in unwritten + self._queue]
        self._queue = []
        for future in waiting:
            if not future.done():
                future.set_exception(error)

    def _apply(self, batch: list[tuple[Cmd, asyncio.Future[list[Event]]]]) -> None:
        core = self.core
        apply = core.state.apply
        timings = core.apply_ns if self.measure else None
        listeners = self.listeners
        clock = time.perf_counter_ns
        seq = core.seq
        for command, future in batch:
            seq += 1
            core.seq = seq
            try:
                if timings is None:
                    events = apply(seq, command)
                else:
                    started = clock()
                    events = apply(seq, command)
                    timings.append(clock() - started)
            except Exception as error:  # a bug in apply: answer the caller, keep the core up
                log.exception("apply failed on command %d", seq)
                if not future.done():
                    future.set_exception(error)
                continue
            for listener in listeners:
                listener(events)
            if not future.done():
                future.set_result(events)


def _encodable(taken: list[tuple[Cmd, asyncio.Future[list[Event]]]]
               ) -> tuple[list[tuple[Cmd, asyncio.Future[list[Event]]]], list[bytes]]:
    """Encode a batch for the journal; a command that cannot be encoded (a value out of
    range, say) is refused to its caller alone and never reaches the journal."""
    try:  # the norm: everything encodes
        return taken, [_encoder.encode(command) for command, _ in taken]
    except (msgspec.EncodeError, OverflowError, TypeError, ValueError):
        return _encode_each(taken)


def _encode_each(taken: list[tuple[Cmd, asyncio.Future[list[Event]]]]
                 ) -> tuple[list[tuple[Cmd, asyncio.Future[list[Event]]]], list[bytes]]:
    batch, payloads = [], []
    for command, future in taken:
        try:
            payloads.append(_encoder.encode(command))
        except (msgspec.EncodeError, OverflowError, TypeError, ValueError) as error:
            if not future.done():
                future.set_exception(ValueError(f"command cannot be journaled: {error}"))
            continue
        batch.append((command, future))
    return batch, payloads
