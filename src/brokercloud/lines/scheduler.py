"""Which broker's next order goes out on which exchange line, and when.

Pure and deterministic: the caller passes the time in (integer nanoseconds, see `pacing`), calls
`dispatch(now)` and sleeps until `next_ready_time(now)` or the next `enqueue`. The same calls
always give the same schedule, so tests assert schedules exactly and the FIX wiring is a thin
loop around this class.

Policy: start-time fair queuing across brokers, a finer-grained relative of deficit round robin.
Each broker carries a virtual *tag*, the start tag of its next order; sending one order advances
the tag by 1/weight. Every free line slot goes to the broker with the smallest tag among those
that have work and are registered on that line (ties: the least recently served). Hence:

- backlogged brokers sharing lines are served in proportion to their weights, within one order
  of each other: with all lines shared, each gets at least weight/Σweight of the pool; whatever
  a broker leaves idle goes to the others (work-conserving: a broker alone bursts to the rate of
  every line it is on);
- a broker waking from idle starts at the current virtual time, so sitting idle banks no credit,
  and its first order goes out at the next free slot rather than after someone's basket;
- a broker whose lines are all busy simply keeps its tag and wins the next slot on one of them.
  DRR, handing out quanta round by round, would have to skip its turn or bank deficit for it.

A broker is only ever sent on lines it is registered on, trying the least shared line first so
that widely shared lines stay free for the brokers that have no other. Each order goes out
exactly once on exactly one line; each line's rate is enforced by its own `Pacer`.

Optionally (`pace_pool=True`) the pool as a whole is paced at the sum of its lines' rates. With a
basket saturating twenty 20/s lines, plain per-line pacing frees all twenty at the same instant
every 50 ms, so another broker's order waits up to 50 ms; pacing the pool spreads the sends
2.5 ms apart and cuts that wait to a few milliseconds (see `bench lines`). The price: the pool
never sends two orders at the same instant, so it is work-conserving only when all lines share
one rate and one set of brokers. Off by default.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from brokercloud.lines.pacing import Pacer


@dataclass(frozen=True, slots=True)
class LineSpec:
    """One exchange line: its rate (orders/s), back-to-back burst and the brokers allowed on it."""

    line_id: str
    brokers: frozenset[str]
    rate: float = 20
    burst: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "brokers", frozenset(self.brokers))
        if not self.line_id:
            raise ValueError("a line needs an id")
        if not self.brokers:
            raise ValueError(f"line {self.line_id!r} has no broker allowed on it")


class Dispatch(NamedTuple):
    """Send ``item`` of ``broker`` on line ``line_id`` now."""

    line_id: str
    broker: str
    item: Hashable


class _Broker:
    """One broker's FIFO of pending items and its fair-queuing state.

    Cancels leave a tombstone in the deque (dropped when reached) so that enqueue, remove and
    pop are all O(1); each item's ticket tells a live entry from a stale one when the same item
    was removed and enqueued again.
    """

    __slots__ = ("cost", "everywhere", "lines", "live", "name", "queue", "stamp", "tag",
                 "tickets")

    def __init__(self, name: str, cost: int, lines: list[int], everywhere: bool) -> None:
        self.name = name
        self.cost = cost  # the tag advance per order: 1/weight, scaled to an integer
        self.lines = lines  # indices of the lines it may use, least shared first
        self.everywhere = everywhere  # on every line: its first ready line is the pool's
        self.queue: deque[tuple[int, Hashable]] = deque()
        self.live: dict[Hashable, int] = {}
        self.tickets = 0
        self.tag = 0
        self.stamp = 0  # when it was last served or woke up: breaks ties between equal tags

    def push(self, item: Hashable) -> None:
        self.tickets += 1
        self.live[item] = self.tickets
        self.queue.append((self.tickets, item))

    def pop(self) -> Hashable:
        while True:
            ticket, item = self.queue.popleft()
            if self.live.get(item) == ticket:
                del self.live[item]
                return item


class Scheduler:
    """Fair sharing of a pool of rate-limited exchange lines between brokers' order queues."""

    def __init__(self, lines: Sequence[LineSpec], weights: Mapping[str, int] | None = None,
                 *, pace_pool: bool = False) -> None:
        if not lines:
            raise ValueError("a scheduler needs at least one line")
        ids = [line.line_id for line in lines]
        if len(set(ids)) != len(ids):
            raise ValueError(f"line ids must be unique, got {ids}")
        self._ids = ids
        self._index = {line_id: i for i, line_id in enumerate(ids)}
        self._pacers = [Pacer(line.rate, line.burst) for line in lines]
        # Each line is either ready (its next send conforms) or resting until its pacer's
        # ready_at: a dispatch then asks only the lines waking up, not every pacer of the pool
        # (240 lines in ``bench api``, most of a dispatch's cost).
        self._ready: set[int] = set(range(len(lines)))
        # The ready lines again, as a heap in the order brokers prefer lines (least shared
        # first, then by index; ``_preference``): a broker on every line takes its top, not
        # a scan of its list past the resting lines. Entries of lines since gone resting or
        # down are dropped when they reach the top.
        self._order = _preference(lines)
        self._ready_heap = sorted(self._order)
        self._resting: list[tuple[int, int]] = []  # a heap of (ready_at, line)
        self._down: set[int] = set()  # lines not logged on: nothing is dispatched to them
        self._pool = Pacer(sum(line.rate for line in lines)) if pace_pool else None
        self._brokers = _brokers(lines, weights or {})
        self._active: dict[str, _Broker] = {}  # brokers with pending items
        self._vtime = 0  # the largest tag served so far: where a waking broker starts
        self._stamps = 0
        self._now: int | None = None

    @property
    def brokers(self) -> tuple[str, ...]:
        return tuple(self._brokers)

    def enqueue(self, broker: str, item: Hashable) -> None:
        """Queue ``item`` behind ``broker``'s other pending items."""
        state = self._broker(broker)
        if item in state.live:
            raise ValueError(f"{item!r} is already pending for broker {broker!r}")
        if not state.live:
            state.tag = max(state.tag, self._vtime)
            state.stamp = self._stamp()
            self._active[broker] = state
        state.push(item)

    def remove(self, broker: str, item: Hashable) -> bool:
        """Withdraw a pending item (a cancel before send); False if it is not pending."""
        state = self._broker(broker)
        if state.live.pop(item, None) is None:
            return False
        if not state.live:
            del self._active[broker]
        return True

    def set_line_up(self, line_id: str, up: bool) -> None:
        """A line logged on (True) or dropped (False). A dropped line gets nothing, so its
        brokers' items wait in place, first in line, or take their other lines."""
        index = self._index.get(line_id)
        if index is None:
            raise ValueError(f"unknown line {line_id!r}")
        if up:
            self._down.discard(index)
            if index in self._ready:
                heapq.heappush(self._ready_heap, self._order[index])
        else:
            self._down.add(index)

    def pending(self, broker: str | None = None) -> int:
        """Items waiting for ``broker``, or for everyone."""
        if broker is None:
            return sum(len(state.live) for state in self._active.values())
        return len(self._broker(broker).live)

    def dispatch(self, now: int) -> list[Dispatch]:
        """Everything that may go out at ``now``, in sending order; the caller sends it all."""
        self._advance(now)
        resting = self._resting
        while resting and resting[0][0] <= now:
            line = heapq.heappop(resting)[1]
            self._ready.add(line)
            heapq.heappush(self._ready_heap, self._order[line])
        ready = self._ready - self._down if self._down else self._ready
        sent: list[Dispatch] = []
        while ready and (self._pool is None or self._pool.ready(now)):
            state = self._choose(ready)
            if state is None:
                break
            line = self._first_ready(state, ready)
            sent.append(self._send(state, line, now))
            pacer = self._pacers[line]
            if not pacer.ready(now):
                ready.discard(line)
                self._ready.discard(line)
                heapq.heappush(resting, (pacer.ready_at(), line))
        return sent

    def next_ready_time(self, now: int) -> int | None:
        """When `dispatch` will next have something to send (``now`` at the earliest), or None
        if nothing is pending on a line that is up. Enqueues and lines coming up can only bring
        it forward."""
        self._check(now)
        usable = set().union(*(state.lines for state in self._active.values())) - self._down
        if not usable:
            return None
        at = now if not usable.isdisjoint(self._ready) else min(
            ready_at for ready_at, line in self._resting if line in usable)
        if self._pool is not None:
            at = max(at, self._pool.ready_at())
        return max(at, now)

    def _choose(self, ready: set[int]) -> _Broker | None:
        """``ready`` is never empty here: a broker on every line always has one of them."""
        best: _Broker | None = None
        for state in self._active.values():
            if (best is None or (state.tag, state.stamp) < (best.tag, best.stamp)) and (
                    state.everywhere or not ready.isdisjoint(state.lines)):
                best = state
        return best

    def _first_ready(self, state: _Broker, ready: set[int]) -> int:
        """The broker's first ready line in its order of preference."""
        if not state.everywhere:
            return next(filter(ready.__contains__, state.lines))
        heap, size = self._ready_heap, len(self._order)
        while heap[0] % size not in ready:  # gone resting or down since it was pushed
            heapq.heappop(heap)
        return heap[0] % size

    def _send(self, state: _Broker, line: int, now: int) -> Dispatch:
        item = state.pop()
        self._pacers[line].take(now)
        if self._pool is not None:
            self._pool.take(now)
        self._vtime = max(self._vtime, state.tag)
        state.tag += state.cost
        state.stamp = self._stamp()
        if not state.live:
            del self._active[state.name]
        return Dispatch(self._ids[line], state.name, item)

    def _broker(self, broker: str) -> _Broker:
        try:
            return self._brokers[broker]
        except KeyError:
            raise ValueError(f"broker {broker!r} is not registered on any line") from None

    def _stamp(self) -> int:
        self._stamps += 1
        return self._stamps

    def _check(self, now: int) -> None:
        if self._now is not None and now < self._now:
            raise ValueError(f"time went backwards: {now} after {self._now}")

    def _advance(self, now: int) -> None:
        self._check(now)
        self._now = now


