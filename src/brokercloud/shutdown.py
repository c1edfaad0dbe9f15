"""Graceful stop for the long-running commands (``serve``, the standalone exchange).

SIGINT and SIGTERM set an event instead of raising KeyboardInterrupt mid-await, so the servers
close their journals and FIX sessions in order. Loops without Unix signals skip the handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM; call from inside the running loop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop
