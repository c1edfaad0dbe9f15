"""Reference data commands: brokers, branches, staff, accounts, limits, holdings and listings,
each accepted with a ReferenceChanged event or refused with its own CommandRejected code."""

from __future__ import annotations

from pathlib import Path

import pytest

from brokercloud.codes import Code
from brokercloud.core import commands as c
from brokercloud.core import events as e
from brokercloud.core.commands import AccountStatus, Role
from brokercloud.core.sequencer import Core
from brokercloud.core.state import CoreState
from brokercloud.market.fees import FeeSchedule
from brokercloud.market.instruments import Instrument

from .support import (
    ACCOUNT,
    BRANCH,
    BROKER,
    OTHER_BROKER,
    REF,
    T0,
    TSMC,
    Desk,
    reference_commands,
    refused_code,
    tsmc,
)


def apply_all(*commands: c.Cmd) -> tuple[CoreState, list[list[e.Event]]]:
    state = CoreState()
    return state, [state.apply(seq, command) for seq, command in enumerate(commands, 1)]


def broker(code: str = BROKER, **fields: object) -> c.AddBroker:
    return c.AddBroker(at=T0, broker=code, name="Alpha Securities", **fields)


def branch(code: str = BROKER, branch_code: str = BRANCH) -> c.AddBranch:
    return c.AddBranch(at=T0, broker=code, branch=branch_code, name="Head office")


def account(number: str = ACCOUNT, code: str = BROKER, **fields: object) -> c.OpenAccount:
    values: dict[str, object] = {"branch": BRANCH, "name": "Chen"}
    values.update(fields)
    return c.OpenAccount(at=T0, account=number, broker=code, **values)  # type: ignore[arg-type]


# -- brokers, branches, staff ------------------------------------------------------------------

def test_add_broker_when_new_then_reference_changed_and_terms_kept() -> None:
    state, results = apply_all(broker(commission_ppm=1_000, min_fee=1, daily_buy_limit=5_000_000,
                                      approval_bands=[(5_000_000, 2), (1_000_000, 1)],
                                      approval_timeout_ms=60_000))
    assert results == [[e.ReferenceChanged(seq=1, broker=BROKER, what="broker", key=BROKER)]]
    added = state.brokers[BROKER]
    assert (added.commission_ppm, added.min_fee, added.daily_buy_limit) == (1_000, 1, 5_000_000)
    assert added.approval_bands == [(1_000_000, 1), (5_000_000, 2)]  # sorted by threshold
    assert added.approval_timeout_ms == 60_000
    assert (added.approval_level(999_999), added.approval_level(1_000_000),
            added.approval_level(5_000_000)) == (0, 1, 2)


def test_add_broker_when_duplicate_then_already_exists_and_first_kept() -> None:
    state, results = apply_all(broker(), c.AddBroker(at=T0, broker=BROKER, name="Impostor"))
    assert results[1] == [e.CommandRejected(seq=2, broker=BROKER, code=Code.ALREADY_EXISTS,
                                            command="AddBroker")]
    assert state.brokers[BROKER].name == "Alpha Securities"


def test_add_branch_when_unknown_broker_then_unknown_broker() -> None:
    state, results = apply_all(branch("9Z99"))
    assert results == [[e.CommandRejected(seq=1, broker="9Z99", code=Code.UNKNOWN_BROKER,
                                          command="AddBranch")]]
    assert state.brokers == {}


def test_add_branch_when_broker_known_then_branch_recorded() -> None:
    state, results = apply_all(broker(), branch())
    assert results[1] == [e.ReferenceChanged(seq=2, broker=BROKER, what="branch", key=BRANCH)]
    assert state.brokers[BROKER].branches == {BRANCH: "Head office"}


def test_add_branch_when_duplicate_then_already_exists_and_first_name_kept() -> None:
    state, results = apply_all(broker(), branch(),
                               c.AddBranch(at=T0, broker=BROKER, branch=BRANCH, name="Renamed"))
    assert results[2] == [e.CommandRejected(seq=3, broker=BROKER, code=Code.ALREADY_EXISTS,
                                            command="AddBranch")]
    assert state.brokers[BROKER].branches == {BRANCH: "Head office"}


