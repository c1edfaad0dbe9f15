"""Pre-trade risk: the thesis's two worked examples at the core level, then each check of the
risk order (basic, account, stock attributes, trade attributes, regulator) failed by a variant
with its own code, and the order in which the checks run."""

from __future__ import annotations

import pytest

from brokercloud.codes import Code
from brokercloud.core import commands as c
from brokercloud.core import events as e
from brokercloud.core.commands import AccountStatus
from brokercloud.core.oms import OrderState
from brokercloud.market.instruments import Disposition

from .support import (
    ACCOUNT,
    BROKER,
    BUY,
    CASH_ACCOUNT,
    HOLDING,
    LOT,
    MARGIN,
    MARKET,
    ODD_LOT,
    OTHER_ACCOUNT,
    OTHER_BROKER,
    REF,
    SELL,
    SHORT,
    T0,
    TRADING_DAY,
    TSMC,
    Desk,
    disposition_listing,
    first,
    tsmc,
)

# -- the thesis's worked examples --------------------------------------------------------------


@pytest.mark.parametrize("limit_bp", [700, 1_000])
def test_margin_buy_when_10_lots_of_2330_at_76_2_then_own_part_and_loan_reserved(
        limit_bp: int) -> None:
    """Value 762,000; commission 0.1425% = 1,085.85 -> 1,085; loan 60% = 457,200 -> 457,000;
    own part 763,085 - 457,000 = 306,085."""
    desk = Desk(limit_bp=limit_bp)
    events = desk.place(side=BUY, qty=10 * LOT, price=7_620, credit=MARGIN, client_ref="T1")
    order_id = f"{TRADING_DAY}-00000001"
    assert events == [
        e.OrderUpdated(seq=desk.seq, broker=BROKER, account=ACCOUNT, order_id=order_id,
                       client_ref="T1", state=OrderState.PENDING_SEND, cum_qty=0,
                       leaves=10_000),
        e.SendOrder(seq=desk.seq, broker=BROKER, order_id=order_id)]
    order = desk.order(order_id)
    assert (order.reserved_trading, order.reserved_credit) == (306_085, 457_000)
    account = desk.account()
    assert (account.used_trading, account.used_credit) == (306_085, 457_000)
    assert desk.state.brokers[BROKER].bought_today == 763_085
    assert account.sell_reserved == {}


@pytest.mark.parametrize("limit_bp", [700, 1_000])
def test_cash_sell_when_5_lots_of_2330_at_77_3_then_shares_held_and_no_money(
        limit_bp: int) -> None:
    desk = Desk(limit_bp=limit_bp)
    order_id = desk.order_id(side=SELL, qty=5 * LOT, price=7_730)
    order = desk.order(order_id)
    assert (order.state, order.reserved_trading, order.reserved_credit, order.held_shares) == (
        OrderState.PENDING_SEND, 0, 0, 5_000)
    account = desk.account()
    assert (account.used_trading, account.used_credit) == (0, 0)
    assert account.sell_reserved == {TSMC: 5_000}
    assert account.available_shares(TSMC) == 5_000
    assert desk.state.brokers[BROKER].bought_today == 0


def test_cash_buy_when_10_lots_at_76_2_then_value_plus_commission_reserved() -> None:
    desk = Desk()
    order = desk.order(desk.order_id(qty=10 * LOT, price=7_620))
    assert (order.reserved_trading, order.reserved_credit) == (763_085, 0)


def test_short_sell_when_10_lots_at_76_3_then_90_percent_margin_rounded_up_to_100() -> None:
    """Value 763,000 x 90% = 686,700 (already a multiple of 100); 1 lot: 68,670 -> 68,700."""
    desk = Desk()
    ten = desk.order(desk.order_id(side=SELL, credit=SHORT, qty=10 * LOT, price=7_630))
    one = desk.order(desk.order_id(side=SELL, credit=SHORT, qty=LOT, price=7_630))
    assert (ten.reserved_trading, ten.reserved_credit) == (0, 686_700)
    assert (one.reserved_trading, one.reserved_credit) == (0, 68_700)
    assert desk.account().used_credit == 755_400
    assert desk.account().sell_reserved == {}  # a short sale takes no inventory


