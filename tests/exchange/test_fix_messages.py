"""The pure translation between FIX messages and the exchange's commands and reports: no
sockets, messages built and parsed with the codec."""

from __future__ import annotations

from datetime import date

import pytest

from brokercloud.codes import Code, describe
from brokercloud.exchange import fix_messages as fm
from brokercloud.exchange.book import Order
from brokercloud.exchange.commands import AmendOrder, CancelOrder, NewOrder
from brokercloud.fix.codec import FixError, FixMessage, frame, parse
from brokercloud.fix.tags import SessionRejectReason
from brokercloud.market.orders import OrderType, Side, TimeInForce
from brokercloud.market.sessions import Session, at

DAY = date(2026, 11, 25)
WHEN = b"20261125-01:00:01.005"


def message(msg_type: bytes, body: bytes) -> FixMessage:
    """A message as the session hands it to the gateway (framed, then parsed)."""
    return parse(frame(b"35=%s\x0149=T9A00A0\x0156=XTAI\x0134=7\x0152=20261125-01:00:01.000\x01%s"
                       % (msg_type, body)))


def fields(**values: str) -> bytes:
    """tag_NNN=value pairs to a body, in the order given."""
    return b"".join(b"%s=%s\x01" % (name.removeprefix("tag_").encode(), value.encode())
                    for name, value in values.items())


NEW = {"tag_115": "9A00", "tag_11": "C1", "tag_1": "12345678", "tag_55": "2330", "tag_54": "1",
       "tag_38": "2000", "tag_40": "2", "tag_44": "74.7"}


def new_order(**changes: str | None) -> FixMessage:
    values = {**NEW, **changes}
    return message(b"D", fields(**{k: v for k, v in values.items() if v is not None}))


def reparse(body: bytes) -> FixMessage:
    """A report body as the member receives it."""
    return message(b"8", body)


def text(msg: FixMessage, tag: str) -> str | None:
    value = msg.get(tag.encode())
    return None if value is None else value.decode()


def rejection(error: pytest.ExceptionInfo[FixError]) -> tuple[int, bytes | None, str]:
    return error.value.reason, error.value.tag, error.value.text


# -- inbound -------------------------------------------------------------------------------------


def test_new_order_single_becomes_a_new_order_command() -> None:
    assert fm.new_order_from_fix(new_order(), "9A00") == NewOrder(
        broker="9A00", account="12345678", cl_ord_id="C1", symbol="2330", side=Side.BUY,
        qty=2000, price=7470, order_type=OrderType.LIMIT, tif=TimeInForce.ROD,
        session=Session.REGULAR)
    assert fm.broker_of(new_order()) == "9A00"


@pytest.mark.parametrize(("changes", "expected"), [
    ({"tag_54": "2"}, {"side": Side.SELL}),
    ({"tag_59": "0"}, {}),
    ({"tag_59": "3"}, {"tif": TimeInForce.IOC}),
    ({"tag_59": "4"}, {"tif": TimeInForce.FOK}),
    ({"tag_336": "odd_lot", "tag_38": "300"}, {"session": Session.ODD_LOT, "qty": 300}),
    ({"tag_336": "fixed_price"}, {"session": Session.FIXED_PRICE}),
    ({"tag_336": "after_hours_odd_lot"}, {"session": Session.AFTER_HOURS_ODD_LOT}),
    ({"tag_336": "regular"}, {}),
    ({"tag_44": "74.70"}, {}),
    ({"tag_44": "74.700"}, {}),  # trailing zeros are still two decimals
    ({"tag_44": "1085"}, {"price": 108500}),
    ({"tag_44": "9.01"}, {"price": 901}),
    ({"tag_40": "1", "tag_44": None}, {"order_type": OrderType.MARKET, "price": 0}),
    ({"tag_40": "1", "tag_44": "74.7"}, {"order_type": OrderType.MARKET, "price": 0}),
])
def test_new_order_fields(changes: dict[str, str | None], expected: dict[str, object]) -> None:
    command = fm.new_order_from_fix(new_order(**changes), "9A00")
    base = {"side": Side.BUY, "qty": 2000, "price": 7470, "order_type": OrderType.LIMIT,
            "tif": TimeInForce.ROD, "session": Session.REGULAR}
    assert {name: getattr(command, name) for name in base} == {**base, **expected}


