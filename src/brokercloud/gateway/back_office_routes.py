"""What a broker's administrator records in the back office for a customer: bank deposits,
margin top-ups, loans repaid in cash (現金償還), shorts closed with shares (現券償還), and the
default cases with their closing once the defaulter pays.

Each is a back-office command, journaled before it applies; a refusal is the back office's
code and sentence (422). The core follows where its own records change: a closed case reopens
the account, returned shares leave the core's holdings. Another broker's account and a missing
one are refused alike (403).
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter

from brokercloud.backoffice import commands as b
from brokercloud.backoffice.queries import balance_of, defaults_of
from brokercloud.backoffice.store import BackOffice
from brokercloud.backoffice.to_core import close_default, holdings_for_core
from brokercloud.codes import Code
from brokercloud.gateway.app import ApiError, GatewayContext
from brokercloud.gateway.authz import Action, Caller
from brokercloud.gateway.authz import authorize_broker_wide as broker_wide
from brokercloud.gateway.routes import CallerDep, GatewayDep, account_for
from brokercloud.gateway.settlement_routes import UNAVAILABLE, office_of
from brokercloud.gateway.settlement_schemas import (
    AmountRequest,
    BalanceView,
    DefaultView,
    SharesRequest,
    SymbolShares,
)
from brokercloud.market.sessions import taiwan_date

router = APIRouter()


def _managed(g: GatewayContext, caller: Caller, account: str) -> BackOffice:
    """The back office, for an account the caller administers."""
    account_for(g, caller, Action.MANAGE_ACCOUNTS, account)
    return office_of(g)


def _record(g: GatewayContext, caller: Caller, command: b.Deposit | b.TopUp | b.RepayCash
            | b.ReturnShares) -> BackOffice:
    """Journal and apply ``command`` for an account the caller administers; the back
    office's refusal is answered 422 with its code."""
    office = _managed(g, caller, command.account)
    [code] = office.execute([command])
    if code is not Code.OK:
        raise ApiError(422, code)
    return office


def _balance(office: BackOffice, caller: Caller, account: str) -> BalanceView:
    balance = balance_of(office.ledger, caller.broker, account)
    if balance is None:  # the account has not reached the back office yet
        raise ApiError(503, Code.BACK_OFFICE_UNAVAILABLE)
    return BalanceView(bank=balance.bank, loans=balance.loans, held=balance.held)


@router.post("/api/v1/accounts/{account}/deposits", response_model=BalanceView,
             responses=UNAVAILABLE)
async def deposit(g: GatewayDep, caller: CallerDep, account: str,
                  body: AmountRequest) -> BalanceView:
    """A deposit the investor's bank reported into their settlement account."""
    office = _record(g, caller, b.Deposit(account=account, amount=body.amount, on=body.on))
    return _balance(office, caller, account)


@router.post("/api/v1/accounts/{account}/margin/top-up", response_model=BalanceView,
             responses=UNAVAILABLE)
async def top_up(g: GatewayDep, caller: CallerDep, account: str,
                 body: AmountRequest) -> BalanceView:
    """Cash from the settlement account to margin collateral (meeting a call)."""
    office = _record(g, caller, b.TopUp(account=account, amount=body.amount, on=body.on))
    return _balance(office, caller, account)


@router.post("/api/v1/accounts/{account}/margin/repay", response_model=BalanceView,
             responses=UNAVAILABLE)
async def repay(g: GatewayDep, caller: CallerDep, account: str,
                body: SharesRequest) -> BalanceView:
    """Margin loans on ``qty`` shares repaid in cash with their interest to ``on``."""
    office = _record(g, caller, b.RepayCash(account=account, symbol=body.symbol, qty=body.qty,
                                            on=body.on))
    return _balance(office, caller, account)


@router.post("/api/v1/accounts/{account}/shorts/return", response_model=BalanceView,
             responses=UNAVAILABLE)
async def return_shares(g: GatewayDep, caller: CallerDep, account: str,
                        body: SharesRequest) -> BalanceView:
    """A short closed with shares from the depository; the core's holdings follow at once."""
    office = _record(g, caller, b.ReturnShares(account=account, symbol=body.symbol,
                                               qty=body.qty, on=body.on))
    now = g.now_ms()
    for command in holdings_for_core(g.state, office.ledger, taiwan_date(now), now):
        await g.sequencer.submit(command)
    return _balance(office, caller, account)


@router.get("/api/v1/defaults", response_model=list[DefaultView], responses=UNAVAILABLE)
async def defaults(g: GatewayDep, caller: CallerDep) -> list[DefaultView]:
    """The broker's default cases, oldest first. Broker-wide administrators only."""
    broker_wide(caller, Action.MANAGE_ACCOUNTS)
    ledger = office_of(g).ledger
    return [DefaultView(account=record.account, settle_date=record.settle_date,
                        owed=record.owed,
                        withheld=[SymbolShares(symbol=symbol, shares=shares)
                                  for symbol, shares in sorted(record.withheld.items())],
                        closed=(record.account, record.settle_date) in ledger.closed_defaults,
                        penalty=ledger.closed_defaults.get((record.account,
                                                            record.settle_date)))
            for record in defaults_of(ledger, caller.broker)]


@router.post("/api/v1/defaults/{account}/{settle_date}/close", response_model=BalanceView,
             responses=UNAVAILABLE)
async def close(g: GatewayDep, caller: CallerDep, account: str,
                settle_date: date) -> BalanceView:
    """The defaulter paid what the broker laid out plus the penalty: the case closes, the
    withheld shares return and, with no case left open, the account trades again."""
    office = _managed(g, caller, account)
    now = g.now_ms()
    code = await close_default(office, g.sequencer, account, settle_date, taiwan_date(now),
                               now)
    if code is not Code.OK:
        raise ApiError(422, code)
    return _balance(office, caller, account)


