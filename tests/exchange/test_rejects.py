"""Bad input: each refusal carries its exact code in an event with a seq, and no book changes."""

from __future__ import annotations

import pytest

from brokercloud.codes import Code
from brokercloud.exchange.commands import AmendOrder, CancelOrder, NewOrder
from brokercloud.exchange.events import Accepted, Rejected, RequestRejected
from brokercloud.market.instruments import Instrument, InstrumentKind
from brokercloud.market.sessions import at

from .support import (
    AFTER_HOURS_ODD_LOT,
    BUY,
    FIXED_PRICE,
    FOK,
    IOC,
    LIMIT,
    LOT,
    MARKET,
    ODD_LOT,
    REF,
    REGULAR,
    ROD,
    SELL,
    TSMC,
    buy,
    exchange,
    sell,
    since,
    snapshot,
)

HON_HAI = Instrument(symbol="2317", name="Hon Hai")  # reference 100.00: ticks 0.1 / 0.5
NEW_LISTING = Instrument(symbol="7777", name="New listing", limit_bp=None)
ETF = Instrument(symbol="0050", name="Taiwan 50", kind=InstrumentKind.ETF)  # 50.00: 0.01 / 0.05


def busy_exchange():
    """Continuous trading with resting orders from two brokers on both sides and odd lots."""
    ex = exchange((TSMC, REF), (HON_HAI, 10_000), (NEW_LISTING, 5_000), (ETF, 5_000),
                  time=at(9, 0, 1))
    buy(ex, 2 * LOT, 7400, "b1")
    buy(ex, 1 * LOT, 7400, "b2", broker="B2")
    buy(ex, 3 * LOT, 7300, "b3")
    sell(ex, 1 * LOT, 7500, "s1", broker="B2")
    sell(ex, 5 * LOT, 7600, "s2")
    buy(ex, 300, 7400, "o1", session=ODD_LOT)
    return ex


def books(ex) -> list:
    """Snapshots of every book that exists (the odd-lot books open at 09:00)."""
    return [snapshot(book) for symbol in ("2330", "2317", "7777", "0050")
            for session in (REGULAR, ODD_LOT)
            if (book := ex.book(symbol, session)) is not None]


def assert_rejected(ex, cmd: NewOrder, code: Code) -> None:
    before = books(ex)
    start = len(ex.events)
    last_seq = ex.events[-1].seq if ex.events else 0
    ex.new_order(cmd)
    events = since(ex, start)
    assert events == [Rejected(last_seq + 1, ex.now, 0, cmd.broker, cmd.account, cmd.cl_ord_id,
                               cmd.symbol, code)]
    assert books(ex) == before


def new(qty: int = 1 * LOT, price: int = 7470, *, symbol: str = "2330", side=BUY,
        order_type=LIMIT, tif=ROD, session=REGULAR, cl: str = "x1",
        broker: str = "B1") -> NewOrder:
    return NewOrder(broker, "A1", cl, symbol, side, qty, price, order_type, tif, session)


