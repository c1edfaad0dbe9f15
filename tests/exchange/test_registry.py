"""The line registry: lines, passwords, brokers per line, rate limits, the JSON file and the demo
lines."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from brokercloud.exchange.registry import (
    DEFAULT_RATE_LIMIT,
    Line,
    LineRegistry,
    demo_registry,
    load_registry,
)

DOC_EXAMPLE = b"""{"target_comp_id": "XTAI", "default_rate_limit": 20,
 "lines": [{"line": "T9A00A0", "password": "secret", "brokers": ["9A00", "9B00"],
            "rate_limit": 40}]}"""


def test_password_matches_exactly() -> None:
    line = Line("T9A00A0", "secret", frozenset({"9A00"}))
    assert line.password_matches(b"secret")
    for wrong in (b"", b"Secret", b"secret ", b"secre", b"secret\x00"):
        assert not line.password_matches(wrong)


def test_find_and_rate_limits() -> None:
    lines = [Line("T9A00A0", "a", frozenset({"9A00", "9B00"})),
             Line("T9A00A1", "b", frozenset({"9A00"}), rate_limit=40),
             Line("T9B00A0", "c", frozenset({"9B00"}), rate_limit=0)]
    registry = LineRegistry(lines)
    assert registry.target_comp_id == "XTAI"
    assert registry.default_rate_limit == DEFAULT_RATE_LIMIT == 20
    assert registry.find("T9A00A1") is lines[1]
    assert registry.find("T9Z99A0") is None
    assert registry.find("t9a00a0") is None  # CompIDs are case-sensitive
    assert [registry.rate_limit(line) for line in lines] == [20, 40, 0]

    faster = registry.with_rate_limit(100)
    assert faster.lines == registry.lines
    assert [faster.rate_limit(line) for line in lines] == [100, 40, 0]  # per line still wins
    unlimited = registry.with_rate_limit(0)
    assert [unlimited.rate_limit(line) for line in lines] == [0, 40, 0]
    assert registry.default_rate_limit == 20  # unchanged


def test_line_ids_must_be_unique() -> None:
    line = Line("T9A00A0", "a", frozenset({"9A00"}))
    with pytest.raises(ValueError, match="unique"):
        LineRegistry([line, Line("T9A00A0", "b", frozenset({"9B00"}))])


def test_load_the_documented_file(tmp_path: Path) -> None:
    path = tmp_path / "lines.json"
    path.write_bytes(DOC_EXAMPLE)
    registry = load_registry(path)
    line = registry.find("T9A00A0")
    assert line == Line("T9A00A0", "secret", frozenset({"9A00", "9B00"}), 40)
    assert registry.rate_limit(line) == 40
    assert (registry.target_comp_id, registry.default_rate_limit) == ("XTAI", 20)


def test_file_defaults_and_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "lines.json"
    path.write_bytes(b'{"lines": [{"line": "O9A00A0", "password": "p", "brokers": ["9A00"]}]}')
    registry = load_registry(str(path))
    assert (registry.target_comp_id, registry.default_rate_limit) == ("XTAI", 20)
    assert registry.find("O9A00A0") == Line("O9A00A0", "p", frozenset({"9A00"}), None)

    tpex = LineRegistry(registry.lines, "ROCO", 7).with_rate_limit(9)
    path.write_bytes(msgspec.json.encode(tpex.to_file()))
    again = load_registry(path)
    assert (again.lines, again.target_comp_id, again.default_rate_limit) == (
        tpex.lines, "ROCO", 9)


@pytest.mark.parametrize(("content", "problem"), [
    (b"{not json", "malformed"),
    (b'{"lines": [{"line": "T9A00A0", "brokers": ["9A00"]}]}', "missing required field"),
    (b'{"lines": [{"line": "T9A00A0", "password": 5, "brokers": []}]}', "Expected `str`"),
    (b'{"lines": [{"line": "T9A00A0", "password": "p", "brokers": "9A00"}]}', "Expected `array`"),
    (b'{"lines": [{"line": "T9A00A0", "password": "p", "brokers": [], "rate_limit": "fast"}]}',
     "Expected `int | null`"),
    (b'{"target_comp_id": "XTAI"}', "missing required field `lines`"),
    (b'{"lines": [{"line": "A", "password": "p", "brokers": []},'
     b' {"line": "A", "password": "q", "brokers": []}]}', "unique"),
])
def test_a_malformed_file_is_a_value_error_naming_it(tmp_path: Path, content: bytes,
                                                     problem: str) -> None:
    path = tmp_path / "lines.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"lines\.json") as error:
        load_registry(path)
    assert problem in str(error.value)


def test_a_missing_file_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"line registry .*absent\.json"):
        load_registry(tmp_path / "absent.json")


def test_demo_registry() -> None:
    registry = demo_registry(["9A00", "9B00"])
    assert [(line.line, line.password) for line in registry.lines] == [
        ("T9A00A0", "pw-9A00-0"), ("T9A00A1", "pw-9A00-1"),
        ("T9B00A0", "pw-9B00-0"), ("T9B00A1", "pw-9B00-1")]
    # the cloud pools lines: every demo broker may use every demo line
    assert {line.brokers for line in registry.lines} == {frozenset({"9A00", "9B00"})}
    assert registry.target_comp_id == "XTAI"
    assert [registry.rate_limit(line) for line in registry.lines] == [20] * 4
    assert demo_registry(["9A00"], 1, rate_limit=0).rate_limit(
        demo_registry(["9A00"], 1).lines[0]) == 0


def test_demo_line_ids_count_on_past_ten() -> None:
    names = [line.line for line in demo_registry(["9A00"], 12).lines]
    assert names[8:] == ["T9A00A8", "T9A00A9", "T9A00B0", "T9A00B1"]
    assert all(len(name) == 7 for name in names)  # market, broker, two-character line ID
