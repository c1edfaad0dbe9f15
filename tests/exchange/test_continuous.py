"""Continuous trading: price-time priority, trades at the resting price, market orders, IOC, FOK."""

from __future__ import annotations

from brokercloud.codes import Code
from brokercloud.exchange.events import Cancelled, Filled
from brokercloud.market.sessions import at

from .support import (
    FOK,
    IOC,
    LIMIT_DOWN,
    LIMIT_UP,
    LOT,
    MARKET,
    book_of,
    buy,
    cancel,
    continuous,
    fills,
    of_type,
    sell,
    since,
    snapshot,
)


def resting(ex) -> list[tuple[int, int, int]]:
    """(order_id, leaves, price) of every resting order, bids then asks, in priority order."""
    book = book_of(ex)
    return [(o.order_id, o.leaves, book.prices[o.level]) for o in book.resting()]


def test_limit_buy_when_asks_at_two_prices_then_fills_best_price_first_at_resting_prices():
    ex = continuous()
    a = sell(ex, 1 * LOT, 7480)
    b = sell(ex, 3 * LOT, 7490)
    c = sell(ex, 1 * LOT, 7500)
    start = len(ex.events)
    taker = buy(ex, 3 * LOT, 7490)
    assert fills(since(ex, start)) == [
        (a, 7480, 1000, 0, 1000), (taker, 7480, 1000, 2000, 1000),
        (b, 7490, 2000, 1000, 2000), (taker, 7490, 2000, 0, 3000),
    ]
    book = book_of(ex)
    assert book.depth() == ([], [(7490, 1000), (7500, 1000)])
    assert resting(ex) == [(b, 1000, 7490), (c, 1000, 7500)]
    assert (book.last_price, book.volume) == (7490, 3000)
    assert book.prices[book.best_ask] == 7490
    assert book.best_bid == -1


def test_limit_sell_when_bids_at_two_prices_then_fills_highest_bid_first():
    ex = continuous()
    low = buy(ex, 2 * LOT, 7400)
    high = buy(ex, 1 * LOT, 7450)
    start = len(ex.events)
    taker = sell(ex, 2 * LOT, 7300)
    assert fills(since(ex, start)) == [
        (high, 7450, 1000, 0, 1000), (taker, 7450, 1000, 1000, 1000),
        (low, 7400, 1000, 1000, 1000), (taker, 7400, 1000, 0, 2000),
    ]
    assert book_of(ex).depth() == ([(7400, 1000)], [])
    assert (book_of(ex).last_price, book_of(ex).volume) == (7400, 2000)


def test_buy_when_three_sells_at_one_price_then_earliest_fills_first():
    ex = continuous()
    first = sell(ex, 1 * LOT, 7500, broker="B1")
    second = sell(ex, 2 * LOT, 7500, broker="B2")
    third = sell(ex, 1 * LOT, 7500, broker="B1")
    start = len(ex.events)
    taker = buy(ex, 2 * LOT, 7500, broker="B3")
    assert fills(since(ex, start)) == [
        (first, 7500, 1000, 0, 1000), (taker, 7500, 1000, 1000, 1000),
        (second, 7500, 1000, 1000, 1000), (taker, 7500, 1000, 0, 2000),
    ]
    assert resting(ex) == [(second, 1000, 7500), (third, 1000, 7500)]
    assert book_of(ex).depth() == ([], [(7500, 2000)])


def test_aggressive_sell_when_bid_rests_higher_then_trades_at_the_resting_bid_price():
    ex = continuous()
    bid = buy(ex, 1 * LOT, 7500)
    start = len(ex.events)
    taker = sell(ex, 1 * LOT, 7300)
    assert fills(since(ex, start)) == [(bid, 7500, 1000, 0, 1000), (taker, 7500, 1000, 0, 1000)]
    assert book_of(ex).depth() == ([], [])


def test_aggressive_buy_when_ask_rests_lower_then_trades_at_the_resting_ask_price():
    ex = continuous()
    ask = sell(ex, 1 * LOT, 7400)
    start = len(ex.events)
    taker = buy(ex, 1 * LOT, 7600)
    assert fills(since(ex, start)) == [(ask, 7400, 1000, 0, 1000), (taker, 7400, 1000, 0, 1000)]
    assert book_of(ex).last_price == 7400


