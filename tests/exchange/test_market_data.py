"""Market data: snapshot on subscribe, best five levels, trades, last price and volume,
indicative prices in call phases, unsubscribe, and the feed's sequence numbers."""

from __future__ import annotations

import itertools

from brokercloud.exchange.market_data import Quote, Trade
from brokercloud.market.instruments import Disposition, Instrument
from brokercloud.market.sessions import at

from .support import (
    LOT,
    MARKET,
    ODD_LOT,
    REF,
    REGULAR,
    TSMC,
    buy,
    cancel,
    continuous,
    exchange,
    sell,
)

HON_HAI = Instrument(symbol="2317", name="Hon Hai")
DISPOSED = Instrument(symbol="1111", name="Disposed", disposition=Disposition.FIRST)


class Feed:
    """Collects what one subscriber receives."""

    def __init__(self, ex, symbol: str = "2330", session=REGULAR) -> None:
        self.messages: list[Quote | Trade] = []
        self.token = ex.subscribe(symbol, self.messages.append, session)

    def take(self) -> list[Quote | Trade]:
        taken = list(self.messages)
        self.messages.clear()  # the subscription holds this list's append
        return taken

    def last_quote(self) -> Quote:
        quotes = [m for m in self.messages if type(m) is Quote]
        return quotes[-1]


def test_subscribe_when_book_has_orders_then_snapshot_quote_sent_at_once():
    ex = continuous()
    buy(ex, 2 * LOT, 7400)
    sell(ex, 1 * LOT, 7500)
    sell(ex, 3 * LOT, 7500, broker="B2")
    feed = Feed(ex)
    assert feed.take() == [Quote(1, at(9, 0, 1), "2330", REGULAR, [(7400, 2000)], [(7500, 4000)],
                                 0, 0, 0, 0)]


def test_subscribe_when_market_closed_and_book_empty_then_empty_snapshot():
    ex = exchange(time=at(8, 0))
    feed = Feed(ex)
    assert feed.take() == [Quote(1, at(8, 0), "2330", REGULAR, [], [], 0, 0, 0, 0)]


def test_subscribe_when_symbol_unknown_then_key_error():
    ex = continuous()
    try:
        ex.subscribe("9999", print)
    except KeyError as error:
        assert "9999" in str(error)
    else:
        raise AssertionError("subscribing to an unknown symbol must fail")


def test_quote_when_more_than_five_levels_then_shows_best_five_each_side_aggregated():
    ex = continuous()
    feed = Feed(ex)
    for i, price in enumerate((7400, 7390, 7380, 7370, 7360, 7350, 7300)):
        buy(ex, (i + 1) * LOT, price)
    buy(ex, 1 * LOT, 7400, broker="B2")
    for i, price in enumerate((7500, 7510, 7520, 7530, 7540, 7550)):
        sell(ex, (i + 1) * LOT, price)
    sell(ex, 2 * LOT, 7510, broker="B2")
    quote = feed.last_quote()
    assert quote.bids == [(7400, 2000), (7390, 2000), (7380, 3000), (7370, 4000), (7360, 5000)]
    assert quote.asks == [(7500, 1000), (7510, 4000), (7520, 3000), (7530, 4000), (7540, 5000)]
    assert len([m for m in feed.take() if type(m) is Quote]) == 1 + 8 + 7


def test_quote_when_levels_are_sparse_then_skips_empty_prices():
    ex = continuous()
    buy(ex, 1 * LOT, 7400)
    buy(ex, 1 * LOT, 6730)
    sell(ex, 1 * LOT, 8210)
    feed = Feed(ex)
    quote = feed.last_quote()
    assert (quote.bids, quote.asks) == ([(7400, 1000), (6730, 1000)], [(8210, 1000)])


def test_trades_when_order_sweeps_two_levels_then_trade_messages_then_one_quote():
    ex = continuous()
    sell(ex, 1 * LOT, 7500)
    sell(ex, 3 * LOT, 7510)
    feed = Feed(ex)
    feed.take()
    buy(ex, 3 * LOT, 7510)
    messages = feed.take()
    assert [type(m) for m in messages] == [Trade, Trade, Quote]
    assert [(m.price, m.qty) for m in messages[:2]] == [(7500, 1000), (7510, 2000)]
    assert {m.time for m in messages} == {at(9, 0, 1)}
    quote = messages[2]
    assert (quote.bids, quote.asks, quote.last_price, quote.volume) == (
        [], [(7510, 1000)], 7510, 3000)


