"""SIGTERM and SIGINT become a stop event the long-running commands await."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from brokercloud.shutdown import stop_on_signals


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_sets_the_stop_event_instead_of_killing_the_process(sig: signal.Signals) -> None:
    async def wait_for_signal() -> bool:
        stop = stop_on_signals()
        assert not stop.is_set()
        os.kill(os.getpid(), sig)
        await asyncio.wait_for(stop.wait(), timeout=5)
        return stop.is_set()

    assert asyncio.run(wait_for_signal())
