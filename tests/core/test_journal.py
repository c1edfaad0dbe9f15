"""The journal file: records round-trip; a torn tail is truncated at the last good record with a
warning and the good records survive; corruption followed by good records refuses to open."""

from __future__ import annotations

import logging
import struct
import zlib
from pathlib import Path

import pytest

from brokercloud.codes import Code
from brokercloud.core import commands as c
from brokercloud.core.journal import HEADER_SIZE, JournalCorruptError, JournalFile
from brokercloud.core.sequencer import decode, encode
from brokercloud.market.orders import Side

from .support import ACCOUNT, BROKER, T0, TSMC, reference_commands, tsmc

GOOD = [b"first", b"second record", b"\x00\xff" * 7, b"x" * 1_000]


def journal_with(path: Path, *batches: list[bytes]) -> JournalFile:
    journal = JournalFile(path, fsync=False)
    for batch in batches:
        journal.append(batch)
    return journal


def record_offsets(payloads: list[bytes]) -> list[int]:
    offsets, pos = [], 0
    for payload in payloads:
        offsets.append(pos)
        pos += HEADER_SIZE + len(payload)
    return [*offsets, pos]


def test_append_when_batches_written_then_read_back_in_order_after_reopen(
        tmp_path: Path) -> None:
    path = tmp_path / "j" / "journal.bin"  # the directory is created
    journal = journal_with(path, GOOD[:2], GOOD[2:])
    assert (journal.records, journal.size) == (4, record_offsets(GOOD)[-1])
    assert list(journal.read()) == GOOD
    journal.close()
    again = JournalFile(path)
    assert again.records == 4
    assert list(again.read()) == GOOD
    assert list(again.read(2)) == GOOD[2:]
    assert list(again.read(4)) == []
    again.close()


def test_append_when_file_written_then_length_crc_payload_layout(tmp_path: Path) -> None:
    path = tmp_path / "journal.bin"
    journal_with(path, [b"abc"]).close()
    assert path.read_bytes() == struct.pack("<II", 3, zlib.crc32(b"abc")) + b"abc"


def test_append_when_empty_batch_then_nothing_written(tmp_path: Path) -> None:
    path = tmp_path / "journal.bin"
    journal = journal_with(path, [])
    assert (journal.records, journal.size, path.read_bytes()) == (0, 0, b"")
    journal.close()


def test_append_when_reopened_then_new_records_follow_the_old(tmp_path: Path) -> None:
    path = tmp_path / "journal.bin"
    journal_with(path, GOOD[:2]).close()
    journal = JournalFile(path, fsync=False)
    journal.append(GOOD[2:])
    journal.close()
    assert list(JournalFile(path).read()) == GOOD


def test_commands_when_encoded_then_every_kind_decodes_to_an_equal_command() -> None:
    commands: list[c.Cmd] = [
        *reference_commands(bands=[(1_000_000, 1)]),
        c.SetAccountStatus(at=T0, account=ACCOUNT, status=c.AccountStatus.SUSPENDED),
        c.SetAccountLimits(at=T0, account=ACCOUNT, trading_limit=1, credit_limit=2),
        c.SetStockLimit(at=T0, broker=BROKER, symbol=TSMC, max_order_amount=3),
        c.ListInstrument(at=T0, instrument=tsmc(limit_bp=None), reference=7_470),
        c.PlaceOrder(at=T0, broker=BROKER, account=ACCOUNT, user="u", client_ref="r",
                     symbol=TSMC, side=Side.SELL, qty=1_000, price=7_730,
                     credit=c.Credit.SHORT, prepaid=True),
        c.CancelOrder(at=T0, broker=BROKER, user="u", order_id="o"),
        c.AmendOrder(at=T0, broker=BROKER, user="u", order_id="o", qty=1_000),
        c.Approve(at=T0, broker=BROKER, user="u", order_id="o"),
        c.Deny(at=T0, broker=BROKER, user="u", order_id="o", reason="no"),
        c.ExpireApprovals(at=T0),
        c.MarkSent(at=T0, order_id="o", line="L"),
        c.ExchangeAccepted(at=T0, order_id="o", exchange_order_id=5),
        c.ExchangeRejected(at=T0, order_id="o", code=Code.PRICE_NOT_ON_TICK),
        c.ExchangeFilled(at=T0, order_id="o", exec_id="E", price=7_620, qty=1_000),
        c.ExchangeCancelled(at=T0, order_id="o", qty=1_000, code=Code.FOK_NOT_FILLABLE),
        c.ExchangeExpired(at=T0, order_id="o", qty=1_000),
    ]
    decoded = [decode(encode(command)) for command in commands]
    assert decoded == commands
    assert [type(d) for d in decoded] == [type(x) for x in commands]
    assert len({type(x) for x in commands}) == 21  # every command kind


