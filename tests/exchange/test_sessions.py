"""The trading day through ``advance_to``: phases, session windows, auctions and expiry."""

from __future__ import annotations

import pytest

from brokercloud.codes import Code
from brokercloud.exchange.events import Expired, Filled, Rejected
from brokercloud.market.instruments import Disposition, Instrument
from brokercloud.market.sessions import Phase, Session, at, phase_at

from .support import (
    AFTER_HOURS_ODD_LOT,
    FIXED_PRICE,
    FOK,
    IOC,
    LOT,
    MARKET,
    ODD_LOT,
    REF,
    TSMC,
    book_of,
    buy,
    continuous,
    exchange,
    fills,
    of_type,
    order,
    sell,
    since,
    snapshot,
)

CALL, CONTINUOUS, CLOSED = Phase.CALL, Phase.CONTINUOUS, Phase.CLOSED
HON_HAI = Instrument(symbol="2317", name="Hon Hai")
FIRST_DISPOSITION = Instrument(symbol="1111", name="Disposed", disposition=Disposition.FIRST)
REPEAT_DISPOSITION = Instrument(symbol="2222", name="Repeat", disposition=Disposition.REPEAT)


def rejected_code(ex, side, qty, price=0, **kw) -> Code:
    """Send an order that must be refused; returns the code (and checks nothing rested)."""
    start = len(ex.events)
    assert order(ex, side, qty, price, **kw) == 0
    events = since(ex, start)
    assert len(events) == 1 and type(events[0]) is Rejected
    return events[0].code


def expired(events) -> list[tuple[int, int, Code, int]]:
    return [(e.order_id, e.qty, e.code, e.time) for e in events if type(e) is Expired]


# -- phases ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("time", "regular", "odd_lot", "fixed", "after_odd"), [
    (at(8, 29, 59, 999), CLOSED, CLOSED, CLOSED, CLOSED),
    (at(8, 30), CALL, CLOSED, CLOSED, CLOSED),
    (at(8, 59, 59, 999), CALL, CLOSED, CLOSED, CLOSED),
    (at(9, 0), CONTINUOUS, CALL, CLOSED, CLOSED),
    (at(13, 24, 59, 999), CONTINUOUS, CALL, CLOSED, CLOSED),
    (at(13, 25), CALL, CALL, CLOSED, CLOSED),
    (at(13, 29, 59, 999), CALL, CALL, CLOSED, CLOSED),
    (at(13, 30), CLOSED, CLOSED, CLOSED, CLOSED),
    (at(13, 40), CLOSED, CLOSED, CLOSED, CALL),
    (at(14, 0), CLOSED, CLOSED, CALL, CALL),
    (at(14, 29, 59, 999), CLOSED, CLOSED, CALL, CALL),
    (at(14, 30), CLOSED, CLOSED, CLOSED, CLOSED),
])
def test_advance_to_when_clock_reaches_time_then_every_session_is_in_its_phase(
        time, regular, odd_lot, fixed, after_odd):
    ex = exchange(time=time)
    expected = {Session.REGULAR: regular, ODD_LOT: odd_lot, FIXED_PRICE: fixed,
                AFTER_HOURS_ODD_LOT: after_odd}
    assert ex.phases == expected
    assert {s: phase_at(s, time) for s in Session} == expected
    assert ex.now == time


def test_advance_to_when_called_in_small_steps_then_same_phases_as_one_jump():
    stepped = exchange()
    for minute in range(8 * 60, 15 * 60, 7):
        stepped.advance_to(at(0, minute))
        assert stepped.phases == {s: phase_at(s, at(0, minute)) for s in Session}


@pytest.mark.parametrize("time", [at(0, 0), at(8, 29, 59, 999), at(13, 30), at(13, 59),
                                  at(14, 30), at(15, 0)])
def test_regular_order_when_session_closed_then_rejected_session_closed(time):
    ex = exchange(time=time)
    assert rejected_code(ex, 0, 1 * LOT, 7470) == Code.SESSION_CLOSED


@pytest.mark.parametrize(("time", "session"), [
    (at(8, 59, 59, 999), ODD_LOT), (at(13, 30), ODD_LOT),
    (at(13, 39, 59, 999), AFTER_HOURS_ODD_LOT), (at(14, 30), AFTER_HOURS_ODD_LOT),
    (at(13, 59, 59, 999), FIXED_PRICE), (at(14, 30), FIXED_PRICE),
])
def test_after_hours_or_odd_lot_order_when_outside_window_then_rejected_session_closed(
        time, session):
    ex = exchange(time=time)
    qty = 1 * LOT if session is FIXED_PRICE else 100
    assert rejected_code(ex, 0, qty, 7470, session=session) == Code.SESSION_CLOSED


