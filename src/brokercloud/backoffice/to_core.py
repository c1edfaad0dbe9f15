"""What the back office asks of the core: defaults after settlement, each day's opening
holdings, and forced disposals, as the core's own commands.

The core stays the only place that decides on orders and accounts; the back office submits
commands to its sequencer like any other client, and each is durable in the core's journal.
"""

from __future__ import annotations

from datetime import date

from brokercloud.backoffice import commands as b
from brokercloud.backoffice.ledger import Ledger
from brokercloud.backoffice.margin import DisposalOrder
from brokercloud.backoffice.store import BackOffice
from brokercloud.codes import Code
from brokercloud.core import commands as c
from brokercloud.core.sequencer import Sequencer
from brokercloud.core.state import CoreState
from brokercloud.market.lots import BOARD_LOT, MAX_BOARD_LOT_SHARES
from brokercloud.market.orders import OrderType
from brokercloud.market.sessions import Session


def due_settlements(ledger: Ledger, today: date) -> list[b.Settle]:
    """Every settlement date up to ``today`` with trades not yet settled, oldest first."""
    return [b.Settle(date=day) for day in sorted(ledger.days)
            if day <= today and day not in ledger.settled]


async def settle_due(office: BackOffice, sequencer: Sequencer, today: date) -> list[Code]:
    """Settle what is due and tell the core of every investor who defaulted (the risk checks
    then refuse their orders with ACCOUNT_DEFAULTED). A stop between the two loses the
    status change: the default record stays in the books for the broker's workflow."""
    codes = []
    for command in due_settlements(office.ledger, today):
        [code] = office.execute([command])
        codes.append(code)
        if code is Code.OK:
            for change in office.ledger.settled[command.date].status_changes:
                await sequencer.submit(change)
    return codes


def start_of_day_holdings(ledger: Ledger, today: date) -> dict[str, dict[str, int]]:
    """Each account's shares at the start of ``today``, by symbol: settled in the depository
    and margin accounts, plus what earlier days traded that has not settled yet (T+2: bought
    shares can be sold before they arrive). Shares withheld from a defaulter are not theirs."""
    holdings: dict[str, dict[str, int]] = {}
    for name, books in ledger.accounts.items():
        shares = dict(books.depository)
        for symbol, qty in books.pledged.items():
            shares[symbol] = shares.get(symbol, 0) + qty
        for settle_date, part in books.days.items():
            if ledger.days[settle_date].trade_date < today:
                for symbol, (free, pledged, _) in part.shares.items():
                    shares[symbol] = shares.get(symbol, 0) + free + pledged
        holdings[name] = {symbol: qty for symbol, qty in shares.items() if qty}
    return holdings


def holdings_for_core(state: CoreState, ledger: Ledger, today: date,
                      at: int) -> list[c.SetHolding]:
    """The core's start-of-day holdings where they differ from the back office's (the core
    keeps only today's trades; settlement is the back office's). Nothing when they agree,
    so sending them again in the middle of a day changes nothing."""
    commands = []
    for name, shares in start_of_day_holdings(ledger, today).items():
        account = state.accounts.get(name)
        if account is None:
            continue
        for symbol in sorted(set(shares) | set(account.holdings)):
            if shares.get(symbol, 0) != account.holdings.get(symbol, 0):
                commands.append(c.SetHolding(at=at, account=name, symbol=symbol,
                                             shares=shares.get(symbol, 0)))
    return commands


DISPOSAL_USER = "backoffice"  # who the core's audit trail names for forced disposals


def disposal_commands(orders: list[DisposalOrder], prices: dict[str, int],
                      at: int) -> list[c.PlaceOrder]:
    """The core's orders for forced disposals: market orders of at most 499 lots each, and an
    odd remainder as an odd-lot limit order at the last marked price (odd lots take limit
    orders only). Client references name the day, account and symbol, so submitting them
    twice is refused by the core as a duplicate rather than sold twice."""
    commands = []
    for order in orders:
        whole = order.qty - order.qty % BOARD_LOT
        chunks = [MAX_BOARD_LOT_SHARES] * (whole // MAX_BOARD_LOT_SHARES)
        chunks += [whole % MAX_BOARD_LOT_SHARES, order.qty % BOARD_LOT]
        ref = f"disposal-{order.on:%Y%m%d}-{order.account}-{order.symbol}"
        for n, qty in enumerate(chunks):
            if not qty:
                continue
            odd = qty < BOARD_LOT
            commands.append(c.PlaceOrder(
                at=at, broker=order.broker, account=order.account, user=DISPOSAL_USER,
                client_ref=f"{ref}-{n}", symbol=order.symbol, side=order.side, qty=qty,
                price=prices[order.symbol] if odd else 0,
                order_type=OrderType.LIMIT if odd else OrderType.MARKET,
                session=Session.ODD_LOT if odd else Session.REGULAR, credit=order.credit))
    return commands
