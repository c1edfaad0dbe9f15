"""Tiered approval: a broker with bands [(1,000,000, level 1), (5,000,000, level 2)]. Orders
above a threshold wait for a supervisor of that level; who may decide, what Approve, Deny and
ExpireApprovals do, and the audit trail each decision leaves."""

from __future__ import annotations

import pytest

from brokercloud.codes import Code
from brokercloud.core import commands as c
from brokercloud.core import events as e
from brokercloud.core.commands import Role
from brokercloud.core.oms import OrderState
from brokercloud.core.queries import approval_trail_of

from .support import (
    ACCOUNT,
    BANDS,
    BROKER,
    LIMIT,
    LOT,
    MARGIN,
    OTHER_BROKER,
    OTHER_SUP,
    SALES,
    SELL,
    SUP1,
    SUP2,
    T0,
    TIMEOUT_MS,
    TSMC,
    Desk,
    first,
    kinds,
    reference_commands,
    refused_code,
    trail,
)

# 14 lots at 76.2: 1,066,800 + 1,520 commission = 1,068,320 -> level 1
LEVEL1_QTY, LEVEL1_AMOUNT = 14 * LOT, 1_068_320
# 70 lots at 76.2: 5,334,000 + 7,600 = 5,341,600 -> level 2
LEVEL2_QTY, LEVEL2_AMOUNT = 70 * LOT, 5_341_600


def approval_desk() -> Desk:
    return Desk(bands=BANDS)


def approve(desk: Desk, order_id: str, user: str = SUP1,
            broker: str = BROKER) -> list[e.Event]:
    return desk.do(c.Approve(at=desk.tick(), broker=broker, user=user, order_id=order_id))


def deny(desk: Desk, order_id: str, user: str = SUP1, reason: str = "") -> list[e.Event]:
    return desk.do(c.Deny(at=desk.tick(), broker=BROKER, user=user, order_id=order_id,
                          reason=reason))


def test_place_when_amount_below_first_threshold_then_sent_without_approval() -> None:
    desk = approval_desk()
    events = desk.place(qty=13 * LOT)  # 990,600 + 1,411 = 992,011
    assert kinds(events) == ["OrderUpdated", "SendOrder"]
    assert desk.order(first(events, e.OrderUpdated).order_id).approval_level == 0


def test_place_when_amount_above_first_threshold_then_pending_approval_level_1() -> None:
    desk = approval_desk()
    events = desk.place(qty=LEVEL1_QTY, client_ref="BIG")
    order_id = "20251125-00000001"
    assert events == [
        e.OrderUpdated(seq=desk.seq, broker=BROKER, account=ACCOUNT, order_id=order_id,
                       client_ref="BIG", state=OrderState.PENDING_APPROVAL, cum_qty=0,
                       leaves=LEVEL1_QTY),
        e.ApprovalRequested(seq=desk.seq, broker=BROKER, account=ACCOUNT, order_id=order_id,
                            amount=LEVEL1_AMOUNT, level=1)]
    order = desk.order(order_id)
    assert (order.state, order.approval_level) == (OrderState.PENDING_APPROVAL, 1)
    assert desk.account().used_trading == LEVEL1_AMOUNT  # held while it waits


def test_place_when_amount_above_second_threshold_then_level_2() -> None:
    desk = approval_desk()
    requested = first(desk.place(qty=LEVEL2_QTY), e.ApprovalRequested)
    assert (requested.amount, requested.level) == (LEVEL2_AMOUNT, 2)


def test_place_when_margin_buy_then_approval_amount_is_own_part_plus_loan() -> None:
    """14 lots on margin: own part 1,068,320 - 640,000 loan; the amount is the whole cost."""
    desk = approval_desk()
    requested = first(desk.place(qty=LEVEL1_QTY, credit=MARGIN), e.ApprovalRequested)
    assert (requested.amount, requested.level) == (LEVEL1_AMOUNT, 1)
    order = desk.order(requested.order_id)
    assert (order.reserved_trading, order.reserved_credit) == (428_320, 640_000)


def test_place_when_cash_sell_above_first_threshold_then_pending_approval() -> None:
    desk = approval_desk()
    desk.do(c.SetHolding(at=T0, account=ACCOUNT, symbol=TSMC, shares=20 * LOT))
    events = desk.place(side=SELL, qty=20 * LOT, price=7_730)
    assert first(events, e.OrderUpdated).state is OrderState.PENDING_APPROVAL


# -- who may decide ----------------------------------------------------------------------------

