"""The exchange simulator as the platform's child process: started on ports it picks, reached
over real FIX and market data, stopped with its parent -- by a clean exit or by the parent's
death."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from brokercloud.cli import _parser
from brokercloud.exchange.child_process import command_line, exchange_process
from brokercloud.exchange.standalone import StandaloneOptions

from .test_fix_gateway import BUY, Client, order, run, vals
from .test_md_feed import receive, subscriber


def _options(tmp_path: Path, **changes: object) -> StandaloneOptions:
    return StandaloneOptions(data_dir=str(tmp_path / "exchange"), fix_port=0, md_port=0,
                             clock="simulated", speed=1.0, start="09:00",
                             trading_date="2026-11-25", **changes)  # type: ignore[arg-type]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie has ended, only not yet been reaped
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_command_line_when_parsed_by_the_cli_then_gives_back_every_option(tmp_path: Path):
    options = _options(tmp_path, host="127.0.0.2", seed=7, price_stabilization=False,
                       rate_limit=5, lines_per_broker=9, market_orders_per_s=3,
                       stop_with_stdin=True, registry="lines.json", log_level="ERROR")
    arguments = vars(_parser().parse_args(command_line(options)[3:]))
    assert arguments.pop("command") == "exchange"
    assert StandaloneOptions(**arguments) == options


def test_exchange_process_serves_fix_and_market_data_and_stops_with_the_block(tmp_path: Path):
    async def main() -> int:
        async with exchange_process(_options(tmp_path)) as endpoints:
            assert endpoints.pid != os.getpid() and _alive(endpoints.pid)
            member = Client(tmp_path, "T9A00A0", password="pw-9A00-0")
            try:
                await member.connect(endpoints.fix_port)
                member.send(b"D", order("C1", BUY, "1085.00", 2000))
                ack = await member.report("C1", "0")
                assert vals(ack, "39", "44", "151") == ("0", "1085.00", "2000")
                async with subscriber(endpoints.md_port, "2330") as md:
                    snapshot = await receive(md)
                    assert snapshot.bids == [(108500, 2000)]
                await member.close()
            finally:
                member.db.close()
        return endpoints.pid

    pid = asyncio.run(main())
    assert not _alive(pid)
    assert (tmp_path / "exchange" / "exchange.db").exists()  # its journal, closed cleanly


def test_exchange_process_that_cannot_start_is_an_error_naming_its_exit_code(tmp_path: Path):
    async def main() -> None:
        async with exchange_process(_options(tmp_path, registry=str(tmp_path / "none.json"))):
            raise AssertionError("an exchange without its line registry started")

    with pytest.raises(RuntimeError, match=r"did not start \(exit code 1\)"):
        run(main())


def test_exchange_process_that_dies_while_in_use_is_logged_as_an_error(
        tmp_path: Path, caplog: pytest.LogCaptureFixture):
    async def main() -> None:
        async with exchange_process(_options(tmp_path)) as endpoints:
            os.kill(endpoints.pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while not any("exited" in record.message for record in caplog.records):
                assert time.monotonic() < deadline, "nobody noticed the exchange died"
                await asyncio.sleep(0.05)

    with caplog.at_level("ERROR", logger="brokercloud.exchange.child"):
        asyncio.run(main())  # leaving the block after the death raises nothing
    assert [record.message for record in caplog.records] == [
        f"the exchange simulator exited (code {-signal.SIGKILL}) while the platform runs: "
        "its lines stay down until the platform is restarted"]


_PARENT = """
import asyncio, sys
from brokercloud.exchange.child_process import exchange_process
from brokercloud.exchange.standalone import StandaloneOptions

async def main():
    options = StandaloneOptions(data_dir=sys.argv[1], fix_port=0, md_port=0)
    async with exchange_process(options) as endpoints:
        print(endpoints.pid, flush=True)
        await asyncio.sleep(3600)

asyncio.run(main())
"""


def test_exchange_process_when_its_parent_is_killed_then_it_stops_too(tmp_path: Path):
    parent = subprocess.Popen([sys.executable, "-c", _PARENT, str(tmp_path / "exchange")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert _alive(child)
        parent.send_signal(signal.SIGKILL)  # no clean-up runs in the parent
        parent.wait(10)
        deadline = time.monotonic() + 15
        while _alive(child):
            assert time.monotonic() < deadline, "the exchange outlived its parent"
            time.sleep(0.05)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)
        parent.stdout.close()  # type: ignore[union-attr]