def test_last_price_and_volume_when_several_trades_then_accumulate_for_the_day():
    ex = continuous()
    feed = Feed(ex)
    sell(ex, 1 * LOT, 7500)
    buy(ex, 1 * LOT, 7500)
    sell(ex, 2 * LOT, 7450)
    buy(ex, 2 * LOT, 7460)
    buy(ex, 1 * LOT, 7440)
    sell(ex, 1 * LOT, 7440)
    quotes = [(m.last_price, m.volume) for m in feed.take() if type(m) is Quote]
    assert quotes == [(0, 0), (0, 0), (7500, 1000), (7500, 1000), (7450, 3000), (7450, 3000),
                      (7440, 4000)]


def test_quote_when_pre_open_orders_cross_then_carries_indicative_price_and_volume():
    ex = exchange(time=at(8, 30))
    feed = Feed(ex)
    buy(ex, 2 * LOT, 7500)
    sell(ex, 1 * LOT, 7450)
    quotes = [m for m in feed.take() if type(m) is Quote]
    assert [(q.indicative_price, q.indicative_volume) for q in quotes] == [
        (0, 0), (0, 0), (7500, 1000)]
    assert (quotes[-1].bids, quotes[-1].asks) == ([(7500, 2000)], [(7450, 1000)])


def test_opening_auction_when_it_trades_then_one_trade_and_quote_without_indicative():
    ex = exchange(time=at(8, 30))
    buy(ex, 2 * LOT, 7500)
    sell(ex, 1 * LOT, 7450)
    sell(ex, 1 * LOT, 7480, broker="B2")
    feed = Feed(ex)
    assert feed.take()[-1].indicative_price == 7480  # 2000 trade in 74.80-75.00
    ex.advance_to(at(9, 0))
    messages = feed.take()
    assert messages[0] == Trade(messages[0].seq, at(9, 0), "2330", REGULAR, 7480, 2000)
    quote = messages[-1]
    assert (quote.bids, quote.asks, quote.last_price, quote.volume) == ([], [], 7480, 2000)
    assert (quote.indicative_price, quote.indicative_volume) == (0, 0)
    buy(ex, 1 * LOT, 7500)
    assert feed.last_quote().indicative_price == 0  # continuous: no trial price


def test_quote_when_disposition_stock_in_continuous_hours_then_carries_indicative_price():
    ex = exchange((TSMC, REF), (DISPOSED, 5_000), time=at(9, 1))
    feed = Feed(ex, "1111")
    buy(ex, 1 * LOT, 5_010, symbol="1111")
    sell(ex, 1 * LOT, 4_990, symbol="1111")
    assert (feed.last_quote().indicative_price, feed.last_quote().indicative_volume) == (
        5_000, 1000)
    feed.take()
    ex.advance_to(at(9, 5))
    messages = feed.take()
    assert [(type(m), m.price) for m in messages if type(m) is Trade] == [(Trade, 5_000)]
    assert (messages[-1].last_price, messages[-1].volume) == (5_000, 1000)


def test_cancel_when_watched_then_quote_without_the_order():
    ex = continuous()
    keep = buy(ex, 1 * LOT, 7400)
    gone = buy(ex, 2 * LOT, 7400)
    feed = Feed(ex)
    cancel(ex, gone)
    assert feed.take()[-1].bids == [(7400, 1000)]
    assert keep


def test_rejected_order_when_watched_then_nothing_published():
    ex = continuous()
    feed = Feed(ex)
    feed.take()
    buy(ex, 1 * LOT, 7405)
    buy(ex, 1 * LOT, 9000)
    assert feed.take() == []


def test_unsubscribe_when_done_then_no_more_messages():
    ex = continuous()
    feed = Feed(ex)
    buy(ex, 1 * LOT, 7400)
    assert len(feed.take()) == 2
    ex.unsubscribe(feed.token)
    buy(ex, 1 * LOT, 7400)
    sell(ex, 1 * LOT, 7400)
    ex.advance_to(at(13, 30))
    assert feed.take() == []


