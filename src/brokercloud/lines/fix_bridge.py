"""Between the middle office and the exchange's FIX lines: orders out as FIX, reports back as
core commands.

The core's order ID is the ClOrdID of a new order (unique across brokers and days, so a line
carrying many brokers never confuses two orders); a cancel or replace gets its own ClOrdID
``<order ID>/<n>`` and names the order in OrigClOrdID, which every report about it echoes.
"""

from __future__ import annotations

from brokercloud.codes import Code
from brokercloud.core import commands as c
from brokercloud.core.model import Order
from brokercloud.fix import tags as t
from brokercloud.fix.codec import FixError, FixMessage, cents_to_decimal, fields_to_bytes
from brokercloud.fix.tags import MsgType
from brokercloud.market.orders import OrderType, Side, TimeInForce

_SIDES = {Side.BUY: b"1", Side.SELL: b"2"}
_TYPES = {OrderType.MARKET: b"1", OrderType.LIMIT: b"2"}
_TIFS = {TimeInForce.ROD: b"0", TimeInForce.IOC: b"3", TimeInForce.FOK: b"4"}
BROKERCLOUD_CODE = b"5001"


def new_order_single(order: Order, transact_time: bytes) -> bytes:
    fields: list[tuple[bytes, bytes | str | int]] = [
        (t.ON_BEHALF_OF_COMP_ID, order.broker), (t.CL_ORD_ID, order.order_id),
        (t.ACCOUNT, order.account), (t.SYMBOL, order.symbol), (t.SIDE, _SIDES[order.side]),
        (t.ORDER_QTY, order.qty), (t.ORD_TYPE, _TYPES[order.order_type])]
    if order.order_type is OrderType.LIMIT:
        fields.append((t.PRICE, cents_to_decimal(order.price)))
    fields += [(t.TIME_IN_FORCE, _TIFS[order.tif]), (t.TRADING_SESSION_ID, order.session.value),
               (t.TRANSACT_TIME, transact_time)]
    return fields_to_bytes(fields)


def request_id(order: Order, n: int) -> str:
    return f"{order.order_id}/{n}"


def cancel_request(order: Order, n: int, transact_time: bytes) -> bytes:
    return fields_to_bytes([
        (t.ON_BEHALF_OF_COMP_ID, order.broker), (t.ORIG_CL_ORD_ID, order.order_id),
        (t.CL_ORD_ID, request_id(order, n)), (t.SYMBOL, order.symbol),
        (t.SIDE, _SIDES[order.side]), (t.TRANSACT_TIME, transact_time)])


def replace_request(order: Order, n: int, qty: int | None, price: int | None,
                    transact_time: bytes) -> bytes:
    """FIX restates the whole order; the exchange sees which of quantity or price changed."""
    return fields_to_bytes([
        (t.ON_BEHALF_OF_COMP_ID, order.broker), (t.ORIG_CL_ORD_ID, order.order_id),
        (t.CL_ORD_ID, request_id(order, n)), (t.ACCOUNT, order.account),
        (t.SYMBOL, order.symbol), (t.SIDE, _SIDES[order.side]),
        (t.ORDER_QTY, qty if qty is not None else order.qty),
        (t.ORD_TYPE, _TYPES[order.order_type]),
        (t.PRICE, cents_to_decimal(price if price is not None else order.price)),
        (t.TRANSACT_TIME, transact_time)])


def status_request(order: Order) -> bytes:
    return fields_to_bytes([
        (t.ON_BEHALF_OF_COMP_ID, order.broker), (t.CL_ORD_ID, order.order_id),
        (t.SYMBOL, order.symbol), (t.SIDE, _SIDES[order.side])])


def is_unknown_to_exchange(report: FixMessage) -> bool:
    """A status answer saying the exchange has no such order (ExecType I, OrdStatus 8)."""
    return (report.msg_type == MsgType.EXECUTION_REPORT and report.get(t.EXEC_TYPE) == b"I"
            and report.get(t.ORD_STATUS) == b"8"
            and report.get(BROKERCLOUD_CODE) == str(int(Code.UNKNOWN_ORDER)).encode())


def order_id_of(report: FixMessage) -> str:
    """The core order a report is about: OrigClOrdID when a request answered, else ClOrdID."""
    raw = report.get(t.ORIG_CL_ORD_ID) or report.get(t.CL_ORD_ID) or b""
    return raw.decode(errors="replace").split("/", 1)[0]


def report_to_command(report: FixMessage, at: int, line: str = "") -> c.Cmd | None:
    """An ExecutionReport as the core command it means, stamped with the line and the
    report's sequence number there; None for what changes nothing (status answers).
    Malformed reports raise ``FixError`` (the session answers with a Reject)."""
    order_id = order_id_of(report)
    where = {"line": line, "line_seq": report.seq_num if line else 0}
    if report.msg_type == MsgType.ORDER_CANCEL_REJECT:
        return c.ExchangeRequestRejected(at=at, order_id=order_id, code=_code(report, Code.OK),
                                         **where)
    if report.msg_type != MsgType.EXECUTION_REPORT:
        return None
    exec_type = report.require(t.EXEC_TYPE)
    if exec_type == b"0":
        return c.ExchangeAccepted(at=at, order_id=order_id, **where,
                                  exchange_order_id=report.get_int(t.ORDER_ID))
    if exec_type == b"F":
        return c.ExchangeFilled(at=at, order_id=order_id, **where,
                                exec_id=report.require(t.EXEC_ID).decode(errors="replace"),
                                price=report.get_price(t.LAST_PX),
                                qty=report.get_int(t.LAST_QTY))
    if exec_type == b"4":
        return c.ExchangeCancelled(at=at, order_id=order_id, qty=0, **where,
                                   code=_code(report, Code.CANCELLED_ON_REQUEST))
    if exec_type == b"C":
        return c.ExchangeExpired(at=at, order_id=order_id, qty=0, **where)
    if exec_type == b"8":
        return c.ExchangeRejected(at=at, order_id=order_id, code=_code(report, Code.OK),
                                  **where)
    if exec_type == b"5":
        return c.ExchangeAmended(at=at, order_id=order_id, qty=report.get_int(t.ORDER_QTY),
                                 price=report.get_price(t.PRICE, 0), **where)
    if exec_type == b"I":
        return None
    raise FixError(t.SessionRejectReason.VALUE_INCORRECT,
                   f"ExecType {exec_type.decode(errors='replace')} not understood", t.EXEC_TYPE)


def _code(report: FixMessage, default: Code) -> Code:
    raw = report.get(BROKERCLOUD_CODE)
    if raw is None or not raw.isdigit():
        return default
    try:
        return Code(int(raw))
    except ValueError:
        return default
