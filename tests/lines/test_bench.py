"""The `bench lines` scenario in reduced size: the fairness figures hold, the old world and a
plain FIFO behave as the thesis says they do."""

from __future__ import annotations

from brokercloud.bench import lines as bench
from brokercloud.lines import LineSpec, Scheduler

SMALL = bench.Scenario(brokers=4, lines=8, basket=400, seconds=2.5, seed=7)
POOL = SMALL.lines * SMALL.rate  # 160 orders/s


def test_the_basket_bursts_into_the_pool_while_others_still_get_a_line() -> None:
    figures = bench.measure(SMALL)
    assert figures["basket_orders_per_s"] >= 0.9 * POOL
    assert figures["other_broker_wait_ms_p99"] <= 50  # one line interval at most
    assert figures["background_wait_ms_p99"] <= 50
    assert figures["max_orders_per_line_in_any_1s"] <= SMALL.rate
    assert figures["orders"] == len(bench.arrivals(SMALL))


def test_the_old_world_confines_the_basket_to_its_own_two_lines() -> None:
    figures = bench.measure(SMALL)
    assert 39 <= figures["old_world_basket_orders_per_s"] <= 41


def test_a_plain_fifo_makes_other_brokers_wait_behind_the_basket() -> None:
    figures = bench.measure(SMALL)
    assert figures["fifo_other_broker_wait_ms_p99"] > 1_000
    assert figures["paced_pool_other_broker_wait_ms_p99"] <= figures["other_broker_wait_ms_p99"]


def test_simulate_sends_every_order_once_and_only_after_it_arrived() -> None:
    flow = bench.arrivals(SMALL)
    sent = bench.simulate(Scheduler(bench.shared_lines(SMALL)), flow)
    assert set(sent) == {a.item for a in flow}
    assert all(sent[a.item].at >= a.at for a in flow)


def test_own_lines_give_each_broker_two_lines_of_its_own() -> None:
    lines = bench.own_lines(SMALL)
    assert [sorted(line.brokers) for line in lines[:4]] == [["B0"], ["B0"], ["B1"], ["B1"]]
    assert all(isinstance(line, LineSpec) for line in lines)