def test_market_buy_when_placed_then_reserved_at_limit_up() -> None:
    """82.10 x 1,000 = 82,100 + commission 116.99 -> 116."""
    desk = Desk()
    order = desk.order(desk.order_id(order_type=MARKET, price=0))
    assert order.reserved_trading == 82_216


# -- 1. basic checks ---------------------------------------------------------------------------

def test_place_when_symbol_unknown_then_unknown_symbol() -> None:
    desk = Desk()
    events = desk.place(symbol="9999", client_ref="X")
    assert events == [e.OrderRejected(seq=desk.seq, broker=BROKER, account=ACCOUNT,
                                      client_ref="X", code=Code.UNKNOWN_SYMBOL)]
    assert desk.state.orders == {}


@pytest.mark.parametrize(("price", "code"), [
    (7_625, Code.PRICE_NOT_ON_TICK),
    (7_621, Code.PRICE_NOT_ON_TICK),
    (0, Code.PRICE_NOT_POSITIVE),
    (8_220, Code.PRICE_OUTSIDE_LIMITS),
    (6_720, Code.PRICE_OUTSIDE_LIMITS),
])
def test_place_when_price_invalid_at_10_percent_then_its_code(price: int, code: Code) -> None:
    assert Desk().code(price=price) == code


@pytest.mark.parametrize(("limit_bp", "price", "code"), [
    (1_000, 8_210, Code.OK), (1_000, 8_220, Code.PRICE_OUTSIDE_LIMITS),
    (1_000, 6_730, Code.OK), (1_000, 6_720, Code.PRICE_OUTSIDE_LIMITS),
    (700, 7_990, Code.OK), (700, 8_000, Code.PRICE_OUTSIDE_LIMITS),
    (700, 6_950, Code.OK), (700, 6_940, Code.PRICE_OUTSIDE_LIMITS),
    (700, 8_210, Code.PRICE_OUTSIDE_LIMITS),
])
def test_place_when_price_at_or_past_the_limit_then_accepted_or_outside_limits(
        limit_bp: int, price: int, code: Code) -> None:
    desk = Desk(limit_bp=limit_bp)
    events = desk.place(price=price)
    if code is Code.OK:
        assert first(events, e.OrderUpdated).state is OrderState.PENDING_SEND
    else:
        assert first(events, e.OrderRejected).code == code


@pytest.mark.parametrize(("qty", "session", "code"), [
    (0, None, Code.QUANTITY_NOT_POSITIVE),
    (-1_000, None, Code.QUANTITY_NOT_POSITIVE),
    (1_500, None, Code.NOT_BOARD_LOTS),
    (500_000, None, Code.QUANTITY_ABOVE_CAP),
    (1_000, ODD_LOT, Code.NOT_ODD_LOT),
])
def test_place_when_quantity_invalid_then_its_code(qty: int, session: object,
                                                   code: Code) -> None:
    fields: dict[str, object] = {"qty": qty}
    if session is not None:
        fields["session"] = session
    assert Desk().code(**fields) == code


def test_place_when_499_lots_or_odd_lot_of_999_then_accepted() -> None:
    desk = Desk()
    desk.do(c.SetAccountLimits(at=T0, account=ACCOUNT, trading_limit=100_000_000,
                               credit_limit=0))
    big = desk.order(desk.order_id(qty=499 * LOT, price=7_470))
    odd = desk.order(desk.order_id(qty=999, session=ODD_LOT, price=7_470))
    assert (big.qty, big.state) == (499_000, OrderState.PENDING_SEND)
    assert (odd.qty, odd.state) == (999, OrderState.PENDING_SEND)


def test_place_when_market_order_for_disposition_stock_then_market_order_not_allowed() -> None:
    desk = Desk()
    desk.do(disposition_listing(Disposition.FIRST))
    assert desk.code(symbol="3008", order_type=MARKET, price=0) == Code.MARKET_ORDER_NOT_ALLOWED


# -- 2. account checks -------------------------------------------------------------------------

def test_place_when_account_unknown_then_unknown_account() -> None:
    assert Desk().code(account="00000000") == Code.UNKNOWN_ACCOUNT


def test_place_when_account_of_another_broker_then_account_of_other_broker() -> None:
    desk = Desk()
    assert desk.code(account=OTHER_ACCOUNT) == Code.ACCOUNT_OF_OTHER_BROKER
    assert desk.state.accounts[OTHER_ACCOUNT].used_trading == 0


