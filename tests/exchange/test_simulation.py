"""A whole simulated day: every phase in order, reproducible by seed, nothing left at the end."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from itertools import pairwise

import pytest

from brokercloud.exchange import simulation
from brokercloud.exchange.engine import Exchange
from brokercloud.exchange.events import (
    Accepted,
    Amended,
    Cancelled,
    Event,
    Expired,
    Filled,
    Rejected,
)
from brokercloud.exchange.schedule import Action, ScheduledAction
from brokercloud.exchange.simulation import DaySummary, run_day
from brokercloud.market.instruments import Disposition, Instrument, InstrumentKind
from brokercloud.market.orders import OrderType
from brokercloud.market.sessions import (
    AFTER_HOURS_END,
    AFTER_HOURS_ODD_LOT_START,
    CLOSE,
    CLOSING_CALL_START,
    FIXED_PRICE_START,
    OPEN,
    PRE_OPEN_START,
    Session,
    odd_lot_match_times,
    periodic_match_times,
)

LISTINGS = [
    (Instrument(symbol="2330", name="TSMC"), 7470),
    (Instrument(symbol="1101", name="Taiwan Cement"), 1000),
    (Instrument(symbol="2454", name="MediaTek"), 99500),
    (Instrument(symbol="0050", name="Yuanta Taiwan 50", kind=InstrumentKind.ETF), 5000),
]
DISPOSED = (Instrument(symbol="3008", name="Largan", disposition=Disposition.FIRST), 24000)
RATE = 2  # orders per second across all symbols: 36,000 commands, well under a second

PHASES = [
    (PRE_OPEN_START, Action.PRE_OPEN),
    (OPEN, Action.OPEN),
    (odd_lot_match_times()[0], Action.ODD_LOT_AUCTION),
    (CLOSING_CALL_START, Action.CLOSING_CALL),
    (CLOSE, Action.CLOSING_AUCTION),
    (CLOSE, Action.CLOSE),
    (AFTER_HOURS_ODD_LOT_START, Action.AFTER_HOURS_ODD_LOT_OPEN),
    (FIXED_PRICE_START, Action.FIXED_PRICE_OPEN),
    (AFTER_HOURS_END, Action.END_OF_DAY),
]


class Day:
    """One run of ``run_day`` with everything it showed: events, actions and the exchange."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, listings: list[tuple[Instrument, int]],
                 seed: int = 1) -> None:
        self.events: list[Event] = []
        self.actions: list[ScheduledAction] = []
        exchanges: list[Exchange] = []

        class Recorded(Exchange):
            def __init__(self, *args: object, **kwargs: object) -> None:
                super().__init__(*args, **kwargs)  # type: ignore[arg-type]
                exchanges.append(self)

        with monkeypatch.context() as patch:
            patch.setattr(simulation, "Exchange", Recorded)
            self.summary: DaySummary = run_day(
                listings, seed=seed, orders_per_second=RATE, on_event=self.events.append,
                on_action=self.actions.append)
        (self.exchange,) = exchanges


@pytest.fixture(scope="module")
def module_patch() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def day(module_patch: pytest.MonkeyPatch) -> Day:
    return Day(module_patch, LISTINGS)


@pytest.fixture(scope="module")
def disposed_day(module_patch: pytest.MonkeyPatch) -> Day:
    return Day(module_patch, [*LISTINGS, DISPOSED])


def _first_occurrences(actions: list[ScheduledAction]) -> list[tuple[int, Action]]:
    seen: dict[Action, int] = {}
    for scheduled in actions:
        seen.setdefault(scheduled.action, scheduled.time)
    return [(time, action) for action, time in seen.items()
            if action is not Action.DISPOSITION_AUCTION]


@pytest.mark.parametrize("which", ["day", "disposed_day"])
def test_run_day_when_run_then_every_phase_in_time_order(which: str,
                                                         request: pytest.FixtureRequest) -> None:
    run: Day = request.getfixturevalue(which)
    times = [a.time for a in run.actions]
    assert times == sorted(times)
    assert _first_occurrences(run.actions) == PHASES
    counts = Counter(a.action for a in run.actions)
    assert counts[Action.ODD_LOT_AUCTION] == len(odd_lot_match_times())
    assert all(counts[action] == 1 for _, action in PHASES if action is not
               Action.ODD_LOT_AUCTION)


