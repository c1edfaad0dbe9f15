"""The authorization matrix: each role x each action x own/other broker x own/other account,
with every cell the policy does not grant denied."""

import pytest

from brokercloud.core.commands import Role
from brokercloud.gateway.authz import (
    ACCOUNT_BOUND,
    POLICY,
    Action,
    Caller,
    ForbiddenError,
    account_scope,
    authorize,
)

OWN_BROKER, OTHER_BROKER = "9A00", "9B00"
OWN_ACCOUNT, OTHER_ACCOUNT = "11110001", "11110002"


def _caller(role: Role) -> Caller:
    broker = "" if role is Role.OPERATOR else OWN_BROKER
    return Caller("u1", broker, role, frozenset({OWN_ACCOUNT}))


def _allowed(role: Role, action: Action, broker: str, account: str) -> bool:
    """The policy written out independently of the code under test."""
    trading = {Action.PLACE_ORDER, Action.CANCEL_ORDER, Action.AMEND_ORDER}
    viewing = {Action.VIEW_ORDERS, Action.VIEW_FILLS, Action.VIEW_POSITIONS}
    grants = {
        Role.INVESTOR: trading | viewing, Role.SALESPERSON: trading | viewing,
        Role.CLERK: trading | viewing, Role.DMA_CLIENT: trading | viewing,
        Role.SUPERVISOR: viewing | {Action.VIEW_APPROVALS, Action.DECIDE_APPROVAL},
        Role.BROKER_ADMIN: viewing | {Action.MANAGE_ACCOUNTS, Action.MANAGE_STAFF},
        Role.OPERATOR: {Action.VIEW_PLATFORM},
    }[role]
    if action not in grants:
        return False
    if action is Action.VIEW_PLATFORM:
        return True
    if broker != OWN_BROKER:
        return False
    bound = role in (Role.INVESTOR, Role.SALESPERSON, Role.DMA_CLIENT)
    return not bound or account == OWN_ACCOUNT


CELLS = [(role, action, broker, account) for role in Role for action in Action
         for broker in (OWN_BROKER, OTHER_BROKER) for account in (OWN_ACCOUNT, OTHER_ACCOUNT)]


@pytest.mark.parametrize(("role", "action", "broker", "account"), CELLS)
def test_authorize_when_cell_then_allowed_exactly_as_the_policy_says(role, action, broker,
                                                                      account):
    caller = _caller(role)
    if _allowed(role, action, broker, account):
        authorize(caller, action, broker=broker, account=account)
    else:
        with pytest.raises(ForbiddenError) as refused:
            authorize(caller, action, broker=broker, account=account)
        assert refused.value.code == 4101


def test_matrix_when_counted_then_every_forbidden_cell_is_covered():
    denied = [cell for cell in CELLS if not _allowed(*cell)]
    # allowed: 3 account-bound roles x 6 actions x 1 x 1 + clerk 6 x 2 + supervisor 5 x 2
    # + admin 5 x 2 + operator 1 x 2 x 2 = 54 of 308
    assert len(CELLS) == 7 * 11 * 2 * 2 and len(denied) == 254


def test_account_scope_when_bound_role_then_own_accounts_else_whole_broker():
    assert account_scope(_caller(Role.INVESTOR)) == frozenset({OWN_ACCOUNT})
    assert account_scope(_caller(Role.SUPERVISOR)) is None
    assert {Role.INVESTOR, Role.SALESPERSON, Role.DMA_CLIENT} == ACCOUNT_BOUND
    assert set(POLICY) == set(Role)
