"""An order's life from the lines' and the exchange's reports: sent, acknowledged, filled in
parts or at once (idempotent by exec ID), cancelled, expired or rejected with what it reserved
released; cancels before and after sending; amendments; reports for unknown orders; tenancy."""

from __future__ import annotations

import gc

import pytest

from brokercloud.codes import Code
from brokercloud.core import commands as c
from brokercloud.core import events as e
from brokercloud.core.model import OrderFill
from brokercloud.core.oms import OrderState

from .support import (
    ACCOUNT,
    BROKER,
    BUY,
    HOLDING,
    LOT,
    MARGIN,
    MARKET,
    OTHER_ACCOUNT,
    OTHER_BROKER,
    SELL,
    SHORT,
    TSMC,
    Desk,
    first,
    kinds,
    refused_code,
    trail,
)

MARGIN_OWN, MARGIN_LOAN = 306_085, 457_000  # 10 lots at 76.2 on margin


def margin_buy(desk: Desk, client_ref: str = "M1") -> str:
    return desk.live(qty=10 * LOT, credit=MARGIN, client_ref=client_ref)


def used(desk: Desk, account: str = ACCOUNT) -> tuple[int, int, dict[str, int]]:
    held = desk.account(account)
    return held.used_trading, held.used_credit, dict(held.sell_reserved)


# -- sent and acknowledged ---------------------------------------------------------------------

def test_mark_sent_when_pending_send_then_sent_on_that_line() -> None:
    desk = Desk()
    order_id = desk.order_id(client_ref="A")
    events = desk.sent(order_id)
    assert events == [e.OrderUpdated(seq=desk.seq, broker=BROKER, account=ACCOUNT,
                                     order_id=order_id, client_ref="A", state=OrderState.SENT,
                                     cum_qty=0, leaves=LOT)]
    assert desk.order(order_id).line == "T9A00A0"
    assert desk.sent(order_id) == []  # sent once: a repeated MarkSent changes nothing
    assert trail(desk.order(order_id))[-1][2:] == ("sent", "T9A00A0")


def test_exchange_accepted_when_sent_then_acknowledged_with_exchange_id_and_time() -> None:
    desk = Desk()
    order_id = desk.order_id(client_ref="A")
    desk.sent(order_id)
    events = desk.accepted(order_id, exchange_order_id=4242)
    assert events == [e.OrderUpdated(seq=desk.seq, broker=BROKER, account=ACCOUNT,
                                     order_id=order_id, client_ref="A",
                                     state=OrderState.ACKNOWLEDGED, cum_qty=0, leaves=LOT)]
    order = desk.order(order_id)
    assert (order.exchange_order_id, order.acked_at) == (4242, desk.now)


def test_exchange_accepted_when_fill_overtook_it_then_only_the_ack_fields_recorded() -> None:
    desk = Desk()
    order_id = desk.order_id(qty=2 * LOT)
    desk.sent(order_id)
    desk.fill(order_id, LOT)
    assert desk.accepted(order_id, exchange_order_id=7) == []
    order = desk.order(order_id)
    assert (order.state, order.exchange_order_id, order.cum_qty) == (
        OrderState.PARTIALLY_FILLED, 7, LOT)


# -- fills -------------------------------------------------------------------------------------

def test_fill_when_partial_then_spent_charged_and_open_part_still_reserved() -> None:
    """3 of 10 lots at 76.2: spent own 91,925 + loan 137,000; open 7 lots hold own 214,160 +
    loan 320,000; together the original 306,085 / 457,000."""
    desk = Desk()
    order_id = margin_buy(desk)
    events = desk.fill(order_id, 3 * LOT, exec_id="E1")
    assert events == [
        e.Fill(seq=desk.seq, broker=BROKER, account=ACCOUNT, order_id=order_id, exec_id="E1",
               symbol=TSMC, side=int(BUY), price=7_620, qty=3 * LOT),
        e.OrderUpdated(seq=desk.seq, broker=BROKER, account=ACCOUNT, order_id=order_id,
                       client_ref="M1", state=OrderState.PARTIALLY_FILLED, cum_qty=3_000,
                       leaves=7_000)]
    order = desk.order(order_id)
    assert (order.reserved_trading, order.reserved_credit) == (214_160, 320_000)
    assert used(desk)[:2] == (MARGIN_OWN, MARGIN_LOAN)
    assert desk.account().bought == {TSMC: 3_000}
    assert order.fills == {"E1": OrderFill(desk.now, 7_620, 3_000)}


