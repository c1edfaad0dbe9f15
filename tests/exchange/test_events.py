"""What the exchange reports: sequence numbers, routing fields, fills paired by match ID, and
quantities that add up for every order."""

from __future__ import annotations

import itertools
from collections import defaultdict

from brokercloud.codes import Code
from brokercloud.exchange.commands import AmendOrder, CancelOrder, NewOrder
from brokercloud.exchange.events import (
    Accepted,
    Amended,
    Cancelled,
    Expired,
    Filled,
    Rejected,
    RequestRejected,
)
from brokercloud.market.sessions import at

from .support import (
    BUY,
    FIXED_PRICE,
    FOK,
    IOC,
    LIMIT,
    LOT,
    MARKET,
    ODD_LOT,
    REGULAR,
    ROD,
    SELL,
    buy,
    continuous,
    exchange,
    sell,
)

ALL_TYPES = {Accepted, Rejected, Filled, Cancelled, Expired, Amended, RequestRejected}


def full_day():
    """A day that produces every event type: auctions, continuous trades, IOC/FOK, market orders,
    amendments, cancels, rejections, odd lots, fixed price and expiry."""
    ex = exchange(time=at(8, 30))
    buy(ex, 2 * LOT, 7500, "pre-b1", broker="B1", account="A1")
    sell(ex, 1 * LOT, 7450, "pre-s1", broker="B2", account="A2")
    sell(ex, 2 * LOT, 7600, "pre-s2", broker="B2", account="A3")
    ex.advance_to(at(9, 0))  # opening auction: 1000 at 75.00
    ex.new_order(NewOrder("B3", "A4", "ioc", "2330", BUY, 3 * LOT, 7600, LIMIT, IOC, REGULAR))
    ex.new_order(NewOrder("B3", "A4", "fok", "2330", BUY, 3 * LOT, 7600, LIMIT, FOK, REGULAR))
    ex.new_order(NewOrder("B1", "A1", "bad", "2330", BUY, 1 * LOT, 7605, LIMIT, ROD, REGULAR))
    resting = buy(ex, 3 * LOT, 7300, "rest", broker="B4", account="A5")
    ex.amend(AmendOrder("B4", order_id=resting, qty=2 * LOT))
    ex.amend(AmendOrder("B4", order_id=resting, price=7310, cl_ord_id="rest2"))
    ex.amend(AmendOrder("B4", order_id=resting, qty=5 * LOT))  # refused: increase
    ex.cancel(CancelOrder("B1", order_id=resting))  # refused: not B1's
    sell(ex, 2 * LOT, 7310, "hit", broker="B2", account="A2")  # 75.00 left from the open, 73.10
    gone = sell(ex, 1 * LOT, 7900, "gone", broker="B2", account="A2")
    ex.cancel(CancelOrder("B2", order_id=gone))
    ex.new_order(NewOrder("B1", "A1", "mkt", "2330", BUY, 2 * LOT, 0, MARKET, ROD, REGULAR))
    buy(ex, 300, 7400, "odd-b", broker="B1", account="A1", session=ODD_LOT)
    sell(ex, 100, 7400, "odd-s", broker="B2", account="A2", session=ODD_LOT)
    ex.advance_to(at(9, 10))
    ex.advance_to(at(13, 25))  # the resting market order is deleted
    buy(ex, 1 * LOT, 7700, "close-b", broker="B3", account="A4")
    ex.advance_to(at(13, 30))
    ex.advance_to(at(14, 0))
    close = ex.listings["2330"].close
    buy(ex, 2 * LOT, close, "fix-b", broker="B1", account="A1", session=FIXED_PRICE)
    sell(ex, 1 * LOT, close, "fix-s", broker="B4", account="A5", session=FIXED_PRICE)
    ex.advance_to(at(14, 30))
    return ex


def test_full_day_when_replayed_then_every_event_type_appears():
    ex = full_day()
    assert {type(e) for e in ex.events} == ALL_TYPES


def test_every_event_when_emitted_then_seq_runs_one_up_without_gaps():
    ex = full_day()
    seqs = [e.seq for e in ex.events]
    assert seqs == list(range(1, len(ex.events) + 1))
    assert len(seqs) == 39


