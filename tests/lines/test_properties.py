"""Scheduler invariants over random pools, flows, cancels and caller timing (hypothesis).

Checked against an independent account of what was enqueued, removed and sent, never against
the scheduler's own state: each item goes out exactly once, on a line its broker is registered
on, in its broker's FIFO order; no line carries more than rate + burst - 1 orders in any 1 s;
after `dispatch(now)` nothing that could go at `now` is left behind; backlogged brokers on a
shared pool get service proportional to their weights, within one order.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from brokercloud.lines import Dispatch, LineSpec, Pacer, Scheduler

from .support import MS, drain, most_in_any_window, per_line

BROKERS = ("A", "B", "C", "D")


@st.composite
def pools(draw: st.DrawFn) -> tuple[list[LineSpec], dict[str, int]]:
    lines = [LineSpec(f"L{i}", frozenset(draw(st.sets(st.sampled_from(BROKERS), min_size=1))),
                      draw(st.integers(1, 40)), draw(st.integers(1, 3)))
             for i in range(draw(st.integers(1, 4)))]
    present = sorted({b for line in lines for b in line.brokers})
    weights = draw(st.dictionaries(st.sampled_from(present), st.integers(1, 4)))
    return lines, weights


steps = st.lists(st.tuples(
    st.integers(0, 120),  # ms since the previous step
    st.sampled_from(("enqueue", "enqueue", "remove", "late")),
    st.integers(0, len(BROKERS) - 1),
    st.integers(1, 6),  # how many to enqueue / which pending item to remove
), max_size=40)


@dataclass
class Ledger:
    """What the test itself knows happened."""

    lines: list[LineSpec]
    enqueued: dict[str, list[Hashable]] = field(default_factory=dict)
    removed: set[tuple[str, Hashable]] = field(default_factory=set)
    sent: list[tuple[int, Dispatch]] = field(default_factory=list)
    counter: int = 0

    def pending(self, broker: str) -> list[Hashable]:
        gone = {d.item for _, d in self.sent if d.broker == broker}
        return [i for i in self.enqueued.get(broker, [])
                if i not in gone and (broker, i) not in self.removed]


def dispatch(scheduler: Scheduler, ledger: Ledger, now: int, paced: bool) -> None:
    batch = scheduler.dispatch(now)
    ledger.sent += [(now, d) for d in batch]
    after = scheduler.next_ready_time(now)
    assert after is None or after > now, "dispatch left behind something that could go now"
    if not paced:
        assert_nothing_idle(scheduler, ledger, now)


def assert_nothing_idle(scheduler: Scheduler, ledger: Ledger, now: int) -> None:
    """Work conservation, from the ledger: a burst-1 line with no send in the last interval is
    free, so none of its brokers may still have work."""
    for spec in ledger.lines:
        if spec.burst != 1:
            continue
        interval = Pacer(spec.rate).interval
        busy = any(d.line_id == spec.line_id and now - at < interval for at, d in ledger.sent)
        if not busy:
            assert all(scheduler.pending(b) == 0 for b in spec.brokers), (spec, now)


def catch_up(scheduler: Scheduler, ledger: Ledger, now: int, until: int, paced: bool) -> int:
    """A punctual caller: dispatch at every ready time from ``now`` up to ``until``."""
    at = scheduler.next_ready_time(now)
    while at is not None and at <= until:
        dispatch(scheduler, ledger, at, paced)
        at = scheduler.next_ready_time(at)
    return until


@settings(max_examples=300, deadline=None)
@given(pools(), steps, st.booleans())
def test_invariants_hold_for_any_flow(pool: tuple[list[LineSpec], dict[str, int]],
                                      script: list[tuple[int, str, int, int]],
                                      paced: bool) -> None:
    lines, weights = pool
    scheduler = Scheduler(lines, weights, pace_pool=paced)
    ledger = Ledger(lines)
    names = scheduler.brokers
    now = 0
    for dt_ms, action, who, n in script:
        broker = names[who % len(names)]
        if action == "late":  # a caller that overslept: one dispatch, late
            now += dt_ms * MS
            dispatch(scheduler, ledger, now, paced)
            continue
        now = catch_up(scheduler, ledger, now, now + dt_ms * MS, paced)
        if action == "enqueue":
            for _ in range(n):
                ledger.counter += 1
                scheduler.enqueue(broker, ledger.counter)
                ledger.enqueued.setdefault(broker, []).append(ledger.counter)
        else:
            waiting = ledger.pending(broker)
            target = waiting[n % len(waiting)] if waiting else -1
            assert scheduler.remove(broker, target) == bool(waiting)
            if waiting:
                ledger.removed.add((broker, target))
        dispatch(scheduler, ledger, now, paced)
        assert scheduler.pending() == sum(len(ledger.pending(b)) for b in names)
    ledger.sent += drain(scheduler, now)
    check_the_record(ledger)


def check_the_record(ledger: Ledger) -> None:
    allowed = {line.line_id: line.brokers for line in ledger.lines}
    for _, d in ledger.sent:
        assert d.broker in allowed[d.line_id], f"{d.broker} sent on {d.line_id}"
    for broker, queued in ledger.enqueued.items():
        expected = [i for i in queued if (broker, i) not in ledger.removed]
        assert [d.item for _, d in ledger.sent if d.broker == broker] == expected
    times = per_line(ledger.sent)
    for line in ledger.lines:
        assert most_in_any_window(times.get(line.line_id, [])) <= line.rate + line.burst - 1
    assert [at for at, _ in ledger.sent] == sorted(at for at, _ in ledger.sent)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=2, max_size=5), st.integers(1, 4),
       st.integers(1, 150))
def test_backlogged_brokers_share_in_proportion_to_weight(
        weights: list[int], n_lines: int, sends: int) -> None:
    names = [f"B{k}" for k in range(len(weights))]
    lines = [LineSpec(f"L{i}", frozenset(names)) for i in range(n_lines)]
    scheduler = Scheduler(lines, dict(zip(names, weights, strict=True)))
    for name in names:
        for k in range(150):
            scheduler.enqueue(name, k)
    served = dict.fromkeys(names, 0)
    now, total = 0, 0
    while total < sends:
        for d in scheduler.dispatch(now):
            served[d.broker] += 1
            total += 1
        now = scheduler.next_ready_time(now) or now
    for i, wi in zip(names, weights, strict=True):
        for j, wj in zip(names, weights, strict=True):
            assert Fraction(served[i], wi) - Fraction(served[j], wj) <= Fraction(1, wi)


class _Scanning(Scheduler):
    """The preference rule read literally: a broker's first ready line in its own list."""

    def _first_ready(self, state, ready):  # type: ignore[no-untyped-def]
        return next(filter(ready.__contains__, state.lines))