@pytest.mark.parametrize(("status", "code"), [
    (AccountStatus.SUSPENDED, Code.ACCOUNT_SUSPENDED),
    (AccountStatus.DEFAULTED, Code.ACCOUNT_DEFAULTED),
])
def test_place_when_account_not_open_then_its_code(status: AccountStatus, code: Code) -> None:
    desk = Desk()
    desk.status(ACCOUNT, status)
    assert desk.code() == code
    assert desk.code(side=SELL) == code  # sells too: a defaulter cannot trade at all
    desk.status(ACCOUNT, AccountStatus.OPEN)
    assert first(desk.place(), e.OrderUpdated).state is OrderState.PENDING_SEND


# -- 3. stock attributes -----------------------------------------------------------------------

@pytest.mark.parametrize(("side", "credit"), [(BUY, MARGIN), (SELL, SHORT), (SELL, MARGIN),
                                              (BUY, SHORT)])
def test_place_when_credit_order_from_cash_account_then_not_a_margin_account(
        side: object, credit: object) -> None:
    assert Desk().code(account=CASH_ACCOUNT, side=side, credit=credit) == (
        Code.NOT_A_MARGIN_ACCOUNT)


def test_place_when_margin_buy_of_stock_not_margin_eligible_then_not_margin_eligible() -> None:
    desk = Desk()
    desk.do(c.ListInstrument(at=T0, instrument=tsmc(margin=False), reference=REF))
    assert desk.code(qty=10 * LOT, credit=MARGIN) == Code.NOT_MARGIN_ELIGIBLE
    assert first(desk.place(qty=10 * LOT), e.OrderUpdated).state is OrderState.PENDING_SEND


def test_place_when_short_sale_of_stock_not_short_eligible_then_not_short_eligible() -> None:
    desk = Desk()
    desk.do(c.ListInstrument(at=T0, instrument=tsmc(short=False), reference=REF))
    assert desk.code(side=SELL, credit=SHORT, price=7_630) == Code.NOT_SHORT_ELIGIBLE


def test_place_when_short_sale_below_previous_close_then_short_below_previous_close() -> None:
    desk = Desk()
    desk.do(c.ListInstrument(at=T0, instrument=tsmc(), reference=REF, previous_close=7_500))
    assert desk.code(side=SELL, credit=SHORT, price=7_490) == Code.SHORT_BELOW_PREVIOUS_CLOSE
    order = desk.order(desk.order_id(side=SELL, credit=SHORT, price=7_500))
    assert (order.state, order.reserved_credit) == (OrderState.PENDING_SEND, 67_500)


def test_place_when_market_short_sale_then_short_below_previous_close() -> None:
    assert Desk().code(side=SELL, credit=SHORT, order_type=MARKET, price=0) == (
        Code.SHORT_BELOW_PREVIOUS_CLOSE)


# -- 4. trade attributes -----------------------------------------------------------------------

def test_sell_when_more_than_holdings_then_insufficient_inventory() -> None:
    desk = Desk()
    assert desk.code(side=SELL, qty=HOLDING + LOT) == Code.INSUFFICIENT_INVENTORY
    assert desk.order(desk.order_id(side=SELL, qty=HOLDING)).held_shares == HOLDING


def test_sell_when_open_and_filled_sells_take_the_holding_then_insufficient_inventory() -> None:
    desk = Desk()
    open_sell = desk.live(side=SELL, qty=6 * LOT, price=7_730)
    desk.fill(open_sell, 2 * LOT, price=7_730)  # 2 sold, 4 still offered: 6 taken
    assert desk.account().available_shares(TSMC) == 4_000
    assert desk.code(side=SELL, qty=5 * LOT, price=7_730) == Code.INSUFFICIENT_INVENTORY
    desk.do(c.ExchangeCancelled(at=desk.tick(), order_id=open_sell, qty=4 * LOT))
    assert desk.account().sell_reserved == {TSMC: 2_000}  # what was sold stays sold
    assert desk.account().available_shares(TSMC) == 8_000
    assert desk.code(side=SELL, qty=9 * LOT, price=7_730) == Code.INSUFFICIENT_INVENTORY
    assert desk.order(desk.order_id(side=SELL, qty=8 * LOT, price=7_730)).held_shares == 8_000


