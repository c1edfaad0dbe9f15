"""The monthly statement (對帳單): its numbers by hand, the PDF read back with pypdf, and the
``brokercloud statement`` command on a real data directory (back office and core)."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from tests.backoffice.support import (
    ACCOUNT,
    BROKER,
    BUY,
    ETF,
    MARGIN,
    OTHER_ACCOUNT,
    OTHER_BROKER,
    SELL,
    THU,
    TSMC,
    WED,
    fill,
    ledger,
    reference,
)

from brokercloud.backoffice import commands as b
from brokercloud.backoffice.cash import CashKind, CashMove, cash_movements
from brokercloud.backoffice.customers import CustomerError
from brokercloud.backoffice.ledger import Ledger
from brokercloud.backoffice.statement import StatementHolding, statement
from brokercloud.backoffice.statement_pdf import FONT_ENV, find_font, render
from brokercloud.backoffice.store import BackOffice
from brokercloud.cli import main
from brokercloud.codes import Code
from brokercloud.core import commands as c
from brokercloud.core.sequencer import Core

NOV_2, FRI, MON, DEC_1 = date(2026, 11, 2), date(2026, 11, 27), date(2026, 11, 30), date(
    2026, 12, 1)


def _month_commands() -> list[b.BoCmd]:
    """November: a deposit, Wednesday's cash and margin buys (settled Friday), Thursday's
    sale (settled Monday), a top-up; then a December buy and a December price."""
    return [
        b.Deposit(account=ACCOUNT, amount=100_000, on=NOV_2),
        fill(BUY, 2_000, 100_000),  # 2,000,000 + 2,850: net -2,002,850
        fill(BUY, 10_000, 7_620, credit=MARGIN),  # 762,000 + 1,085 - loan 457,000: -306,085
        fill(SELL, 1_000, 101_000, trade_date=THU),  # 1,010,000 - 1,439 - 3,030: +1,005,531
        b.Settle(date=FRI), b.Settle(date=MON),
        b.TopUp(account=ACCOUNT, amount=10_000, on=MON),
        fill(BUY, 1_000, 100_000, trade_date=DEC_1),
        b.MarkPrices(date=DEC_1, prices={TSMC: 103_000}),
    ]


def _november() -> Ledger:
    books = ledger()
    for command in _month_commands():
        assert books.apply(command) == Code.OK, command
    return books


def test_statement_when_month_traded_then_trades_holdings_cash_and_days_by_hand() -> None:
    report = statement(_november(), BROKER, ACCOUNT, "2026-11", name="王小明", branch="001")
    assert [(t.trade_date, t.side, t.qty, t.net) for t in report.trades] == [
        (WED, BUY, 2_000, -2_002_850), (WED, BUY, 10_000, -306_085), (THU, SELL, 1_000, 1_005_531)]
    assert (report.bought, report.sold, report.commission, report.tax, report.net) == (
        2_762_000, 1_010_000, 2_850 + 1_085 + 1_439, 3_030, -1_303_404)
    # average cost, cash and margin apart: Thursday sold 1,000 of 2,000 costing 2,002,850,
    # 1,005,531 - 1,001,425 = 4,106; open at 1,030.00: cash 1,000 (1,030,000 - 1,001,425)
    # and margin 10,000 (10,300,000 - 763,085); the opening shares have no cost
    assert (report.realized, report.unrealized) == (4_106, 28_575 + 9_536_915)
    # 20,000 opening + 2,000 - 1,000 (the December buy is after the month); at 1,030.00
    assert report.holdings == [
        StatementHolding(ETF, 20_000, 0, 0, None, None),
        StatementHolding(TSMC, 21_000, 10_000, 0, 103_000, 31_930_000)]
    assert report.cash == [  # the undated opening deposit is left out
        CashMove(BROKER, ACCOUNT, NOV_2, CashKind.DEPOSIT, 100_000),
        CashMove(BROKER, ACCOUNT, FRI, CashKind.SETTLEMENT, -2_308_935),
        CashMove(BROKER, ACCOUNT, MON, CashKind.SETTLEMENT, 1_005_531),
        CashMove(BROKER, ACCOUNT, MON, CashKind.TOP_UP, -10_000)]
    assert len(report.daily_net) == 21  # November 2026's weekdays, no holiday
    assert [(day, net) for day, net in report.daily_net if net] == [
        (WED, -2_308_935), (THU, 1_005_531)]


def test_statement_when_other_brokers_account_then_refused() -> None:
    with pytest.raises(CustomerError) as refused:
        statement(_november(), BROKER, OTHER_ACCOUNT, "2026-11")
    assert refused.value.code == Code.UNKNOWN_CUSTOMER


def test_cash_movements_when_other_broker_asks_then_nothing() -> None:
    books = _november()
    assert cash_movements(books, OTHER_BROKER, ACCOUNT, NOV_2, MON) == []
    assert len(cash_movements(books, BROKER, ACCOUNT, NOV_2, MON)) == 4


def test_ledger_when_snapshot_predates_cash_moves_then_opens_with_none() -> None:
    books = _november()
    state = books.__getstate__()
    del state["cash_moves"]  # what a snapshot written before they were kept holds
    restored = Ledger.__new__(Ledger)
    restored.__setstate__(state)
    assert restored.cash_moves == []
    assert statement(restored, BROKER, ACCOUNT, "2026-11").net == -1_303_404


def _text(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_render_when_statement_then_pdf_with_chinese_title_and_totals() -> None:
    pdf = render(statement(_november(), BROKER, ACCOUNT, "2026-11", name="王小明",
                           branch="001"))
    assert pdf.startswith(b"%PDF-")
    pages, text = _text(pdf)
    assert pages == 1
    for expected in ("對帳單", "12345678", "王小明", "-1,303,404", "31,930,000", "-2,308,935",
                     "1,005,531", "存入 Deposit", "融資", "realized 4,106"):
        assert expected in text, expected


def test_find_font_when_none_installed_then_font_missing_code(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(FONT_ENV, raising=False)
    with pytest.raises(CustomerError) as refused:
        find_font(())
    assert refused.value.code == Code.STATEMENT_FONT_MISSING
    monkeypatch.setenv(FONT_ENV, str(tmp_path / "missing.ttf"))
    with pytest.raises(CustomerError):
        find_font(())


def _data_dir(root: Path) -> Path:
    """A platform data directory as ``serve`` leaves it: the core's records, the books."""
    core = Core(root / "core", fsync=False)
    core.execute([c.AddBroker(at=1, broker=BROKER, name="demo"),
                  c.AddBranch(at=1, broker=BROKER, branch="001", name="總公司"),
                  c.OpenAccount(at=1, account=ACCOUNT, broker=BROKER, branch="001",
                                name="王小明")])
    core.close()
    office = BackOffice(root / "backoffice", fsync=False)
    assert all(code == Code.OK for code in office.execute(reference() + _month_commands()))
    office.close()
    return root


