"""What each shared exchange line carried today, broker by broker: the platform operator's view
of the pool (capacity, use, who used it).

The pool records every message it writes to the exchange for a broker (new orders, resends,
cancels, amendments) on the line it wrote it, and each line's logon and logout. Counts belong
to one Taiwan trading date, passed in by the caller, and restart with the next: the operator
sees today's use. They live in memory; when the pool starts it counts again the day's orders
already sent (the core's journal keeps each order's line), so a restart forgets only the
cancels and amendments sent before it.
"""

from __future__ import annotations

from collections.abc import Iterable

from brokercloud.lines.scheduler import LineSpec


class LineUsage:
    """Capacity and today's messages per line and broker."""

    def __init__(self, lines: Iterable[LineSpec]) -> None:
        self.lines = {line.line_id: line for line in lines}
        self.connected = dict.fromkeys(self.lines, False)
        self.day = ""
        self._sent: dict[str, dict[str, int]] = {}  # line -> broker -> messages

    def record(self, line: str, broker: str, day: str) -> None:
        """One message written on ``line`` for ``broker`` on trading date ``day``."""
        if day != self.day:
            self.day, self._sent = day, {}
        counts = self._sent.setdefault(line, {})
        counts[broker] = counts.get(broker, 0) + 1

    def set_connected(self, line: str, connected: bool) -> None:
        if line in self.connected:
            self.connected[line] = connected

    def sent(self, day: str) -> dict[str, dict[str, int]]:
        """Messages per line and broker on ``day`` (nothing for a day other than the last
        one recorded)."""
        if day != self.day:
            return {}
        return {line: dict(counts) for line, counts in self._sent.items()}

    def burst_capacity(self, broker: str) -> float:
        """A broker's orders/s when the others are idle: every line it may use."""
        return sum(line.rate for line in self.lines.values() if broker in line.brokers)
