"""The communication module: one pool of FIX sessions to the exchange, shared by every broker.

Orders the core accepted arrive as ``SendOrder`` events; the scheduler decides which broker's
next order goes out on which line and when (each line's rate respected, every broker its fair
share, idle lines free for anyone); the order is marked sent in the journal (durably) before its
NewOrderSingle is written, and every execution report comes back into the core as a command.

Because the core's order ID is the ClOrdID and the exchange refuses a ClOrdID twice per broker
and day, an order can never be executed twice, even if a crash makes the pool send it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import date

import msgspec

from brokercloud.core import commands as c
from brokercloud.core import events as e
from brokercloud.core.oms import OrderState
from brokercloud.core.sequencer import Sequencer
from brokercloud.fix import tags as t
from brokercloud.fix.codec import FixMessage
from brokercloud.fix.session import (
    FixSession,
    LogonRefusedError,
    SessionBinding,
    SessionConfig,
    State,
)
from brokercloud.fix.store import SessionStore
from brokercloud.fix.tags import MsgType
from brokercloud.fix.transport import connect_initiator
from brokercloud.lines import fix_bridge as fb
from brokercloud.lines.scheduler import Dispatch, LineSpec, Scheduler
from brokercloud.lines.usage import LineUsage
from brokercloud.market.sessions import taiwan_date

log = logging.getLogger("brokercloud.lines")

RECONNECT_S = 0.5  # between attempts to log a dropped line on again
RECENT_SENDS = 10_000


class LineConfig(msgspec.Struct, frozen=True):
    line: str
    password: str
    brokers: frozenset[str]
    rate: float = 20


def specs_of(lines: Iterable[LineConfig]) -> list[LineSpec]:
    """What the scheduler and the usage counts need of each line's configuration."""
    return [LineSpec(line.line, line.brokers, line.rate) for line in lines]


def _now_ms() -> int:
    return int(time.time() * 1000)


def _today() -> str:
    """The Taiwan trading date usage counts belong to (per send: formatted once a day)."""
    return _date_text(taiwan_date(int(time.time() * 1000)))


@functools.cache
def _date_text(day: date) -> str:
    return day.strftime("%Y%m%d")


def _line_of(session: FixSession) -> str:
    return session.config.sender_comp_id if session.config else ""


def _transact_time() -> bytes:
    return time.strftime("%Y%m%d-%H:%M:%S.000", time.gmtime()).encode()


