"""Orders out as FIX, reports back as core commands."""

import pytest

from brokercloud.codes import Code
from brokercloud.core import commands as c
from brokercloud.core.model import Order
from brokercloud.fix.codec import FixError, fields_to_bytes, frame, parse
from brokercloud.lines import fix_bridge as fb
from brokercloud.market.orders import OrderType, Side, TimeInForce
from brokercloud.market.sessions import Session

HEADER = b"35=%s\x0149=XTAI\x0156=T9A00A0\x0134=2\x0152=20261125-01:00:00.000\x01"


def _order(**changes) -> Order:
    fields = {"order_id": "20261125-00000001", "at": 0, "broker": "9A00",
              "account": "12345678", "user": "u", "client_ref": "r", "symbol": "2330",
              "side": Side.BUY, "qty": 10_000, "price": 7620, "order_type": OrderType.LIMIT,
              "tif": TimeInForce.ROD, "session": Session.REGULAR, "credit": c.Credit.MARGIN,
              "leaves": 10_000}
    fields.update(changes)
    return Order(**fields)


def _fields(body: bytes) -> dict[bytes, bytes]:
    return dict(part.split(b"=", 1) for part in body.rstrip(b"\x01").split(b"\x01"))


def _report(**tags: bytes | str | int) -> bytes:
    body = fields_to_bytes([(k.removeprefix("t").encode(), v) for k, v in tags.items()])
    return frame(HEADER % b"8" + body)


def test_new_order_single_when_limit_then_names_broker_account_and_core_order_id():
    body = _fields(fb.new_order_single(_order(), b"20261125-01:00:00.000"))
    assert body == {b"115": b"9A00", b"11": b"20261125-00000001", b"1": b"12345678",
                    b"55": b"2330", b"54": b"1", b"38": b"10000", b"40": b"2",
                    b"44": b"76.20", b"59": b"0", b"336": b"regular",
                    b"60": b"20261125-01:00:00.000"}


def test_new_order_single_when_market_ioc_sell_then_no_price():
    body = _fields(fb.new_order_single(
        _order(side=Side.SELL, order_type=OrderType.MARKET, tif=TimeInForce.IOC, price=0),
        b"x"))
    assert (body[b"54"], body[b"40"], body[b"59"], b"44" in body) == (b"2", b"1", b"3", False)


def test_cancel_and_replace_when_built_then_own_clordid_and_orig_is_the_order():
    order = _order()
    cancel = _fields(fb.cancel_request(order, 1, b"x"))
    assert (cancel[b"11"], cancel[b"41"]) == (b"20261125-00000001/1", b"20261125-00000001")
    replace = _fields(fb.replace_request(order, 2, 5_000, None, b"x"))
    assert (replace[b"11"], replace[b"38"], replace[b"44"]) == (
        b"20261125-00000001/2", b"5000", b"76.20")


@pytest.mark.parametrize(("tags", "expected"), [
    ({"t150": "0", "t11": "OID", "t37": 42},
     c.ExchangeAccepted(at=7, order_id="OID", exchange_order_id=42)),
    ({"t150": "F", "t11": "OID", "t37": 42, "t17": 99, "t31": "76.20", "t32": 3000},
     c.ExchangeFilled(at=7, order_id="OID", exec_id="99", price=7620, qty=3000)),
    ({"t150": "4", "t11": "OID/1", "t41": "OID", "t5001": 3101},
     c.ExchangeCancelled(at=7, order_id="OID", qty=0, code=Code.CANCELLED_ON_REQUEST)),
    ({"t150": "4", "t11": "OID", "t5001": 3102},
     c.ExchangeCancelled(at=7, order_id="OID", qty=0, code=Code.IOC_REMAINDER_CANCELLED)),
    ({"t150": "C", "t11": "OID"}, c.ExchangeExpired(at=7, order_id="OID", qty=0)),
    ({"t150": "8", "t11": "OID", "t5001": 1003},
     c.ExchangeRejected(at=7, order_id="OID", code=Code.PRICE_OUTSIDE_LIMITS)),
    ({"t150": "5", "t11": "OID/2", "t41": "OID", "t38": 3000, "t44": "76.30"},
     c.ExchangeAmended(at=7, order_id="OID", qty=3000, price=7630)),
    ({"t150": "I", "t11": "OID"}, None),
])
def test_report_to_command_when_exec_type_then_the_command_it_means(tags, expected):
    assert fb.report_to_command(parse(_report(**tags)), 7) == expected


def test_report_to_command_when_exec_type_unknown_then_fix_error():
    with pytest.raises(FixError, match="ExecType Z"):
        fb.report_to_command(parse(_report(t150="Z", t11="OID")), 7)


def test_report_to_command_when_fill_price_malformed_then_fix_error():
    with pytest.raises(FixError):
        fb.report_to_command(parse(_report(t150="F", t11="OID", t17=1, t31="7.123",
                                           t32=1000)), 7)


def test_report_to_command_when_cancel_reject_then_request_rejected_with_code():
    body = fields_to_bytes([(b"37", 5), (b"11", "OID/1"), (b"41", "OID"), (b"39", "0"),
                            (b"434", "1"), (b"102", 0), (b"5001", 3003)])
    report = parse(frame(HEADER % b"9" + body))
    assert fb.report_to_command(report, 7, "T9A00A0") == c.ExchangeRequestRejected(
        at=7, order_id="OID", code=Code.ORDER_ALREADY_DONE, line="T9A00A0", line_seq=2)
