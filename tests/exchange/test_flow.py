"""The synthetic order flow: reproducible by seed, true to its mix, always priced on the ladder."""

from __future__ import annotations

from collections import Counter

from brokercloud.exchange.commands import AmendOrder, CancelOrder, Command, NewOrder
from brokercloud.exchange.engine import Listing
from brokercloud.exchange.flow import FlowConfig, FlowMix, OrderFlow
from brokercloud.market.instruments import Instrument, InstrumentKind
from brokercloud.market.orders import OrderType, Side, TimeInForce
from brokercloud.market.prices import price_ladder
from brokercloud.market.sessions import OPEN, at

#: Ladders that cross tick bands (NT$10, NT$1,000, the ETF's NT$50) and a plain one.
LISTINGS = [
    (Instrument(symbol="2330", name="TSMC"), 7470),
    (Instrument(symbol="1101", name="Taiwan Cement"), 1000),
    (Instrument(symbol="2454", name="MediaTek"), 99500),
    (Instrument(symbol="0050", name="Yuanta Taiwan 50", kind=InstrumentKind.ETF), 5000),
]
MANY = 20_000


def _commands(seed: int, count: int, **config: object) -> list[tuple[int, Command]]:
    flow = OrderFlow(LISTINGS, FlowConfig(seed=seed, **config))  # type: ignore[arg-type]
    return list(flow.commands(count))


def test_commands_when_same_seed_then_identical() -> None:
    assert _commands(7, 5_000) == _commands(7, 5_000)


def test_commands_when_different_seed_then_different() -> None:
    assert _commands(7, 1_000) != _commands(8, 1_000)


def test_commands_when_generated_then_evenly_spaced_from_start_at_the_rate() -> None:
    timed = _commands(1, 1_000, orders_per_second=200, start=OPEN)
    assert [t for t, _ in timed] == [OPEN + i * 5 for i in range(1_000)]


def test_commands_when_end_reached_then_stream_stops() -> None:
    timed = _commands(1, 10_000, orders_per_second=10, start=at(13, 24), end=at(13, 25))
    assert len(timed) == 600
    assert all(at(13, 24) <= t < at(13, 25) for t, _ in timed)


def test_mix_when_many_commands_then_within_two_points_of_configured_shares() -> None:
    """Resting orders are priced away from the symbol's fair price on their own side;
    marketable ones at or through it (or are market orders). The fair price is read from the
    flow right after each order, since only that order moved it."""
    flow = OrderFlow(LISTINGS, FlowConfig(seed=3))
    kinds: Counter[str] = Counter()
    for _ in range(MANY):
        cmd = flow.next_command()
        if isinstance(cmd, CancelOrder):
            kinds["cancel"] += 1
        elif isinstance(cmd, AmendOrder):
            kinds["amend"] += 1
        else:
            kinds[_new_order_kind(flow, cmd)] += 1
    mix = FlowMix()
    for kind, share in (("resting", mix.resting), ("marketable", mix.marketable),
                        ("cancel", mix.cancel), ("amend", mix.amend)):
        assert abs(kinds[kind] * 100 / MANY - share) < 2, (kind, kinds)
    assert abs((kinds["cancel"] + kinds["amend"]) * 100 / MANY - 20) < 2


def _new_order_kind(flow: OrderFlow, cmd: NewOrder) -> str:
    if cmd.order_type is OrderType.MARKET:
        return "marketable"
    state = flow._by_symbol[cmd.symbol]  # internal: the fair price
    fair = state.prices[state.fair]
    crosses = cmd.price >= fair if cmd.side is Side.BUY else cmd.price <= fair
    return "marketable" if crosses else "resting"


def test_prices_when_many_commands_then_on_the_ladder_within_the_days_limits() -> None:
    ladders = {}
    for instrument, reference in LISTINGS:
        listing = Listing(instrument, reference)
        assert price_ladder(listing.limit_down, listing.limit_up, instrument.kind) == \
            listing.prices
        ladders[instrument.symbol] = set(listing.prices)
    by_cl_ord_id: dict[str, str] = {}
    seen = Counter()
    for _, cmd in _commands(11, MANY):
        if isinstance(cmd, NewOrder):
            by_cl_ord_id[cmd.cl_ord_id] = cmd.symbol
            if cmd.order_type is OrderType.MARKET:
                assert cmd.price == 0
            else:
                assert cmd.price in ladders[cmd.symbol], cmd
            seen[cmd.order_type] += 1
        elif isinstance(cmd, AmendOrder) and cmd.price is not None:
            assert cmd.price in ladders[by_cl_ord_id[cmd.orig_cl_ord_id]], cmd
            seen["reprice"] += 1
    assert seen[OrderType.LIMIT] and seen[OrderType.MARKET] and seen["reprice"]


def test_amends_when_generated_then_either_reduce_quantity_or_move_price_never_both() -> None:
    sent: dict[str, NewOrder] = {}
    for _, cmd in _commands(5, MANY):
        if isinstance(cmd, NewOrder):
            sent[cmd.cl_ord_id] = cmd
        elif isinstance(cmd, AmendOrder):
            assert (cmd.qty is None) != (cmd.price is None)
            assert cmd.orig_cl_ord_id in sent


def test_limit_rod_only_when_set_then_only_limit_rod_orders() -> None:
    flow = OrderFlow(LISTINGS, FlowConfig(seed=2))
    flow.limit_rod_only = True
    orders = [cmd for cmd in (flow.next_command() for _ in range(MANY))
              if isinstance(cmd, NewOrder)]
    assert len(orders) > MANY // 2
    assert {(o.order_type, o.tif) for o in orders} == {(OrderType.LIMIT, TimeInForce.ROD)}


def test_limit_rod_only_when_unset_then_market_ioc_and_fok_appear() -> None:
    flow = OrderFlow(LISTINGS, FlowConfig(seed=2))
    orders = [cmd for cmd in (flow.next_command() for _ in range(MANY))
              if isinstance(cmd, NewOrder)]
    assert {(o.order_type, o.tif) for o in orders} >= {
        (OrderType.LIMIT, TimeInForce.ROD), (OrderType.LIMIT, TimeInForce.IOC),
        (OrderType.LIMIT, TimeInForce.FOK), (OrderType.MARKET, TimeInForce.IOC),
        (OrderType.MARKET, TimeInForce.ROD)}
