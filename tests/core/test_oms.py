"""The order state machine (every transition in the table, impossible ones raising) and order
identity: IDs unique across brokers and days, carrying the Taiwan date, daily counters restarting
on a new day."""

from __future__ import annotations

import itertools

import pytest

from brokercloud.codes import Code
from brokercloud.core import commands as c
from brokercloud.core import events as e
from brokercloud.core.oms import (
    AT_EXCHANGE,
    FINISHED,
    TRANSITIONS,
    InvalidTransitionError,
    OrderState,
    Trigger,
    next_state,
)

from .support import (
    BROKER,
    DAY_MS,
    LOT,
    OTHER_ACCOUNT,
    OTHER_BROKER,
    SELL,
    T0,
    TSMC,
    Desk,
    first,
)

S, T = OrderState, Trigger
EXPECTED: dict[tuple[OrderState, Trigger], OrderState] = {
    (S.NEW, T.RISK_PASSED): S.PENDING_SEND,
    (S.NEW, T.NEEDS_APPROVAL): S.PENDING_APPROVAL,
    (S.NEW, T.RISK_FAILED): S.REJECTED,
    (S.PENDING_APPROVAL, T.APPROVED): S.PENDING_SEND,
    (S.PENDING_APPROVAL, T.DENIED): S.REJECTED,
    (S.PENDING_APPROVAL, T.APPROVAL_EXPIRED): S.EXPIRED,
    (S.PENDING_APPROVAL, T.CANCELLED): S.CANCELLED,
    (S.PENDING_SEND, T.SENT): S.SENT,
    (S.PENDING_SEND, T.CANCELLED): S.CANCELLED,
    (S.SENT, T.EXCHANGE_ACCEPTED): S.ACKNOWLEDGED,
    (S.SENT, T.EXCHANGE_REJECTED): S.REJECTED,
    (S.SENT, T.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.SENT, T.FULL_FILL): S.FILLED,
    (S.SENT, T.CANCELLED): S.CANCELLED,
    (S.SENT, T.EXPIRED): S.EXPIRED,
    (S.ACKNOWLEDGED, T.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.ACKNOWLEDGED, T.FULL_FILL): S.FILLED,
    (S.ACKNOWLEDGED, T.CANCELLED): S.CANCELLED,
    (S.ACKNOWLEDGED, T.EXPIRED): S.EXPIRED,
    (S.PARTIALLY_FILLED, T.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, T.FULL_FILL): S.FILLED,
    (S.PARTIALLY_FILLED, T.CANCELLED): S.CANCELLED,
    (S.PARTIALLY_FILLED, T.EXPIRED): S.EXPIRED,
}


def test_transitions_when_read_then_exactly_the_23_documented_edges() -> None:
    assert TRANSITIONS == EXPECTED
    assert len(TRANSITIONS) == 23


@pytest.mark.parametrize(("state", "trigger"), list(EXPECTED))
def test_next_state_when_edge_in_table_then_its_target(state: OrderState,
                                                       trigger: Trigger) -> None:
    assert next_state(state, trigger) is EXPECTED[(state, trigger)]


@pytest.mark.parametrize(("state", "trigger"), [
    (S.FILLED, T.PARTIAL_FILL),
    (S.FILLED, T.CANCELLED),
    (S.CANCELLED, T.FULL_FILL),
    (S.NEW, T.SENT),
    (S.PENDING_SEND, T.EXCHANGE_ACCEPTED),
    (S.PENDING_SEND, T.EXPIRED),
    (S.REJECTED, T.APPROVED),
    (S.EXPIRED, T.CANCELLED),
    (S.ACKNOWLEDGED, T.EXCHANGE_ACCEPTED),
    (S.PARTIALLY_FILLED, T.EXCHANGE_REJECTED),
])
def test_next_state_when_transition_impossible_then_invalid_transition_error(
        state: OrderState, trigger: Trigger) -> None:
    with pytest.raises(InvalidTransitionError, match=f"order in {state} cannot take {trigger}"):
        next_state(state, trigger)


def test_next_state_when_any_pair_outside_the_table_then_raises() -> None:
    raised = 0
    for state, trigger in itertools.product(OrderState, Trigger):
        if (state, trigger) in EXPECTED:
            continue
        with pytest.raises(InvalidTransitionError):
            next_state(state, trigger)
        raised += 1
    assert raised == len(OrderState) * len(Trigger) - 23 == 107