R = SessionRejectReason


@pytest.mark.parametrize(("changes", "reason", "tag", "text"), [
    ({"tag_55": None}, R.REQUIRED_TAG_MISSING, b"55", "Required tag 55 missing"),
    ({"tag_11": None}, R.REQUIRED_TAG_MISSING, b"11", "Required tag 11 missing"),
    ({"tag_1": None}, R.REQUIRED_TAG_MISSING, b"1", "Required tag 1 missing"),
    ({"tag_54": None}, R.REQUIRED_TAG_MISSING, b"54", "Required tag 54 missing"),
    ({"tag_38": None}, R.REQUIRED_TAG_MISSING, b"38", "Required tag 38 missing"),
    ({"tag_40": None}, R.REQUIRED_TAG_MISSING, b"40", "Required tag 40 missing"),
    ({"tag_44": None}, R.REQUIRED_TAG_MISSING, b"44", "Required tag 44 missing"),
    ({"tag_54": "7"}, R.VALUE_INCORRECT, b"54", "Value '7' is incorrect for tag 54"),
    ({"tag_54": "B"}, R.VALUE_INCORRECT, b"54", "Value 'B' is incorrect for tag 54"),
    ({"tag_40": "3"}, R.VALUE_INCORRECT, b"40", "Value '3' is incorrect for tag 40"),
    ({"tag_59": "1"}, R.VALUE_INCORRECT, b"59", "Value '1' is incorrect for tag 59"),
    ({"tag_336": "night"}, R.VALUE_INCORRECT, b"336", "Value 'night' is incorrect for tag 336"),
    ({"tag_44": "74.705"}, R.INCORRECT_DATA_FORMAT, b"44",
     "Tag 44 must be a price with at most two decimals"),
    ({"tag_44": "-74.70"}, R.INCORRECT_DATA_FORMAT, b"44",
     "Tag 44 must be a price with at most two decimals"),
    ({"tag_44": "74,70"}, R.INCORRECT_DATA_FORMAT, b"44",
     "Tag 44 must be a price with at most two decimals"),
    ({"tag_38": "2e3"}, R.INCORRECT_DATA_FORMAT, b"38", "Tag 38 must be an integer"),
    ({"tag_38": "1000.0"}, R.INCORRECT_DATA_FORMAT, b"38", "Tag 38 must be an integer"),
    ({"tag_1": "帳號"}, R.INCORRECT_DATA_FORMAT, b"1", "Tag 1 must be ASCII"),
])
def test_malformed_new_orders_raise_fix_errors(changes: dict[str, str | None], reason: int,
                                              tag: bytes, text: str) -> None:
    with pytest.raises(FixError) as error:
        fm.new_order_from_fix(new_order(**changes), "9A00")
    assert rejection(error) == (reason, tag, text)


def test_a_negative_quantity_is_the_engines_to_refuse() -> None:
    """The format is an integer; whether it is a valid quantity is a market rule (1004)."""
    assert fm.new_order_from_fix(new_order(tag_38="-1000"), "9A00").qty == -1000


def test_broker_of_requires_on_behalf_of_comp_id() -> None:
    with pytest.raises(FixError) as error:
        fm.broker_of(new_order(tag_115=None))
    assert rejection(error) == (R.REQUIRED_TAG_MISSING, b"115", "Required tag 115 missing")


@pytest.mark.parametrize(("body", "expected"), [
    (b"", 0), (b"37=NONE\x01", 0), (b"37=12\x01", 12), (b"37=0\x01", 0)])
def test_order_id_of(body: bytes, expected: int) -> None:
    assert fm.order_id_of(message(b"F", body)) == expected


@pytest.mark.parametrize("value", [b"x1", b"-3", b"1.0"])
def test_order_id_must_be_numeric(value: bytes) -> None:
    with pytest.raises(FixError) as error:
        fm.order_id_of(message(b"F", b"37=%s\x01" % value))
    assert rejection(error) == (R.INCORRECT_DATA_FORMAT, b"37",
                                "OrderID (37) must be the exchange's numeric order ID")