@pytest.mark.parametrize(("cmd", "code"), [
    (new(symbol="9999"), Code.UNKNOWN_SYMBOL),
    (new(symbol="2330 "), Code.UNKNOWN_SYMBOL),
    (new(price=7475), Code.PRICE_NOT_ON_TICK),
    (new(price=7471), Code.PRICE_NOT_ON_TICK),
    (new(price=10_010, symbol="2317"), Code.PRICE_NOT_ON_TICK),  # 0.5 tick from 100.00 up
    (new(price=9_995, symbol="2317"), Code.PRICE_NOT_ON_TICK),  # 0.1 tick below 100.00
    (new(price=5_001, symbol="0050"), Code.PRICE_NOT_ON_TICK),  # fund tick 0.05 from 50.00
    (new(price=5_008, symbol="0050"), Code.PRICE_NOT_ON_TICK),
    (new(price=5_510, symbol="0050"), Code.PRICE_OUTSIDE_LIMITS),
    (new(price=8220), Code.PRICE_OUTSIDE_LIMITS),
    (new(price=8300, side=SELL), Code.PRICE_OUTSIDE_LIMITS),
    (new(price=6720), Code.PRICE_OUTSIDE_LIMITS),
    (new(price=6725), Code.PRICE_OUTSIDE_LIMITS),
    (new(price=11_050, symbol="2317"), Code.PRICE_OUTSIDE_LIMITS),
    (new(price=7_510, symbol="7777"), Code.PRICE_OUTSIDE_LIMITS),  # beyond the +/-50% book
    (new(price=0), Code.PRICE_NOT_POSITIVE),
    (new(price=-7470), Code.PRICE_NOT_POSITIVE),
    (new(qty=0), Code.QUANTITY_NOT_POSITIVE),
    (new(qty=-1000), Code.QUANTITY_NOT_POSITIVE),
    (new(qty=500 * LOT), Code.QUANTITY_ABOVE_CAP),
    (new(qty=10_000 * LOT), Code.QUANTITY_ABOVE_CAP),
    (new(qty=1500), Code.NOT_BOARD_LOTS),
    (new(qty=999), Code.NOT_BOARD_LOTS),
    (new(qty=1), Code.NOT_BOARD_LOTS),
    (new(qty=1000, session=ODD_LOT), Code.NOT_ODD_LOT),
    (new(qty=0, session=ODD_LOT), Code.QUANTITY_NOT_POSITIVE),
    (new(order_type=MARKET, price=0, symbol="7777"), Code.MARKET_ORDER_NOT_ALLOWED),
    (new(order_type=MARKET, tif=IOC, price=0, symbol="7777"), Code.MARKET_ORDER_NOT_ALLOWED),
    (new(qty=100, order_type=MARKET, session=ODD_LOT), Code.MARKET_ORDER_NOT_ALLOWED),
    (new(qty=100, tif=IOC, session=ODD_LOT), Code.ORDER_TYPE_NOT_ALLOWED),
    (new(qty=100, tif=FOK, session=ODD_LOT), Code.ORDER_TYPE_NOT_ALLOWED),
    (new(session=FIXED_PRICE), Code.SESSION_CLOSED),
    (new(qty=100, session=AFTER_HOURS_ODD_LOT), Code.SESSION_CLOSED),
])
def test_new_order_when_input_is_bad_then_rejected_with_code_and_books_untouched(cmd, code):
    ex = busy_exchange()
    assert_rejected(ex, cmd, code)


def test_new_order_when_before_pre_open_then_rejected_session_closed_as_first_event():
    ex = exchange(time=at(8, 0))
    assert_rejected(ex, new(), Code.SESSION_CLOSED)
    assert ex.events[0].seq == 1


@pytest.mark.parametrize("time", [at(13, 30), at(13, 59, 59, 999), at(16, 0)])
def test_new_order_when_regular_session_over_then_rejected_session_closed(time):
    ex = busy_exchange()
    ex.advance_to(time)
    assert len(books(ex)) == 8
    assert_rejected(ex, new(), Code.SESSION_CLOSED)
    assert_rejected(ex, new(qty=100, session=ODD_LOT), Code.SESSION_CLOSED)


def test_new_order_when_exactly_at_limits_and_cap_then_accepted():
    ex = busy_exchange()
    start = len(ex.events)
    ex.new_order(new(qty=499 * LOT, price=8210, side=SELL, cl="up"))
    ex.new_order(new(qty=499 * LOT, price=6730, cl="down"))
    ex.new_order(new(qty=999, price=7470, session=ODD_LOT, cl="odd"))
    ex.new_order(new(qty=1, price=9_990, symbol="2317", session=ODD_LOT, cl="tick"))
    ex.new_order(new(price=7_500, symbol="7777", cl="nolimit"))
    ex.new_order(new(price=4_999, symbol="0050", cl="etf-low"))
    ex.new_order(new(price=5_005, symbol="0050", side=SELL, cl="etf-high"))
    events = since(ex, start)
    assert [type(e) for e in events] == [Accepted] * 7
    assert [(e.cl_ord_id, e.qty, e.price) for e in events] == [
        ("up", 499_000, 8210), ("down", 499_000, 6730), ("odd", 999, 7470),
        ("tick", 1, 9_990), ("nolimit", 1000, 7_500), ("etf-low", 1000, 4_999),
        ("etf-high", 1000, 5_005)]


