"""Each fill's amounts, computed by hand: the thesis's two examples, discounts, the minimum
fee, odd lots, day-trade and ETF tax, short sales and their covers, margin repayment."""

from __future__ import annotations

from datetime import date

from tests.backoffice.support import (
    BUY,
    DAY_TRADER,
    DISCOUNTED,
    ETF,
    FRI,
    MARGIN,
    SELL,
    SHORT,
    fill,
    ledger,
)

from brokercloud.backoffice import commands as b
from brokercloud.backoffice.booking import Release, book
from brokercloud.market.fees import FeeSchedule
from brokercloud.market.instruments import InstrumentKind

TERMS = b.RegisterBroker(broker="9A00")
STANDARD = FeeSchedule()

def test_book_when_thesis_margin_buy_then_loan_own_part_and_commission_exact() -> None:
    # 10 lots of 2330 at 76.2: value 762,000; commission 762,000 x 0.1425% = 1,085.85 -> 1,085;
    # financing 60% = 457,200 -> 457,000 (whole thousands); own part 305,000.
    booking = book(fill(BUY, 10_000, 7620, credit=MARGIN), FRI, STANDARD,
                   InstrumentKind.STOCK, TERMS)
    assert (booking.value, booking.commission, booking.tax) == (762_000, 1_085, 0)
    assert (booking.loan, booking.own_part) == (457_000, 305_000)
    assert booking.net == -306_085  # own part + commission
    assert booking.broker_cash == 1_085 - 457_000
    assert booking.exchange_cash == 762_000
    assert booking.settle_date == FRI

def test_book_when_thesis_cash_sell_then_commission_and_tax_exact() -> None:
    # 5 lots at 77.3: value 386,500; commission 550.76 -> 550; tax 0.3% 1,159.5 -> 1,159.
    booking = book(fill(SELL, 5_000, 7730), FRI, STANDARD, InstrumentKind.STOCK, TERMS)
    assert (booking.value, booking.commission, booking.tax) == (386_500, 550, 1_159)
    assert booking.net == 384_791
    assert booking.broker_cash == 550 + 1_159
    assert booking.exchange_cash == -386_500

def test_book_when_customer_discount_then_rate_times_discount_truncated() -> None:
    # 1 lot at 100.0 with a 60% discount: 100,000 x 0.1425% x 0.6 = 85.5 -> 85
    booking = book(fill(BUY, 1_000, 10_000, account=DISCOUNTED), FRI,
                   FeeSchedule(discount_bp=6_000), InstrumentKind.STOCK, TERMS)
    assert (booking.commission, booking.net) == (85, -100_085)

def test_book_when_commission_below_minimum_then_minimum_fee() -> None:
    # 1 lot at 10.00: 10,000 x 0.1425% = 14.25 -> below NT$20 -> 20
    booking = book(fill(BUY, 1_000, 1_000), FRI, STANDARD, InstrumentKind.STOCK, TERMS)
    assert (booking.value, booking.commission, booking.net) == (10_000, 20, -10_020)

def test_book_when_etf_sell_then_fund_tax_rate() -> None:
    # 1 lot of 0050 at 150.00: commission 213.75 -> 213; tax 0.1% = 150
    booking = book(fill(SELL, 1_000, 15_000, symbol=ETF), FRI, STANDARD, InstrumentKind.ETF,
                   TERMS)
    assert (booking.commission, booking.tax, booking.net) == (213, 150, 149_637)

def test_book_when_part_day_trade_then_each_part_taxed_at_its_rate() -> None:
    # 2 lots at 51.0, one of them a day trade: 51,000 x 0.15% = 76.5 -> 76, plus
    # 51,000 x 0.3% = 153; commission 102,000 x 0.1425% = 145.35 -> 145
    booking = book(fill(SELL, 2_000, 5_100, account=DAY_TRADER), FRI, STANDARD,
                   InstrumentKind.STOCK, TERMS, day_trade_qty=1_000)
    assert (booking.tax, booking.commission, booking.net) == (229, 145, 102_000 - 145 - 229)

def test_book_when_short_sale_then_margin_fee_and_held_proceeds() -> None:
    # 2 lots at 80.0: value 160,000; commission 228; tax 480; fee 0.08% 128;
    # proceeds held 160,000 - 228 - 480 - 128 = 159,164; margin 90% = 144,000
    booking = book(fill(SELL, 2_000, 8_000, credit=SHORT), FRI, STANDARD,
                   InstrumentKind.STOCK, TERMS)
    assert (booking.commission, booking.tax, booking.fee) == (228, 480, 128)
    assert (booking.collateral, booking.margin, booking.net) == (159_164, 144_000, -144_000)
    assert booking.broker_cash == 160_000 + 144_000

def test_book_when_short_margin_not_whole_hundreds_then_rounded_up() -> None:
    # 1 lot at 77.3: 90% of 77,300 = 69,570 -> 69,600
    booking = book(fill(SELL, 1_000, 7_730, credit=SHORT), FRI, STANDARD,
                   InstrumentKind.STOCK, TERMS)
    assert booking.margin == 69_600

