"""What an open order holds against its account's limits: the margin rules' rounding, a buy's
cost, a margin buy's split into own part and loan, a short sale's margin, market orders at the
day's worst price; checked by hand and against an independent oracle."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brokercloud.core import commands as c
from brokercloud.core.commands import Credit
from brokercloud.core.model import Order
from brokercloud.core.reservations import financing, holds, reservation, short_margin
from brokercloud.market.fees import FeeSchedule
from brokercloud.market.orders import OrderType, Side, TimeInForce
from brokercloud.market.sessions import Session

from .support import ACCOUNT, LOT, MARGIN, MARKET, TSMC, Desk, oracle_holds

FEES = FeeSchedule()


def order(side: Side, credit: Credit, price: int, qty: int,
          order_type: OrderType = OrderType.LIMIT) -> Order:
    return Order("20251125-00000001", 0, "9A00", ACCOUNT, "u", "r", TSMC, side, qty, price,
                 order_type, TimeInForce.ROD, Session.REGULAR, credit, leaves=qty)


@pytest.mark.parametrize(("value", "loan"), [
    (762_000, 457_000), (999, 0), (1_666, 0), (1_667, 1_000), (100_000, 60_000),
    (0, 0), (76_200, 45_000),
])
def test_financing_when_value_given_then_60_percent_rounded_down_to_1000(value: int,
                                                                         loan: int) -> None:
    assert financing(value) == loan


@pytest.mark.parametrize(("value", "margin"), [
    (763_000, 686_700), (76_300, 68_700), (1, 100), (111, 100), (112, 200), (0, 0),
    (1_000_000, 900_000),
])
def test_short_margin_when_value_given_then_90_percent_rounded_up_to_100(value: int,
                                                                         margin: int) -> None:
    assert short_margin(value) == margin


@pytest.mark.parametrize(("side", "credit", "price", "qty", "expected"), [
    (Side.BUY, Credit.CASH, 7_620, 10_000, (763_085, 0)),
    (Side.BUY, Credit.MARGIN, 7_620, 10_000, (306_085, 457_000)),
    (Side.BUY, Credit.SHORT, 7_620, 10_000, (763_085, 0)),  # a buy covering a short
    (Side.SELL, Credit.CASH, 7_730, 5_000, (0, 0)),
    (Side.SELL, Credit.MARGIN, 7_730, 5_000, (0, 0)),  # a sell repaying financing
    (Side.SELL, Credit.SHORT, 7_730, 5_000, (0, 347_900)),  # 386,500 x 90% = 347,850
    (Side.BUY, Credit.CASH, 1_005, 1_000, (10_070, 0)),  # minimum fee 20 on 10,050
    (Side.BUY, Credit.CASH, 7_620, 0, (0, 0)),
])
def test_holds_when_order_kind_given_then_trading_and_credit_by_hand(
        side: Side, credit: Credit, price: int, qty: int, expected: tuple[int, int]) -> None:
    assert holds(order(side, credit, price, qty), price, qty, FEES) == expected


def test_holds_when_customer_has_a_discount_then_commission_discounted() -> None:
    """60% of 1,085.85 = 651.51 -> 651."""
    fees = FeeSchedule(discount_bp=6_000)
    assert holds(order(Side.BUY, Credit.CASH, 7_620, 10_000), 7_620, 10_000, fees) == (
        762_651, 0)


def test_reservation_when_market_order_then_at_limit_up_for_buys_limit_down_for_sells() -> None:
    desk = Desk()
    listed = desk.state.listed[TSMC]
    buy = order(Side.BUY, Credit.MARGIN, 0, 10_000, OrderType.MARKET)
    short = order(Side.SELL, Credit.SHORT, 0, 10_000, OrderType.MARKET)
    # 821,000 + 1,169 = 822,169; loan 492,600 -> 492,000
    assert reservation(buy, 10_000, listed, FEES) == (330_169, 492_000)
    # 673,000 x 90% = 605,700
    assert reservation(short, 10_000, listed, FEES) == (0, 605_700)


@settings(max_examples=300, deadline=None)
@given(side=st.sampled_from(Side), credit=st.sampled_from(Credit),
       price=st.integers(1, 600_000), shares=st.integers(0, 499_000),
       discount_bp=st.integers(0, 10_000), min_fee=st.sampled_from([0, 1, 20]))
def test_holds_when_any_order_then_matches_the_independent_oracle(
        side: Side, credit: Credit, price: int, shares: int, discount_bp: int,
        min_fee: int) -> None:
    fees = FeeSchedule(discount_bp=discount_bp, min_fee=min_fee)
    trading, credit_part = holds(order(side, credit, price, shares), price, shares, fees)
    assert (trading, credit_part) == oracle_holds(side, credit, price, shares,
                                                  discount_bp=discount_bp, min_fee=min_fee)
    assert trading >= 0
    assert credit_part >= 0


@settings(max_examples=200, deadline=None)
@given(price=st.integers(1_000, 100_000), lots=st.integers(1, 499),
       split=st.integers(0, 499))
def test_holds_when_margin_buy_split_in_two_fills_then_never_more_than_at_once(
        price: int, lots: int, split: int) -> None:
    """Per-fill rounding down of the loan can only lend less, so the own part of two fills is
    at least the own part of one (less at most the NT$1 a second commission truncation may
    drop): after a partial fill the account may hold up to NT$999 more of its trading limit."""
    shares = lots * 1_000
    part = min(split, lots) * 1_000
    whole = holds(order(Side.BUY, Credit.MARGIN, price, shares), price, shares, FEES)
    one = holds(order(Side.BUY, Credit.MARGIN, price, shares), price, part, FEES)
    two = holds(order(Side.BUY, Credit.MARGIN, price, shares), price, shares - part, FEES)
    assert one[1] + two[1] <= whole[1]
    assert one[0] + two[0] >= whole[0] - 1


# -- account-level: reservations move with the open quantity ----------------------------------

def test_reservations_when_filled_cancelled_in_steps_then_account_equals_what_fills_used(
        ) -> None:
    desk = Desk()
    order_id = desk.live(qty=10 * LOT, credit=MARGIN)
    steps = []
    for qty, price in ((LOT, 7_620), (2 * LOT, 7_610), (3 * LOT, 7_500)):
        desk.fill(order_id, qty, price)
        steps.append((desk.account().used_trading, desk.account().used_credit))
    desk.exchange_cancelled(order_id, 4 * LOT)
    spent = [oracle_holds(Side.BUY, MARGIN, 7_620, LOT),
             oracle_holds(Side.BUY, MARGIN, 7_610, 2 * LOT),
             oracle_holds(Side.BUY, MARGIN, 7_500, 3 * LOT)]
    # 76,200 + 108 - 45,000; 152,200 + 216 - 91,000; 225,000 + 320 - 135,000
    assert spent == [(31_308, 45_000), (61_416, 91_000), (90_320, 135_000)]
    assert (desk.account().used_trading, desk.account().used_credit) == (183_044, 271_000)
    # plus the open part at 76.2 after each fill: 9 lots 275,777 / 411,000, 7 lots
    # 214,160 / 320,000, 4 lots 123,234 / 182,000. Per-fill loan rounding means the first
    # step holds NT$1,000 more own money than the order reserved (306,085).
    assert steps == [(31_308 + 275_777, 45_000 + 411_000),
                     (31_308 + 61_416 + 214_160, 45_000 + 91_000 + 320_000),
                     (183_044 + 123_234, 271_000 + 182_000)]
    assert steps[0] == (307_085, 456_000)
    assert desk.state.brokers["9A00"].bought_today == 183_044 + 271_000


def test_reservations_when_instrument_relisted_then_market_order_release_still_exact() -> None:
    desk = Desk()
    order_id = desk.live(order_type=MARKET, price=0, qty=2 * LOT)
    assert desk.account().used_trading == 164_433
    desk.do(c.ListInstrument(at=desk.tick(), instrument=desk.state.listed[TSMC].instrument,
                             reference=8_000))  # limit-up now 88.0
    desk.fill(order_id, LOT, price=8_000)  # 80,000 + 114; the open lot now held at 88.0
    assert desk.account().used_trading == 80_114 + 88_125
    desk.exchange_cancelled(order_id, LOT)
    assert desk.account().used_trading == 80_114
