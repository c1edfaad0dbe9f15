from __future__ import annotations

import msgspec
import pytest

from brokercloud.market.instruments import (
    FIRST_DISPOSITION_DAY_LOTS,
    FIRST_DISPOSITION_ORDER_LOTS,
    MAX_SYMBOL_LENGTH,
    Disposition,
    Instrument,
    InstrumentKind,
    Market,
)


def test_instrument_when_defaults_then_twse_stock_with_10_percent_limit() -> None:
    inst = Instrument(symbol="2330", name="台積電")
    assert inst.market is Market.TWSE
    assert inst.kind is InstrumentKind.STOCK
    assert inst.limit_bp == 1_000
    assert inst.disposition is Disposition.NONE
    assert inst.market_orders_allowed


@pytest.mark.parametrize("symbol", ["2330", "00632R", "A", "1" * MAX_SYMBOL_LENGTH, "2887Z1"])
def test_instrument_when_symbol_alnum_up_to_12_then_accepted(symbol: str) -> None:
    assert Instrument(symbol=symbol, name="x").symbol == symbol


@pytest.mark.parametrize("symbol", [
    "", "1" * (MAX_SYMBOL_LENGTH + 1), "2330.TW", "23 30", "2330-", "台積電", "2330\n",
])
def test_instrument_when_symbol_invalid_then_value_error(symbol: str) -> None:
    with pytest.raises(ValueError, match="symbol"):
        Instrument(symbol=symbol, name="x")


def test_instrument_when_frozen_then_cannot_change() -> None:
    inst = Instrument(symbol="2330", name="x")
    with pytest.raises(AttributeError):
        inst.symbol = "2317"  # type: ignore[misc]


def test_instrument_when_encoded_then_round_trips() -> None:
    inst = Instrument(symbol="00631L", name="元大台灣50正2", kind=InstrumentKind.ETF,
                      limit_bp=2_000, disposition=Disposition.FIRST, alert=True)
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(inst), type=Instrument) == inst


@pytest.mark.parametrize(("kind", "fund"), [
    (InstrumentKind.STOCK, False), (InstrumentKind.PREFERRED, False), (InstrumentKind.TDR, False),
    (InstrumentKind.ETF, True), (InstrumentKind.ETN, True), (InstrumentKind.REIT, True),
])
def test_uses_fund_ticks_when_kind_then_funds_only(kind: InstrumentKind, fund: bool) -> None:
    assert kind.uses_fund_ticks is fund


def test_matching_interval_when_disposition_level_then_5_20_30_minutes() -> None:
    assert Disposition.NONE.matching_interval_s == 0
    assert Disposition.FIRST.matching_interval_s == 300
    assert Disposition.REPEAT.matching_interval_s == 1_200
    assert Disposition.ALTERED.matching_interval_s == 1_800


@pytest.mark.parametrize(("order_lots", "day_lots", "required"), [
    (1, 1, False), (9, 9, False), (9, 29, False),
    (10, 10, True),  # one order of 10 lots
    (1, 30, True),  # the day's orders reach 30 lots
    (9, 30, True), (50, 50, True),
])
def test_requires_prepayment_when_first_disposition_then_10_or_30_lot_thresholds(
        order_lots: int, day_lots: int, required: bool) -> None:
    assert FIRST_DISPOSITION_ORDER_LOTS == 10
    assert FIRST_DISPOSITION_DAY_LOTS == 30
    assert Disposition.FIRST.requires_prepayment(order_lots, day_lots) is required


@pytest.mark.parametrize(("order_lots", "day_lots"), [(1, 1), (0, 0), (499, 499)])
def test_requires_prepayment_when_other_levels_then_never_or_always(
        order_lots: int, day_lots: int) -> None:
    assert not Disposition.NONE.requires_prepayment(order_lots, day_lots)
    assert Disposition.REPEAT.requires_prepayment(order_lots, day_lots)
    assert Disposition.ALTERED.requires_prepayment(order_lots, day_lots)


@pytest.mark.parametrize("disposition", list(Disposition))
def test_market_orders_allowed_when_disposition_then_only_none(disposition: Disposition) -> None:
    inst = Instrument(symbol="1314", name="x", disposition=disposition)
    assert inst.market_orders_allowed is (disposition is Disposition.NONE)
