"""Board lots, odd lots and the per-order cap."""

from __future__ import annotations

BOARD_LOT = 1_000  # shares (or ETF units) per board lot
MAX_ODD_LOT = BOARD_LOT - 1
MAX_LOTS_PER_ORDER = 499  # the thesis's cap, platform convention outside fixed-price trading
MAX_BOARD_LOT_SHARES = MAX_LOTS_PER_ORDER * BOARD_LOT


def is_board_lot_quantity(shares: int) -> bool:
    """Whole lots, at least one, at most the per-order cap."""
    return 0 < shares <= MAX_BOARD_LOT_SHARES and shares % BOARD_LOT == 0


def is_odd_lot_quantity(shares: int) -> bool:
    """1 to 999 shares, for the odd-lot sessions."""
    return 0 < shares <= MAX_ODD_LOT


def lots(shares: int) -> int:
    """Whole board lots in a quantity of shares (odd shares ignored)."""
    return shares // BOARD_LOT