def test_limit_buy_when_larger_than_the_ask_then_fills_partially_and_rests_the_rest():
    ex = continuous()
    ask = sell(ex, 1 * LOT, 7500)
    start = len(ex.events)
    taker = buy(ex, 3 * LOT, 7500)
    assert fills(since(ex, start)) == [(ask, 7500, 1000, 0, 1000), (taker, 7500, 1000, 2000, 1000)]
    assert resting(ex) == [(taker, 2000, 7500)]
    assert book_of(ex).depth() == ([(7500, 2000)], [])
    order = ex.order("B1", taker)
    assert order is not None
    assert (order.qty, order.leaves, order.cum_qty) == (3000, 2000, 1000)


def test_resting_order_when_partly_filled_twice_then_keeps_its_place_in_the_queue():
    ex = continuous()
    big = sell(ex, 3 * LOT, 7500)
    later = sell(ex, 1 * LOT, 7500)
    buy(ex, 1 * LOT, 7500)
    start = len(ex.events)
    taker = buy(ex, 3 * LOT, 7500)
    assert fills(since(ex, start)) == [
        (big, 7500, 2000, 0, 3000), (taker, 7500, 2000, 1000, 2000),
        (later, 7500, 1000, 0, 1000), (taker, 7500, 1000, 0, 3000),
    ]
    assert book_of(ex).depth() == ([], [])


def test_buy_when_limit_below_best_ask_then_rests_without_trading():
    ex = continuous()
    ask = sell(ex, 1 * LOT, 7500)
    start = len(ex.events)
    bid = buy(ex, 1 * LOT, 7490)
    assert of_type(since(ex, start), Filled) == []
    assert resting(ex) == [(bid, 1000, 7490), (ask, 1000, 7500)]
    book = book_of(ex)
    assert (book.prices[book.best_bid], book.prices[book.best_ask]) == (7490, 7500)


def test_buy_when_a_queued_sell_was_cancelled_then_it_is_skipped():
    ex = continuous()
    first = sell(ex, 1 * LOT, 7500)
    gone = sell(ex, 1 * LOT, 7500)
    third = sell(ex, 1 * LOT, 7500)
    cancel(ex, gone)
    book_of(ex)
    start = len(ex.events)
    taker = buy(ex, 2 * LOT, 7500)
    assert fills(since(ex, start)) == [
        (first, 7500, 1000, 0, 1000), (taker, 7500, 1000, 1000, 1000),
        (third, 7500, 1000, 0, 1000), (taker, 7500, 1000, 0, 2000),
    ]
    assert book_of(ex).depth() == ([], [])


# -- market orders ---------------------------------------------------------------------------


def test_market_buy_when_asks_on_three_levels_then_sweeps_all_at_each_resting_price():
    ex = continuous()
    a = sell(ex, 1 * LOT, 7500)
    b = sell(ex, 1 * LOT, 7800)
    c = sell(ex, 1 * LOT, LIMIT_UP)
    start = len(ex.events)
    taker = buy(ex, 3 * LOT, order_type=MARKET)
    assert fills(since(ex, start)) == [
        (a, 7500, 1000, 0, 1000), (taker, 7500, 1000, 2000, 1000),
        (b, 7800, 1000, 0, 1000), (taker, 7800, 1000, 1000, 2000),
        (c, 8210, 1000, 0, 1000), (taker, 8210, 1000, 0, 3000),
    ]
    assert book_of(ex).depth() == ([], [])
    assert (book_of(ex).last_price, book_of(ex).volume) == (8210, 3000)


def test_market_sell_when_bids_down_to_limit_down_then_sweeps_them():
    ex = continuous()
    a = buy(ex, 2 * LOT, 7400)
    b = buy(ex, 1 * LOT, LIMIT_DOWN)
    start = len(ex.events)
    taker = sell(ex, 3 * LOT, order_type=MARKET)
    assert fills(since(ex, start)) == [
        (a, 7400, 2000, 0, 2000), (taker, 7400, 2000, 1000, 2000),
        (b, 6730, 1000, 0, 1000), (taker, 6730, 1000, 0, 3000),
    ]
    assert book_of(ex).depth() == ([], [])


def test_market_buy_rod_when_book_runs_out_then_remainder_rests_at_limit_up():
    ex = continuous()
    ask = sell(ex, 1 * LOT, 7500)
    start = len(ex.events)
    taker = buy(ex, 3 * LOT, order_type=MARKET)
    assert fills(since(ex, start)) == [(ask, 7500, 1000, 0, 1000), (taker, 7500, 1000, 2000, 1000)]
    assert of_type(since(ex, start), Cancelled) == []
    assert resting(ex) == [(taker, 2000, LIMIT_UP)]
    assert book_of(ex).depth() == ([(8210, 2000)], [])


