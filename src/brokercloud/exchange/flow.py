"""Synthetic order flow, deterministic by seed, for tests, benchmarks and the demo.

Each symbol has a fair price that wanders a tick at a time inside the day's limits. Resting
orders are placed a few ticks away from it on their own side; marketable orders cross it by a
few ticks (some as market orders); cancels and amends pick one of the flow's own earlier orders
(which may have filled meanwhile, as in real life, and then draw a reject).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from random import Random

import msgspec

from brokercloud.exchange.commands import AmendOrder, CancelOrder, Command, NewOrder
from brokercloud.market.instruments import Instrument
from brokercloud.market.lots import BOARD_LOT
from brokercloud.market.orders import OrderType, Side, TimeInForce
from brokercloud.market.prices import price_ladder, price_limits
from brokercloud.market.sessions import CLOSING_CALL_START, OPEN, Session

_RECENT_ORDERS = 256


class FlowMix(msgspec.Struct, frozen=True):
    """Shares of each kind of command, in percent; they must add up to 100."""

    resting: int = 50
    marketable: int = 30
    cancel: int = 10
    amend: int = 10
    market_share_of_marketable: int = 20  # the rest are IOC/FOK/ROD limits through the touch
    odd_lot: int = 0  # percent of new orders sent to the intraday odd-lot session

    def __post_init__(self) -> None:
        if self.resting + self.marketable + self.cancel + self.amend != 100:
            raise ValueError("flow mix must add up to 100 percent")


class FlowConfig(msgspec.Struct, frozen=True):
    seed: int = 1
    orders_per_second: int = 200  # across all symbols
    brokers: int = 10
    accounts_per_broker: int = 100
    max_lots: int = 10
    mix: FlowMix = FlowMix()
    start: int = OPEN
    end: int = CLOSING_CALL_START


class _SymbolState:
    __slots__ = ("fair", "prices", "symbol")

    def __init__(self, symbol: str, prices: list[int], fair: int) -> None:
        self.symbol = symbol
        self.prices = prices
        self.fair = fair  # index into prices


class OrderFlow:
    """An endless, reproducible stream of (time, command)."""

    def __init__(self, listings: Sequence[tuple[Instrument, int]], config: FlowConfig) -> None:
        self.config = config
        self._rng = Random(config.seed)
        self._symbols = []
        for instrument, reference in listings:
            band = instrument.limit_bp if instrument.limit_bp is not None else 1_000
            low, high = price_limits(reference, band, instrument.kind)
            prices = price_ladder(low, high, instrument.kind)
            self._symbols.append(_SymbolState(instrument.symbol, prices, prices.index(reference)))
        self._by_symbol = {state.symbol: state for state in self._symbols}
        self._sent: list[tuple[str, NewOrder]] = []  # (broker, order) for cancels and amends
        self._counter = 0
        self.limit_rod_only = False  # set during call phases: no market, IOC or FOK orders

    def commands(self, count: int | None = None) -> Iterator[tuple[int, Command]]:
        """Commands with their time of day, evenly spaced at the configured rate."""
        config = self.config
        step_us = 1_000_000 // max(config.orders_per_second, 1)
        produced = 0
        clock_us = config.start * 1_000
        while count is None or produced < count:
            if clock_us >= config.end * 1_000:
                return
            yield clock_us // 1_000, self.next_command()
            produced += 1
            clock_us += step_us

    def next_command(self) -> Command:
        rng = self._rng
        mix = self.config.mix
        roll = rng.randrange(100)
        sent = self._sent
        if sent and roll >= mix.resting + mix.marketable:
            pick = rng.randrange(len(sent))
            broker, order = sent[pick]
            if roll < mix.resting + mix.marketable + mix.cancel:
                sent[pick] = sent[-1]  # a cancelled order is not cancelled twice
                sent.pop()
                return CancelOrder(broker, orig_cl_ord_id=order.cl_ord_id)
            amend = self._amend(broker, order)
            sent[pick] = (broker, msgspec.structs.replace(
                order, qty=amend.qty or order.qty, price=amend.price or order.price))
            return amend
        return self._new_order(marketable=roll >= mix.resting)

    def _new_order(self, *, marketable: bool) -> NewOrder:
        rng = self._rng
        config = self.config
        state = self._symbols[rng.randrange(len(self._symbols))]
        last = len(state.prices) - 1
        state.fair = min(max(state.fair + rng.choice((-1, 0, 0, 1)), 1), last - 1)
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        direction = 1 if side is Side.BUY else -1
        if marketable:
            level = state.fair + direction * rng.randint(0, 4)
        else:
            level = state.fair - direction * rng.randint(1, 8)
        price = state.prices[min(max(level, 0), last)]
        order_type, tif = OrderType.LIMIT, TimeInForce.ROD
        if marketable and not self.limit_rod_only:
            pick = rng.randrange(100)
            if pick < config.mix.market_share_of_marketable:
                order_type, price = OrderType.MARKET, 0
                tif = TimeInForce.IOC if pick % 2 else TimeInForce.ROD
            else:
                tif = (TimeInForce.ROD, TimeInForce.IOC, TimeInForce.FOK)[pick % 3]
        session = Session.REGULAR
        qty = rng.randint(1, config.max_lots) * BOARD_LOT
        if config.mix.odd_lot and rng.randrange(100) < config.mix.odd_lot:
            session, qty = Session.ODD_LOT, rng.randint(1, BOARD_LOT - 1)
            order_type, tif = OrderType.LIMIT, TimeInForce.ROD
            price = state.prices[min(max(level, 0), last)]
        self._counter += 1
        broker = f"B{rng.randrange(config.brokers):03d}"
        account = f"{broker}-{rng.randrange(config.accounts_per_broker):07d}"
        order = NewOrder(broker, account, f"F{self._counter}", state.symbol, side, qty, price,
                         order_type, tif, session)
        if tif is TimeInForce.ROD and order_type is OrderType.LIMIT:
            self._remember(broker, order)
        return order

    def _remember(self, broker: str, order: NewOrder) -> None:
        sent = self._sent
        sent.append((broker, order))
        if len(sent) > _RECENT_ORDERS:  # cancels and amends aim at recent, likely live orders
            del sent[: _RECENT_ORDERS // 2]

    def _amend(self, broker: str, order: NewOrder) -> AmendOrder:
        self._counter += 1
        cl_ord_id = f"F{self._counter}"
        lot = BOARD_LOT if order.session is Session.REGULAR else 1
        if order.qty > lot and self._rng.random() < 0.5:
            return AmendOrder(broker, orig_cl_ord_id=order.cl_ord_id, cl_ord_id=cl_ord_id,
                              qty=order.qty - lot)
        state = self._by_symbol[order.symbol]
        index = state.prices.index(order.price)
        moved = min(max(index + self._rng.choice((-1, 1)), 0), len(state.prices) - 1)
        return AmendOrder(broker, orig_cl_ord_id=order.cl_ord_id, cl_ord_id=cl_ord_id,
                          price=state.prices[moved])
