"""The start-of-day file and `brokercloud load`."""

import json
from pathlib import Path

import pytest

from brokercloud.cli import main
from brokercloud.codes import Code
from brokercloud.core import commands as c
from brokercloud.core.loader import read_start_of_day, to_commands
from brokercloud.core.sequencer import Core
from brokercloud.market.instruments import Disposition

DAY = {
    "as_of": "2026-11-25T08:00:00+08:00",
    "brokers": [{"broker": "9A00", "name": "Demo", "approval_bands": [[1000000, 1]],
                 "branches": [{"branch": "001", "name": "HQ"}],
                 "staff": [{"user": "chen", "role": "supervisor", "branch": "001",
                            "level": 2}]}],
    "accounts": [{"account": "12345678", "broker": "9A00", "branch": "001", "name": "Inv",
                  "margin": True, "trading_limit": 5000000, "credit_limit": 2000000,
                  "discount_bp": 6000, "holdings": {"2330": 5000}}],
    "instruments": [{"symbol": "2330", "name": "TSMC", "reference": 7470,
                     "previous_close": 7400, "margin_eligible": True},
                    {"symbol": "1314", "name": "China Petrochemical", "reference": 1020,
                     "disposition": 1}],
}


def _write(tmp_path: Path, day: dict) -> Path:
    path = tmp_path / "day.json"
    path.write_text(json.dumps(day))
    return path


def test_to_commands_when_file_complete_then_dependency_order_and_exact_fields(tmp_path):
    commands = to_commands(read_start_of_day(_write(tmp_path, DAY)))
    assert [type(x).__name__ for x in commands] == [
        "AddBroker", "AddBranch", "AddStaff", "ListInstrument", "ListInstrument",
        "OpenAccount", "SetHolding"]
    assert all(x.at == 1_795_564_800_000 for x in commands)  # 2026-11-25 00:00 UTC
    listed = commands[3]
    assert isinstance(listed, c.ListInstrument)
    assert (listed.reference, listed.previous_close, listed.instrument.margin_eligible) == (
        7470, 7400, True)
    assert commands[4].instrument.disposition is Disposition.FIRST
    opened = commands[5]
    assert isinstance(opened, c.OpenAccount)
    assert (opened.margin, opened.trading_limit, opened.credit_limit, opened.discount_bp) == (
        True, 5_000_000, 2_000_000, 6000)


def test_load_when_file_good_then_state_holds_it_after_reopen(tmp_path):
    data_dir = tmp_path / "core"
    assert main(["load", str(_write(tmp_path, DAY)), "--data-dir", str(data_dir)]) == 0
    core = Core(data_dir)
    account = core.state.accounts["12345678"]
    assert (account.holdings, account.fees.discount_bp, account.margin) == (
        {"2330": 5000}, 6000, True)
    assert core.state.brokers["9A00"].staff["chen"].level == 2
    assert core.replayed == 7
    core.close()


def test_load_when_a_record_is_inconsistent_then_refused_with_code_and_rest_loaded(
        tmp_path, capsys):
    day = json.loads(json.dumps(DAY))
    day["accounts"].append({"account": "87654321", "broker": "9A00", "branch": "999",
                            "name": "No such branch"})
    data_dir = tmp_path / "core"
    assert main(["load", str(_write(tmp_path, day)), "--data-dir", str(data_dir)]) == 1
    out = capsys.readouterr().out
    assert f"[{int(Code.INVALID_REFERENCE_DATA)}]" in out and "loaded 7 of 8" in out
    core = Core(data_dir)
    assert "87654321" not in core.state.accounts and "12345678" in core.state.accounts
    core.close()


@pytest.mark.parametrize("text", ['{"as_of": 5}', "not json", '{"as_of": "2026-11-25T08:00:00",'
                                                                ' "accounts": [{"account": 1}]}'])
def test_load_when_file_malformed_then_exit_2_and_nothing_journaled(tmp_path, capsys, text):
    path = tmp_path / "bad.json"
    path.write_text(text)
    data_dir = tmp_path / "core"
    assert main(["load", str(path), "--data-dir", str(data_dir)]) == 2
    assert "start-of-day file" in capsys.readouterr().out
    assert not (data_dir / "journal.bin").exists()


def test_read_start_of_day_when_missing_file_then_value_error_names_it(tmp_path):
    with pytest.raises(ValueError, match=r"nope\.json"):
        read_start_of_day(tmp_path / "nope.json")
