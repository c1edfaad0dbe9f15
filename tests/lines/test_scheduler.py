"""Scheduler: exact schedules for small cases, one behaviour per test."""

from __future__ import annotations

import pytest

from brokercloud.lines import SECOND, Dispatch, LineSpec, Scheduler

from .support import MS, brokers_in_order, drain, items, most_in_any_window, per_line


def line(line_id: str, *brokers: str, rate: float = 20, burst: int = 1) -> LineSpec:
    return LineSpec(line_id, frozenset(brokers), rate, burst)


def fill(scheduler: Scheduler, broker: str, n: int, prefix: str | None = None) -> None:
    for k in range(n):
        scheduler.enqueue(broker, f"{prefix or broker.lower()}{k}")


def test_dispatch_when_two_brokers_share_one_line_then_they_strictly_alternate() -> None:
    scheduler = Scheduler([line("L1", "A", "B")])
    fill(scheduler, "A", 3)
    fill(scheduler, "B", 3)
    assert drain(scheduler) == [
        (0, Dispatch("L1", "A", "a0")), (50 * MS, Dispatch("L1", "B", "b0")),
        (100 * MS, Dispatch("L1", "A", "a1")), (150 * MS, Dispatch("L1", "B", "b1")),
        (200 * MS, Dispatch("L1", "A", "a2")), (250 * MS, Dispatch("L1", "B", "b2"))]


def test_dispatch_when_one_broker_is_alone_then_it_bursts_to_every_line() -> None:
    scheduler = Scheduler([line(f"L{i}", "A", "B") for i in range(1, 4)])
    fill(scheduler, "A", 60)
    sent = drain(scheduler)
    assert [(at, d.line_id) for at, d in sent[:4]] == [
        (0, "L1"), (0, "L2"), (0, "L3"), (50 * MS, "L1")]
    assert [d.item for _, d in sent] == [f"a{k}" for k in range(60)]
    assert sent[-1][0] == 950 * MS  # 60 orders inside one second: 3 lines x 20/s


def test_dispatch_when_a_broker_is_not_on_a_line_then_it_never_gets_it() -> None:
    scheduler = Scheduler([line("L1", "A"), line("L2", "A", "B")])
    fill(scheduler, "B", 4)
    sent = drain(scheduler)
    assert [(at, d.line_id) for at, d in sent] == [
        (0, "L2"), (50 * MS, "L2"), (100 * MS, "L2"), (150 * MS, "L2")]


def test_dispatch_when_a_broker_has_its_own_line_then_it_leaves_the_shared_one_to_others() -> None:
    scheduler = Scheduler([line("SHARED", "A", "B"), line("OWN", "A")])
    fill(scheduler, "A", 4)
    fill(scheduler, "B", 4)
    assert scheduler.dispatch(0) == [Dispatch("OWN", "A", "a0"), Dispatch("SHARED", "B", "b0")]
    sent = drain(scheduler, 0)
    assert {d.line_id for _, d in sent if d.broker == "A"} == {"OWN"}
    assert {d.line_id for _, d in sent if d.broker == "B"} == {"SHARED"}


def test_dispatch_when_brokers_have_disjoint_lines_then_they_never_wait_for_each_other() -> None:
    scheduler = Scheduler([line("L1", "A"), line("L2", "A"), line("L3", "B")])
    fill(scheduler, "A", 40)
    scheduler.enqueue("B", "b0")
    sent = drain(scheduler)
    assert (0, Dispatch("L3", "B", "b0")) in sent
    assert sent[-1][0] == 950 * MS  # A at its own 40/s, no more


def test_enqueue_when_a_broker_wakes_from_idle_then_it_goes_next_but_banks_no_credit() -> None:
    scheduler = Scheduler([line("L1", "A", "B")])
    fill(scheduler, "A", 10)
    for k in range(5):
        assert [d.broker for d in scheduler.dispatch(k * 50 * MS)] == ["A"]
    fill(scheduler, "B", 3)  # B was idle while A sent five: no catching up on them
    assert brokers_in_order(drain(scheduler, 200 * MS)) == [
        "B", "A", "B", "A", "B", "A", "A", "A"]


