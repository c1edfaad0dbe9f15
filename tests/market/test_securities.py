from __future__ import annotations

import pytest

from brokercloud.market.instruments import Disposition, InstrumentKind, Market
from brokercloud.market.prices import is_on_tick, price_limits
from brokercloud.market.securities import (
    DEMO_ALERT,
    DEMO_DISPOSITION,
    demo_instruments,
    limit_bp_for,
    load_master,
    load_securities,
    parse_securities,
)

HEADER = "type,code,name,ISIN,start,market,group,CFI\n"


def test_load_securities_when_packaged_csv_then_every_row_loaded() -> None:
    master = load_master()
    assert master.rejected == ()
    securities = load_securities()
    assert len(securities) == 2_348
    tsmc = securities["2330"]
    assert (tsmc.name, tsmc.market, tsmc.kind) == ("台積電", Market.TWSE, InstrumentKind.STOCK)
    assert tsmc.isin == "TW0002330008"
    assert tsmc.industry == "半導體業"
    assert not (tsmc.margin_eligible or tsmc.short_eligible or tsmc.day_trade_eligible)


@pytest.mark.parametrize(("symbol", "kind", "market"), [
    ("0050", InstrumentKind.ETF, Market.TWSE),
    ("020000", InstrumentKind.ETN, Market.TWSE),
    ("020001", InstrumentKind.ETN, Market.TPEX),
    ("2881A", InstrumentKind.PREFERRED, Market.TWSE),
    ("9103", InstrumentKind.TDR, Market.TWSE),
    ("01001T", InstrumentKind.REIT, Market.TWSE),
    ("2254", InstrumentKind.STOCK, Market.TWSE),  # Taiwan Innovation Board
])
def test_load_securities_when_type_and_market_then_mapped(
        symbol: str, kind: InstrumentKind, market: Market) -> None:
    inst = load_securities()[symbol]
    assert (inst.kind, inst.market) == (kind, market)


def test_load_securities_when_tpex_stock_then_tpex_market() -> None:
    tpex = [i for i in load_securities().values() if i.market is Market.TPEX]
    assert len(tpex) == 1_001
    assert all(i.symbol.isascii() and i.symbol.isalnum() for i in tpex)


def test_load_securities_when_called_twice_then_parsed_once_but_fresh_dict() -> None:
    first, second = load_securities(), load_securities()
    assert first == second
    assert first is not second
    assert first["2330"] is second["2330"]
    first.clear()
    assert "2330" in load_securities()


@pytest.mark.parametrize(("kind", "name", "limit_bp"), [
    (InstrumentKind.ETF, "元大台灣50正2", 2_000),
    (InstrumentKind.ETF, "元大台灣50反1", 1_000),
    (InstrumentKind.ETN, "富邦蘋果正二N", 2_000),
    (InstrumentKind.ETF, "元大台灣50", 1_000),
    (InstrumentKind.STOCK, "正2科技", 1_000),  # only funds are leveraged
])
def test_limit_bp_for_when_leveraged_fund_then_10_percent_times_multiple(
        kind: InstrumentKind, name: str, limit_bp: int) -> None:
    assert limit_bp_for(kind, name) == limit_bp


def test_load_securities_when_leveraged_etf_then_20_percent_limit() -> None:
    securities = load_securities()
    assert securities["00631L"].limit_bp == 2_000
    assert securities["00632R"].limit_bp == 1_000
    assert securities["2330"].limit_bp == 1_000


def test_parse_securities_when_bad_rows_then_skipped_and_counted() -> None:
    text = HEADER + "\n".join([
        "股票,2330,台積電,TW0002330008,1994/09/05,上市,半導體業,ESVUFR",
        "股票,1234567890123,太長,X,2000/01/01,上市,,ESVUFR",  # 13 characters
        "股票,,空白,X,2000/01/01,上市,,ESVUFR",
        "股票,23-30,符號,X,2000/01/01,上市,,ESVUFR",
        "權證,030001,權證,X,2000/01/01,上市,,RWSCCE",  # a type the platform does not trade
        "股票,9999,興櫃,X,2000/01/01,興櫃,,ESVUFR",  # emerging market: not listed
        "股票,2330,重複,X,2000/01/01,上市,,ESVUFR",
    ]) + "\n"
    loaded = parse_securities(text)
    assert list(loaded.instruments) == ["2330"]
    assert loaded.instruments["2330"].name == "台積電"
    assert [code for code, _ in loaded.rejected] == [
        "1234567890123", "", "23-30", "030001", "9999", "2330"]
    assert "symbol" in loaded.rejected[0][1]
    assert loaded.rejected[-1][1] == "duplicate code"


def test_demo_instruments_when_default_then_50_distinct_tsmc_first() -> None:
    demo = demo_instruments()
    assert len(demo) == 50
    symbols = [d.instrument.symbol for d in demo]
    assert len(set(symbols)) == 50
    assert symbols[0] == "2330"
    assert {"2330", "2317", "2454", "2412", "2882", "2881", "0050", "0056", "00878", "2303",
            "1301", "2002"} <= set(symbols)
    assert demo == demo_instruments()  # deterministic


def test_demo_instruments_when_listed_then_reference_on_tick_with_room_inside_limits() -> None:
    for listed in demo_instruments():
        inst = listed.instrument
        assert inst.market is Market.TWSE
        assert is_on_tick(listed.reference, inst.kind), inst.symbol
        down, up = price_limits(listed.reference, inst.limit_bp or 1_000, inst.kind)
        assert down < listed.reference < up


def test_demo_instruments_when_flags_then_alert_and_each_disposition_present() -> None:
    demo = {d.instrument.symbol: d.instrument for d in demo_instruments()}
    assert {s for s, i in demo.items() if i.alert} == DEMO_ALERT
    assert {s: i.disposition for s, i in demo.items()
            if i.disposition is not Disposition.NONE} == DEMO_DISPOSITION
    assert sorted(DEMO_DISPOSITION.values()) == [Disposition.FIRST, Disposition.REPEAT]
    for symbol, inst in demo.items():
        assert inst.margin_eligible and inst.short_eligible
        assert inst.day_trade_eligible is (symbol not in DEMO_DISPOSITION)
        assert inst.market_orders_allowed is (symbol not in DEMO_DISPOSITION)


def test_demo_instruments_when_kinds_then_stocks_and_etfs_across_bands() -> None:
    demo = demo_instruments()
    kinds = {d.instrument.kind for d in demo}
    assert kinds == {InstrumentKind.STOCK, InstrumentKind.ETF}
    refs = [d.reference for d in demo if d.instrument.kind is InstrumentKind.STOCK]
    bands = [(0, 1_000), (1_000, 5_000), (5_000, 10_000), (10_000, 50_000), (50_000, 100_000),
             (100_000, 10**9)]
    assert all(any(lo <= r < hi for r in refs) for lo, hi in bands)


def test_demo_instruments_when_count_then_prefix() -> None:
    assert [d.instrument.symbol for d in demo_instruments(3)] == ["2330", "2317", "2454"]
    assert demo_instruments(0) == []
    flags = demo_instruments(16)
    assert sum(d.instrument.alert for d in flags) == 2
    assert sum(d.instrument.disposition is not Disposition.NONE for d in flags) == 2
    with pytest.raises(ValueError):
        demo_instruments(51)
    with pytest.raises(ValueError):
        demo_instruments(-1)