def test_fill_when_booked_then_the_order_leaves_nothing_for_the_cyclic_gc() -> None:
    """A day of orders must not become a day of objects for every collection to scan: the
    fills dict is never tracked, and the audit trail's tuple is untracked by the first
    collection that sees it (as CPython does for a tuple holding nothing tracked)."""
    desk = Desk()
    order_id = margin_buy(desk)
    desk.fill(order_id, 3 * LOT, exec_id="E1")
    order = desk.order(order_id)
    gc.collect(0)
    assert not gc.is_tracked(order.fills)
    assert len(order.audit) > 1 and not gc.is_tracked(order.audit)


def test_fill_when_rest_filled_then_filled_and_nothing_reserved() -> None:
    desk = Desk()
    order_id = margin_buy(desk)
    desk.fill(order_id, 3 * LOT, exec_id="E1")
    events = desk.fill(order_id, 7 * LOT, exec_id="E2")
    assert first(events, e.OrderUpdated).state is OrderState.FILLED
    order = desk.order(order_id)
    assert (order.cum_qty, order.leaves, order.reserved_trading, order.reserved_credit) == (
        10_000, 0, 0, 0)
    # spent per fill: 3 lots 91,925 / 137,000; 7 lots 214,160 / 320,000
    assert used(desk)[:2] == (306_085, 457_000)
    assert desk.account().bought == {TSMC: 10_000}
    assert desk.state.brokers[BROKER].bought_today == 763_085


def test_fill_when_redelivered_with_same_exec_id_then_nothing_changes() -> None:
    desk = Desk()
    order_id = margin_buy(desk)
    desk.fill(order_id, 3 * LOT, exec_id="E1")
    before = (used(desk), dict(desk.account().bought), desk.order(order_id).cum_qty,
              desk.state.brokers[BROKER].bought_today)
    assert desk.fill(order_id, 3 * LOT, exec_id="E1") == []
    assert desk.fill(order_id, 3 * LOT, exec_id="E1", price=7_600) == []
    after = (used(desk), dict(desk.account().bought), desk.order(order_id).cum_qty,
             desk.state.brokers[BROKER].bought_today)
    assert after == before == ((MARGIN_OWN, MARGIN_LOAN, {}), {TSMC: 3_000}, 3_000, 763_085)


def test_fill_when_redelivered_after_order_filled_then_nothing_changes() -> None:
    desk = Desk()
    order_id = desk.live(qty=LOT)
    desk.fill(order_id, LOT, exec_id="E1")
    assert desk.fill(order_id, LOT, exec_id="E1") == []
    assert (desk.order(order_id).cum_qty, desk.account().bought) == (LOT, {TSMC: LOT})
    assert desk.account().used_trading == 76_308


def test_fill_when_above_open_quantity_then_held_as_discrepancy_and_order_unchanged() -> None:
    """The exchange's report contradicts the order: believing it would sell or buy more than
    was asked; dropping it would lose a trade. It waits for the operator, with every field."""
    desk = Desk()
    order_id = desk.live(qty=2 * LOT)
    desk.fill(order_id, LOT, exec_id="E1")
    before = (used(desk), dict(desk.account().bought), desk.order(order_id).cum_qty)
    events = desk.fill(order_id, 2 * LOT, exec_id="E2")
    assert events == [e.ReportDiscrepancy(
        seq=desk.seq, broker=BROKER, account=ACCOUNT, order_id=order_id, exec_id="E2",
        price=7_620, qty=2 * LOT, code=Code.FILL_ABOVE_OPEN_QTY)]
    assert desk.state.discrepancies == events
    assert (used(desk), dict(desk.account().bought), desk.order(order_id).cum_qty) == before
    assert "E2" not in (desk.order(order_id).fills or {})


