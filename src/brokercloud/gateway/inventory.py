"""Selling from a customer's inventory, the salesperson's desk: which sell orders turn (part of)
what an account holds into orders, before any of them is placed.

- **Quantity**: what the account may sell now (``Account.available_shares``: holdings plus
  today's buys, minus what sells already hold), either a fraction of it (per mille) or a number
  of shares capped at it; whole board lots, at most 499 lots an order, so a large position
  becomes several orders; on request, the odd remainder as one intraday odd-lot order.
- **Price**: the one given, or the reference moved by ``offset_bp`` and rounded up to a tick (a
  sell is never priced below what was asked), kept within today's limits.
- **Client references** derive from the request's: ``<ref>-<symbol>-<n>`` and
  ``<ref>-<symbol>-odd``. Sending the same request again never places an order twice: where
  it plans a reference already used, the first order is the answer; where nothing is left to
  sell (the first request holds it), nothing is planned.

Each sale is then placed through the normal order path: the risk checks decide, not this plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from brokercloud.codes import Code
from brokercloud.core.model import Account, Listed
from brokercloud.market.lots import BOARD_LOT, MAX_BOARD_LOT_SHARES
from brokercloud.market.prices import round_up_to_tick
from brokercloud.market.sessions import Session

_PER_MILLE = 1_000
_BP = 10_000
MAX_ORDERS = 500  # one request's orders, as a group order's


class Want(NamedTuple):
    """What to sell of one symbol: ``qty`` shares, else ``fraction_pm`` of what is available;
    at ``price``, else at the request's offset from the reference."""

    symbol: str
    qty: int | None
    fraction_pm: int
    price: int | None


class Sale(NamedTuple):
    client_ref: str
    symbol: str
    qty: int
    price: int
    session: Session


class Unsellable(NamedTuple):
    client_ref: str
    symbol: str
    code: Code


class TooManyOrdersError(Exception):
    """The request would place more than ``MAX_ORDERS`` orders."""


def sellable_symbols(account: Account) -> list[str]:
    """Every symbol the account could sell some of now, in symbol order."""
    return sorted(symbol for symbol in set(account.holdings) | set(account.bought)
                  if account.available_shares(symbol) > 0)


def limit_price(listed: Listed, offset_bp: int) -> int:
    """The reference moved by ``offset_bp``, rounded up to a tick, within today's limits."""
    target = -(-listed.reference * (_BP + offset_bp) // _BP)
    price = round_up_to_tick(target, listed.instrument.kind)
    return min(max(price, listed.limit_down), listed.limit_up)


def plan_sales(account: Account, listed: Mapping[str, Listed], wants: Iterable[Want], *,
               offset_bp: int, odd_lots: bool, client_ref: str) -> list[Sale | Unsellable]:
    """The orders that sell what ``wants`` asks of the account, in the order asked. Raises
    ``TooManyOrdersError`` before building more than ``MAX_ORDERS`` of them."""
    plan: list[Sale | Unsellable] = []
    for want in wants:
        ref = f"{client_ref}-{want.symbol}"
        found = listed.get(want.symbol)
        if found is None:
            plan.append(Unsellable(ref, want.symbol, Code.UNKNOWN_SYMBOL))
            continue
        available = max(account.available_shares(want.symbol), 0)
        shares = min(available * want.fraction_pm // _PER_MILLE if want.qty is None
                     else want.qty, available)
        if len(plan) + shares // MAX_BOARD_LOT_SHARES > MAX_ORDERS:
            raise TooManyOrdersError
        price = want.price or limit_price(found, offset_bp)
        sales = [Sale(f"{ref}-{n}", want.symbol, qty, price, Session.REGULAR)
                 for n, qty in enumerate(_board_lot_orders(shares - shares % BOARD_LOT), 1)]
        if odd_lots and shares % BOARD_LOT:
            sales.append(Sale(f"{ref}-odd", want.symbol, shares % BOARD_LOT, price,
                              Session.ODD_LOT))
        plan += sales or [Unsellable(ref, want.symbol, Code.NO_INVENTORY_TO_SELL)]
        if len(plan) > MAX_ORDERS:
            raise TooManyOrdersError
    return plan


def _board_lot_orders(shares: int) -> list[int]:
    """Whole lots split into orders of at most 499 lots."""
    full, rest = divmod(shares, MAX_BOARD_LOT_SHARES)
    return [MAX_BOARD_LOT_SHARES] * full + ([rest] if rest else [])
