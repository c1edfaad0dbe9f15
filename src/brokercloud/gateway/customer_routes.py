"""Customer management through the AP server, from the back office's books: an account's
performance over a period, its monthly statement (對帳單) as a PDF, the broker's ranking of
customers by the commission they contributed, and its salespeople's results and bonuses.

An account's figures follow the settlement routes' scoping (its investor, its salesperson,
its branch's supervisor, the broker's staff); the ranking and the salespeople's results add up
every customer, so only broker-wide staff see them.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Response

from brokercloud.backoffice.customers import CustomerError, salespeople
from brokercloud.backoffice.performance import performance as account_performance
from brokercloud.backoffice.sales import contribution_ranking, salesperson_results
from brokercloud.backoffice.statement import statement as monthly_statement
from brokercloud.backoffice.statement_pdf import render
from brokercloud.codes import Code
from brokercloud.gateway.app import ApiError
from brokercloud.gateway.authz import Action, authorize_broker_wide
from brokercloud.gateway.customer_schemas import (
    ContributionView,
    PerformanceView,
    PositionView,
    SalesResultView,
)
from brokercloud.gateway.routes import CallerDep, GatewayDep, account_for
from brokercloud.gateway.settlement_routes import UNAVAILABLE, ledger_of

router = APIRouter()
MonthQuery = Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")


def _refused(error: CustomerError) -> ApiError:
    return ApiError(503 if error.code is Code.STATEMENT_FONT_MISSING else 422, error.code)


@router.get("/api/v1/accounts/{account}/performance", response_model=PerformanceView,
            responses=UNAVAILABLE)
async def performance(g: GatewayDep, caller: CallerDep, account: str, first: date,
                      last: date) -> PerformanceView:
    """Realized and unrealized P&L, fees, taxes and interest of one account over a period."""
    account_for(g, caller, Action.VIEW_SETTLEMENT, account)
    ledger = ledger_of(g)
    try:
        result = account_performance(ledger, caller.broker, account, first, last,
                                     ledger.prices)
    except CustomerError as error:
        raise _refused(error) from None
    return PerformanceView(
        account=result.account, first=result.first, last=result.last,
        realized=result.realized, unrealized=result.unrealized,
        commission=result.commission, tax=result.tax, short_fees=result.short_fees,
        interest=result.interest, uncosted_shares=result.uncosted_shares,
        positions=[PositionView(symbol=p.symbol, credit=str(p.credit), qty=p.qty, cost=p.cost,
                                price=p.price, unrealized=p.unrealized)
                   for p in result.positions])


@router.get("/api/v1/accounts/{account}/statement", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}, **UNAVAILABLE})
async def statement(g: GatewayDep, caller: CallerDep, account: str,
                    month: str = MonthQuery) -> Response:
    """The account's monthly statement as a PDF: trades, month-end holdings, cash movements
    and a chart of the daily net."""
    account_for(g, caller, Action.VIEW_SETTLEMENT, account)
    record = g.state.accounts[account]
    try:
        document = render(monthly_statement(ledger_of(g), caller.broker, account, month,
                                            name=record.name, branch=record.branch))
    except CustomerError as error:
        raise _refused(error) from None
    return Response(document, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{account}-{month}.pdf"'})


@router.get("/api/v1/customers/ranking", response_model=list[ContributionView],
            responses=UNAVAILABLE)
async def ranking(g: GatewayDep, caller: CallerDep, first: date, last: date,
                  branch: str | None = Query(default=None, max_length=10)
                  ) -> list[ContributionView]:
    """The broker's customers who traded in the period, by commission contributed."""
    authorize_broker_wide(caller, Action.VIEW_SETTLEMENT)
    try:
        rows = contribution_ranking(ledger_of(g), g.state.accounts, caller.broker, first, last,
                                    branch)
    except CustomerError as error:
        raise _refused(error) from None
    return [ContributionView(rank=row.rank, account=row.account, branch=row.branch,
                             commission=row.commission, fills=row.fills, value=row.value,
                             share_ppm=row.share_ppm) for row in rows]


@router.get("/api/v1/customers/salespeople", response_model=list[SalesResultView],
            responses=UNAVAILABLE)
async def sales_results(g: GatewayDep, caller: CallerDep, first: date, last: date,
                        bonus_ppm: int = Query(ge=0, le=1_000_000, description=(
                            "the bonus as a share of commission, parts per million"))
                        ) -> list[SalesResultView]:
    """Each salesperson's customers' commission over the period and the bonus on it, most
    first; a customer is credited to the first salesperson (by user ID) who serves it."""
    authorize_broker_wide(caller, Action.VIEW_SETTLEMENT)
    served = salespeople(g.identities.users_of(caller.broker), caller.broker)
    try:
        rows = salesperson_results(ledger_of(g), served, caller.broker, first, last, bonus_ppm)
    except CustomerError as error:
        raise _refused(error) from None
    return [SalesResultView(salesperson=row.salesperson, customers=row.customers,
                            commission=row.commission, bonus=row.bonus) for row in rows]