def test_every_event_when_emitted_then_time_never_goes_back():
    ex = full_day()
    times = [e.time for e in ex.events]
    assert all(a <= b for a, b in itertools.pairwise(times))
    assert (times[0], times[-1]) == (at(8, 30), at(14, 30))


def test_every_event_when_about_a_known_order_then_carries_its_order_id_broker_account():
    ex = full_day()
    for event in ex.events:
        if type(event) is Rejected:
            assert event.order_id == 0
            assert (event.broker, event.account) == ("B1", "A1")
            continue
        if type(event) is RequestRejected and event.code is Code.UNKNOWN_ORDER:
            assert (event.broker, event.account) == ("B1", "")
            continue
        order = ex.orders[event.order_id]
        assert (event.broker, event.account) == (order.broker, order.account), event


def test_order_ids_when_orders_accepted_then_numbered_from_one_in_arrival_order():
    ex = full_day()
    accepted = [e for e in ex.events if type(e) is Accepted]
    assert [e.order_id for e in accepted] == list(range(1, len(accepted) + 1))
    assert [e.cl_ord_id for e in accepted] == [
        "pre-b1", "pre-s1", "pre-s2", "ioc", "fok", "rest", "hit", "gone", "mkt", "odd-b",
        "odd-s", "close-b", "fix-b", "fix-s"]


def test_rejections_when_emitted_then_carry_their_codes():
    ex = full_day()
    assert [(e.cl_ord_id, e.code) for e in ex.events if type(e) is Rejected] == [
        ("bad", Code.PRICE_NOT_ON_TICK)]
    assert [(e.request, e.order_id, e.code) for e in ex.events if type(e) is RequestRejected] == [
        ("amend", 6, Code.AMEND_QUANTITY_NOT_REDUCED), ("cancel", 6, Code.UNKNOWN_ORDER)]


def test_ends_when_orders_leave_unfilled_then_reason_codes_are_exact():
    ex = full_day()
    ended = [(type(e).__name__, e.cl_ord_id, e.qty, e.code) for e in ex.events
             if type(e) in (Cancelled, Expired)]
    assert ended == [
        ("Cancelled", "ioc", 1000, Code.IOC_REMAINDER_CANCELLED),
        ("Cancelled", "fok", 3000, Code.FOK_NOT_FILLABLE),
        ("Cancelled", "gone", 1000, Code.CANCELLED_ON_REQUEST),
        ("Cancelled", "mkt", 2000, Code.MARKET_ORDER_DELETED_AT_CLOSING_CALL),
        ("Expired", "rest2", 1000, Code.EXPIRED_END_OF_SESSION),
        ("Expired", "close-b", 1000, Code.EXPIRED_END_OF_SESSION),
        ("Expired", "odd-b", 200, Code.EXPIRED_END_OF_SESSION),
        ("Expired", "fix-b", 1000, Code.EXPIRED_END_OF_SESSION),
    ]


def test_fills_when_continuous_then_each_match_id_pairs_one_buy_and_one_sell():
    ex = continuous()
    sell(ex, 1 * LOT, 7500, broker="B2")
    sell(ex, 2 * LOT, 7510, broker="B3")
    buy(ex, 3 * LOT, 7510, broker="B1")
    filled = [e for e in ex.events if type(e) is Filled]
    assert [(e.match_id, e.broker, e.side, e.price, e.qty) for e in filled] == [
        (1, "B2", SELL, 7500, 1000), (1, "B1", BUY, 7500, 1000),
        (2, "B3", SELL, 7510, 2000), (2, "B1", BUY, 7510, 2000)]


def test_fills_when_whole_day_then_every_match_balances_buys_and_sells_at_one_price():
    ex = full_day()
    matches = defaultdict(list)
    for event in ex.events:
        if type(event) is Filled:
            matches[event.match_id].append(event)
    assert sorted(matches) == list(range(1, len(matches) + 1))
    for fills in matches.values():
        assert len({f.price for f in fills}) == 1
        assert len({f.time for f in fills}) == 1
        bought = sum(f.qty for f in fills if f.side is BUY)
        sold = sum(f.qty for f in fills if f.side is SELL)
        assert bought == sold > 0
    summary = [(m, fills[0].price, sum(f.qty for f in fills if f.side is BUY))
               for m, fills in sorted(matches.items())]
    # open, IOC, "hit" twice (75.00 then 73.10), odd lot at 09:10, fixed price at the 73.10 close
    assert summary == [(1, 7500, 1000), (2, 7600, 2000), (3, 7500, 1000), (4, 7310, 1000),
                       (5, 7400, 100), (6, 7310, 1000)]
    assert ex.listings["2330"].close == 7310


