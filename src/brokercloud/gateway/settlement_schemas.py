"""Bodies of the settlement endpoints: investors' net amounts and their totals, depository
holdings and cash, a broker's net with the exchange, and the exceptions queue. Part of the
OpenAPI schema; every amount is whole NT$ and every quantity shares."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class NetAmountView(BaseModel):
    """One account's net for one trade date, as the back office booked it so far."""

    account: str
    trade_date: date
    settle_date: date = Field(description="T+2 by the exchange calendar")
    receivable: int = Field(description="NT$ the investor receives (sells), gross")
    payable: int = Field(description="NT$ the investor pays (buys), gross")
    net: int = Field(description="receivable - payable: > 0 the broker pays the investor")
    fills: int = Field(description="fills booked into this amount")


class NetTotalView(BaseModel):
    """The returned accounts together on one settlement date: a salesperson's net settlement
    across customers, a supervisor's across the branch."""

    trade_date: date
    settle_date: date
    receivable: int
    payable: int
    net: int
    fills: int
    accounts: int = Field(description="accounts with trades settling on this date")


class SettlementsView(BaseModel):
    amounts: list[NetAmountView] = Field(description="per account and date, oldest first")
    totals: list[NetTotalView] = Field(description="per settlement date over ``amounts``")


class HoldingView(BaseModel):
    symbol: str
    depository: int = Field(description="shares in the depository, as settled")
    pledged: int = Field(description="shares in the margin account (collateral), as settled")
    owed: int = Field(description="short shares owed, as settled")
    available: int = Field(description="free shares counting today's trades")


class BalanceView(BaseModel):
    bank: int = Field(description="NT$ in the settlement bank account, as settled")
    loans: int = Field(description="NT$ of financing outstanding")
    held: int = Field(description="NT$ of short margin and proceeds the broker holds")


class DepositoryView(BaseModel):
    account: str
    holdings: list[HoldingView]
    interest_accrued: int = Field(description="NT$ of financing interest the open loans have "
                                              "accrued by today (charged on repayment)")
    balance: BalanceView | None = Field(description="null until the account's first "
                                                    "reference data reaches the back office")


class SymbolShares(BaseModel):
    symbol: str
    shares: int = Field(description="> 0 the exchange delivers to the broker")


class BrokerNetView(BaseModel):
    """The broker's multilateral net with the exchange for one trade date."""

    trade_date: date
    settle_date: date
    cash: int = Field(description="NT$: > 0 the exchange pays the broker")
    shares: list[SymbolShares]


class ExceptionView(BaseModel):
    """Something held for a person instead of booked or believed, with its code."""

    source: str = Field(description="'backoffice' (a fill not booked, a report for an "
                                    "unknown order) or 'core' (an exchange report that "
                                    "contradicts the order, or names none)")
    broker: str = Field(description="empty when the report named no order we know")
    account: str
    order_id: str
    exec_id: str
    code: int
    message: str = Field(description="the code's fixed sentence")
    detail: str


class AmountRequest(BaseModel):
    """Cash for an account: a deposit its bank reported, or a top-up of margin collateral."""

    amount: int = Field(gt=0, le=10**12, description="NT$")
    on: date | None = Field(default=None, description="the bank's value date")


class SharesRequest(BaseModel):
    """Margin loans repaid in cash, or a short closed with the investor's own shares."""

    symbol: str = Field(min_length=1, max_length=10)
    qty: int = Field(gt=0, le=10**9, description="shares")
    on: date = Field(description="the day it happens (interest counts calendar days to it)")


class DefaultView(BaseModel):
    """A default case: what the broker paid for the investor and the shares it withholds."""

    account: str
    settle_date: date
    owed: int = Field(description="NT$ the broker laid out on the investor's behalf")
    withheld: list[SymbolShares]
    closed: bool
    penalty: int | None = Field(description="NT$ paid with the case's closing; null while open")