@given(st.integers(1, 12), st.lists(st.tuples(
    st.integers(0, 60),  # ms since the previous step
    st.sampled_from(("enqueue", "enqueue", "down", "up")),
    st.integers(0, 11),  # broker or line
    st.integers(1, 8),  # how many to enqueue
), max_size=60))
@settings(max_examples=200, deadline=None)
def test_dispatch_when_brokers_are_on_every_line_then_the_heap_picks_as_the_list_scan(
        size: int, steps: list[tuple[int, str, int, int]]) -> None:
    """Brokers on every line take the top of the ready-line heap instead of scanning their
    list: the same sends, on the same lines, at the same times, with lines going down and up
    (some lines shared by fewer brokers, so the preference order is not the index order)."""
    lines = [LineSpec(f"L{i}", frozenset(BROKERS if i % 3 else BROKERS[:2]), 20, 1 + i % 2)
             for i in range(size)]
    heap, scan = Scheduler(lines), _Scanning(lines)
    now, counter = 0, 0
    for gap, action, which, count in steps:
        now += gap * MS
        if action == "enqueue":
            for _ in range(count):
                counter += 1
                for scheduler in (heap, scan):
                    scheduler.enqueue(BROKERS[which % 2], counter)  # A and B: every line
        else:
            for scheduler in (heap, scan):
                scheduler.set_line_up(f"L{which % size}", action == "up")
        assert heap.dispatch(now) == scan.dispatch(now)
