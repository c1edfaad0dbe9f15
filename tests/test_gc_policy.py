"""The long-running processes' GC policy: what exists at start-up is frozen out of every
collection, young objects are collected less often, and both are undone on the way out."""

import gc

from brokercloud import gc_policy


def test_settle_freezes_what_exists_and_restore_gives_back_the_thresholds() -> None:
    before = gc.get_threshold()
    kept_all_day = [{"order": n} for n in range(1000)]
    frozen_before = gc.get_freeze_count()
    previous = gc_policy.settle()
    try:
        assert previous == before
        assert gc.get_threshold() == gc_policy.THRESHOLDS
        assert gc.get_freeze_count() >= frozen_before + len(kept_all_day)
    finally:
        gc_policy.restore(previous)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
