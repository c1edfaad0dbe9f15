"""Accounts as staff see them, and the broker administrator's commission discounts.

Every view is of the caller's broker and, for callers bound to accounts (an investor's own, a
salesperson's customers, a branch supervisor's branch), of those accounts only; another
broker's account and a missing one are refused alike. A discount changes through the core
(``SetCommissionDiscount``: journaled, replayed), never here.
"""

from __future__ import annotations

from fastapi import APIRouter

from brokercloud.core import commands as c
from brokercloud.core.model import Account
from brokercloud.gateway.authz import Action, account_scope, authorize
from brokercloud.gateway.channel_schemas import AccountView, DiscountRequest
from brokercloud.gateway.routes import CallerDep, GatewayDep, account_for, reference_change

router = APIRouter()


def _account_view(account: Account) -> AccountView:
    fees = account.fees
    return AccountView(
        account=account.account, branch=account.branch, name=account.name,
        status=account.status, margin=account.margin, day_trading=account.day_trading,
        trading_limit=account.trading_limit, credit_limit=account.credit_limit,
        used_trading=account.used_trading, used_credit=account.used_credit,
        commission_rate_ppm=fees.rate_ppm, discount_bp=fees.discount_bp, min_fee=fees.min_fee)


@router.get("/api/v1/accounts", response_model=list[AccountView])
async def list_accounts(g: GatewayDep, caller: CallerDep,
                        branch: str | None = None) -> list[AccountView]:
    """The accounts of the caller's broker it may see, optionally of one branch."""
    authorize(caller, Action.VIEW_ACCOUNTS, broker=caller.broker)
    scope = account_scope(caller)
    return [_account_view(account)
            for account in sorted(g.state.accounts.values(), key=lambda a: a.account)
            if account.broker == caller.broker and (branch is None or account.branch == branch)
            and (scope is None or account.account in scope)]


@router.get("/api/v1/accounts/{account}", response_model=AccountView)
async def get_account(g: GatewayDep, caller: CallerDep, account: str) -> AccountView:
    return _account_view(account_for(g, caller, Action.VIEW_ACCOUNTS, account))


@router.put("/api/v1/accounts/{account}/commission", response_model=AccountView)
async def set_commission(g: GatewayDep, caller: CallerDep, account: str,
                         body: DiscountRequest) -> AccountView:
    """A broker administrator sets a customer's commission discount (basis points of the
    broker's rate the customer pays); the account as it now stands."""
    account_for(g, caller, Action.MANAGE_ACCOUNTS, account)
    await reference_change(g, c.SetCommissionDiscount(at=g.now_ms(), account=account,
                                                       discount_bp=body.discount_bp))
    return _account_view(g.state.accounts[account])