def test_unsubscribe_when_another_subscriber_remains_then_it_still_receives():
    ex = continuous()
    first = Feed(ex)
    second = Feed(ex)
    ex.unsubscribe(first.token)
    first.take()
    second.take()
    sell(ex, 1 * LOT, 7400)
    buy(ex, 1 * LOT, 7400)
    assert first.take() == []
    assert [type(m) for m in second.take()] == [Quote, Trade, Quote]


def test_resubscribe_when_trades_happened_meanwhile_then_snapshot_has_them():
    ex = continuous()
    feed = Feed(ex)
    ex.unsubscribe(feed.token)
    sell(ex, 1 * LOT, 7400)
    buy(ex, 2 * LOT, 7400)
    again = Feed(ex)
    quote = again.take()
    assert len(quote) == 1
    assert (quote[0].bids, quote[0].last_price, quote[0].volume) == ([(7400, 1000)], 7400, 1000)


def test_feed_seq_when_many_messages_and_symbols_then_strictly_increasing_without_gaps():
    ex = exchange((TSMC, REF), (HON_HAI, 10_000), time=at(8, 30))
    everything: list[Quote | Trade] = []
    ex.subscribe("2330", everything.append)
    ex.subscribe("2317", everything.append)
    buy(ex, 1 * LOT, 7500)
    sell(ex, 1 * LOT, 7500)
    buy(ex, 1 * LOT, 10_000, symbol="2317")
    ex.advance_to(at(9, 0))
    sell(ex, 1 * LOT, 9_990, symbol="2317")
    ex.advance_to(at(13, 30))
    seqs = [m.seq for m in everything]
    assert seqs == list(range(1, len(everything) + 1))
    assert all(a <= b for a, b in itertools.pairwise(m.time for m in everything))
    trades = [(m.symbol, m.price, m.qty, m.time) for m in everything if type(m) is Trade]
    assert trades == [("2330", 7500, 1000, at(9, 0)), ("2317", 10_000, 1000, at(9, 0, 0))]


def test_odd_lot_feed_when_subscribed_then_separate_from_board_lots():
    ex = continuous()
    board = Feed(ex)
    odd = Feed(ex, session=ODD_LOT)
    board.take()
    odd.take()
    buy(ex, 300, 7400, session=ODD_LOT)
    assert board.take() == []
    quote = odd.take()[-1]
    assert (quote.session, quote.bids, quote.indicative_price) == (ODD_LOT, [(7400, 300)], 0)
    sell(ex, 100, 7400, session=ODD_LOT)
    assert odd.take()[-1].indicative_price == 7400  # odd lots are always a call auction


def test_resting_market_order_when_deleted_at_1325_then_subscribers_see_it_gone():
    ex = continuous()
    feed = Feed(ex)
    buy(ex, 1 * LOT, 7400)
    buy(ex, 2 * LOT, order_type=MARKET)
    assert feed.last_quote().bids == [(8210, 2000), (7400, 1000)]
    feed.take()
    ex.advance_to(at(13, 25))
    messages = feed.take()
    assert [type(m) for m in messages] == [Quote]
    assert (messages[0].time, messages[0].bids) == (at(13, 25), [(7400, 1000)])


def test_closing_call_when_book_crossed_by_new_orders_then_quotes_carry_indicative_price():
    ex = continuous()
    sell(ex, 1 * LOT, 7500)
    buy(ex, 1 * LOT, 7500)
    ex.advance_to(at(13, 25))
    feed = Feed(ex)
    buy(ex, 1 * LOT, 7600)
    sell(ex, 1 * LOT, 7400)
    assert (feed.last_quote().indicative_price, feed.last_quote().indicative_volume) == (
        7500, 1000)
    feed.take()
    ex.advance_to(at(13, 30))
    messages = feed.take()
    assert (type(messages[0]), messages[0].time) == (Trade, at(13, 30))
    assert messages[-1].bids == [] and messages[-1].last_price == 7500


def test_session_end_when_orders_expire_then_final_quote_is_empty():
    ex = continuous()
    buy(ex, 1 * LOT, 7400)
    feed = Feed(ex)
    feed.take()
    ex.advance_to(at(13, 30))
    quote = feed.last_quote()
    assert (quote.time, quote.bids, quote.asks) == (at(13, 30), [], [])