def test_add_branch_when_same_code_at_another_broker_then_both_kept() -> None:
    state, results = apply_all(broker(), broker(OTHER_BROKER), branch(), branch(OTHER_BROKER))
    assert results[3] == [e.ReferenceChanged(seq=4, broker=OTHER_BROKER, what="branch",
                                             key=BRANCH)]
    assert state.brokers[OTHER_BROKER].branches == {BRANCH: "Head office"}


def test_add_staff_when_unknown_broker_then_unknown_broker() -> None:
    _, results = apply_all(c.AddStaff(at=T0, broker="9Z99", user="u", role=Role.CLERK))
    assert refused_code(results[0]) == Code.UNKNOWN_BROKER


def test_add_staff_when_broker_known_then_role_branch_and_level_recorded() -> None:
    state, results = apply_all(broker(), c.AddStaff(at=T0, broker=BROKER, user="boss",
                                                    role=Role.SUPERVISOR, branch=BRANCH, level=2))
    assert results[1] == [e.ReferenceChanged(seq=2, broker=BROKER, what="staff", key="boss")]
    staff = state.brokers[BROKER].staff["boss"]
    assert (staff.role, staff.branch, staff.level) == (Role.SUPERVISOR, BRANCH, 2)


# -- accounts ----------------------------------------------------------------------------------

def test_open_account_when_unknown_broker_then_unknown_broker() -> None:
    state, results = apply_all(account(code="9Z99"))
    assert results == [[e.CommandRejected(seq=1, broker="9Z99", code=Code.UNKNOWN_BROKER,
                                          command="OpenAccount")]]
    assert state.accounts == {}


def test_open_account_when_number_taken_then_already_exists_and_first_kept() -> None:
    state, results = apply_all(broker(), branch(), account(), account(name="Other", margin=True))
    assert results[3] == [e.CommandRejected(seq=4, broker=BROKER, code=Code.ALREADY_EXISTS,
                                            command="OpenAccount")]
    assert (state.accounts[ACCOUNT].name, state.accounts[ACCOUNT].margin) == ("Chen", False)


def test_open_account_when_unknown_branch_then_invalid_reference_data() -> None:
    state, results = apply_all(broker(), branch(), account(branch="999"))
    assert refused_code(results[2]) == Code.INVALID_REFERENCE_DATA
    assert ACCOUNT not in state.accounts


@pytest.mark.parametrize(("trading", "credit"), [(-1, 0), (0, -1)])
def test_open_account_when_negative_limit_then_invalid_reference_data(trading: int,
                                                                     credit: int) -> None:
    state, results = apply_all(broker(), branch(),
                               account(trading_limit=trading, credit_limit=credit))
    assert refused_code(results[2]) == Code.INVALID_REFERENCE_DATA
    assert ACCOUNT not in state.accounts


def test_open_account_when_accepted_then_open_with_limits_and_discounted_fees() -> None:
    state, results = apply_all(broker(commission_ppm=1_425, min_fee=20), branch(),
                               account(margin=True, trading_limit=2_000_000,
                                       credit_limit=1_000_000, discount_bp=6_000))
    assert results[2] == [e.ReferenceChanged(seq=3, broker=BROKER, what="account", key=ACCOUNT)]
    opened = state.accounts[ACCOUNT]
    assert opened.status is AccountStatus.OPEN
    assert (opened.margin, opened.trading_limit, opened.credit_limit) == (True, 2_000_000,
                                                                          1_000_000)
    assert (opened.used_trading, opened.used_credit) == (0, 0)
    assert opened.fees == FeeSchedule(rate_ppm=1_425, discount_bp=6_000, min_fee=20)


def test_open_account_when_discount_out_of_range_then_invalid_reference_data() -> None:
    state, results = apply_all(broker(), branch(), account(discount_bp=20_000))
    assert refused_code(results[2]) == Code.INVALID_REFERENCE_DATA
    assert ACCOUNT not in state.accounts


