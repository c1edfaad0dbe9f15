"""The exchange's FIX acceptor: lines log on, member brokers' orders come in, execution reports
go back on the line each order arrived on.

Order of work for one inbound application message:
1. the line's rate limit (a token bucket per line, real time);
2. the broker in OnBehalfOfCompID must be registered on that line;
3. the message becomes a command (``fix_messages``); a malformed one is a session Reject;
4. the clock advances, the command is journaled, the engine applies it;
5. each engine event becomes a report, numbered and stored in the line's session even when the
   line is down (the member recovers it by ResendRequest after its next Logon).

A restart replays the journal through a fresh engine with reports suppressed: the books, the
order-to-line map and the average prices come back exactly, and nothing is reported twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import msgspec

from brokercloud.codes import Code
from brokercloud.exchange import fix_messages as fm
from brokercloud.exchange.book import Order
from brokercloud.exchange.clock import Clock, SimulatedClock
from brokercloud.exchange.commands import Command
from brokercloud.exchange.engine import Exchange
from brokercloud.exchange.events import (
    Accepted,
    Amended,
    Cancelled,
    Event,
    Expired,
    Filled,
    Rejected,
    RequestRejected,
)
from brokercloud.exchange.journal import Journal
from brokercloud.exchange.registry import LineRegistry
from brokercloud.fix import tags as t
from brokercloud.fix.codec import FixMessage
from brokercloud.fix.outbound import header_ids, record_message
from brokercloud.fix.session import (
    FixSession,
    SessionBinding,
    SessionConfig,
    State,
    UnsupportedMessageError,
)
from brokercloud.fix.store import Database, SessionStore, commit
from brokercloud.fix.tags import MsgType
from brokercloud.fix.throttle import TokenBucket
from brokercloud.market.instruments import Instrument
from brokercloud.market.sessions import Phase

log = logging.getLogger("brokercloud.exchange")

_ORDER_MESSAGES = frozenset({MsgType.NEW_ORDER_SINGLE, MsgType.ORDER_CANCEL_REQUEST,
                             MsgType.ORDER_CANCEL_REPLACE_REQUEST, MsgType.ORDER_STATUS_REQUEST})
_Listing = tuple[Instrument, int]


class ExchangeGateway:
    """The application behind the exchange's FIX acceptor (see the module docstring)."""

    def __init__(self, registry: LineRegistry, listings: Sequence[_Listing],
                 db: Database, clock: Clock, *, seed: int = 1,
                 price_stabilization: bool = False,
                 heartbeat_s: int = 10) -> None:
        self.registry = registry
        self.db = db
        self.clock = clock
        self.journal = Journal(db, clock.trading_date)
        day = self.journal.day()
        if day is None:
            self.journal.start_day(seed, msgspec.msgpack.encode(list(listings)),
                                   price_stabilization)
        else:
            seed, price_stabilization = day[0], bool(day[2])
            listings = msgspec.msgpack.decode(day[1], type=list[tuple[Instrument, int]])
        self.exchange = Exchange(listings, seed=seed, emit=self._on_event,
                                 price_stabilization=price_stabilization)
        target = registry.target_comp_id
        self._configs = {line.line: SessionConfig(target, line.line, heartbeat_s=heartbeat_s)
                         for line in registry.lines}
        # a line's store commits with the journal, also while the line is down
        self._stores = {name: SessionStore(db, config.session_id)
                        for name, config in self._configs.items()}
        self._ids = {name: header_ids(target, name) for name in self._configs}
        self._buckets = {line.line: TokenBucket(registry.rate_limit(line))
                         for line in registry.lines if registry.rate_limit(line)}
        self.sessions: dict[str, FixSession] = {}
        self._order_line: dict[int, str] = {}
        self._cum_value: dict[int, int] = {}
        self._identity: dict[int, tuple[Order, int, str, bytes]] = {}  # report prefix by version
        self._line = ""  # the line whose command the engine is applying
        self._text_ms, self._text = -1, b""  # the last TransactTime (see _time_text)
        self._inbound: FixMessage | None = None
        self._replaying = False
        self._replay()
        commit(db)

    # -- sessions -----------------------------------------------------------------------------

    def resolve(self, logon: FixMessage) -> SessionBinding | str:
        """Accept a Logon only from a registered line with its password, once at a time."""
        if logon.get(t.TARGET_COMP_ID) != self.registry.target_comp_id.encode():
            return f"TargetCompID must be {self.registry.target_comp_id}"
        name = (logon.get(t.SENDER_COMP_ID) or b"").decode(errors="replace")
        line = self.registry.find(name)
        if line is None:
            return f"line {name} is not registered at this exchange"
        if not line.password_matches(logon.get(t.PASSWORD) or b""):
            return f"wrong password for line {name}"
        if name in self.sessions:
            return f"line {name} is already logged on"
        return SessionBinding(self._configs[name], self._stores[name], self,
                              on_close=self._on_close)

    def on_logon(self, session: FixSession) -> None:
        name = self._line_of(session)
        self.sessions[name] = session
        log.info("line %s logged on", name)

    def on_logout(self, session: FixSession) -> None:
        log.info("line %s logged out: %s", self._line_of(session), session.logout_reason)

    def _on_close(self, session: FixSession) -> None:
        name = self._line_of(session)
        if self.sessions.get(name) is session:
            del self.sessions[name]

    @staticmethod
    def _line_of(session: FixSession) -> str:
        return session.config.target_comp_id if session.config else ""

    # -- inbound --------------------------------------------------------------------------------

    def on_message(self, session: FixSession, message: FixMessage) -> None:
        msg_type = message.fields[t.MSG_TYPE]
        if msg_type not in _ORDER_MESSAGES:
            raise UnsupportedMessageError(msg_type)
        name = self._line_of(session)
        bucket = self._buckets.get(name)
        if bucket is not None and not bucket.try_acquire(asyncio.get_running_loop().time()):
            self._refuse(name, message, Code.LINE_RATE_LIMIT_EXCEEDED)
            return
        broker = fm.broker_of(message)
        line = self.registry.find(name)
        if line is None or broker not in line.brokers:
            self._refuse(name, message, Code.BROKER_NOT_ON_LINE)
            return
        if msg_type == MsgType.ORDER_STATUS_REQUEST:
            self._report_status(name, broker, message)
            return
        command: Command
        if msg_type == MsgType.NEW_ORDER_SINGLE:
            command = fm.new_order_from_fix(message, broker)
        elif msg_type == MsgType.ORDER_CANCEL_REQUEST:
            command = fm.cancel_from_fix(message, broker)
        else:
            current = self.exchange.order(broker, fm.order_id_of(message),
                                          (message.get(t.ORIG_CL_ORD_ID) or b"").decode())
            command = fm.amend_from_fix(message, broker, current)
        self.apply(name, command, message)

    def apply(self, line: str, command: Command, message: FixMessage | None = None) -> None:
        """Journal and apply one command at the current exchange time."""
        self.tick()
        self.journal.record_command(self.exchange.now, line, command)
        self._line, self._inbound = line, message
        try:
            self.exchange.handle(command)
        finally:
            self._line, self._inbound = "", None

    def tick(self) -> None:
        """Bring the engine to the clock's time; journal the step if scheduled actions ran."""
        now = self.clock.now()
        if now > self.exchange.now and self.exchange.advance_to(now):
            self.journal.record_tick(self.exchange.now)
            commit(self.db)

    def _refuse(self, line: str, message: FixMessage, code: Code) -> None:
        """A refusal decided before the engine (rate limit, broker not on line)."""
        broker = (message.get(t.ON_BEHALF_OF_COMP_ID) or b"").decode(errors="replace")
        cl_ord_id = (message.get(t.CL_ORD_ID) or b"").decode(errors="replace")
        exec_id = f"L{line}-{message.get_int(t.MSG_SEQ_NUM, 0)}"
        if message.msg_type in (MsgType.NEW_ORDER_SINGLE, MsgType.ORDER_STATUS_REQUEST):
            self._send(line, MsgType.EXECUTION_REPORT, fm.rejected_report(
                broker, (message.get(t.ACCOUNT) or b"").decode(errors="replace"), cl_ord_id,
                (message.get(t.SYMBOL) or b"").decode(errors="replace"), exec_id, code,
                self._now_text(), message, exec_type=fm.ExecType.ORDER_STATUS
                if message.msg_type == MsgType.ORDER_STATUS_REQUEST else fm.ExecType.REJECTED))
        else:
            self._send(line, MsgType.ORDER_CANCEL_REJECT, fm.cancel_reject(
                broker, fm.order_id_of(message), cl_ord_id,
                (message.get(t.ORIG_CL_ORD_ID) or b"").decode(errors="replace"),
                fm.OrdStatus.REJECTED,
                "cancel" if message.msg_type == MsgType.ORDER_CANCEL_REQUEST else "amend", code))

    def _report_status(self, line: str, broker: str, message: FixMessage) -> None:
        order = self.exchange.order(broker, fm.order_id_of(message),
                                    (message.get(t.CL_ORD_ID) or b"").decode(errors="replace"))
        exec_id = f"S{line}-{message.get_int(t.MSG_SEQ_NUM, 0)}"
        if order is None:
            self._send(line, MsgType.EXECUTION_REPORT, fm.rejected_report(
                broker, "", (message.get(t.CL_ORD_ID) or b"").decode(errors="replace"),
                (message.get(t.SYMBOL) or b"").decode(errors="replace"), exec_id,
                Code.UNKNOWN_ORDER, self._now_text(), message, exec_type=fm.ExecType.ORDER_STATUS))
            return
        self._send(line, MsgType.EXECUTION_REPORT, self._report(
            order, exec_id, fm.ExecType.ORDER_STATUS, fm.status_of(order, self._ended(order)),
            order.leaves, order.cum_qty))

    # -- engine events to reports -----------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        kind = type(event)
        if kind is Accepted:
            self._order_line[event.order_id] = self._line
            self._cum_value[event.order_id] = 0
        elif kind is Filled:
            self._cum_value[event.order_id] += event.price * event.qty
        if self._replaying:
            return
        if kind is Rejected:
            self._send(self._line, MsgType.EXECUTION_REPORT, fm.rejected_report(
                event.broker, event.account, event.cl_ord_id, event.symbol, event.seq,
                event.code, self._time_text(event.time), self._inbound))
            return
        if kind is RequestRejected:
            self._send(self._line, MsgType.ORDER_CANCEL_REJECT, self._cancel_reject(event))
            return
        order = self.exchange.orders[event.order_id]
        line = self._order_line[event.order_id]
        body = self._event_report(event, order)
        self._send(line, MsgType.EXECUTION_REPORT, body)

    def _event_report(self, event: Event, order: Order) -> bytes:
        kind = type(event)
        if kind is Accepted:
            return self._report(order, event.seq, fm.ExecType.NEW, fm.OrdStatus.NEW,
                                event.qty, 0, when=event.time)
        if kind is Filled:
            status = fm.OrdStatus.FILLED if event.leaves == 0 and (
                event.cum_qty == order.qty) else fm.OrdStatus.PARTIALLY_FILLED
            return self._report(order, event.seq, fm.ExecType.TRADE, status, event.leaves,
                                event.cum_qty, when=event.time, last=(event.price, event.qty))
        if kind is Amended:
            return self._report(order, event.seq, fm.ExecType.REPLACED, fm.status_of(order),
                                event.leaves, order.cum_qty, when=event.time,
                                orig_cl_ord_id=event.orig_cl_ord_id)
        if isinstance(event, Cancelled):
            request = self._inbound
            if request is not None and request.msg_type == MsgType.ORDER_CANCEL_REQUEST:
                # FIX: the cancel request's ClOrdID, the order's in OrigClOrdID
                return self._report(order, event.seq, fm.ExecType.CANCELED,
                                    fm.OrdStatus.CANCELED, 0, order.cum_qty, when=event.time,
                                    code=event.code, orig_cl_ord_id=order.cl_ord_id,
                                    cl_ord_id=request.fields[t.CL_ORD_ID].decode())
            return self._report(order, event.seq, fm.ExecType.CANCELED, fm.OrdStatus.CANCELED,
                                0, order.cum_qty, when=event.time, code=event.code)
        if isinstance(event, Expired):
            return self._report(order, event.seq, fm.ExecType.EXPIRED, fm.OrdStatus.EXPIRED,
                                0, order.cum_qty, when=event.time, code=event.code)
        raise TypeError(f"no report for {kind.__name__}")

    def _report(self, order: Order, exec_id: int | str, exec_type: bytes, status: bytes,
                leaves: int, cum: int, *, when: int | None = None,
                last: tuple[int, int] | None = None, code: Code | None = None,
                orig_cl_ord_id: str = "", cl_ord_id: str = "") -> bytes:
        cached = self._identity.get(order.order_id)
        if cached is None or cached[0] is not order or cached[1] != order.qty or (
                cached[2] != order.cl_ord_id):  # a reduction or new ClOrdID edits in place
            cached = (order, order.qty, order.cl_ord_id, fm.order_identity(order))
            self._identity[order.order_id] = cached
        identity = cached[3] if not cl_ord_id else fm.order_identity(
            msgspec.structs.replace(order, cl_ord_id=cl_ord_id))
        return fm.execution_report(
            identity, exec_id, exec_type, status, leaves, cum,
            self._time_text(self.exchange.now if when is None else when),
            fm.average_price(self._cum_value.get(order.order_id, 0), cum),
            last=last, code=code, orig_cl_ord_id=orig_cl_ord_id)

    def _cancel_reject(self, event: RequestRejected) -> bytes:
        # the broker's own order only: another broker's is unknown, its status no exception
        order = self.exchange.order(event.broker, event.order_id)
        status = (fm.status_of(order, self._ended(order)) if order is not None
                  else fm.OrdStatus.REJECTED)
        return fm.cancel_reject(event.broker, event.order_id, event.cl_ord_id,
                                event.orig_cl_ord_id, status, event.request, event.code)

    def _ended(self, order: Order) -> bytes:
        """Why a finished, unfilled order ended: expired once its session closed, else
        cancelled."""
        return (fm.OrdStatus.EXPIRED if self.exchange.phases[order.session] is Phase.CLOSED
                else fm.OrdStatus.CANCELED)

    def _send(self, line: str, msg_type: bytes, body: bytes) -> None:
        session = self.sessions.get(line)
        if session is not None and session.state is State.ACTIVE:
            session.send(msg_type, body)
        elif line in self._stores:
            record_message(self._stores[line], self._ids[line], msg_type, body)

    def _time_text(self, ms_of_day: int) -> bytes:
        """TransactTime text; the reports of one command share their time, so the last one is
        kept."""
        if ms_of_day != self._text_ms:
            self._text_ms = ms_of_day
            self._text = fm.transact_time(self.clock.trading_date, ms_of_day)
        return self._text

    def _now_text(self) -> bytes:
        return self._time_text(self.exchange.now)

    # -- restart --------------------------------------------------------------------------------

    def _replay(self) -> None:
        """Rebuild the day from the journal without reporting anything again."""
        self._replaying = True
        replayed = 0
        try:
            for entry in self.journal.entries():
                self.exchange.advance_to(entry.time)
                if entry.command is not None:
                    self._line = entry.line
                    self.exchange.handle(entry.command)
                    replayed += 1
        finally:
            self._replaying = False
            self._line = ""
        if replayed:
            log.info("replayed %d commands from the journal up to %d ms", replayed,
                     self.exchange.now)
        if isinstance(self.clock, SimulatedClock):
            self.clock.resume_from(self.exchange.now)