@pytest.mark.parametrize("user", [SALES, "nobody"])
def test_approve_when_user_not_a_supervisor_then_not_a_supervisor(user: str) -> None:
    desk = approval_desk()
    order_id = desk.order_id(qty=LEVEL1_QTY)
    events = approve(desk, order_id, user=user)
    assert events == [e.CommandRejected(seq=desk.seq, broker=BROKER, code=Code.NOT_A_SUPERVISOR,
                                        command="Approve")]
    assert desk.order(order_id).state is OrderState.PENDING_APPROVAL


def test_approve_when_supervisor_of_another_broker_names_this_broker_then_not_a_supervisor(
        ) -> None:
    desk = approval_desk()
    order_id = desk.order_id(qty=LEVEL1_QTY)
    assert refused_code(approve(desk, order_id, user=OTHER_SUP)) == Code.NOT_A_SUPERVISOR
    assert refused_code(deny(desk, order_id, user=OTHER_SUP)) == Code.NOT_A_SUPERVISOR
    assert desk.order(order_id).state is OrderState.PENDING_APPROVAL


def test_approve_when_supervisor_of_another_broker_names_own_broker_then_unknown_order_id(
        ) -> None:
    desk = approval_desk()
    order_id = desk.order_id(qty=LEVEL1_QTY)
    events = approve(desk, order_id, user=OTHER_SUP, broker=OTHER_BROKER)
    assert refused_code(events) == Code.UNKNOWN_ORDER_ID
    assert desk.order(order_id).state is OrderState.PENDING_APPROVAL


def test_approve_when_supervisor_of_another_broker_names_own_broker_then_order_untouched(
        ) -> None:
    desk = approval_desk()
    order_id = desk.order_id(qty=LEVEL1_QTY)
    placed_seq, placed_at = desk.seq, desk.now
    events = approve(desk, order_id, user=OTHER_SUP, broker=OTHER_BROKER)
    assert kinds(events) == ["CommandRejected"]
    assert first(events, e.CommandRejected).broker == OTHER_BROKER
    assert desk.order(order_id).state is OrderState.PENDING_APPROVAL
    assert trail(desk.order(order_id)) == ((placed_at, placed_seq, "needs_approval", SALES),)


def test_approve_when_supervisor_level_too_low_then_supervisor_level_too_low() -> None:
    desk = approval_desk()
    order_id = desk.order_id(qty=LEVEL2_QTY)
    assert refused_code(approve(desk, order_id, user=SUP1)) == Code.SUPERVISOR_LEVEL_TOO_LOW
    assert refused_code(deny(desk, order_id, user=SUP1)) == Code.SUPERVISOR_LEVEL_TOO_LOW
    assert desk.order(order_id).state is OrderState.PENDING_APPROVAL
    assert kinds(approve(desk, order_id, user=SUP2)) == ["ApprovalDecided", "OrderUpdated",
                                                        "SendOrder"]


def test_approve_when_order_not_pending_approval_then_not_pending_approval() -> None:
    desk = approval_desk()
    small = desk.order_id(qty=LOT)
    assert refused_code(approve(desk, small)) == Code.NOT_PENDING_APPROVAL
    big = desk.order_id(qty=LEVEL1_QTY)
    approve(desk, big)
    assert refused_code(approve(desk, big)) == Code.NOT_PENDING_APPROVAL  # decided once
    assert refused_code(deny(desk, big)) == Code.NOT_PENDING_APPROVAL


# -- the decisions -----------------------------------------------------------------------------

def test_approve_when_level_sufficient_then_pending_send_with_send_order_and_audit() -> None:
    desk = approval_desk()
    order_id = desk.order_id(qty=LEVEL1_QTY, client_ref="BIG")
    placed_seq, placed_at = desk.seq, desk.now
    events = approve(desk, order_id, user=SUP2)  # a higher level may decide a lower band
    assert events == [
        e.ApprovalDecided(seq=desk.seq, broker=BROKER, account=ACCOUNT, order_id=order_id,
                          user=SUP2, approved=True),
        e.OrderUpdated(seq=desk.seq, broker=BROKER, account=ACCOUNT, order_id=order_id,
                       client_ref="BIG", state=OrderState.PENDING_SEND, cum_qty=0,
                       leaves=LEVEL1_QTY),
        e.SendOrder(seq=desk.seq, broker=BROKER, order_id=order_id)]
    assert trail(desk.order(order_id)) == (
        (placed_at, placed_seq, "needs_approval", SALES),
        (desk.now, desk.seq, "approved", SUP2))
    assert desk.account().used_trading == LEVEL1_AMOUNT  # still held, now for the exchange


