"""Planning sales from a customer's inventory: quantities in whole lots of at most 499 per
order with an optional odd-lot remainder, prices given or relative to the reference on the
tick ladder within today's limits, and what cannot be sold named with its code."""

import pytest

from brokercloud.codes import Code
from brokercloud.core.model import Account, Listed
from brokercloud.gateway.inventory import (
    MAX_ORDERS,
    Sale,
    TooManyOrdersError,
    Unsellable,
    Want,
    limit_price,
    plan_sales,
    sellable_symbols,
)
from brokercloud.market.fees import FeeSchedule
from brokercloud.market.instruments import Instrument
from brokercloud.market.sessions import Session

LISTED = {"2317": Listed(Instrument(symbol="2317", name="Hon Hai"), 10450, 10450),
          "2330": Listed(Instrument(symbol="2330", name="TSMC"), 7470, 7470)}
REGULAR, ODD = Session.REGULAR, Session.ODD_LOT


def _account(**holdings: int) -> Account:
    account = Account("11110001", "9A00", "001", "Chen", margin=False, trading_limit=0,
                      credit_limit=0, fees=FeeSchedule(), day_trading=False)
    account.holdings = {symbol[1:]: shares for symbol, shares in holdings.items()}
    return account


def _plan(account: Account, *wants: Want, offset_bp: int = 0,
          odd_lots: bool = False) -> list[Sale | Unsellable]:
    return plan_sales(account, LISTED, wants, offset_bp=offset_bp, odd_lots=odd_lots,
                      client_ref="s1")


def test_plan_when_all_of_a_holding_then_whole_lots_at_the_reference():
    assert _plan(_account(s2317=12_345), Want("2317", None, 1000, None)) == [
        Sale("s1-2317-1", "2317", 12_000, 10450, REGULAR)]


def test_plan_when_odd_lots_asked_then_remainder_in_the_odd_lot_session():
    assert _plan(_account(s2317=12_345), Want("2317", None, 500, None), odd_lots=True) == [
        Sale("s1-2317-1", "2317", 6_000, 10450, REGULAR),
        Sale("s1-2317-odd", "2317", 172, 10450, ODD)]  # half of 12,345 is 6,172


def test_plan_when_quantity_above_available_then_capped_at_available():
    account = _account(s2330=3_000)
    account.sell_reserved["2330"] = 1_000  # an open sell holds a lot already
    assert _plan(account, Want("2330", 5_500, 1000, 7500)) == [
        Sale("s1-2330-1", "2330", 2_000, 7500, REGULAR)]


def test_plan_when_position_above_499_lots_then_split_into_orders_of_499():
    plan = _plan(_account(s2330=600_000), Want("2330", None, 1000, None))
    assert [(sale.client_ref, sale.qty) for sale in plan] == [("s1-2330-1", 499_000),
                                                             ("s1-2330-2", 101_000)]


@pytest.mark.parametrize(("offset_bp", "price"), [
    (0, 10450), (150, 10650),  # 106.0675 rounded up to the 0.5 tick
    (-1000, 9410),  # 94.05 is the limit down; on its 0.1 tick the price rounds up to 94.10
    (1000, 11450),  # 114.95 rounds up to 115.0, above limit up: kept at 114.50
])
def test_limit_price_when_offset_then_on_tick_rounded_up_within_limits(offset_bp, price):
    assert limit_price(LISTED["2317"], offset_bp) == price
    assert LISTED["2317"].limit_down <= price <= LISTED["2317"].limit_up
    assert price in LISTED["2317"].valid_prices


def test_plan_when_unknown_symbol_or_nothing_available_then_unsellable_with_code():
    assert _plan(_account(s2330=999), Want("9999", None, 1000, None),
                 Want("2330", None, 1000, None), Want("2317", None, 1000, None)) == [
        Unsellable("s1-9999", "9999", Code.UNKNOWN_SYMBOL),
        Unsellable("s1-2330", "2330", Code.NO_INVENTORY_TO_SELL),  # odd lots not asked
        Unsellable("s1-2317", "2317", Code.NO_INVENTORY_TO_SELL)]


def test_plan_when_more_than_max_orders_then_refused_before_building_them():
    huge = _account(s2330=499_000 * (MAX_ORDERS + 1))
    with pytest.raises(TooManyOrdersError):
        _plan(huge, Want("2330", None, 1000, None))
    enormous = _account(s2330=10**18)
    with pytest.raises(TooManyOrdersError):
        _plan(enormous, Want("2330", None, 1000, None))


def test_sellable_symbols_when_holdings_and_buys_then_those_with_shares_left_in_order():
    account = _account(s2330=1_000, s2317=2_000, s1101=500)
    account.bought["2603"] = 1_000
    account.sell_reserved["2317"] = 2_000
    assert sellable_symbols(account) == ["1101", "2330", "2603"]
