"""Crash recovery: the middle office is killed with SIGKILL at random points of a 10,000-order
flow, at least 20 times, and restarted each time against the same exchange. Afterwards no
acknowledged order is lost, none reached the exchange twice, and positions and reservations
equal a clean replay of the journal."""

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path

import msgspec

from brokercloud.core.sequencer import Core
from brokercloud.exchange.commands import NewOrder
from brokercloud.exchange.journal import Journal
from brokercloud.fix.store import open_database
from brokercloud.middle_office import state_digest

ORDERS = 10_000
MIN_KILLS = 20


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "brokercloud.cli", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def _exchange(tmp_path: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    process = _start(["exchange", "--data-dir", str(tmp_path / "exchange"), "--fix-port", "0",
                      "--md-port", "0", "--rate-limit", "0", "--start", "09:00", "--speed",
                      "1", "--trading-date", "2026-11-25", "--no-price-stabilization"], env)
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("READY"):
            return process, int(line.split()[1])
    raise AssertionError("exchange did not start")


def _run_office(tmp_path: Path, port: int, env: dict[str, str], kill_after: float | None
                ) -> tuple[list[tuple[str, str]], str | None]:
    """One life of the middle office: its acknowledgements, and its final digest if it
    finished before being killed."""
    process = _start(["middle-office", "--data-dir", str(tmp_path / "office"),
                      "--exchange-port", str(port), "--orders", str(ORDERS)], env)
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("READY"):
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if kill_after is not None and ready.wait(60):
        time.sleep(kill_after)
        process.send_signal(signal.SIGKILL)
    process.wait(120)
    reader.join(10)
    if process.stdout is not None:
        process.stdout.close()
    acks = [tuple(line.split()[1:3]) for line in lines if line.startswith("ACK ")]
    done = next((line[5:] for line in lines if line.startswith("DONE ")), None)
    return acks, done


def test_kill_9_at_random_points_then_nothing_lost_nothing_twice_state_equals_replay(
        tmp_path: Path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    exchange, port = _exchange(tmp_path, env)
    rng = random.Random(20261125)
    acked: list[tuple[str, str]] = []
    kills = 0
    digest = None
    try:
        while digest is None:
            kill_after = rng.uniform(0.05, 0.35) if kills < MIN_KILLS else None
            acks, digest = _run_office(tmp_path, port, env, kill_after)
            acked += acks
            kills += kill_after is not None and digest is None
    finally:
        exchange.send_signal(signal.SIGTERM)
        exchange.wait(20)
        if exchange.stdout is not None:
            exchange.stdout.close()
    assert kills >= MIN_KILLS

    # no acknowledged order lost: each client ref acknowledged once, and it is in the journal
    refs = Counter(ref for ref, _ in acked)
    assert max(refs.values()) == 1
    core = Core(tmp_path / "office" / "core")  # a clean replay of the whole journal
    replayed = state_digest(core.state)
    core.close()
    orders = replayed["orders"]
    for ref, order_id in acked:
        assert orders[order_id][0] == ref
    # a command journaled just before a kill was never acknowledged, yet it is kept
    assert sorted(ref for ref, *_ in orders.values()) == sorted(f"F{i}" for i in range(ORDERS))
    assert len(acked) >= ORDERS - MIN_KILLS * 2

    # every order finished and filled once
    assert {state for _, state, *_ in orders.values()} == {"filled"}
    assert all(len(fills) == 1 for *_, fills in orders.values())

    # none reached the exchange twice: one NewOrder per ClOrdID in the exchange's journal
    db = open_database(tmp_path / "exchange" / "exchange.db")
    sent = Counter(entry.command.cl_ord_id for entry in Journal(db, date(2026, 11, 25)).entries()
                   if isinstance(entry.command, NewOrder))
    db.close()
    assert set(sent) == set(orders) and max(sent.values()) == 1

    # the running state at the end equals a clean replay
    assert json.loads(digest) == json.loads(msgspec.json.encode(replayed))