def test_set_account_status_when_unknown_account_then_unknown_account() -> None:
    desk = Desk()
    events = desk.do(c.SetAccountStatus(at=T0, account="00000000",
                                        status=AccountStatus.SUSPENDED))
    assert events == [e.CommandRejected(seq=desk.seq, broker="", code=Code.UNKNOWN_ACCOUNT,
                                        command="SetAccountStatus")]


@pytest.mark.parametrize("status", list(AccountStatus))
def test_set_account_status_when_known_then_status_set(status: AccountStatus) -> None:
    desk = Desk()
    events = desk.do(c.SetAccountStatus(at=T0, account=ACCOUNT, status=status))
    assert events == [e.ReferenceChanged(seq=desk.seq, broker=BROKER, what="SetAccountStatus",
                                         key=ACCOUNT)]
    assert desk.account().status is status


def test_set_account_limits_when_known_then_both_limits_replaced() -> None:
    desk = Desk()
    events = desk.do(c.SetAccountLimits(at=T0, account=ACCOUNT, trading_limit=3_000_000,
                                        credit_limit=500_000))
    assert events == [e.ReferenceChanged(seq=desk.seq, broker=BROKER, what="SetAccountLimits",
                                         key=ACCOUNT)]
    assert (desk.account().trading_limit, desk.account().credit_limit) == (3_000_000, 500_000)


def test_set_account_limits_when_unknown_account_then_unknown_account() -> None:
    desk = Desk()
    events = desk.do(c.SetAccountLimits(at=T0, account="00000000", trading_limit=1,
                                        credit_limit=1))
    assert refused_code(events) == Code.UNKNOWN_ACCOUNT


def test_set_account_limits_when_negative_then_invalid_reference_data() -> None:
    desk = Desk()
    events = desk.do(c.SetAccountLimits(at=T0, account=ACCOUNT, trading_limit=-1,
                                        credit_limit=0))
    assert refused_code(events) == Code.INVALID_REFERENCE_DATA
    assert desk.account().trading_limit == 10_000_000


def test_set_commission_discount_when_known_then_fees_keep_rate_and_minimum() -> None:
    desk = Desk()
    events = desk.do(c.SetCommissionDiscount(at=T0, account=ACCOUNT, discount_bp=6_000))
    assert events == [e.ReferenceChanged(seq=desk.seq, broker=BROKER,
                                         what="SetCommissionDiscount", key=ACCOUNT)]
    assert desk.account().fees == FeeSchedule(rate_ppm=1_425, discount_bp=6_000, min_fee=20)


def test_set_commission_discount_when_set_then_next_buy_reserves_the_discounted_fee() -> None:
    desk = Desk()
    desk.do(c.SetCommissionDiscount(at=T0, account=ACCOUNT, discount_bp=5_000))
    desk.order_id(qty=10_000, price=7620)  # 762,000 x 0.1425% x 50% = 542.925 -> 542
    assert desk.account().used_trading == 762_000 + 542


@pytest.mark.parametrize("discount", [-1, 10_001, 2**40])
def test_set_commission_discount_when_out_of_range_then_refused_and_fees_kept(
        discount: int) -> None:
    desk = Desk()
    events = desk.do(c.SetCommissionDiscount(at=T0, account=ACCOUNT, discount_bp=discount))
    assert events == [e.CommandRejected(seq=desk.seq, broker=BROKER,
                                        code=Code.DISCOUNT_OUT_OF_RANGE,
                                        command="SetCommissionDiscount")]
    assert desk.account().fees.discount_bp == 10_000


def test_set_commission_discount_when_unknown_account_then_unknown_account() -> None:
    desk = Desk()
    events = desk.do(c.SetCommissionDiscount(at=T0, account="00000000", discount_bp=6_000))
    assert refused_code(events) == Code.UNKNOWN_ACCOUNT


def test_set_commission_discount_when_journaled_then_replay_rebuilds_it(tmp_path: Path) -> None:
    core = Core(tmp_path, fsync=False)
    core.execute([*reference_commands(),
                  c.SetCommissionDiscount(at=T0, account=ACCOUNT, discount_bp=2_800)])
    core.close()
    reopened = Core(tmp_path)
    assert reopened.state.accounts[ACCOUNT].fees.discount_bp == 2_800
    reopened.close()


