"""A deliberately naive model of the exchange's matching: the oracle the engine is checked against.

Everything here is written for obviousness, not speed: each side is one Python list of resting
orders, re-sorted by (price, market-before-limit, arrival) after every change; an incoming
order trades against the head of the opposite list until it stops crossing. Validation repeats
the market rules from MARKET_RULES.md in the engine's order of checks, without sharing its
code (only the limit and tick arithmetic of ``brokercloud.market.prices``, tested on its own).

Scope: board-lot orders in continuous trading (09:00-13:25) for one or a few symbols, plus the
13:25/13:30 end of the regular session (resting market orders deleted, the rest expires), and
the opening or closing call auction's price and fills (``reference_auction``).

The output is a trace of plain tuples, in the order the exchange must report them; a test turns
the exchange's events into the same tuples and compares the lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from brokercloud.codes import Code
from brokercloud.exchange.commands import AmendOrder, CancelOrder, Command, NewOrder
from brokercloud.market.instruments import Instrument
from brokercloud.market.lots import BOARD_LOT, MAX_LOTS_PER_ORDER
from brokercloud.market.orders import OrderType, Side, TimeInForce
from brokercloud.market.prices import is_on_tick, price_limits
from brokercloud.market.sessions import Session

BUY, SELL = Side.BUY, Side.SELL
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET
ROD, IOC, FOK = TimeInForce.ROD, TimeInForce.IOC, TimeInForce.FOK


# -- the trace --------------------------------------------------------------------------------

class Accept(NamedTuple):
    order_id: int


class Reject(NamedTuple):
    code: Code


class Fill(NamedTuple):
    order_id: int
    side: Side
    price: int
    qty: int
    leaves: int


class Cancel(NamedTuple):
    order_id: int
    qty: int
    code: Code


class Expire(NamedTuple):
    order_id: int
    qty: int


class Amend(NamedTuple):
    order_id: int
    price: int
    qty: int
    leaves: int


class RequestReject(NamedTuple):
    request: str
    code: Code


Step = Accept | Reject | Fill | Cancel | Expire | Amend | RequestReject


# -- one symbol's book ------------------------------------------------------------------------

@dataclass
class RefOrder:
    order_id: int
    broker: str
    symbol: str
    side: Side
    order_type: OrderType
    tif: TimeInForce
    price: int  # as submitted (0 or anything for a market order)
    qty: int  # current total quantity (lowered by reductions)
    leaves: int
    cum: int = 0
    arrival: int = 0  # when it took its current place in the queue
    rest_price: int = 0  # where it sits: the limit price, or the day's limit for market orders


@dataclass
class ReferenceBook:
    """One symbol's continuous book. ``trace`` collects what happened, in order."""

    limit_down: int
    limit_up: int
    trace: list[Step]
    bids: list[RefOrder] = field(default_factory=list)
    asks: list[RefOrder] = field(default_factory=list)
    arrivals: int = 0

    def side(self, side: Side) -> list[RefOrder]:
        return self.bids if side is BUY else self.asks

    def worst_price(self, order: RefOrder) -> int:
        """The worst price an incoming order accepts: its limit, or the day's limit."""
        if order.order_type is MARKET:
            return self.limit_up if order.side is BUY else self.limit_down
        return order.price

    @staticmethod
    def crosses(incoming: RefOrder, worst: int, resting: RefOrder) -> bool:
        if incoming.side is BUY:
            return resting.rest_price <= worst
        return resting.rest_price >= worst

    def sort(self) -> None:
        """Price, then market orders ahead of limit orders at that price, then arrival."""
        self.bids.sort(key=lambda o: (-o.rest_price, o.order_type is not MARKET, o.arrival))
        self.asks.sort(key=lambda o: (o.rest_price, o.order_type is not MARKET, o.arrival))

    def take_place(self, order: RefOrder) -> None:
        self.arrivals += 1
        order.arrival = self.arrivals
        order.rest_price = self.worst_price(order)
        self.side(order.side).append(order)
        self.sort()

    def take_out(self, order: RefOrder) -> int:
        self.side(order.side).remove(order)
        qty, order.leaves = order.leaves, 0
        return qty

    def enter(self, order: RefOrder) -> None:
        """An incoming order (new, or repriced): FOK check, trade, then rest or cancel."""
        worst = self.worst_price(order)
        opposite = self.side(SELL if order.side is BUY else BUY)
        if order.tif is FOK:
            available = sum(o.leaves for o in opposite if self.crosses(order, worst, o))
            if available < order.leaves:
                self.trace.append(Cancel(order.order_id, order.leaves, Code.FOK_NOT_FILLABLE))
                order.leaves = 0
                return
        while order.leaves and opposite and self.crosses(order, worst, opposite[0]):
            resting = opposite[0]
            qty = min(order.leaves, resting.leaves)
            price = resting.rest_price  # trades at the resting order's price
            resting.leaves -= qty
            resting.cum += qty
            order.leaves -= qty
            order.cum += qty
            self.trace.append(Fill(resting.order_id, resting.side, price, qty, resting.leaves))
            self.trace.append(Fill(order.order_id, order.side, price, qty, order.leaves))
            if resting.leaves == 0:
                opposite.pop(0)
        if order.leaves:
            if order.tif is ROD:
                self.take_place(order)
            else:
                self.trace.append(Cancel(order.order_id, order.leaves,
                                         Code.IOC_REMAINDER_CANCELLED))
                order.leaves = 0

    def resting(self) -> list[RefOrder]:
        return self.bids + self.asks


# -- validation and order identity across symbols ----------------------------------------------

class ReferenceMarket:
    """Board-lot continuous trading for a few symbols: validation, IDs, one book per symbol."""

    def __init__(self, listings: list[tuple[Instrument, int]]) -> None:
        self.trace: list[Step] = []
        self.instruments = {inst.symbol: inst for inst, _ in listings}
        self.books: dict[str, ReferenceBook] = {}
        for inst, reference in listings:
            if inst.limit_bp is None:
                raise NotImplementedError("the model covers instruments with a daily limit")
            down, up = price_limits(reference, inst.limit_bp, inst.kind)
            self.books[inst.symbol] = ReferenceBook(down, up, self.trace)
        self.orders: dict[int, RefOrder] = {}
        self.client_ids: dict[str, dict[str, int]] = {}  # broker -> cl_ord_id -> order ID
        self.next_id = 1

    def handle(self, command: Command) -> None:
        if isinstance(command, NewOrder):
            self.new_order(command)
        elif isinstance(command, CancelOrder):
            self.cancel(command)
        else:
            self.amend(command)

    def price_error(self, symbol: str, price: int) -> Code:
        book = self.books[symbol]
        if price <= 0:
            return Code.PRICE_NOT_POSITIVE
        if not book.limit_down <= price <= book.limit_up:
            return Code.PRICE_OUTSIDE_LIMITS
        if not is_on_tick(price, self.instruments[symbol].kind):
            return Code.PRICE_NOT_ON_TICK
        return Code.OK

    def new_order_error(self, cmd: NewOrder) -> Code:
        if cmd.symbol not in self.books:
            return Code.UNKNOWN_SYMBOL
        if cmd.session is Session.ODD_LOT:
            raise NotImplementedError("the intraday odd-lot session is open but not modelled")
        if cmd.session is not Session.REGULAR:
            return Code.SESSION_CLOSED  # fixed-price and after-hours odd lots open later
        if cmd.qty <= 0:
            return Code.QUANTITY_NOT_POSITIVE
        if cmd.qty % BOARD_LOT:
            return Code.NOT_BOARD_LOTS
        if cmd.qty > MAX_LOTS_PER_ORDER * BOARD_LOT:
            return Code.QUANTITY_ABOVE_CAP
        if cmd.order_type is LIMIT:
            code = self.price_error(cmd.symbol, cmd.price)
            if code:
                return code
        if cmd.cl_ord_id in self.client_ids.get(cmd.broker, {}):
            return Code.DUPLICATE_CLIENT_ORDER_ID
        return Code.OK

    def new_order(self, cmd: NewOrder) -> None:
        code = self.new_order_error(cmd)
        if code:
            self.trace.append(Reject(code))
            return
        order = RefOrder(self.next_id, cmd.broker, cmd.symbol, cmd.side, cmd.order_type, cmd.tif,
                         cmd.price, cmd.qty, cmd.qty)
        self.next_id += 1
        self.orders[order.order_id] = order
        self.client_ids.setdefault(cmd.broker, {})[cmd.cl_ord_id] = order.order_id
        self.trace.append(Accept(order.order_id))
        self.books[cmd.symbol].enter(order)

    def find(self, broker: str, order_id: int, cl_ord_id: str) -> RefOrder | None:
        """By exchange ID if given, else by client ID; another broker's order is unknown."""
        if not order_id:
            order_id = self.client_ids.get(broker, {}).get(cl_ord_id, 0)
        order = self.orders.get(order_id)
        return order if order is not None and order.broker == broker else None

    def cancel(self, cmd: CancelOrder) -> None:
        order = self.find(cmd.broker, cmd.order_id, cmd.orig_cl_ord_id)
        if order is None or order.leaves == 0:
            code = Code.UNKNOWN_ORDER if order is None else Code.ORDER_ALREADY_DONE
            self.trace.append(RequestReject("cancel", code))
            return
        qty = self.books[order.symbol].take_out(order)
        self.trace.append(Cancel(order.order_id, qty, Code.CANCELLED_ON_REQUEST))

    def amend_error(self, cmd: AmendOrder, order: RefOrder | None) -> Code:
        if order is None:
            return Code.UNKNOWN_ORDER
        if order.leaves == 0:
            return Code.ORDER_ALREADY_DONE
        if cmd.qty is not None and cmd.price is not None:
            return Code.AMEND_PRICE_AND_QUANTITY
        if cmd.qty is None and cmd.price is None:
            return Code.AMEND_NOTHING
        if cmd.qty is not None:
            if cmd.qty >= order.qty:
                return Code.AMEND_QUANTITY_NOT_REDUCED
            if cmd.qty <= order.cum:
                return Code.AMEND_BELOW_FILLED
            if cmd.qty % BOARD_LOT:
                return Code.NOT_BOARD_LOTS
        elif order.order_type is MARKET:
            return Code.AMEND_MARKET_ORDER_PRICE
        elif cmd.price == order.price:
            return Code.AMEND_NOTHING
        else:
            code = self.price_error(order.symbol, cmd.price or 0)
            if code:
                return code
        if cmd.cl_ord_id and cmd.cl_ord_id in self.client_ids[order.broker]:
            return Code.DUPLICATE_CLIENT_ORDER_ID
        return Code.OK

    def amend(self, cmd: AmendOrder) -> None:
        order = self.find(cmd.broker, cmd.order_id, cmd.orig_cl_ord_id)
        code = self.amend_error(cmd, order)
        if order is None or code:
            self.trace.append(RequestReject("amend", code))
            return
        if cmd.cl_ord_id:
            self.client_ids[order.broker][cmd.cl_ord_id] = order.order_id
        book = self.books[order.symbol]
        if cmd.qty is not None:  # a reduction keeps the order's place in the queue
            order.leaves -= order.qty - cmd.qty
            order.qty = cmd.qty
            self.trace.append(Amend(order.order_id, order.price, order.qty, order.leaves))
            return
        leaves = book.take_out(order)  # a new price is a new place, and may trade at once
        order.leaves = leaves
        order.price = cmd.price or 0
        self.trace.append(Amend(order.order_id, order.price, order.qty, order.leaves))
        book.enter(order)

    def close(self) -> list[Step]:
        """13:25 deletes resting market orders, 13:30 expires the rest. Returned (and traced)
        in the model's order; the exchange's order among these is not specified."""
        steps: list[Step] = []
        for book in self.books.values():
            for order in book.resting():
                if order.order_type is MARKET:
                    steps.append(Cancel(order.order_id, book.take_out(order),
                                        Code.MARKET_ORDER_DELETED_AT_CLOSING_CALL))
        for book in self.books.values():
            for order in book.resting():
                steps.append(Expire(order.order_id, book.take_out(order)))
        self.trace.extend(steps)
        return steps


# -- call auctions ----------------------------------------------------------------------------

class AuctionOrder(NamedTuple):
    order_id: int
    side: Side
    price: int
    qty: int  # open quantity at the auction


class AuctionOutcome(NamedTuple):
    price: int
    volume: int
    fills: list[tuple[int, int]]  # (order_id, qty): buys in priority order, then sells


def reference_auction(orders: list[AuctionOrder], prices: list[int],
                      anchor: int) -> AuctionOutcome | None:
    """TWSE's call auction by brute force over every valid price.

    ``orders`` are limit orders in arrival order. A price qualifies if something trades there,
    every buy above it and every sell below it fills, and (automatically, volume being the
    smaller side) one side at it fills in full. The largest volume wins; ties go to the price
    nearest ``anchor``, then to the higher price.
    """
    best: tuple[int, int, int] | None = None  # (volume, -distance, price)
    for price in prices:
        buys_at_or_above = sum(o.qty for o in orders if o.side is BUY and o.price >= price)
        buys_above = sum(o.qty for o in orders if o.side is BUY and o.price > price)
        sells_at_or_below = sum(o.qty for o in orders if o.side is SELL and o.price <= price)
        sells_below = sum(o.qty for o in orders if o.side is SELL and o.price < price)
        volume = min(buys_at_or_above, sells_at_or_below)
        if volume and buys_above <= volume and sells_below <= volume:
            key = (volume, -abs(price - anchor), price)
            if best is None or key > best:
                best = key
    if best is None:
        return None
    volume, _, price = best
    arrival = {o.order_id: i for i, o in enumerate(orders)}
    buys = sorted((o for o in orders if o.side is BUY and o.price >= price),
                  key=lambda o: (-o.price, arrival[o.order_id]))
    sells = sorted((o for o in orders if o.side is SELL and o.price <= price),
                   key=lambda o: (o.price, arrival[o.order_id]))
    fills: list[tuple[int, int]] = []
    for queue in (buys, sells):
        left = volume
        for o in queue:
            if not left:
                break
            qty = min(left, o.qty)
            fills.append((o.order_id, qty))
            left -= qty
    return AuctionOutcome(price, volume, fills)
