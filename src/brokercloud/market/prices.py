"""Tick tables and price limits, in integer NT$0.01 units.

TWSE publishes limits as "reference x (1 +/- pct), rounded to the tick of the band the result
falls in": limit-up rounds down, limit-down rounds up. We keep the percentage in basis points so
the whole computation stays in integers (no float can sneak into the order path).
"""

from __future__ import annotations

from bisect import bisect_right

from brokercloud.market.instruments import InstrumentKind

#: Upper bounds (exclusive, in NT$0.01) and tick of each stock price band.
STOCK_TICK_BANDS: tuple[tuple[int, int], ...] = (
    (1_000, 1),  # < 10: 0.01
    (5_000, 5),  # 10 - < 50: 0.05
    (10_000, 10),  # 50 - < 100: 0.1
    (50_000, 50),  # 100 - < 500: 0.5
    (100_000, 100),  # 500 - < 1,000: 1
    (2**62, 500),  # >= 1,000: 5
)
#: ETF, ETN and REIT ticks: 0.01 below NT$50, 0.05 from NT$50.
FUND_TICK_BANDS: tuple[tuple[int, int], ...] = ((5_000, 1), (2**62, 5))

DEFAULT_LIMIT_BP = 1_000  # +/-10% since 2015-06-01
THESIS_LIMIT_BP = 700  # +/-7% before 2015-06-01, used by the thesis
_BP = 10_000


def tick_bands(kind: InstrumentKind) -> tuple[tuple[int, int], ...]:
    """The tick table that applies to an instrument kind."""
    return FUND_TICK_BANDS if kind.uses_fund_ticks else STOCK_TICK_BANDS


_STOCK_UPPERS = tuple(upper for upper, _ in STOCK_TICK_BANDS)
_FUND_UPPERS = tuple(upper for upper, _ in FUND_TICK_BANDS)


def tick_size(price: int, kind: InstrumentKind = InstrumentKind.STOCK) -> int:
    """The tick of the band that ``price`` falls in."""
    if kind.uses_fund_ticks:
        return FUND_TICK_BANDS[bisect_right(_FUND_UPPERS, price)][1]
    return STOCK_TICK_BANDS[bisect_right(_STOCK_UPPERS, price)][1]


def tick_below(price: int, kind: InstrumentKind = InstrumentKind.STOCK) -> int:
    """The tick between ``price`` and the next lower valid price (the lower band's at an edge)."""
    return tick_size(price - 1, kind)


def is_on_tick(price: int, kind: InstrumentKind = InstrumentKind.STOCK) -> bool:
    """Whether ``price`` is a multiple of the tick of its own band."""
    return price > 0 and price % tick_size(price, kind) == 0


def round_down_to_tick(price: int, kind: InstrumentKind = InstrumentKind.STOCK) -> int:
    tick = tick_size(price, kind)
    return price - price % tick


def round_up_to_tick(price: int, kind: InstrumentKind = InstrumentKind.STOCK) -> int:
    tick = tick_size(price, kind)
    rem = price % tick
    return price if rem == 0 else price + tick - rem


def round_to_nearest_tick(price: int, kind: InstrumentKind = InstrumentKind.STOCK) -> int:
    """Nearest valid price, halves rounding up (used for ex-rights reference prices)."""
    down = round_down_to_tick(price, kind)
    up = round_up_to_tick(price, kind)
    return down if price - down < up - price else up


def limit_up(reference: int, limit_bp: int = DEFAULT_LIMIT_BP,
             kind: InstrumentKind = InstrumentKind.STOCK) -> int:
    """reference x (1 + pct) rounded down to its band's tick; never less than one tick above."""
    scaled = reference * (_BP + limit_bp)  # exact, in units of NT$0.01 / 10,000
    tick = tick_size(scaled // _BP, kind)
    up = scaled // (_BP * tick) * tick
    return max(up, reference + tick_size(reference, kind))


def limit_down(reference: int, limit_bp: int = DEFAULT_LIMIT_BP,
               kind: InstrumentKind = InstrumentKind.STOCK) -> int:
    """reference x (1 - pct) rounded up to its band's tick; never less than one tick below."""
    scaled = reference * (_BP - limit_bp)
    tick = tick_size(-(-scaled // _BP), kind)
    down = -(-scaled // (_BP * tick)) * tick
    floor_price = reference - tick_below(reference, kind)
    return max(min(down, floor_price), tick_size(1, kind))


def price_limits(reference: int, limit_bp: int = DEFAULT_LIMIT_BP,
                 kind: InstrumentKind = InstrumentKind.STOCK) -> tuple[int, int]:
    """(limit_down, limit_up) for a reference price."""
    return limit_down(reference, limit_bp, kind), limit_up(reference, limit_bp, kind)


def price_ladder(low: int, high: int, kind: InstrumentKind = InstrumentKind.STOCK) -> list[int]:
    """Every valid price from ``low`` to ``high`` inclusive, ascending (the book's tick index)."""
    if not (is_on_tick(low, kind) and is_on_tick(high, kind)) or low > high:
        raise ValueError(f"ladder bounds must be valid prices with low <= high: {low}, {high}")
    prices = []
    price = low
    while price <= high:
        prices.append(price)
        price += tick_size(price, kind)
    return prices


def format_price(price: int) -> str:
    """NT$0.01 units to the exchange's decimal text, e.g. 7470 -> '74.70'."""
    return f"{price // 100}.{price % 100:02d}"


def parse_price(text: str) -> int:
    """Decimal text to NT$0.01 units without floats; more than two decimals is an error.

    ASCII digits only: ``str.isdigit`` also accepts full-width and other scripts' digits, which
    ``int`` would silently convert, so text like '１２' would otherwise parse as 12.
    """
    whole, _, frac = text.strip().partition(".")
    frac = frac.rstrip("0") if len(frac) > 2 else frac
    if (not text.isascii() or not whole.isdigit() or (frac and not frac.isdigit())
            or len(frac) > 2):
        raise ValueError(f"not a price in NT$0.01 units: {text!r}")
    return int(whole) * 100 + int(frac.ljust(2, "0") or 0)