def test_statement_command_when_account_known_then_pdf_written_and_journal_untouched(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _data_dir(tmp_path / "data")
    journal = data / "backoffice" / "backoffice.bin"
    with journal.open("ab") as handle:  # a batch the running platform is still writing
        handle.write(b"\x10\x00\x00\x00torn")
    before = journal.read_bytes()
    output = tmp_path / "statement.pdf"
    assert main(["statement", ACCOUNT, "--month", "2026-11", "--data-dir", str(data),
                 "-o", str(output)]) == 0
    assert journal.read_bytes() == before  # read from a copy: nothing truncated
    pages, text = _text(output.read_bytes())
    assert pages == 1
    assert "王小明" in text and "總公司" not in text and "001" in text
    assert "-1,303,404" in text
    assert "2026-11-02 存入 Deposit 100,000" in text  # the value date survives the journal
    assert "wrote" in capsys.readouterr().out


def test_statement_command_when_unknown_account_or_bad_month_then_code_and_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _data_dir(tmp_path / "data")
    output = tmp_path / "statement.pdf"
    assert main(["statement", "99999999", "--month", "2026-11", "--data-dir", str(data),
                 "-o", str(output)]) == 2
    assert "[6201] UNKNOWN_CUSTOMER" in capsys.readouterr().err
    assert main(["statement", ACCOUNT, "--month", "2026-13", "--data-dir", str(data),
                 "-o", str(output)]) == 2
    assert "[6202] INVALID_PERIOD" in capsys.readouterr().err
    assert main(["statement", ACCOUNT, "--month", "2026-11", "--data-dir",
                 str(tmp_path / "nowhere"), "-o", str(output)]) == 2
    assert not output.exists()


def test_render_when_many_trades_then_pages_break_and_every_trade_is_listed() -> None:
    books = ledger()
    for n in range(80):  # 80 odd-lot buys of 1 to 80 shares at 1,000.00
        assert books.apply(fill(BUY, n + 1, 100_000, order_id=f"B{n}")) == Code.OK
    pdf = render(statement(books, BROKER, ACCOUNT, "2026-11"))
    pages, text = _text(pdf)
    assert pages >= 2
    # bought 1 + 2 + ... + 80 = 3,240 shares: NT$3,240,000
    assert "3,240,000" in text
    assert text.count("買 Buy") == 80
