"""The back office's books and the one function that changes them: ``Ledger.apply``.

Like the core, apply reads no clock and does no I/O, so the books are a pure function of the
commands in order (see ``store`` for the journal). Booking is trade-date accounting: each
fill is booked the moment it arrives, its position checks run against what has been traded so
far, and its movements are added to its settlement date's ``Day``; ``Settle`` moves a Day.

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
from brokercloud.backoffice.booking import NOTHING_RELEASED, Booking, Release, book
from brokercloud.backoffice.nets import NetAmount, NetFeed, Running
from brokercloud.backoffice.positions import Lot, cover_short, open_shares, repay_financing
from brokercloud.backoffice.settlement import Balances, Day, SettlementReport, settle_day
from brokercloud.codes import Code
from brokercloud.core.commands import Credit
from brokercloud.market.calendar import TWSE_CALENDAR, TradingCalendar
from brokercloud.market.instruments import InstrumentKind
from brokercloud.market.lots import BOARD_LOT
from brokercloud.market.orders import Side

log = logging.getLogger("brokercloud.backoffice")

Key = tuple[str, str]  # (order_id, exec_id)


class ExceptionRecord(msgspec.Struct, frozen=True):
    """Something held for the operator instead of booked, with why."""

    broker: str
    account: str
    order_id: str
    exec_id: str
    code: Code
    detail: str = ""


class AccountTerms:
    """An account's commission terms for board lots and for odd lots."""

    __slots__ = ("broker", "day_trading", "fees", "odd_lot_fees")

    def __init__(self, cmd: b.RegisterAccount, odd_lot_min_fee: int) -> None:
        self.broker = cmd.broker
        self.day_trading = cmd.day_trading
        self.fees = cmd.fees
        self.odd_lot_fees = msgspec.structs.replace(cmd.fees, min_fee=odd_lot_min_fee)