def test_book_when_short_cover_then_margin_and_proceeds_released() -> None:
    # buy back 2 lots at 78.0: value 156,000; commission 222.3 -> 222;
    # released 144,000 + 159,164 = 303,164
    booking = book(fill(BUY, 2_000, 7_800, credit=SHORT), FRI, STANDARD,
                   InstrumentKind.STOCK, TERMS,
                   release=Release(margin=144_000, collateral=159_164))
    assert booking.net == -156_000 - 222 + 303_164 == 146_942
    assert booking.broker_cash == 222 - 303_164

def test_ledger_when_odd_lot_then_broker_odd_lot_minimum_fee() -> None:
    # 3 shares at 76.2: value 228.6 -> 228; commission 0.33 -> the odd-lot minimum NT$1
    books = ledger()
    command = fill(BUY, 3, 7_620)
    assert books.apply(command) == 0
    booking = books.booking(command.order_id, command.exec_id)
    assert booking is not None
    assert (booking.value, booking.commission, booking.net) == (228, 1, -229)

def test_ledger_when_margin_sell_then_loan_repaid_with_interest_for_days_out() -> None:
    # Margin buy 10 lots at 76.2 on Wed 2026-11-25 (loan 457,000 paid out Fri 11-27); sold
    # at 80.0 on Mon 12-07, settling Wed 12-09: 12 days of 4.5% on 457,000 =
    # 457,000 x 0.045 x 12 / 365 = 676.11 -> 676. Value 800,000; commission 1,140; tax 2,400.
    books = ledger()
    assert books.apply(fill(BUY, 10_000, 7_620, credit=MARGIN)) == 0
    sell = fill(SELL, 10_000, 8_000, credit=MARGIN, trade_date=date(2026, 12, 7))
    assert books.apply(sell) == 0
    booking = books.booking(sell.order_id, sell.exec_id)
    assert booking is not None
    assert (booking.loan, booking.interest) == (457_000, 676)
    assert booking.net == 800_000 - 1_140 - 2_400 - 457_000 - 676 == 338_784

def test_ledger_when_half_margin_position_sold_then_half_the_loan_repaid() -> None:
    # 3 lots at 76.2: value 228,600 -> loan 137,160 -> 137,000; selling 1 lot repays
    # 137,000 x 1/3 = 45,666.67 -> 45,666; the last 2 lots repay the remaining 91,334.
    books = ledger()
    books.apply(fill(BUY, 3_000, 7_620, credit=MARGIN))
    first = fill(SELL, 1_000, 7_620, credit=MARGIN)
    rest = fill(SELL, 2_000, 7_620, credit=MARGIN)
    assert books.apply(first) == books.apply(rest) == 0
    loans = [books.booking(f.order_id, f.exec_id).loan for f in (first, rest)]
    assert loans == [45_666, 91_334]
    assert all(books.booking(f.order_id, f.exec_id).interest == 0 for f in (first, rest))

def test_ledger_when_day_trader_buys_then_sells_then_day_trade_tax() -> None:
    # buy 2 lots at 50.0, sell 3 lots at 51.0: 2 lots day-traded (0.15% of 102,000 = 153),
    # 1 lot from holdings (0.3% of 51,000 = 153); commission 153,000 x 0.1425% = 218.025 -> 218
    books = ledger()
    books.apply(fill(BUY, 2_000, 5_000, account=DAY_TRADER))
    sell = fill(SELL, 3_000, 5_100, account=DAY_TRADER)
    assert books.apply(sell) == 0
    booking = books.booking(sell.order_id, sell.exec_id)
    assert (booking.day_trade_qty, booking.tax, booking.commission) == (2_000, 306, 218)
    assert booking.net == 153_000 - 218 - 306

def test_ledger_when_not_a_day_trading_account_then_stock_rate() -> None:
    # same trades in an ordinary account: 0.3% of 153,000 = 459
    books = ledger()
    books.apply(fill(BUY, 2_000, 5_000))
    sell = fill(SELL, 3_000, 5_100)
    books.apply(sell)
    assert books.booking(sell.order_id, sell.exec_id).tax == 459

def test_ledger_when_day_trade_after_statute_sunset_then_stock_rate() -> None:
    # the 0.15% rate ends 2027-12-31: on 2028-01-04 the sell pays 0.3% of 51,000 = 153
    books = ledger()
    day = date(2028, 1, 4)
    books.apply(fill(BUY, 1_000, 5_000, account=DAY_TRADER, trade_date=day))
    sell = fill(SELL, 1_000, 5_100, account=DAY_TRADER, trade_date=day)
    books.apply(sell)
    booking = books.booking(sell.order_id, sell.exec_id)
    assert (booking.day_trade_qty, booking.tax) == (1_000, 153)

def test_ledger_when_thesis_examples_then_net_amount_for_the_day() -> None:
    books = ledger()
    books.apply(fill(BUY, 10_000, 7_620, credit=MARGIN))
    books.apply(fill(SELL, 5_000, 7_730))
    amount = books.net_amount("12345678", date(2026, 11, 27))
    assert amount is not None
    assert (amount.receivable, amount.payable, amount.net, amount.fills) == (
        384_791, 306_085, 78_706, 2)
