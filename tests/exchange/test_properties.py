"""Property tests: the exchange against the naive reference model, and its own invariants.

Random command sequences (new orders of every type, cancels and amends aimed at earlier orders,
a share of them invalid) run through the real ``Exchange`` in continuous trading and through
``reference_book.ReferenceMarket``; the two must report the same thing, command by command, and
the exchange's books must stay consistent, uncrossed and quantity-conserving throughout.
Call auctions are checked against a brute-force auction over every price.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from itertools import pairwise

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brokercloud.exchange.book import Book
from brokercloud.exchange.commands import AmendOrder, CancelOrder, Command, NewOrder
from brokercloud.exchange.engine import Exchange
from brokercloud.exchange.events import (
    Accepted,
    Amended,
    Cancelled,
    Event,
    Expired,
    Filled,
    Rejected,
    RequestRejected,
)
from brokercloud.exchange.schedule import Action, ScheduledAction
from brokercloud.market.instruments import Instrument, InstrumentKind
from brokercloud.market.orders import OrderType, Side, TimeInForce
from brokercloud.market.prices import price_ladder, price_limits
from brokercloud.market.sessions import Session, at

from .reference_book import (
    Accept,
    Amend,
    AuctionOrder,
    Cancel,
    Expire,
    Fill,
    ReferenceMarket,
    Reject,
    RequestReject,
    Step,
    reference_auction,
)

BUY, SELL = Side.BUY, Side.SELL
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET
ROD, IOC, FOK = TimeInForce.ROD, TimeInForce.IOC, TimeInForce.FOK
REGULAR = Session.REGULAR
LOT = 1_000

#: Ladders chosen to cross tick bands: 74.70 (0.1 ticks), 10.00 (0.01 below NT$10, 0.05 above),
#: 995 (1 below NT$1,000, 5 above), and an ETF at 50.00 (fund ticks 0.01 / 0.05).
LISTINGS: list[tuple[Instrument, int]] = [
    (Instrument(symbol="2330", name="TSMC"), 7470),
    (Instrument(symbol="1101", name="Taiwan Cement"), 1000),
    (Instrument(symbol="2454", name="MediaTek"), 99500),
    (Instrument(symbol="0050", name="Yuanta Taiwan 50", kind=InstrumentKind.ETF), 5000),
]
LADDERS = {inst.symbol: price_ladder(*price_limits(ref, 1_000, inst.kind), inst.kind)
           for inst, ref in LISTINGS}
MIDDLE = {inst.symbol: LADDERS[inst.symbol].index(ref) for inst, ref in LISTINGS}
BROKERS = ("B1", "B2")


# -- generating commands ----------------------------------------------------------------------

def _price(draw: st.DrawFn, symbol: str, side: Side = BUY, *, invalid_share: int = 8) -> int:
    """Mostly a valid price near the reference, leaning to the order's own side so a book
    builds up and still crosses often; sometimes the day's limits; sometimes an invalid price
    (off tick, outside the limits, not positive)."""
    ladder = LADDERS[symbol]
    roll = draw(st.integers(0, 99))
    if roll < invalid_share:
        return draw(st.sampled_from((0, -ladder[0], ladder[0] - 1, ladder[-1] + 500,
                                     ladder[-1] - 1)))  # ladder[-1] - 1 is off tick for all
    if roll < invalid_share + 10:  # mostly the limit the side's market orders rest at
        aggressive, passive = (ladder[-1], ladder[0]) if side is BUY else (ladder[0], ladder[-1])
        return draw(st.sampled_from((aggressive, aggressive, passive)))
    lean = draw(st.integers(-6, 2))
    return ladder[MIDDLE[symbol] + (lean if side is BUY else -lean)]


def _qty(draw: st.DrawFn) -> int:
    if draw(st.integers(0, 99)) < 6:
        return draw(st.sampled_from((0, -LOT, 1_500, 999, 499 * LOT, 500 * LOT)))
    return draw(st.integers(1, 5)) * LOT


@st.composite
def scenarios(draw: st.DrawFn, max_commands: int = 60
              ) -> tuple[list[tuple[Instrument, int]], list[Command]]:
    listings = draw(st.lists(st.sampled_from(LISTINGS), min_size=1, max_size=3, unique=True))
    symbols = [inst.symbol for inst, _ in listings]
    sent: list[NewOrder] = []  # earlier orders (and their new names) for cancels and amends
    commands: list[Command] = []
    for n in range(draw(st.integers(1, max_commands))):
        roll = draw(st.integers(0, 99))
        if roll < 60 or not sent:
            commands.append(cmd := _new_order(draw, symbols, sent, n))
            sent.append(cmd)
        elif roll < 78:
            commands.append(_cancel(draw, sent))
        else:
            amend, target = _amend(draw, sent, n)
            commands.append(amend)
            if amend.cl_ord_id:  # the order may now be named by the amendment's client ID too
                sent.append(msgspec.structs.replace(target, cl_ord_id=amend.cl_ord_id))
    return listings, commands


def _new_order(draw: st.DrawFn, symbols: list[str], sent: list[NewOrder], n: int) -> NewOrder:
    symbol = draw(st.sampled_from(symbols)) if draw(st.integers(0, 49)) else "9999"
    side = draw(st.sampled_from((BUY, SELL)))
    order_type = MARKET if draw(st.integers(0, 99)) < 20 else LIMIT
    tif = draw(st.sampled_from((ROD, ROD, ROD, IOC, FOK)))
    price = _price(draw, symbol if symbol in LADDERS else symbols[0], side)
    if order_type is MARKET:
        price = draw(st.sampled_from((0, 0, 0, price)))  # ignored for market orders
    session = REGULAR
    if not draw(st.integers(0, 32)):
        session = draw(st.sampled_from((Session.FIXED_PRICE, Session.AFTER_HOURS_ODD_LOT)))
    broker = draw(st.sampled_from(BROKERS))
    cl_ord_id = f"n{n}"
    if sent and not draw(st.integers(0, 24)):
        cl_ord_id = draw(st.sampled_from(sent)).cl_ord_id  # a duplicate if the broker matches
    return NewOrder(broker, f"{broker}-A", cl_ord_id, symbol, side, _qty(draw), price,
                    order_type, tif, session)


def _target(draw: st.DrawFn, sent: list[NewOrder]) -> tuple[NewOrder, dict[str, object]]:
    """Pick an earlier order and how to name it: by client ID mostly, else by a guessed
    exchange ID, an unknown client ID, or as another broker. Mostly an order that may still
    rest (a valid-looking ROD order), else any, so "already done" stays a minority."""
    live = [o for o in sent if o.tif is ROD and o.session is REGULAR and o.symbol in LADDERS]
    target = draw(st.sampled_from(live if live and draw(st.integers(0, 5)) else sent))
    how = draw(st.integers(0, 29))
    broker = target.broker
    if how == 0:
        broker = next(b for b in BROKERS if b != target.broker)
    if how in (1, 2, 3):
        return target, {"broker": broker, "order_id": draw(st.integers(1, len(sent) + 2))}
    if how == 4:
        return target, {"broker": broker, "orig_cl_ord_id": "nobody"}
    return target, {"broker": broker, "orig_cl_ord_id": target.cl_ord_id}


def _cancel(draw: st.DrawFn, sent: list[NewOrder]) -> CancelOrder:
    _, naming = _target(draw, sent)
    return CancelOrder(**naming)  # type: ignore[arg-type]


def _amend(draw: st.DrawFn, sent: list[NewOrder], n: int) -> tuple[AmendOrder, NewOrder]:
    target, naming = _target(draw, sent)
    symbol = target.symbol if target.symbol in LADDERS else next(iter(LADDERS))
    qty: int | None = None
    price: int | None = None
    shape = draw(st.integers(0, 19))
    if shape < 9:
        qty = draw(st.one_of(st.integers(1, 3).map(lambda k: target.qty - k * LOT),
                             st.integers(0, 6).map(lambda k: k * LOT),
                             st.just(target.qty - LOT // 2)))
    elif shape < 18:
        price = _price(draw, symbol, target.side)
    elif shape == 18:
        qty, price = target.qty - LOT, _price(draw, symbol, target.side)
    cl_ord_id = draw(st.sampled_from((f"a{n}", f"a{n}", f"a{n}", "", target.cl_ord_id)))
    amend = AmendOrder(**naming, cl_ord_id=cl_ord_id, qty=qty, price=price)  # type: ignore[arg-type]
    return amend, target


# -- the exchange's events as the model's trace ------------------------------------------------

def step_of(event: Event) -> Step:
    kind = type(event)
    if kind is Accepted:
        return Accept(event.order_id)
    if kind is Rejected:
        return Reject(event.code)
    if kind is Filled:
        return Fill(event.order_id, event.side, event.price, event.qty, event.leaves)
    if kind is Cancelled:
        return Cancel(event.order_id, event.qty, event.code)
    if kind is Expired:
        return Expire(event.order_id, event.qty)
    if kind is Amended:
        return Amend(event.order_id, event.price, event.qty, event.leaves)
    assert kind is RequestRejected
    return RequestReject(event.request, event.code)


def queues(book: Book) -> list[tuple[Side, int, int, int]]:
    """Every live order as (side, price, order ID, leaves), each side in priority order."""
    out = []
    for side, levels, walk in ((BUY, book.bid_levels, range(book.top, -1, -1)),
                               (SELL, book.ask_levels, range(book.top + 1))):
        for i in walk:
            out += [(side, book.prices[i], o.order_id, o.leaves) for o in levels[i] if o.leaves]
    return out


class Ledger:
    """Where every accepted share went, from the events alone."""

    def __init__(self) -> None:
        self.submitted: Counter[int] = Counter()
        self.filled: Counter[int] = Counter()
        self.cancelled: Counter[int] = Counter()
        self.reduced: Counter[int] = Counter()
        self.expired: Counter[int] = Counter()
        self.qty: dict[int, int] = {}

    def record(self, event: Event) -> None:
        kind = type(event)
        if kind is Accepted:
            self.submitted[event.order_id] += event.qty
            self.qty[event.order_id] = event.qty
        elif kind is Filled:
            self.filled[event.order_id] += event.qty
        elif kind is Cancelled:
            self.cancelled[event.order_id] += event.qty
        elif kind is Expired:
            self.expired[event.order_id] += event.qty
        elif kind is Amended:
            self.reduced[event.order_id] += self.qty[event.order_id] - event.qty
            self.qty[event.order_id] = event.qty

    def check(self, ex: Exchange) -> None:
        resting: Counter[int] = Counter()
        for listing in ex.listings.values():
            for book in listing.books.values():
                for order in book.resting():
                    assert order.order_id not in resting, f"order {order.order_id} rests twice"
                    resting[order.order_id] += order.leaves
        for order_id, submitted in self.submitted.items():
            accounted = (self.filled[order_id] + self.cancelled[order_id]
                         + self.reduced[order_id] + self.expired[order_id] + resting[order_id])
            assert submitted == accounted, f"order {order_id}: {submitted} != {accounted}"
            order = ex.orders[order_id]
            assert order.leaves == resting[order_id]
            assert order.cum_qty == self.filled[order_id]
        assert set(resting) <= set(self.submitted)
        assert self.submitted.total() == (self.filled.total() + self.cancelled.total()
                                          + self.reduced.total() + self.expired.total()
                                          + resting.total())


def check_event_invariants(ex: Exchange, events: Sequence[Event]) -> None:
    """Sequence numbers strictly increase; fills lie within the day's limits; each continuous
    match is one buy and one sell of the same quantity at the same price."""
    seqs = [e.seq for e in events]
    assert all(a < b for a, b in pairwise(seqs)), "seq not increasing"
    matches: defaultdict[int, list[Filled]] = defaultdict(list)
    for e in events:
        if type(e) is Filled:
            listing = ex.listings[e.symbol]
            assert listing.limit_down <= e.price <= listing.limit_up
            assert e.qty > 0
            matches[e.match_id].append(e)
    for match_id, pair in matches.items():
        assert len(pair) == 2, f"match {match_id} has {len(pair)} sides"
        a, b = pair
        assert (a.qty, a.price, a.symbol) == (b.qty, b.price, b.symbol)
        assert {a.side, b.side} == {BUY, SELL}
        assert a.order_id != b.order_id


def _only(steps: list[Step], kind: type) -> list[Step]:
    return [s for s in steps if type(s) is kind]


def check_books(ex: Exchange) -> None:
    for listing in ex.listings.values():
        for book in listing.books.values():
            book.validate()
            assert not book.is_crossed(), f"{book.symbol} {book.session} crossed"


# -- continuous trading against the model -------------------------------------------------------

@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_continuous_matching_when_random_commands_then_exchange_agrees_with_reference(
        scenario: tuple[list[tuple[Instrument, int]], list[Command]]) -> None:
    listings, commands = scenario
    ex = Exchange(listings, seed=1)
    ex.advance_to(at(9, 0))
    model = ReferenceMarket(listings)
    ledger = Ledger()
    seen, modelled = len(ex.events), 0
    for i, command in enumerate(commands):
        ex.handle(command)
        model.handle(command)
        new = ex.events[seen:]
        got, want = [step_of(e) for e in new], model.trace[modelled:]
        seen, modelled = len(ex.events), len(model.trace)
        where = f"after command {i}: {command}"
        assert _only(got, Fill) == _only(want, Fill), f"fills differ {where}"
        assert _only(got, Cancel) == _only(want, Cancel), f"cancels differ {where}"
        assert got == want, f"events differ {where}"
        for event in new:
            ledger.record(event)
        check_books(ex)
        for symbol, ref in model.books.items():
            expected = [(o.side, o.rest_price, o.order_id, o.leaves) for o in ref.resting()]
            assert queues(ex.listings[symbol].books[REGULAR]) == expected, f"{symbol} {where}"
        ledger.check(ex)

    before_close = len(ex.events)
    ex.advance_to(at(13, 30))
    closing = ex.events[before_close:]
    for event in closing:
        ledger.record(event)
    assert not [e for e in closing if type(e) is Filled], "an uncrossed book traded at the close"
    assert sorted(step_of(e) for e in closing) == sorted(model.close())
    ledger.check(ex)
    for listing in ex.listings.values():
        assert not list(listing.books[REGULAR].resting())
    for order_id, submitted in ledger.submitted.items():
        assert submitted == (ledger.filled[order_id] + ledger.cancelled[order_id]
                             + ledger.reduced[order_id] + ledger.expired[order_id])
    check_event_invariants(ex, ex.events)


# -- call auctions against a brute-force auction -------------------------------------------------

def _limit_orders(draw: st.DrawFn, symbol: str, prefix: str, max_orders: int,
                  tifs: tuple[TimeInForce, ...] = (ROD,)) -> list[Command]:
    """Valid limit orders around the reference on both sides (so they cross), with a few
    cancels, reductions and price changes of earlier ones."""
    ladder, middle = LADDERS[symbol], MIDDLE[symbol]
    commands: list[Command] = []
    sent: list[NewOrder] = []
    for n in range(draw(st.integers(1, max_orders))):
        roll = draw(st.integers(0, 99))
        if roll < 80 or not sent:
            side = draw(st.sampled_from((BUY, SELL)))
            level = middle + draw(st.integers(-4, 4))
            if not draw(st.integers(0, 19)):
                level = draw(st.sampled_from((0, len(ladder) - 1)))
            cmd = NewOrder("B1", "B1-A", f"{prefix}{n}", symbol, side,
                           draw(st.integers(1, 5)) * LOT, ladder[level],
                           tif=draw(st.sampled_from(tifs)))
            commands.append(cmd)
            sent.append(cmd)
            continue
        target = draw(st.sampled_from(sent)).cl_ord_id
        if roll < 88:
            commands.append(CancelOrder("B1", orig_cl_ord_id=target))
        elif roll < 94:
            commands.append(AmendOrder("B1", orig_cl_ord_id=target, qty=LOT))
        else:
            price = ladder[middle + draw(st.integers(-4, 4))]
            commands.append(AmendOrder("B1", orig_cl_ord_id=target, price=price))
    return commands


def open_orders(events: Sequence[Event]) -> list[AuctionOrder]:
    """The open limit orders after ``events``, in time priority (a new price is a new place)."""
    book: dict[int, AuctionOrder] = {}
    for e in events:
        kind = type(e)
        if kind is Accepted:
            book[e.order_id] = AuctionOrder(e.order_id, e.side, e.price, e.qty)
        elif kind is Filled:
            if e.leaves:
                book[e.order_id] = book[e.order_id]._replace(qty=e.leaves)
            else:
                del book[e.order_id]
        elif kind in (Cancelled, Expired):
            book.pop(e.order_id, None)
        elif kind is Amended:
            order = book[e.order_id]
            if e.price != order.price:
                del book[e.order_id]
            book[e.order_id] = order._replace(price=e.price, qty=e.leaves)
    return list(book.values())


def check_uncross(ex: Exchange, symbol: str, before: list[AuctionOrder], fills: list[Filled],
                  anchor: int) -> None:
    """Right after a call auction: the book is uncrossed; everything priced through the auction
    price filled; one side at it filled in full; both sides traded the auction volume; and
    price, volume and fills are those of the brute-force auction."""
    book = ex.listings[symbol].books[REGULAR]
    book.validate()
    assert not book.is_crossed()
    expected = reference_auction(before, LADDERS[symbol], anchor)
    if expected is None:
        assert not fills
        return
    price = expected.price
    assert {f.price for f in fills} == {price}
    assert len({f.match_id for f in fills}) == 1
    bought = sum(f.qty for f in fills if f.side is BUY)
    sold = sum(f.qty for f in fills if f.side is SELL)
    assert bought == sold == expected.volume
    assert [(f.order_id, f.qty) for f in fills] == expected.fills
    leaves = {o.order_id: ex.orders[o.order_id].leaves for o in before}
    for o in before:
        if (o.side is BUY and o.price > price) or (o.side is SELL and o.price < price):
            assert leaves[o.order_id] == 0, f"order {o.order_id} priced through {price} left"
    open_at = {side: any(leaves[o.order_id] for o in before if o.side is side and o.price == price)
               for side in (BUY, SELL)}
    assert not (open_at[BUY] and open_at[SELL]), "neither side at the auction price filled"


@st.composite
def opening_calls(draw: st.DrawFn) -> tuple[tuple[Instrument, int], list[Command]]:
    listing = draw(st.sampled_from(LISTINGS))
    return listing, _limit_orders(draw, listing[0].symbol, "p", 40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(opening_calls())
def test_opening_auction_when_random_limit_orders_then_uncross_matches_reference(
        scenario: tuple[tuple[Instrument, int], list[Command]]) -> None:
    (instrument, reference), commands = scenario
    symbol = instrument.symbol
    ex = Exchange([(instrument, reference)], seed=1)
    ex.advance_to(at(8, 30))
    for command in commands:
        ex.handle(command)
        ex.listings[symbol].books[REGULAR].validate()
    before = open_orders(ex.events)
    start = len(ex.events)
    ex.advance_to(at(9, 0))
    fills = [e for e in ex.events[start:] if type(e) is Filled]
    assert len(fills) == len(ex.events) - start
    check_uncross(ex, symbol, before, fills, reference)
    assert ex.listings[symbol].books[REGULAR].volume == sum(f.qty for f in fills) // 2
    assert all(a.seq < b.seq for a, b in pairwise(ex.events)), "seq not increasing"


@st.composite
def closing_calls(draw: st.DrawFn) -> tuple[tuple[Instrument, int], list[Command], list[Command]]:
    listing = draw(st.sampled_from(LISTINGS))
    symbol = listing[0].symbol
    return (listing, _limit_orders(draw, symbol, "c", 25, (ROD, ROD, IOC)),
            _limit_orders(draw, symbol, "z", 25))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(closing_calls())
def test_closing_auction_when_day_orders_and_closing_call_orders_then_uncross_matches_reference(
        scenario: tuple[tuple[Instrument, int], list[Command], list[Command]]) -> None:
    (instrument, reference), continuous, closing_call = scenario
    symbol = instrument.symbol
    ex = Exchange([(instrument, reference)], seed=1)
    ex.advance_to(at(9, 0))
    for command in continuous:
        ex.handle(command)
    ex.advance_to(at(13, 25))
    for command in closing_call:
        ex.handle(command)
    before = open_orders(ex.events)
    trades = [e.price for e in ex.events if type(e) is Filled]
    anchor = trades[-1] if trades else reference
    start = len(ex.events)
    checked: list[bool] = []

    def at_action(scheduled: ScheduledAction) -> None:
        if scheduled.action is Action.CLOSING_AUCTION:
            fills = [e for e in ex.events[start:] if type(e) is Filled]
            check_uncross(ex, symbol, before, fills, anchor)
            checked.append(True)

    ex.on_action = at_action
    ex.advance_to(at(13, 30))
    assert checked == [True]
    fills = [e for e in ex.events[start:] if type(e) is Filled]
    assert ex.listings[symbol].close == (fills[0].price if fills else trades[-1] if trades else 0)
    assert not list(ex.listings[symbol].books[REGULAR].resting())
