"""The core's records of the back-office test accounts (support.py): names, branches and a
commission discount set the way a broker administrator sets it, through the real core."""

from __future__ import annotations

from tests.backoffice.support import (
    ACCOUNT,
    BROKER,
    DAY_TRADER,
    DISCOUNTED,
    OTHER_ACCOUNT,
    OTHER_BROKER,
)

from brokercloud.core import commands as c
from brokercloud.core.model import Account
from brokercloud.core.state import CoreState

NAMES = {ACCOUNT: "王小明", DISCOUNTED: "陳美麗", DAY_TRADER: "林大同", OTHER_ACCOUNT: "張三"}
BRANCHES = {ACCOUNT: "001", DISCOUNTED: "001", DAY_TRADER: "002", OTHER_ACCOUNT: "001"}


def core_accounts() -> dict[str, Account]:
    state = CoreState()
    commands: list[c.Cmd] = []
    for broker in (BROKER, OTHER_BROKER):
        commands += [c.AddBroker(at=1, broker=broker, name=f"broker {broker}"),
                     c.AddBranch(at=1, broker=broker, branch="001", name="總公司"),
                     c.AddBranch(at=1, broker=broker, branch="002", name="台中分公司")]
    for account, name in NAMES.items():
        commands.append(c.OpenAccount(
            at=1, account=account, broker=OTHER_BROKER if account == OTHER_ACCOUNT else BROKER,
            branch=BRANCHES[account], name=name, margin=account == ACCOUNT,
            trading_limit=10_000_000, credit_limit=5_000_000, day_trading=account == DAY_TRADER))
    commands.append(c.SetCommissionDiscount(at=2, account=DISCOUNTED, discount_bp=6_000))
    for seq, command in enumerate(commands, 1):
        state.apply(seq, command)
    return state.accounts
