"""Every input that changes the back office, as one journaled command type each.

The back office is a pure function of these commands in order (``ledger.Ledger.apply``), like
the core of its journal: the same commands rebuild the same books after a restart. Amounts are
whole NT$, prices NT$0.01, quantities shares, dates Taiwan calendar dates.
"""

from __future__ import annotations

from datetime import date

import msgspec

from brokercloud.codes import Code
from brokercloud.core.commands import Credit
from brokercloud.market.fees import FeeSchedule
from brokercloud.market.instruments import InstrumentKind
from brokercloud.market.orders import Side

FINANCING_RATE_PPM = 45_000  # 4.5% a year: MARKET_RULES' example of a broker's rate
SHORT_FEE_PPM = 800  # 0.08% of a short sale's value (借券費), the example rate
ODD_LOT_MIN_FEE = 1  # many brokers' minimum commission for odd lots
MAX_DEFAULT_PENALTY_BP = 700  # a defaulter's penalty: up to 7% (MARKET_RULES)


class BoCmd(msgspec.Struct, frozen=True, tag=True, kw_only=True, gc=False):
    """Every back-office input: tagged, so the journal decodes each to its own kind."""


class RegisterBroker(BoCmd):
    """A member broker's own back-office charges (broker-set, so parameters)."""

    broker: str
    financing_rate_ppm: int = FINANCING_RATE_PPM
    short_fee_ppm: int = SHORT_FEE_PPM
    odd_lot_min_fee: int = ODD_LOT_MIN_FEE
    default_penalty_bp: int = MAX_DEFAULT_PENALTY_BP


class RegisterAccount(BoCmd):
    """An investor's account: ``fees`` is the broker's rate with this customer's discount, as
    the core holds it (``core.model.Account.fees``)."""

    account: str
    broker: str
    fees: FeeSchedule
    day_trading: bool = False


class RegisterSymbol(BoCmd):
    symbol: str
    kind: InstrumentKind = InstrumentKind.STOCK


class SetHolding(BoCmd):
    """Free shares in the investor's depository account, as the depository reports them."""

    account: str
    symbol: str
    shares: int


class Deposit(BoCmd):
    """Cash arriving in the investor's settlement bank account (what T+2 debits). ``on``:
    the bank's value date, for the monthly statement (None: not known)."""

    account: str
    amount: int
    on: date | None = None


class BookFill(BoCmd):
    """One execution to book. (order_id, exec_id) identifies it: order IDs are unique across
    brokers and days, exec IDs within an order."""

    broker: str
    account: str
    order_id: str
    exec_id: str
    symbol: str
    side: Side
    credit: Credit
    price: int
    qty: int
    trade_date: date


class HoldException(BoCmd):
    """Something the back office cannot book (e.g. the core's report for an unknown order):
    kept for the broker's operator, never dropped."""

    broker: str
    order_id: str
    code: Code
    detail: str = ""


class MarkPrices(BoCmd):
    """The day's prices (NT$0.01) for valuing margin accounts; a symbol left out keeps its
    last price."""

    date: date
    prices: dict[str, int]


class TopUp(BoCmd):
    """Cash from the investor's bank account to their margin collateral (meeting a call).
    ``on``: the date it moved, for the monthly statement (None: not known)."""

    account: str
    amount: int
    on: date | None = None


class Settle(BoCmd):
    """Run T+2 settlement for every trade settling on ``date``."""

    date: date


class RepayCash(BoCmd):
    """現金償還: the investor pays margin loans back in cash, with their interest up to ``on``,
    instead of selling; the financed shares leave the margin account for the depository and are
    theirs to sell for cash."""

    account: str
    symbol: str
    qty: int
    on: date


class ReturnShares(BoCmd):
    """現券償還: the short seller returns shares from their depository instead of buying them
    back; the short-sale margin and the proceeds the broker held come back to them."""

    account: str
    symbol: str
    qty: int
    on: date


class CloseDefault(BoCmd):
    """The defaulter of ``settle_date`` pays what the broker laid out plus the broker's
    penalty: the case closes and the withheld shares are theirs again."""

    account: str
    settle_date: date
    on: date | None = None


Command = (RegisterBroker | RegisterAccount | RegisterSymbol | SetHolding | Deposit | BookFill
           | HoldException | MarkPrices | TopUp | Settle | RepayCash | ReturnShares | CloseDefault)
