"""Snapshots: a restart from a snapshot plus the journal's tail rebuilds the same state as a full
replay; a corrupt, short or too-new snapshot falls back to the full replay with a warning."""

from __future__ import annotations

import logging
import pickle
import zlib
from pathlib import Path

import pytest

from brokercloud.core.oms import OrderState
from brokercloud.core.sequencer import Core
from brokercloud.core.snapshot import _HEADER, SNAPSHOT, load_snapshot, write_snapshot
from brokercloud.core.state import CoreState

from .scenario import place, run_day
from .support import ACCOUNT, CASH_ACCOUNT, OTHER_ACCOUNT, TSMC, core_view, fingerprint


def day_with_snapshot(data_dir: Path, phase: int) -> tuple[dict[str, object], int]:
    """Run the day, snapshotting after ``phase``; (final fingerprint, snapshot position)."""
    core = Core(data_dir, fsync=False)
    taken: list[int] = []

    def between(n: int) -> None:
        if n == phase:
            core.snapshot()
            taken.append(core.seq)

    run_day(core, between)
    final = fingerprint(core.state)
    core.close()
    return final, taken[0]


def full_replay(data_dir: Path) -> Core:
    (data_dir / SNAPSHOT).unlink(missing_ok=True)
    return Core(data_dir, fsync=False)


def test_day_when_run_then_the_expected_end_state(tmp_path: Path) -> None:
    """The scenario itself, pinned: what every replay below has to rebuild."""
    core = Core(tmp_path, fsync=False)
    run_day(core)
    view = core_view(core.state)
    assert list(view["orders"].values()) == [
        (OrderState.CANCELLED, 3_000, 0),  # margin buy: 3 filled at 76.0, rest cancelled
        (OrderState.FILLED, 5_000, 0),  # cash sell
        (OrderState.EXPIRED, 1_000, 0),  # short sale: 1 filled at 77.0
        (OrderState.CANCELLED, 0, 0),  # approved, then cancelled before sending
        (OrderState.FILLED, 2_000, 0),  # the other broker's buy
    ]
    # own 228,000 + 324 - 136,000 = 92,324; short margin 69,300 at 77.0
    assert view["accounts"][ACCOUNT] == (92_324, 136_000 + 69_300, {TSMC: 10_000},
                                         {TSMC: 5_000})
    assert view["accounts"][CASH_ACCOUNT] == (0, 0, {}, {})
    assert view["accounts"][OTHER_ACCOUNT] == (152_617, 0, {}, {})
    assert [r.order_id for r in core.state.unknown_reports] == ["nobody"]
    core.close()


@pytest.mark.parametrize("phase", [1, 2, 3])
def test_reopen_when_snapshot_taken_mid_day_then_same_state_as_full_replay(
        tmp_path: Path, phase: int) -> None:
    final, position = day_with_snapshot(tmp_path, phase)
    from_snapshot = Core(tmp_path, fsync=False)
    assert from_snapshot.replayed == from_snapshot.journal.records - position
    assert from_snapshot.seq == from_snapshot.journal.records
    assert fingerprint(from_snapshot.state) == final
    from_snapshot.close()
    replayed = full_replay(tmp_path)
    assert replayed.replayed == replayed.journal.records
    assert core_view(replayed.state) == core_view(from_snapshot.state)
    assert fingerprint(replayed.state) == final
    replayed.close()


def test_reopen_when_snapshot_at_the_end_then_nothing_replayed(tmp_path: Path) -> None:
    core = Core(tmp_path, fsync=False)
    run_day(core)
    core.snapshot()
    final = fingerprint(core.state)
    core.close()
    again = Core(tmp_path, fsync=False)
    assert again.replayed == 0
    assert fingerprint(again.state) == final
    again.close()


def test_reopen_when_snapshot_restored_then_state_still_applies_commands(tmp_path: Path) -> None:
    """The dispatch table is rebuilt on unpickling: the restored state keeps working."""
    core = Core(tmp_path, fsync=False)
    run_day(core)
    core.snapshot()
    core.close()
    state, position = load_snapshot(tmp_path)
    assert position == 41  # 13 reference, 7 orders, 16 reports, 5 ends
    events = state.apply(position + 1, place(state.orders["20251125-00000001"].at + 1, "new"))
    assert events[0].order_id == "20251125-00000006"


@pytest.mark.parametrize("damage", ["flip", "short"])
def test_reopen_when_snapshot_corrupt_then_full_replay_with_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str) -> None:
    final, _ = day_with_snapshot(tmp_path, 2)
    path = tmp_path / SNAPSHOT
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
    else:
        data = data[:5]
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="brokercloud.core.snapshot"):
        core = Core(tmp_path, fsync=False)
    assert core.replayed == core.journal.records
    assert fingerprint(core.state) == final
    message = ("fails its checksum" if damage == "flip" else "is too short")
    assert [r.getMessage() for r in caplog.records] == [
        f"snapshot {path} {message}; replaying the whole journal"]
    core.close()


def test_reopen_when_snapshot_of_an_older_format_then_full_replay_with_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A snapshot pickled by an earlier build (format 1: the bare state, fills and audit
    entries as tuples) would hand today's code records of another shape: not loaded."""
    final, _ = day_with_snapshot(tmp_path, 2)
    path = tmp_path / SNAPSHOT
    _, state = pickle.loads(path.read_bytes()[_HEADER.size:])
    body = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    seq = _HEADER.unpack_from(path.read_bytes())[0]
    path.write_bytes(_HEADER.pack(seq, zlib.crc32(body)) + body)
    with caplog.at_level(logging.WARNING, logger="brokercloud.core.snapshot"):
        core = Core(tmp_path, fsync=False)
    assert core.replayed == core.journal.records
    assert fingerprint(core.state) == final
    assert [r.getMessage() for r in caplog.records] == [
        f"snapshot {path} is of an older format; replaying the whole journal"]
    core.close()


def test_reopen_when_snapshot_ahead_of_a_truncated_journal_then_ignored(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The journal lost its tail (truncated torn write) after a snapshot past that point."""
    core = Core(tmp_path, fsync=False)
    run_day(core)
    records = core.seq
    core.snapshot()
    core.close()
    journal = tmp_path / "journal.bin"
    journal.write_bytes(journal.read_bytes()[:-3])  # the last record is torn
    with caplog.at_level(logging.WARNING):
        again = Core(tmp_path, fsync=False)
    assert again.journal.records == records - 1
    assert again.seq == records - 1
    assert again.replayed == records - 1
    assert [r.getMessage() for r in caplog.records][-1] == (
        f"snapshot at {records} is ahead of the journal ({records - 1}); ignoring it")
    # without the last ExchangeFilled the other broker's buy is still acknowledged
    assert again.state.orders["20251125-00000005"].state is OrderState.ACKNOWLEDGED
    again.close()


def test_load_snapshot_when_none_written_then_fresh_state_at_zero(tmp_path: Path) -> None:
    state, position = load_snapshot(tmp_path)
    assert (position, state.orders, state.seq) == (0, {}, 0)


def test_write_snapshot_when_written_then_no_temporary_file_left(tmp_path: Path) -> None:
    target = write_snapshot(tmp_path, CoreState(), 7)
    assert target == tmp_path / SNAPSHOT
    assert sorted(p.name for p in tmp_path.iterdir()) == [SNAPSHOT]
    assert load_snapshot(tmp_path)[1] == 7
