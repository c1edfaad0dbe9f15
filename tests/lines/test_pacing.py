"""Pacer: the exact per-line rate (GCRA on integer nanoseconds)."""

from __future__ import annotations

import pytest

from brokercloud.lines import SECOND, Pacer

MS = 1_000_000


def sends(pacer: Pacer, times: list[int]) -> list[bool]:
    out = []
    for t in times:
        ok = pacer.ready(t)
        if ok:
            pacer.take(t)
        out.append(ok)
    return out


def test_a_new_pacer_is_ready_at_once() -> None:
    pacer = Pacer(20)
    assert pacer.ready(0)
    assert pacer.ready_at() < 0


def test_burst_one_spaces_sends_by_the_interval() -> None:
    pacer = Pacer(20)
    assert pacer.interval == 50 * MS
    assert sends(pacer, [0, 0, 49 * MS, 50 * MS, 99 * MS, 100 * MS]) == [
        True, False, False, True, False, True]
    assert pacer.ready_at() == 150 * MS


def test_burst_allows_that_many_back_to_back_then_paces() -> None:
    pacer = Pacer(10, burst=3)
    assert sends(pacer, [0, 0, 0, 0]) == [True, True, True, False]
    assert pacer.ready_at() == 100 * MS


def test_an_idle_spell_saves_no_more_than_the_burst() -> None:
    pacer = Pacer(10, burst=2)
    assert sends(pacer, [0, 0]) == [True, True]
    assert sends(pacer, [1000 * SECOND] * 3) == [True, True, False]


def test_the_interval_rounds_up_so_the_rate_is_never_exceeded() -> None:
    assert Pacer(3).interval == 333_333_334
    assert Pacer(0.5).interval == 2 * SECOND
    assert Pacer(7).interval * 7 >= SECOND


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (20, 0)])
def test_a_pacer_refuses_a_rate_or_burst_that_cannot_send(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        Pacer(rate, burst)