@pytest.mark.parametrize("finish", ["filled", "cancelled"])
def test_fill_when_order_already_closed_then_held_as_discrepancy(finish: str) -> None:
    desk = Desk()
    order_id = desk.live(qty=LOT)
    if finish == "filled":
        desk.fill(order_id, LOT, exec_id="E1")
    else:
        desk.do(c.ExchangeCancelled(at=desk.tick(), order_id=order_id, qty=LOT))
    state = desk.order(order_id).state
    events = desk.fill(order_id, LOT, exec_id="E9")
    assert [(event.code, event.exec_id) for event in events] == [
        (Code.FILL_FOR_CLOSED_ORDER, "E9")]
    assert desk.order(order_id).state is state
    assert desk.account().bought == ({TSMC: LOT} if finish == "filled" else {})


@pytest.mark.parametrize(("side", "price"), [(BUY, 7_630), (SELL, 7_610)])
def test_fill_when_price_worse_than_limit_then_booked_and_flagged(side, price) -> None:
    """The trade happened at the exchange: it counts, and the operator is told."""
    desk = Desk()
    order_id = desk.live(side=side, qty=LOT, price=7_620)
    events = desk.fill(order_id, LOT, price=price, exec_id="E1")
    assert kinds(events) == ["Fill", "OrderUpdated", "ReportDiscrepancy"]
    assert events[-1].code is Code.FILL_PRICE_BEYOND_LIMIT
    assert desk.order(order_id).state is OrderState.FILLED
    assert desk.state.discrepancies == [events[-1]]
    assert desk.fill(order_id, LOT, price=7_620, exec_id="E1") == []  # re-delivered: once


def test_fill_when_price_better_than_limit_then_difference_released_at_once() -> None:
    """Filled at 76.0: value 760,000 + 1,083 = 761,083; loan 456,000; own 305,083."""
    desk = Desk()
    order_id = margin_buy(desk)
    desk.fill(order_id, 10 * LOT, price=7_600)
    assert used(desk)[:2] == (305_083, 456_000)
    assert desk.state.brokers[BROKER].bought_today == 761_083


def test_fill_when_market_buy_fills_below_limit_up_then_charged_at_fill_price() -> None:
    desk = Desk()
    order_id = desk.live(order_type=MARKET, price=0, qty=2 * LOT)
    assert desk.account().used_trading == 164_433  # 2 lots at 82.1: 164,200 + 233
    desk.fill(order_id, LOT, price=7_470)  # 74,700 + 106
    assert desk.account().used_trading == 74_806 + 82_216


def test_fill_when_sell_partly_filled_then_sold_shares_stay_taken() -> None:
    desk = Desk()
    order_id = desk.live(side=SELL, qty=5 * LOT, price=7_730)
    desk.fill(order_id, 2 * LOT, price=7_730)
    assert used(desk) == (0, 0, {TSMC: 5_000})
    assert desk.account().available_shares(TSMC) == HOLDING - 5_000
    assert desk.order(order_id).held_shares == 5_000


# -- ends: cancelled, expired, rejected -------------------------------------------------------