def test_finished_states_when_read_then_no_edge_leaves_them() -> None:
    assert {S.FILLED, S.CANCELLED, S.REJECTED, S.EXPIRED} == FINISHED
    assert {S.SENT, S.ACKNOWLEDGED, S.PARTIALLY_FILLED} == AT_EXCHANGE
    assert not [key for key in TRANSITIONS if key[0] in FINISHED]


# -- order identity ----------------------------------------------------------------------------

def test_order_ids_when_two_brokers_place_then_one_counter_and_the_taiwan_date() -> None:
    desk = Desk()
    ids = [desk.order_id(), desk.order_id(broker=OTHER_BROKER, account=OTHER_ACCOUNT),
           desk.order_id()]
    assert ids == ["20251125-00000001", "20251125-00000002", "20251125-00000003"]
    assert [desk.order(i).broker for i in ids] == [BROKER, OTHER_BROKER, BROKER]
    assert desk.state.trading_day == "20251125"


def test_order_ids_when_refused_after_the_account_checks_then_the_number_is_skipped() -> None:
    desk = Desk()
    desk.order_id()
    assert desk.code(side=SELL, qty=20 * LOT) == Code.INSUFFICIENT_INVENTORY
    assert desk.order_id() == "20251125-00000003"  # a gap, never a reuse


def test_order_ids_when_taiwan_midnight_passes_then_new_date_and_counter_restarts() -> None:
    """15:59:59.999 UTC is 23:59:59.999 in Taipei; one millisecond later is the next day."""
    desk = Desk()
    midnight = T0 + 15 * 60 * 60 * 1000  # 2025-11-26 00:00 Taiwan
    late = desk.order_id(at=midnight - 1)
    early = desk.order_id(at=midnight)
    again = desk.order_id(at=midnight + 1)
    assert (late, early, again) == ("20251125-00000001", "20251126-00000001",
                                    "20251126-00000002")
    assert len(desk.state.orders) == 3
    assert desk.state.trading_day == "20251126"


def test_new_day_when_first_order_placed_then_daily_counters_restart() -> None:
    desk = Desk(daily_buy_limit=1_000_000)
    buy = desk.live(qty=10 * LOT)
    desk.fill(buy, 10 * LOT)
    desk.order_id(side=SELL, qty=5 * LOT, price=7_730)
    account = desk.account()
    assert (account.used_trading, account.bought, account.sell_reserved, account.day_lots) == (
        763_085, {TSMC: 10_000}, {TSMC: 5_000}, {TSMC: 15})
    assert desk.state.brokers[BROKER].bought_today == 763_085
    next_day = desk.order_id(at=T0 + DAY_MS, qty=LOT)
    assert next_day == "20251126-00000001"
    # yesterday's buy is done and forgotten; yesterday's sell is still open, so it keeps
    # holding its 5 lots until the exchange ends it
    assert (account.used_trading, account.bought, account.sell_reserved, account.day_lots) == (
        76_308, {}, {TSMC: 5_000}, {TSMC: 1})
    assert desk.state.brokers[BROKER].bought_today == 76_308
    assert desk.state.brokers[BROKER].client_refs == {"r3": next_day}


def test_new_day_when_first_order_reuses_yesterdays_client_ref_then_accepted() -> None:
    desk = Desk()
    desk.order_id(client_ref="C-1")
    events = desk.place(client_ref="C-1", at=T0 + DAY_MS)
    assert first(events, e.OrderUpdated).order_id == "20251126-00000001"


def test_new_day_when_yesterdays_order_still_open_then_its_release_never_goes_negative() -> None:
    desk = Desk()
    yesterday = desk.live()
    desk.order_id(at=T0 + DAY_MS, account=OTHER_ACCOUNT, broker=OTHER_BROKER)  # rolls the day
    desk.do(c.ExchangeExpired(at=T0 + DAY_MS + 1, order_id=yesterday, qty=LOT))
    assert desk.order(yesterday).state is S.EXPIRED
    assert desk.account().used_trading == 0
    assert desk.state.brokers[BROKER].bought_today == 0


def test_order_ids_when_a_late_stamped_order_crosses_midnight_then_ids_stay_unique() -> None:
    desk = Desk()
    midnight = T0 + 15 * 60 * 60 * 1000
    ids = [desk.order_id(at=midnight - 1_000), desk.order_id(at=midnight + 100),
           desk.order_id(at=midnight - 100, account=OTHER_ACCOUNT, broker=OTHER_BROKER)]
    assert len(set(ids)) == 3
    assert len(desk.state.orders) == 3
