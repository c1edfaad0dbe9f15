"""The exchange: validates members' commands against the market rules, owns one book per symbol
and session, and runs the day's timeline on a simulated clock.

It is deterministic: the only randomness (random priority in fixed-price and odd-lot auctions)
comes from a generator seeded at construction, and time only moves through ``advance_to``.
A rejected command leaves every book exactly as it was.
"""

from __future__ import annotations

import enum
import heapq
from collections.abc import Callable, Iterable
from itertools import count
from random import Random

from brokercloud.codes import Code
from brokercloud.exchange.auction import AuctionResult, auction_price, uncross
from brokercloud.exchange.book import Book, Order
from brokercloud.exchange.commands import AmendOrder, CancelOrder, Command, NewOrder
from brokercloud.exchange.events import (
    Accepted,
    Amended,
    Cancelled,
    Event,
    Expired,
    Rejected,
    RequestRejected,
)
from brokercloud.exchange.market_data import DEPTH, MarketDataPublisher, Subscriber
from brokercloud.exchange.schedule import Action, ScheduledAction, day_timeline
from brokercloud.exchange.stabilization import PAUSE_MS, Stabilizer, outside_band
from brokercloud.market.checks import ODD_LOT_SESSIONS, price_error, quantity_error
from brokercloud.market.instruments import Disposition, Instrument
from brokercloud.market.lots import BOARD_LOT, MAX_BOARD_LOT_SHARES
from brokercloud.market.orders import OrderType, Side, TimeInForce, order_type_allowed
from brokercloud.market.prices import price_ladder, price_limits
from brokercloud.market.reference import next_reference
from brokercloud.market.sessions import Phase, Session

_NEVER = 1 << 62


class Wakeup(enum.IntEnum):
    """Per-symbol timers price stabilisation sets (ordered: resumes before delayed closes)."""

    RESUME = 0  # a pause (or a delayed opening auction) ends with a call auction
    CLOSE = 1  # the delayed closing auction


#: Simulator convention: a security without a daily limit (first days of listing) gets a book
#: spanning +/-50% of its reference; prices beyond are refused as outside the limits.
NO_LIMIT_BAND_BP = 5_000

REGULAR = Session.REGULAR
ODD_LOT = Session.ODD_LOT
FIXED_PRICE = Session.FIXED_PRICE
AFTER_HOURS_ODD_LOT = Session.AFTER_HOURS_ODD_LOT
CLOSED = Phase.CLOSED
CONTINUOUS = Phase.CONTINUOUS
LIMIT = OrderType.LIMIT
MARKET = OrderType.MARKET
ROD = TimeInForce.ROD
FOK = TimeInForce.FOK
BUY = Side.BUY


class Listing:
    """One symbol's day: its rules and its books."""

    __slots__ = ("books", "close", "close_delayed", "continuous", "final_quote", "instrument",
                 "limit_down", "limit_up", "paused", "prices", "reference")

    def __init__(self, instrument: Instrument, reference: int) -> None:
        self.instrument = instrument
        self.reference = reference
        band = instrument.limit_bp if instrument.limit_bp is not None else NO_LIMIT_BAND_BP
        self.limit_down, self.limit_up = price_limits(reference, band, instrument.kind)
        self.prices = price_ladder(self.limit_down, self.limit_up, instrument.kind)
        self.continuous = instrument.disposition is Disposition.NONE
        self.books: dict[Session, Book] = {}
        self.close = 0  # the day's closing price, 0 until the close (or if nothing traded)
        self.final_quote = (0, 0)  # best bid and ask left after the closing auction, 0 if none
        self.paused = False  # price stabilisation: matching by call auction until resumed
        self.close_delayed = False  # price stabilisation moved the closing auction

    def next_reference(self) -> int:
        """Tomorrow's reference price by TWSE's rule."""
        return next_reference(self.reference, self.close, *self.final_quote)

    def anchor(self, book: Book) -> int:
        """Auction tie-break anchor: the session's last trade, else the reference price."""
        return book.last_price or self.reference


