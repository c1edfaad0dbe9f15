"""The FIX 4.4 session layer on asyncio: one ``FixSession`` per TCP connection.

Handlers follow QuickFIX's naming: ``next_*`` for inbound messages, ``generate_*`` for what we
send, ``do_*`` for recovery. The session's state moves only through ``_TRANSITIONS``.

Everything one read from the socket produces is recorded in the store, committed once, and only
then written to the socket (group commit, write-ahead): a restart can never forget a sequence
number the peer has seen. Sends from outside a read (application events, timers) are batched the
same way at the end of the event-loop iteration.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable
from typing import ClassVar, Protocol, cast

import msgspec

from brokercloud.fix import tags as t
from brokercloud.fix.codec import (
    FixError,
    FixMessage,
    FrameDecoder,
    FrameProblem,
    fields_to_bytes,
    frame,
    parse,
)
from brokercloud.fix.outbound import header_ids, record_message, sending_time
from brokercloud.fix.store import SessionStore
from brokercloud.fix.tags import (
    ADMIN_MSG_TYPES,
    BEGIN_STRING_VALUE,
    FIX44_MSG_TYPES,
    BusinessRejectReason,
    MsgType,
)
from brokercloud.fix.tags import SessionRejectReason as Reason
from brokercloud.fix.throttle import TokenBucket

log = logging.getLogger("brokercloud.fix")

TEST_REQUEST_GRACE = 1.2  # silence of 1.2 heartbeat intervals earns a TestRequest
DISCONNECT_GRACE = 2.5  # silence of 2.5 intervals ends the connection
LOGOUT_TIMEOUT_S = 2.0
LOGON_TIMEOUT_S = 5.0  # an acceptor hangs up on a connection that sends no Logon this long
FLUSH_EVERY = 64  # frames handled per group commit within one large read


class State(enum.StrEnum):
    CONNECTED = "connected"  # socket up, no Logon yet
    LOGON_SENT = "logon_sent"  # initiator waiting for the Logon reply
    ACTIVE = "active"
    LOGOUT_SENT = "logout_sent"
    DISCONNECTED = "disconnected"


class Trigger(enum.StrEnum):
    SEND_LOGON = "send_logon"
    LOGON_ACCEPTED = "logon_accepted"
    SEND_LOGOUT = "send_logout"
    DISCONNECT = "disconnect"


_TRANSITIONS: dict[tuple[State, Trigger], State] = {
    (State.CONNECTED, Trigger.SEND_LOGON): State.LOGON_SENT,
    (State.CONNECTED, Trigger.LOGON_ACCEPTED): State.ACTIVE,  # acceptor answered a Logon
    (State.LOGON_SENT, Trigger.LOGON_ACCEPTED): State.ACTIVE,
    (State.CONNECTED, Trigger.SEND_LOGOUT): State.LOGOUT_SENT,  # refusing a Logon
    (State.LOGON_SENT, Trigger.SEND_LOGOUT): State.LOGOUT_SENT,
    (State.ACTIVE, Trigger.SEND_LOGOUT): State.LOGOUT_SENT,
    # any state may disconnect, including an already disconnected one (idempotent)
    **{(state, Trigger.DISCONNECT): State.DISCONNECTED for state in State},
}


class SessionConfig(msgspec.Struct, frozen=True):
    sender_comp_id: str
    target_comp_id: str
    heartbeat_s: int = 10
    username: str = ""  # what an initiator sends in Logon (553/554)
    password: str = ""
    reset_on_logon: bool = False  # initiator: ask for ResetSeqNumFlag=Y
    outbound_rate: float = 0  # messages/s for send_throttled; 0 = unthrottled
    max_latency_s: int = 120  # inbound SendingTime must be this close to our clock; 0 = unchecked
    max_held: int = 10_000  # messages held beyond a sequence gap before we log out

    @property
    def session_id(self) -> str:
        return f"{self.sender_comp_id}->{self.target_comp_id}"


class Application(Protocol):
    """What runs above a session. ``on_message`` gets application messages in sequence; it may
    raise ``FixError`` (answered with a session Reject) or ``UnsupportedMessageError``."""

    def on_logon(self, session: FixSession) -> None: ...

    def on_logout(self, session: FixSession) -> None: ...

    def on_message(self, session: FixSession, message: FixMessage) -> None: ...


class UnsupportedMessageError(Exception):
    """Raised by an application for a message type it does not handle (BusinessMessageReject)."""


class SessionBinding(msgspec.Struct):
    """What an acceptor needs to run a session once the peer's Logon says who it is."""

    config: SessionConfig
    store: SessionStore
    application: Application
    on_close: Callable[[FixSession], object] | None = None