@pytest.mark.parametrize(("end", "state", "code"), [
    ("cancelled", OrderState.CANCELLED, Code.CANCELLED_ON_REQUEST),
    ("expired", OrderState.EXPIRED, Code.EXPIRED_END_OF_SESSION),
])
def test_exchange_end_when_partly_filled_then_open_part_released_fills_kept(
        end: str, state: OrderState, code: Code) -> None:
    desk = Desk()
    order_id = margin_buy(desk)
    desk.fill(order_id, 3 * LOT)
    command = (c.ExchangeCancelled(at=desk.tick(), order_id=order_id, qty=7 * LOT)
               if end == "cancelled" else
               c.ExchangeExpired(at=desk.tick(), order_id=order_id, qty=7 * LOT))
    events = desk.do(command)
    assert events == [e.OrderUpdated(seq=desk.seq, broker=BROKER, account=ACCOUNT,
                                     order_id=order_id, client_ref="M1", state=state,
                                     cum_qty=3_000, leaves=0, code=code)]
    assert used(desk)[:2] == (91_925, 137_000)  # what the 3 filled lots used
    order = desk.order(order_id)
    assert (order.reserved_trading, order.reserved_credit) == (0, 0)
    assert desk.state.brokers[BROKER].bought_today == 91_925 + 137_000
    assert desk.do(command) == []  # an order ends once


def test_exchange_cancelled_when_ioc_remainder_then_its_code_is_reported() -> None:
    desk = Desk()
    order_id = desk.live(qty=2 * LOT)
    desk.fill(order_id, LOT)
    events = desk.do(c.ExchangeCancelled(at=desk.tick(), order_id=order_id, qty=LOT,
                                         code=Code.IOC_REMAINDER_CANCELLED))
    assert (events[0].state, events[0].code) == (OrderState.CANCELLED,
                                                 Code.IOC_REMAINDER_CANCELLED)


def test_exchange_cancelled_when_sell_partly_filled_then_unsold_shares_free_again() -> None:
    desk = Desk()
    order_id = desk.live(side=SELL, qty=5 * LOT, price=7_730)
    desk.fill(order_id, 2 * LOT, price=7_730)
    desk.exchange_cancelled(order_id, 3 * LOT)
    assert used(desk) == (0, 0, {TSMC: 2_000})
    assert desk.order(order_id).held_shares == 2_000
    assert desk.account().available_shares(TSMC) == 8_000


def test_exchange_rejected_when_sent_then_rejected_with_its_code_and_released() -> None:
    desk = Desk()
    order_id = desk.order_id(qty=10 * LOT, credit=MARGIN, client_ref="M1")
    desk.sent(order_id)
    events = desk.do(c.ExchangeRejected(at=desk.tick(), order_id=order_id,
                                        code=Code.PRICE_OUTSIDE_LIMITS))
    assert events == [e.OrderUpdated(seq=desk.seq, broker=BROKER, account=ACCOUNT,
                                     order_id=order_id, client_ref="M1",
                                     state=OrderState.REJECTED, cum_qty=0, leaves=0,
                                     code=Code.PRICE_OUTSIDE_LIMITS)]
    assert used(desk) == (0, 0, {})
    assert desk.state.brokers[BROKER].bought_today == 0


def test_exchange_rejected_when_already_acknowledged_then_ignored() -> None:
    desk = Desk()
    order_id = desk.live()
    events = desk.do(c.ExchangeRejected(at=desk.tick(), order_id=order_id,
                                        code=Code.PRICE_OUTSIDE_LIMITS))
    assert events == []
    assert desk.order(order_id).state is OrderState.ACKNOWLEDGED
    assert desk.account().used_trading == 76_308


def test_short_sale_when_filled_then_margin_at_fill_price_and_cancel_releases_rest() -> None:
    """10 lots at 76.3 reserve 686,700; 4 filled at 77.0 use 277,200; 6 open hold 412,020 ->
    412,100; after the cancel only 277,200 stays."""
    desk = Desk()
    order_id = desk.live(side=SELL, credit=SHORT, qty=10 * LOT, price=7_630)
    desk.fill(order_id, 4 * LOT, price=7_700)
    assert used(desk) == (0, 277_200 + 412_100, {})
    desk.exchange_cancelled(order_id, 6 * LOT)
    assert used(desk) == (0, 277_200, {})


# -- cancels -----------------------------------------------------------------------------------