def test_new_order_when_client_order_id_reused_by_same_broker_then_rejected_duplicate():
    ex = busy_exchange()
    assert_rejected(ex, new(cl="b1"), Code.DUPLICATE_CLIENT_ORDER_ID)  # resting order's id
    assert_rejected(ex, new(cl="b3", side=SELL, price=10_000, symbol="2317"),
                    Code.DUPLICATE_CLIENT_ORDER_ID)
    assert_rejected(ex, new(cl="o1", qty=5, session=ODD_LOT), Code.DUPLICATE_CLIENT_ORDER_ID)


def test_new_order_when_client_order_id_of_a_finished_order_then_still_duplicate():
    ex = busy_exchange()
    taker = buy(ex, 1 * LOT, 7500, "done")
    assert taker and ex.order("B1", taker).leaves == 0
    assert_rejected(ex, new(cl="done"), Code.DUPLICATE_CLIENT_ORDER_ID)


def test_new_order_when_client_order_id_used_by_another_broker_then_accepted():
    ex = busy_exchange()
    start = len(ex.events)
    ex.new_order(new(cl="s1", broker="B1", price=7300))  # "s1" belongs to B2
    ex.new_order(new(cl="b1", broker="B3", price=7300))  # "b1" belongs to B1
    assert [(type(e), e.broker, e.cl_ord_id) for e in since(ex, start)] == [
        (Accepted, "B1", "s1"), (Accepted, "B3", "b1")]


def test_new_order_when_rejected_then_its_client_order_id_stays_free():
    ex = busy_exchange()
    assert_rejected(ex, new(cl="retry", price=7475), Code.PRICE_NOT_ON_TICK)
    start = len(ex.events)
    ex.new_order(new(cl="retry", price=7470))
    assert [type(e) for e in since(ex, start)] == [Accepted]


# -- cancel and amend requests -----------------------------------------------------------------


def request_rejected(ex, cmd: CancelOrder | AmendOrder) -> RequestRejected:
    before = books(ex)
    start = len(ex.events)
    last_seq = ex.events[-1].seq
    if type(cmd) is CancelOrder:
        ex.cancel(cmd)
    else:
        ex.amend(cmd)
    events = since(ex, start)
    assert len(events) == 1 and type(events[0]) is RequestRejected
    assert events[0].seq == last_seq + 1
    assert books(ex) == before
    return events[0]


def order_id(ex, broker: str, cl: str) -> int:
    found = ex.order(broker, cl_ord_id=cl)
    assert found is not None
    return found.order_id


def test_cancel_when_order_id_unknown_then_rejected_unknown_order():
    ex = busy_exchange()
    event = request_rejected(ex, CancelOrder("B1", order_id=999, cl_ord_id="c9"))
    assert (event.order_id, event.broker, event.account, event.cl_ord_id, event.orig_cl_ord_id,
            event.request, event.code) == (999, "B1", "", "c9", "", "cancel", Code.UNKNOWN_ORDER)
    event = request_rejected(ex, CancelOrder("B1", orig_cl_ord_id="nope"))
    assert (event.order_id, event.orig_cl_ord_id, event.code) == (0, "nope", Code.UNKNOWN_ORDER)


