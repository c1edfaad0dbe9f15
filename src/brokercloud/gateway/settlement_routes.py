"""Settlement as the channels see it, from the back office: net amounts per account and date
with their totals, an account's depository holdings and cash, the broker's net with the
exchange, and the exceptions queue.

Scoping is the other routes': an investor sees its own accounts, a salesperson its
customers', a branch supervisor its branch's, broker staff their broker's; another broker's
account and a missing one are refused alike. The broker's net with the exchange and its
exceptions add up every customer's trades, so only broker-wide staff see them
(``authz.authorize_broker_wide``); the operator sees every broker's exceptions with the core's
unbelieved and unplaceable reports. Clerks see none of it (order tickets and fills only).

``GET /api/v1/settlements`` returns the amounts and, per settlement date, their total over
the returned accounts: for a salesperson that total is the net settlement across its
customers, so there is no separate summary endpoint.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query

from brokercloud.backoffice.ledger import Ledger
from brokercloud.backoffice.queries import (
    balance_of,
    broker_nets,
    holdings_of,
    interest_accrued,
)
from brokercloud.backoffice.store import BackOffice
from brokercloud.codes import Code
from brokercloud.gateway.app import ApiError, GatewayContext
from brokercloud.gateway.authz import (
    Action,
    authorize,
    authorize_broker_wide,
)
from brokercloud.gateway.routes import CallerDep, GatewayDep, account_for
from brokercloud.gateway.schemas import ErrorBody
from brokercloud.gateway.settlement_schemas import (
    BalanceView,
    BrokerNetView,
    DepositoryView,
    ExceptionView,
    HoldingView,
    SettlementsView,
    SymbolShares,
)
from brokercloud.gateway.settlements import exceptions, net_view, totals, visible_nets
from brokercloud.market.sessions import taiwan_date

router = APIRouter()
#: The answer of an AP server started without a back office.
UNAVAILABLE: dict[int | str, dict[str, Any]] = {503: {"model": ErrorBody}}
AccountQuery = Query(default=None, min_length=1, max_length=20)


def office_of(g: GatewayContext) -> BackOffice:
    """The back office, or 503 BACK_OFFICE_UNAVAILABLE from an AP server started without."""
    if g.back_office is None:
        raise ApiError(503, Code.BACK_OFFICE_UNAVAILABLE)
    return g.back_office


def ledger_of(g: GatewayContext) -> Ledger:
    return office_of(g).ledger


@router.get("/api/v1/settlements", response_model=SettlementsView, responses=UNAVAILABLE)
async def settlements(g: GatewayDep, caller: CallerDep, account: str | None = AccountQuery,
                      settle_date: date | None = None) -> SettlementsView:
    """Unsettled net amounts of the accounts the caller may see (optionally one account, one
    settlement date), and their total per settlement date."""
    authorize(caller, Action.VIEW_SETTLEMENT, broker=caller.broker)
    if account is not None:
        account_for(g, caller, Action.VIEW_SETTLEMENT, account)
    amounts = [amount for amount in visible_nets(ledger_of(g), caller, account)
               if settle_date is None or amount.settle_date == settle_date]
    return SettlementsView(amounts=[net_view(amount) for amount in amounts],
                           totals=totals(amounts))


@router.get("/api/v1/accounts/{account}/depository", response_model=DepositoryView,
            responses=UNAVAILABLE)
async def depository(g: GatewayDep, caller: CallerDep, account: str) -> DepositoryView:
    """The account's shares and cash as settled, with free shares counting today's trades."""
    account_for(g, caller, Action.VIEW_SETTLEMENT, account)
    ledger = ledger_of(g)
    balance = balance_of(ledger, caller.broker, account)
    return DepositoryView(
        account=account,
        interest_accrued=interest_accrued(ledger, caller.broker, account,
                                          taiwan_date(g.now_ms())),
        holdings=[HoldingView(symbol=h.symbol, depository=h.depository, pledged=h.pledged,
                              owed=h.owed, available=h.available)
                  for h in holdings_of(ledger, caller.broker, account)],
        balance=None if balance is None else BalanceView(bank=balance.bank, loans=balance.loans,
                                                         held=balance.held))


@router.get("/api/v1/settlements/broker", response_model=list[BrokerNetView],
            responses=UNAVAILABLE)
async def broker_settlements(g: GatewayDep, caller: CallerDep) -> list[BrokerNetView]:
    """The caller's broker's multilateral net with the exchange per trade date, oldest first
    (settled dates included): cash and shares per symbol. Broker-wide staff only."""
    authorize_broker_wide(caller, Action.VIEW_SETTLEMENT)
    return [BrokerNetView(trade_date=net.trade_date, settle_date=net.settle_date, cash=net.cash,
                          shares=[SymbolShares(symbol=symbol, shares=shares)
                                  for symbol, shares in sorted(net.shares.items())])
            for net in broker_nets(ledger_of(g), caller.broker)]


@router.get("/api/v1/exceptions", response_model=list[ExceptionView], responses=UNAVAILABLE)
async def broker_exceptions(g: GatewayDep, caller: CallerDep) -> list[ExceptionView]:
    """The caller's broker's fills held unbooked and reports the core did not believe."""
    authorize_broker_wide(caller, Action.VIEW_EXCEPTIONS)
    return exceptions(ledger_of(g), g.state, caller.broker)


@router.get("/api/v1/platform/exceptions", response_model=list[ExceptionView],
            responses=UNAVAILABLE)
async def platform_exceptions(g: GatewayDep, caller: CallerDep,
                              broker: str | None = Query(default=None, max_length=10)
                              ) -> list[ExceptionView]:
    """The operator's queue: every broker's (or one ``broker``'s) exceptions, and the
    reports for orders nobody knows."""
    authorize(caller, Action.VIEW_PLATFORM)
    return exceptions(ledger_of(g), g.state, broker)
