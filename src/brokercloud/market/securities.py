"""The instrument master (packaged CSV of TWSE/TPEx listings) and a demo universe.

The CSV is TWSE's public ISIN listing, trimmed to the kinds the platform trades. It carries no
trading flags, so loaded instruments have margin, short and day-trade eligibility off; the
exchange publishes those daily and a real deployment would merge them in. The demo universe
turns them on for a fixed set of well-known names, with ILLUSTRATIVE reference prices.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from importlib import resources

import msgspec

from brokercloud.market.instruments import Disposition, Instrument, InstrumentKind, Market
from brokercloud.market.prices import DEFAULT_LIMIT_BP, round_to_nearest_tick

KIND_BY_TYPE: dict[str, InstrumentKind] = {
    "股票": InstrumentKind.STOCK,
    "創新板": InstrumentKind.STOCK,  # Taiwan Innovation Board: ordinary shares, own listing tier
    "特別股": InstrumentKind.PREFERRED,
    "ETF": InstrumentKind.ETF,
    "ETN": InstrumentKind.ETN,
    "臺灣存託憑證(TDR)": InstrumentKind.TDR,
    "受益證券-不動產投資信託": InstrumentKind.REIT,
}
MARKET_BY_NAME: dict[str, Market] = {
    "上市": Market.TWSE,
    "上市臺灣創新板": Market.TWSE,
    "上櫃": Market.TPEX,
}
#: "正2" / "反1" / "正二N" in a fund's name: leveraged or inverse, limit = 10% x multiple.
_LEVERAGE = re.compile(r"[正反]([1-3一二三])")
_DIGIT = {"1": 1, "2": 2, "3": 3, "一": 1, "二": 2, "三": 3}


class SecuritiesLoad(msgspec.Struct, frozen=True):
    """The parsed master plus the rows that could not become an Instrument, with the reason."""

    instruments: dict[str, Instrument]
    rejected: tuple[tuple[str, str], ...]  # (code, reason)


def limit_bp_for(kind: InstrumentKind, name: str) -> int:
    """Daily limit for a listing: leveraged/inverse funds get 10% x their multiple."""
    if kind in (InstrumentKind.ETF, InstrumentKind.ETN):
        match = _LEVERAGE.search(name)
        if match:
            return DEFAULT_LIMIT_BP * _DIGIT[match.group(1)]
    return DEFAULT_LIMIT_BP


def parse_securities(text: str) -> SecuritiesLoad:
    """Parse the CSV text (header type,code,name,ISIN,start,market,group,CFI)."""
    instruments: dict[str, Instrument] = {}
    rejected: list[tuple[str, str]] = []
    for row in csv.DictReader(io.StringIO(text)):
        code = (row.get("code") or "").strip()
        kind = KIND_BY_TYPE.get(row.get("type", ""))
        market = MARKET_BY_NAME.get(row.get("market", ""))
        if kind is None or market is None:
            reason = f"unknown type or market: {row.get('type')}/{row.get('market')}"
            rejected.append((code, reason))
            continue
        if code in instruments:
            rejected.append((code, "duplicate code"))
            continue
        name = row.get("name", "").strip()
        try:
            instruments[code] = Instrument(
                symbol=code, name=name, market=market, kind=kind, isin=row.get("ISIN", ""),
                industry=row.get("group", ""), limit_bp=limit_bp_for(kind, name))
        except ValueError as exc:
            rejected.append((code, str(exc)))
    return SecuritiesLoad(instruments, tuple(rejected))


@functools.cache
def load_master() -> SecuritiesLoad:
    """The packaged master, parsed once per process."""
    text = resources.files("brokercloud.market").joinpath("data/tw_securities.csv").read_text(
        encoding="utf-8")
    return parse_securities(text)


def load_securities() -> dict[str, Instrument]:
    """Every listed instrument by symbol (a fresh dict; the Instruments themselves are frozen)."""
    return dict(load_master().instruments)


class ListedInstrument(msgspec.Struct, frozen=True):
    """An instrument with a reference price (NT$0.01) to seed a simulated trading day."""

    instrument: Instrument
    reference: int


# (symbol, illustrative reference price in NT$0.01). NOT market data: round numbers of roughly
# the right size, chosen to exercise every tick band (two sub-NT$10 stocks, prices at and near
# band edges, funds either side of NT$50). Snapped to a valid tick on use. The thesis's names
# come first, then the flagged demo names, so any prefix of 16 or more includes every flag.
_DEMO_PRICES: tuple[tuple[str, int], ...] = (
    ("2330", 108_500), ("2317", 20_050), ("2454", 130_000), ("2412", 12_500),
    ("2882", 6_010), ("2881", 8_550), ("0050", 5_245), ("0056", 3_512),
    ("00878", 2_135), ("2303", 4_535), ("1301", 4_010), ("2002", 2_040),
    ("2609", 6_050), ("2615", 8_000), ("1314", 812), ("2323", 905),
    ("2308", 60_000), ("2382", 28_000), ("2891", 4_215), ("2886", 4_020),
    ("2884", 2_830), ("2885", 3_340), ("2880", 2_905), ("5880", 2_390),
    ("2883", 1_545), ("2887", 1_780), ("1303", 3_520), ("1326", 4_050),
    ("6505", 4_480), ("1216", 8_010), ("2207", 59_000), ("2357", 61_500),
    ("3711", 15_050), ("2395", 35_000), ("3008", 240_000), ("2345", 70_000),
    ("3034", 45_500), ("2379", 51_000), ("4938", 7_050), ("2603", 20_000),
    ("2912", 26_000), ("1101", 3_000), ("9910", 12_000), ("2327", 55_000),
    ("3045", 11_000), ("4904", 8_500), ("2801", 1_910), ("3231", 11_000),
    ("6669", 250_000), ("006208", 11_000),
)
#: Demo names flagged for the attention / disposition paths (also illustrative).
DEMO_ALERT = frozenset({"2609", "2615"})
DEMO_DISPOSITION = {"1314": Disposition.FIRST, "2323": Disposition.REPEAT}


def demo_instruments(count: int = len(_DEMO_PRICES)) -> list[ListedInstrument]:
    """A fixed, ordered demo universe of 50 TWSE names with ILLUSTRATIVE reference prices.

    Deterministic by construction (no randomness): TSMC first, ``count`` takes a prefix.
    Names, ISINs and industries come from the master; margin, short and day-trade eligibility
    are on, except day trading for disposition names (not allowed there). 2609 and 2615 are
    attention stocks, 1314 is in first and 2323 in repeat disposition.
    """
    if not 0 <= count <= len(_DEMO_PRICES):
        raise ValueError(f"count must be 0-{len(_DEMO_PRICES)}: {count}")
    master = load_master().instruments
    listed = []
    for symbol, price in _DEMO_PRICES[:count]:
        disposition = DEMO_DISPOSITION.get(symbol, Disposition.NONE)
        instrument = msgspec.structs.replace(
            master[symbol], margin_eligible=True, short_eligible=True,
            day_trade_eligible=disposition is Disposition.NONE, alert=symbol in DEMO_ALERT,
            disposition=disposition)
        listed.append(ListedInstrument(instrument, round_to_nearest_tick(price, instrument.kind)))
    return listed
