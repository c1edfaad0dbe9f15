"""The authorization matrix: each role (and a supervisor bound to a branch) x each action x
own/other broker x own/other account, with every cell the policy does not grant denied."""

import pytest

from brokercloud.core.commands import Role
from brokercloud.core.model import Account
from brokercloud.gateway.authz import (
    ACCOUNT_BOUND,
    POLICY,
    Action,
    BranchAccounts,
    Caller,
    ForbiddenError,
    account_scope,
    authorize,
    authorize_broker_wide,
    caller_for,
)
from brokercloud.gateway.identities import User
from brokercloud.market.fees import FeeSchedule

OWN_BROKER, OTHER_BROKER = "9A00", "9B00"
OWN_ACCOUNT, OTHER_ACCOUNT = "11110001", "11110002"
BRANCH_SUPERVISOR = "branch_supervisor"  # a supervisor of branch 001; OTHER_ACCOUNT is in 002


def _account(number: str, broker: str, branch: str) -> Account:
    return Account(number, broker, branch, number, margin=False, trading_limit=0,
                   credit_limit=0, fees=FeeSchedule(), day_trading=False)


BOOK = {OWN_ACCOUNT: _account(OWN_ACCOUNT, OWN_BROKER, "001"),
        OTHER_ACCOUNT: _account(OTHER_ACCOUNT, OWN_BROKER, "002")}


def _caller(who: Role | str) -> Caller:
    if who == BRANCH_SUPERVISOR:
        return caller_for(User(user_id="u1", broker=OWN_BROKER, role=Role.SUPERVISOR,
                               branch="001", level=2), BOOK)
    broker = "" if who is Role.OPERATOR else OWN_BROKER
    return Caller("u1", broker, Role(who), frozenset({OWN_ACCOUNT}))


def _allowed(who: Role | str, action: Action, broker: str, account: str) -> bool:
    """The policy written out independently of the code under test."""
    trading = {Action.PLACE_ORDER, Action.CANCEL_ORDER, Action.AMEND_ORDER}
    viewing = {Action.VIEW_ORDERS, Action.VIEW_FILLS, Action.VIEW_POSITIONS,
               Action.VIEW_ACCOUNTS}
    money = {Action.VIEW_SETTLEMENT}  # settlement amounts: not the order-entry clerk
    supervising = viewing | money | {Action.VIEW_APPROVALS, Action.DECIDE_APPROVAL,
                                     Action.VIEW_AUDIT}
    grants = {
        Role.INVESTOR: trading | viewing | money,
        Role.SALESPERSON: trading | viewing | money | {Action.SELL_INVENTORY},
        Role.CLERK: trading | viewing, Role.DMA_CLIENT: trading | viewing | money,
        Role.SUPERVISOR: supervising, BRANCH_SUPERVISOR: supervising,
        Role.BROKER_ADMIN: viewing | money | {Action.MANAGE_ACCOUNTS, Action.MANAGE_STAFF,
                                              Action.VIEW_AUDIT, Action.VIEW_EXCEPTIONS},
        Role.OPERATOR: {Action.VIEW_PLATFORM},
    }[who]
    if action not in grants:
        return False
    if action is Action.VIEW_PLATFORM:
        return True
    if broker != OWN_BROKER:
        return False
    bound = who in (Role.INVESTOR, Role.SALESPERSON, Role.DMA_CLIENT, BRANCH_SUPERVISOR)
    return not bound or account == OWN_ACCOUNT


CALLERS: list[Role | str] = [*Role, BRANCH_SUPERVISOR]
CELLS = [(who, action, broker, account) for who in CALLERS for action in Action
         for broker in (OWN_BROKER, OTHER_BROKER) for account in (OWN_ACCOUNT, OTHER_ACCOUNT)]


@pytest.mark.parametrize(("who", "action", "broker", "account"), CELLS)
def test_authorize_when_cell_then_allowed_exactly_as_the_policy_says(who, action, broker,
                                                                     account):
    caller = _caller(who)
    if _allowed(who, action, broker, account):
        authorize(caller, action, broker=broker, account=account)
    else:
        with pytest.raises(ForbiddenError) as refused:
            authorize(caller, action, broker=broker, account=account)
        assert refused.value.code == 4101


def test_matrix_when_counted_then_every_forbidden_cell_is_covered():
    denied = [cell for cell in CELLS if not _allowed(*cell)]
    # allowed: investor 8 + salesperson 9 + DMA 8 (own account only) + clerk 7 x 2
    # + supervisor 8 x 2 + admin 9 x 2 + operator 1 x 2 x 2 + branch supervisor 8 = 85 of 512
    assert len(CELLS) == 8 * 16 * 2 * 2 and len(denied) == 427


def test_account_scope_when_bound_role_then_own_accounts_else_whole_broker():
    assert account_scope(_caller(Role.INVESTOR)) == frozenset({OWN_ACCOUNT})
    assert account_scope(_caller(Role.SUPERVISOR)) is None
    assert {Role.INVESTOR, Role.SALESPERSON, Role.DMA_CLIENT} == ACCOUNT_BOUND
    assert set(POLICY) == set(Role)


def test_caller_for_when_supervisor_without_branch_then_whole_broker():
    caller = caller_for(User(user_id="hq", broker=OWN_BROKER, role=Role.SUPERVISOR, level=3),
                        BOOK)
    assert (caller.bound, account_scope(caller), caller.level) == (False, None, 3)


def test_caller_for_when_branch_supervisor_then_scope_follows_accounts_opened_later():
    book = dict(BOOK)
    caller = caller_for(User(user_id="tc", broker=OWN_BROKER, role=Role.SUPERVISOR,
                             branch="002"), book)
    scope = account_scope(caller)
    assert isinstance(scope, BranchAccounts)
    assert OTHER_ACCOUNT in scope and OWN_ACCOUNT not in scope
    book["11110003"] = _account("11110003", OWN_BROKER, "002")
    book["22220003"] = _account("22220003", OTHER_BROKER, "002")  # same branch code elsewhere
    assert "11110003" in scope and "22220003" not in scope and "missing" not in scope


def test_caller_for_when_salesperson_with_branch_then_bound_to_its_customers_not_branch():
    caller = caller_for(User(user_id="s", broker=OWN_BROKER, role=Role.SALESPERSON,
                             branch="002", accounts=(OWN_ACCOUNT,)), BOOK)
    assert account_scope(caller) == frozenset({OWN_ACCOUNT})


@pytest.mark.parametrize("who", CALLERS)
def test_authorize_broker_wide_when_bound_or_without_the_action_then_forbidden(who):
    caller = _caller(who)
    broker_wide = who in (Role.SUPERVISOR, Role.BROKER_ADMIN)  # the head office's staff
    if broker_wide:
        authorize_broker_wide(caller, Action.VIEW_SETTLEMENT)
    else:  # bound to accounts or a branch, or no settlement view at all (clerk, operator)
        with pytest.raises(ForbiddenError):
            authorize_broker_wide(caller, Action.VIEW_SETTLEMENT)
    if who is Role.BROKER_ADMIN:
        authorize_broker_wide(caller, Action.VIEW_EXCEPTIONS)
    else:
        with pytest.raises(ForbiddenError):
            authorize_broker_wide(caller, Action.VIEW_EXCEPTIONS)