def test_deny_when_supervisor_decides_then_rejected_with_approval_denied_and_released() -> None:
    desk = approval_desk()
    order_id = desk.order_id(qty=LEVEL1_QTY, client_ref="BIG", credit=MARGIN)
    assert (desk.account().used_trading, desk.account().used_credit) == (428_320, 640_000)
    events = deny(desk, order_id, reason="too large for this client")
    assert events == [
        e.ApprovalDecided(seq=desk.seq, broker=BROKER, account=ACCOUNT, order_id=order_id,
                          user=SUP1, approved=False, reason="too large for this client"),
        e.OrderUpdated(seq=desk.seq, broker=BROKER, account=ACCOUNT, order_id=order_id,
                       client_ref="BIG", state=OrderState.REJECTED, cum_qty=0, leaves=0,
                       code=Code.APPROVAL_DENIED)]
    order = desk.order(order_id)
    assert (order.reserved_trading, order.reserved_credit, order.leaves) == (0, 0, 0)
    assert (desk.account().used_trading, desk.account().used_credit) == (0, 0)
    assert desk.state.brokers[BROKER].bought_today == 0
    assert trail(order)[-1] == (desk.now, desk.seq, "denied", SUP1)


def test_expire_approvals_when_before_timeout_then_nothing_and_at_timeout_then_expired() -> None:
    desk = approval_desk()
    order_id = desk.order_id(qty=LEVEL1_QTY, client_ref="BIG")
    placed = desk.order(order_id).at
    assert desk.do(c.ExpireApprovals(at=placed + TIMEOUT_MS - 1)) == []
    events = desk.do(c.ExpireApprovals(at=placed + TIMEOUT_MS))
    assert events == [e.OrderUpdated(seq=desk.seq, broker=BROKER, account=ACCOUNT,
                                     order_id=order_id, client_ref="BIG",
                                     state=OrderState.EXPIRED, cum_qty=0, leaves=0,
                                     code=Code.APPROVAL_EXPIRED)]
    assert desk.account().used_trading == 0
    assert trail(desk.order(order_id))[-1] == (placed + TIMEOUT_MS, desk.seq, "approval_expired",
                                              "system")
    assert refused_code(approve(desk, order_id)) == Code.NOT_PENDING_APPROVAL


def test_expire_approvals_when_brokers_have_their_own_timeouts_then_each_applies_its_own(
        ) -> None:
    desk = Desk(reference=False)
    beta = c.AddBroker(at=T0, broker=OTHER_BROKER, name="Beta", approval_bands=BANDS,
                       approval_timeout_ms=60_000)
    for command in reference_commands(bands=BANDS):
        is_beta = isinstance(command, c.AddBroker) and command.broker == OTHER_BROKER
        desk.do(beta if is_beta else command)
    ours = desk.order_id(qty=LEVEL1_QTY)
    theirs = desk.order_id(qty=LEVEL1_QTY, broker=OTHER_BROKER, account="87654321")
    events = desk.do(c.ExpireApprovals(at=desk.now + 60_000))
    assert [(x.order_id, x.state) for x in events] == [(theirs, OrderState.EXPIRED)]
    assert desk.order(ours).state is OrderState.PENDING_APPROVAL


def test_cancel_when_pending_approval_then_cancelled_at_once_and_released() -> None:
    desk = approval_desk()
    order_id = desk.order_id(qty=LEVEL1_QTY)
    events = desk.cancel(order_id)
    assert kinds(events) == ["OrderUpdated"]
    assert (events[0].state, events[0].code) == (OrderState.CANCELLED, Code.CANCELLED_ON_REQUEST)
    assert desk.account().used_trading == 0
    assert refused_code(approve(desk, order_id)) == Code.NOT_PENDING_APPROVAL


def test_decisions_when_refused_then_audited_and_decided_ones_each_leave_one() -> None:
    desk = approval_desk()
    approved = desk.order_id(qty=LEVEL1_QTY)
    denied = desk.order_id(qty=LEVEL1_QTY)
    expired = desk.order_id(qty=LEVEL1_QTY)
    approve(desk, approved, user=SALES)  # refused: not a supervisor
    approve(desk, approved)
    deny(desk, denied, user=SUP2)
    desk.do(c.ExpireApprovals(at=desk.now + TIMEOUT_MS))
    assert [what for _, _, what, _ in trail(desk.order(approved))] == [
        "needs_approval", "approve refused (2502)", "approved"]
    assert [(what, by) for _, _, what, by in trail(desk.order(denied))] == [
        ("needs_approval", SALES), ("denied", SUP2)]
    assert [(what, by) for _, _, what, by in trail(desk.order(expired))] == [
        ("needs_approval", SALES), ("approval_expired", "system")]
    assert desk.order(approved).state is OrderState.PENDING_SEND
    assert desk.account().used_trading == LEVEL1_AMOUNT