class LinePool:
    """FIX initiators for every line, the scheduler between them, reports into the core.
    ``usage`` counts what each line carried for each broker (the operator's view); pass one
    to read it from elsewhere (the AP server), or read ``pool.usage``."""

    def __init__(self, sequencer: Sequencer, lines: Sequence[LineConfig],
                 db: sqlite3.Connection, host: str, port: int, *,
                 target_comp_id: str = "XTAI", heartbeat_s: int = 10,
                 usage: LineUsage | None = None) -> None:
        self.sequencer = sequencer
        self.lines = {line.line: line for line in lines}
        self._db = db
        self._host, self._port = host, port
        self._target = target_comp_id
        self._heartbeat_s = heartbeat_s
        specs = specs_of(lines)
        self.scheduler = Scheduler(specs)
        self.usage = usage if usage is not None else LineUsage(specs)
        self.sessions: dict[str, FixSession] = {}
        self._requests: dict[str, int] = {}  # order ID -> cancel/replace requests sent
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._keepers: list[asyncio.Task[None]] = []
        # "line ClOrdID" of the latest NewOrderSingles (``recent_sends``): bounded, since a
        # list of every one grew by the day's order count; a string, not a tuple per order
        # for the cyclic GC to walk
        self._sent: deque[str] = deque(maxlen=RECENT_SENDS)
        sequencer.listeners.append(self.on_events)

    def recent_sends(self) -> list[tuple[str, str]]:
        """(line, ClOrdID) of the latest NewOrderSingles, oldest first (line IDs hold no
        space)."""
        return [(line, order_id) for line, _, order_id in
                (entry.partition(" ") for entry in self._sent)]

    async def start(self) -> None:
        """Log every line on, queue what the core still has to send, start dispatching, and
        keep every line connected from then on."""
        for line in self.lines.values():
            await self._connect(line)
        self.reconcile()
        self._count_earlier_sends()
        self._task = asyncio.create_task(self._dispatch_forever())
        self._keepers = [asyncio.create_task(self._keep_connected(line))
                         for line in self.lines.values()]

    def _count_earlier_sends(self) -> None:
        """After a restart, the orders of the core's trading day already sent count again in
        the usage (each order keeps its line in the core's journal). Cancels and amendments
        sent before the restart are not journaled by line: those counts start again at zero."""
        state = self.sequencer.core.state
        day = state.trading_day
        for order in state.orders.values():
            if order.line and order.order_id.startswith(day):
                self.usage.record(order.line, order.broker, day)

    async def _connect(self, line: LineConfig) -> FixSession:
        config = SessionConfig(line.line, self._target, heartbeat_s=self._heartbeat_s,
                               password=line.password)
        store = SessionStore(self._db, config.session_id)
        rewind_to = self.sequencer.core.state.line_seqs.get(line.line, 0) + 1
        if store.next_target_seq > rewind_to:
            # reports the session counted but the core never journaled (a crash between the
            # two): ask the exchange for them again; the core absorbs repeats
            log.warning("line %s: asking again for reports from %d", line.line, rewind_to)
            store.next_target_seq = rewind_to
            store.commit()
        session = await connect_initiator(self._host, self._port,
                                          SessionBinding(config, store, self))
        self.sessions[line.line] = session
        return session

    async def _keep_connected(self, line: LineConfig) -> None:
        """A line that drops is logged on again (its sequence numbers resume), then its orders
        in flight are reconciled; meanwhile the scheduler's orders wait or take other lines."""
        while True:
            session = self.sessions.get(line.line)
            if session is not None:
                await asyncio.shield(session.closed)
            await asyncio.sleep(RECONNECT_S)
            try:
                await self._connect(line)
            except (OSError, TimeoutError, LogonRefusedError) as error:
                log.warning("line %s: reconnect failed: %s", line.line, error)
                continue
            self.reconcile(line.line)
            self._wakeup.set()

    def reconcile(self, line: str | None = None) -> None:
        """After a restart (all lines) or a line's reconnect: queue what was never sent, and
        ask the exchange about every order marked sent but never acknowledged (the crash may
        have come before its NewOrderSingle reached the line's store). Orders it does not know
        are sent again; for the others the line's own recovery (ResendRequest) brings the
        reports we missed."""
        for order in self.sequencer.core.state.orders.values():
            if order.state is OrderState.PENDING_SEND and line is None:
                self.scheduler.enqueue(order.broker, ("new", order.order_id))
            elif order.state is OrderState.SENT and order.line in self.sessions and (
                    line is None or order.line == line):
                self.sessions[order.line].send(
                    MsgType.ORDER_STATUS_REQUEST, fb.status_request(order))

    async def stop(self) -> None:
        for keeper in self._keepers:
            keeper.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for session in self.sessions.values():
            await session.logout()

    # -- from the core ---------------------------------------------------------------------------

    def on_events(self, events: Iterable[e.Event]) -> None:
        for event in events:
            if isinstance(event, e.SendOrder):
                self.scheduler.enqueue(event.broker, ("new", event.order_id))
            elif isinstance(event, e.SendCancel):
                self.scheduler.enqueue(event.broker, ("cancel", event.order_id))
            elif isinstance(event, e.SendAmend):
                self.scheduler.enqueue(event.broker, ("amend", event.order_id, event.qty,
                                                      event.price))
            else:
                continue
            self._wakeup.set()

    async def _dispatch_forever(self) -> None:
        """A round per wake-up: an enqueue, or the time the scheduler's next line is ready
        (a timer that sets the same event: ``asyncio.wait_for`` made a task per round)."""
        loop = asyncio.get_running_loop()
        while True:
            self._wakeup.clear()  # before dispatching: what is queued meanwhile wakes us again
            dispatches = self.scheduler.dispatch(time.monotonic_ns())
            if dispatches:
                await self._send_all(dispatches)
            ready = self.scheduler.next_ready_time(time.monotonic_ns())
            timer = None if ready is None else loop.call_later(
                max(ready - time.monotonic_ns(), 0) / 1e9, self._wakeup.set)
            await self._wakeup.wait()
            if timer is not None:
                timer.cancel()

    async def _send_all(self, dispatches: list[Dispatch]) -> None:
        """Send what the scheduler released, in its order. Every new order's line is journaled
        (MarkSent) before its NewOrderSingle leaves -- all of a round's marks in one group
        commit: awaited one by one, each send waited for its own fsync and the pool sent a
        few hundred orders a second whatever its lines allowed."""
        ready: list[tuple[FixSession, Dispatch]] = []
        marks: list[asyncio.Future[list[e.Event]]] = []
        for dispatch in dispatches:
            session = self.sessions.get(dispatch.line_id)
            if session is None or session.state is not State.ACTIVE:
                log.warning("line %s is down; %s requeued", dispatch.line_id, dispatch.item)
                self.scheduler.enqueue(dispatch.broker, dispatch.item)
                continue
            if dispatch.item[0] == "new":
                marks.append(self.sequencer.submit_nowait(c.MarkSent(
                    at=_now_ms(), order_id=dispatch.item[1], line=dispatch.line_id)))
            ready.append((session, dispatch))
        if marks:
            await asyncio.gather(*marks)
        for session, dispatch in ready:
            self._send(session, dispatch.line_id, dispatch.item)

    def _send(self, session: FixSession, line: str, item: tuple) -> None:
        kind, order_id = item[0], item[1]
        order = self.sequencer.core.state.orders.get(order_id)
        if order is None:
            return
        if kind == "new":
            if order.state is OrderState.SENT and order.line == line:
                session.send(MsgType.NEW_ORDER_SINGLE, fb.new_order_single(order,
                                                                          _transact_time()))
                self._sent.append(f"{line} {order_id}")
                self.usage.record(line, order.broker, _today())
            return
        n = self._requests[order_id] = self._requests.get(order_id, 0) + 1
        if kind == "cancel":
            session.send(MsgType.ORDER_CANCEL_REQUEST,
                         fb.cancel_request(order, n, _transact_time()))
        else:
            session.send(MsgType.ORDER_CANCEL_REPLACE_REQUEST,
                         fb.replace_request(order, n, item[2], item[3], _transact_time()))
        self.usage.record(line, order.broker, _today())

    # -- from the exchange (the FIX application) -----------------------------------------------

    def on_logon(self, session: FixSession) -> None:
        log.info("line %s logged on", session.session_id)
        self.usage.set_connected(_line_of(session), True)
        self.scheduler.set_line_up(_line_of(session), True)
        self._wakeup.set()

    def on_logout(self, session: FixSession) -> None:
        log.warning("line %s logged out: %s", session.session_id, session.logout_reason)
        self.usage.set_connected(_line_of(session), False)
        self.scheduler.set_line_up(_line_of(session), False)

    def on_message(self, session: FixSession, message: FixMessage) -> None:
        if fb.is_unknown_to_exchange(message):
            if message.get(t.POSS_DUP_FLAG) != b"Y":  # an answer to this life's question only
                self._resend(session, fb.order_id_of(message))
            return
        # a malformed report raises FixError: the session rejects it
        command = fb.report_to_command(message, _now_ms(), _line_of(session))
        if command is not None:
            self.sequencer.submit_nowait(command)

    def _resend(self, session: FixSession, order_id: str) -> None:
        order = self.sequencer.core.state.orders.get(order_id)
        if order is not None and order.state is OrderState.SENT:
            log.warning("order %s never reached the exchange; sending it again", order_id)
            session.send(MsgType.NEW_ORDER_SINGLE, fb.new_order_single(order, _transact_time()))
            self._sent.append(f"{order.line} {order_id}")
            self.usage.record(order.line, order.broker, _today())