def _brokers(lines: Sequence[LineSpec], weights: Mapping[str, int]) -> dict[str, _Broker]:
    """Each broker's state, in the order brokers first appear on the lines (sorted per line)."""
    names = list(dict.fromkeys(name for line in lines for name in sorted(line.brokers)))
    unknown = sorted(set(weights) - set(names))
    if unknown:
        raise ValueError(f"weights for brokers on no line: {unknown}")
    bad = {name: w for name, w in weights.items()
           if isinstance(w, bool) or not isinstance(w, int) or w < 1}
    if bad:
        raise ValueError(f"weights must be positive integers, got {bad}")
    scale = math.lcm(*weights.values(), 1)  # integer tags stay exact for any mix of weights
    return {name: _Broker(name, scale // weights.get(name, 1), _lines_of(name, lines),
                          everywhere=all(name in line.brokers for line in lines))
            for name in names}


def _preference(lines: Sequence[LineSpec]) -> list[int]:
    """Each line's place in every broker's order of preference, least shared first, then by
    index, as one integer (``key % len(lines)`` is the line)."""
    return [len(line.brokers) * len(lines) + i for i, line in enumerate(lines)]


def _lines_of(name: str, lines: Sequence[LineSpec]) -> list[int]:
    order = _preference(lines)
    return sorted((i for i, line in enumerate(lines) if name in line.brokers),
                  key=order.__getitem__)
