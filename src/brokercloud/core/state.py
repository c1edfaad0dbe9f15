"""The middle office's state and the one function that changes it: ``CoreState.apply``.

apply reads no clock, draws no random numbers and does no I/O: a command's time travels inside
it, order IDs come from a counter in the state. So the state is a pure function of the journal,
and replaying the journal rebuilds it exactly.

The risk checks run in the thesis's order (Tables 4-1, 4-2), each with its own code: basic,
account, stock attributes, trade attributes, regulator, then tiered approval.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from brokercloud.codes import Code
from brokercloud.core import commands as c
from brokercloud.core import events as e
from brokercloud.core.commands import AccountStatus, Credit
from brokercloud.core.model import Account, AuditStep, Broker, Listed, Order, OrderFill, Staff
from brokercloud.core.oms import AT_EXCHANGE, FINISHED, OrderState, Trigger, next_state
from brokercloud.core.reservations import holds, reference_price, reservation
from brokercloud.market.checks import price_error, quantity_error
from brokercloud.market.fees import FeeSchedule
from brokercloud.market.instruments import Disposition
from brokercloud.market.lots import BOARD_LOT, MAX_BOARD_LOT_SHARES
from brokercloud.market.orders import OrderType, Side
from brokercloud.market.prices import is_on_tick
from brokercloud.market.sessions import TAIWAN, Session

Events = list[e.Event]
_DAY_MS = 24 * 60 * 60 * 1000


class CoreState:
    def __init__(self) -> None:
        self.brokers: dict[str, Broker] = {}
        self.accounts: dict[str, Account] = {}
        self.listed: dict[str, Listed] = {}
        self.orders: dict[str, Order] = {}
        self.unknown_reports: list[e.UnknownReport] = []
        self.discrepancies: list[e.ReportDiscrepancy] = []
        self.line_seqs: dict[str, int] = {}  # highest report sequence number absorbed per line
        self.trading_day = ""  # YYYYMMDD of the last order; a new day restarts the counters
        self.order_counter = 0
        self._day_start = -_DAY_MS
        self.seq = 0
        self._handlers = self._make_handlers()

    def __getstate__(self) -> dict[str, object]:
        """Snapshots pickle the data, not the dispatch table of bound methods."""
        state = self.__dict__.copy()
        del state["_handlers"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._handlers = self._make_handlers()

    def _make_handlers(self) -> dict[type, Callable[[int, c.Cmd], Events]]:
        return {
            c.AddBroker: self._add_broker, c.AddBranch: self._add_branch,
            c.AddStaff: self._add_staff, c.OpenAccount: self._open_account,
            c.SetAccountStatus: self._set_status, c.SetAccountLimits: self._set_limits,
            c.SetCommissionDiscount: self._set_discount,
            c.SetStockLimit: self._set_stock_limit, c.SetHolding: self._set_holding,
            c.ListInstrument: self._list_instrument, c.PlaceOrder: self._place,
            c.CancelOrder: self._cancel, c.AmendOrder: self._amend, c.Approve: self._approve,
            c.Deny: self._deny, c.ExpireApprovals: self._expire_approvals,
            c.MarkSent: self._sent, c.ExchangeAccepted: self._accepted,
            c.ExchangeRejected: self._rejected, c.ExchangeFilled: self._filled,
            c.ExchangeCancelled: self._cancelled, c.ExchangeExpired: self._expired,
            c.ExchangeAmended: self._amended, c.ExchangeRequestRejected: self._request_rejected,
        }

    def apply(self, seq: int, command: c.Cmd) -> Events:
        """Apply one journaled command; returns what it decided."""
        self.seq = seq
        return self._handlers[type(command)](seq, command)

    # -- reference data ------------------------------------------------------------------------

    def _add_broker(self, seq: int, cmd: c.AddBroker) -> Events:
        if cmd.broker in self.brokers:
            return _refused(seq, cmd.broker, Code.ALREADY_EXISTS, cmd)
        if _fees(cmd.commission_ppm, 10_000, cmd.min_fee) is None or cmd.daily_buy_limit < 0:
            return _refused(seq, cmd.broker, Code.INVALID_REFERENCE_DATA, cmd)
        self.brokers[cmd.broker] = Broker(cmd.broker, cmd.name, cmd.commission_ppm, cmd.min_fee,
                                          cmd.daily_buy_limit, cmd.approval_bands,
                                          cmd.approval_timeout_ms)
        return [e.ReferenceChanged(seq=seq, broker=cmd.broker, what="broker", key=cmd.broker)]

    def _add_branch(self, seq: int, cmd: c.AddBranch) -> Events:
        broker = self.brokers.get(cmd.broker)
        if broker is None:
            return _refused(seq, cmd.broker, Code.UNKNOWN_BROKER, cmd)
        if cmd.branch in broker.branches:
            return _refused(seq, cmd.broker, Code.ALREADY_EXISTS, cmd)
        broker.branches[cmd.branch] = cmd.name
        return [e.ReferenceChanged(seq=seq, broker=cmd.broker, what="branch", key=cmd.branch)]

    def _add_staff(self, seq: int, cmd: c.AddStaff) -> Events:
        broker = self.brokers.get(cmd.broker)
        if broker is None:
            return _refused(seq, cmd.broker, Code.UNKNOWN_BROKER, cmd)
        broker.staff[cmd.user] = Staff(cmd.user, cmd.role, cmd.branch, cmd.level)
        return [e.ReferenceChanged(seq=seq, broker=cmd.broker, what="staff", key=cmd.user)]

    def _open_account(self, seq: int, cmd: c.OpenAccount) -> Events:
        broker = self.brokers.get(cmd.broker)
        if broker is None:
            return _refused(seq, cmd.broker, Code.UNKNOWN_BROKER, cmd)
        if cmd.account in self.accounts:
            return _refused(seq, cmd.broker, Code.ALREADY_EXISTS, cmd)
        fees = _fees(broker.commission_ppm, cmd.discount_bp, broker.min_fee)
        if (cmd.branch not in broker.branches or min(cmd.trading_limit, cmd.credit_limit) < 0
                or fees is None):
            return _refused(seq, cmd.broker, Code.INVALID_REFERENCE_DATA, cmd)
        self.accounts[cmd.account] = Account(
            cmd.account, cmd.broker, cmd.branch, cmd.name, margin=cmd.margin,
            trading_limit=cmd.trading_limit, credit_limit=cmd.credit_limit, fees=fees,
            day_trading=cmd.day_trading)
        return [e.ReferenceChanged(seq=seq, broker=cmd.broker, what="account", key=cmd.account)]

    def _account_command(self, seq: int, account_id: str, cmd: c.Cmd,
                         change: Callable[[Account], None]) -> Events:
        account = self.accounts.get(account_id)
        if account is None:
            return _refused(seq, "", Code.UNKNOWN_ACCOUNT, cmd)
        change(account)
        return [e.ReferenceChanged(seq=seq, broker=account.broker, what=type(cmd).__name__,
                                   key=account_id)]

    def _set_status(self, seq: int, cmd: c.SetAccountStatus) -> Events:
        return self._account_command(seq, cmd.account, cmd,
                                     lambda account: setattr(account, "status", cmd.status))

    def _set_limits(self, seq: int, cmd: c.SetAccountLimits) -> Events:
        if min(cmd.trading_limit, cmd.credit_limit) < 0:
            return _refused(seq, "", Code.INVALID_REFERENCE_DATA, cmd)

        def change(account: Account) -> None:
            account.trading_limit = cmd.trading_limit
            account.credit_limit = cmd.credit_limit
        return self._account_command(seq, cmd.account, cmd, change)

    def _set_discount(self, seq: int, cmd: c.SetCommissionDiscount) -> Events:
        """The customer keeps the broker's rate and minimum fee; only the discount changes.
        Open orders hold what they held until their open quantity next changes; fills from
        now on are charged at the new terms."""
        account = self.accounts.get(cmd.account)
        fees = account and _fees(account.fees.rate_ppm, cmd.discount_bp, account.fees.min_fee)
        if account is not None and fees is None:
            return _refused(seq, account.broker, Code.DISCOUNT_OUT_OF_RANGE, cmd)
        return self._account_command(seq, cmd.account, cmd,
                                     lambda account: setattr(account, "fees", fees))

    def _set_holding(self, seq: int, cmd: c.SetHolding) -> Events:
        if cmd.shares < 0:
            return _refused(seq, "", Code.INVALID_REFERENCE_DATA, cmd)
        return self._account_command(
            seq, cmd.account, cmd,
            lambda account: account.holdings.__setitem__(cmd.symbol, cmd.shares))

    def _set_stock_limit(self, seq: int, cmd: c.SetStockLimit) -> Events:
        broker = self.brokers.get(cmd.broker)
        if broker is None:
            return _refused(seq, cmd.broker, Code.UNKNOWN_BROKER, cmd)
        if cmd.max_order_amount:
            broker.stock_limits[cmd.symbol] = cmd.max_order_amount
        else:
            broker.stock_limits.pop(cmd.symbol, None)
        return [e.ReferenceChanged(seq=seq, broker=cmd.broker, what="stock_limit",
                                   key=cmd.symbol)]

    def _list_instrument(self, seq: int, cmd: c.ListInstrument) -> Events:
        if cmd.reference <= 0 or cmd.previous_close < 0 or not is_on_tick(
                cmd.reference, cmd.instrument.kind):
            return _refused(seq, "", Code.INVALID_REFERENCE_DATA, cmd)
        self.listed[cmd.instrument.symbol] = Listed(cmd.instrument, cmd.reference,
                                                   cmd.previous_close)
        return [e.ReferenceChanged(seq=seq, broker="", what="instrument",
                                   key=cmd.instrument.symbol)]

    # -- new orders: the risk checks, in order -------------------------------------------------

    def _place(self, seq: int, cmd: c.PlaceOrder) -> Events:
        """A new order through the checks in the thesis's order. Each check is a cheap test
        for the common case, falling back to the function that names the exact failure."""
        if cmd.at >= self._day_start + _DAY_MS:
            self._roll_day(cmd.at)
        broker = self.brokers.get(cmd.broker)
        if broker is None:
            return [_order_refused(seq, cmd, Code.UNKNOWN_BROKER)]
        if cmd.client_ref in broker.client_refs:
            return [_order_refused(seq, cmd, Code.DUPLICATE_CLIENT_REF)]
        listed = self.listed.get(cmd.symbol)
        code = self._basic_error(cmd, listed)
        account = self.accounts.get(cmd.account)
        if not code and (account is None or account.broker != cmd.broker
                         or account.status is not AccountStatus.OPEN):
            code = _account_error(cmd, account)
        if code or listed is None or account is None:
            return [_order_refused(seq, cmd, code)]
        order = Order(self._next_order_id(), cmd.at, cmd.broker, cmd.account, cmd.user,
                      cmd.client_ref, cmd.symbol, cmd.side, cmd.qty, cmd.price,
                      cmd.order_type, cmd.tif, cmd.session, cmd.credit, OrderState.NEW, 0,
                      cmd.qty)
        trading, credit = reservation(order, order.qty, listed, account.fees)
        code = ((cmd.credit is not Credit.CASH and _stock_error(order, listed, account))
                or _trade_error(order, account, broker, trading, credit)
                or (listed.instrument.disposition is not Disposition.NONE
                    and _regulator_error(order, listed, account, cmd.prepaid)))
        if code:
            return [_order_refused(seq, cmd, code)]
        self._hold(order, account, broker, trading, credit)
        order_id = order.order_id
        self.orders[order_id] = order
        broker.client_refs[cmd.client_ref] = order_id
        day_lots = account.day_lots
        day_lots[cmd.symbol] = day_lots.get(cmd.symbol, 0) + cmd.qty // BOARD_LOT
        amount = (trading + credit if cmd.side is Side.BUY
                  else reference_price(order, listed) * cmd.qty // 100)
        level = broker.approval_level(amount) if broker.approval_bands else 0
        if level:
            order.approval_level = level
            self._move(order, Trigger.NEEDS_APPROVAL, cmd.at, seq, cmd.user)
            return [self._update(order),
                    e.ApprovalRequested(seq=seq, broker=order.broker, account=order.account,
                                        order_id=order_id, amount=amount, level=level)]
        self._move(order, Trigger.RISK_PASSED, cmd.at, seq, cmd.user)
        return [self._update(order), e.SendOrder(seq=seq, broker=cmd.broker, order_id=order_id)]

    def _basic_error(self, cmd: c.PlaceOrder, listed: Listed | None) -> Code:
        if listed is None:
            return Code.UNKNOWN_SYMBOL
        qty = cmd.qty
        if (cmd.session is Session.REGULAR and 0 < qty <= MAX_BOARD_LOT_SHARES
                and not qty % BOARD_LOT and cmd.order_type is OrderType.LIMIT
                and cmd.price in listed.valid_prices):
            return Code.OK  # the common case, decided by one set lookup
        code = quantity_error(cmd.session, cmd.qty)
        if code:
            return code
        if cmd.order_type is OrderType.MARKET:
            return (Code.OK if listed.instrument.market_orders_allowed
                    else Code.MARKET_ORDER_NOT_ALLOWED)
        return price_error(cmd.price, listed.limit_down, listed.limit_up, listed.instrument.kind,
                           session=cmd.session)

    def _roll_day(self, at: int) -> None:
        """A command from a later Taiwan date starts a new trading day: daily counters restart,
        while orders still open keep what they hold. Time never rolls back: a late-stamped
        command from before midnight stays in the current day (IDs stay unique)."""
        if at < self._day_start + _DAY_MS:
            return
        moment = datetime.fromtimestamp(at / 1000, TAIWAN)
        midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        self._day_start = int(midnight.timestamp() * 1000)
        self.trading_day = moment.strftime("%Y%m%d")
        self.order_counter = 0
        for broker in self.brokers.values():
            broker.client_refs.clear()
            broker.bought_today = 0
        for account in self.accounts.values():
            account.start_day()
        for order in self.orders.values():
            if order.state not in FINISHED:
                order.held_shares = 0
                order.reserved_trading = order.reserved_credit = 0
                self._reserve(order, self.listed[order.symbol], self.accounts[order.account],
                              self.brokers[order.broker])

    def _next_order_id(self) -> str:
        """Unique across brokers and days: the Taiwan trading date and a day counter (no
        five-character order numbers to run out of)."""
        self.order_counter += 1
        return f"{self.trading_day}-{self.order_counter:08d}"

    # -- reservations --------------------------------------------------------------------------

    def _reserve(self, order: Order, listed: Listed, account: Account, broker: Broker) -> None:
        """Hold what the open quantity needs; called again whenever ``leaves`` changes."""
        trading, credit = reservation(order, order.leaves, listed, account.fees)
        self._hold(order, account, broker, trading, credit)

    @staticmethod
    def _hold(order: Order, account: Account, broker: Broker, trading: int,
              credit: int) -> None:
        account.used_trading += trading - order.reserved_trading
        account.used_credit += credit - order.reserved_credit
        if order.side is Side.BUY:
            broker.bought_today += trading + credit - order.reserved_trading - (
                order.reserved_credit)
        order.reserved_trading, order.reserved_credit = trading, credit
        if order.side is Side.SELL and order.credit is not c.Credit.SHORT:
            held = order.cum_qty + order.leaves  # sold and still offered both leave the stock
            account.sell_reserved[order.symbol] = account.sell_reserved.get(
                order.symbol, 0) + held - order.held_shares
            order.held_shares = held

    # -- order life ----------------------------------------------------------------------------

    def _move(self, order: Order, trigger: Trigger, at: int, seq: int, by: str) -> None:
        order.state = next_state(order.state, trigger)
        _audit(order, at, seq, str(trigger), by)

    def _update(self, order: Order, code: Code = Code.OK) -> e.OrderUpdated:
        return e.OrderUpdated(seq=self.seq, broker=order.broker, account=order.account,
                              order_id=order.order_id, client_ref=order.client_ref,
                              state=order.state, cum_qty=order.cum_qty, leaves=order.leaves,
                              code=code)

    def _cancel(self, seq: int, cmd: c.CancelOrder) -> Events:
        order = self._order_of(cmd.broker, cmd.order_id)
        if order is None:
            return _refused(seq, cmd.broker, Code.UNKNOWN_ORDER_ID, cmd)
        if order.state in (OrderState.PENDING_APPROVAL, OrderState.PENDING_SEND):
            self._finish(order, Trigger.CANCELLED, cmd.at, seq, cmd.user)
            return [self._update(order, Code.CANCELLED_ON_REQUEST)]
        if order.state not in AT_EXCHANGE or order.pending == "cancel":  # a cancel may
            # overtake a pending amendment; only a second cancel is pointless
            return _refused(seq, cmd.broker, Code.ORDER_NOT_CANCELLABLE, cmd)
        order.pending = "cancel"
        _audit(order, cmd.at, seq, "cancel requested", cmd.user)
        return [e.SendCancel(seq=seq, broker=order.broker, order_id=order.order_id)]

    def _amend(self, seq: int, cmd: c.AmendOrder) -> Events:
        order = self._order_of(cmd.broker, cmd.order_id)
        if order is None:
            return _refused(seq, cmd.broker, Code.UNKNOWN_ORDER_ID, cmd)
        if order.state not in (OrderState.ACKNOWLEDGED, OrderState.PARTIALLY_FILLED) or (
                order.pending):
            return _refused(seq, cmd.broker, Code.ORDER_NOT_AMENDABLE, cmd)
        if (cmd.qty is None) == (cmd.price is None):
            return _refused(seq, cmd.broker, Code.AMEND_PRICE_AND_QUANTITY
                            if cmd.qty is not None else Code.AMEND_NOTHING, cmd)
        code = self._amend_error(order, cmd)
        if code:
            return _refused(seq, cmd.broker, code, cmd)
        order.pending = "amend"
        _audit(order, cmd.at, seq, "amend requested", cmd.user)
        return [e.SendAmend(seq=seq, broker=order.broker, order_id=order.order_id, qty=cmd.qty,
                            price=cmd.price)]

    def _amend_error(self, order: Order, cmd: c.AmendOrder) -> Code:
        """The exchange's amendment rules, checked before anything is sent."""
        if cmd.qty is not None:
            if cmd.qty >= order.qty:
                return Code.AMEND_QUANTITY_NOT_REDUCED
            return Code.AMEND_BELOW_FILLED if cmd.qty <= order.cum_qty else Code.OK
        if order.order_type is OrderType.MARKET:
            return Code.AMEND_MARKET_ORDER_PRICE
        listed = self.listed[order.symbol]
        price = cmd.price or 0
        code = price_error(price, listed.limit_down, listed.limit_up, listed.instrument.kind,
                           session=order.session)
        if code or price == order.price:
            return code or Code.AMEND_NOTHING
        if order.side is Side.BUY:  # a higher price must still fit the account's limits
            account = self.accounts[order.account]
            trading, credit = holds(order, price, order.leaves, account.fees)
            if account.used_trading - order.reserved_trading + trading > account.trading_limit:
                return Code.TRADING_LIMIT_EXCEEDED
            if credit and account.used_credit - order.reserved_credit + credit > (
                    account.credit_limit):
                return Code.CREDIT_LIMIT_EXCEEDED
        return Code.OK

    def _order_of(self, broker: str, order_id: str) -> Order | None:
        """Another broker's order is as unknown as a missing one."""
        order = self.orders.get(order_id)
        return order if order is not None and order.broker == broker else None

    def _approve(self, seq: int, cmd: c.Approve) -> Events:
        order, code = self._decision_target(cmd)
        if order is None or code:
            return self._decision_refused(seq, cmd, order, code)
        self._move(order, Trigger.APPROVED, cmd.at, seq, cmd.user)
        return [e.ApprovalDecided(seq=seq, broker=order.broker, account=order.account,
                                  order_id=order.order_id, user=cmd.user, approved=True),
                self._update(order),
                e.SendOrder(seq=seq, broker=order.broker, order_id=order.order_id)]

    def _deny(self, seq: int, cmd: c.Deny) -> Events:
        order, code = self._decision_target(cmd)
        if order is None or code:
            return self._decision_refused(seq, cmd, order, code)
        self._finish(order, Trigger.DENIED, cmd.at, seq, cmd.user)
        return [e.ApprovalDecided(seq=seq, broker=order.broker, account=order.account,
                                  order_id=order.order_id, user=cmd.user, approved=False,
                                  reason=cmd.reason),
                self._update(order, Code.APPROVAL_DENIED)]

    def _decision_target(self, cmd: c.Approve | c.Deny) -> tuple[Order | None, Code]:
        """The order a decision names (if this broker has it) and why the decision is refused,
        OK if it is not. A supervisor of a branch decides for that branch's customers only;
        one without a branch (the head office) for the whole broker."""
        broker = self.brokers.get(cmd.broker)
        staff = broker.staff.get(cmd.user) if broker else None
        order = self._order_of(cmd.broker, cmd.order_id)
        if order is None:
            return None, (Code.NOT_A_SUPERVISOR if staff is None
                          or staff.role is not c.Role.SUPERVISOR else Code.UNKNOWN_ORDER_ID)
        if staff is None or staff.role is not c.Role.SUPERVISOR:
            return order, Code.NOT_A_SUPERVISOR
        if order.state is not OrderState.PENDING_APPROVAL:
            return order, Code.NOT_PENDING_APPROVAL
        if self._approval_overdue(order, cmd.at):
            return order, Code.APPROVAL_EXPIRED
        if staff.branch and staff.branch != self.accounts[order.account].branch:
            return order, Code.SUPERVISOR_OTHER_BRANCH
        if staff.level < order.approval_level:
            return order, Code.SUPERVISOR_LEVEL_TOO_LOW
        return order, Code.OK

    def _decision_refused(self, seq: int, cmd: c.Approve | c.Deny, order: Order | None,
                          code: Code) -> Events:
        """A refused decision leaves its trace on the order it named (when this broker has
        it): who tried, and why it was refused. A decision that comes after the broker's
        timeout expires the order there and then, as ``ExpireApprovals`` would have."""
        events = _refused(seq, cmd.broker, code, cmd)
        if order is None:
            return events
        _audit(order, cmd.at, seq, refused_decision(cmd, code), cmd.user)
        if code is Code.APPROVAL_EXPIRED:
            self._finish(order, Trigger.APPROVAL_EXPIRED, cmd.at, seq, "system")
            events.append(self._update(order, Code.APPROVAL_EXPIRED))
        return events

    def _approval_overdue(self, order: Order, at: int) -> bool:
        """Whether the broker's time for approving ``order`` has run out at ``at``."""
        return at - order.at >= self.brokers[order.broker].approval_timeout_ms

    def _expire_approvals(self, seq: int, cmd: c.ExpireApprovals) -> Events:
        out: Events = []
        for order in list(self.orders.values()):
            if order.state is OrderState.PENDING_APPROVAL and self._approval_overdue(order,
                                                                                     cmd.at):
                self._finish(order, Trigger.APPROVAL_EXPIRED, cmd.at, seq, "system")
                out.append(self._update(order, Code.APPROVAL_EXPIRED))
        return out

    # -- reports from the lines and the exchange -----------------------------------------------

    def _report_target(self, seq: int, cmd: c.Cmd, order_id: str) -> Order | None:
        if isinstance(cmd, c.ExchangeReport) and cmd.line:
            self.line_seqs[cmd.line] = max(self.line_seqs.get(cmd.line, 0), cmd.line_seq)
        order = self.orders.get(order_id)
        if order is None:
            report = e.UnknownReport(seq=seq, broker="", order_id=order_id,
                                     report=type(cmd).__name__)
            self.unknown_reports.append(report)
        return order

    def _sent(self, seq: int, cmd: c.MarkSent) -> Events:
        order = self._report_target(seq, cmd, cmd.order_id)
        if order is None or order.state is not OrderState.PENDING_SEND:
            return self._unknown(seq) if order is None else []  # a re-sent order: once only
        order.line = cmd.line
        self._move(order, Trigger.SENT, cmd.at, seq, cmd.line)
        return [self._update(order)]

    def _accepted(self, seq: int, cmd: c.ExchangeAccepted) -> Events:
        order = self._report_target(seq, cmd, cmd.order_id)
        if order is None:
            return self._unknown(seq)
        order.exchange_order_id = cmd.exchange_order_id
        order.acked_at = cmd.at
        if order.state is OrderState.SENT:
            self._move(order, Trigger.EXCHANGE_ACCEPTED, cmd.at, seq, "exchange")
            return [self._update(order)]
        return []  # the fill overtook the acknowledgement: nothing more to say

    def _rejected(self, seq: int, cmd: c.ExchangeRejected) -> Events:
        order = self._report_target(seq, cmd, cmd.order_id)
        if order is None:
            return self._unknown(seq)
        if order.state is not OrderState.SENT:
            return []
        self._finish(order, Trigger.EXCHANGE_REJECTED, cmd.at, seq, "exchange")
        return [self._update(order, cmd.code)]

    def _filled(self, seq: int, cmd: c.ExchangeFilled) -> Events:
        order = self._report_target(seq, cmd, cmd.order_id)
        if order is None:
            return self._unknown(seq)
        if order.fills is None:
            order.fills = {}
        elif cmd.exec_id in order.fills:
            return []  # re-delivered: fills are applied once, by exec ID
        if order.state not in AT_EXCHANGE or cmd.qty > order.leaves:
            return [self._discrepancy(seq, order, cmd, Code.FILL_ABOVE_OPEN_QTY
                                      if order.state in AT_EXCHANGE
                                      else Code.FILL_FOR_CLOSED_ORDER)]
        order.fills[cmd.exec_id] = OrderFill(cmd.at, cmd.price, cmd.qty)
        order.cum_qty += cmd.qty
        order.leaves = max(order.qty - order.cum_qty, 0)
        account = self.accounts[order.account]
        broker = self.brokers[order.broker]
        spent_trading, spent_credit = holds(order, cmd.price, cmd.qty, account.fees)
        account.used_trading += spent_trading
        account.used_credit += spent_credit
        if order.side is Side.BUY:
            account.bought[order.symbol] = account.bought.get(order.symbol, 0) + cmd.qty
            broker.bought_today += spent_trading + spent_credit
        self._reserve(order, self.listed[order.symbol], account, broker)
        trigger = Trigger.FULL_FILL if order.leaves == 0 else Trigger.PARTIAL_FILL
        self._move(order, trigger, cmd.at, seq, "exchange")
        if order.leaves == 0:
            order.pending = ""
        events: Events = [e.Fill(seq=seq, broker=order.broker, account=order.account,
                                 order_id=order.order_id, exec_id=cmd.exec_id,
                                 symbol=order.symbol, side=int(order.side), price=cmd.price,
                                 qty=cmd.qty),
                          self._update(order)]
        if order.order_type is OrderType.LIMIT and (
                cmd.price > order.price if order.side is Side.BUY else cmd.price < order.price):
            events.append(self._discrepancy(seq, order, cmd, Code.FILL_PRICE_BEYOND_LIMIT))
        return events

    def _discrepancy(self, seq: int, order: Order, cmd: c.ExchangeFilled,
                     code: Code) -> e.ReportDiscrepancy:
        event = e.ReportDiscrepancy(seq=seq, broker=order.broker, account=order.account,
                                    order_id=order.order_id, exec_id=cmd.exec_id,
                                    price=cmd.price, qty=cmd.qty, code=code)
        self.discrepancies.append(event)
        return event

    def _amended(self, seq: int, cmd: c.ExchangeAmended) -> Events:
        """The exchange took an amendment: the order's terms and reservation follow it."""
        order = self._report_target(seq, cmd, cmd.order_id)
        if order is None:
            return self._unknown(seq)
        if order.state not in AT_EXCHANGE:
            return []
        order.qty, order.price = cmd.qty, cmd.price
        order.leaves = max(cmd.qty - order.cum_qty, 0)
        order.pending = "" if order.pending == "amend" else order.pending
        self._reserve(order, self.listed[order.symbol], self.accounts[order.account],
                      self.brokers[order.broker])
        _audit(order, cmd.at, seq, "amended", "exchange")
        return [self._update(order)]

    def _request_rejected(self, seq: int, cmd: c.ExchangeRequestRejected) -> Events:
        """The exchange refused a cancel or an amendment: the order stays as it was."""
        order = self._report_target(seq, cmd, cmd.order_id)
        if order is None:
            return self._unknown(seq)
        order.pending = ""
        _audit(order, cmd.at, seq, f"request refused ({int(cmd.code)})", "exchange")
        return [self._update(order, cmd.code)]

    def _cancelled(self, seq: int, cmd: c.ExchangeCancelled) -> Events:
        return self._ended(seq, cmd, cmd.order_id, Trigger.CANCELLED, cmd.code)

    def _expired(self, seq: int, cmd: c.ExchangeExpired) -> Events:
        return self._ended(seq, cmd, cmd.order_id, Trigger.EXPIRED, Code.EXPIRED_END_OF_SESSION)

    def _ended(self, seq: int, cmd: c.Cmd, order_id: str, trigger: Trigger,
               code: Code) -> Events:
        order = self._report_target(seq, cmd, order_id)
        if order is None:
            return self._unknown(seq)
        if order.state not in AT_EXCHANGE:
            return []  # finished already, or never sent: nothing the exchange can end
        self._finish(order, trigger, cmd.at, seq, "exchange")
        return [self._update(order, code)]

    def _unknown(self, seq: int) -> Events:
        return [self.unknown_reports[-1]] if self.unknown_reports else []

    def _finish(self, order: Order, trigger: Trigger, at: int, seq: int, by: str) -> None:
        """An order ends: its open quantity and everything it reserved are released."""
        order.leaves = 0
        order.pending = ""
        self._reserve(order, self.listed[order.symbol], self.accounts[order.account],
                      self.brokers[order.broker])
        self._move(order, trigger, at, seq, by)


