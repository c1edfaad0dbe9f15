"""Which exchange lines exist, their passwords and rates, and which brokers may use each.

A line is a FIX session named by its SenderCompID (TWSE style: market letter, 4-character
broker code, 2-character line ID, e.g. ``T9A00A1``). In the shared cloud one line carries many
brokers, so every order names its broker and the exchange checks the broker is on that line.
The registry is a JSON file (see ``docs/exchange.md``)::

    {"target_comp_id": "XTAI", "default_rate_limit": 20,
     "lines": [{"line": "T9A00A1", "password": "secret", "brokers": ["9A00", "9A01"]}]}
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from pathlib import Path

import msgspec

DEFAULT_RATE_LIMIT = 20  # messages per second per line (the thesis's virtual circuit)


class Line(msgspec.Struct, frozen=True):
    line: str
    password: str
    brokers: frozenset[str]
    rate_limit: int | None = None  # messages/s; None = the registry default, 0 = unlimited

    def password_matches(self, offered: bytes) -> bool:
        return hmac.compare_digest(self.password.encode(), offered)


class RegistryFile(msgspec.Struct, frozen=True):
    """The registry file's shape."""

    lines: tuple[Line, ...]
    target_comp_id: str = "XTAI"
    default_rate_limit: int = DEFAULT_RATE_LIMIT


class LineRegistry:
    """The lines by ID, with the exchange's CompID and the default rate."""

    def __init__(self, lines: Iterable[Line], target_comp_id: str = "XTAI",
                 default_rate_limit: int = DEFAULT_RATE_LIMIT) -> None:
        self.lines = tuple(lines)
        self.target_comp_id = target_comp_id
        self.default_rate_limit = default_rate_limit
        self._by_name = {line.line: line for line in self.lines}
        if len(self._by_name) != len(self.lines):
            raise ValueError("line IDs in the registry must be unique")

    def find(self, line: str) -> Line | None:
        return self._by_name.get(line)

    def rate_limit(self, line: Line) -> int:
        return self.default_rate_limit if line.rate_limit is None else line.rate_limit

    def with_rate_limit(self, rate_limit: int) -> LineRegistry:
        """The same lines with another default rate (0 = unlimited)."""
        return LineRegistry(self.lines, self.target_comp_id, rate_limit)

    def to_file(self) -> RegistryFile:
        return RegistryFile(self.lines, self.target_comp_id, self.default_rate_limit)


def load_registry(path: str | Path) -> LineRegistry:
    """Read a registry file; a malformed file raises ``ValueError`` naming the problem."""
    try:
        data = msgspec.json.decode(Path(path).read_bytes(), type=RegistryFile)
        return LineRegistry(data.lines, data.target_comp_id, data.default_rate_limit)
    except (ValueError, OSError) as error:  # msgspec's errors and duplicate lines included
        raise ValueError(f"line registry {path}: {error}") from error


def demo_registry(brokers: list[str], lines_per_broker: int = 2,
                  rate_limit: int = DEFAULT_RATE_LIMIT) -> LineRegistry:
    """Lines for a demo: each broker's own lines, all shared with every demo broker (the cloud
    pools lines), passwords derived from the line ID."""
    everyone = frozenset(brokers)
    lines = [Line(f"T{broker}{chr(ord('A') + i // 10)}{i % 10}", f"pw-{broker}-{i}", everyone)
             for broker in brokers for i in range(lines_per_broker)]
    return LineRegistry(lines, default_rate_limit=rate_limit)
