"""Authorization, decided in one place: may this user do this action on this broker's (and
this account's) data?

Every endpoint names its action and the broker and account it touches and calls ``authorize``
before doing anything; queries ask ``account_scope`` which accounts they may return. A refusal
never says whether the other broker's object exists: the caller gets the same FORBIDDEN for a
real order of another broker as for one that does not exist.
"""

from __future__ import annotations

import enum

from brokercloud.codes import Code, describe
from brokercloud.core.commands import Role


class Action(enum.StrEnum):
    PLACE_ORDER = "place_order"
    CANCEL_ORDER = "cancel_order"
    AMEND_ORDER = "amend_order"
    VIEW_ORDERS = "view_orders"
    VIEW_FILLS = "view_fills"
    VIEW_POSITIONS = "view_positions"
    VIEW_APPROVALS = "view_approvals"
    DECIDE_APPROVAL = "decide_approval"
    MANAGE_ACCOUNTS = "manage_accounts"
    MANAGE_STAFF = "manage_staff"
    VIEW_PLATFORM = "view_platform"


_TRADE = {Action.PLACE_ORDER, Action.CANCEL_ORDER, Action.AMEND_ORDER}
_VIEW = {Action.VIEW_ORDERS, Action.VIEW_FILLS, Action.VIEW_POSITIONS}

#: What each role may do at all (within its broker and accounts, checked separately).
POLICY: dict[Role, frozenset[Action]] = {
    Role.INVESTOR: frozenset(_TRADE | _VIEW),
    Role.SALESPERSON: frozenset(_TRADE | _VIEW),
    Role.CLERK: frozenset(_TRADE | _VIEW),
    Role.DMA_CLIENT: frozenset(_TRADE | _VIEW),
    Role.SUPERVISOR: frozenset(_VIEW | {Action.VIEW_APPROVALS, Action.DECIDE_APPROVAL}),
    Role.BROKER_ADMIN: frozenset(_VIEW | {Action.MANAGE_ACCOUNTS, Action.MANAGE_STAFF}),
    Role.OPERATOR: frozenset({Action.VIEW_PLATFORM}),
}

#: Roles bound to a list of accounts (their own, or their customers'); the others act for
#: every account of their broker.
ACCOUNT_BOUND = frozenset({Role.INVESTOR, Role.SALESPERSON, Role.DMA_CLIENT})


class ForbiddenError(Exception):
    """Refused by policy. Carries the code and its sentence, never the reason in detail."""

    def __init__(self) -> None:
        super().__init__(describe(Code.FORBIDDEN))
        self.code = Code.FORBIDDEN


class Caller:
    """Who is asking: enough of the user to decide, nothing more."""

    __slots__ = ("accounts", "branch", "broker", "level", "role", "user_id")

    def __init__(self, user_id: str, broker: str, role: Role,
                 accounts: frozenset[str] = frozenset(), branch: str = "",
                 level: int = 0) -> None:
        self.user_id = user_id
        self.broker = broker
        self.role = role
        self.accounts = accounts
        self.branch = branch
        self.level = level


def authorize(caller: Caller, action: Action, *, broker: str | None = None,
              account: str | None = None) -> None:
    """Raise ``ForbiddenError`` unless the caller may do ``action`` on ``broker``'s ``account``."""
    if action not in POLICY.get(caller.role, frozenset()):
        raise ForbiddenError
    if action is Action.VIEW_PLATFORM:
        return
    if broker is not None and broker != caller.broker:
        raise ForbiddenError
    if account is not None and caller.role in ACCOUNT_BOUND and account not in caller.accounts:
        raise ForbiddenError


def account_scope(caller: Caller) -> frozenset[str] | None:
    """The accounts a query may return for this caller; None means every account of its
    broker."""
    return caller.accounts if caller.role in ACCOUNT_BOUND else None