@pytest.mark.parametrize("time", [at(8, 30), at(13, 25)])
@pytest.mark.parametrize(("order_type", "tif", "code"), [
    (MARKET, 0, Code.MARKET_ORDER_NOT_ALLOWED),
    (MARKET, IOC, Code.MARKET_ORDER_NOT_ALLOWED),
    (MARKET, FOK, Code.MARKET_ORDER_NOT_ALLOWED),
    (0, IOC, Code.ORDER_TYPE_NOT_ALLOWED),
    (0, FOK, Code.ORDER_TYPE_NOT_ALLOWED),
])
def test_order_when_call_phase_and_not_limit_rod_then_rejected(time, order_type, tif, code):
    ex = exchange(time=time)
    before = snapshot(book_of(ex))
    assert rejected_code(ex, 0, 1 * LOT, 7470, order_type=order_type, tif=tif) == code
    assert snapshot(book_of(ex)) == before


def test_crossing_orders_when_entered_in_closing_call_then_trade_only_at_1330():
    ex = continuous()
    ex.advance_to(at(13, 25))
    bid = buy(ex, 1 * LOT, 7500)
    ask = sell(ex, 1 * LOT, 7500)
    assert of_type(ex.events, Filled) == []
    ex.advance_to(at(13, 29, 59, 999))
    assert of_type(ex.events, Filled) == []
    start = len(ex.events)
    ex.advance_to(at(13, 30))
    assert fills(since(ex, start)) == [(bid, 7500, 1000, 0, 1000), (ask, 7500, 1000, 0, 1000)]
    assert {e.time for e in of_type(since(ex, start), Filled)} == {at(13, 30)}


# -- the close ---------------------------------------------------------------------------------


def test_closing_auction_when_it_trades_then_sets_the_listing_close():
    ex = continuous()
    sell(ex, 1 * LOT, 7500)
    buy(ex, 1 * LOT, 7500)
    ex.advance_to(at(13, 25))
    buy(ex, 2 * LOT, 7600)
    sell(ex, 2 * LOT, 7550)
    assert ex.listings["2330"].close == 0
    ex.advance_to(at(13, 30))
    assert ex.listings["2330"].close == 7550  # nearest the last trade (75.00) in 75.50-76.00
    assert (book_of(ex).last_price, book_of(ex).volume) == (7550, 3000)


def test_closing_auction_when_nothing_crosses_then_close_is_the_last_continuous_trade():
    ex = continuous()
    sell(ex, 1 * LOT, 7480)
    buy(ex, 1 * LOT, 7480)
    ex.advance_to(at(13, 30))
    assert ex.listings["2330"].close == 7480


def test_closing_auction_when_symbol_never_traded_then_close_stays_zero():
    ex = exchange((TSMC, REF), (HON_HAI, 10_000), time=at(9, 0))
    sell(ex, 1 * LOT, 7480)
    buy(ex, 1 * LOT, 7480)
    buy(ex, 1 * LOT, 9_900, symbol="2317")
    ex.advance_to(at(13, 30))
    assert (ex.listings["2330"].close, ex.listings["2317"].close) == (7480, 0)


def test_day_orders_when_session_ends_at_1330_then_expired_with_their_leaves():
    ex = continuous()
    bid = buy(ex, 3 * LOT, 7400)
    ask = sell(ex, 2 * LOT, 7500)
    sell(ex, 1 * LOT, 7400, broker="B2")  # fills one lot of the bid
    odd = buy(ex, 300, 7300, session=ODD_LOT)
    start = len(ex.events)
    ex.advance_to(at(13, 29, 59, 999))
    assert of_type(since(ex, start), Expired) == []
    ex.advance_to(at(13, 30))
    events = since(ex, start)
    assert expired(events) == [
        (bid, 2000, Code.EXPIRED_END_OF_SESSION, at(13, 30)),
        (ask, 2000, Code.EXPIRED_END_OF_SESSION, at(13, 30)),
        (odd, 300, Code.EXPIRED_END_OF_SESSION, at(13, 30)),
    ]
    assert [e.broker for e in of_type(events, Expired)] == ["B1", "B1", "B1"]
    assert book_of(ex).depth() == ([], [])
    assert book_of(ex, ODD_LOT).depth() == ([], [])
    assert ex.order("B1", bid).leaves == 0


# -- intraday odd lot ------------------------------------------------------------------------