def test_enqueue_when_a_broker_wakes_then_it_starts_level_with_the_busiest_tag() -> None:
    """X is confined to one slow line and lags behind Y in virtual time; a broker waking just
    after X was served must not inherit X's lag and crowd Y off the lines they share."""
    scheduler = Scheduler([line("LX", "X", rate=10), line("L2", "Y", "Z"), line("L3", "Y", "Z")])
    fill(scheduler, "Y", 200)
    scheduler.dispatch(0)
    fill(scheduler, "X", 200)
    at = 10 * MS
    while at <= SECOND + 10 * MS:  # a second of X at 10/s and Y at 40/s, X sent last
        scheduler.dispatch(at)
        at = scheduler.next_ready_time(at)
    fill(scheduler, "Z", 10)
    shared = [d.broker for _, d in drain(scheduler, at) if d.line_id != "LX"][:10]
    assert shared.count("Z") == 5


def test_dispatch_when_weighted_then_shares_follow_the_weights() -> None:
    scheduler = Scheduler([line("L1", "A", "B")], weights={"A": 2})
    fill(scheduler, "A", 20)
    fill(scheduler, "B", 20)
    order = brokers_in_order(drain(scheduler))
    assert order[:9] == ["A", "B", "A", "B", "A", "A", "B", "A", "A"]
    assert order[:30].count("A") == 20


def test_dispatch_when_weights_are_coprime_then_tags_stay_exact() -> None:
    scheduler = Scheduler([line("L1", "A", "B", "C")], weights={"A": 3, "B": 2})
    for b in "ABC":
        fill(scheduler, b, 60)
    order = brokers_in_order(drain(scheduler))[:60]
    assert (order.count("A"), order.count("B"), order.count("C")) == (30, 20, 10)


def test_remove_when_pending_then_the_item_never_goes_out() -> None:
    scheduler = Scheduler([line("L1", "A")])
    fill(scheduler, "A", 3)
    assert scheduler.remove("A", "a1")
    assert scheduler.pending("A") == 2
    assert items(drain(scheduler)) == [("A", "a0"), ("A", "a2")]


def test_remove_when_already_sent_or_unknown_then_false() -> None:
    scheduler = Scheduler([line("L1", "A")])
    fill(scheduler, "A", 2)
    scheduler.dispatch(0)
    assert not scheduler.remove("A", "a0")
    assert not scheduler.remove("A", "zz")
    assert scheduler.remove("A", "a1")
    assert not scheduler.remove("A", "a1")


def test_remove_when_the_last_item_goes_then_nothing_is_ready() -> None:
    scheduler = Scheduler([line("L1", "A")])
    scheduler.enqueue("A", "a0")
    assert scheduler.next_ready_time(0) == 0
    scheduler.remove("A", "a0")
    assert scheduler.next_ready_time(0) is None
    assert scheduler.dispatch(0) == []


def test_enqueue_when_an_item_was_removed_then_it_rejoins_at_the_back() -> None:
    scheduler = Scheduler([line("L1", "A")])
    fill(scheduler, "A", 3)
    scheduler.remove("A", "a0")
    scheduler.enqueue("A", "a0")
    assert [d.item for _, d in drain(scheduler)] == ["a1", "a2", "a0"]


def test_dispatch_when_called_between_slots_then_nothing_goes_out() -> None:
    scheduler = Scheduler([line("L1", "A")])
    fill(scheduler, "A", 2)
    assert len(scheduler.dispatch(0)) == 1
    assert scheduler.dispatch(49 * MS) == []
    assert scheduler.next_ready_time(49 * MS) == 50 * MS
    assert len(scheduler.dispatch(50 * MS)) == 1


def test_next_ready_time_when_a_line_is_free_then_now() -> None:
    scheduler = Scheduler([line("L1", "A")])
    assert scheduler.next_ready_time(7) is None
    scheduler.enqueue("A", "a0")
    assert scheduler.next_ready_time(7) == 7


def test_dispatch_when_a_line_allows_a_burst_then_that_many_go_at_once() -> None:
    scheduler = Scheduler([line("L1", "A", rate=10, burst=3)])
    fill(scheduler, "A", 5)
    assert [at for at, _ in drain(scheduler)] == [0, 0, 0, 100 * MS, 200 * MS]


