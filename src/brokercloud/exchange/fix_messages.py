"""Translating between FIX 4.4 messages and the exchange's commands and events.

Pure functions, no sockets: the gateway calls them, tests call them directly. Field choices
(documented in ``docs/exchange.md``):

- Side (54): 1 buy, 2 sell. OrdType (40): 1 market, 2 limit. TimeInForce (59): 0 day (ROD),
  3 IOC, 4 FOK. TradingSessionID (336): ``regular`` (default), ``odd_lot``, ``fixed_price``,
  ``after_hours_odd_lot``.
- Prices are decimal NT$ with at most two decimals; quantities are shares.
- Every report carries our result code in tag 5001 (``BrokercloudCode``) next to the
  standard reason tags, and its sentence in Text (58).
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from brokercloud.codes import Code, describe
from brokercloud.exchange.book import Order
from brokercloud.exchange.commands import AmendOrder, CancelOrder, NewOrder
from brokercloud.fix import tags as t
from brokercloud.fix.codec import FixError, FixMessage, cents_to_decimal, fields_to_bytes
from brokercloud.fix.tags import SessionRejectReason
from brokercloud.market.orders import OrderType, Side, TimeInForce
from brokercloud.market.sessions import TAIWAN, Session

_T = TypeVar("_T")
BROKERCLOUD_CODE = b"5001"

SIDES = {b"1": Side.BUY, b"2": Side.SELL}
SIDE_VALUES = {side: value for value, side in SIDES.items()}
ORD_TYPES = {b"1": OrderType.MARKET, b"2": OrderType.LIMIT}
ORD_TYPE_VALUES = {kind: value for value, kind in ORD_TYPES.items()}
TIFS = {b"0": TimeInForce.ROD, b"3": TimeInForce.IOC, b"4": TimeInForce.FOK}
TIF_VALUES = {tif: value for value, tif in TIFS.items()}
SESSIONS = {session.value.encode(): session for session in Session}
SESSION_VALUES = {session: value for value, session in SESSIONS.items()}


class ExecType:
    NEW = b"0"
    CANCELED = b"4"
    REPLACED = b"5"
    REJECTED = b"8"
    EXPIRED = b"C"
    TRADE = b"F"
    ORDER_STATUS = b"I"


class OrdStatus:
    NEW = b"0"
    PARTIALLY_FILLED = b"1"
    FILLED = b"2"
    CANCELED = b"4"
    REJECTED = b"8"
    EXPIRED = b"C"


#: FIX OrdRejReason (103) closest to each of our codes; anything else is 99 (other).
_ORD_REJ_REASONS: dict[Code, int] = {
    Code.UNKNOWN_SYMBOL: 1,
    Code.SESSION_CLOSED: 2,
    Code.QUANTITY_ABOVE_CAP: 3,
    Code.DUPLICATE_CLIENT_ORDER_ID: 6,
    Code.ORDER_TYPE_NOT_ALLOWED: 11,
    Code.MARKET_ORDER_NOT_ALLOWED: 11,
    Code.QUANTITY_NOT_POSITIVE: 13,
    Code.NOT_BOARD_LOTS: 13,
    Code.NOT_ODD_LOT: 13,
    Code.BROKER_NOT_ON_LINE: 99,
}
#: FIX CxlRejReason (102): 1 unknown order, 0 too late to cancel, 99 other.
_CXL_REJ_REASONS: dict[Code, int] = {Code.UNKNOWN_ORDER: 1, Code.ORDER_ALREADY_DONE: 0}


def _enum(message: FixMessage, tag: bytes, values: dict[bytes, _T],
          default: bytes | None = None) -> _T:
    raw = message.fields.get(tag, default)  # the dict directly: this runs for every field
    if raw is None:
        raise FixError(SessionRejectReason.REQUIRED_TAG_MISSING,
                       f"Required tag {tag.decode()} missing", tag)
    value = values.get(raw)
    if value is None:
        raise FixError(SessionRejectReason.VALUE_INCORRECT,
                       f"Value {raw.decode(errors='replace')!r} is incorrect for tag "
                       f"{tag.decode()}", tag)
    return value


def _text(message: FixMessage, tag: bytes, default: bytes | None = None) -> str:
    raw = message.fields.get(tag, default)
    if raw is None:
        return message.require(tag).decode()
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        raise FixError(SessionRejectReason.INCORRECT_DATA_FORMAT,
                       f"Tag {tag.decode()} must be ASCII", tag) from None


def broker_of(message: FixMessage) -> str:
    """The member broker an order is sent for (OnBehalfOfCompID, 115)."""
    return _text(message, t.ON_BEHALF_OF_COMP_ID)


def new_order_from_fix(message: FixMessage, broker: str) -> NewOrder:
    """NewOrderSingle (D) to a command; a missing or malformed field raises ``FixError``."""
    order_type = _enum(message, t.ORD_TYPE, ORD_TYPES)
    price = message.get_price(t.PRICE) if order_type is OrderType.LIMIT else 0
    return NewOrder(
        broker=broker,
        account=_text(message, t.ACCOUNT),
        cl_ord_id=_text(message, t.CL_ORD_ID),
        symbol=_text(message, t.SYMBOL),
        side=_enum(message, t.SIDE, SIDES),
        qty=message.get_int(t.ORDER_QTY),
        price=price,
        order_type=order_type,
        tif=_enum(message, t.TIME_IN_FORCE, TIFS, b"0"),
        session=_enum(message, t.TRADING_SESSION_ID, SESSIONS, b"regular"),
    )


def order_id_of(message: FixMessage) -> int:
    """The exchange order ID in OrderID (37), 0 when absent."""
    raw = message.get(t.ORDER_ID)
    if raw is None or raw == b"NONE":
        return 0
    if not raw.isdigit():
        raise FixError(SessionRejectReason.INCORRECT_DATA_FORMAT,
                       "OrderID (37) must be the exchange's numeric order ID", t.ORDER_ID)
    return int(raw)


def cancel_from_fix(message: FixMessage, broker: str) -> CancelOrder:
    """OrderCancelRequest (F): the order is named by OrderID (37) or OrigClOrdID (41)."""
    order_id = order_id_of(message)
    orig = _text(message, t.ORIG_CL_ORD_ID, b"" if order_id else None)
    return CancelOrder(broker, order_id=order_id, orig_cl_ord_id=orig,
                       cl_ord_id=_text(message, t.CL_ORD_ID))


def amend_from_fix(message: FixMessage, broker: str, current: Order | None) -> AmendOrder:
    """OrderCancelReplaceRequest (G): FIX restates the whole order, so what changes is found
    by comparing with the order as the exchange holds it (quantity or price, never both)."""
    order_id = order_id_of(message)
    orig = _text(message, t.ORIG_CL_ORD_ID, b"" if order_id else None)
    cl_ord_id = _text(message, t.CL_ORD_ID)
    qty = message.get_int(t.ORDER_QTY)
    price = message.get_price(t.PRICE, 0)
    if current is None:  # let the exchange answer "unknown order" in its own words
        return AmendOrder(broker, order_id, orig, cl_ord_id, qty=qty)
    new_qty = qty if qty != current.qty else None
    new_price = price if price and price != current.price else None
    return AmendOrder(broker, order_id, orig, cl_ord_id, qty=new_qty, price=new_price)


def status_of(order: Order, ended: bytes | None = None) -> bytes:
    """OrdStatus (39) of an order; ``ended`` says why a finished order is not filled."""
    if order.leaves == 0 and order.cum_qty == order.qty:
        return OrdStatus.FILLED
    if order.leaves == 0 and ended is not None:
        return ended
    return OrdStatus.PARTIALLY_FILLED if order.cum_qty else OrdStatus.NEW


def transact_time(trading_date: date, ms_of_day: int) -> bytes:
    """Exchange time of day (Taiwan) as a FIX UTCTimestamp."""
    second, milli = divmod(ms_of_day, 1000)
    return b"%s.%03d" % (_utc_second(trading_date, second), milli)


@functools.lru_cache(maxsize=64)
def _utc_second(trading_date: date, second_of_day: int) -> bytes:
    """The timestamp up to its second (cached: reports come in bursts within a second, and
    datetime arithmetic and strftime cost more than the rest of a report)."""
    local = datetime(trading_date.year, trading_date.month, trading_date.day, tzinfo=TAIWAN)
    return (local + timedelta(seconds=second_of_day)).astimezone(UTC).strftime(
        "%Y%m%d-%H:%M:%S").encode()


def average_price(cum_value: int, cum_qty: int) -> bytes:
    """AvgPx (6) with four decimals, truncated (value is NT$0.01 x shares)."""
    if not cum_qty:
        return b"0"
    ten_thousandths = cum_value * 100 // cum_qty
    return b"%d.%04d" % divmod(ten_thousandths, 10_000)


def order_identity(order: Order) -> bytes:
    """The fields every report on an order repeats (who, what, at what terms); the gateway
    builds them once per version of the order."""
    price = b"44=%s\x01" % cents_to_decimal(order.price) if order.order_type is OrderType.LIMIT \
        else b""
    return b"128=%s\x0137=%d\x0111=%s\x011=%s\x0155=%s\x0154=%s\x0138=%d\x0140=%s\x01%s59=%s\x01" \
        b"336=%s\x01" % (
            order.broker.encode(), order.order_id, order.cl_ord_id.encode(),
            order.account.encode(), order.symbol.encode(), SIDE_VALUES[order.side], order.qty,
            ORD_TYPE_VALUES[order.order_type], price, TIF_VALUES[order.tif],
            SESSION_VALUES[order.session])


def execution_report(identity: bytes, exec_id: int | str, exec_type: bytes, ord_status: bytes,
                     leaves: int, cum_qty: int, when: bytes, avg_px: bytes, *,
                     last: tuple[int, int] | None = None, code: Code | None = None,
                     orig_cl_ord_id: str = "") -> bytes:
    """ExecutionReport (8) body: ``identity`` from ``order_identity``; ``leaves`` and
    ``cum_qty`` from the event, which may be ahead of or behind the working order while a
    sweep is in progress. This runs for every report the exchange sends."""
    body = b"%s17=%s\x01150=%s\x0139=%s\x01151=%d\x0114=%d\x016=%s\x0160=%s\x01" % (
        identity, b"%d" % exec_id if type(exec_id) is int else str(exec_id).encode(),
        exec_type, ord_status, leaves, cum_qty, avg_px, when)
    if last is not None:
        body += b"31=%s\x0132=%d\x01" % (cents_to_decimal(last[0]), last[1])
    if orig_cl_ord_id:
        body += b"41=%s\x01" % orig_cl_ord_id.encode()
    if code is not None:
        body += b"5001=%d\x0158=%s\x01" % (code, describe(code).encode())
    return body


def rejected_report(broker: str, account: str, cl_ord_id: str, symbol: str,
                    exec_id: int | str, code: Code, when: bytes,
                    message: FixMessage | None = None, *,
                    exec_type: bytes = ExecType.REJECTED) -> bytes:
    """ExecutionReport (8) refusing a new order that never reached a book (or answering a
    status request for an unknown order, with ``exec_type`` I)."""
    side = message.get(t.SIDE, b"1") if message is not None else b"1"
    qty = message.get(t.ORDER_QTY, b"0") if message is not None else b"0"
    fields: list[tuple[bytes, bytes | str | int]] = [
        (t.DELIVER_TO_COMP_ID, broker), (t.ORDER_ID, b"NONE"), (t.CL_ORD_ID, cl_ord_id),
        (t.EXEC_ID, exec_id), (t.EXEC_TYPE, exec_type),
        (t.ORD_STATUS, OrdStatus.REJECTED), (t.ACCOUNT, account), (t.SYMBOL, symbol),
        (t.SIDE, side if side in SIDES else b"1"), (t.ORDER_QTY, qty if qty.isdigit() else b"0"),
        (t.ORD_REJ_REASON, _ORD_REJ_REASONS.get(code, 99)), (t.LEAVES_QTY, 0), (t.CUM_QTY, 0),
        (t.AVG_PX, b"0"), (t.TRANSACT_TIME, when), (BROKERCLOUD_CODE, int(code)),
        (t.TEXT, describe(code))]
    # a field the request lacked is left out: FIX forbids a tag without a value
    return fields_to_bytes((tag, value) for tag, value in fields if value != "")


def cancel_reject(broker: str, order_id: int, cl_ord_id: str, orig_cl_ord_id: str,
                  ord_status: bytes, request: str, code: Code) -> bytes:
    """OrderCancelReject (9) for a refused cancel or amend."""
    return fields_to_bytes((tag, value) for tag, value in [
        (t.DELIVER_TO_COMP_ID, broker), (t.ORDER_ID, order_id or b"NONE"),
        (t.CL_ORD_ID, cl_ord_id or b"NONE"), (t.ORIG_CL_ORD_ID, orig_cl_ord_id or b"NONE"),
        (t.ORD_STATUS, ord_status), (t.CXL_REJ_RESPONSE_TO, b"1" if request == "cancel" else b"2"),
        (t.CXL_REJ_REASON, _CXL_REJ_REASONS.get(code, 99)), (BROKERCLOUD_CODE, int(code)),
        (t.TEXT, describe(code))] if value != "")