def test_sell_when_todays_buy_filled_then_it_adds_to_what_can_be_sold() -> None:
    desk = Desk()
    desk.do(c.SetHolding(at=T0, account=ACCOUNT, symbol=TSMC, shares=0))
    buy = desk.live(qty=3 * LOT)
    assert desk.code(side=SELL, qty=LOT) == Code.INSUFFICIENT_INVENTORY  # open buy: nothing
    desk.fill(buy, 2 * LOT)
    assert desk.account().bought == {TSMC: 2_000}
    assert desk.code(side=SELL, qty=3 * LOT) == Code.INSUFFICIENT_INVENTORY
    sell = desk.order(desk.order_id(side=SELL, qty=2 * LOT))
    assert (sell.state, sell.held_shares) == (OrderState.PENDING_SEND, 2_000)
    assert desk.account().available_shares(TSMC) == 0


def test_sell_repaying_financing_when_inventory_short_then_insufficient_inventory() -> None:
    desk = Desk()
    assert desk.code(side=SELL, credit=MARGIN, qty=11 * LOT) == Code.INSUFFICIENT_INVENTORY


def test_buy_when_cost_above_trading_limit_then_trading_limit_exceeded() -> None:
    desk = Desk()
    desk.do(c.SetAccountLimits(at=T0, account=ACCOUNT, trading_limit=763_084,
                               credit_limit=0))
    assert desk.code(qty=10 * LOT) == Code.TRADING_LIMIT_EXCEEDED
    desk.do(c.SetAccountLimits(at=T0, account=ACCOUNT, trading_limit=763_085,
                               credit_limit=0))
    assert desk.account().used_trading == 0
    desk.order_id(qty=10 * LOT)
    assert desk.account().used_trading == 763_085
    assert desk.code(qty=LOT) == Code.TRADING_LIMIT_EXCEEDED  # what is held counts


def test_margin_buy_when_own_part_above_trading_limit_then_trading_limit_exceeded() -> None:
    desk = Desk()
    desk.do(c.SetAccountLimits(at=T0, account=ACCOUNT, trading_limit=306_084,
                               credit_limit=457_000))
    assert desk.code(qty=10 * LOT, credit=MARGIN) == Code.TRADING_LIMIT_EXCEEDED


def test_margin_buy_when_loan_above_credit_limit_then_credit_limit_exceeded() -> None:
    desk = Desk()
    desk.do(c.SetAccountLimits(at=T0, account=ACCOUNT, trading_limit=306_085,
                               credit_limit=456_999))
    assert desk.code(qty=10 * LOT, credit=MARGIN) == Code.CREDIT_LIMIT_EXCEEDED
    desk.do(c.SetAccountLimits(at=T0, account=ACCOUNT, trading_limit=306_085,
                               credit_limit=457_000))
    order = desk.order(desk.order_id(qty=10 * LOT, credit=MARGIN))
    assert (order.reserved_trading, order.reserved_credit) == (306_085, 457_000)


def test_short_sale_when_margin_above_credit_limit_then_credit_limit_exceeded() -> None:
    desk = Desk()
    desk.do(c.SetAccountLimits(at=T0, account=ACCOUNT, trading_limit=0, credit_limit=686_699))
    assert desk.code(side=SELL, credit=SHORT, qty=10 * LOT, price=7_630) == (
        Code.CREDIT_LIMIT_EXCEEDED)


def test_buy_when_broker_daily_limit_reached_across_accounts_then_broker_limit_exceeded() -> None:
    """1,000,000 a day: 763,085 (10 lots) + 305,234 (4 lots) is over; + 228,925 (3) is not."""
    desk = Desk(daily_buy_limit=1_000_000)
    desk.order_id(qty=10 * LOT)
    assert desk.code(account=CASH_ACCOUNT, qty=4 * LOT) == Code.BROKER_LIMIT_EXCEEDED
    desk.order_id(account=CASH_ACCOUNT, qty=3 * LOT)
    assert desk.state.brokers[BROKER].bought_today == 992_010
    assert desk.code(account=CASH_ACCOUNT, qty=LOT) == Code.BROKER_LIMIT_EXCEEDED
    # another broker's limit is its own
    other = desk.order(desk.order_id(broker=OTHER_BROKER, account=OTHER_ACCOUNT, qty=10 * LOT))
    assert other.state is OrderState.PENDING_SEND


