"""The back office's books and the one function that changes them: ``Ledger.apply``.

Like the core, apply reads no clock and does no I/O, so the books are a pure function of the
commands in order (see ``store`` for the journal). Booking is trade-date accounting: each
fill is booked the moment it arrives, its position checks run against what has been traded so
far, and its movements are added to its settlement date's ``Day``; ``Settle`` moves a Day.
Each account keeps its own positions and days (``AccountBooks``), so a fill touches one
account's small dictionaries rather than platform-wide ones.

Nothing is dropped: a fill that cannot be booked (unknown account or symbol, another broker's
account, holdings that would go negative, a settled trade date, an exec ID reused with other
terms) is held in the exceptions queue with its code, for the broker's operator. A fill
delivered again with the same terms changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

import msgspec

from brokercloud.backoffice import commands as b
from brokercloud.backoffice.accounts import FREE, OWED, PLEDGED, AccountBooks, AccountDay
from brokercloud.backoffice.booking import NOTHING_RELEASED, Booking, Release, book
from brokercloud.backoffice.cash import CashKind, CashMove
from brokercloud.backoffice.margin import (
    TOP_UP_DAYS,
    Call,
    CallState,
    DisposalOrder,
    MarginCall,
    disposal_orders,
    exposure,
    next_call_state,
    ratio_bp,
    shortfall,
    trigger_for,
)
from brokercloud.backoffice.nets import NetAmount, NetFeed
from brokercloud.backoffice.positions import Lot, cover_short, open_shares, repay_financing
from brokercloud.backoffice.settlement import Balances, Day, SettlementReport, settle_day
from brokercloud.codes import Code
from brokercloud.core.commands import Credit
from brokercloud.market.calendar import TWSE_CALENDAR, TradingCalendar
from brokercloud.market.instruments import InstrumentKind
from brokercloud.market.lots import BOARD_LOT
from brokercloud.market.orders import Side

log = logging.getLogger("brokercloud.backoffice")

#: A booking's key: ``booking_key(order_id, exec_id)``. One string, not an (order_id, exec_id)
#: tuple: a day of fills would be a day of tuples for the cyclic GC to walk.
Key = str
_BUY, _SELL = Side.BUY, Side.SELL
_CASH, _MARGIN, _SHORT = Credit.CASH, Credit.MARGIN, Credit.SHORT
_OK = Code.OK  # enum members read through the class cost ~100 ns; this is read per fill


def booking_key(order_id: str, exec_id: str) -> Key:
    """The core's order IDs (date and number) hold no control character: the first unit
    separator ends the order ID, whatever the exchange's execution ID holds."""
    return f"{order_id}\x1f{exec_id}"


class ExceptionRecord(msgspec.Struct, frozen=True):
    """Something held for the operator instead of booked, with why."""

    broker: str
    account: str
    order_id: str
    exec_id: str
    code: Code
    detail: str = ""