# -- torn tails --------------------------------------------------------------------------------

@pytest.mark.parametrize("cut", [1, HEADER_SIZE - 1, HEADER_SIZE, HEADER_SIZE + 500])
def test_open_when_last_record_cut_short_then_truncated_with_warning_and_rest_kept(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, cut: int) -> None:
    path = tmp_path / "journal.bin"
    journal_with(path, GOOD).close()
    offsets = record_offsets(GOOD)
    torn_at = offsets[3] + cut  # inside the 1,008-byte fourth record
    with path.open("r+b") as handle:
        handle.truncate(torn_at)
    with caplog.at_level(logging.WARNING, logger="brokercloud.core.journal"):
        journal = JournalFile(path, fsync=False)
    assert (journal.records, journal.size) == (3, offsets[3])
    assert path.stat().st_size == offsets[3]
    assert list(journal.read()) == GOOD[:3]
    assert [r.getMessage() for r in caplog.records] == [
        f"journal {path}: torn tail of {cut} bytes after record 3 truncated"]
    journal.append([b"after"])  # appends continue at the good end
    journal.close()
    assert list(JournalFile(path).read()) == [*GOOD[:3], b"after"]


def test_open_when_garbage_appended_then_truncated_with_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "journal.bin"
    journal_with(path, GOOD).close()
    size = path.stat().st_size
    with path.open("ab") as handle:
        handle.write(b"\xde\xad\xbe\xef" * 5)
    with caplog.at_level(logging.WARNING, logger="brokercloud.core.journal"):
        journal = JournalFile(path, fsync=False)
    assert (journal.records, journal.size, path.stat().st_size) == (4, size, size)
    assert list(journal.read()) == GOOD
    assert [r.getMessage() for r in caplog.records] == [
        f"journal {path}: torn tail of 20 bytes after record 4 truncated"]
    journal.close()


def test_open_when_last_record_checksum_wrong_then_treated_as_torn_tail(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "journal.bin"
    journal_with(path, GOOD).close()
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="brokercloud.core.journal"):
        journal = JournalFile(path, fsync=False)
    assert journal.records == 3
    assert list(journal.read()) == GOOD[:3]
    assert len(caplog.records) == 1
    journal.close()


def test_open_when_zero_filled_tail_then_truncated_with_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "journal.bin"
    journal_with(path, GOOD).close()
    size = path.stat().st_size
    with path.open("ab") as handle:
        handle.write(bytes(64))
    with caplog.at_level(logging.WARNING, logger="brokercloud.core.journal"):
        journal = JournalFile(path, fsync=False)
    assert (journal.records, journal.size) == (4, size)
    assert len(caplog.records) == 1
    journal.close()


def test_open_when_clean_then_no_warning(tmp_path: Path,
                                         caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "journal.bin"
    journal_with(path, GOOD).close()
    with caplog.at_level(logging.WARNING, logger="brokercloud.core.journal"):
        JournalFile(path).close()
    assert caplog.records == []


# -- corruption in the middle ------------------------------------------------------------------

@pytest.mark.parametrize("where", ["payload", "length", "crc"])
def test_open_when_middle_record_corrupt_and_good_records_follow_then_corrupt_error(
        tmp_path: Path, where: str) -> None:
    path = tmp_path / "journal.bin"
    journal_with(path, GOOD).close()
    offsets = record_offsets(GOOD)
    data = bytearray(path.read_bytes())
    position = {"payload": offsets[1] + HEADER_SIZE + 2, "length": offsets[1] + 1,
                "crc": offsets[1] + 5}[where]
    data[position] ^= 0x55
    path.write_bytes(bytes(data))
    with pytest.raises(JournalCorruptError,
                       match=f"bad record at byte {offsets[1]} followed by good records"):
        JournalFile(path)
    assert path.read_bytes() == bytes(data)  # nothing truncated


def test_open_when_good_record_lies_megabytes_after_corruption_then_corrupt_error(
        tmp_path: Path) -> None:
    """A good record far behind the bad one is still found: nothing durable is truncated."""
    path = tmp_path / "journal.bin"
    filler = [b"\x00" * 1_000] * 3_000  # 3 MB of records between the bad one and the last
    journal_with(path, [b"first", *filler, b"last"]).close()
    data = bytearray(path.read_bytes())
    data[HEADER_SIZE + 5 : len(data) - HEADER_SIZE - 4] = bytes(
        len(data) - 2 * HEADER_SIZE - 9)  # zero everything between the first and last records
    data[1] ^= 0x55  # and break the first record's length
    path.write_bytes(bytes(data))
    with pytest.raises(JournalCorruptError, match="bad record at byte 0 followed by good"):
        JournalFile(path)
    assert path.read_bytes() == bytes(data)