#: Resolve a Logon to a binding, or to the reason the Logon is refused.
Resolver = Callable[[FixMessage], "SessionBinding | str"]


class _SendingTimeWindow:
    """Whether a SendingTime (52) is within ``latency_s`` of our clock. The bounds are kept as
    text and recomputed once a second, so a check is two byte comparisons."""

    def __init__(self, latency_s: int) -> None:
        self._latency_s = latency_s
        self._second = -1
        self._low = self._high = b""

    def contains(self, value: bytes) -> bool:
        if not self._latency_s:
            return True
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._low = _utc_second(second - self._latency_s)
            self._high = _utc_second(second + self._latency_s)
        return len(value) >= 17 and value[8:9] == b"-" and self._low <= value[:17] <= self._high


def _utc_second(epoch_s: int) -> bytes:
    return time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(epoch_s)).encode()


class FixSession(asyncio.Protocol):
    """One FIX session over one connection, initiator or acceptor."""

    def __init__(self, binding: SessionBinding | None = None, *, resolver: Resolver | None = None,
                 initiator: bool = False, logon_timeout: float = LOGON_TIMEOUT_S) -> None:
        self.state = State.CONNECTED
        self.initiator = initiator
        self._resolver = resolver
        self._logon_timeout = logon_timeout
        self._logon_timer: asyncio.TimerHandle | None = None
        self._decoder = FrameDecoder()
        self._out: list[bytes] = []
        self._flush_scheduled = False
        self._in_read = False
        self._transport: asyncio.Transport | None = None
        self._pending: dict[int, FixMessage] = {}  # messages beyond a gap, by seq
        self._resend_until = 0  # highest seq we asked the peer to resend (0 = none pending)
        self._test_request_id = ""
        self._timer: asyncio.TimerHandle | None = None
        self._last_sent = self._last_received = 0.0
        loop = asyncio.get_running_loop()
        self.logged_on: asyncio.Future[bool] = loop.create_future()
        self.closed: asyncio.Future[str] = loop.create_future()
        self._heartbeat_s = 0  # the interval agreed at Logon
        self.logout_reason = ""
        self.config: SessionConfig | None = None
        self.store: SessionStore | None = None
        self.application: Application | None = None
        self._binding: SessionBinding | None = None
        self._bucket: TokenBucket | None = None
        if binding is not None:
            self._bind(binding)

    def _bind(self, binding: SessionBinding) -> None:
        self._binding = binding
        self.config = binding.config
        self.store = binding.store
        self.application = binding.application
        self._header_ids = header_ids(binding.config.sender_comp_id,
                                      binding.config.target_comp_id)
        # what the peer's messages must carry in SenderCompID (49) and TargetCompID (56)
        self._peer_sender = binding.config.target_comp_id.encode()
        self._peer_target = binding.config.sender_comp_id.encode()
        self._time_window = _SendingTimeWindow(binding.config.max_latency_s)
        if binding.config.outbound_rate:
            self._bucket = TokenBucket(binding.config.outbound_rate)

    @property
    def session_id(self) -> str:
        return self.config.session_id if self.config else "(unbound)"

    def _bound_store(self) -> SessionStore:
        """The handlers below run only once a Logon bound the session; this says so loudly
        if that ever stops being true (an ``assert`` would vanish under ``python -O``)."""
        if self.store is None:
            raise RuntimeError(f"{self.session_id}: session used before it was bound")
        return self.store

    def _bound_config(self) -> SessionConfig:
        if self.config is None:
            raise RuntimeError(f"{self.session_id}: session used before it was bound")
        return self.config

    def _bound_application(self) -> Application:
        if self.application is None:
            raise RuntimeError(f"{self.session_id}: session used before it was bound")
        return self.application

    def _transition(self, trigger: Trigger) -> None:
        new = _TRANSITIONS.get((self.state, trigger))
        if new is None:
            raise RuntimeError(f"session {self.session_id}: {trigger} not allowed in {self.state}")
        self.state = new

    # -- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TCP transports are not asyncio.Transport subclasses; both are streams
        self._transport = cast(asyncio.Transport, transport)
        loop = asyncio.get_running_loop()
        self._last_sent = self._last_received = loop.time()
        self._timer = loop.call_later(self._tick(), self._on_timer)
        if self.initiator:
            self.generate_logon()
        elif self.store is None:
            self._logon_timer = loop.call_later(self._logon_timeout, self._on_logon_timeout)

    def data_received(self, data: bytes) -> None:
        self._last_received = asyncio.get_running_loop().time()
        self._in_read = True
        try:
            handled = 0
            for item in self._decoder.feed(data):
                if self.state is State.DISCONNECTED:
                    break
                if isinstance(item, FrameProblem):
                    log.warning("%s: %s", self.session_id, item.value)
                    if item is FrameProblem.WRONG_BEGIN_STRING:
                        self.do_logout_wrong_begin_string()
                    continue
                self._on_frame(item)
                handled += 1
                if handled % FLUSH_EVERY == 0:
                    self._flush()  # answer early: the peer works while we read on
        finally:
            self._in_read = False
            self._schedule_flush()  # received sequence numbers commit even with nothing to send

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            log.info("%s: connection lost: %s", self.session_id, exc)
        if self.state is not State.DISCONNECTED:  # disconnect() may have closed it already
            self._close()

    # -- sending -------------------------------------------------------------------------------

    def send(self, msg_type: bytes, body: bytes) -> int:
        """Send a message (``body``: fields after the standard header). Returns its seq."""
        if self.store is None:
            raise RuntimeError("session not bound")
        seq = self.store.next_sender_seq
        self._out.append(record_message(self.store, self._header_ids, msg_type, body))
        self._schedule_flush()
        return seq

    async def send_throttled(self, msg_type: bytes, body: bytes) -> int:
        """Send at the configured outbound rate (the throttling hook for exchange lines)."""
        bucket = self._bucket
        if bucket is not None:
            loop = asyncio.get_running_loop()
            while not bucket.try_acquire(loop.time()):
                await asyncio.sleep(bucket.wait_time(loop.time()))
        return self.send(msg_type, body)

    def _send_raw(self, data: bytes) -> None:
        self._out.append(data)
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        """Flush at the end of this event-loop iteration, in the group commit of every session
        sharing the store's database; a read schedules it when it ends."""
        if not self._in_read and not self._flush_scheduled:
            self._flush_scheduled = True
            if self.store is None:
                asyncio.get_running_loop().call_soon(self._flush)
            else:
                self.store.commit_soon(self._write_out)

    def _flush(self) -> None:
        """Commit what was recorded, then write it: nothing leaves that a restart forgets."""
        if self.store is not None:
            self.store.commit()  # releases this session's scheduled flush too
        self._write_out()

    def _write_out(self) -> None:
        """Write what was sent since the last flush (committed by now)."""
        self._flush_scheduled = False
        if self._out and self._transport is not None and not self._transport.is_closing():
            self._transport.write(b"".join(self._out))
            self._last_sent = asyncio.get_running_loop().time()
        self._out.clear()

    # -- inbound -------------------------------------------------------------------------------

    def _on_frame(self, raw: bytes) -> None:
        try:
            message = parse(raw)
        except FixError as error:
            self._on_malformed(raw, error)
            return
        if self.store is None:
            if not self._accept_logon(message):
                return
        elif not self._comp_ids_match(message):
            return
        self._dispatch(message)

    def _accept_logon(self, message: FixMessage) -> bool:
        """Acceptor: the first message must be a Logon naming a session we know."""
        if message.msg_type != MsgType.LOGON or self._resolver is None:
            log.warning("first message was not a Logon (35=%s); disconnecting",
                        message.msg_type.decode(errors="replace"))
            self.disconnect()
            return False
        result = self._resolver(message)
        if isinstance(result, str):
            log.warning("Logon from %s refused: %s",
                        (message.get(t.SENDER_COMP_ID) or b"?").decode(errors="replace"), result)
            self._refuse_logon(message, result)
            return False
        self._bind(result)
        return True

    def _refuse_logon(self, message: FixMessage, reason: str) -> None:
        """Answer a refused Logon with a Logout carrying the reason, then hang up. Sent outside
        any stored sequence: the peer is not (or not yet) a session of ours."""
        sender = (message.get(t.TARGET_COMP_ID) or b"").decode(errors="replace")
        target = (message.get(t.SENDER_COMP_ID) or b"").decode(errors="replace")
        body = fields_to_bytes([(t.TEXT, reason)])
        self._send_raw(frame(b"35=5\x0149=%s\x0156=%s\x0134=1\x0152=%s\x01%s" % (
            sender.encode(), target.encode(), sending_time(), body)))
        self.logout_reason = reason
        self._flush()
        self.disconnect()

    def _comp_ids_match(self, message: FixMessage) -> bool:
        fields = message.fields
        if (fields[t.SENDER_COMP_ID] == self._peer_sender
                and fields[t.TARGET_COMP_ID] == self._peer_target):
            return True
        self.generate_reject(_peek_int(message.raw, b"\x0134=") or 0, Reason.COMP_ID_PROBLEM,
                             "CompID problem", None, message.msg_type)
        self.generate_logout("CompID problem")
        self.disconnect_after_flush()
        return False

    def _on_malformed(self, raw: bytes, error: FixError) -> None:
        """A framed message that breaks the rules: Reject (35=3) and count its seq."""
        seq = _peek_int(raw, b"\x0134=")
        log.warning("%s: rejecting malformed message seq %s: %s", self.session_id, seq,
                    error.text)
        if self.state is not State.ACTIVE:
            self.disconnect()
            return
        if seq is None:
            self.generate_logout("MsgSeqNum (34) missing or malformed")
            self.disconnect_after_flush()
            return
        msg_type = _peek_bytes(raw, b"\x0135=")
        self.generate_reject(seq, error.reason, error.text, error.tag, msg_type)
        self._bound_store()
        if seq == self.store.next_target_seq:
            self.store.next_target_seq += 1
            self._drain_pending()

    def _dispatch(self, message: FixMessage) -> None:
        store = self._bound_store()
        msg_type = message.fields[t.MSG_TYPE]
        try:
            seq = message.seq_num
        except FixError:
            self.generate_logout("MsgSeqNum (34) missing or malformed")
            self.disconnect_after_flush()
            return
        if msg_type == MsgType.LOGON:
            self.next_logon(message, seq)
            return
        if self.state is not State.ACTIVE and self.state is not State.LOGOUT_SENT:
            if msg_type == MsgType.LOGOUT:  # our Logon was refused; keep the reason
                self.logout_reason = (message.get(t.TEXT) or b"").decode(errors="replace")
                log.warning("%s: Logon refused: %s", self.session_id, self.logout_reason)
            else:
                log.warning("%s: %s before Logon; disconnecting", self.session_id, msg_type)
            self.disconnect()
            return
        if not self._time_window.contains(message.fields[t.SENDING_TIME]):
            self.do_reject_sending_time(message, seq)
            return
        if msg_type == MsgType.SEQUENCE_RESET and message.get(t.GAP_FILL_FLAG) != b"Y":
            self.next_sequence_reset(message)
            return
        expected = store.next_target_seq
        if seq > expected:
            if msg_type == MsgType.RESEND_REQUEST:
                self.next_resend_request(message)
            if len(self._pending) >= self._bound_config().max_held and seq not in self._pending:
                self.do_logout_too_many_held(expected)
                return
            self._pending[seq] = message
            self.do_request_resend(expected, seq)
            return
        if seq < expected:
            self._on_seq_too_low(message, seq, expected)
            return
        self._process(message, seq)
        if self._pending or self._resend_until:
            self._drain_pending()

    def _on_seq_too_low(self, message: FixMessage, seq: int, expected: int) -> None:
        if message.get(t.POSS_DUP_FLAG) == b"Y":
            self.next_poss_dup(message, seq)
            return
        text = f"MsgSeqNum too low, expecting {expected} but received {seq}"
        log.warning("%s: %s", self.session_id, text)
        self.generate_logout(text)
        self.disconnect_after_flush()

    def _process(self, message: FixMessage, seq: int) -> None:
        """A message in sequence: act on it, then count it."""
        store = self._bound_store()
        msg_type = message.fields[t.MSG_TYPE]
        store.next_target_seq = seq + 1
        if msg_type in ADMIN_MSG_TYPES:
            handler = self._admin_handlers.get(msg_type)
            if handler is not None:
                try:
                    handler(self, message)
                except FixError as error:  # a field the handler reads is missing or malformed
                    self.generate_reject(seq, error.reason, error.text, error.tag, msg_type)
            return
        self._next_application(message, seq)

    def _next_application(self, message: FixMessage, seq: int) -> None:
        application = self._bound_application()
        msg_type = message.fields[t.MSG_TYPE]
        if msg_type not in FIX44_MSG_TYPES and msg_type[:1] != b"U":
            self.generate_reject(seq, Reason.INVALID_MSG_TYPE, "Invalid MsgType", t.MSG_TYPE,
                                 msg_type)
            return
        try:
            application.on_message(self, message)
        except FixError as error:
            self.generate_reject(seq, error.reason, error.text, error.tag, msg_type)
        except UnsupportedMessageError:
            self.generate_business_reject(seq, msg_type,
                                          BusinessRejectReason.UNSUPPORTED_MESSAGE_TYPE,
                                          "Unsupported message type "
                                          + msg_type.decode(errors="replace"))
        except Exception:  # an application bug must not take the session down
            log.exception("%s: application failed on seq %d", self.session_id, seq)
            self.generate_business_reject(seq, msg_type,
                                          BusinessRejectReason.APPLICATION_NOT_AVAILABLE,
                                          "Application error; message not processed")

    def _drain_pending(self) -> None:
        store = self._bound_store()
        pending = self._pending
        while pending and self.state is not State.DISCONNECTED:
            expected = store.next_target_seq
            for seq in [s for s in pending if s < expected]:
                del pending[seq]  # covered by a gap fill or resent meanwhile
            message = pending.pop(expected, None)
            if message is None:
                break
            if message.msg_type == MsgType.RESEND_REQUEST:
                store.next_target_seq = expected + 1  # answered when it arrived
                continue
            self._process(message, expected)
        if not pending and store.next_target_seq > self._resend_until:
            self._resend_until = 0

    # -- next_*: inbound session messages ------------------------------------------------------

    def next_logon(self, message: FixMessage, seq: int) -> None:
        store = self._bound_store()
        self._bound_config()
        if self.state is State.ACTIVE:
            self.generate_reject(seq, Reason.VALUE_INCORRECT, "Already logged on", None,
                                 MsgType.LOGON)
            if seq == store.next_target_seq:  # a rejected message still takes its number
                store.next_target_seq = seq + 1
            return
        try:
            heartbeat = message.get_int(t.HEART_BT_INT)
            reset = message.get_bool(t.RESET_SEQ_NUM_FLAG)
        except FixError as error:
            self._refuse_logon(message, error.text)
            return
        if heartbeat <= 0:
            self._refuse_logon(message, "HeartBtInt (108) must be positive")
            return
        if not self._time_window.contains(message.fields[t.SENDING_TIME]):
            self._refuse_logon(message, "SendingTime accuracy problem")
            return
        if reset and not self.initiator:
            store.reset()
        expected = store.next_target_seq
        if seq < expected and not reset:
            text = f"MsgSeqNum too low, expecting {expected} but received {seq}"
            log.warning("%s: Logon refused: %s", self.session_id, text)
            self.logout_reason = text
            self.generate_logout(text)
            self.disconnect_after_flush()
            return
        if not self.initiator:
            self._heartbeat_s = heartbeat
            self.generate_logon(reset=reset)
        self._transition(Trigger.LOGON_ACCEPTED)
        log.info("%s: logged on (next out %d, next in %d)", self.session_id,
                 store.next_sender_seq, expected)
        if seq > expected:
            self.do_request_resend(expected, seq)
        else:
            store.next_target_seq = seq + 1
        if not self.logged_on.done():
            self.logged_on.set_result(True)
        self._bound_application()
        self.application.on_logon(self)

    def next_heartbeat(self, message: FixMessage) -> None:
        if message.get(t.TEST_REQ_ID) == self._test_request_id.encode():
            self._test_request_id = ""

    def next_test_request(self, message: FixMessage) -> None:
        self.generate_heartbeat(message.get(t.TEST_REQ_ID) or b"")

    def next_resend_request(self, message: FixMessage) -> None:
        try:
            begin = message.get_int(t.BEGIN_SEQ_NO)
            end = message.get_int(t.END_SEQ_NO)
        except FixError as error:
            self.generate_reject(message.get_int(t.MSG_SEQ_NUM, 0), error.reason, error.text,
                                 error.tag, MsgType.RESEND_REQUEST)
            return
        self.do_resend(begin, end)

    def next_reject(self, message: FixMessage) -> None:
        log.warning("%s: peer rejected seq %s: %s", self.session_id,
                    (message.get(t.REF_SEQ_NUM) or b"?").decode(),
                    (message.get(t.TEXT) or b"").decode(errors="replace"))

    def next_gap_fill(self, message: FixMessage) -> None:
        """SequenceReset-GapFill: the peer skips admin messages up to NewSeqNo."""
        store = self._bound_store()
        new_seq = message.get_int(t.NEW_SEQ_NO)
        if new_seq >= store.next_target_seq:
            store.next_target_seq = new_seq
        else:
            self.generate_reject(message.get_int(t.MSG_SEQ_NUM, 0), Reason.VALUE_INCORRECT,
                                 "NewSeqNo below the expected sequence number", t.NEW_SEQ_NO,
                                 MsgType.SEQUENCE_RESET)

    def next_sequence_reset(self, message: FixMessage) -> None:
        """SequenceReset-Reset: the peer's next seq is NewSeqNo, whatever this one carries."""
        store = self._bound_store()
        try:
            message.get_bool(t.GAP_FILL_FLAG)  # neither Y nor N: malformed, not a reset
            new_seq = message.get_int(t.NEW_SEQ_NO)
        except FixError as error:
            self.generate_reject(message.get_int(t.MSG_SEQ_NUM, 0), error.reason, error.text,
                                 error.tag, MsgType.SEQUENCE_RESET)
            return
        if new_seq < store.next_target_seq:
            self.generate_reject(message.get_int(t.MSG_SEQ_NUM, 0), Reason.VALUE_INCORRECT,
                                 "NewSeqNo below the expected sequence number", t.NEW_SEQ_NO,
                                 MsgType.SEQUENCE_RESET)
            return
        store.next_target_seq = new_seq
        self._pending = {s: m for s, m in self._pending.items() if s >= new_seq}
        self._drain_pending()

    def next_poss_dup(self, message: FixMessage, seq: int) -> None:
        """A possible duplicate below the expected number: ignored, once its OrigSendingTime
        checks out (FIX 2e, 2f, 2g). A SequenceReset may lack one, as QuickFIX allows."""
        if message.msg_type == MsgType.SEQUENCE_RESET:
            return
        original = message.get(t.ORIG_SENDING_TIME)
        if original is None:
            self.generate_reject(seq, Reason.REQUIRED_TAG_MISSING, "Required tag 122 missing",
                                 t.ORIG_SENDING_TIME, message.msg_type)
        elif original > message.fields[t.SENDING_TIME]:
            self.generate_reject(seq, Reason.SENDING_TIME_ACCURACY_PROBLEM,
                                 "OrigSendingTime (122) is after SendingTime (52)", None,
                                 message.msg_type)
            self.generate_logout("SendingTime accuracy problem")
            self.disconnect_after_flush()

    def next_logout(self, message: FixMessage) -> None:
        self.logout_reason = (message.get(t.TEXT) or b"").decode(errors="replace")
        if self.state is not State.LOGOUT_SENT:
            self.generate_logout()
        self.disconnect_after_flush()

    def _next_sequence_reset_in_order(self, message: FixMessage) -> None:
        self.next_gap_fill(message)

    _admin_handlers: ClassVar[dict[bytes, Callable[[FixSession, FixMessage], None]]] = {
        MsgType.HEARTBEAT: next_heartbeat,
        MsgType.TEST_REQUEST: next_test_request,
        MsgType.RESEND_REQUEST: next_resend_request,
        MsgType.REJECT: next_reject,
        MsgType.SEQUENCE_RESET: _next_sequence_reset_in_order,
        MsgType.LOGOUT: next_logout,
    }

    # -- generate_*: outbound session messages -------------------------------------------------

    def generate_logon(self, *, reset: bool = False) -> None:
        self._bound_config()
        self._bound_store()
        config = self.config
        fields: list[tuple[bytes, bytes | str | int]] = [
            (t.ENCRYPT_METHOD, 0), (t.HEART_BT_INT, self._heartbeat_s or config.heartbeat_s)]
        if self.initiator and config.reset_on_logon:
            self.store.reset()
            reset = True
        if reset:
            fields.append((t.RESET_SEQ_NUM_FLAG, b"Y"))
        if self.initiator and config.username:
            fields.append((t.USERNAME, config.username))
        if self.initiator and config.password:
            fields.append((t.PASSWORD, config.password))
        self.send(MsgType.LOGON, fields_to_bytes(fields))
        if self.initiator:
            self._transition(Trigger.SEND_LOGON)

    def generate_heartbeat(self, test_request_id: bytes = b"") -> None:
        body = b"112=%s\x01" % test_request_id if test_request_id else b""
        self.send(MsgType.HEARTBEAT, body)

    def generate_test_request(self) -> None:
        self._test_request_id = f"TEST-{int(time.time() * 1000)}"
        self.send(MsgType.TEST_REQUEST, fields_to_bytes([(t.TEST_REQ_ID, self._test_request_id)]))

    def generate_reject(self, ref_seq: int, reason: int, text: str, tag: bytes | None,
                        ref_msg_type: bytes | None) -> None:
        fields: list[tuple[bytes, bytes | str | int]] = [(t.REF_SEQ_NUM, ref_seq)]
        if tag is not None:
            fields.append((t.REF_TAG_ID, tag))
        if ref_msg_type:
            fields.append((t.REF_MSG_TYPE, ref_msg_type))
        fields += [(t.SESSION_REJECT_REASON, reason), (t.TEXT, text)]
        self.send(MsgType.REJECT, fields_to_bytes(fields))

    def generate_business_reject(self, ref_seq: int, ref_msg_type: bytes, reason: int,
                                 text: str) -> None:
        self.send(MsgType.BUSINESS_MESSAGE_REJECT, fields_to_bytes([
            (t.REF_SEQ_NUM, ref_seq), (t.REF_MSG_TYPE, ref_msg_type),
            (t.BUSINESS_REJECT_REASON, reason), (t.TEXT, text)]))

    def generate_logout(self, text: str = "") -> None:
        if self.state is State.LOGOUT_SENT or self.state is State.DISCONNECTED:
            return
        self.send(MsgType.LOGOUT, fields_to_bytes([(t.TEXT, text)]) if text else b"")
        self._transition(Trigger.SEND_LOGOUT)
        asyncio.get_running_loop().call_later(LOGOUT_TIMEOUT_S, self.disconnect)

    def generate_resend_request(self, begin: int, end: int) -> None:
        self.send(MsgType.RESEND_REQUEST, b"7=%d\x0116=%d\x01" % (begin, end))

    # -- do_*: recovery ------------------------------------------------------------------------

    def do_reject_sending_time(self, message: FixMessage, seq: int) -> None:
        """SendingTime too far from our clock (FIX 2o): Reject, count the message, Logout."""
        self._bound_store()
        self.generate_reject(seq, Reason.SENDING_TIME_ACCURACY_PROBLEM,
                             "SendingTime accuracy problem", None, message.msg_type)
        if seq == self.store.next_target_seq:
            self.store.next_target_seq = seq + 1
        self.generate_logout("SendingTime accuracy problem")
        self.disconnect_after_flush()

    def do_logout_too_many_held(self, expected: int) -> None:
        """The gap is not being filled while the peer sends on: holding everything beyond it
        would grow without bound, so the session ends (the peer resumes after a new Logon)."""
        text = (f"more than {self._bound_config().max_held} messages held beyond a sequence "
                f"gap at {expected}")
        log.warning("%s: %s; logging out", self.session_id, text)
        self.generate_logout(text)
        self.disconnect_after_flush()

    def do_logout_wrong_begin_string(self) -> None:
        """A proven message of another FIX version: the spec says Logout naming the problem,
        then disconnect; before Logon there is no session to log out of, so just hang up."""
        if self.state is State.ACTIVE:
            self.generate_logout(
                f"Incorrect BeginString: expected {BEGIN_STRING_VALUE.decode()}")
            self.disconnect_after_flush()
        else:
            self.disconnect()

    def do_request_resend(self, expected: int, received: int) -> None:
        """Ask once for everything from the gap on; later messages wait in ``_pending``."""
        if self._resend_until and expected <= self._resend_until:
            return
        self._resend_until = received
        log.info("%s: gap, expected %d got %d: ResendRequest", self.session_id, expected,
                 received)
        self.generate_resend_request(expected, 0)

    def do_resend(self, begin: int, end: int) -> None:
        """Resend our stored application messages with PossDupFlag; gap-fill admin ones."""
        store = self._bound_store()
        last = store.next_sender_seq - 1
        if end == 0 or end > last:
            end = last
        if begin > end:
            return
        stored = {seq: rest for seq, *rest in store.sent_between(begin, end)}
        gap_start = 0
        for seq in range(begin, end + 1):
            entry = stored.get(seq)
            if entry is None or entry[0] in ADMIN_MSG_TYPES:
                gap_start = gap_start or seq
                continue
            if gap_start:
                self._gap_fill(gap_start, seq)
                gap_start = 0
            msg_type, original_time, body = entry
            self._send_raw(frame(b"35=%s\x01%s34=%d\x0143=Y\x0152=%s\x01122=%s\x01%s" % (
                msg_type, self._header_ids, seq, sending_time(), original_time, body)))
        if gap_start:
            self._gap_fill(gap_start, end + 1)

    def _gap_fill(self, seq: int, new_seq: int) -> None:
        """SequenceReset-GapFill; a resent message carries OrigSendingTime, here the same as
        SendingTime (FIX: "if data is not available set to same value as SendingTime")."""
        now = sending_time()
        self._send_raw(frame(b"35=4\x01%s34=%d\x0143=Y\x0152=%s\x01122=%s\x01123=Y\x0136=%d\x01" % (
            self._header_ids, seq, now, now, new_seq)))

    # -- lifecycle -----------------------------------------------------------------------------

    async def logout(self, text: str = "", timeout: float = LOGOUT_TIMEOUT_S) -> None:
        """Log out politely and wait for the connection to close."""
        if self.state is State.ACTIVE:
            self.generate_logout(text)
            self._flush()
        try:
            await asyncio.wait_for(asyncio.shield(self.closed), timeout)
        except TimeoutError:
            self.disconnect()

    def disconnect_after_flush(self) -> None:
        asyncio.get_running_loop().call_soon(self.disconnect)

    def disconnect(self) -> None:
        if self.state is State.DISCONNECTED:
            return
        self._flush()
        if self._transport is not None:
            self._transport.close()
        self._close()

    def _close(self) -> None:
        was_active = self.state in (State.ACTIVE, State.LOGOUT_SENT)
        self._transition(Trigger.DISCONNECT)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._logon_timer is not None:
            self._logon_timer.cancel()
            self._logon_timer = None
        if self.store is not None:
            self.store.commit()
        if was_active and self.application is not None:
            self.application.on_logout(self)
        if self._binding is not None and self._binding.on_close is not None:
            self._binding.on_close(self)
            self._binding.on_close = None
        if not self.logged_on.done():
            self.logged_on.set_exception(LogonRefusedError(self.logout_reason or "disconnected"))
            self.logged_on.exception()  # mark retrieved: nobody may be waiting
        if not self.closed.done():
            self.closed.set_result(self.logout_reason)

    def _on_logon_timeout(self) -> None:
        """Acceptor: a connection that has not logged on in time holds a socket for nothing."""
        self._logon_timer = None
        if self.store is None and self.state is State.CONNECTED:
            peer = self._transport.get_extra_info("peername") if self._transport else None
            log.warning("connection from %s sent no Logon within %.1f s; disconnecting", peer,
                        self._logon_timeout)
            self.disconnect()

    def _on_timer(self) -> None:
        """Heartbeats when we are quiet, TestRequest when the peer is, hang up when it stays so."""
        loop = asyncio.get_running_loop()
        tick = self._tick()
        self._timer = loop.call_later(tick, self._on_timer)
        if self.state is not State.ACTIVE or self.config is None:
            return
        interval = self._heartbeat_s or self.config.heartbeat_s
        now = loop.time()
        silent = now - self._last_received
        if silent >= interval * DISCONNECT_GRACE:
            log.warning("%s: peer silent for %.1f s; disconnecting", self.session_id, silent)
            self.disconnect()
            return
        if silent >= interval * TEST_REQUEST_GRACE and not self._test_request_id:
            self.generate_test_request()
        elif now - self._last_sent >= interval - tick:  # due before the next tick: send now
            self.generate_heartbeat()

    def _tick(self) -> float:
        """Timer period: a tenth of the heartbeat interval, at most a second, so a Heartbeat
        is never later than the peer's TestRequest grace (20% of the interval) allows."""
        interval = self._heartbeat_s or (self.config.heartbeat_s if self.config else 10)
        return min(1.0, interval / 10)


class LogonRefusedError(Exception):
    """The session ended before logon completed; the text is the peer's Logout reason."""


def _peek_int(raw: bytes, key: bytes) -> int | None:
    value = _peek_bytes(raw, key)
    return int(value) if value and value.isdigit() else None


def _peek_bytes(raw: bytes, key: bytes) -> bytes | None:
    start = raw.find(key)
    if start < 0:
        return None
    start += len(key)
    end = raw.find(b"\x01", start)
    return raw[start:end] if end > 0 else None