def test_cancel_when_pending_send_then_cancelled_immediately_without_exchange() -> None:
    desk = Desk()
    order_id = desk.order_id(qty=10 * LOT, credit=MARGIN, client_ref="M1")
    events = desk.cancel(order_id)
    assert events == [e.OrderUpdated(seq=desk.seq, broker=BROKER, account=ACCOUNT,
                                     order_id=order_id, client_ref="M1",
                                     state=OrderState.CANCELLED, cum_qty=0, leaves=0,
                                     code=Code.CANCELLED_ON_REQUEST)]
    assert used(desk) == (0, 0, {})
    assert trail(desk.order(order_id))[-1][2:] == ("cancelled", "sales1")


def test_cancel_when_at_exchange_then_send_cancel_and_released_only_on_report() -> None:
    desk = Desk()
    order_id = margin_buy(desk)
    events = desk.cancel(order_id)
    assert events == [e.SendCancel(seq=desk.seq, broker=BROKER, order_id=order_id)]
    order = desk.order(order_id)
    assert (order.state, order.pending) == (OrderState.ACKNOWLEDGED, "cancel")
    assert used(desk)[:2] == (MARGIN_OWN, MARGIN_LOAN)  # still live at the exchange
    assert refused_code(desk.cancel(order_id)) == Code.ORDER_NOT_CANCELLABLE
    desk.exchange_cancelled(order_id, 10 * LOT)
    assert (order.state, order.pending) == (OrderState.CANCELLED, "")
    assert used(desk) == (0, 0, {})
    assert [what for _, _, what, _ in trail(order)] == [
        "risk_passed", "sent", "exchange_accepted", "cancel requested", "cancelled"]


def test_cancel_when_fill_arrives_before_the_cancel_report_then_fill_counts() -> None:
    desk = Desk()
    order_id = desk.live(qty=3 * LOT)
    desk.cancel(order_id)
    desk.fill(order_id, LOT)
    assert desk.order(order_id).pending == "cancel"
    desk.exchange_cancelled(order_id, 2 * LOT)
    order = desk.order(order_id)
    assert (order.state, order.cum_qty) == (OrderState.CANCELLED, LOT)
    assert desk.account().used_trading == 76_308


@pytest.mark.parametrize("finish", ["filled", "cancelled", "rejected"])
def test_cancel_when_order_finished_then_order_not_cancellable(finish: str) -> None:
    desk = Desk()
    order_id = desk.order_id()
    desk.sent(order_id)
    if finish == "filled":
        desk.fill(order_id, LOT)
    elif finish == "cancelled":
        desk.exchange_cancelled(order_id, LOT)
    else:
        desk.do(c.ExchangeRejected(at=desk.tick(), order_id=order_id, code=Code.UNKNOWN_SYMBOL))
    events = desk.cancel(order_id)
    assert events == [e.CommandRejected(seq=desk.seq, broker=BROKER,
                                        code=Code.ORDER_NOT_CANCELLABLE, command="CancelOrder")]


def test_mark_sent_when_cancelled_before_the_line_took_it_then_ignored() -> None:
    """The lines journal MarkSent before sending and send only an order that became SENT, so
    a cancel applied first means the order never leaves."""
    desk = Desk()
    order_id = desk.order_id()
    desk.cancel(order_id)
    assert desk.sent(order_id) == []
    order = desk.order(order_id)
    assert (order.state, order.line) == (OrderState.CANCELLED, "")
    assert desk.account().used_trading == 0


def test_exchange_expired_when_order_never_sent_then_ignored_without_raising() -> None:
    desk = Desk()
    order_id = desk.order_id()
    events = desk.do(c.ExchangeExpired(at=desk.tick(), order_id=order_id, qty=LOT))
    assert events == []
    assert desk.order(order_id).state is OrderState.PENDING_SEND
    assert desk.account().used_trading == 76_308


# -- amendments --------------------------------------------------------------------------------

def amend(desk: Desk, order_id: str, *, qty: int | None = None, price: int | None = None,
          broker: str = BROKER) -> list[e.Event]:
    return desk.do(c.AmendOrder(at=desk.tick(), broker=broker, user="sales1",
                                order_id=order_id, qty=qty, price=price))


