"""`brokercloud serve`: the whole platform in one process, started, used, stopped and started
again with every order kept."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from brokercloud.backoffice.store import BackOffice
from brokercloud.core.journal import JournalFile
from brokercloud.core.snapshot import load_snapshot
from brokercloud.gateway.signing import load_key, new_nonce, sign
from brokercloud.gateway.stream import events_of
from brokercloud.platform import DEMO_BANK_BALANCE, DEMO_PASSWORD


def _start(data_dir: Path) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "brokercloud.cli", "serve", "--data-dir", str(data_dir),
         "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("READY"):
            return process, int(line.split()[1])
    raise AssertionError("serve did not start")


def _call(port: int, method: str, path: str, body: dict | None = None,
          token: str | None = None) -> dict | list:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json",
                 **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def _login(port: int, user: str) -> str:
    answer = _call(port, "POST", "/api/v1/sessions", {"user_id": user, "password": DEMO_PASSWORD})
    assert isinstance(answer, dict)
    return answer["token"]


def _signed_order(data_dir: Path) -> dict:
    """What an investor's software sends: the order signed with the key `serve` made for the
    demo investor, with the certificate the platform issued for it."""
    order = {"account": "10000001", "client_ref": "keep-me", "symbol": "2330", "side": 0,
             "qty": 1000, "price": 108500, "timestamp": int(time.time() * 1000),
             "nonce": new_nonce()}
    fields = {"action": "new", **{k: v for k, v in order.items()}, "order_type": 0, "tif": 0,
              "session": "regular", "credit": "cash"}
    key = load_key(data_dir / "keys" / "9a00-investor.pem")
    certificate = (data_dir / "keys" / "9a00-investor.crt").read_text()
    return {**order, "signature": sign(key, fields), "certificate": certificate}


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    if process.stdout is not None:
        process.stdout.close()


def test_serve_when_restarted_then_orders_kept_and_the_order_reached_the_exchange(
        tmp_path: Path):
    process, port = _start(tmp_path)
    try:
        token = _login(port, "9a00-investor")
        placed = _call(port, "POST", "/api/v1/orders", _signed_order(tmp_path), token)
        assert isinstance(placed, dict) and placed["state"] == "pending_send"
        deadline = time.monotonic() + 10
        state = placed["state"]
        while state in {"pending_send", "sent"}:
            assert time.monotonic() < deadline, "the order never reached the exchange"
            time.sleep(0.1)
            state = _call(port, "GET", f"/api/v1/orders/{placed['order_id']}", None,
                          token)["state"]  # type: ignore[index]
        assert state in ("acknowledged", "partially_filled", "filled")
    finally:
        _stop(process)
    state, seq = load_snapshot(tmp_path / "core")  # a clean stop leaves the whole day in one
    assert seq == JournalFile(tmp_path / "core" / "journal.bin").records > 0
    assert state.orders[placed["order_id"]].client_ref == "keep-me"
    process, port = _start(tmp_path)
    try:
        token = _login(port, "9a00-investor")
        orders = _call(port, "GET", "/api/v1/orders", None, token)
        assert [o["client_ref"] for o in orders] == ["keep-me"]  # type: ignore[index]
        assert orders[0]["order_id"] == placed["order_id"]  # type: ignore[index]
        other = _call(port, "GET", "/api/v1/orders", None, _login(port, "9b00-investor"))
        assert other == []
    finally:
        _stop(process)
    # the demo's investors have money for T+2, funded once (not again at the restart)
    office = BackOffice(tmp_path / "backoffice")
    assert office.ledger.accounts["10000001"].bank == DEMO_BANK_BALANCE
    assert [m.kind for m in office.ledger.cash_moves if m.account == "10000001"] == ["deposit"]
    office.close()


def test_serve_when_a_session_asks_for_quotes_then_the_feed_follows_that_symbol(tmp_path: Path):
    """``serve`` follows the exchange's market data for a symbol once a session asks for it."""
    from websockets.sync.client import connect  # noqa: PLC0415 (a test extra)

    process, port = _start(tmp_path)
    try:
        token = _login(port, "9a00-investor")
        with connect(f"ws://127.0.0.1:{port}/api/v1/stream?token={token}") as stream:
            stream.send(json.dumps({"op": "subscribe", "symbols": ["2330"]}))
            deadline = time.monotonic() + 10
            kinds: set[str] = set()
            while not kinds & {"quote", "snapshot"}:
                message = stream.recv(timeout=max(deadline - time.monotonic(), 0.01))
                kinds |= {event.get("type", "") for event in events_of(message)
                          if event.get("symbol") == "2330"}
    finally:
        _stop(process)


def test_serve_when_the_exchange_cannot_start_then_exits_1_saying_so_with_its_stores_closed(
        tmp_path: Path):
    (tmp_path / "exchange").write_text("not a directory")  # where the exchange keeps its journal
    process = subprocess.run(
        [sys.executable, "-m", "brokercloud.cli", "serve", "--data-dir", str(tmp_path),
         "--port", "0"], check=False, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert process.returncode == 1
    assert "the exchange simulator did not start (exit code 1); nothing was started" in (
        process.stderr)
    assert "READY" not in process.stdout
    state, seq = load_snapshot(tmp_path / "core")  # the core closed cleanly, in one snapshot
    assert seq == JournalFile(tmp_path / "core" / "journal.bin").records > 0
    assert state.brokers