def test_cancel_request_names_the_order_by_orig_cl_ord_id_or_order_id() -> None:
    assert fm.cancel_from_fix(message(b"F", fields(tag_11="X1", tag_41="C1")), "9A00") == \
        CancelOrder("9A00", order_id=0, orig_cl_ord_id="C1", cl_ord_id="X1")
    assert fm.cancel_from_fix(message(b"F", fields(tag_11="X1", tag_37="5")), "9A00") == \
        CancelOrder("9A00", order_id=5, orig_cl_ord_id="", cl_ord_id="X1")
    assert fm.cancel_from_fix(message(b"F", fields(tag_11="X1", tag_37="5", tag_41="C1")),
                              "9B00") == CancelOrder("9B00", 5, "C1", "X1")
    with pytest.raises(FixError) as error:  # neither
        fm.cancel_from_fix(message(b"F", fields(tag_11="X1")), "9A00")
    assert rejection(error) == (R.REQUIRED_TAG_MISSING, b"41", "Required tag 41 missing")
    with pytest.raises(FixError) as error:
        fm.cancel_from_fix(message(b"F", fields(tag_41="C1")), "9A00")
    assert rejection(error) == (R.REQUIRED_TAG_MISSING, b"11", "Required tag 11 missing")


def working(qty: int = 3000, price: int = 7470, cum: int = 0, *, cl: str = "C1",
            order_type: OrderType = OrderType.LIMIT) -> Order:
    return Order(7, "9A00", "12345678", cl, "2330", Session.REGULAR, Side.BUY, order_type,
                 TimeInForce.ROD, price, qty, qty - cum, cum)


@pytest.mark.parametrize(("qty", "price", "expected_qty", "expected_price"), [
    ("2000", "74.70", 2000, None),  # smaller quantity, same price: a reduction
    ("3000", "74.60", None, 7460),  # same quantity, new price: a reprice
    ("2000", "74.60", 2000, 7460),  # both: the engine refuses it (3005)
    ("3000", "74.70", None, None),  # nothing: the engine refuses it (3007)
    ("4000", "74.70", 4000, None),  # an increase: the engine refuses it (3004)
])
def test_replace_is_compared_with_the_working_order(qty: str, price: str, expected_qty: int | None,
                                                    expected_price: int | None) -> None:
    request = message(b"G", fields(tag_11="R1", tag_41="C1", tag_38=qty, tag_44=price))
    assert fm.amend_from_fix(request, "9A00", working()) == AmendOrder(
        "9A00", 0, "C1", "R1", qty=expected_qty, price=expected_price)


def test_replace_without_price_or_of_an_unknown_order() -> None:
    request = message(b"G", fields(tag_11="R1", tag_37="7", tag_38="2000"))
    assert fm.amend_from_fix(request, "9A00", working()) == AmendOrder(
        "9A00", 7, "", "R1", qty=2000, price=None)
    # unknown: only the quantity is passed on, and the engine answers "unknown order"
    request = message(b"G", fields(tag_11="R1", tag_41="ZZ", tag_38="2000", tag_44="74.60"))
    assert fm.amend_from_fix(request, "9A00", None) == AmendOrder("9A00", 0, "ZZ", "R1",
                                                                  qty=2000)
    with pytest.raises(FixError) as error:
        fm.amend_from_fix(message(b"G", fields(tag_11="R1", tag_41="C1")), "9A00", working())
    assert rejection(error) == (R.REQUIRED_TAG_MISSING, b"38", "Required tag 38 missing")
    with pytest.raises(FixError) as error:
        fm.amend_from_fix(message(b"G", fields(tag_11="R1", tag_41="C1", tag_38="1000",
                                               tag_44="74.755")), "9A00", working())
    assert rejection(error)[:2] == (R.INCORRECT_DATA_FORMAT, b"44")


