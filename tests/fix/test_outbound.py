"""Numbering, stamping and recording outbound messages."""

from __future__ import annotations

import calendar
import time
from pathlib import Path

from brokercloud.fix.codec import parse
from brokercloud.fix.outbound import header_ids, record_message, sending_time
from brokercloud.fix.store import SessionStore, open_database


def test_sending_time_is_the_current_utc_time_to_the_millisecond() -> None:
    before = time.time()
    stamp = sending_time()
    after = time.time()
    seconds = calendar.timegm(time.strptime(stamp[:17].decode(), "%Y%m%d-%H:%M:%S"))
    moment = seconds + int(stamp[18:]) / 1000
    assert stamp[17:18] == b"." and len(stamp) == 21
    assert int(before * 1000) / 1000 <= moment <= after


def test_sending_time_moves_on_with_the_clock() -> None:
    first = sending_time()
    time.sleep(0.002)
    assert sending_time() > first


def test_recorded_messages_are_numbered_in_order_framed_and_kept(tmp_path: Path) -> None:
    db = open_database(tmp_path / "s.db")
    store = SessionStore(db, "XTAI->BRK01")
    frames = [record_message(store, header_ids("XTAI", "BRK01"), b"8", b"11=C%d\x01" % i)
              for i in range(3)]
    messages = [parse(raw) for raw in frames]
    assert [m.seq_num for m in messages] == [1, 2, 3]
    assert [m.fields[b"11"] for m in messages] == [b"C0", b"C1", b"C2"]
    assert store.next_sender_seq == 4
    assert [(seq, stamp) for seq, _, stamp, _ in store.sent_between(1, 3)] == [
        (m.seq_num, m.fields[b"52"]) for m in messages]
    db.close()
