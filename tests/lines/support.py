"""Driving a scheduler to the end and checking what it sent, shared by the lines tests."""

from __future__ import annotations

import bisect
from collections.abc import Hashable

from brokercloud.lines import SECOND, Dispatch, Scheduler

MS = 1_000_000


def drain(scheduler: Scheduler, now: int = 0) -> list[tuple[int, Dispatch]]:
    """Dispatch at every time the scheduler asks for until nothing is pending."""
    sent: list[tuple[int, Dispatch]] = []
    at = scheduler.next_ready_time(now)
    while at is not None:
        batch = scheduler.dispatch(at)
        assert batch, f"next_ready_time said {at} but nothing went out"
        sent += [(at, d) for d in batch]
        at = scheduler.next_ready_time(at)
    return sent


def brokers_in_order(sent: list[tuple[int, Dispatch]]) -> list[str]:
    return [d.broker for _, d in sent]


def most_in_any_window(times: list[int], window: int = SECOND) -> int:
    """The most sends in any half-open window [t, t + window): windows starting at a send are
    the only ones that can hold the most."""
    times = sorted(times)
    return max((bisect.bisect_left(times, t + window) - k for k, t in enumerate(times)),
               default=0)


def per_line(sent: list[tuple[int, Dispatch]]) -> dict[str, list[int]]:
    lines: dict[str, list[int]] = {}
    for at, d in sent:
        lines.setdefault(d.line_id, []).append(at)
    return lines


def items(sent: list[tuple[int, Dispatch]]) -> list[tuple[str, Hashable]]:
    return [(d.broker, d.item) for _, d in sent]
