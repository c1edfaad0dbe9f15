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


class LineRegistry(msgspec.Struct, frozen=True):
    lines: tuple[Line, ...]
    target_comp_id: str = "XTAI"
    default_rate_limit: int = DEFAULT_RATE_LIMIT

    def __post_init__(self) -> None:
        names = [line.line for line in self.lines]
        if len(names) != len(set(names)):
            raise ValueError("line IDs in the registry must be unique")

    def find(self, line: str) -> Line | None:
        return next((entry for entry in self.lines if entry.line == line), None)

    def rate_limit(self, line: Line) -> int:
        return self.default_rate_limit if line.rate_limit is None else line.rate_limit


def load_registry(path: str | Path) -> LineRegistry:
    """Read a registry file; a malformed file raises ``ValueError`` naming the problem."""
    try:
        return msgspec.json.decode(Path(path).read_bytes(), type=LineRegistry)
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise ValueError(f"line registry {path}: {error}") from error


def demo_registry(brokers: list[str], lines_per_broker: int = 2,
                  rate_limit: int = DEFAULT_RATE_LIMIT) -> LineRegistry:
    """Lines for a demo: each broker's own lines, all shared with every demo broker (the cloud
    pools lines), passwords derived from the line ID."""
    everyone = frozenset(brokers)
    lines = [Line(f"T{broker}{chr(ord('A') + i // 10)}{i % 10}", f"pw-{broker}-{i}", everyone)
             for broker in brokers for i in range(lines_per_broker)]
    return LineRegistry(tuple(lines), default_rate_limit=rate_limit)