def test_buy_when_order_amount_above_stock_limit_then_stock_limit_exceeded() -> None:
    """500,000 per order in 2330: 10 lots (763,085) over, 6 lots (457,851) under."""
    desk = Desk()
    desk.do(c.SetStockLimit(at=T0, broker=BROKER, symbol=TSMC, max_order_amount=500_000))
    assert desk.code(qty=10 * LOT) == Code.STOCK_LIMIT_EXCEEDED
    assert desk.code(qty=10 * LOT, credit=MARGIN) == Code.STOCK_LIMIT_EXCEEDED  # whole amount
    assert desk.order(desk.order_id(qty=6 * LOT)).reserved_trading == 457_851
    other = desk.order(desk.order_id(broker=OTHER_BROKER, account=OTHER_ACCOUNT, qty=10 * LOT))
    assert other.state is OrderState.PENDING_SEND


def test_short_sale_when_broker_has_daily_buy_limit_then_not_limited_by_it() -> None:
    desk = Desk(daily_buy_limit=1_000_000)
    order = desk.order(desk.order_id(side=SELL, credit=SHORT, qty=20 * LOT, price=7_630))
    assert (order.state, order.reserved_credit) == (OrderState.PENDING_SEND, 1_373_400)


# -- 5. regulator: disposition stocks ----------------------------------------------------------

def disposition_desk(level: Disposition) -> Desk:
    """3008 listed under ``level``; the account holds 20 lots of it, so sells pass inventory."""
    desk = Desk()
    desk.do(disposition_listing(level))
    desk.do(c.SetHolding(at=T0, account=ACCOUNT, symbol="3008", shares=20 * LOT))
    return desk


def test_place_when_first_disposition_and_10_lots_in_one_order_then_prepayment_required() -> None:
    desk = disposition_desk(Disposition.FIRST)
    assert desk.code(symbol="3008", qty=10 * LOT) == Code.DISPOSITION_PREPAYMENT_REQUIRED
    assert desk.code(symbol="3008", side=SELL, qty=10 * LOT) == (
        Code.DISPOSITION_PREPAYMENT_REQUIRED)
    assert desk.order(desk.order_id(symbol="3008", qty=9 * LOT)).state is (
        OrderState.PENDING_SEND)
    prepaid = desk.order(desk.order_id(symbol="3008", qty=10 * LOT, prepaid=True))
    assert (prepaid.state, prepaid.reserved_trading) == (OrderState.PENDING_SEND, 763_085)


def test_place_when_first_disposition_and_30_lots_in_a_day_then_prepayment_required() -> None:
    desk = disposition_desk(Disposition.FIRST)
    for _ in range(3):
        desk.order_id(symbol="3008", qty=9 * LOT)
    assert desk.account().day_lots == {"3008": 27}
    assert desk.code(symbol="3008", qty=3 * LOT) == Code.DISPOSITION_PREPAYMENT_REQUIRED
    assert desk.account().day_lots == {"3008": 27}  # a refused order does not count
    desk.order_id(symbol="3008", qty=2 * LOT)
    assert desk.account().day_lots == {"3008": 29}
    assert desk.code(symbol="3008", qty=LOT) == Code.DISPOSITION_PREPAYMENT_REQUIRED
    assert desk.order(desk.order_id(symbol="3008", qty=LOT, prepaid=True)).state is (
        OrderState.PENDING_SEND)
    # another account's day is its own
    other = desk.order(desk.order_id(symbol="3008", account=CASH_ACCOUNT, qty=9 * LOT))
    assert other.state is OrderState.PENDING_SEND


@pytest.mark.parametrize("level", [Disposition.REPEAT, Disposition.ALTERED])
def test_place_when_repeat_disposition_then_every_order_needs_prepayment(
        level: Disposition) -> None:
    desk = disposition_desk(level)
    assert desk.code(symbol="3008", qty=LOT) == Code.DISPOSITION_PREPAYMENT_REQUIRED
    assert desk.code(symbol="3008", side=SELL, qty=LOT) == Code.DISPOSITION_PREPAYMENT_REQUIRED
    assert desk.order(desk.order_id(symbol="3008", qty=LOT, prepaid=True)).state is (
        OrderState.PENDING_SEND)