def test_odd_lot_order_when_a_whole_lot_then_rejected_not_odd_lot():
    ex = continuous()
    assert rejected_code(ex, 0, 1 * LOT, 7470, session=ODD_LOT) == Code.NOT_ODD_LOT
    assert rejected_code(ex, 0, 1500, 7470, session=ODD_LOT) == Code.NOT_ODD_LOT
    assert order(ex, 0, 999, 7470, session=ODD_LOT) > 0


def test_odd_lot_orders_when_crossing_before_0910_then_first_trade_is_at_0910():
    ex = continuous()
    bid = buy(ex, 200, 7500, session=ODD_LOT)
    low_bid = buy(ex, 100, 7400, session=ODD_LOT)
    ask = sell(ex, 200, 7450, session=ODD_LOT)
    ex.advance_to(at(9, 9, 59, 999))
    assert of_type(ex.events, Filled) == []
    ex.advance_to(at(9, 10))
    events = of_type(ex.events, Filled)
    # The range 74.50-75.00 trades 200: nearest the 74.70 reference.
    assert fills(events) == [(bid, 7470, 200, 0, 200), (ask, 7470, 200, 0, 200)]
    assert {e.time for e in events} == {at(9, 10)}
    assert [(o.order_id, o.leaves) for o in book_of(ex, ODD_LOT).resting()] == [(low_bid, 100)]
    assert book_of(ex).volume == 0  # the board-lot book is separate


def test_odd_lot_orders_when_crossing_after_first_match_then_trade_at_the_next_5s_tick():
    ex = exchange(time=at(9, 10, 1))
    bid = buy(ex, 100, 7500, session=ODD_LOT)
    ask = sell(ex, 100, 7500, session=ODD_LOT)
    ex.advance_to(at(9, 10, 4, 999))
    assert of_type(ex.events, Filled) == []
    ex.advance_to(at(9, 10, 5))
    assert fills(ex.events) == [(bid, 7500, 100, 0, 100), (ask, 7500, 100, 0, 100)]
    start = len(ex.events)
    bid2 = buy(ex, 50, 7500, session=ODD_LOT)
    ask2 = sell(ex, 50, 7490, session=ODD_LOT)
    ex.advance_to(at(9, 10, 9, 999))
    assert of_type(since(ex, start), Filled) == []
    ex.advance_to(at(9, 10, 10))
    # The last odd-lot trade (75.00) anchors the tie between 74.90 and 75.00.
    assert fills(since(ex, start)) == [(bid2, 7500, 50, 0, 50), (ask2, 7500, 50, 0, 50)]


def test_odd_lot_orders_when_entered_after_first_match_then_time_priority_for_any_seed():
    for seed in (1, 4, 5):
        ex = exchange(seed=seed, time=at(9, 10, 1))
        first = buy(ex, 100, 7500, session=ODD_LOT, broker="B1")
        second = buy(ex, 100, 7500, session=ODD_LOT, broker="B2")
        ask = sell(ex, 100, 7500, session=ODD_LOT, broker="B3")
        ex.advance_to(at(9, 10, 5))
        assert fills(ex.events) == [(first, 7500, 100, 0, 100), (ask, 7500, 100, 0, 100)]
        assert [o.order_id for o in book_of(ex, ODD_LOT).resting()] == [second]


def test_last_odd_lot_auction_when_orders_cross_at_1330_then_trades_before_expiry():
    ex = exchange(time=at(13, 29, 56))
    bid = buy(ex, 400, 7500, session=ODD_LOT)
    ask = sell(ex, 300, 7500, session=ODD_LOT)
    start = len(ex.events)
    ex.advance_to(at(13, 30))
    events = since(ex, start)
    assert fills(events) == [(bid, 7500, 300, 100, 300), (ask, 7500, 300, 0, 300)]
    assert expired(events) == [(bid, 100, Code.EXPIRED_END_OF_SESSION, at(13, 30))]
    assert events[-1] == of_type(events, Expired)[0]


# -- after-hours sessions ----------------------------------------------------------------------


def test_after_hours_odd_lot_when_orders_cross_then_one_auction_at_1430():
    ex = exchange(time=at(13, 40))
    bid = buy(ex, 500, 7500, session=AFTER_HOURS_ODD_LOT)
    ask = sell(ex, 200, 7400, session=AFTER_HOURS_ODD_LOT)
    ask2 = sell(ex, 100, 7500, session=AFTER_HOURS_ODD_LOT)
    ex.advance_to(at(14, 29, 59, 999))
    assert of_type(ex.events, Filled) == []
    start = len(ex.events)
    ex.advance_to(at(14, 30))
    events = since(ex, start)
    # 300 trade only at 75.00 (below it the 500 bid above would not fill).
    assert fills(events) == [(bid, 7500, 300, 200, 300), (ask, 7500, 200, 0, 200),
                             (ask2, 7500, 100, 0, 100)]
    assert expired(events) == [(bid, 200, Code.EXPIRED_END_OF_SESSION, at(14, 30))]
    assert book_of(ex, AFTER_HOURS_ODD_LOT).depth() == ([], [])