class Ledger:
    def __init__(self, calendar: TradingCalendar = TWSE_CALENDAR) -> None:
        self.calendar = calendar
        self.brokers: dict[str, b.RegisterBroker] = {}
        self.accounts: dict[str, AccountTerms] = {}
        self.kinds: dict[str, InstrumentKind] = {}
        self.bookings: dict[Key, Booking] = {}
        self.available: dict[tuple[str, str], int] = {}  # free shares, as traded so far
        self.financed: dict[tuple[str, str], list[Lot]] = {}
        self.shorts: dict[tuple[str, str], list[Lot]] = {}
        self.day_bought: dict[tuple[date, str, str], int] = {}  # cash buys not day-traded
        self.days: dict[date, Day] = {}  # by settlement date, settled ones too
        self.settled: dict[date, SettlementReport] = {}
        self.exceptions: list[ExceptionRecord] = []
        self.books = Balances()
        self.feed = NetFeed()
        self._settle_dates: dict[date, date | None] = {}
        self._handlers: dict[type, Callable[[b.BoCmd], Code]] = {
            b.RegisterBroker: self._register_broker, b.RegisterAccount: self._register_account,
            b.RegisterSymbol: self._register_symbol, b.SetHolding: self._set_holding,
            b.Deposit: self._deposit, b.BookFill: self._book_fill,
            b.HoldException: self._hold_exception, b.Settle: self._settle,
        }

    def apply(self, command: b.BoCmd) -> Code:
        return self._handlers[type(command)](command)

    def booking(self, order_id: str, exec_id: str) -> Booking | None:
        return self.bookings.get((order_id, exec_id))

    # -- reference data ------------------------------------------------------------------------

    def _register_broker(self, cmd: b.RegisterBroker) -> Code:
        if min(cmd.financing_rate_ppm, cmd.short_fee_ppm, cmd.odd_lot_min_fee) < 0:
            return Code.INVALID_REFERENCE_DATA
        self.brokers[cmd.broker] = cmd
        return Code.OK

    def _register_account(self, cmd: b.RegisterAccount) -> Code:
        terms = self.brokers.get(cmd.broker)
        if terms is None:
            return Code.UNKNOWN_BROKER
        known = self.accounts.get(cmd.account)
        if known is not None and known.broker != cmd.broker:
            return Code.ACCOUNT_OF_OTHER_BROKER
        self.accounts[cmd.account] = AccountTerms(cmd, terms.odd_lot_min_fee)
        return Code.OK

    def _register_symbol(self, cmd: b.RegisterSymbol) -> Code:
        self.kinds[cmd.symbol] = cmd.kind
        return Code.OK

    def _set_holding(self, cmd: b.SetHolding) -> Code:
        """The depository's count replaces ours; what was traded since keeps counting."""
        if cmd.account not in self.accounts:
            return Code.UNKNOWN_ACCOUNT
        if cmd.shares < 0:
            return Code.INVALID_REFERENCE_DATA
        position = (cmd.account, cmd.symbol)
        change = cmd.shares - self.books.depository.get(position, 0)
        self.books.depository[position] = cmd.shares
        self.available[position] = self.available.get(position, 0) + change
        return Code.OK

    def _deposit(self, cmd: b.Deposit) -> Code:
        if cmd.account not in self.accounts:
            return Code.UNKNOWN_ACCOUNT
        if cmd.amount <= 0:
            return Code.INVALID_REFERENCE_DATA
        self.books.bank[cmd.account] = self.books.bank.get(cmd.account, 0) + cmd.amount
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

    def settlement_date(self, trade_date: date) -> date | None:
        """T+2 by the calendar, cached per day; None for a day without trading."""
        if trade_date not in self._settle_dates:
            self._settle_dates[trade_date] = (
                self.calendar.settlement_date(trade_date)
                if self.calendar.is_trading_day(trade_date) else None)
        return self._settle_dates[trade_date]

    def _book_fill(self, cmd: b.BookFill) -> Code:
        key = (cmd.order_id, cmd.exec_id)
        prior = self.bookings.get(key)
        if prior is not None:
            if (prior.account, prior.symbol, prior.side, prior.credit, prior.price, prior.qty,
                    prior.trade_date) == (cmd.account, cmd.symbol, cmd.side, cmd.credit,
                                          cmd.price, cmd.qty, cmd.trade_date):
                return Code.OK  # delivered again: booked once
            return self._hold(cmd, Code.EXEC_ID_CONFLICT)
        code = self._fill_error(cmd)
        if code:
            return self._hold(cmd, code)
        settle_date = self._settle_dates.get(cmd.trade_date) or self.settlement_date(
            cmd.trade_date)
        if settle_date is None:
            return self._hold(cmd, Code.NOT_A_TRADING_DAY)
        if settle_date in self.settled:
            return self._hold(cmd, Code.TRADE_DATE_SETTLED)
        account = self.accounts[cmd.account]
        position = (cmd.account, cmd.symbol)
        day_trade = 0
        release = NOTHING_RELEASED
        if cmd.side is Side.SELL and cmd.credit is Credit.CASH:
            available = self.available.get(position, 0)
            if available < cmd.qty:
                return self._hold(cmd, Code.HOLDINGS_WOULD_GO_NEGATIVE,
                                  f"{available} shares available, {cmd.qty} sold")
            if account.day_trading:
                day_trade = self._match_day_trade(cmd)
        elif _closes_position(cmd.side, cmd.credit):
            code_or_release = self._close(cmd, position, settle_date)
            if isinstance(code_or_release, Code):
                return self._hold(cmd, code_or_release)
            release = code_or_release
        fees = account.fees if cmd.qty % BOARD_LOT == 0 else account.odd_lot_fees
        booking = book(cmd, settle_date, fees, self.kinds[cmd.symbol], self.brokers[cmd.broker],
                       day_trade_qty=day_trade, release=release)
        self.bookings[key] = booking
        self._position(booking, position)
        self._accumulate(booking, position)
        return Code.OK

    def _fill_error(self, cmd: b.BookFill) -> Code:
        account = self.accounts.get(cmd.account)
        if account is None:
            return Code.UNKNOWN_ACCOUNT
        if account.broker != cmd.broker:
            return Code.ACCOUNT_OF_OTHER_BROKER
        if cmd.symbol not in self.kinds:
            return Code.UNKNOWN_SYMBOL
        if cmd.price <= 0 or cmd.qty <= 0:
            return Code.INVALID_FILL
        return Code.OK

    def _match_day_trade(self, cmd: b.BookFill) -> int:
        """The part of a cash sell that closes shares bought for cash the same day (現股當沖,
        buy first: the core never lets an account sell shares it does not have)."""
        key = (cmd.trade_date, cmd.account, cmd.symbol)
        bought = self.day_bought.get(key, 0)
        matched = min(bought, cmd.qty)
        if matched:
            self.day_bought[key] = bought - matched
        return matched

    def _close(self, cmd: b.BookFill, position: tuple[str, str],
               settle_date: date) -> Release | Code:
        """A margin sell repays financing lots, a short cover releases short lots."""
        lots = (self.financed if cmd.credit is Credit.MARGIN else self.shorts).get(position, [])
        if open_shares(lots) < cmd.qty:
            return Code.MARGIN_POSITION_TOO_SMALL
        if cmd.credit is Credit.MARGIN:
            return repay_financing(lots, cmd.qty, settle_date,
                                   self.brokers[cmd.broker].financing_rate_ppm)
        return cover_short(lots, cmd.qty)

    def _position(self, booking: Booking, position: tuple[str, str]) -> None:
        """Trade-date positions: free shares, financing and short lots, day-trade buys."""
        qty = booking.qty
        if booking.credit is Credit.CASH:
            signed = qty if booking.side is Side.BUY else -qty
            self.available[position] = self.available.get(position, 0) + signed
            if booking.side is Side.BUY and self.accounts[booking.account].day_trading:
                key = (booking.trade_date, booking.account, booking.symbol)
                self.day_bought[key] = self.day_bought.get(key, 0) + qty
        elif booking.side is Side.BUY and booking.credit is Credit.MARGIN:
            self.financed.setdefault(position, []).append(
                Lot(qty, booking.loan, 0, booking.settle_date))
        elif booking.side is Side.SELL and booking.credit is Credit.SHORT:
            self.shorts.setdefault(position, []).append(
                Lot(qty, booking.margin, booking.collateral, booking.settle_date))

    def _accumulate(self, booking: Booking, position: tuple[str, str]) -> None:
        """Add the fill's movements to its settlement date, then push the new net."""
        day = self.days.get(booking.settle_date)
        if day is None:
            day = self.days[booking.settle_date] = Day(booking.trade_date, booking.settle_date)
        account, broker, qty = booking.account, booking.broker, booking.qty
        running = day.nets.get(account)
        if running is None:
            running = day.nets[account] = Running()
        running.add(booking.net)
        day.broker_cash[broker] = day.broker_cash.get(broker, 0) + booking.broker_cash
        buy = booking.side is Side.BUY
        signed = qty if buy else -qty
        exchange = (broker, booking.symbol)
        day.exchange_cash[broker] = day.exchange_cash.get(broker, 0) - booking.exchange_cash
        day.exchange_shares[exchange] = day.exchange_shares.get(exchange, 0) + signed
        credit = booking.credit
        if credit is Credit.CASH:
            day.free[position] = day.free.get(position, 0) + signed
        elif credit is Credit.MARGIN:
            day.pledged[position] = day.pledged.get(position, 0) + signed
            day.loans[account] = day.loans.get(account, 0) + (
                booking.loan if buy else -booking.loan)
        else:
            day.owed[position] = day.owed.get(position, 0) - signed
            day.broker_shares[exchange] = day.broker_shares.get(exchange, 0) + signed
            held = booking.margin + booking.collateral
            day.held[account] = day.held.get(account, 0) + (-held if buy else held)
        if account in self.feed:
            self.feed.publish(NetAmount(broker, account, day.trade_date, day.settle_date,
                                        running.receivable, running.payable, running.net,
                                        running.fills))

    # -- settlement ------------------------------------------------------------------------------

    def _settle(self, cmd: b.Settle) -> Code:
        if not self.calendar.is_settlement_day(cmd.date):
            return Code.NOT_A_SETTLEMENT_DAY
        if cmd.date in self.settled:
            return Code.ALREADY_SETTLED
        if any(pending < cmd.date and pending not in self.settled for pending in self.days):
            return Code.SETTLEMENT_OUT_OF_ORDER
        day = self.days.get(cmd.date) or Day(cmd.date, cmd.date)
        brokers_of = {account: self.accounts[account].broker for account in day.nets}
        report = settle_day(day, self.books, brokers_of, self.available)
        for record in report.defaults:
            for symbol, qty in record.withheld.items():
                position = (record.account, symbol)
                self.available[position] = self.available.get(position, 0) - qty
        self.settled[cmd.date] = report
        stale = [key for key in self.day_bought if key[0] <= day.trade_date]
        for key in stale:
            del self.day_bought[key]
        return Code.OK


def _closes_position(side: Side, credit: Credit) -> bool:
    """A margin sell (repays financing) or a short cover (a buy with the short credit)."""
    return (credit is Credit.MARGIN and side is Side.SELL) or (
        credit is Credit.SHORT and side is Side.BUY)
