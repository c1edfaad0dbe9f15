"""Request and response bodies of the HTTP API: they are its OpenAPI schema, so every field
says its unit and limits."""

from __future__ import annotations

from pydantic import BaseModel, Field

from brokercloud.core import commands as c
from brokercloud.market.orders import OrderType, Side, TimeInForce
from brokercloud.market.sessions import Session

#: Far above any real order, and small enough that the journal (64-bit integers) can hold
#: every figure derived from them.
MAX_QTY = 10**10
MAX_PRICE = 10**8
MAX_AMOUNT = 10**15  # NT$


class LoginRequest(BaseModel):
    user_id: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class LoginResponse(BaseModel):
    token: str
    user_id: str
    broker: str
    role: str
    expires_at: int


class SignedBody(BaseModel):
    """The signature envelope of an investor's order, cancel or amend; staff leave it out.

    ``signature`` is RSA-PSS (SHA-256, MGF1-SHA-256, 32-byte salt), base64, over the compact
    JSON with sorted keys of the signed fields each request lists, ``timestamp`` and ``nonce``
    included. Re-sending the same signed request (same nonce and fields) returns the first
    one's outcome; reusing a nonce for anything else is refused (4208)."""

    timestamp: int | None = Field(default=None, ge=0, le=2**63 - 1,
                                  description="ms since the epoch, signed")
    nonce: str | None = Field(default=None, max_length=64,
                              description="unique per request; a retry re-sends the same")
    signature: str | None = Field(default=None, max_length=2048, description="base64 RSA-PSS")
    certificate: str | None = Field(default=None, max_length=8192, description="PEM")

    def _envelope(self) -> dict[str, str | int]:
        """Timestamp and nonce as signed; an absent one stays absent (SIGNATURE_MISSING)."""
        present = {"timestamp": self.timestamp, "nonce": self.nonce}
        return {key: value for key, value in present.items() if value is not None}


class OrderRequest(SignedBody):
    """A new order. Investors sign ``action`` ("new"), ``account``, ``client_ref``,
    ``symbol``, ``side``, ``qty``, ``price``, ``order_type``, ``tif`` (integers),
    ``session``, ``credit`` (strings), ``timestamp`` and ``nonce``."""

    account: str = Field(min_length=1, max_length=20)
    client_ref: str = Field(min_length=1, max_length=40)
    symbol: str = Field(min_length=1, max_length=12)
    side: Side
    qty: int = Field(gt=0, le=MAX_QTY, description="shares (one board lot is 1,000)")
    price: int = Field(default=0, ge=0, le=MAX_PRICE,
                       description="NT$0.01 units; 0 for market orders")
    order_type: OrderType = OrderType.LIMIT
    tif: TimeInForce = TimeInForce.ROD
    session: Session = Session.REGULAR
    credit: c.Credit = c.Credit.CASH
    prepaid: bool = False

    def signed_fields(self) -> dict[str, str | int]:
        """What an investor's signature covers (``gateway.signing.canonical`` of these)."""
        return {"action": "new", "account": self.account, "client_ref": self.client_ref,
                "symbol": self.symbol, "side": int(self.side), "qty": self.qty,
                "price": self.price, "order_type": int(self.order_type),
                "tif": int(self.tif), "session": str(self.session),
                "credit": str(self.credit), **self._envelope()}


class CertificateRequest(BaseModel):
    account: str = Field(min_length=1, max_length=20)
    csr: str = Field(min_length=1, max_length=8192, description="PEM certificate request")


class CertificateResponse(BaseModel):
    certificate: str = Field(description="PEM, bound to the broker and account")


class OrderView(BaseModel):
    order_id: str
    client_ref: str
    account: str
    symbol: str
    side: Side
    qty: int
    price: int
    state: str
    cum_qty: int
    leaves: int
    exchange_order_id: int


class FillView(BaseModel):
    order_id: str
    account: str
    exec_id: str
    at: int
    price: int
    qty: int


class Decision(BaseModel):
    approve: bool
    reason: str = Field(default="", max_length=200)


