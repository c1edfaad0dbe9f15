"""Bodies of the customer-management endpoints: an account's performance and the broker's
contribution ranking. Amounts whole NT$, prices NT$0.01, quantities shares."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class PositionView(BaseModel):
    symbol: str
    credit: str = Field(description="cash, margin or short")
    qty: int = Field(description="shares still open (negative: short)")
    cost: int = Field(description="NT$ the open shares cost (a short's: its net proceeds)")
    price: int | None = Field(description="NT$0.01 the position is valued at; null: no price")
    unrealized: int | None


class PerformanceView(BaseModel):
    """Realized P&L by moving average cost over the period, what it paid, and the open
    positions valued at the last marked prices."""

    account: str
    first: date
    last: date
    realized: int
    unrealized: int
    commission: int
    tax: int
    short_fees: int
    interest: int
    uncosted_shares: int = Field(description="shares held without a known cost (opening "
                                             "holdings): no P&L is made up for them")
    positions: list[PositionView]


class ContributionView(BaseModel):
    rank: int
    account: str
    branch: str
    commission: int
    fills: int
    value: int = Field(description="NT$ traded")
    share_ppm: int = Field(description="of the ranked customers' commission, truncated")


class SalesResultView(BaseModel):
    """One salesperson's period: their customers' commission and the bonus on it."""

    salesperson: str
    customers: int
    commission: int = Field(description="NT$ of commission their customers paid")
    bonus: int = Field(description="NT$: commission x bonus_ppm, truncated once")