# -- refused decisions are audited ---------------------------------------------------------------

def test_approve_when_level_too_low_then_refusal_audited_with_who_and_code() -> None:
    desk = approval_desk()
    order_id = desk.order_id(qty=LEVEL2_QTY)
    approve(desk, order_id, user=SUP1)
    deny(desk, order_id, user=SUP1)
    assert trail(desk.order(order_id))[1:] == (
        (desk.now - 1_000, desk.seq - 1, "approve refused (2503)", SUP1),
        (desk.now, desk.seq, "deny refused (2503)", SUP1))


def test_approve_when_supervisor_of_another_broker_then_no_trace_on_the_order() -> None:
    desk = approval_desk()
    order_id = desk.order_id(qty=LEVEL1_QTY)
    approve(desk, order_id, user=OTHER_SUP, broker=OTHER_BROKER)
    assert [what for _, _, what, _ in trail(desk.order(order_id))] == ["needs_approval"]


def test_approve_when_after_the_timeout_then_refused_expired_audited_and_order_expires(
        ) -> None:
    desk = approval_desk()
    order_id = desk.order_id(qty=LEVEL1_QTY, client_ref="LATE")
    placed = desk.order(order_id).at
    events = desk.do(c.Approve(at=placed + TIMEOUT_MS, broker=BROKER, user=SUP1,
                               order_id=order_id))
    assert kinds(events) == ["CommandRejected", "OrderUpdated"]
    assert refused_code(events) == Code.APPROVAL_EXPIRED
    assert (events[1].state, events[1].code) == (OrderState.EXPIRED, Code.APPROVAL_EXPIRED)
    assert [(what, by) for _, _, what, by in trail(desk.order(order_id))] == [
        ("needs_approval", SALES), ("approve refused (2505)", SUP1),
        ("approval_expired", "system")]
    assert desk.account().used_trading == 0


def _branch_desk() -> tuple[Desk, str]:
    """The approval desk plus a Taichung branch with its own supervisor and customer."""
    desk = approval_desk()
    desk.do(c.AddBranch(at=T0, broker=BROKER, branch="002", name="Taichung"))
    desk.do(c.AddStaff(at=T0, broker=BROKER, user="supTC", role=Role.SUPERVISOR, branch="002",
                       level=9))
    desk.do(c.AddStaff(at=T0, broker=BROKER, user="supHQ", role=Role.SUPERVISOR, level=9))
    desk.do(c.OpenAccount(at=T0, account="20020001", broker=BROKER, branch="002", name="Tsai",
                          trading_limit=LIMIT))
    return desk, desk.order_id(qty=LEVEL1_QTY, account="20020001")


def test_approve_when_branch_supervisor_names_another_branch_order_then_refused_and_audited(
        ) -> None:
    desk, taichung = _branch_desk()
    head_office_customer = desk.order_id(qty=LEVEL1_QTY)
    assert refused_code(approve(desk, head_office_customer, user="supTC")) == (
        Code.SUPERVISOR_OTHER_BRANCH)
    assert trail(desk.order(head_office_customer))[-1][2:] == ("approve refused (2506)", "supTC")
    assert desk.order(head_office_customer).state is OrderState.PENDING_APPROVAL
    assert refused_code(approve(desk, taichung, user=SUP2)) == Code.SUPERVISOR_OTHER_BRANCH
    assert kinds(approve(desk, taichung, user="supTC")) == ["ApprovalDecided", "OrderUpdated",
                                                           "SendOrder"]


def test_approve_when_supervisor_without_branch_then_decides_for_every_branch() -> None:
    desk, taichung = _branch_desk()
    head_office_customer = desk.order_id(qty=LEVEL1_QTY)
    assert kinds(approve(desk, taichung, user="supHQ"))[0] == "ApprovalDecided"
    assert kinds(deny(desk, head_office_customer, user="supHQ"))[0] == "ApprovalDecided"


def test_approval_trail_when_queried_then_approval_entries_of_the_broker_only() -> None:
    desk, taichung = _branch_desk()
    approve(desk, taichung, user=SUP1)  # refused: other branch
    approve(desk, taichung, user="supTC")
    desk.sent(taichung)  # not an approval entry
    desk.order_id(qty=LEVEL1_QTY, broker=OTHER_BROKER, account="87654321")
    trail = approval_trail_of(desk.state, BROKER)
    assert [(x.order_id, x.account, x.what, x.by) for x in trail] == [
        (taichung, "20020001", "needs_approval", SALES),
        (taichung, "20020001", "approve refused (2506)", SUP1),
        (taichung, "20020001", "approved", "supTC")]
    assert approval_trail_of(desk.state, BROKER, "11112222") == []
