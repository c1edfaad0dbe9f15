"""The monthly statement (對帳單) as a PDF: fpdf2 (pure Python) with a Traditional Chinese
font, the chart drawn with fpdf2's own lines and rectangles (no plotting library).

The font is the one thing outside Python: ``BROKERCLOUD_CJK_FONT`` names a TTF or TTC file,
else the first of the Debian CJK fonts below that is installed (`.ci/run` installs
fonts-wqy-microhei); none found is ``STATEMENT_FONT_MISSING``, never a PDF with empty boxes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from brokercloud.backoffice.cash import CashKind
from brokercloud.backoffice.customers import CustomerError
from brokercloud.backoffice.statement import Statement
from brokercloud.codes import Code
from brokercloud.core.commands import Credit
from brokercloud.market.orders import Side

FONT_ENV = "BROKERCLOUD_CJK_FONT"
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic-bsmi00lp/bsmi00lp.ttf",
)
_FAMILY = "cjk"
_SIDES = {Side.BUY: "買 Buy", Side.SELL: "賣 Sell"}
_CREDITS = {Credit.CASH: "現股", Credit.MARGIN: "融資", Credit.SHORT: "融券"}
_CASH_KINDS = {CashKind.DEPOSIT: "存入 Deposit", CashKind.TOP_UP: "補繳 Top-up",
               CashKind.REPAYMENT: "現金償還 Repayment",
               CashKind.SHORT_RETURNED: "現券償還 Shares returned",
               CashKind.SETTLEMENT: "交割 Settlement", CashKind.DEFAULT: "違約 Default",
               CashKind.DEFAULT_PAID: "違約償付 Default paid"}
_LINE = 5.5  # mm per table row


def find_font(candidates: Sequence[str] = FONT_CANDIDATES) -> Path:
    """The font named by ``BROKERCLOUD_CJK_FONT``, else the first candidate installed."""
    named = os.environ.get(FONT_ENV)
    for candidate in ([named] if named else []) + list(candidates):
        if Path(candidate).is_file():
            return Path(candidate)
    raise CustomerError(Code.STATEMENT_FONT_MISSING)


def _money(amount: int | None) -> str:
    return "-" if amount is None else f"{amount:,}"


def _price(price: int | None) -> str:
    return "-" if price is None else f"{price // 100}.{price % 100:02d}"


class _Document(FPDF):
    def __init__(self, font: Path) -> None:
        super().__init__(format="A4")
        self.add_font(_FAMILY, "", str(font))
        self.set_auto_page_break(auto=True, margin=15)
        self.add_page()

    def heading(self, text: str) -> None:
        self.ln(3)
        self.set_font(_FAMILY, size=11)
        self.cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def table(self, widths: Sequence[float], header: Sequence[str],
              rows: Sequence[Sequence[str]], left: int) -> None:
        """The first ``left`` columns left-aligned, the rest (numbers) right-aligned."""
        self.set_font(_FAMILY, size=8)
        for cells, border in [(header, "B")] + [(row, "") for row in rows]:
            for index, (width, text) in enumerate(zip(widths, cells, strict=True)):
                last = index == len(widths) - 1
                self.cell(width, _LINE, text, border=border, align="L" if index < left else "R",
                          new_x=XPos.LMARGIN if last else XPos.RIGHT,
                          new_y=YPos.NEXT if last else YPos.TOP)
        if not rows:
            self.cell(0, _LINE, "（無 none）", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def bar_chart(self, days: Sequence[tuple[date, int]], height: float = 40) -> None:
        """Each trading day's net amount as a bar from a zero line: up green (receivable),
        down red (payable), scaled to the largest."""
        if self.get_y() + height + 10 > self.page_break_trigger:
            self.add_page()  # the chart is drawn in one piece, never across a page break
        left, width = self.l_margin, self.epw
        top = self.get_y() + 2
        peak = max((abs(net) for _, net in days), default=0)
        largest = peak or 1  # the scale; a month without trades draws no bars
        zero = top + height / 2
        self.set_draw_color(120)
        self.rect(left, top, width, height)
        self.line(left, zero, left + width, zero)
        slot = width / max(len(days), 1)
        self.set_font(_FAMILY, size=6)
        for index, (day, net) in enumerate(days):
            bar = (height / 2 - 2) * abs(net) / largest
            x = left + index * slot + slot * 0.2
            if bar:
                self.set_fill_color(*((40, 150, 60) if net > 0 else (200, 50, 50)))
                self.rect(x, zero - bar if net > 0 else zero, slot * 0.6, bar, style="F")
            self.text(x, top + height + 3, f"{day.day}")
        self.text(left, top - 0.5, f"max {_money(peak)}")
        self.set_y(top + height + 5)


def render(statement: Statement) -> bytes:
    """The statement as PDF bytes."""
    pdf = _Document(find_font())
    pdf.set_title(f"Statement {statement.account} {statement.first:%Y-%m}")
    pdf.set_font(_FAMILY, size=16)
    pdf.cell(0, 10, f"對帳單 Monthly Statement  {statement.first:%Y-%m}",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FAMILY, size=10)
    for line in (f"券商 Broker: {statement.broker}   分公司 Branch: {statement.branch or '-'}",
                 f"帳號 Account: {statement.account}   戶名 Name: {statement.name or '-'}",
                 f"期間 Period: {statement.first:%Y-%m-%d} ~ {statement.last:%Y-%m-%d}"):
        pdf.cell(0, 6, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.heading("成交明細 Trades")
    pdf.table((18, 14, 16, 12, 16, 16, 24, 16, 16, 24),
              ("日期 Date", "代號", "買賣", "類別", "股數 Qty", "價格 Price", "價金 Value",
               "手續費", "交易稅", "淨收付 Net"),
              [(f"{t.trade_date:%m-%d}", t.symbol, _SIDES[t.side], _CREDITS[t.credit],
                f"{t.qty:,}", _price(t.price), _money(t.value), _money(t.commission),
                _money(t.tax), _money(t.net)) for t in statement.trades], left=4)
    pdf.set_font(_FAMILY, size=9)
    pdf.cell(0, 6, f"合計 Totals: 買進 bought {_money(statement.bought)}  賣出 sold "
                   f"{_money(statement.sold)}  手續費 commission {_money(statement.commission)}"
                   f"  交易稅 tax {_money(statement.tax)}  淨額 net {_money(statement.net)}",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 6, f"損益 P&L (平均成本 average cost): 已實現 realized "
                   f"{_money(statement.realized)}  未實現 unrealized "
                   f"{_money(statement.unrealized)} (at the prices below)",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.heading(f"月底庫存 Holdings at {statement.last:%Y-%m-%d}")
    pdf.table((24, 30, 30, 30, 30, 36),
              ("代號 Symbol", "現股 Shares", "融資 Financed", "融券 Short", "價格 Price",
               "市值 Value"),
              [(h.symbol, f"{h.shares:,}", f"{h.financed:,}", f"{h.short:,}",
                _price(h.price), _money(h.value)) for h in statement.holdings], left=1)
    pdf.heading("資金異動 Cash movements")
    pdf.table((30, 50, 40), ("日期 Date", "項目 Kind", "金額 Amount"),
              [(f"{m.on:%Y-%m-%d}" if m.on else "-", _CASH_KINDS[m.kind],
                _money(m.amount)) for m in statement.cash], left=2)
    pdf.heading("每日淨收付 Daily net amount")
    pdf.bar_chart(statement.daily_net)
    return bytes(pdf.output())