def test_market_buy_rod_when_limit_bids_at_limit_up_then_rests_ahead_of_them():
    ex = continuous()
    limit_bid = buy(ex, 1 * LOT, LIMIT_UP)
    market_bid = buy(ex, 1 * LOT, order_type=MARKET)
    assert resting(ex) == [(market_bid, 1000, 8210), (limit_bid, 1000, 8210)]
    start = len(ex.events)
    seller = sell(ex, 1 * LOT, 7500)
    assert fills(since(ex, start)) == [
        (market_bid, 8210, 1000, 0, 1000), (seller, 8210, 1000, 0, 1000)]
    assert resting(ex) == [(limit_bid, 1000, 8210)]


def test_two_market_buys_when_resting_then_keep_time_order_between_them():
    ex = continuous()
    limit_bid = buy(ex, 1 * LOT, LIMIT_UP)
    first = buy(ex, 1 * LOT, order_type=MARKET)
    second = buy(ex, 1 * LOT, order_type=MARKET)
    assert resting(ex) == [(first, 1000, 8210), (second, 1000, 8210), (limit_bid, 1000, 8210)]
    start = len(ex.events)
    sell(ex, 2 * LOT, 8000)
    assert [f[0] for f in fills(since(ex, start))][::2] == [first, second]


def test_market_sell_rod_when_no_bids_then_rests_at_limit_down_ahead_of_limit_sells():
    ex = continuous()
    limit_ask = sell(ex, 1 * LOT, LIMIT_DOWN)
    market_ask = sell(ex, 2 * LOT, order_type=MARKET)
    assert resting(ex) == [(market_ask, 2000, 6730), (limit_ask, 1000, 6730)]
    assert book_of(ex).depth() == ([], [(6730, 3000)])
    start = len(ex.events)
    taker = buy(ex, 1 * LOT, 7000)
    assert fills(since(ex, start)) == [
        (market_ask, 6730, 1000, 1000, 1000), (taker, 6730, 1000, 0, 1000)]


def test_resting_market_order_when_closing_call_starts_then_deleted_and_limit_order_stays():
    ex = continuous()
    sell(ex, 1 * LOT, 7500)
    market_bid = buy(ex, 3 * LOT, order_type=MARKET)  # 1 lot fills, 2 rest at limit-up
    limit_bid = buy(ex, 1 * LOT, LIMIT_UP, broker="B2")
    assert resting(ex) == [(market_bid, 2000, 8210), (limit_bid, 1000, 8210)]
    start = len(ex.events)
    ex.advance_to(at(13, 24, 59, 999))
    assert since(ex, start) == []
    ex.advance_to(at(13, 25))
    cancelled = of_type(since(ex, start), Cancelled)
    assert [(e.order_id, e.broker, e.qty, e.code, e.time) for e in cancelled] == [
        (market_bid, "B1", 2000, Code.MARKET_ORDER_DELETED_AT_CLOSING_CALL, at(13, 25))]
    assert resting(ex) == [(limit_bid, 1000, 8210)]
    order = ex.order("B1", market_bid)
    assert order is not None
    assert (order.leaves, order.cum_qty) == (0, 1000)


def test_resting_market_sell_when_closing_call_starts_then_deleted_with_its_leaves():
    ex = continuous()
    buy(ex, 1 * LOT, 7000)
    market_ask = sell(ex, 3 * LOT, order_type=MARKET)
    start = len(ex.events)
    ex.advance_to(at(13, 25))
    cancelled = of_type(since(ex, start), Cancelled)
    assert [(e.order_id, e.qty, e.code) for e in cancelled] == [
        (market_ask, 2000, Code.MARKET_ORDER_DELETED_AT_CLOSING_CALL)]
    assert book_of(ex).depth() == ([], [])
    assert ex.order("B1", market_ask).cum_qty == 1000


# -- IOC and FOK -----------------------------------------------------------------------------


def test_ioc_buy_when_partly_fillable_then_remainder_cancelled():
    ex = continuous()
    ask = sell(ex, 1 * LOT, 7500)
    above = sell(ex, 1 * LOT, 7510)
    start = len(ex.events)
    taker = buy(ex, 3 * LOT, 7500, tif=IOC)
    events = since(ex, start)
    assert fills(events) == [(ask, 7500, 1000, 0, 1000), (taker, 7500, 1000, 2000, 1000)]
    cancelled = of_type(events, Cancelled)
    assert [(e.order_id, e.qty, e.code) for e in cancelled] == [
        (taker, 2000, Code.IOC_REMAINDER_CANCELLED)]
    assert resting(ex) == [(above, 1000, 7510)]
    assert ex.order("B1", taker).leaves == 0