def test_dispatch_when_the_pool_is_paced_then_sends_are_spread_over_it() -> None:
    scheduler = Scheduler([line("L1", "A"), line("L2", "A")], pace_pool=True)
    fill(scheduler, "A", 4)
    assert [(at, d.line_id) for at, d in drain(scheduler)] == [
        (0, "L1"), (25 * MS, "L2"), (50 * MS, "L1"), (75 * MS, "L2")]


def test_dispatch_when_many_brokers_compete_then_no_line_exceeds_its_rate_in_any_second() -> None:
    scheduler = Scheduler([line("L1", "A", "B", "C"), line("L2", "B", "C", rate=7)])
    for b in "ABC":
        fill(scheduler, b, 100)
    sent = drain(scheduler)
    assert sorted(items(sent)) == sorted((b, f"{b.lower()}{k}") for b in "ABC" for k in range(100))
    times = per_line(sent)
    assert most_in_any_window(times["L1"]) == 20
    assert most_in_any_window(times["L2"]) == 7


def test_dispatch_when_time_goes_backwards_then_refused() -> None:
    scheduler = Scheduler([line("L1", "A")])
    scheduler.dispatch(SECOND)
    with pytest.raises(ValueError, match="backwards"):
        scheduler.dispatch(SECOND - 1)
    with pytest.raises(ValueError, match="backwards"):
        scheduler.next_ready_time(0)


def test_enqueue_when_the_item_is_already_pending_then_refused() -> None:
    scheduler = Scheduler([line("L1", "A", "B")])
    scheduler.enqueue("A", "x")
    scheduler.enqueue("B", "x")  # items are per broker
    with pytest.raises(ValueError, match="already pending"):
        scheduler.enqueue("A", "x")


def test_enqueue_when_the_broker_is_on_no_line_then_refused() -> None:
    scheduler = Scheduler([line("L1", "A")])
    with pytest.raises(ValueError, match="not registered"):
        scheduler.enqueue("Z", "z0")
    with pytest.raises(ValueError, match="not registered"):
        scheduler.pending("Z")


@pytest.mark.parametrize(("lines", "weights", "message"), [
    ([], None, "at least one line"),
    ([line("L1", "A"), line("L1", "B")], None, "unique"),
    ([line("L1", "A")], {"Z": 2}, "no line"),
    ([line("L1", "A")], {"A": 0}, "positive integers"),
    ([line("L1", "A")], {"A": 1.5}, "positive integers"),
])
def test_scheduler_when_misconfigured_then_refused(
        lines: list[LineSpec], weights: dict[str, int] | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Scheduler(lines, weights)


def test_line_spec_when_no_broker_or_id_then_refused() -> None:
    with pytest.raises(ValueError, match="no broker"):
        LineSpec("L1", frozenset())
    with pytest.raises(ValueError, match="needs an id"):
        LineSpec("", frozenset({"A"}))


def test_pending_counts_per_broker_and_in_total() -> None:
    scheduler = Scheduler([line("L1", "A", "B")])
    fill(scheduler, "A", 3)
    fill(scheduler, "B", 1)
    scheduler.dispatch(0)
    assert (scheduler.pending("A"), scheduler.pending("B"), scheduler.pending()) == (2, 1, 3)
    assert scheduler.brokers == ("A", "B")


def test_dispatch_when_a_line_is_down_then_its_items_wait_first_in_line_or_take_other_lines(
        ) -> None:
    scheduler = Scheduler([line("L1", "A"), line("L2", "A", "B")])
    scheduler.set_line_up("L1", False)
    fill(scheduler, "A", 3)
    assert scheduler.dispatch(0) == [Dispatch("L2", "A", "a0")]  # L1 gets nothing
    scheduler.set_line_up("L2", False)
    assert scheduler.next_ready_time(10 * MS) is None  # every line of A's is down
    assert scheduler.dispatch(60 * MS) == []
    fill(scheduler, "A", 1, prefix="late")
    scheduler.set_line_up("L1", True)
    assert scheduler.next_ready_time(70 * MS) == 70 * MS
    assert scheduler.dispatch(70 * MS) == [Dispatch("L1", "A", "a1")]  # order kept
    assert [d.item for _, d in drain(scheduler, 120 * MS)] == ["a2", "late0"]


def test_set_line_up_when_line_unknown_then_refused() -> None:
    with pytest.raises(ValueError, match="unknown line 'L9'"):
        Scheduler([line("L1", "A")]).set_line_up("L9", True)
