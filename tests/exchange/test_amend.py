"""Amendments: reduce quantity (keeps priority) or change price (loses it), never both."""

from __future__ import annotations

from brokercloud.codes import Code
from brokercloud.exchange.commands import AmendOrder, CancelOrder
from brokercloud.exchange.events import Amended, Cancelled, Filled, RequestRejected
from brokercloud.market.sessions import at

from .support import (
    LOT,
    MARKET,
    ODD_LOT,
    book_of,
    buy,
    continuous,
    exchange,
    fills,
    of_type,
    sell,
    since,
    snapshot,
)


def amended(events) -> list[tuple[int, str, str, int, int, int]]:
    return [(e.order_id, e.cl_ord_id, e.orig_cl_ord_id, e.price, e.qty, e.leaves)
            for e in events if type(e) is Amended]


def assert_amend_rejected(ex, order_id: int, code: Code, **changes) -> None:
    """The amend is refused with ``code``, one RequestRejected, and the book is unchanged."""
    before = snapshot(book_of(ex))
    start = len(ex.events)
    ex.amend(AmendOrder(changes.pop("broker", "B1"), order_id=order_id, **changes))
    events = since(ex, start)
    assert len(events) == 1
    event = events[0]
    assert type(event) is RequestRejected
    assert (event.order_id, event.request, event.code) == (order_id, "amend", code)
    assert event.seq == ex.events[start - 1].seq + 1
    assert snapshot(book_of(ex)) == before


# -- priority --------------------------------------------------------------------------------


def test_quantity_reduction_when_first_in_queue_then_keeps_time_priority():
    ex = continuous()
    first = sell(ex, 3 * LOT, 7500, "s1")
    second = sell(ex, 1 * LOT, 7500, "s2")
    start = len(ex.events)
    ex.amend(AmendOrder("B1", order_id=first, qty=2 * LOT))
    assert amended(since(ex, start)) == [(first, "s1", "s1", 7500, 2000, 2000)]
    assert book_of(ex).depth() == ([], [(7500, 3000)])
    start = len(ex.events)
    taker = buy(ex, 1 * LOT, 7500, broker="B2")
    assert fills(since(ex, start)) == [(first, 7500, 1000, 1000, 1000),
                                       (taker, 7500, 1000, 0, 1000)]
    assert book_of(ex).depth() == ([], [(7500, 2000)])
    assert second


def test_price_change_when_moved_to_a_level_with_an_older_order_then_queues_behind_it():
    ex = continuous()
    mover = sell(ex, 1 * LOT, 7510, "mover")
    waiting = sell(ex, 1 * LOT, 7500, "waiting")
    start = len(ex.events)
    ex.amend(AmendOrder("B1", order_id=mover, price=7500))
    assert amended(since(ex, start)) == [(mover, "mover", "mover", 7500, 1000, 1000)]
    book = book_of(ex)
    assert [o.order_id for o in book.resting()] == [waiting, mover]
    assert book.depth() == ([], [(7500, 2000)])
    start = len(ex.events)
    taker = buy(ex, 1 * LOT, 7500, broker="B2")
    assert fills(since(ex, start)) == [(waiting, 7500, 1000, 0, 1000),
                                       (taker, 7500, 1000, 0, 1000)]


def test_price_change_away_and_back_when_first_in_queue_then_loses_first_place():
    ex = continuous()
    first = sell(ex, 1 * LOT, 7500)
    second = sell(ex, 1 * LOT, 7500)
    ex.amend(AmendOrder("B1", order_id=first, price=7510))
    book_of(ex)
    ex.amend(AmendOrder("B1", order_id=first, price=7500))
    assert [o.order_id for o in book_of(ex).resting()] == [second, first]
    start = len(ex.events)
    taker = buy(ex, 1 * LOT, 7500, broker="B2")
    assert fills(since(ex, start)) == [(second, 7500, 1000, 0, 1000),
                                       (taker, 7500, 1000, 0, 1000)]


def test_quantity_reduction_when_compared_with_price_change_then_only_reduced_order_keeps_place():
    ex = continuous()
    reduced = buy(ex, 2 * LOT, 7400)
    repriced = buy(ex, 1 * LOT, 7400)
    third = buy(ex, 1 * LOT, 7400)
    ex.amend(AmendOrder("B1", order_id=reduced, qty=1 * LOT))
    ex.amend(AmendOrder("B1", order_id=repriced, price=7390))
    ex.amend(AmendOrder("B1", order_id=repriced, price=7400))
    assert [o.order_id for o in book_of(ex).resting()] == [reduced, third, repriced]
    start = len(ex.events)
    taker = sell(ex, 3 * LOT, 7400, broker="B2")
    assert fills(since(ex, start)) == [
        (reduced, 7400, 1000, 0, 1000), (taker, 7400, 1000, 2000, 1000),
        (third, 7400, 1000, 0, 1000), (taker, 7400, 1000, 1000, 2000),
        (repriced, 7400, 1000, 0, 1000), (taker, 7400, 1000, 0, 3000),
    ]