def test_run_day_when_disposition_stock_then_its_auctions_every_five_minutes(
        disposed_day: Day) -> None:
    auctions = [a for a in disposed_day.actions if a.action is Action.DISPOSITION_AUCTION]
    assert [a.time for a in auctions] == list(periodic_match_times(5 * 60))
    assert {a.arg for a in auctions} == {5 * 60}
    assert all(OPEN < a.time < CLOSING_CALL_START for a in auctions)


def test_run_day_when_no_disposition_stock_then_no_disposition_auctions(day: Day) -> None:
    assert not [a for a in day.actions if a.action is Action.DISPOSITION_AUCTION]


def test_run_day_when_disposition_stock_then_it_trades_only_in_call_auctions(
        disposed_day: Day) -> None:
    symbol = DISPOSED[0].symbol
    auction_times = {OPEN, CLOSE, AFTER_HOURS_END, *periodic_match_times(5 * 60)}
    fills = [e for e in disposed_day.events if type(e) is Filled and e.symbol == symbol]
    accepted = {e.order_id: e for e in disposed_day.events if type(e) is Accepted}
    regular = [f for f in fills if accepted[f.order_id].session is Session.REGULAR]
    assert regular, "the disposition stock never traded"
    assert {f.time for f in regular} <= auction_times
    prices: defaultdict[int, set[int]] = defaultdict(set)
    for f in regular:
        prices[f.match_id].add(f.price)
    assert all(len(p) == 1 for p in prices.values())
    assert not [e for e in accepted.values()
                if e.symbol == symbol and e.order_type is OrderType.MARKET]
    assert [e for e in disposed_day.events if type(e) is Rejected and e.symbol == symbol]


def test_run_day_when_same_seed_then_identical_events(monkeypatch: pytest.MonkeyPatch,
                                                      day: Day) -> None:
    again = Day(monkeypatch, LISTINGS)
    assert again.events == day.events
    assert again.actions == day.actions
    assert (again.summary.commands, again.summary.events, again.summary.volume,
            again.summary.closes) == (day.summary.commands, day.summary.events,
                                      day.summary.volume, day.summary.closes)


def test_run_day_when_different_seed_then_different_events(monkeypatch: pytest.MonkeyPatch,
                                                           day: Day) -> None:
    other = Day(monkeypatch, LISTINGS, seed=2)
    assert other.events != day.events
    assert other.actions == day.actions  # the timeline does not depend on the seed


@pytest.mark.parametrize("which", ["day", "disposed_day"])
def test_run_day_when_over_then_nothing_rests_and_every_share_is_accounted_for(
        which: str, request: pytest.FixtureRequest) -> None:
    run: Day = request.getfixturevalue(which)
    for listing in run.exchange.listings.values():
        for session, book in listing.books.items():
            book.validate()
            assert not list(book.resting()), (listing.instrument.symbol, session)
            assert book.best_bid == -1 and book.best_ask == book.top + 1
    assert all(order.leaves == 0 for order in run.exchange.orders.values())
    left: Counter[int] = Counter()
    for e in run.events:
        kind = type(e)
        if kind is Accepted:
            left[e.order_id] += e.qty
        elif kind in (Filled, Cancelled, Expired):
            left[e.order_id] -= e.qty
        elif kind is Amended:
            left[e.order_id] = e.leaves
    assert not +left and not -left


@pytest.mark.parametrize("which", ["day", "disposed_day"])
def test_run_day_when_over_then_events_are_ordered_and_fills_within_limits(
        which: str, request: pytest.FixtureRequest) -> None:
    run: Day = request.getfixturevalue(which)
    assert all(a.seq < b.seq for a, b in pairwise(run.events))
    assert all(a.time <= b.time for a, b in pairwise(run.events))
    listings = run.exchange.listings
    sessions = {e.order_id: e.session for e in run.events if type(e) is Accepted}
    fills = [e for e in run.events if type(e) is Filled]
    assert {sessions[f.order_id] for f in fills} == set(Session)
    for f in fills:
        listing = listings[f.symbol]
        assert listing.limit_down <= f.price <= listing.limit_up
        if sessions[f.order_id] is Session.FIXED_PRICE:
            assert f.price == listing.close == run.summary.closes[f.symbol]
            assert f.time == AFTER_HOURS_END
