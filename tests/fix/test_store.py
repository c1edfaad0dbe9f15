"""The SQLite session store: what a restart gets back, and what a sequence reset forgets."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from brokercloud.fix.outbound import header_ids, record_message
from brokercloud.fix.store import SessionStore, has_table, open_database

IDS = header_ids("XTAI", "BRK01")


def test_a_reopened_store_resumes_both_sequence_numbers_and_keeps_sent_messages(
        tmp_path: Path) -> None:
    db = open_database(tmp_path / "s.db")
    store = SessionStore(db, "XTAI->BRK01")
    for i in range(3):
        record_message(store, IDS, b"8", b"11=C%d\x01" % i)
    store.next_target_seq = 7
    store.commit()
    db.close()
    db = open_database(tmp_path / "s.db")
    store = SessionStore(db, "XTAI->BRK01")
    assert (store.next_sender_seq, store.next_target_seq) == (4, 7)
    assert [(seq, msg_type, body) for seq, msg_type, _, body in store.sent_between(2, 9)] == [
        (2, b"8", b"11=C1\x01"), (3, b"8", b"11=C2\x01")]
    assert SessionStore(db, "XTAI->OTHER").sent_between(1, 9) == []
    db.close()


def test_uncommitted_work_is_not_there_after_a_restart(tmp_path: Path) -> None:
    db = open_database(tmp_path / "s.db")
    store = SessionStore(db, "XTAI->BRK01")
    record_message(store, IDS, b"8", b"11=C0\x01")
    store.commit()
    record_message(store, IDS, b"8", b"11=C1\x01")  # recorded, never committed
    db.close()
    db = open_database(tmp_path / "s.db")
    store = SessionStore(db, "XTAI->BRK01")
    assert store.next_sender_seq == 2
    assert [seq for seq, *_ in store.sent_between(1, 9)] == [1]
    db.close()


def test_reset_forgets_every_sent_message_even_ones_not_yet_committed(tmp_path: Path) -> None:
    db = open_database(tmp_path / "s.db")
    store = SessionStore(db, "XTAI->BRK01")
    record_message(store, IDS, b"8", b"11=OLD1\x01")
    store.commit()
    record_message(store, IDS, b"8", b"11=OLD2\x01")  # still waiting for the group commit
    store.reset()
    assert (store.next_sender_seq, store.next_target_seq) == (1, 1)
    store.commit()
    assert store.sent_between(1, 9) == []  # a resend after the reset must not find OLD2
    db.close()


def test_a_write_that_failed_is_tried_again_at_the_next_commit(tmp_path: Path) -> None:
    db = open_database(tmp_path / "s.db")
    store = SessionStore(db, "XTAI->BRK01")
    record_message(store, IDS, b"8", b"11=C0\x01")
    db.execute("ALTER TABLE fix_sent RENAME TO fix_sent_away")  # the insert cannot run
    with pytest.raises(sqlite3.OperationalError):
        store.commit()
    db.execute("ALTER TABLE fix_sent_away RENAME TO fix_sent")
    store.commit()
    db.close()
    db = open_database(tmp_path / "s.db")
    assert [seq for seq, *_ in SessionStore(db, "XTAI->BRK01").sent_between(1, 9)] == [1]
    db.close()


def test_a_database_with_one_row_per_sent_message_is_migrated(tmp_path: Path) -> None:
    old = sqlite3.connect(tmp_path / "s.db")
    old.executescript("""
        CREATE TABLE fix_session (session_id TEXT PRIMARY KEY, next_sender_seq INTEGER NOT NULL,
                                  next_target_seq INTEGER NOT NULL);
        CREATE TABLE fix_message (session_id TEXT NOT NULL, seq INTEGER NOT NULL,
                                  msg_type BLOB NOT NULL, sending_time BLOB NOT NULL,
                                  body BLOB NOT NULL, PRIMARY KEY (session_id, seq)) WITHOUT ROWID;
        INSERT INTO fix_session VALUES ('XTAI->BRK01', 3, 5);
        INSERT INTO fix_message VALUES ('XTAI->BRK01', 1, X'38', X'3532', X'31313D43300131');
        INSERT INTO fix_message VALUES ('XTAI->BRK01', 2, X'30', X'3532', X'');
    """)
    old.close()
    db = open_database(tmp_path / "s.db")
    store = SessionStore(db, "XTAI->BRK01")
    assert (store.next_sender_seq, store.next_target_seq) == (3, 5)
    assert store.sent_between(1, 9) == [(1, b"8", b"52", b"11=C0\x011"), (2, b"0", b"52", b"")]
    db.close()
    db = open_database(tmp_path / "s.db")  # migrated once, kept
    assert len(SessionStore(db, "XTAI->BRK01").sent_between(1, 9)) == 2
    assert not has_table(db, "fix_message")
    db.close()


def test_sessions_committing_together_each_find_their_own_messages_after_a_reopen(
        tmp_path: Path) -> None:
    db = open_database(tmp_path / "s.db")
    stores = [SessionStore(db, "XTAI->BRK01"), SessionStore(db, "XTAI->BRK02")]
    for i in range(4):  # interleaved rows, one group commit each
        for n, store in enumerate(stores):
            record_message(store, IDS, b"8", b"11=S%dC%d\x01" % (n, i))
        stores[0].commit()
    db.close()
    db = open_database(tmp_path / "s.db")
    first, second = SessionStore(db, "XTAI->BRK01"), SessionStore(db, "XTAI->BRK02")
    assert [body for _, _, _, body in first.sent_between(2, 3)] == [b"11=S0C1\x01",
                                                                    b"11=S0C2\x01"]
    second.reset()
    second.commit()
    assert second.sent_between(1, 9) == []
    assert [seq for seq, *_ in first.sent_between(1, 9)] == [1, 2, 3, 4]
    db.close()


def test_output_waiting_for_a_failed_group_commit_goes_out_after_the_next_one(
        tmp_path: Path) -> None:
    async def scenario() -> list[str]:
        db = open_database(tmp_path / "s.db")
        store = SessionStore(db, "XTAI->BRK01")
        released: list[str] = []
        record_message(store, IDS, b"8", b"11=C0\x01")
        store.commit_soon(lambda: released.append("first"))
        db.execute("ALTER TABLE fix_sent RENAME TO fix_sent_away")  # the commit cannot run
        await asyncio.sleep(0)  # the loop runs the commit: it fails, nothing is released
        failed = list(released)
        db.execute("ALTER TABLE fix_sent_away RENAME TO fix_sent")
        store.commit_soon(lambda: released.append("second"))
        await asyncio.sleep(0)
        db.close()
        return [*failed, "|", *released]

    assert asyncio.run(scenario()) == ["|", "first", "second"]