def test_price_change_when_new_price_crosses_then_trades_at_once_at_resting_price():
    ex = continuous()
    ask = sell(ex, 1 * LOT, 7500, broker="B2")
    bid = buy(ex, 2 * LOT, 7400, "bid")
    start = len(ex.events)
    ex.amend(AmendOrder("B1", order_id=bid, price=7600))
    events = since(ex, start)
    assert amended(events) == [(bid, "bid", "bid", 7600, 2000, 2000)]
    assert fills(events) == [(ask, 7500, 1000, 0, 1000), (bid, 7500, 1000, 1000, 1000)]
    assert [type(e) for e in events] == [Amended, Filled, Filled]
    book = book_of(ex)
    assert book.depth() == ([(7600, 1000)], [])


def test_price_change_when_partly_filled_then_keeps_filled_quantity():
    ex = continuous()
    ask = sell(ex, 3 * LOT, 7500, "ask")
    buy(ex, 1 * LOT, 7500, broker="B2")
    start = len(ex.events)
    ex.amend(AmendOrder("B1", order_id=ask, price=7550))
    assert amended(since(ex, start)) == [(ask, "ask", "ask", 7550, 3000, 2000)]
    order = ex.order("B1", ask)
    assert order is not None
    assert (order.price, order.qty, order.leaves, order.cum_qty) == (7550, 3000, 2000, 1000)
    assert book_of(ex).depth() == ([], [(7550, 2000)])
    start = len(ex.events)
    taker = buy(ex, 2 * LOT, 7550, broker="B2")
    assert fills(since(ex, start)) == [(ask, 7550, 2000, 0, 3000), (taker, 7550, 2000, 0, 2000)]


def test_quantity_reduction_when_partly_filled_then_new_total_counts_the_fill():
    ex = continuous()
    ask = sell(ex, 5 * LOT, 7500)
    buy(ex, 2 * LOT, 7500, broker="B2")
    start = len(ex.events)
    ex.amend(AmendOrder("B1", order_id=ask, qty=3 * LOT))
    assert amended(since(ex, start))[0][3:] == (7500, 3000, 1000)
    assert book_of(ex).depth() == ([], [(7500, 1000)])


def test_amend_when_new_client_order_id_given_then_order_answers_to_both_ids():
    ex = continuous()
    bid = buy(ex, 2 * LOT, 7400, "old")
    start = len(ex.events)
    ex.amend(AmendOrder("B1", orig_cl_ord_id="old", cl_ord_id="new", qty=1 * LOT))
    assert amended(since(ex, start)) == [(bid, "new", "old", 7400, 1000, 1000)]
    start = len(ex.events)
    ex.cancel(CancelOrder("B1", orig_cl_ord_id="new"))
    cancelled = of_type(since(ex, start), Cancelled)
    assert [(e.order_id, e.cl_ord_id, e.qty, e.code) for e in cancelled] == [
        (bid, "new", 1000, Code.CANCELLED_ON_REQUEST)]
    assert book_of(ex).depth() == ([], [])


def test_market_order_when_quantity_reduced_then_accepted_and_keeps_priority():
    ex = continuous()
    limit_bid = buy(ex, 1 * LOT, 8210)
    market_bid = buy(ex, 3 * LOT, order_type=MARKET)
    start = len(ex.events)
    ex.amend(AmendOrder("B1", order_id=market_bid, qty=1 * LOT))
    assert amended(since(ex, start))[0][4:] == (1000, 1000)
    assert [o.order_id for o in book_of(ex).resting()] == [market_bid, limit_bid]
    assert book_of(ex).depth() == ([(8210, 2000)], [])


def test_price_change_in_pre_open_when_crossing_then_rests_until_the_auction():
    ex = exchange(time=at(8, 30))
    sell(ex, 1 * LOT, 7500)
    bid = buy(ex, 1 * LOT, 7400)
    start = len(ex.events)
    ex.amend(AmendOrder("B1", order_id=bid, price=7500))
    assert of_type(since(ex, start), Filled) == []
    assert book_of(ex).depth() == ([(7500, 1000)], [(7500, 1000)])
    assert ex.indicative("2330") == (book_of(ex).index[7500], 1000)


def test_quantity_reduction_when_odd_lot_then_any_smaller_share_count_allowed():
    ex = exchange(time=at(9, 0, 1))
    odd = buy(ex, 500, 7400, session=ODD_LOT)
    start = len(ex.events)
    ex.amend(AmendOrder("B1", order_id=odd, qty=123))
    assert amended(since(ex, start))[0][4:] == (123, 123)
    assert book_of(ex, ODD_LOT).depth() == ([(7400, 123)], [])


