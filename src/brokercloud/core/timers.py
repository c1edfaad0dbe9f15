"""Time reaches the core only as commands (``CoreState.apply`` reads no clock): the loops that
submit the commands a clock would trigger."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from brokercloud.core import commands as c
from brokercloud.core.sequencer import Sequencer


async def expire_approvals_forever(sequencer: Sequencer, now_ms: Callable[[], int],
                                   every_s: float) -> None:
    """Approvals nobody gave in time expire, at most ``every_s`` after their timeout: the
    supervisors' queue does not keep orders nobody may approve any more."""
    while True:
        await asyncio.sleep(every_s)
        await sequencer.submit(c.ExpireApprovals(at=now_ms()))