class Exchange:
    """The in-process exchange. Events go to ``emit`` (default: appended to ``events``)."""

    def __init__(self, listings: Iterable[tuple[Instrument, int]], *, seed: int = 0,
                 emit: Callable[[Event], object] | None = None,
                 price_stabilization: bool = False) -> None:
        self.events: list[Event] = []
        self._emit = emit if emit is not None else self.events.append
        self._seqs = count(1)
        self._match_ids = count(1)
        self._order_ids = count(1)
        self._rng = Random(seed)
        self.now = 0
        self.phases = dict.fromkeys(Session, CLOSED)
        self.orders: dict[int, Order] = {}
        self._cl_ord_ids: dict[str, dict[str, int]] = {}
        self.market_data = MarketDataPublisher()
        self.listings = {inst.symbol: Listing(inst, ref) for inst, ref in listings}
        self._stabilizers = {  # disposition stocks trade by call auction: nothing to pause
            symbol: Stabilizer(listing.prices, listing.reference)
            for symbol, listing in self.listings.items()
            if listing.continuous} if price_stabilization else {}
        self._wakeups: list[tuple[int, int, str]] = []  # heap of (time, Wakeup, symbol)
        for listing in self.listings.values():
            self._open_book(listing, REGULAR)
        intervals = frozenset(listing.instrument.disposition.matching_interval_s
                              for listing in self.listings.values() if not listing.continuous)
        self._timeline: list[ScheduledAction] = day_timeline(intervals)
        self._next_action = 0
        self._odd_lot_matched = False
        self.on_action: Callable[[ScheduledAction], object] | None = None  # observers (demo)
        self._actions: dict[Action, Callable[[int], None]] = {
            Action.PRE_OPEN: self._pre_open,
            Action.OPEN: self._open,
            Action.DISPOSITION_AUCTION: self._disposition_auction,
            Action.CLOSING_CALL: self._closing_call,
            Action.CLOSING_AUCTION: self._closing_auction,
            Action.ODD_LOT_AUCTION: self._odd_lot_auction,
            Action.CLOSE: self._close,
            Action.AFTER_HOURS_ODD_LOT_OPEN: self._after_hours_odd_lot_open,
            Action.FIXED_PRICE_OPEN: self._fixed_price_open,
            Action.END_OF_DAY: self._end_of_day,
        }

    # -- commands -------------------------------------------------------------------------

    def handle(self, command: Command) -> None:
        """Apply any command (what a network front or a replay calls)."""
        if type(command) is NewOrder:
            self.new_order(command)
        elif type(command) is CancelOrder:
            self.cancel(command)
        else:
            self.amend(command)

    def new_order(self, cmd: NewOrder) -> None:
        listing = self.listings.get(cmd.symbol)
        if listing is None:
            return self._reject(cmd, Code.UNKNOWN_SYMBOL)
        session = cmd.session
        phase = self.phases[session]
        if phase is CLOSED:
            return self._reject(cmd, Code.SESSION_CLOSED)
        qty = cmd.qty
        if not (session is REGULAR and 0 < qty <= MAX_BOARD_LOT_SHARES and not qty % BOARD_LOT):
            code = quantity_error(session, qty)  # the board-lot fast path above is the norm
            if code:
                return self._reject(cmd, code)
        order_type = cmd.order_type
        if (order_type is not LIMIT or cmd.tif is not ROD) and (
                not order_type_allowed(listing.instrument, session, phase, order_type, cmd.tif)
                or (listing.paused and session is REGULAR)):
            return self._reject(cmd, Code.MARKET_ORDER_NOT_ALLOWED if order_type is MARKET
                                else Code.ORDER_TYPE_NOT_ALLOWED)
        book = listing.books.get(session)
        if book is None:
            return self._reject(cmd, Code.NO_CLOSING_PRICE if session is FIXED_PRICE
                                else Code.SESSION_CLOSED)
        if order_type is MARKET:
            level = book.top if cmd.side is BUY else 0
        else:
            level = book.index.get(cmd.price, -1)
            if level < 0:
                return self._reject(cmd, _price_error(listing, session, cmd.price))
        known = self._cl_ord_ids.get(cmd.broker)
        if known is None:
            known = self._cl_ord_ids[cmd.broker] = {}
        elif cmd.cl_ord_id in known:
            return self._reject(cmd, Code.DUPLICATE_CLIENT_ORDER_ID)
        now = self.now
        order = Order(next(self._order_ids), cmd.broker, cmd.account, cmd.cl_ord_id, cmd.symbol,
                      session, cmd.side, order_type, cmd.tif, cmd.price, qty, qty)
        known[cmd.cl_ord_id] = order.order_id
        self.orders[order.order_id] = order
        self._emit(Accepted(next(self._seqs), now, order.order_id, cmd.broker, cmd.account,
                            cmd.cl_ord_id, cmd.symbol, session, cmd.side, order_type, cmd.tif,
                            cmd.price, qty))
        if phase is not CONTINUOUS or not listing.continuous:
            book.rest(order, level, now)
        elif order.tif is ROD and order_type is LIMIT and not self._stabilizers:
            book.match(order, level, now)  # inlined _trade_or_rest for the common case
            if order.leaves:
                book.rest(order, level, now)
        else:
            self._trade_or_rest(listing, book, order, level, now)
        if book.tape is not None:
            self._book_changed(listing, book)
        return None

    def _trade_or_rest(self, listing: Listing, book: Book, order: Order, level: int,
                       now: int) -> None:
        """Continuous matching of an incoming order, then ROD rests and IOC/FOK ends; with
        price stabilisation, a fill outside the band pauses the symbol instead."""
        tif = order.tif
        stabilizer = self._stabilizers.get(listing.instrument.symbol)
        if stabilizer is not None:
            book.band_low, book.band_high = stabilizer.band(now)
        if tif is FOK:
            reach = (min(level, book.band_high) if order.side is BUY
                     else max(level, book.band_low))
            if not book.available(order.side, reach, order.leaves):
                self._end(order, Code.FOK_NOT_FILLABLE, Cancelled)
                return
        book.match(order, level, now)
        if book.halted:
            book.halted = False
            self._pause(listing, book, now + PAUSE_MS, Wakeup.RESUME)
        if not order.leaves:
            return
        if tif is not ROD:
            self._end(order, Code.IOC_REMAINDER_CANCELLED, Cancelled)
        elif listing.paused and order.order_type is MARKET:
            self._end(order, Code.MARKET_ORDER_DELETED_IN_PAUSE, Cancelled)
        else:
            book.rest(order, level, now)

    def cancel(self, cmd: CancelOrder) -> None:
        order = self._find(cmd.broker, cmd.order_id, cmd.orig_cl_ord_id)
        code = _request_error(order, self.phases)
        known = self._cl_ord_ids.get(cmd.broker, {})
        if not code and cmd.cl_ord_id and cmd.cl_ord_id in known:
            code = Code.DUPLICATE_CLIENT_ORDER_ID  # a request's ClOrdID is unique like an order's
        if order is None or code:
            return self._reject_request(cmd, order, "cancel", code)
        if cmd.cl_ord_id:
            known[cmd.cl_ord_id] = order.order_id
        book = self.listings[order.symbol].books[order.session]
        qty = book.remove(order)
        self._emit(Cancelled(next(self._seqs), self.now, order.order_id, order.broker,
                             order.account, order.cl_ord_id, order.symbol, qty,
                             Code.CANCELLED_ON_REQUEST))
        if book.tape is not None:
            self._book_changed(self.listings[order.symbol], book)
        return None

    def amend(self, cmd: AmendOrder) -> None:
        order = self._find(cmd.broker, cmd.order_id, cmd.orig_cl_ord_id)
        code = _request_error(order, self.phases) or _amend_shape_error(cmd)
        if order is None or code:
            return self._reject_request(cmd, order, "amend", code)
        listing = self.listings[order.symbol]
        book = listing.books[order.session]
        level = -1
        if cmd.qty is not None:
            code = _reduction_error(order, cmd.qty)
        elif order.order_type is MARKET:
            code = Code.AMEND_MARKET_ORDER_PRICE
        elif cmd.price == order.price:
            code = Code.AMEND_NOTHING
        else:
            level = book.index.get(cmd.price or 0, -1)
            if level < 0:
                code = _price_error(listing, order.session, cmd.price or 0)
        known = self._cl_ord_ids[order.broker]
        if not code and cmd.cl_ord_id and cmd.cl_ord_id in known:
            code = Code.DUPLICATE_CLIENT_ORDER_ID
        if code:
            return self._reject_request(cmd, order, "amend", code)
        orig_cl_ord_id = order.cl_ord_id
        if cmd.cl_ord_id:
            known[cmd.cl_ord_id] = order.order_id
        if cmd.qty is not None:
            book.reduce(order, cmd.qty - order.cum_qty)
            order.cl_ord_id = cmd.cl_ord_id or orig_cl_ord_id
            self._emit_amended(order, orig_cl_ord_id)
        else:
            self._reprice(listing, book, order, level, cmd.cl_ord_id or orig_cl_ord_id,
                          orig_cl_ord_id)
        if book.tape is not None:
            self._book_changed(listing, book)
        return None

    def _reprice(self, listing: Listing, book: Book, old: Order, level: int, cl_ord_id: str,
                 orig_cl_ord_id: str) -> None:
        """A price change is a new place in the queue: the old working copy leaves the book and
        a new one enters at the new price (trading at once if it now crosses)."""
        leaves = book.remove(old)
        new = Order(old.order_id, old.broker, old.account, cl_ord_id, old.symbol, old.session,
                    old.side, old.order_type, old.tif, book.prices[level], old.qty, leaves,
                    old.cum_qty)
        self.orders[new.order_id] = new
        self._emit_amended(new, orig_cl_ord_id)
        if self.phases[new.session] is CONTINUOUS and listing.continuous:
            self._trade_or_rest(listing, book, new, level, self.now)
        else:
            book.rest(new, level, self.now)

    def _emit_amended(self, order: Order, orig_cl_ord_id: str) -> None:
        self._emit(Amended(next(self._seqs), self.now, order.order_id, order.broker,
                           order.account, order.cl_ord_id, order.symbol, orig_cl_ord_id,
                           order.price, order.qty, order.leaves))

    def _find(self, broker: str, order_id: int, cl_ord_id: str) -> Order | None:
        """Another broker's order is as unknown as a missing one: no existence leaks."""
        if not order_id:
            order_id = self._cl_ord_ids.get(broker, {}).get(cl_ord_id, 0)
        order = self.orders.get(order_id)
        return order if order is not None and order.broker == broker else None

    def _reject(self, cmd: NewOrder, code: Code) -> None:
        self._emit(Rejected(next(self._seqs), self.now, 0, cmd.broker, cmd.account,
                            cmd.cl_ord_id, cmd.symbol, code))

    def _reject_request(self, cmd: CancelOrder | AmendOrder, order: Order | None, request: str,
                        code: Code) -> None:
        self._emit(RequestRejected(
            next(self._seqs), self.now, order.order_id if order else cmd.order_id, cmd.broker,
            order.account if order else "", cmd.cl_ord_id,
            order.cl_ord_id if order else cmd.orig_cl_ord_id, request, code))

    def _end(self, order: Order, code: Code, kind: type[Cancelled] | type[Expired]) -> None:
        """An order's open quantity leaves for good (it may or may not be resting)."""
        qty = order.leaves
        if order.level >= 0:
            self.listings[order.symbol].books[order.session].remove(order)
        order.leaves = 0
        self._emit(kind(next(self._seqs), self.now, order.order_id, order.broker, order.account,
                        order.cl_ord_id, order.symbol, qty, code))

    # -- queries and market data -------------------------------------------------------------

    def order(self, broker: str, order_id: int = 0, cl_ord_id: str = "") -> Order | None:
        """A broker's view of one of its orders (for status requests)."""
        return self._find(broker, order_id, cl_ord_id)

    def book(self, symbol: str, session: Session = REGULAR) -> Book | None:
        listing = self.listings.get(symbol)
        return listing.books.get(session) if listing else None

    def indicative(self, symbol: str, session: Session = REGULAR) -> AuctionResult | None:
        """The trial auction price and volume if the call auction ran now."""
        listing = self.listings[symbol]
        book = listing.books.get(session)
        return auction_price(book, listing.anchor(book)) if book else None

    def subscribe(self, symbol: str, callback: Subscriber, session: Session = REGULAR) -> int:
        """Quotes and trades for one symbol; the current quote is sent at once (join mid-day)."""
        listing = self.listings.get(symbol)
        if listing is None:
            raise KeyError(f"unknown symbol {symbol!r}")
        token = self.market_data.add(symbol, session, callback)
        book = listing.books.get(session)
        if book is not None:
            if book.tape is None:
                book.tape = []
            self._publish(listing, book)
        return token

    def unsubscribe(self, token: int) -> None:
        key = self.market_data.remove(token)
        if key is not None:
            listing = self.listings[key[0]]
            book = listing.books.get(key[1])
            if book is not None and not self._records_trades(listing, book):
                book.tape = None

    def _records_trades(self, listing: Listing, book: Book) -> bool:
        """Stabilised board-lot books keep a tape for the VWAP even when nobody watches."""
        return book.session is REGULAR and listing.instrument.symbol in self._stabilizers

    def _book_changed(self, listing: Listing, book: Book) -> None:
        """After anything touched a book with a tape: feed the stabiliser, publish if watched."""
        stabilizer = self._stabilizers.get(listing.instrument.symbol)
        if stabilizer is not None and book.session is REGULAR and book.tape:
            stabilizer.record(self.now, book.tape)
        if self.market_data.is_watched(listing.instrument.symbol, book.session):
            self._publish(listing, book)
        elif book.tape:
            book.tape.clear()

    def _publish(self, listing: Listing, book: Book) -> None:
        trades = book.tape or []
        book.tape = []
        bids, asks = book.depth(DEPTH)
        indicative = None
        if self.phases[book.session] is not CLOSED and (
                self.phases[book.session] is not CONTINUOUS or not listing.continuous):
            indicative = auction_price(book, listing.anchor(book))
        ind_price = book.prices[indicative.level] if indicative else 0
        ind_volume = indicative.volume if indicative else 0
        self.market_data.publish(listing.instrument.symbol, book.session, self.now, trades,
                                 (bids, asks, book.last_price, book.volume, ind_price,
                                  ind_volume))

    # -- the clock and the day's timeline -----------------------------------------------------

    def advance_to(self, time: int) -> int:
        """Move the simulated clock forward, running every scheduled action and per-symbol
        wake-up (price stabilisation) due by ``time``, earliest first; returns how many ran
        (a caller that journals time steps only records those)."""
        timeline = self._timeline
        wakeups = self._wakeups
        ran = 0
        while True:
            action_at = (timeline[self._next_action].time if self._next_action < len(timeline)
                         else _NEVER)
            wakeup_at = wakeups[0][0] if wakeups else _NEVER
            if min(action_at, wakeup_at) > time:
                break
            ran += 1
            if wakeup_at < action_at:
                _, kind, symbol = heapq.heappop(wakeups)
                self.now = max(self.now, wakeup_at)
                self._wake(Wakeup(kind), self.listings[symbol])
                continue
            scheduled = timeline[self._next_action]
            self._next_action += 1
            self.now = max(self.now, scheduled.time)
            self._actions[scheduled.action](scheduled.arg)
            if self.on_action is not None:
                self.on_action(scheduled)
        self.now = max(self.now, time)
        return ran

    # -- price stabilisation ---------------------------------------------------------------------

    def _pause(self, listing: Listing, book: Book, until: int, wakeup: Wakeup) -> None:
        """Match this symbol by call auction until ``until``; resting market orders go."""
        listing.paused = True
        listing.continuous = False
        heapq.heappush(self._wakeups, (until, wakeup, listing.instrument.symbol))
        for queue in (book.bid_levels[book.top], book.ask_levels[0]):
            for order in [o for o in queue if o.leaves and o.order_type is MARKET]:
                self._end(order, Code.MARKET_ORDER_DELETED_IN_PAUSE, Cancelled)

    def _wake(self, wakeup: Wakeup, listing: Listing) -> None:
        """The end of a pause or of a delay: the auction that was held back runs now."""
        listing.paused = False
        if wakeup is Wakeup.CLOSE:
            self._close_listing(listing)
            self._expire_book(listing, listing.books[REGULAR])
            return
        if self.phases[REGULAR] is CONTINUOUS:
            self._auction(listing, REGULAR)
            listing.continuous = listing.instrument.disposition is Disposition.NONE

    def _beyond_band(self, listing: Listing, reference: int) -> bool:
        """Whether the call auction would trade more than 3.5% from ``reference``."""
        book = listing.books[REGULAR]
        result = auction_price(book, listing.anchor(book))
        return result is not None and outside_band(book.prices, result.level, reference)

    def _open_book(self, listing: Listing, session: Session, prices: list[int] | None = None
                   ) -> Book:
        book = Book(listing.instrument.symbol, session, prices or listing.prices, self._seqs,
                    self._match_ids, self._emit)
        if self.market_data.is_watched(listing.instrument.symbol, session) or (
                self._records_trades(listing, book)):
            book.tape = []
        listing.books[session] = book
        return book

    def _auction(self, listing: Listing, session: Session, rng: Random | None = None) -> None:
        book = listing.books.get(session)
        if book is not None and book.is_crossed():
            uncross(book, listing.anchor(book), self.now, rng)
        if book is not None and book.tape is not None:
            self._book_changed(listing, book)

    def _pre_open(self, _: int) -> None:
        self.phases[REGULAR] = Phase.CALL

    def _open(self, _: int) -> None:
        for listing in self.listings.values():
            if (listing.instrument.symbol in self._stabilizers
                    and self._beyond_band(listing, listing.reference)):
                self._pause(listing, listing.books[REGULAR], self.now + PAUSE_MS, Wakeup.RESUME)
                continue
            self._auction(listing, REGULAR)
        self.phases[REGULAR] = CONTINUOUS
        self.phases[ODD_LOT] = Phase.CALL
        for listing in self.listings.values():
            self._open_book(listing, ODD_LOT)

    def _disposition_auction(self, interval_s: int) -> None:
        for listing in self.listings.values():
            if listing.instrument.disposition.matching_interval_s == interval_s:
                self._auction(listing, REGULAR)

    def _closing_call(self, _: int) -> None:
        self.phases[REGULAR] = Phase.CALL
        for listing in self.listings.values():
            book = listing.books[REGULAR]
            for queue in (book.bid_levels[book.top], book.ask_levels[0]):
                doomed = [o for o in queue if o.leaves and o.order_type is MARKET]
                for order in doomed:
                    self._end(order, Code.MARKET_ORDER_DELETED_AT_CLOSING_CALL, Cancelled)
            if book.tape is not None:  # watchers must see the deleted orders leave the quote
                self._publish(listing, book)

    def _closing_auction(self, _: int) -> None:
        for symbol, listing in self.listings.items():
            stabilizer = self._stabilizers.get(symbol)
            if stabilizer is not None and self._beyond_band(listing,
                                                            stabilizer.reference(self.now)):
                listing.close_delayed = True
                heapq.heappush(self._wakeups, (self.now + PAUSE_MS, Wakeup.CLOSE, symbol))
                continue
            self._close_listing(listing)

    def _close_listing(self, listing: Listing) -> None:
        self._auction(listing, REGULAR)
        book = listing.books[REGULAR]
        listing.close = book.last_price
        bids, asks = book.depth(1)
        listing.final_quote = (bids[0][0] if bids else 0, asks[0][0] if asks else 0)

    def _odd_lot_auction(self, _: int) -> None:
        rng = None if self._odd_lot_matched else self._rng
        for listing in self.listings.values():
            self._auction(listing, ODD_LOT, rng)
        self._odd_lot_matched = True

    def _close(self, _: int) -> None:
        self._expire(REGULAR)
        self._expire(ODD_LOT)

    def _after_hours_odd_lot_open(self, _: int) -> None:
        self.phases[AFTER_HOURS_ODD_LOT] = Phase.CALL
        for listing in self.listings.values():
            self._open_book(listing, AFTER_HOURS_ODD_LOT)

    def _fixed_price_open(self, _: int) -> None:
        self.phases[FIXED_PRICE] = Phase.CALL
        for listing in self.listings.values():
            if listing.close:
                self._open_book(listing, FIXED_PRICE, [listing.close])

    def _end_of_day(self, _: int) -> None:
        for listing in self.listings.values():
            self._auction(listing, FIXED_PRICE, self._rng)
            self._auction(listing, AFTER_HOURS_ODD_LOT, self._rng)
        self._expire(FIXED_PRICE)
        self._expire(AFTER_HOURS_ODD_LOT)

    def _expire(self, session: Session) -> None:
        self.phases[session] = CLOSED
        for listing in self.listings.values():
            book = listing.books.get(session)
            if book is not None and not (session is REGULAR and listing.close_delayed):
                self._expire_book(listing, book)

    def _expire_book(self, listing: Listing, book: Book) -> None:
        for order in list(book.resting()):
            self._end(order, Code.EXPIRED_END_OF_SESSION, Expired)
        if book.tape is not None:
            self._book_changed(listing, book)