#: What an order's audit trail says of its approval: the triggers, and refused decisions.
_APPROVAL_TRAIL = frozenset({Trigger.NEEDS_APPROVAL, Trigger.APPROVED, Trigger.DENIED,
                             Trigger.APPROVAL_EXPIRED})
_REFUSED_DECISIONS = ("approve refused", "deny refused")


def refused_decision(cmd: c.Approve | c.Deny, code: Code) -> str:
    """The audit entry of a refused decision, e.g. ``approve refused (2503)``."""
    verb = "approve" if isinstance(cmd, c.Approve) else "deny"
    return f"{verb} refused ({int(code)})"


def is_approval_entry(what: str) -> bool:
    """Whether an audit entry belongs to the order's approval (``queries.approval_trail_of``)."""
    return what in _APPROVAL_TRAIL or what.startswith(_REFUSED_DECISIONS)


def _audit(order: Order, at: int, seq: int, what: str, by: str) -> None:
    order.audit += (AuditStep(at, seq, what, by),)


def _refused(seq: int, broker: str, code: Code, cmd: c.Cmd) -> Events:
    return [e.CommandRejected(seq=seq, broker=broker, code=code, command=type(cmd).__name__)]


def _order_refused(seq: int, cmd: c.PlaceOrder, code: Code) -> e.OrderRejected:
    return e.OrderRejected(seq=seq, broker=cmd.broker, account=cmd.account,
                           client_ref=cmd.client_ref, code=code)