class ErrorBody(BaseModel):
    code: int
    message: str
    field: str | None = None


class PositionView(BaseModel):
    account: str
    symbol: str
    holding: int = Field(description="shares in the depository at the start of the day")
    bought: int = Field(description="shares bought today (filled)")
    sold: int = Field(description="shares sold today (filled)")
    position: int = Field(description="holding + bought - sold")
    open_sell: int = Field(description="shares offered in open sell orders")


class AccountRequest(BaseModel):
    account: str = Field(min_length=1, max_length=20, pattern=r"^[0-9A-Za-z]+$")
    branch: str = Field(min_length=1, max_length=10)
    name: str = Field(min_length=1, max_length=100)
    margin: bool = False
    trading_limit: int = Field(ge=0, le=MAX_AMOUNT, description="NT$ of buys a day")
    credit_limit: int = Field(default=0, ge=0, le=MAX_AMOUNT,
                              description="NT$ of financing and short margin")
    discount_bp: int = Field(default=10_000, ge=0, le=10_000,
                             description="commission discount, 10000 = none")


class LimitsRequest(BaseModel):
    trading_limit: int = Field(ge=0, le=MAX_AMOUNT)
    credit_limit: int = Field(ge=0, le=MAX_AMOUNT)


class StatusRequest(BaseModel):
    status: c.AccountStatus


class BrokerUsage(BaseModel):
    broker: str
    name: str
    branches: int
    accounts: int
    orders_today: int
    filled_orders: int
    messages_today: int = Field(description="messages sent to the exchange today, all lines")
    burst_capacity_per_s: float = Field(description="orders/s on every line the broker may "
                                                    "use, when the other brokers are idle")
    stream_sessions: int = Field(default=0, description="stream sessions of the broker's "
                                                        "users open on this AP process")


class AmendRequest(SignedBody):
    """Reduce the quantity (new total, keeps priority) or change the price; never both.
    Investors sign ``action`` ("amend"), ``account`` (the order's), ``order_id``, ``qty``
    and ``price`` (0 for the one not changed), ``timestamp`` and ``nonce``."""

    qty: int | None = Field(default=None, gt=0, le=MAX_QTY)
    price: int | None = Field(default=None, gt=0, le=MAX_PRICE)

    def signed_fields(self, account: str, order_id: str) -> dict[str, str | int]:
        """What an investor's signature of an amend covers: the order, the account it belongs
        to, and the new quantity and price (0: unchanged, never a valid new value)."""
        return {"action": "amend", "account": account, "order_id": order_id,
                "qty": self.qty or 0, "price": self.price or 0, **self._envelope()}


class CancelRequest(SignedBody):
    """The body of an investor's cancel: only the signature (staff send none). Investors
    sign ``action`` ("cancel"), ``account`` (the order's), ``order_id``, ``timestamp`` and
    ``nonce``."""

    def signed_fields(self, account: str, order_id: str) -> dict[str, str | int]:
        """What an investor's signature of a cancel covers: the order and its account."""
        return {"action": "cancel", "account": account, "order_id": order_id,
                **self._envelope()}


class BatchRequest(BaseModel):
    """A group order: many orders (one per customer, say) entered at once. Staff only."""

    orders: list[OrderRequest] = Field(min_length=1, max_length=500)


class BatchItem(BaseModel):
    client_ref: str
    order: OrderView | None = None
    error: ErrorBody | None = None


class StaffRequest(BaseModel):
    """A broker administrator adds a member of staff (investors come with their accounts)."""

    user_id: str = Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z._-]+$")
    role: c.Role
    password: str = Field(min_length=12, max_length=256)
    branch: str = Field(default="", max_length=10)
    level: int = Field(default=0, ge=0, le=9, description="supervisors: approval level")
    accounts: list[str] = Field(default=[], max_length=1000,
                                description="salespeople: their customers' accounts")


class CancelBatchRequest(BaseModel):
    order_ids: list[str] = Field(min_length=1, max_length=500)