# -- duplicate client references ---------------------------------------------------------------

def test_place_when_client_ref_reused_at_same_broker_then_duplicate_client_ref() -> None:
    desk = Desk()
    desk.order_id(client_ref="C-1")
    events = desk.place(client_ref="C-1", qty=2 * LOT)
    assert events == [e.OrderRejected(seq=desk.seq, broker=BROKER, account=ACCOUNT,
                                      client_ref="C-1", code=Code.DUPLICATE_CLIENT_REF)]
    assert len(desk.state.orders) == 1
    assert desk.account().used_trading == 76_308


def test_place_when_client_ref_used_by_another_broker_then_accepted() -> None:
    desk = Desk()
    first_id = desk.order_id(client_ref="C-1")
    second_id = desk.order_id(client_ref="C-1", broker=OTHER_BROKER, account=OTHER_ACCOUNT)
    assert first_id != second_id
    assert desk.state.brokers[BROKER].client_refs == {"C-1": first_id}
    assert desk.state.brokers[OTHER_BROKER].client_refs == {"C-1": second_id}


def test_place_when_client_ref_of_a_refused_order_then_it_may_be_used_again() -> None:
    desk = Desk()
    assert desk.code(client_ref="C-1", symbol="9999") == Code.UNKNOWN_SYMBOL
    assert desk.order(desk.order_id(client_ref="C-1")).client_ref == "C-1"


# -- the order of the checks -------------------------------------------------------------------

def test_place_when_broker_unknown_then_unknown_broker_before_anything_else() -> None:
    assert Desk().code(broker="9Z99", symbol="9999", account="x") == Code.UNKNOWN_BROKER


def test_place_when_duplicate_ref_and_bad_symbol_then_duplicate_client_ref_first() -> None:
    desk = Desk()
    desk.order_id(client_ref="C-1")
    assert desk.code(client_ref="C-1", symbol="9999") == Code.DUPLICATE_CLIENT_REF


def test_place_when_basic_and_account_both_fail_then_basic_code() -> None:
    desk = Desk()
    desk.status(ACCOUNT, AccountStatus.DEFAULTED)
    assert desk.code(price=7_625) == Code.PRICE_NOT_ON_TICK
    assert desk.code(account="00000000", qty=1_500) == Code.NOT_BOARD_LOTS


def test_place_when_account_and_stock_both_fail_then_account_code() -> None:
    desk = Desk()
    desk.do(c.ListInstrument(at=T0, instrument=tsmc(margin=False), reference=REF))
    desk.status(ACCOUNT, AccountStatus.SUSPENDED)
    assert desk.code(credit=MARGIN) == Code.ACCOUNT_SUSPENDED


def test_place_when_stock_and_trade_both_fail_then_stock_code() -> None:
    desk = Desk()
    desk.do(c.ListInstrument(at=T0, instrument=tsmc(margin=False), reference=REF))
    desk.do(c.SetAccountLimits(at=T0, account=ACCOUNT, trading_limit=0, credit_limit=0))
    assert desk.code(credit=MARGIN) == Code.NOT_MARGIN_ELIGIBLE


def test_place_when_trade_and_regulator_both_fail_then_trade_code() -> None:
    desk = Desk()
    desk.do(disposition_listing(Disposition.REPEAT))
    desk.do(c.SetAccountLimits(at=T0, account=ACCOUNT, trading_limit=0, credit_limit=0))
    assert desk.code(symbol="3008") == Code.TRADING_LIMIT_EXCEEDED


def test_place_when_refused_then_nothing_is_reserved_or_recorded() -> None:
    desk = Desk()
    for fields in ({"symbol": "9999"}, {"price": 9_000}, {"account": OTHER_ACCOUNT},
                   {"credit": MARGIN, "account": CASH_ACCOUNT}, {"side": SELL, "qty": 11 * LOT}):
        desk.place(**fields)
    account = desk.account()
    assert (account.used_trading, account.used_credit, account.sell_reserved) == (0, 0, {})
    assert desk.state.orders == {}
    assert desk.state.brokers[BROKER].client_refs == {}
    assert desk.state.brokers[BROKER].bought_today == 0