class Ledger:
    """Every broker's books in the back office; changed only by ``apply``, one code back."""

    def __init__(self, calendar: TradingCalendar = TWSE_CALENDAR) -> None:
        self.calendar = calendar
        self.brokers: dict[str, b.RegisterBroker] = {}
        self.accounts: dict[str, AccountBooks] = {}
        self.kinds: dict[str, InstrumentKind] = {}
        self.bookings: dict[Key, Booking] = {}
        self.days: dict[date, Day] = {}  # by settlement date, settled ones too
        self.settled: dict[date, SettlementReport] = {}
        self.last_settled: date | None = None  # dates settle in order, so nothing before it
        self.exceptions: list[ExceptionRecord] = []
        self.books = Balances()
        self.prices: dict[str, int] = {}  # last marked price per symbol
        self.priced_on: date | None = None
        self.margin_calls: list[MarginCall] = []
        self.disposals: list[DisposalOrder] = []
        self.cash_moves: list[CashMove] = []  # deposits and top-ups, for statements
        #: (account, settlement date) of each default case closed -> the penalty paid
        self.closed_defaults: dict[tuple[str, date], int] = {}
        self.feed = NetFeed()
        self._settle_dates: dict[date, date | None] = {}
        self._handlers = self._make_handlers()

    def __getstate__(self) -> dict[str, object]:
        """Snapshots keep the books, not the dispatch table or the listeners (whoever listens
        subscribes again after a restart)."""
        state = self.__dict__.copy()
        del state["_handlers"], state["feed"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        state.setdefault("cash_moves", [])  # a snapshot from before they were kept
        state.setdefault("closed_defaults", {})
        self.__dict__.update(state)
        self.feed = NetFeed()
        self._handlers = self._make_handlers()

    def _make_handlers(self) -> dict[type, Callable[[b.BoCmd], Code]]:
        return {
            b.RegisterBroker: self._register_broker, b.RegisterAccount: self._register_account,
            b.RegisterSymbol: self._register_symbol, b.SetHolding: self._set_holding,
            b.Deposit: self._deposit, b.BookFill: self._book_fill,
            b.HoldException: self._hold_exception, b.MarkPrices: self._mark_prices,
            b.TopUp: self._top_up, b.Settle: self._settle, b.RepayCash: self._repay_cash,
            b.ReturnShares: self._return_shares, b.CloseDefault: self._close_default,
        }

    def apply(self, command: b.BoCmd) -> Code:
        return self._handlers[type(command)](command)

    def booking(self, order_id: str, exec_id: str) -> Booking | None:
        return self.bookings.get(booking_key(order_id, exec_id))

    def net_amount(self, account: str, settle_date: date) -> NetAmount | None:
        books = self.accounts.get(account)
        part = books.days.get(settle_date) if books else None
        if books is None or part is None:
            return None
        return NetAmount(books.broker, account, self.days[settle_date].trade_date, settle_date,
                         part.receivable, part.payable, part.net, part.fills)

    def settlement_date(self, trade_date: date) -> date | None:
        """T+2 by the calendar, cached per day; None for a day without trading."""
        if trade_date not in self._settle_dates:
            self._settle_dates[trade_date] = (
                self.calendar.settlement_date(trade_date)
                if self.calendar.is_trading_day(trade_date) else None)
        return self._settle_dates[trade_date]

    # -- reference data ------------------------------------------------------------------------

    def _register_broker(self, cmd: b.RegisterBroker) -> Code:
        if min(cmd.financing_rate_ppm, cmd.short_fee_ppm, cmd.odd_lot_min_fee,
               cmd.default_penalty_bp) < 0 or cmd.default_penalty_bp > b.MAX_DEFAULT_PENALTY_BP:
            return Code.INVALID_REFERENCE_DATA
        self.brokers[cmd.broker] = cmd
        return Code.OK

    def _register_account(self, cmd: b.RegisterAccount) -> Code:
        terms = self.brokers.get(cmd.broker)
        if terms is None:
            return Code.UNKNOWN_BROKER
        known = self.accounts.get(cmd.account)
        if known is not None:
            if known.broker != cmd.broker:
                return Code.ACCOUNT_OF_OTHER_BROKER
            known.set_terms(cmd, terms.odd_lot_min_fee)
            return Code.OK
        self.accounts[cmd.account] = AccountBooks(cmd, terms.odd_lot_min_fee)
        return Code.OK

    def _register_symbol(self, cmd: b.RegisterSymbol) -> Code:
        self.kinds[cmd.symbol] = cmd.kind
        return Code.OK

    def _set_holding(self, cmd: b.SetHolding) -> Code:
        """The depository's count replaces ours; what was traded since keeps counting."""
        books = self.accounts.get(cmd.account)
        if books is None:
            return Code.UNKNOWN_ACCOUNT
        if not _whole(cmd.shares) or cmd.shares < 0:
            return Code.INVALID_REFERENCE_DATA
        change = cmd.shares - books.depository.get(cmd.symbol, 0)
        books.depository[cmd.symbol] = cmd.shares
        books.available[cmd.symbol] = books.available.get(cmd.symbol, 0) + change
        return Code.OK

    def _deposit(self, cmd: b.Deposit) -> Code:
        books = self.accounts.get(cmd.account)
        if books is None:
            return Code.UNKNOWN_ACCOUNT
        if not _whole(cmd.amount) or cmd.amount <= 0:
            return Code.INVALID_REFERENCE_DATA
        books.bank += cmd.amount
        self.cash_moves.append(CashMove(books.broker, cmd.account, cmd.on, CashKind.DEPOSIT,
                                        cmd.amount))
        return Code.OK

    # -- booking ---------------------------------------------------------------------------------

    def _hold(self, cmd: b.BookFill, code: Code, detail: str = "") -> Code:
        log.warning("fill %s/%s of %s held: %s %s", cmd.order_id, cmd.exec_id, cmd.broker,
                    code.name, detail)
        self.exceptions.append(ExceptionRecord(cmd.broker, cmd.account, cmd.order_id,
                                               cmd.exec_id, code, detail))
        return code

    def _hold_exception(self, cmd: b.HoldException) -> Code:
        self.exceptions.append(ExceptionRecord(cmd.broker, "", cmd.order_id, "", cmd.code,
                                               cmd.detail))
        return Code.OK

    def _book_fill(self, cmd: b.BookFill) -> Code:
        key = booking_key(cmd.order_id, cmd.exec_id)
        prior = self.bookings.get(key)
        if prior is not None:
            if (prior.account, prior.symbol, prior.side, prior.credit, prior.price, prior.qty,
                    prior.trade_date) == (cmd.account, cmd.symbol, cmd.side, cmd.credit,
                                          cmd.price, cmd.qty, cmd.trade_date):
                return Code.OK  # delivered again: booked once
            return self._hold(cmd, Code.EXEC_ID_CONFLICT)
        books = self.accounts.get(cmd.account)
        kind = self.kinds.get(cmd.symbol)
        side, credit = cmd.side, cmd.credit
        price, qty = cmd.price, cmd.qty
        if (books is None or kind is None or books.broker != cmd.broker
                or type(price) is not int or type(qty) is not int or price <= 0 or qty <= 0
                or (side is not _BUY and side is not _SELL)
                or (credit is not _CASH and credit is not _MARGIN and credit is not _SHORT)
                or type(cmd.trade_date) is not date):
            return self._hold(cmd, _fill_error(cmd, books, kind))
        settle_date = self._settle_dates.get(cmd.trade_date) or self.settlement_date(
            cmd.trade_date)
        if settle_date is None:
            return self._hold(cmd, Code.NOT_A_TRADING_DAY)
        if self.last_settled is not None and settle_date <= self.last_settled:
            return self._hold(cmd, Code.TRADE_DATE_SETTLED)
        part = books.days.get(settle_date)
        symbol = cmd.symbol
        day_trade = 0
        release = NOTHING_RELEASED
        if credit is _CASH and side is _SELL:
            available = books.available.get(symbol, 0)
            if available < qty:
                return self._hold(cmd, Code.HOLDINGS_WOULD_GO_NEGATIVE,
                                  f"{available} shares available, {qty} sold")
            if books.day_trading and part is not None:
                day_trade = _match_day_trade(part, symbol, qty)
        elif (credit is _MARGIN and side is _SELL) or (credit is _SHORT and side is _BUY):
            closed = self._close(cmd, books, settle_date)
            if isinstance(closed, Code):
                return self._hold(cmd, closed)
            release = closed
        if part is None:
            day = self.days.get(settle_date)
            if day is None:
                day = self.days[settle_date] = Day(cmd.trade_date, settle_date)
            part = books.days[settle_date] = day.accounts[cmd.account] = AccountDay()
        fees = books.fees if qty % BOARD_LOT == 0 else books.odd_lot_fees
        booking = book(cmd, settle_date, fees, kind, self.brokers[cmd.broker], day_trade,
                       release)
        self.bookings[key] = booking
        _record(booking, books, part)
        feed = self.feed
        if feed.everyone or (feed.listeners and cmd.account in feed.listeners):
            feed.publish(NetAmount(cmd.broker, cmd.account, cmd.trade_date, settle_date,
                                   part.receivable, part.payable, part.net, part.fills))
        return _OK

    def _close(self, cmd: b.BookFill, books: AccountBooks, settle_date: date) -> Release | Code:
        """A margin sell repays financing lots, a short cover releases short lots."""
        lots = (books.financed if cmd.credit is _MARGIN else books.shorts).get(cmd.symbol, [])
        if open_shares(lots) < cmd.qty:
            return Code.MARGIN_POSITION_TOO_SMALL
        if cmd.credit is _MARGIN:
            return repay_financing(lots, cmd.qty, settle_date,
                                   self.brokers[cmd.broker].financing_rate_ppm)
        return cover_short(lots, cmd.qty)

    # -- margin accounts -------------------------------------------------------------------------

    def _mark_prices(self, cmd: b.MarkPrices) -> Code:
        if any(not _whole(price) or price <= 0 for price in cmd.prices.values()):
            return Code.INVALID_REFERENCE_DATA
        self.prices.update(cmd.prices)
        self.priced_on = cmd.date
        for books in self.accounts.values():
            if books.financed or books.shorts or books.call is not None:
                self._evaluate(books, cmd.date)
        return Code.OK

    def _top_up(self, cmd: b.TopUp) -> Code:
        books = self.accounts.get(cmd.account)
        if books is None:
            return Code.UNKNOWN_ACCOUNT
        if not _whole(cmd.amount) or cmd.amount <= 0:
            return Code.INVALID_REFERENCE_DATA
        if cmd.amount > books.bank:
            return Code.TOP_UP_EXCEEDS_BANK_BALANCE
        books.bank -= cmd.amount
        books.collateral += cmd.amount
        self.cash_moves.append(CashMove(books.broker, cmd.account, cmd.on, CashKind.TOP_UP,
                                        -cmd.amount))
        self.books.broker_cash[books.broker] = self.books.broker_cash.get(
            books.broker, 0) + cmd.amount  # the broker holds it for the investor
        if books.call is not None and self.priced_on is not None:
            self._evaluate(books, self.priced_on)
        return Code.OK

    def _repay_cash(self, cmd: b.RepayCash) -> Code:
        """Loan plus interest from the bank account to the broker, oldest lots first; the
        shares must have settled into the margin account (an unsettled buy's loan has not been
        paid out yet)."""
        books = self.accounts.get(cmd.account)
        if books is None:
            return Code.UNKNOWN_ACCOUNT
        if not _whole(cmd.qty) or cmd.qty <= 0:
            return Code.INVALID_REFERENCE_DATA
        lots = books.financed.get(cmd.symbol, [])
        if open_shares(lots) < cmd.qty or books.pledged.get(cmd.symbol, 0) < cmd.qty:
            return Code.MARGIN_POSITION_TOO_SMALL
        trial = [Lot(lot.shares, lot.first, lot.second, lot.start) for lot in lots]
        rate = self.brokers[books.broker].financing_rate_ppm
        cost = repay_financing(trial, cmd.qty, cmd.on, rate)
        if cost.loan + cost.interest > books.bank:
            return Code.REPAYMENT_EXCEEDS_BANK_BALANCE
        repay_financing(lots, cmd.qty, cmd.on, rate)
        if not lots:
            del books.financed[cmd.symbol]
        paid = cost.loan + cost.interest
        books.bank -= paid
        books.loans -= cost.loan
        books.pledged[cmd.symbol] -= cmd.qty
        books.depository[cmd.symbol] = books.depository.get(cmd.symbol, 0) + cmd.qty
        books.available[cmd.symbol] = books.available.get(cmd.symbol, 0) + cmd.qty
        self.books.broker_cash[books.broker] = self.books.broker_cash.get(
            books.broker, 0) + paid
        self.cash_moves.append(CashMove(books.broker, cmd.account, cmd.on, CashKind.REPAYMENT,
                                        -paid))
        if books.call is not None and self.priced_on is not None:
            self._evaluate(books, self.priced_on)
        return Code.OK

    def _return_shares(self, cmd: b.ReturnShares) -> Code:
        """Settled shares from the depository back to the broker that lent them, oldest short
        lots first; the broker pays back the margin and proceeds it held for them."""
        books = self.accounts.get(cmd.account)
        if books is None:
            return Code.UNKNOWN_ACCOUNT
        if not _whole(cmd.qty) or cmd.qty <= 0:
            return Code.INVALID_REFERENCE_DATA
        symbol, qty = cmd.symbol, cmd.qty
        lots = books.shorts.get(symbol, [])
        if open_shares(lots) < qty or books.owed.get(symbol, 0) < qty:
            return Code.MARGIN_POSITION_TOO_SMALL
        if min(books.depository.get(symbol, 0), books.available.get(symbol, 0)) < qty:
            return Code.HOLDINGS_WOULD_GO_NEGATIVE
        release = cover_short(lots, qty)
        if not lots:
            del books.shorts[symbol]
        back = release.margin + release.collateral
        books.depository[symbol] -= qty
        books.available[symbol] -= qty
        books.owed[symbol] -= qty
        books.held -= back
        books.bank += back
        broker_cash, broker_shares = self.books.broker_cash, self.books.broker_shares
        broker_cash[books.broker] = broker_cash.get(books.broker, 0) - back
        _move_broker_shares(broker_shares, books.broker, symbol, qty)
        self.cash_moves.append(CashMove(books.broker, cmd.account, cmd.on,
                                        CashKind.SHORT_RETURNED, back))
        if books.call is not None and self.priced_on is not None:
            self._evaluate(books, self.priced_on)
        return Code.OK

    def _close_default(self, cmd: b.CloseDefault) -> Code:
        """The broker gets back what it paid for the defaulter, with its penalty, and gives
        back the shares it withheld."""
        books = self.accounts.get(cmd.account)
        report = self.settled.get(cmd.settle_date)
        record = next((r for r in report.defaults if r.account == cmd.account),
                      None) if report is not None and books is not None else None
        if books is None or record is None:
            return Code.NO_SUCH_DEFAULT
        if (cmd.account, cmd.settle_date) in self.closed_defaults:
            return Code.DEFAULT_ALREADY_CLOSED
        penalty = record.owed * self.brokers[books.broker].default_penalty_bp // 10_000
        due = record.owed + penalty
        if due > books.bank:
            return Code.DEFAULT_PAYMENT_EXCEEDS_BANK_BALANCE
        books.bank -= due
        broker_cash, broker_shares = self.books.broker_cash, self.books.broker_shares
        broker_cash[books.broker] = broker_cash.get(books.broker, 0) + due
        for symbol, qty in record.withheld.items():
            _move_broker_shares(broker_shares, books.broker, symbol, -qty)
            books.depository[symbol] = books.depository.get(symbol, 0) + qty
            books.available[symbol] = books.available.get(symbol, 0) + qty
        self.closed_defaults[(cmd.account, cmd.settle_date)] = penalty
        self.cash_moves.append(CashMove(books.broker, cmd.account, cmd.on or cmd.settle_date,
                                        CashKind.DEFAULT_PAID, -due))
        return Code.OK

    def open_defaults(self, account: str) -> list[date]:
        """The settlement dates of the account's default cases still open, oldest first."""
        return [day for day, report in sorted(self.settled.items())
                if any(r.account == account for r in report.defaults)
                and (account, day) not in self.closed_defaults]

    def _evaluate(self, books: AccountBooks, today: date) -> None:
        """The account's ratio at the last prices, and what its call state makes of it."""
        amounts = exposure(books, self.prices)
        if amounts is None:
            return  # a position without a price yet: valued at the next marking
        collateral, owed = amounts
        ratio = ratio_bp(collateral, owed)
        call = books.call or Call()
        state = next_call_state(call.state, trigger_for(call, ratio, today))
        if state is CallState.CALLED and call.state is CallState.OK:
            call.call = MarginCall(books.broker, books.account, today, ratio or 0,
                                   shortfall(collateral, owed),
                                   self.calendar.add_trading_days(today, TOP_UP_DAYS))
            self.margin_calls.append(call.call)
        elif state is CallState.DISPOSAL and call.state is CallState.CALLED:
            self.disposals += disposal_orders(books, today)
        call.state = state
        books.call = None if state is CallState.OK else call

    # -- settlement ------------------------------------------------------------------------------

    def _settle(self, cmd: b.Settle) -> Code:
        if not self.calendar.is_settlement_day(cmd.date):
            return Code.NOT_A_SETTLEMENT_DAY
        if cmd.date in self.settled:
            return Code.ALREADY_SETTLED
        if (self.last_settled is not None and cmd.date < self.last_settled) or any(
                pending < cmd.date and pending not in self.settled for pending in self.days):
            return Code.SETTLEMENT_OUT_OF_ORDER
        day = self.days.get(cmd.date) or Day(cmd.date, cmd.date)
        self.settled[cmd.date] = settle_day(day, self.books, self.accounts)
        self.last_settled = cmd.date
        return Code.OK


def _move_broker_shares(shares: dict[tuple[str, str], int], broker: str, symbol: str,
                        qty: int) -> None:
    """A broker's shares of a symbol change by ``qty``; a zero balance leaves no entry, as
    settlement keeps them."""
    left = shares.get((broker, symbol), 0) + qty
    if left:
        shares[(broker, symbol)] = left
    else:
        shares.pop((broker, symbol), None)


def _whole(value: object) -> bool:
    """Money, prices and shares are integers: a float (or a bool) is refused, never rounded."""
    return type(value) is int


def _fill_error(cmd: b.BookFill, books: AccountBooks | None,
                kind: InstrumentKind | None) -> Code:
    """Why a fill cannot be booked at all."""
    if books is None:
        return Code.UNKNOWN_ACCOUNT
    if books.broker != cmd.broker:
        return Code.ACCOUNT_OF_OTHER_BROKER
    if kind is None:
        return Code.UNKNOWN_SYMBOL
    return Code.INVALID_FILL


def _match_day_trade(part: AccountDay, symbol: str, qty: int) -> int:
    """The part of a cash sell that closes shares bought for cash the same day (現股當沖,
    buy first: the core never lets an account sell shares it does not have)."""
    if not part.bought:
        return 0
    bought = part.bought.get(symbol, 0)
    matched = min(bought, qty)
    if matched:
        part.bought[symbol] = bought - matched
    return matched


def _record(booking: Booking, books: AccountBooks, part: AccountDay) -> None:
    """The fill's effect on the account's positions and on its settlement date."""
    symbol, qty, credit, net = booking.symbol, booking.qty, booking.credit, booking.net
    buy = booking.side is _BUY
    signed = qty if buy else -qty
    if net >= 0:
        part.receivable += net
    else:
        part.payable -= net
    part.fills += 1
    part.broker_cash += booking.broker_cash
    part.exchange_cash -= booking.exchange_cash
    moved = part.shares.get(symbol)
    if moved is None:
        moved = part.shares[symbol] = [0, 0, 0]
    if credit is _CASH:
        books.available[symbol] = books.available.get(symbol, 0) + signed
        moved[FREE] += signed
        if buy and books.day_trading:
            if part.bought is None:
                part.bought = {}
            part.bought[symbol] = part.bought.get(symbol, 0) + qty
    elif credit is _MARGIN:
        moved[PLEDGED] += signed
        part.loans += booking.loan if buy else -booking.loan
        if buy:
            books.financed.setdefault(symbol, []).append(
                Lot(qty, booking.loan, 0, booking.settle_date))
    else:
        moved[OWED] -= signed
        held = booking.margin + booking.collateral
        part.held += -held if buy else held
        if not buy:
            books.shorts.setdefault(symbol, []).append(
                Lot(qty, booking.margin, booking.collateral, booking.settle_date))