def test_amend_when_reducing_quantity_of_live_order_then_send_amend_and_pending() -> None:
    desk = Desk()
    order_id = desk.live(qty=5 * LOT)
    events = amend(desk, order_id, qty=3 * LOT)
    assert events == [e.SendAmend(seq=desk.seq, broker=BROKER, order_id=order_id, qty=3_000,
                                  price=None)]
    order = desk.order(order_id)
    assert (order.pending, order.qty, order.leaves) == ("amend", 5_000, 5_000)
    assert trail(order)[-1][2:] == ("amend requested", "sales1")
    assert refused_code(amend(desk, order_id, qty=2 * LOT)) == Code.ORDER_NOT_AMENDABLE


def test_cancel_when_an_amendment_was_requested_earlier_then_cancel_can_be_sent() -> None:
    desk = Desk()
    order_id = desk.live(qty=5 * LOT)
    amend(desk, order_id, qty=3 * LOT)
    assert desk.cancel(order_id) == [e.SendCancel(seq=desk.seq, broker=BROKER,
                                                  order_id=order_id)]


def test_amend_when_changing_price_then_send_amend_with_price() -> None:
    desk = Desk()
    order_id = desk.live(qty=5 * LOT)
    assert amend(desk, order_id, price=7_600) == [
        e.SendAmend(seq=desk.seq, broker=BROKER, order_id=order_id, qty=None, price=7_600)]


@pytest.mark.parametrize(("fields", "code"), [
    ({"qty": 3 * LOT, "price": 7_600}, Code.AMEND_PRICE_AND_QUANTITY),
    ({}, Code.AMEND_NOTHING),
    ({"qty": 6 * LOT}, Code.AMEND_QUANTITY_NOT_REDUCED),
    ({"qty": 5 * LOT}, Code.AMEND_QUANTITY_NOT_REDUCED),
])
def test_amend_when_request_breaks_a_rule_then_its_code(fields: dict[str, int],
                                                        code: Code) -> None:
    desk = Desk()
    order_id = desk.live(qty=5 * LOT)
    events = amend(desk, order_id, **fields)
    assert events == [e.CommandRejected(seq=desk.seq, broker=BROKER, code=code,
                                        command="AmendOrder")]
    assert desk.order(order_id).pending == ""


def test_amend_when_new_quantity_not_above_filled_then_amend_below_filled() -> None:
    desk = Desk()
    order_id = desk.live(qty=5 * LOT)
    desk.fill(order_id, 2 * LOT)
    assert refused_code(amend(desk, order_id, qty=2 * LOT)) == Code.AMEND_BELOW_FILLED


def test_amend_when_new_quantity_not_above_filled_then_refused() -> None:
    desk = Desk()
    order_id = desk.live(qty=5 * LOT)
    desk.fill(order_id, 2 * LOT)
    assert kinds(amend(desk, order_id, qty=2 * LOT)) == ["CommandRejected"]
    assert desk.order(order_id).pending == ""
    assert amend(desk, order_id, qty=3 * LOT) == [
        e.SendAmend(seq=desk.seq, broker=BROKER, order_id=order_id, qty=3_000, price=None)]


@pytest.mark.parametrize("stage", ["pending_send", "sent", "filled"])
def test_amend_when_order_not_acknowledged_or_finished_then_order_not_amendable(
        stage: str) -> None:
    desk = Desk()
    order_id = desk.order_id(qty=2 * LOT)
    if stage != "pending_send":
        desk.sent(order_id)
    if stage == "filled":
        desk.fill(order_id, 2 * LOT)
    assert refused_code(amend(desk, order_id, qty=LOT)) == Code.ORDER_NOT_AMENDABLE


def test_amend_when_market_order_price_changed_then_amend_market_order_price() -> None:
    desk = Desk()
    order_id = desk.live(order_type=MARKET, price=0)
    assert refused_code(amend(desk, order_id, price=7_600)) == Code.AMEND_MARKET_ORDER_PRICE