def test_set_stock_limit_when_unknown_broker_then_unknown_broker() -> None:
    desk = Desk()
    events = desk.do(c.SetStockLimit(at=T0, broker="9Z99", symbol=TSMC, max_order_amount=1))
    assert events == [e.CommandRejected(seq=desk.seq, broker="9Z99", code=Code.UNKNOWN_BROKER,
                                        command="SetStockLimit")]


def test_set_stock_limit_when_set_then_kept_and_when_zero_then_removed() -> None:
    desk = Desk()
    events = desk.do(c.SetStockLimit(at=T0, broker=BROKER, symbol=TSMC,
                                     max_order_amount=500_000))
    assert events == [e.ReferenceChanged(seq=desk.seq, broker=BROKER, what="stock_limit",
                                         key=TSMC)]
    assert desk.state.brokers[BROKER].stock_limits == {TSMC: 500_000}
    assert desk.state.brokers[OTHER_BROKER].stock_limits == {}
    desk.do(c.SetStockLimit(at=T0, broker=BROKER, symbol=TSMC, max_order_amount=0))
    assert desk.state.brokers[BROKER].stock_limits == {}


def test_set_holding_when_known_account_then_shares_replaced() -> None:
    desk = Desk()
    events = desk.do(c.SetHolding(at=T0, account=ACCOUNT, symbol=TSMC, shares=3_000))
    assert events == [e.ReferenceChanged(seq=desk.seq, broker=BROKER, what="SetHolding",
                                         key=ACCOUNT)]
    assert desk.account().holdings == {TSMC: 3_000}


def test_set_holding_when_negative_then_invalid_reference_data_and_holding_kept() -> None:
    desk = Desk()
    events = desk.do(c.SetHolding(at=T0, account=ACCOUNT, symbol=TSMC, shares=-1))
    assert events == [e.CommandRejected(seq=desk.seq, broker="", code=Code.INVALID_REFERENCE_DATA,
                                        command="SetHolding")]
    assert desk.account().holdings == {TSMC: 10_000}


def test_set_holding_when_unknown_account_then_unknown_account() -> None:
    desk = Desk()
    events = desk.do(c.SetHolding(at=T0, account="00000000", symbol=TSMC, shares=1_000))
    assert refused_code(events) == Code.UNKNOWN_ACCOUNT


# -- listings ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("limit_bp", "down", "up"), [
    (1_000, 6_730, 8_210),  # today's +-10%: 67.3 / 82.1
    (700, 6_950, 7_990),  # the thesis's +-7%: 69.5 / 79.9
])
def test_list_instrument_when_2330_at_74_7_then_limits_match_the_thesis(limit_bp: int,
                                                                         down: int,
                                                                         up: int) -> None:
    state, results = apply_all(c.ListInstrument(at=T0, instrument=tsmc(limit_bp=limit_bp),
                                                reference=REF))
    assert results == [[e.ReferenceChanged(seq=1, broker="", what="instrument", key=TSMC)]]
    listed = state.listed[TSMC]
    assert (listed.limit_down, listed.limit_up) == (down, up)
    assert listed.previous_close == REF  # defaults to the reference
    assert min(listed.valid_prices) == down
    assert max(listed.valid_prices) == up
    assert 7_625 not in listed.valid_prices  # tick 0.1 between 50 and 100


def test_list_instrument_when_listed_again_then_replaced_with_new_reference() -> None:
    state, _ = apply_all(c.ListInstrument(at=T0, instrument=tsmc(), reference=REF),
                         c.ListInstrument(at=T0, instrument=tsmc(margin=False), reference=8_000,
                                          previous_close=7_900))
    listed = state.listed[TSMC]
    assert (listed.reference, listed.previous_close) == (8_000, 7_900)
    assert (listed.limit_down, listed.limit_up) == (7_200, 8_800)
    assert listed.instrument.margin_eligible is False


def test_list_instrument_when_reference_negative_then_invalid_reference_data() -> None:
    state, results = apply_all(c.ListInstrument(
        at=T0, instrument=Instrument(symbol=TSMC, name="TSMC"), reference=-100))
    assert refused_code(results[0]) == Code.INVALID_REFERENCE_DATA
    assert state.listed == {}