def test_cancel_when_its_client_order_id_is_taken_then_rejected_duplicate_and_order_rests():
    """A cancel request's ClOrdID is unique per broker and day like an order's: a reused one is
    refused (the order stays), and a used one can no longer name a new order."""
    ex = busy_exchange()
    resting = buy(ex, 1 * LOT, 7300, "mine")
    event = request_rejected(ex, CancelOrder("B1", order_id=resting, cl_ord_id="b1"))
    assert (event.order_id, event.code) == (resting, Code.DUPLICATE_CLIENT_ORDER_ID)
    assert ex.order("B1", resting).leaves == LOT
    start = len(ex.events)
    ex.cancel(CancelOrder("B1", order_id=resting, cl_ord_id="cxl-1"))
    assert [type(e).__name__ for e in since(ex, start)] == ["Cancelled"]
    assert_rejected(ex, new(cl="cxl-1"), Code.DUPLICATE_CLIENT_ORDER_ID)
    ex.new_order(new(cl="cxl-1", broker="B3", price=7300))  # another broker's IDs are its own
    assert type(ex.events[-1]).__name__ == "Accepted"


def test_cancel_when_order_belongs_to_another_broker_then_answer_is_same_as_unknown():
    ex = busy_exchange()
    theirs = order_id(ex, "B2", "s1")
    leaked = request_rejected(ex, CancelOrder("B1", order_id=theirs))
    missing = request_rejected(ex, CancelOrder("B1", order_id=theirs + 1000))
    assert (leaked.account, leaked.orig_cl_ord_id, leaked.code) == ("", "", Code.UNKNOWN_ORDER)
    assert (leaked.order_id, missing.order_id) == (theirs, theirs + 1000)
    strip = ("seq", "order_id")
    fields = [f for f in RequestRejected.__struct_fields__ if f not in strip]
    assert [getattr(leaked, f) for f in fields] == [getattr(missing, f) for f in fields]
    by_cl = request_rejected(ex, CancelOrder("B1", orig_cl_ord_id="s1"))
    assert (by_cl.order_id, by_cl.account, by_cl.code) == (0, "", Code.UNKNOWN_ORDER)
    assert ex.order("B1", theirs) is None
    assert ex.order("B2", theirs) is not None


def test_amend_when_order_belongs_to_another_broker_then_rejected_unknown_order():
    ex = busy_exchange()
    theirs = order_id(ex, "B2", "b2")
    event = request_rejected(ex, AmendOrder("B1", order_id=theirs, qty=0))
    assert (event.request, event.account, event.code) == ("amend", "", Code.UNKNOWN_ORDER)


def test_cancel_when_order_already_filled_then_rejected_already_done():
    ex = busy_exchange()
    taker = buy(ex, 1 * LOT, 7500, "t1")
    filled = order_id(ex, "B2", "s1")
    for broker, oid in (("B1", taker), ("B2", filled)):
        event = request_rejected(ex, CancelOrder(broker, order_id=oid))
        assert (event.order_id, event.account, event.code) == (oid, "A1",
                                                               Code.ORDER_ALREADY_DONE)


def test_cancel_when_order_already_cancelled_then_rejected_already_done():
    ex = busy_exchange()
    oid = order_id(ex, "B1", "b3")
    ex.cancel(CancelOrder("B1", order_id=oid))
    event = request_rejected(ex, CancelOrder("B1", orig_cl_ord_id="b3"))
    assert (event.order_id, event.orig_cl_ord_id, event.code) == (oid, "b3",
                                                                  Code.ORDER_ALREADY_DONE)


def test_cancel_when_ioc_remainder_was_cancelled_then_rejected_already_done():
    ex = busy_exchange()
    ioc = buy(ex, 5 * LOT, 7500, "ioc", tif=IOC)
    event = request_rejected(ex, CancelOrder("B1", order_id=ioc))
    assert event.code == Code.ORDER_ALREADY_DONE


def test_cancel_when_order_expired_then_rejected_already_done():
    ex = busy_exchange()
    oid = order_id(ex, "B1", "b1")
    ex.advance_to(at(13, 31))
    event = request_rejected(ex, CancelOrder("B1", order_id=oid))
    assert (event.order_id, event.code) == (oid, Code.ORDER_ALREADY_DONE)
