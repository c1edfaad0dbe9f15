"""Instruments as the exchange publishes them each morning: identity, kind and trading flags."""

from __future__ import annotations

import enum

import msgspec

MAX_SYMBOL_LENGTH = 12


class Market(enum.StrEnum):
    TWSE = "TWSE"
    TPEX = "TPEx"


class InstrumentKind(enum.StrEnum):
    STOCK = "stock"
    ETF = "etf"
    ETN = "etn"
    REIT = "reit"
    PREFERRED = "preferred"
    TDR = "tdr"

    @property
    def uses_fund_ticks(self) -> bool:
        """ETFs, ETNs and REITs trade on the fund tick table (0.01 / 0.05)."""
        return self in _FUND_KINDS


_FUND_KINDS = frozenset({InstrumentKind.ETF, InstrumentKind.ETN, InstrumentKind.REIT})


class Disposition(enum.IntEnum):
    """Disposition level; each has its own matching interval and pre-collection rule."""

    NONE = 0
    FIRST = 1  # call auction about every 5 minutes; pre-collect at 10 lots / 30 lots a day
    REPEAT = 2  # about every 20 minutes; pre-collect on every order
    ALTERED = 3  # altered-trading (full delivery): about every 30 minutes, always pre-collect

    @property
    def matching_interval_s(self) -> int:
        """Seconds between the periodic call auctions that replace continuous matching."""
        return _DISPOSITION_INTERVAL_S[self]

    def requires_prepayment(self, order_lots: int, day_lots: int) -> bool:
        """Whether an order must be pre-paid in cash (buy) or pre-delivered in shares (sell).

        ``day_lots`` is the account's lots in this stock today including this order.
        """
        if self is Disposition.NONE:
            return False
        if self is Disposition.FIRST:
            return (order_lots >= FIRST_DISPOSITION_ORDER_LOTS
                    or day_lots >= FIRST_DISPOSITION_DAY_LOTS)
        return True


_DISPOSITION_INTERVAL_S = {
    Disposition.NONE: 0,
    Disposition.FIRST: 5 * 60,
    Disposition.REPEAT: 20 * 60,
    Disposition.ALTERED: 30 * 60,
}
FIRST_DISPOSITION_ORDER_LOTS = 10
FIRST_DISPOSITION_DAY_LOTS = 30


class Instrument(msgspec.Struct, frozen=True, kw_only=True):
    """One listed security. ``limit_bp`` is the daily limit in basis points; None means none."""

    symbol: str
    name: str
    market: Market = Market.TWSE
    kind: InstrumentKind = InstrumentKind.STOCK
    isin: str = ""
    industry: str = ""
    margin_eligible: bool = False
    short_eligible: bool = False
    day_trade_eligible: bool = False
    alert: bool = False
    disposition: Disposition = Disposition.NONE
    limit_bp: int | None = 1_000

    def __post_init__(self) -> None:
        # isascii: str.isalnum() alone accepts CJK and full-width characters ("台積電").
        if (not self.symbol or len(self.symbol) > MAX_SYMBOL_LENGTH
                or not (self.symbol.isascii() and self.symbol.isalnum())):
            raise ValueError(
                f"symbol must be 1-{MAX_SYMBOL_LENGTH} ASCII letters or digits: {self.symbol!r}")

    @property
    def market_orders_allowed(self) -> bool:
        """Market orders are banned without a price limit and for disposition stocks."""
        return self.limit_bp is not None and self.disposition is Disposition.NONE
