"""The timing helper retries a failed scenario only when the event loop was seen to stall."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from .support import STALL_S, run_timed


def test_a_failure_without_a_stall_is_reported_at_once(tmp_path: Path) -> None:
    attempts: list[Path] = []

    async def scenario(directory: Path) -> None:
        attempts.append(directory)
        raise AssertionError("a real failure")

    with pytest.raises(AssertionError, match="a real failure"):
        run_timed(scenario, tmp_path)
    assert len(attempts) == 1


def test_a_failure_after_a_stall_is_tried_again_in_a_fresh_directory(tmp_path: Path) -> None:
    attempts: list[Path] = []

    async def scenario(directory: Path) -> None:
        attempts.append(directory)
        if len(attempts) == 1:
            await asyncio.sleep(0.06)
            time.sleep(STALL_S + 0.1)  # the machine freezes under the event loop
            await asyncio.sleep(0.06)
            raise AssertionError("timing broken by the stall")

    run_timed(scenario, tmp_path)
    assert len(attempts) == 2
    assert attempts[0] != attempts[1]
