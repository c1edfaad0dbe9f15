"""The three records, per broker and account, and never another broker's."""

from brokercloud.core import commands as c
from brokercloud.core.queries import (
    Acknowledgement,
    FillRecord,
    acknowledgements_of,
    fills_of,
    orders_of,
)
from brokercloud.core.state import CoreState
from brokercloud.market.instruments import Instrument
from brokercloud.market.orders import Side

T0 = 1_795_564_800_000


def _state() -> tuple[CoreState, list[str]]:
    state = CoreState()
    commands: list[c.Cmd] = [c.ListInstrument(at=T0, instrument=Instrument(symbol="2330",
                                                                          name="TSMC"),
                                              reference=7470)]
    for broker, account in (("9A00", "A1"), ("9A00", "A2"), ("9B00", "B1")):
        commands += [c.AddBroker(at=T0, broker=broker, name=broker),
                     c.AddBranch(at=T0, broker=broker, branch="001", name="HQ"),
                     c.OpenAccount(at=T0, account=account, broker=broker, branch="001",
                                   name=account, trading_limit=10_000_000)]
    ids = []
    for i, (broker, account) in enumerate((("9A00", "A1"), ("9A00", "A2"), ("9B00", "B1"))):
        commands.append(c.PlaceOrder(at=T0 + 1 + i, broker=broker, account=account, user="u",
                                     client_ref=f"r{i}", symbol="2330", side=Side.BUY,
                                     qty=2000, price=7470))
    for seq, command in enumerate(commands, 1):
        events = state.apply(seq, command)
        if isinstance(command, c.PlaceOrder):
            ids.append(events[0].order_id)
    seq = len(commands)
    for n, order_id in enumerate(ids):
        for command in (c.MarkSent(at=T0 + 10, order_id=order_id, line="L"),
                        c.ExchangeAccepted(at=T0 + 20, order_id=order_id,
                                           exchange_order_id=100 + n),
                        c.ExchangeFilled(at=T0 + 30, order_id=order_id, exec_id=f"X{n}",
                                         price=7460, qty=1000)):
            seq += 1
            state.apply(seq, command)
    return state, ids


def test_orders_of_when_broker_given_then_only_its_orders_in_entry_order():
    state, ids = _state()
    assert [o.order_id for o in orders_of(state, "9A00")] == ids[:2]
    assert [o.order_id for o in orders_of(state, "9A00", "A2")] == [ids[1]]
    assert orders_of(state, "9A00", "B1") == []  # another broker's account: nothing


def test_acknowledgements_and_fills_when_queried_then_exact_records_of_that_broker():
    state, ids = _state()
    assert acknowledgements_of(state, "9B00") == [Acknowledgement(ids[2], "B1", 102, T0 + 20)]
    assert fills_of(state, "9A00", "A1") == [FillRecord(ids[0], "A1", "X0", T0 + 30, 7460,
                                                        1000)]
    assert [f.order_id for f in fills_of(state, "9A00")] == ids[:2]
    assert fills_of(state, "9C00") == []
