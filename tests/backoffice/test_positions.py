"""Financing and short lots, first in first out, each piece with its share of the amounts."""

from __future__ import annotations

from datetime import date

from brokercloud.backoffice.booking import Release
from brokercloud.backoffice.positions import Lot, cover_short, open_shares, repay_financing

RATE = 45_000  # 4.5% a year


def test_repay_financing_when_sale_spans_two_lots_then_oldest_first_with_interest_each() -> None:
    lots = [Lot(1_000, 45_000, 0, date(2026, 11, 27)), Lot(2_000, 91_000, 0, date(2026, 12, 1))]
    release = repay_financing(lots, 1_500, date(2026, 12, 11), RATE)
    # lot 1 whole: 45,000 for 14 days = 77.67 -> 77; lot 2 a quarter: 91,000 x 500 / 2,000 =
    # 22,750 for 10 days = 28.05 -> 28
    assert release == Release(loan=45_000 + 22_750, interest=77 + 28)
    assert [(lot.shares, lot.first) for lot in lots] == [(1_500, 68_250)]
    assert open_shares(lots) == 1_500


def test_cover_short_when_lot_taken_in_thirds_then_pieces_add_up_to_the_lot() -> None:
    lots = [Lot(3_000, 100_000, 200_000, date(2026, 11, 27))]
    pieces = [cover_short(lots, 1_000) for _ in range(3)]
    # 100,000 / 3 = 33,333; then 66,667 x 1/2 = 33,333; the last piece takes 33,334
    assert [piece.margin for piece in pieces] == [33_333, 33_333, 33_334]
    assert sum(piece.collateral for piece in pieces) == 200_000
    assert lots == []
