"""Commission and securities transaction tax, in whole NT$ rounded down.

Everything is computed from the exact trade value in NT$0.01 x shares (``price * shares``) and
divided once at the end, so a discount or a rate never rounds an intermediate amount; the result
is the integer a broker's statement shows. Truncation is the platform convention (MARKET_RULES).
"""

from __future__ import annotations

from datetime import date

import msgspec

from brokercloud.market.instruments import InstrumentKind

_CENTS = 100  # NT$0.01 per NT$
_PPM = 1_000_000
_BP = 10_000

STANDARD_RATE_PPM = 1_425  # 0.1425%, the ceiling rate brokers discount from
DEFAULT_MIN_FEE = 20  # NT$ per board-lot trade; brokers set their own

STOCK_TAX_PPM = 3_000  # 0.3%: stocks and preferred shares
DAY_TRADE_TAX_PPM = 1_500  # 0.15%: the sell leg of a same-day round trip in a stock
FUND_TAX_PPM = 1_000  # 0.1%: ETFs, ETNs, TDRs
#: The reduced day-trade rate is a temporary statute; after this date sells pay the stock rate.
DAY_TRADE_TAX_UNTIL = date(2027, 12, 31)

_TAX_PPM: dict[InstrumentKind, int] = {
    InstrumentKind.STOCK: STOCK_TAX_PPM,
    InstrumentKind.PREFERRED: STOCK_TAX_PPM,
    InstrumentKind.ETF: FUND_TAX_PPM,
    InstrumentKind.ETN: FUND_TAX_PPM,
    InstrumentKind.TDR: FUND_TAX_PPM,
    InstrumentKind.REIT: 0,
}


class FeeSchedule(msgspec.Struct, frozen=True, kw_only=True):
    """One broker's commission terms for one customer.

    ``rate_ppm`` in parts per million of value (1,425 = 0.1425%), ``discount_bp`` the share of
    that rate the customer pays in basis points (10,000 = no discount, 6,000 = "6折"),
    ``min_fee`` in NT$ per trade (odd-lot schedules often use NT$1).
    """

    rate_ppm: int = STANDARD_RATE_PPM
    discount_bp: int = _BP
    min_fee: int = DEFAULT_MIN_FEE

    def __post_init__(self) -> None:
        if self.rate_ppm < 0 or not 0 <= self.discount_bp <= _BP or self.min_fee < 0:
            raise ValueError(f"invalid fee schedule: {self!r}")


STANDARD_FEES = FeeSchedule()
#: Example odd-lot terms: same rate, NT$1 minimum (many brokers' odd-lot offer).
ODD_LOT_FEES = FeeSchedule(min_fee=1)


def trade_value(price: int, shares: int) -> int:
    """Value in whole NT$, truncated: price (NT$0.01) x shares."""
    return price * shares // _CENTS


def commission(price: int, shares: int, fees: FeeSchedule = STANDARD_FEES) -> int:
    """value x rate x discount, truncated once, then at least the minimum fee (none for 0)."""
    exact = price * shares  # NT$0.01
    if exact <= 0:
        return 0
    fee = exact * fees.rate_ppm * fees.discount_bp // (_CENTS * _PPM * _BP)
    return max(fee, fees.min_fee)


def tax_rate_ppm(kind: InstrumentKind, *, day_trade: bool = False,
                 trade_date: date | None = None) -> int:
    """The seller's tax rate; the day-trade rate applies to stocks only, until its sunset."""
    if (day_trade and kind is InstrumentKind.STOCK
            and (trade_date is None or trade_date <= DAY_TRADE_TAX_UNTIL)):
        return DAY_TRADE_TAX_PPM
    return _TAX_PPM[kind]


def transaction_tax(price: int, shares: int, kind: InstrumentKind = InstrumentKind.STOCK, *,
                    day_trade: bool = False, trade_date: date | None = None) -> int:
    """Securities transaction tax on a sell, truncated (buyers pay none)."""
    rate = tax_rate_ppm(kind, day_trade=day_trade, trade_date=trade_date)
    return price * shares * rate // (_CENTS * _PPM)


def buy_amount(price: int, shares: int, fees: FeeSchedule = STANDARD_FEES) -> int:
    """What the buyer pays at settlement: value + commission."""
    return trade_value(price, shares) + commission(price, shares, fees)


def sell_amount(price: int, shares: int, kind: InstrumentKind = InstrumentKind.STOCK,
                fees: FeeSchedule = STANDARD_FEES, *, day_trade: bool = False,
                trade_date: date | None = None) -> int:
    """What the seller receives at settlement: value - commission - tax."""
    return (trade_value(price, shares) - commission(price, shares, fees)
            - transaction_tax(price, shares, kind, day_trade=day_trade, trade_date=trade_date))