def traded_close(seed: int = 1, price: int = 7500):
    """An exchange at 14:00 whose TSMC closed at ``price``."""
    ex = continuous(seed=seed)
    sell(ex, 1 * LOT, price, broker="BX")
    buy(ex, 1 * LOT, price, broker="BX")
    ex.advance_to(at(14, 0))
    assert ex.listings["2330"].close == price
    return ex


def test_fixed_price_order_when_not_at_the_close_then_rejected_price_not_closing_price():
    ex = traded_close()
    assert rejected_code(ex, 0, 1 * LOT, 7510, session=FIXED_PRICE) == (
        Code.PRICE_NOT_CLOSING_PRICE)
    assert rejected_code(ex, 1, 1 * LOT, 7490, session=FIXED_PRICE) == (
        Code.PRICE_NOT_CLOSING_PRICE)
    assert rejected_code(ex, 1, 500, 7500, session=FIXED_PRICE) == Code.NOT_BOARD_LOTS
    assert rejected_code(ex, 1, 1 * LOT, 0, session=FIXED_PRICE, order_type=MARKET) == (
        Code.MARKET_ORDER_NOT_ALLOWED)
    assert rejected_code(ex, 1, 1 * LOT, 7500, session=FIXED_PRICE, tif=IOC) == (
        Code.ORDER_TYPE_NOT_ALLOWED)
    assert rejected_code(ex, 1, 1 * LOT, 0, session=FIXED_PRICE) == Code.PRICE_NOT_POSITIVE
    assert order(ex, 0, 1 * LOT, 7500, session=FIXED_PRICE) > 0
    assert book_of(ex, FIXED_PRICE).prices == [7500]


def test_fixed_price_order_when_symbol_never_traded_then_rejected_no_closing_price():
    ex = exchange((TSMC, REF), (HON_HAI, 10_000), time=at(14, 0))
    assert ex.book("2317", FIXED_PRICE) is None
    assert rejected_code(ex, 0, 1 * LOT, 10_000, symbol="2317", session=FIXED_PRICE) == (
        Code.NO_CLOSING_PRICE)


def test_fixed_price_orders_when_matched_at_1430_then_trade_once_at_the_close():
    ex = traded_close()
    bid = buy(ex, 3 * LOT, 7500, session=FIXED_PRICE)
    ask = sell(ex, 2 * LOT, 7500, session=FIXED_PRICE, broker="B2")
    ex.advance_to(at(14, 29, 59, 999))
    assert len(of_type(ex.events, Filled)) == 2  # only the day's continuous trade
    start = len(ex.events)
    ex.advance_to(at(14, 30))
    events = since(ex, start)
    assert fills(events) == [(bid, 7500, 2000, 1000, 2000), (ask, 7500, 2000, 0, 2000)]
    assert expired(events) == [(bid, 1000, Code.EXPIRED_END_OF_SESSION, at(14, 30))]
    assert {e.time for e in of_type(events, Filled)} == {at(14, 30)}
    assert (book_of(ex, FIXED_PRICE).last_price, book_of(ex, FIXED_PRICE).volume) == (7500, 2000)


def fixed_price_winner(seed: int) -> int:
    """Which of three one-lot buyers (1, 2 or 3) gets the only lot offered at the close."""
    ex = traded_close(seed)
    buyers = [buy(ex, 1 * LOT, 7500, session=FIXED_PRICE, broker=b) for b in ("B1", "B2", "B3")]
    sell(ex, 1 * LOT, 7500, session=FIXED_PRICE, broker="B4")
    start = len(ex.events)
    ex.advance_to(at(14, 30))
    buyer_fills = [f for f in fills(since(ex, start)) if f[0] in buyers]
    assert len(buyer_fills) == 1 and buyer_fills[0][1:] == (7500, 1000, 0, 1000)
    return buyers.index(buyer_fills[0][0]) + 1


def test_fixed_price_random_priority_when_same_seed_then_same_allocation():
    assert [fixed_price_winner(1) for _ in range(3)] == [2, 2, 2]
    assert [fixed_price_winner(4) for _ in range(3)] == [3, 3, 3]


def test_fixed_price_random_priority_when_different_seeds_then_allocation_can_differ():
    assert [fixed_price_winner(seed) for seed in (1, 4, 5)] == [2, 3, 1]


