"""Call auctions: the TWSE price rule worked through by hand, the uncross and its priorities."""

from __future__ import annotations

from brokercloud.exchange.events import Filled
from brokercloud.market.sessions import at

from .support import (
    LOT,
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


def pre_open():
    return exchange(time=at(8, 30))


def indicative(ex) -> tuple[int, int] | None:
    """(price, volume) the opening auction would trade at now."""
    result = ex.indicative("2330")
    return None if result is None else (book_of(ex).prices[result.level], result.volume)


def open_market(ex) -> list:
    start = len(ex.events)
    ex.advance_to(at(9, 0))
    return since(ex, start)


def test_auction_when_one_price_has_the_largest_volume_then_trades_there_despite_reference():
    # volume is 1000 at every price 74.00-77.90 and 2000 at 78.00; the reference is 74.70.
    ex = pre_open()
    bid = buy(ex, 2 * LOT, 7800)
    ask_low = sell(ex, 1 * LOT, 7400)
    ask_high = sell(ex, 1 * LOT, 7800)
    assert indicative(ex) == (7800, 2000)
    events = open_market(ex)
    assert sorted(fills(events)) == [
        (bid, 7800, 2000, 0, 2000), (ask_low, 7800, 1000, 0, 1000),
        (ask_high, 7800, 1000, 0, 1000)]
    book = book_of(ex)
    assert book.depth() == ([], [])
    assert (book.last_price, book.volume) == (7800, 2000)


def test_auction_when_two_prices_tie_on_volume_then_the_one_filling_all_better_buys_wins():
    # At 74.50 and 75.00 the volume is 3000 each, and 74.50 is nearer the 74.70 reference, but
    # at 74.50 the 5000 shares bid above it cannot all fill: 75.00 is the only valid price.
    ex = pre_open()
    b76 = buy(ex, 2 * LOT, 7600)
    b75 = buy(ex, 3 * LOT, 7500)
    b74 = buy(ex, 1 * LOT, 7400)
    a73 = sell(ex, 1 * LOT, 7300)
    a745 = sell(ex, 2 * LOT, 7450)
    a755 = sell(ex, 3 * LOT, 7550)
    assert indicative(ex) == (7500, 3000)
    events = open_market(ex)
    assert fills(events) == [
        (b76, 7500, 2000, 0, 2000), (b75, 7500, 1000, 2000, 1000),
        (a73, 7500, 1000, 0, 1000), (a745, 7500, 2000, 0, 2000)]
    book = book_of(ex)
    assert book.depth() == ([(7500, 2000), (7400, 1000)], [(7550, 3000)])
    assert [(o.order_id, o.leaves) for o in book.resting()] == [(b74, 1000), (b75, 2000),
                                                                (a755, 3000)]
    assert (book.last_price, book.volume) == (7500, 3000)


def test_auction_when_sells_below_would_not_all_fill_then_higher_price_rejected():
    # Mirror image: at 74.90 and 74.40 the volume is 3000; at 74.90 the 5000 shares offered
    # below cannot all fill, so the price is 74.40.
    ex = pre_open()
    a73 = sell(ex, 2 * LOT, 7300)
    a744 = sell(ex, 3 * LOT, 7440)
    sell(ex, 1 * LOT, 7540)
    b76 = buy(ex, 1 * LOT, 7600)
    b749 = buy(ex, 2 * LOT, 7490)
    buy(ex, 3 * LOT, 7390)
    assert indicative(ex) == (7440, 3000)
    events = open_market(ex)
    assert sorted(fills(events)) == sorted([
        (a73, 7440, 2000, 0, 2000), (a744, 7440, 1000, 2000, 1000),
        (b76, 7440, 1000, 0, 1000), (b749, 7440, 2000, 0, 2000)])
    assert book_of(ex).depth() == ([(7390, 3000)], [(7440, 2000), (7540, 1000)])


def test_auction_when_many_prices_tie_before_any_trade_then_reference_price_wins():
    ex = pre_open()
    bid = buy(ex, 1 * LOT, 7600)
    ask = sell(ex, 1 * LOT, 7300)
    assert indicative(ex) == (7470, 1000)  # no order at 74.70: it is the reference
    events = open_market(ex)
    assert fills(events) == [(bid, 7470, 1000, 0, 1000), (ask, 7470, 1000, 0, 1000)]


def test_auction_when_tied_range_lies_below_reference_then_nearest_end_wins():
    ex = pre_open()
    buy(ex, 1 * LOT, 7400)
    sell(ex, 1 * LOT, 7200)
    assert indicative(ex) == (7400, 1000)


def test_auction_when_more_sells_below_than_buys_then_price_drops_so_lower_sells_fill():
    # Adding 1000 offered at 70.00 keeps the volume at 1000, but at 74.00 the 2000 shares
    # offered below could not all fill: the valid range becomes 70.00-72.00, nearest 74.70 is 72.00.
    ex = pre_open()
    bid = buy(ex, 1 * LOT, 7400)
    ask72 = sell(ex, 1 * LOT, 7200)
    ask70 = sell(ex, 1 * LOT, 7000)
    assert indicative(ex) == (7200, 1000)
    events = open_market(ex)
    assert fills(events) == [(bid, 7200, 1000, 0, 1000), (ask70, 7200, 1000, 0, 1000)]
    assert [(o.order_id, o.leaves) for o in book_of(ex).resting()] == [(ask72, 1000)]


def test_auction_when_tied_range_lies_above_reference_then_its_lowest_price_wins():
    ex = pre_open()
    buy(ex, 1 * LOT, 7800)
    sell(ex, 1 * LOT, 7600)
    assert indicative(ex) == (7600, 1000)


def test_closing_auction_when_prices_tie_then_nearest_the_last_trade_wins():
    ex = continuous()
    sell(ex, 1 * LOT, 7550)
    buy(ex, 1 * LOT, 7550)  # the day's last trade: 75.50 (the reference is 74.70)
    ex.advance_to(at(13, 25))
    bid = buy(ex, 1 * LOT, 7600)
    ask = sell(ex, 1 * LOT, 7300)
    assert indicative(ex) == (7550, 1000)
    start = len(ex.events)
    ex.advance_to(at(13, 30))
    assert fills(since(ex, start)) == [(bid, 7550, 1000, 0, 1000), (ask, 7550, 1000, 0, 1000)]
    assert ex.listings["2330"].close == 7550


def test_auction_when_buy_side_larger_at_the_price_then_fills_in_time_priority():
    ex = pre_open()
    first = buy(ex, 1 * LOT, 7500, broker="B1")
    second = buy(ex, 2 * LOT, 7500, broker="B2")
    third = buy(ex, 1 * LOT, 7500, broker="B3")
    ask = sell(ex, 2 * LOT, 7500, broker="B4")
    assert indicative(ex) == (7500, 2000)
    events = open_market(ex)
    assert fills(events) == [
        (first, 7500, 1000, 0, 1000), (second, 7500, 1000, 1000, 1000),
        (ask, 7500, 2000, 0, 2000)]
    assert [(o.order_id, o.leaves) for o in book_of(ex).resting()] == [(second, 1000),
                                                                       (third, 1000)]


def test_auction_when_better_priced_buy_entered_last_then_it_fills_before_earlier_ones():
    ex = pre_open()
    early = buy(ex, 1 * LOT, 7500)
    late_better = buy(ex, 1 * LOT, 7600)
    ask = sell(ex, 1 * LOT, 7500)
    events = open_market(ex)
    assert fills(events) == [(late_better, 7500, 1000, 0, 1000), (ask, 7500, 1000, 0, 1000)]
    assert [(o.order_id, o.leaves) for o in book_of(ex).resting()] == [(early, 1000)]


def test_auction_when_it_trades_then_each_order_gets_one_fill_sharing_one_match_id():
    ex = pre_open()
    buy(ex, 1 * LOT, 7600)
    buy(ex, 1 * LOT, 7500)
    sell(ex, 1 * LOT, 7400)
    sell(ex, 1 * LOT, 7500)
    events = of_type(open_market(ex), Filled)
    assert len(events) == 4
    assert len({e.match_id for e in events}) == 1
    assert {e.time for e in events} == {at(9, 0)}
    assert [e.seq for e in events] == list(range(events[0].seq, events[0].seq + 4))


def test_auction_when_bids_and_asks_do_not_cross_then_nothing_trades():
    ex = pre_open()
    buy(ex, 1 * LOT, 7400)
    sell(ex, 1 * LOT, 7500)
    assert indicative(ex) is None
    before = snapshot(book_of(ex))
    events = open_market(ex)
    assert events == []
    assert snapshot(book_of(ex)) == before
    assert (book_of(ex).last_price, book_of(ex).volume) == (0, 0)


def test_auction_when_one_side_empty_then_no_indicative_price_and_nothing_trades():
    ex = pre_open()
    buy(ex, 1 * LOT, 7400)
    buy(ex, 1 * LOT, 7500)
    assert indicative(ex) is None
    assert open_market(ex) == []


def test_indicative_price_when_orders_arrive_in_pre_open_then_moves_with_the_book():
    ex = pre_open()
    assert indicative(ex) is None
    buy(ex, 2 * LOT, 7600)
    assert indicative(ex) is None
    sell(ex, 1 * LOT, 7500)
    # 1000 trade anywhere in 75.00-76.00, but below 76.00 the 2000 bid above would not fill.
    assert indicative(ex) == (7600, 1000)
    sell(ex, 1 * LOT, 7550)
    # 2000 now trade anywhere in 75.50-76.00 with every better order filled: nearest 74.70.
    assert indicative(ex) == (7550, 2000)
    sell(ex, 1 * LOT, 7000)
    # Still 2000, now anywhere in 75.00-75.50 (above 75.50 the 3000 offered below cannot all
    # fill, below 75.00 only 1000 is offered): nearest 74.70 is 75.00.
    assert indicative(ex) == (7500, 2000)
    assert of_type(ex.events, Filled) == []


def test_opening_auction_when_remainder_left_then_continuous_trading_starts_from_it():
    ex = pre_open()
    bid = buy(ex, 3 * LOT, 7500)
    sell(ex, 1 * LOT, 7500)
    open_market(ex)
    start = len(ex.events)
    taker = sell(ex, 1 * LOT, 7400)
    assert fills(since(ex, start)) == [(bid, 7500, 1000, 1000, 2000),
                                       (taker, 7500, 1000, 0, 1000)]
    assert (book_of(ex).last_price, book_of(ex).volume) == (7500, 2000)
