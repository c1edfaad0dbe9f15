from __future__ import annotations

import pytest

from brokercloud.market.lots import (
    BOARD_LOT,
    MAX_BOARD_LOT_SHARES,
    MAX_LOTS_PER_ORDER,
    MAX_ODD_LOT,
    is_board_lot_quantity,
    is_odd_lot_quantity,
    lots,
)


def test_constants_when_read_then_thesis_values() -> None:
    assert BOARD_LOT == 1_000
    assert MAX_ODD_LOT == 999
    assert MAX_LOTS_PER_ORDER == 499
    assert MAX_BOARD_LOT_SHARES == 499_000


@pytest.mark.parametrize(("shares", "ok"), [
    (0, False), (-1_000, False), (1, False), (999, False), (1_000, True), (1_500, False),
    (2_000, True), (499_000, True), (499_500, False), (500_000, False), (1_000_000, False),
])
def test_is_board_lot_quantity_when_shares_then_whole_lots_up_to_cap(shares: int, ok: bool) -> None:
    assert is_board_lot_quantity(shares) is ok


@pytest.mark.parametrize(("shares", "ok"), [
    (0, False), (-1, False), (1, True), (500, True), (999, True), (1_000, False),
])
def test_is_odd_lot_quantity_when_shares_then_1_to_999(shares: int, ok: bool) -> None:
    assert is_odd_lot_quantity(shares) is ok


@pytest.mark.parametrize(("shares", "whole"), [
    (0, 0), (999, 0), (1_000, 1), (1_999, 1), (499_000, 499), (500_000, 500),
])
def test_lots_when_shares_then_whole_lots_only(shares: int, whole: int) -> None:
    assert lots(shares) == whole
