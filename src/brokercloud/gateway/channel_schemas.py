"""Bodies of the channel endpoints beyond order entry: account views and commission discounts
(broker administrators), the approval audit (supervisors), sales from a customer's inventory
(salespeople) and the shared lines (the platform operator). Part of the OpenAPI schema: every
field says its unit and limits."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from brokercloud.core import commands as c
from brokercloud.gateway.schemas import MAX_PRICE, MAX_QTY


class AccountView(BaseModel):
    account: str
    branch: str
    name: str
    status: c.AccountStatus
    margin: bool
    day_trading: bool
    trading_limit: int = Field(description="NT$ of buys a day")
    credit_limit: int = Field(description="NT$ of financing and short margin")
    used_trading: int = Field(description="NT$ held by open buys and spent today")
    used_credit: int = Field(description="NT$ of credit held and used today")
    commission_rate_ppm: int = Field(description="the broker's rate, parts per million of value")
    discount_bp: int = Field(description="share of the rate this customer pays, basis points "
                                         "(10000 = no discount, 6000 = 6折)")
    min_fee: int = Field(description="NT$ per trade at least")


class DiscountRequest(BaseModel):
    discount_bp: int = Field(ge=0, le=10_000,
                             description="share of the broker's rate the customer pays, basis "
                                         "points: 10000 = no discount, 6000 = 6折")


class AuditEntryView(BaseModel):
    order_id: str
    account: str
    at: int = Field(description="ms since the epoch")
    seq: int = Field(description="journal sequence number of the command")
    what: str = Field(description="needs_approval, approved, denied, approval_expired, or "
                                  "'approve refused (code)' / 'deny refused (code)'")
    by: str = Field(description="the user (or 'system')")


class InventoryItem(BaseModel):
    """One symbol to sell: ``qty`` shares or ``fraction_pm`` of what is available (neither:
    the request's fraction), at ``price`` or at the request's offset from the reference."""

    symbol: str = Field(min_length=1, max_length=12)
    qty: int | None = Field(default=None, gt=0, le=MAX_QTY,
                            description="shares; capped at what the account may sell")
    fraction_pm: int | None = Field(default=None, ge=1, le=1000,
                                    description="per mille of the shares available to sell")
    price: int | None = Field(default=None, gt=0, le=MAX_PRICE, description="NT$0.01 units")

    @model_validator(mode="after")
    def _one_quantity(self) -> InventoryItem:
        if self.qty is not None and self.fraction_pm is not None:
            raise ValueError("give qty or fraction_pm, not both")
        return self


class InventorySaleRequest(BaseModel):
    """Sell (part of) a customer's holdings: one order per symbol and up to 499 lots, each
    placed through the normal order path. Salespeople, for their own customers."""

    account: str = Field(min_length=1, max_length=20)
    client_ref: str = Field(min_length=1, max_length=20,
                            description="each order's client reference is "
                                        "<client_ref>-<symbol>-<n> (or -odd): resending the "
                                        "same request places nothing twice")
    items: list[InventoryItem] = Field(default=[], max_length=100,
                                       description="empty: every symbol the account may sell")
    fraction_pm: int = Field(default=1000, ge=1, le=1000,
                             description="per mille of the available shares, for items "
                                         "without qty or fraction_pm")
    offset_bp: int = Field(default=0, ge=-1000, le=1000,
                           description="for items without a price: the reference moved by "
                                       "this many basis points, rounded up to a tick, within "
                                       "today's limits")
    odd_lots: bool = Field(default=False,
                           description="also sell the odd remainder (intraday odd-lot session)")

    @model_validator(mode="after")
    def _distinct_symbols(self) -> InventorySaleRequest:
        symbols = [item.symbol for item in self.items]
        if len(set(symbols)) != len(symbols):
            raise ValueError("each symbol at most once")
        return self


class LineBrokerUse(BaseModel):
    broker: str
    messages: int = Field(description="messages sent today for this broker on this line")
    share_pm: int = Field(description="per mille of the line's messages today")


class LineView(BaseModel):
    line: str
    rate_per_s: float = Field(description="the line's capacity, messages a second")
    brokers: list[str] = Field(description="member brokers allowed on the line")
    connected: bool
    messages_today: int
    by_broker: list[LineBrokerUse]