# -- outbound --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("qty", "cum", "ended", "status"), [
    (3000, 0, None, b"0"),
    (3000, 1000, None, b"1"),
    (3000, 3000, None, b"2"),
    (3000, 3000, b"4", b"2"),  # filled beats how it ended
])
def test_status_of_a_live_or_filled_order(qty: int, cum: int, ended: bytes | None,
                                          status: bytes) -> None:
    assert fm.status_of(working(qty, cum=cum), ended) == status


def test_status_of_an_order_that_left_the_book_unfilled() -> None:
    gone = working(3000, cum=1000)
    gone.leaves = 0
    assert fm.status_of(gone, fm.OrdStatus.CANCELED) == b"4"
    assert fm.status_of(gone, fm.OrdStatus.EXPIRED) == b"C"
    assert fm.status_of(gone) == b"1"  # no reason given: what it traded


@pytest.mark.parametrize(("ms", "expected"), [
    (at(9, 0, 1) + 5, b"20261125-01:00:01.005"),
    (at(13, 30), b"20261125-05:30:00.000"),
    (at(7, 59, 59) + 999, b"20261124-23:59:59.999"),  # Taiwan morning is the UTC day before
    (0, b"20261124-16:00:00.000"),
])
def test_transact_time_is_taiwan_time_in_utc(ms: int, expected: bytes) -> None:
    assert fm.transact_time(DAY, ms) == expected


@pytest.mark.parametrize(("value", "qty", "expected"), [
    (0, 0, b"0"),
    (7470 * 1000, 1000, b"74.7000"),
    (7480 * 1000 + 7470 * 2000, 3000, b"74.7333"),  # truncated, not rounded
    (7480 * 2000 + 7470 * 1000, 3000, b"74.7666"),
    (108500 * 1000, 1000, b"1085.0000"),
    (901 * 1, 1, b"9.0100"),
])
def test_average_price(value: int, qty: int, expected: bytes) -> None:
    assert fm.average_price(value, qty) == expected


def test_execution_report_fields() -> None:
    order = working(3000, cum=1000)
    body = fm.execution_report(fm.order_identity(order), 12, fm.ExecType.TRADE,
                               fm.OrdStatus.PARTIALLY_FILLED, 2000, 1000, WHEN, b"74.7000",
                               last=(7470, 1000))
    report = reparse(body)
    assert report.fields == {**report.fields, **{
        b"128": b"9A00", b"37": b"7", b"11": b"C1", b"1": b"12345678", b"55": b"2330",
        b"54": b"1", b"38": b"3000", b"40": b"2", b"44": b"74.70", b"59": b"0",
        b"336": b"regular", b"17": b"12", b"150": b"F", b"39": b"1", b"151": b"2000",
        b"14": b"1000", b"6": b"74.7000", b"60": WHEN, b"31": b"74.70", b"32": b"1000"}}
    for absent in (b"41", b"5001", b"58", b"103"):
        assert absent not in report.fields

    replaced = reparse(fm.execution_report(
        fm.order_identity(working(2000, cl="R1")), 13, fm.ExecType.REPLACED, fm.OrdStatus.NEW,
        2000, 0, WHEN, b"0", orig_cl_ord_id="C1"))
    assert [text(replaced, tag) for tag in ("11", "41", "38", "150", "31")] == [
        "R1", "C1", "2000", "5", None]

    cancelled = reparse(fm.execution_report(
        fm.order_identity(order), 14, fm.ExecType.CANCELED, fm.OrdStatus.CANCELED, 0, 1000,
        WHEN, b"74.7000", code=Code.CANCELLED_ON_REQUEST))
    assert [text(cancelled, tag) for tag in ("150", "39", "151", "5001", "58")] == [
        "4", "4", "0", "3101", describe(Code.CANCELLED_ON_REQUEST)]


def test_order_identity_of_a_market_order_has_no_price() -> None:
    market = reparse(fm.order_identity(working(order_type=OrderType.MARKET, price=0)))
    assert b"44" not in market.fields
    assert text(market, "40") == "1"
    odd = working(300, price=901)
    odd.session = Session.ODD_LOT
    odd.side = Side.SELL
    odd.tif = TimeInForce.IOC
    assert [text(reparse(fm.order_identity(odd)), tag) for tag in ("44", "54", "59", "336")] == [
        "9.01", "2", "3", "odd_lot"]