# -- rejections --------------------------------------------------------------------------------


def test_quantity_increase_when_requested_then_rejected_not_reduced():
    ex = continuous()
    bid = buy(ex, 2 * LOT, 7400)
    assert_amend_rejected(ex, bid, Code.AMEND_QUANTITY_NOT_REDUCED, qty=3 * LOT)
    assert_amend_rejected(ex, bid, Code.AMEND_QUANTITY_NOT_REDUCED, qty=2 * LOT)


def test_amend_when_price_and_quantity_together_then_rejected():
    ex = continuous()
    bid = buy(ex, 2 * LOT, 7400)
    assert_amend_rejected(ex, bid, Code.AMEND_PRICE_AND_QUANTITY, qty=1 * LOT, price=7390)


def test_amend_when_nothing_changes_then_rejected_amend_nothing():
    ex = continuous()
    bid = buy(ex, 2 * LOT, 7400)
    assert_amend_rejected(ex, bid, Code.AMEND_NOTHING)
    assert_amend_rejected(ex, bid, Code.AMEND_NOTHING, price=7400)


def test_market_order_price_change_when_requested_then_rejected():
    ex = continuous()
    market_bid = buy(ex, 1 * LOT, order_type=MARKET)
    assert_amend_rejected(ex, market_bid, Code.AMEND_MARKET_ORDER_PRICE, price=7500)


def test_quantity_reduction_when_not_above_filled_then_rejected_below_filled():
    ex = continuous()
    ask = sell(ex, 3 * LOT, 7500)
    buy(ex, 2 * LOT, 7500, broker="B2")
    assert_amend_rejected(ex, ask, Code.AMEND_BELOW_FILLED, qty=2 * LOT)
    assert_amend_rejected(ex, ask, Code.AMEND_BELOW_FILLED, qty=1 * LOT)
    assert_amend_rejected(ex, ask, Code.AMEND_BELOW_FILLED, qty=0)


def test_quantity_reduction_when_not_whole_lots_then_rejected_not_board_lots():
    ex = continuous()
    bid = buy(ex, 3 * LOT, 7400)
    assert_amend_rejected(ex, bid, Code.NOT_BOARD_LOTS, qty=1500)


def test_price_change_when_off_tick_or_outside_limits_then_rejected_with_price_code():
    ex = continuous()
    bid = buy(ex, 1 * LOT, 7400)
    assert_amend_rejected(ex, bid, Code.PRICE_NOT_ON_TICK, price=7405)
    assert_amend_rejected(ex, bid, Code.PRICE_OUTSIDE_LIMITS, price=8220)
    assert_amend_rejected(ex, bid, Code.PRICE_OUTSIDE_LIMITS, price=6720)
    assert_amend_rejected(ex, bid, Code.PRICE_NOT_POSITIVE, price=0)


def test_amend_when_new_client_order_id_already_used_by_broker_then_rejected_duplicate():
    ex = continuous()
    buy(ex, 1 * LOT, 7300, "taken")
    bid = buy(ex, 2 * LOT, 7400, "mine")
    assert_amend_rejected(ex, bid, Code.DUPLICATE_CLIENT_ORDER_ID, qty=1 * LOT,
                          cl_ord_id="taken")
    assert_amend_rejected(ex, bid, Code.DUPLICATE_CLIENT_ORDER_ID, price=7390,
                          cl_ord_id="mine")
    order = ex.order("B1", bid)
    assert order is not None and order.cl_ord_id == "mine"


def test_amend_when_new_client_order_id_used_only_by_another_broker_then_accepted():
    ex = continuous()
    buy(ex, 1 * LOT, 7300, "shared", broker="B2")
    bid = buy(ex, 2 * LOT, 7400, "mine")
    start = len(ex.events)
    ex.amend(AmendOrder("B1", order_id=bid, cl_ord_id="shared", qty=1 * LOT))
    assert amended(since(ex, start)) == [(bid, "shared", "mine", 7400, 1000, 1000)]


def test_amend_when_order_filled_then_rejected_already_done():
    ex = continuous()
    ask = sell(ex, 1 * LOT, 7500)
    buy(ex, 1 * LOT, 7500, broker="B2")
    assert_amend_rejected(ex, ask, Code.ORDER_ALREADY_DONE, qty=1 * LOT)


def test_amend_when_order_belongs_to_another_broker_then_rejected_unknown_order():
    ex = continuous()
    ask = sell(ex, 2 * LOT, 7500, broker="B2")
    assert_amend_rejected(ex, ask, Code.UNKNOWN_ORDER, qty=1 * LOT)
    assert_amend_rejected(ex, 999, Code.UNKNOWN_ORDER, qty=1 * LOT)