def test_amend_when_new_price_off_tick_then_price_not_on_tick() -> None:
    desk = Desk()
    order_id = desk.live()
    assert refused_code(amend(desk, order_id, price=7_625)) == Code.PRICE_NOT_ON_TICK


# -- reports for orders we do not know --------------------------------------------------------

@pytest.mark.parametrize("command", [
    c.MarkSent(at=1, order_id="20251125-99999999", line="L1"),
    c.ExchangeAccepted(at=1, order_id="20251125-99999999", exchange_order_id=9),
    c.ExchangeRejected(at=1, order_id="20251125-99999999", code=Code.UNKNOWN_SYMBOL),
    c.ExchangeFilled(at=1, order_id="20251125-99999999", exec_id="E9", price=7_620, qty=LOT),
    c.ExchangeCancelled(at=1, order_id="20251125-99999999", qty=LOT),
    c.ExchangeExpired(at=1, order_id="20251125-99999999", qty=LOT),
], ids=lambda command: type(command).__name__)
def test_report_when_order_unknown_then_kept_and_surfaced_as_unknown_report(
        command: c.Cmd) -> None:
    desk = Desk()
    events = desk.do(command)
    report = e.UnknownReport(seq=desk.seq, broker="", order_id="20251125-99999999",
                             report=type(command).__name__)
    assert events == [report]
    assert desk.state.unknown_reports == [report]
    assert desk.state.orders == {}


def test_report_when_several_unknown_then_all_kept_in_arrival_order() -> None:
    desk = Desk()
    desk.do(c.ExchangeFilled(at=1, order_id="A", exec_id="E1", price=7_620, qty=LOT))
    desk.do(c.ExchangeFilled(at=1, order_id="A", exec_id="E1", price=7_620, qty=LOT))
    desk.do(c.ExchangeCancelled(at=1, order_id="B", qty=LOT))
    assert [(r.order_id, r.report) for r in desk.state.unknown_reports] == [
        ("A", "ExchangeFilled"), ("A", "ExchangeFilled"), ("B", "ExchangeCancelled")]


# -- tenancy -----------------------------------------------------------------------------------

def test_cancel_when_order_of_another_broker_then_unknown_order_id_like_a_missing_one() -> None:
    desk = Desk()
    order_id = desk.live()
    theirs = desk.cancel(order_id, broker=OTHER_BROKER, user="supB")
    missing = desk.cancel("20251125-99999999", broker=OTHER_BROKER, user="supB")
    assert theirs == [e.CommandRejected(seq=desk.seq - 1, broker=OTHER_BROKER,
                                        code=Code.UNKNOWN_ORDER_ID, command="CancelOrder")]
    assert missing == [e.CommandRejected(seq=desk.seq, broker=OTHER_BROKER,
                                         code=Code.UNKNOWN_ORDER_ID, command="CancelOrder")]
    assert (desk.order(order_id).state, desk.order(order_id).pending) == (
        OrderState.ACKNOWLEDGED, "")


def test_amend_when_order_of_another_broker_then_unknown_order_id() -> None:
    desk = Desk()
    order_id = desk.live(qty=2 * LOT)
    events = amend(desk, order_id, qty=LOT, broker=OTHER_BROKER)
    assert events == [e.CommandRejected(seq=desk.seq, broker=OTHER_BROKER,
                                        code=Code.UNKNOWN_ORDER_ID, command="AmendOrder")]
    assert desk.order(order_id).pending == ""


def test_events_when_order_lives_then_every_event_names_its_broker_and_account() -> None:
    desk = Desk()
    theirs = desk.live(broker=OTHER_BROKER, account=OTHER_ACCOUNT, qty=2 * LOT)
    events = desk.fill(theirs, LOT) + desk.cancel(theirs, broker=OTHER_BROKER, user="supB")
    events += desk.exchange_cancelled(theirs, LOT)
    assert {event.broker for event in events} == {OTHER_BROKER}
    assert {event.account for event in events if hasattr(event, "account")} == {OTHER_ACCOUNT}