def _price_error(listing: Listing, session: Session, price: int) -> Code:
    """Why a limit price is not on the book's ladder."""
    if session is FIXED_PRICE and price > 0:
        return Code.PRICE_NOT_CLOSING_PRICE
    return price_error(price, listing.limit_down, listing.limit_up,
                       listing.instrument.kind) or Code.PRICE_NOT_ON_TICK


def _request_error(order: Order | None, phases: dict[Session, Phase]) -> Code:
    if order is None:
        return Code.UNKNOWN_ORDER
    if order.leaves == 0:
        return Code.ORDER_ALREADY_DONE
    if phases[order.session] is CLOSED:
        return Code.SESSION_CLOSED
    return Code.OK


def _amend_shape_error(cmd: AmendOrder) -> Code:
    if cmd.qty is not None and cmd.price is not None:
        return Code.AMEND_PRICE_AND_QUANTITY
    if cmd.qty is None and cmd.price is None:
        return Code.AMEND_NOTHING
    return Code.OK


def _reduction_error(order: Order, qty: int) -> Code:
    if qty >= order.qty:
        return Code.AMEND_QUANTITY_NOT_REDUCED
    if qty <= order.cum_qty:
        return Code.AMEND_BELOW_FILLED
    if order.session not in ODD_LOT_SESSIONS and qty % BOARD_LOT:
        return Code.NOT_BOARD_LOTS
    return Code.OK