def test_fills_when_replayed_per_order_then_cum_qty_and_leaves_add_up():
    ex = full_day()
    qty: dict[int, int] = {}
    cum: dict[int, int] = defaultdict(int)
    for event in ex.events:
        kind = type(event)
        if kind is Accepted:
            qty[event.order_id] = event.qty
        elif kind is Amended:
            qty[event.order_id] = event.qty
            assert event.leaves == event.qty - cum[event.order_id]
        elif kind is Filled:
            cum[event.order_id] += event.qty
            assert event.cum_qty == cum[event.order_id]
            assert event.leaves == qty[event.order_id] - event.cum_qty >= 0
        elif kind in (Cancelled, Expired):
            assert event.qty == qty[event.order_id] - cum[event.order_id]
    for order_id, order in ex.orders.items():
        assert (order.cum_qty, order.leaves) == (cum[order_id], 0)
    assert [cum[i] for i in range(1, 15)] == [
        2000, 1000, 2000, 2000, 0, 1000, 2000, 0, 0, 100, 100, 0, 1000, 1000]


def test_accepted_when_order_enters_then_echoes_the_command():
    ex = exchange(time=at(8, 30))
    ex.new_order(NewOrder("B7", "ACC9", "c-1", "2330", SELL, 4 * LOT, 7480, LIMIT, ROD, REGULAR))
    assert ex.events == [Accepted(1, at(8, 30), 1, "B7", "ACC9", "c-1", "2330", REGULAR, SELL,
                                  LIMIT, ROD, 7480, 4000)]


def test_amended_when_price_changes_then_reports_new_terms_and_both_client_ids():
    ex = continuous()
    oid = buy(ex, 2 * LOT, 7400, "first", broker="B7", account="ACC9")
    ex.amend(AmendOrder("B7", order_id=oid, price=7420, cl_ord_id="second"))
    assert ex.events[-1] == Amended(2, at(9, 0, 1), oid, "B7", "ACC9", "second", "2330", "first",
                                    7420, 2000, 2000)


def test_cancelled_when_requested_then_reports_open_quantity_and_code():
    ex = continuous()
    oid = sell(ex, 3 * LOT, 7500, "c1", broker="B7", account="ACC9")
    buy(ex, 1 * LOT, 7500, "c2", broker="B8", account="X")
    ex.cancel(CancelOrder("B7", orig_cl_ord_id="c1"))
    assert ex.events[-1] == Cancelled(5, at(9, 0, 1), oid, "B7", "ACC9", "c1", "2330", 2000,
                                      Code.CANCELLED_ON_REQUEST)


def test_filled_when_resting_order_hit_then_resting_side_reported_first():
    ex = continuous()
    resting = sell(ex, 1 * LOT, 7500, "r", broker="B7", account="ACC9")
    taker = buy(ex, 1 * LOT, 7500, "t", broker="B8", account="X")
    assert ex.events[-2:] == [
        Filled(3, at(9, 0, 1), resting, "B7", "ACC9", "r", "2330", SELL, 7500, 1000, 0, 1000, 1),
        Filled(4, at(9, 0, 1), taker, "B8", "X", "t", "2330", BUY, 7500, 1000, 0, 1000, 1)]


def test_handle_when_given_each_command_kind_then_dispatches_to_it():
    ex = continuous()
    ex.handle(NewOrder("B1", "A1", "n1", "2330", BUY, 3 * LOT, 7400))
    ex.handle(AmendOrder("B1", orig_cl_ord_id="n1", qty=2 * LOT))
    ex.handle(CancelOrder("B1", orig_cl_ord_id="n1"))
    assert [(type(e), e.seq, e.order_id) for e in ex.events] == [
        (Accepted, 1, 1), (Amended, 2, 1), (Cancelled, 3, 1)]
    assert (ex.events[1].qty, ex.events[2].qty) == (2000, 2000)