def test_ioc_sell_when_nothing_crosses_then_cancelled_entirely_and_book_untouched():
    ex = continuous()
    bid = buy(ex, 1 * LOT, 7400)
    before = snapshot(book_of(ex))
    start = len(ex.events)
    taker = sell(ex, 2 * LOT, 7500, tif=IOC)
    events = since(ex, start)
    assert fills(events) == []
    assert [(e.order_id, e.qty, e.code) for e in of_type(events, Cancelled)] == [
        (taker, 2000, Code.IOC_REMAINDER_CANCELLED)]
    assert snapshot(book_of(ex)) == before
    assert resting(ex) == [(bid, 1000, 7400)]


def test_market_ioc_when_book_runs_out_then_remainder_cancelled_not_rested():
    ex = continuous()
    ask = sell(ex, 1 * LOT, 7600)
    start = len(ex.events)
    taker = buy(ex, 2 * LOT, order_type=MARKET, tif=IOC)
    events = since(ex, start)
    assert fills(events) == [(ask, 7600, 1000, 0, 1000), (taker, 7600, 1000, 1000, 1000)]
    assert [(e.order_id, e.qty, e.code) for e in of_type(events, Cancelled)] == [
        (taker, 1000, Code.IOC_REMAINDER_CANCELLED)]
    assert book_of(ex).depth() == ([], [])


def test_fok_buy_when_fillable_across_two_levels_then_fills_completely():
    ex = continuous()
    a = sell(ex, 1 * LOT, 7500)
    b = sell(ex, 2 * LOT, 7510)
    start = len(ex.events)
    taker = buy(ex, 2 * LOT, 7510, tif=FOK)
    events = since(ex, start)
    assert fills(events) == [
        (a, 7500, 1000, 0, 1000), (taker, 7500, 1000, 1000, 1000),
        (b, 7510, 1000, 1000, 1000), (taker, 7510, 1000, 0, 2000),
    ]
    assert of_type(events, Cancelled) == []
    assert resting(ex) == [(b, 1000, 7510)]


def test_fok_buy_when_one_lot_short_within_limit_then_cancelled_and_book_untouched():
    ex = continuous()
    sell(ex, 1 * LOT, 7500)
    sell(ex, 2 * LOT, 7510)  # beyond the FOK limit below
    buy(ex, 1 * LOT, 7400)
    before = snapshot(book_of(ex))
    start = len(ex.events)
    taker = buy(ex, 2 * LOT, 7500, tif=FOK)
    events = since(ex, start)
    assert fills(events) == []
    assert [(e.order_id, e.qty, e.code) for e in of_type(events, Cancelled)] == [
        (taker, 2000, Code.FOK_NOT_FILLABLE)]
    assert snapshot(book_of(ex)) == before
    assert (book_of(ex).last_price, book_of(ex).volume) == (0, 0)


def test_fok_sell_when_bids_exactly_cover_it_then_fills():
    ex = continuous()
    a = buy(ex, 1 * LOT, 7500)
    b = buy(ex, 1 * LOT, 7490)
    start = len(ex.events)
    taker = sell(ex, 2 * LOT, 7490, tif=FOK)
    assert fills(since(ex, start)) == [
        (a, 7500, 1000, 0, 1000), (taker, 7500, 1000, 1000, 1000),
        (b, 7490, 1000, 0, 1000), (taker, 7490, 1000, 0, 2000),
    ]
    assert book_of(ex).depth() == ([], [])


def test_market_fok_when_whole_book_too_small_then_cancelled_and_book_untouched():
    ex = continuous()
    sell(ex, 1 * LOT, 7500)
    sell(ex, 1 * LOT, LIMIT_UP)
    before = snapshot(book_of(ex))
    start = len(ex.events)
    taker = buy(ex, 3 * LOT, order_type=MARKET, tif=FOK)
    events = since(ex, start)
    assert fills(events) == []
    assert [(e.order_id, e.qty, e.code) for e in of_type(events, Cancelled)] == [
        (taker, 3000, Code.FOK_NOT_FILLABLE)]
    assert snapshot(book_of(ex)) == before


def test_fok_when_cancelled_order_sits_in_the_queue_then_counts_only_live_quantity():
    ex = continuous()
    sell(ex, 1 * LOT, 7500)
    gone = sell(ex, 1 * LOT, 7500)
    cancel(ex, gone)
    start = len(ex.events)
    taker = buy(ex, 2 * LOT, 7500, tif=FOK)
    assert [(e.order_id, e.qty, e.code) for e in of_type(since(ex, start), Cancelled)] == [
        (taker, 2000, Code.FOK_NOT_FILLABLE)]
    assert book_of(ex).depth() == ([], [(7500, 1000)])