@pytest.mark.parametrize(("code", "ord_rej_reason"), [
    (Code.UNKNOWN_SYMBOL, "1"), (Code.SESSION_CLOSED, "2"), (Code.QUANTITY_ABOVE_CAP, "3"),
    (Code.DUPLICATE_CLIENT_ORDER_ID, "6"), (Code.ORDER_TYPE_NOT_ALLOWED, "11"),
    (Code.MARKET_ORDER_NOT_ALLOWED, "11"), (Code.QUANTITY_NOT_POSITIVE, "13"),
    (Code.NOT_BOARD_LOTS, "13"), (Code.PRICE_OUTSIDE_LIMITS, "99"),
    (Code.BROKER_NOT_ON_LINE, "99"), (Code.LINE_RATE_LIMIT_EXCEEDED, "99")])
def test_rejected_report(code: Code, ord_rej_reason: str) -> None:
    request = new_order(tag_54="2", tag_38="3000")
    report = reparse(fm.rejected_report("9A00", "12345678", "C1", "2330", 9, code, WHEN,
                                        request))
    assert {tag.decode(): value.decode() for tag, value in report.fields.items()
            if tag not in (b"8", b"9", b"35", b"49", b"56", b"34", b"52", b"10")} == {
        "128": "9A00", "37": "NONE", "11": "C1", "17": "9", "150": "8", "39": "8",
        "1": "12345678", "55": "2330", "54": "2", "38": "3000", "103": ord_rej_reason,
        "151": "0", "14": "0", "6": "0", "60": WHEN.decode(), "5001": str(int(code)),
        "58": describe(code)}


def test_rejected_report_survives_garbage_and_leaves_out_what_the_request_lacked() -> None:
    request = new_order(tag_54="9", tag_38="lots")
    report = reparse(fm.rejected_report("", "", "", "", "L-3", Code.LINE_RATE_LIMIT_EXCEEDED,
                                        WHEN, request))
    assert [text(report, tag) for tag in ("54", "38", "17")] == ["1", "0", "L-3"]
    for absent in (b"128", b"11", b"1", b"55"):  # a tag may not be sent without a value
        assert absent not in report.fields
    status = reparse(fm.rejected_report("9A00", "", "", "2330", "S-4", Code.UNKNOWN_ORDER, WHEN,
                                        exec_type=fm.ExecType.ORDER_STATUS))
    assert [text(status, tag) for tag in ("150", "39", "54", "38", "5001", "1", "11")] == [
        "I", "8", "1", "0", "3002", None, None]


@pytest.mark.parametrize(("code", "request_kind", "response_to", "cxl_rej_reason"), [
    (Code.UNKNOWN_ORDER, "cancel", "1", "1"),
    (Code.ORDER_ALREADY_DONE, "cancel", "1", "0"),
    (Code.SESSION_CLOSED, "cancel", "1", "99"),
    (Code.UNKNOWN_ORDER, "amend", "2", "1"),
    (Code.AMEND_PRICE_AND_QUANTITY, "amend", "2", "99"),
    (Code.AMEND_QUANTITY_NOT_REDUCED, "amend", "2", "99"),
])
def test_cancel_reject(code: Code, request_kind: str, response_to: str,
                       cxl_rej_reason: str) -> None:
    report = message(b"9", fm.cancel_reject("9A00", 7, "X1", "C1", b"0", request_kind, code))
    assert [text(report, tag) for tag in ("128", "37", "11", "41", "39", "434", "102", "5001",
                                          "58")] == [
        "9A00", "7", "X1", "C1", "0", response_to, cxl_rej_reason, str(int(code)),
        describe(code)]
    unknown = message(b"9", fm.cancel_reject("9A00", 0, "", "", b"8", request_kind, code))
    assert [text(unknown, tag) for tag in ("37", "11", "41", "39")] == [
        "NONE", "NONE", "NONE", "8"]