def _account_error(cmd: c.PlaceOrder, account: Account | None) -> Code:
    if account is None:
        return Code.UNKNOWN_ACCOUNT
    if account.broker != cmd.broker:
        return Code.ACCOUNT_OF_OTHER_BROKER
    if account.status is c.AccountStatus.DEFAULTED:
        return Code.ACCOUNT_DEFAULTED
    if account.status is c.AccountStatus.SUSPENDED:
        return Code.ACCOUNT_SUSPENDED
    return Code.OK


def _stock_error(order: Order, listed: Listed, account: Account) -> Code:
    instrument = listed.instrument
    if order.credit is not c.Credit.CASH and not account.margin:
        return Code.NOT_A_MARGIN_ACCOUNT
    if order.credit is c.Credit.MARGIN and order.side is Side.BUY and (
            not instrument.margin_eligible):
        return Code.NOT_MARGIN_ELIGIBLE
    if order.credit is c.Credit.SHORT and order.side is Side.SELL:
        if not instrument.short_eligible:
            return Code.NOT_SHORT_ELIGIBLE
        if order.order_type is OrderType.MARKET or order.price < listed.previous_close:
            return Code.SHORT_BELOW_PREVIOUS_CLOSE  # a market short sale has no floor
    return Code.OK


def _trade_error(order: Order, account: Account, broker: Broker, trading: int,
                 credit: int) -> Code:
    if order.side is Side.SELL and order.credit is not c.Credit.SHORT:
        return (Code.INSUFFICIENT_INVENTORY
                if order.qty > account.available_shares(order.symbol) else Code.OK)
    if account.used_trading + trading > account.trading_limit:
        return Code.TRADING_LIMIT_EXCEEDED
    if credit and account.used_credit + credit > account.credit_limit:
        return Code.CREDIT_LIMIT_EXCEEDED
    if order.side is Side.BUY and broker.daily_buy_limit and (
            broker.bought_today + trading + credit > broker.daily_buy_limit):
        return Code.BROKER_LIMIT_EXCEEDED
    stock_limit = broker.stock_limits.get(order.symbol)
    if stock_limit is not None and trading + credit > stock_limit:
        return Code.STOCK_LIMIT_EXCEEDED
    return Code.OK


def _regulator_error(order: Order, listed: Listed, account: Account, prepaid: bool) -> Code:
    disposition = listed.instrument.disposition
    if disposition is Disposition.NONE or prepaid:
        return Code.OK
    lots = order.qty // BOARD_LOT
    day_lots = account.day_lots.get(order.symbol, 0) + lots
    if disposition.requires_prepayment(lots, day_lots):
        return Code.DISPOSITION_PREPAYMENT_REQUIRED
    return Code.OK


def _fees(rate_ppm: int, discount_bp: int, min_fee: int) -> FeeSchedule | None:
    """A broker's rate with a customer's discount, or None when out of range."""
    try:
        return FeeSchedule(rate_ppm=rate_ppm, discount_bp=discount_bp, min_fee=min_fee)
    except ValueError:
        return None
