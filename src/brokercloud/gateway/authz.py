"""Authorization, decided in one place: may this user do this action on this broker's (and
this account's) data?

Every endpoint names its action and the broker and account it touches and calls ``authorize``
before doing anything; queries ask ``account_scope`` which accounts they may return. A refusal
never says whether the other broker's object exists: the caller gets the same FORBIDDEN for a
real order of another broker as for one that does not exist.

Some callers are bound to accounts: investors and DMA clients to their own, salespeople to
their customers', and a supervisor of a branch to that branch's customers (a supervisor without
a branch is the head office's and oversees the whole broker). Other staff act for every
account of their broker.
"""

from __future__ import annotations

import enum
from collections.abc import Container, Mapping
from typing import Any

from brokercloud.codes import Code, describe
from brokercloud.core.commands import Role
from brokercloud.core.model import Account


class Action(enum.StrEnum):
    PLACE_ORDER = "place_order"
    CANCEL_ORDER = "cancel_order"
    AMEND_ORDER = "amend_order"
    VIEW_ORDERS = "view_orders"
    VIEW_FILLS = "view_fills"
    VIEW_POSITIONS = "view_positions"
    VIEW_ACCOUNTS = "view_accounts"
    VIEW_APPROVALS = "view_approvals"
    DECIDE_APPROVAL = "decide_approval"
    MANAGE_ACCOUNTS = "manage_accounts"
    MANAGE_STAFF = "manage_staff"
    VIEW_AUDIT = "view_audit"
    SELL_INVENTORY = "sell_inventory"
    VIEW_PLATFORM = "view_platform"
    VIEW_SETTLEMENT = "view_settlement"
    VIEW_EXCEPTIONS = "view_exceptions"


_TRADE = {Action.PLACE_ORDER, Action.CANCEL_ORDER, Action.AMEND_ORDER}
_VIEW = {Action.VIEW_ORDERS, Action.VIEW_FILLS, Action.VIEW_POSITIONS, Action.VIEW_ACCOUNTS}
#: Settlement amounts and depository holdings: every channel that follows an account's money
#: (the issue's investor, salesperson, supervisor and administrator), not the order-entry clerk.
_SETTLE = {Action.VIEW_SETTLEMENT}

#: What each role may do at all (within its broker and accounts, checked separately).
POLICY: dict[Role, frozenset[Action]] = {
    Role.INVESTOR: frozenset(_TRADE | _VIEW | _SETTLE),
    Role.SALESPERSON: frozenset(_TRADE | _VIEW | _SETTLE | {Action.SELL_INVENTORY}),
    Role.CLERK: frozenset(_TRADE | _VIEW),
    Role.DMA_CLIENT: frozenset(_TRADE | _VIEW | _SETTLE),
    Role.SUPERVISOR: frozenset(_VIEW | _SETTLE | {Action.VIEW_APPROVALS,
                                                  Action.DECIDE_APPROVAL, Action.VIEW_AUDIT}),
    Role.BROKER_ADMIN: frozenset(_VIEW | _SETTLE | {Action.MANAGE_ACCOUNTS, Action.MANAGE_STAFF,
                                                    Action.VIEW_AUDIT, Action.VIEW_EXCEPTIONS}),
    Role.OPERATOR: frozenset({Action.VIEW_PLATFORM}),
}

#: Roles bound to a list of accounts (their own, or their customers').
ACCOUNT_BOUND = frozenset({Role.INVESTOR, Role.SALESPERSON, Role.DMA_CLIENT})
#: Roles bound to their branch's accounts when they have a branch.
BRANCH_BOUND = frozenset({Role.SUPERVISOR})


class ForbiddenError(Exception):
    """Refused by policy. Carries the code and its sentence, never the reason in detail."""

    def __init__(self) -> None:
        super().__init__(describe(Code.FORBIDDEN))
        self.code = Code.FORBIDDEN


class BranchAccounts(Container[str]):
    """The accounts of one branch of one broker, looked up at each question: an account opened
    after its supervisor logged on (or subscribed to the stream) is in it at once."""

    __slots__ = ("_accounts", "branch", "broker")

    def __init__(self, accounts: Mapping[str, Account], broker: str, branch: str) -> None:
        self._accounts = accounts
        self.broker = broker
        self.branch = branch

    def __contains__(self, account: object) -> bool:
        found = self._accounts.get(account) if isinstance(account, str) else None
        return found is not None and found.broker == self.broker and found.branch == self.branch


class Caller:
    """Who is asking: enough of the user to decide, nothing more. ``bound`` says whether it
    is limited to ``accounts`` or acts for every account of its broker."""

    __slots__ = ("accounts", "bound", "branch", "broker", "level", "role", "user_id")

    def __init__(self, user_id: str, broker: str, role: Role,
                 accounts: Container[str] = frozenset(), branch: str = "",
                 level: int = 0) -> None:
        self.user_id = user_id
        self.broker = broker
        self.role = role
        self.accounts = accounts
        self.branch = branch
        self.level = level
        self.bound = role in ACCOUNT_BOUND or (role in BRANCH_BOUND and bool(branch))


def caller_for(user: Any, accounts: Mapping[str, Account]) -> Caller:
    """The caller a logged-in user is: a supervisor of a branch is bound to that branch's
    accounts (``accounts`` is the core's account book), other users to the accounts their
    identity lists."""
    role = Role(user.role)
    scope: Container[str] = (BranchAccounts(accounts, user.broker, user.branch)
                             if role in BRANCH_BOUND and user.branch
                             else frozenset(user.accounts))
    return Caller(user.user_id, user.broker, role, scope, user.branch, user.level)


def authorize(caller: Caller, action: Action, *, broker: str | None = None,
              account: str | None = None) -> None:
    """Raise ``ForbiddenError`` unless the caller may do ``action`` on ``broker``'s ``account``."""
    if action not in POLICY.get(caller.role, frozenset()):
        raise ForbiddenError
    if action is Action.VIEW_PLATFORM:
        return
    if broker is not None and broker != caller.broker:
        raise ForbiddenError
    if account is not None and caller.bound and account not in caller.accounts:
        raise ForbiddenError


def authorize_broker_wide(caller: Caller, action: Action) -> None:
    """Like ``authorize`` on the caller's own broker, for figures of the whole broker (its net
    with the exchange, its exceptions): a caller bound to accounts or to a branch would see
    other customers' trades in them, so it is refused even where the role has the action."""
    authorize(caller, action, broker=caller.broker)
    if caller.bound:
        raise ForbiddenError


def account_scope(caller: Caller) -> Container[str] | None:
    """The accounts a query may return for this caller; None means every account of its
    broker."""
    return caller.accounts if caller.bound else None
