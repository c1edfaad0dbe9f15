"""Maintenance ratio, margin calls with their top-up deadline, and forced disposal, with the
thesis's margin buy (10 lots of 2330 at 76.2: loan 457,000) computed by hand."""

from __future__ import annotations

from datetime import date

import pytest
from tests.backoffice.support import (
    ACCOUNT,
    BROKER,
    BUY,
    FUNDS,
    MARGIN,
    SELL,
    SHORT,
    TSMC,
    fill,
    ledger,
)

from brokercloud.backoffice import commands as b
from brokercloud.backoffice.ledger import Ledger
from brokercloud.backoffice.margin import (
    CallState,
    DisposalOrder,
    MarginCall,
    Trigger,
    next_call_state,
)
from brokercloud.backoffice.queries import balance_of
from brokercloud.codes import Code

MON, TUE, WED, THU = (date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2),
                      date(2026, 12, 3))


def _margin_bought() -> Ledger:
    books = ledger()
    books.apply(fill(BUY, 10_000, 7_620, credit=MARGIN))
    return books


def test_mark_prices_when_ratio_below_130_then_call_with_shortfall_and_deadline() -> None:
    books = _margin_bought()
    # at 59.0: 590,000 / 457,000 = 129.10% -> 12,910 bp; 166% of 457,000 = 758,620
    assert books.apply(b.MarkPrices(date=MON, prices={TSMC: 5_900})) == Code.OK
    assert books.margin_calls == [MarginCall(BROKER, ACCOUNT, MON, 12_910, 168_620, WED)]
    assert books.accounts[ACCOUNT].call.state is CallState.CALLED


def test_mark_prices_when_ratio_at_or_above_130_then_no_call() -> None:
    books = _margin_bought()
    # at 59.5: 595,000 / 457,000 = 130.19%
    books.apply(b.MarkPrices(date=MON, prices={TSMC: 5_950}))
    assert books.margin_calls == [] and books.accounts[ACCOUNT].call is None


def test_mark_prices_when_call_not_met_by_deadline_then_forced_disposal() -> None:
    books = _margin_bought()
    books.apply(b.MarkPrices(date=MON, prices={TSMC: 5_900}))
    books.apply(b.MarkPrices(date=TUE, prices={TSMC: 7_000}))  # 153.17%: still called
    books.apply(b.MarkPrices(date=WED, prices={TSMC: 6_000}))  # the deadline day itself
    assert books.disposals == []
    books.apply(b.MarkPrices(date=THU, prices={TSMC: 6_000}))
    assert books.disposals == [DisposalOrder(BROKER, ACCOUNT, THU, TSMC, SELL, MARGIN, 10_000)]
    assert books.accounts[ACCOUNT].call.state is CallState.DISPOSAL


def test_top_up_when_shortfall_paid_then_call_clears_at_166() -> None:
    books = _margin_bought()
    books.apply(b.MarkPrices(date=MON, prices={TSMC: 5_900}))
    assert books.apply(b.TopUp(account=ACCOUNT, amount=168_619)) == Code.OK
    assert books.accounts[ACCOUNT].call.state is CallState.CALLED  # 165.99%: not yet
    assert books.apply(b.TopUp(account=ACCOUNT, amount=1)) == Code.OK
    assert books.accounts[ACCOUNT].call is None  # 758,620 / 457,000 = 166.00%
    balance = balance_of(books, BROKER, ACCOUNT)
    assert balance is not None and balance.bank == FUNDS - 168_620
    books.apply(b.MarkPrices(date=THU, prices={TSMC: 5_900}))
    assert books.disposals == []  # the call was met


def test_top_up_when_more_than_bank_or_not_positive_then_refused() -> None:
    books = _margin_bought()
    assert books.apply(b.TopUp(account=ACCOUNT, amount=FUNDS + 1)) == (
        Code.TOP_UP_EXCEEDS_BANK_BALANCE)
    assert books.apply(b.TopUp(account=ACCOUNT, amount=0)) == Code.INVALID_REFERENCE_DATA
    assert books.apply(b.TopUp(account="99999999", amount=1)) == Code.UNKNOWN_ACCOUNT


def test_mark_prices_when_short_rises_then_call_on_the_shorted_value() -> None:
    books = ledger()
    books.apply(fill(SELL, 2_000, 8_000, credit=SHORT))
    # held: margin 144,000 + proceeds 159,164 = 303,164; at 120.0 the shares owe 240,000:
    # 303,164 / 240,000 = 126.31%; 166% of 240,000 = 398,400 -> shortfall 95,236
    books.apply(b.MarkPrices(date=MON, prices={TSMC: 12_000}))
    assert books.margin_calls == [MarginCall(BROKER, ACCOUNT, MON, 12_631, 95_236, WED)]
    books.apply(b.MarkPrices(date=THU, prices={TSMC: 12_000}))
    assert books.disposals == [DisposalOrder(BROKER, ACCOUNT, THU, TSMC, BUY, SHORT, 2_000)]


def test_mark_prices_when_position_closed_then_call_ends() -> None:
    books = _margin_bought()
    books.apply(b.MarkPrices(date=MON, prices={TSMC: 5_900}))
    books.apply(fill(SELL, 10_000, 5_900, credit=MARGIN, trade_date=MON))
    books.apply(b.MarkPrices(date=TUE, prices={TSMC: 5_900}))
    assert books.accounts[ACCOUNT].call is None


def test_mark_prices_when_price_not_positive_then_refused() -> None:
    books = _margin_bought()
    assert books.apply(b.MarkPrices(date=MON, prices={TSMC: 0})) == Code.INVALID_REFERENCE_DATA


@pytest.mark.parametrize(("state", "trigger", "after"), [
    (CallState.OK, Trigger.BETWEEN, CallState.OK),
    (CallState.CALLED, Trigger.BETWEEN, CallState.CALLED),
    (CallState.DISPOSAL, Trigger.HEALTHY, CallState.OK),
])
def test_transition_table_when_surprising_edges_then_as_documented(
        state: CallState, trigger: Trigger, after: CallState) -> None:
    assert next_call_state(state, trigger) is after


def test_transition_table_when_ok_and_deadline_passed_then_invalid() -> None:
    with pytest.raises(KeyError):
        next_call_state(CallState.OK, Trigger.DEADLINE_PASSED)