def first_odd_lot_winner(seed: int) -> int:
    ex = exchange(seed=seed, time=at(9, 0))
    buyers = [buy(ex, 100, 7500, session=ODD_LOT, broker=b) for b in ("B1", "B2", "B3")]
    sell(ex, 100, 7500, session=ODD_LOT, broker="B4")
    ex.advance_to(at(9, 10))
    winners = [f[0] for f in fills(ex.events) if f[0] in buyers]
    assert len(winners) == 1
    return buyers.index(winners[0]) + 1


def test_first_odd_lot_auction_when_seeded_then_random_priority_is_reproducible():
    assert [first_odd_lot_winner(seed) for seed in (1, 1, 4, 4, 5, 5)] == [2, 2, 3, 3, 1, 1]


# -- disposition stocks ------------------------------------------------------------------------


def disposition_exchange(time: int):
    return exchange((TSMC, REF), (FIRST_DISPOSITION, 5_000), (REPEAT_DISPOSITION, 5_000),
                    time=time)


def test_disposition_stock_when_orders_cross_in_continuous_hours_then_no_trade_until_0905():
    ex = disposition_exchange(at(9, 0, 1))
    bid = buy(ex, 2 * LOT, 5_010, symbol="1111")
    ask = sell(ex, 1 * LOT, 4_990, symbol="1111")
    book = book_of(ex, symbol="1111")
    assert book.depth() == ([(5_010, 2000)], [(4_990, 1000)])
    assert ex.indicative("1111") == (book.index[5_010], 1000)
    ex.advance_to(at(9, 4, 59, 999))
    assert of_type(ex.events, Filled) == []
    ex.advance_to(at(9, 5))
    events = of_type(ex.events, Filled)
    assert fills(events) == [(bid, 5_010, 1000, 1000, 1000), (ask, 5_010, 1000, 0, 1000)]
    assert {e.time for e in events} == {at(9, 5)}


def test_disposition_stock_when_first_level_then_auctions_every_5_minutes_until_1320():
    ex = disposition_exchange(at(9, 5, 1))
    times = []
    for minute in range(9 * 60 + 10, 13 * 60 + 31, 5):
        buy(ex, 1 * LOT, 5_000, symbol="1111")
        sell(ex, 1 * LOT, 5_000, symbol="1111")
        start = len(ex.events)
        ex.advance_to(at(0, minute))
        times += sorted({e.time for e in of_type(since(ex, start), Filled)})
    expected = [at(0, m) for m in range(9 * 60 + 10, 13 * 60 + 21, 5)] + [at(13, 30)]
    assert times == expected  # no auction at 13:25: the closing call takes over


def test_disposition_stock_when_repeat_level_then_auctions_every_20_minutes():
    ex = disposition_exchange(at(9, 0, 1))
    bid = buy(ex, 1 * LOT, 5_000, symbol="2222")
    ask = sell(ex, 1 * LOT, 4_990, symbol="2222")
    ex.advance_to(at(9, 19, 59, 999))
    assert of_type(ex.events, Filled) == []
    ex.advance_to(at(9, 20))
    assert fills(ex.events) == [(bid, 5_000, 1000, 0, 1000), (ask, 5_000, 1000, 0, 1000)]
    start = len(ex.events)
    buy(ex, 1 * LOT, 5_000, symbol="2222")
    sell(ex, 1 * LOT, 5_000, symbol="2222")
    ex.advance_to(at(9, 39, 59, 999))
    assert of_type(since(ex, start), Filled) == []
    ex.advance_to(at(9, 40))
    assert {e.time for e in of_type(since(ex, start), Filled)} == {at(9, 40)}


def test_disposition_stock_when_market_ioc_or_fok_then_rejected():
    ex = disposition_exchange(at(9, 30))
    for symbol in ("1111", "2222"):
        assert rejected_code(ex, 0, 1 * LOT, symbol=symbol, order_type=MARKET) == (
            Code.MARKET_ORDER_NOT_ALLOWED)
        assert rejected_code(ex, 0, 1 * LOT, 5_000, symbol=symbol, tif=IOC) == (
            Code.ORDER_TYPE_NOT_ALLOWED)
        assert rejected_code(ex, 0, 1 * LOT, 5_000, symbol=symbol, tif=FOK) == (
            Code.ORDER_TYPE_NOT_ALLOWED)
    # the normal stock next to it still trades continuously and takes market orders
    ask = sell(ex, 1 * LOT, 7470)
    taker = buy(ex, 1 * LOT, order_type=MARKET)
    assert fills(ex.events)[-2:] == [(ask, 7470, 1000, 0, 1000), (taker, 7470, 1000, 0, 1000)]
