"""The start-of-day file: brokers, branches, staff, accounts, holdings and the exchange's
instrument publication, as one JSON document turned into core commands (``brokercloud load``).

Format (every section optional; amounts in NT$, prices in NT$0.01, quantities in shares)::

    {"as_of": "2026-11-25T08:00:00+08:00",
     "brokers": [{"broker": "9A00", "name": "...", "commission_ppm": 1425, "min_fee": 20,
                  "daily_buy_limit": 0, "approval_bands": [[1000000, 1], [5000000, 2]],
                  "branches": [{"branch": "001", "name": "Head office"}],
                  "staff": [{"user": "chen", "role": "supervisor", "branch": "001", "level": 2}]}],
     "accounts": [{"account": "12345678", "broker": "9A00", "branch": "001", "name": "...",
                   "margin": true, "trading_limit": 5000000, "credit_limit": 2000000,
                   "discount_bp": 6000, "holdings": {"2330": 5000}}],
     "instruments": [{"symbol": "2330", "name": "TSMC", "reference": 7470,
                      "previous_close": 7470, "margin_eligible": true, ...}]}

Instrument entries take every ``Instrument`` field (market, kind, flags, disposition, limit_bp).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import msgspec

from brokercloud.core import commands as c
from brokercloud.market.instruments import Instrument


class BranchEntry(msgspec.Struct, frozen=True):
    branch: str
    name: str


class StaffEntry(msgspec.Struct, frozen=True):
    user: str
    role: c.Role
    branch: str = ""
    level: int = 0


class BrokerEntry(msgspec.Struct, frozen=True):
    broker: str
    name: str
    commission_ppm: int = 1425
    min_fee: int = 20
    daily_buy_limit: int = 0
    approval_bands: list[tuple[int, int]] = []
    approval_timeout_ms: int = 5 * 60 * 1000
    branches: list[BranchEntry] = []
    staff: list[StaffEntry] = []


class AccountEntry(msgspec.Struct, frozen=True):
    account: str
    broker: str
    branch: str
    name: str
    margin: bool = False
    trading_limit: int = 0
    credit_limit: int = 0
    discount_bp: int = 10_000
    day_trading: bool = False
    holdings: dict[str, int] = {}


class InstrumentEntry(Instrument, frozen=True, kw_only=True):
    reference: int
    previous_close: int = 0


class StartOfDay(msgspec.Struct, frozen=True):
    as_of: datetime
    brokers: list[BrokerEntry] = []
    accounts: list[AccountEntry] = []
    instruments: list[InstrumentEntry] = []


def read_start_of_day(path: str | Path) -> StartOfDay:
    """Parse and validate the file; a problem raises ``ValueError`` naming the file and field."""
    try:
        return msgspec.json.decode(Path(path).read_bytes(), type=StartOfDay)
    except (msgspec.ValidationError, msgspec.DecodeError, OSError) as error:
        raise ValueError(f"start-of-day file {path}: {error}") from error


def to_commands(day: StartOfDay) -> list[c.Cmd]:
    """Commands in dependency order: brokers, their branches and staff, instruments, accounts,
    holdings."""
    at = int(day.as_of.timestamp() * 1000)
    commands: list[c.Cmd] = []
    for broker in day.brokers:
        commands.append(c.AddBroker(
            at=at, broker=broker.broker, name=broker.name, commission_ppm=broker.commission_ppm,
            min_fee=broker.min_fee, daily_buy_limit=broker.daily_buy_limit,
            approval_bands=broker.approval_bands,
            approval_timeout_ms=broker.approval_timeout_ms))
        commands += [c.AddBranch(at=at, broker=broker.broker, branch=b.branch, name=b.name)
                     for b in broker.branches]
        commands += [c.AddStaff(at=at, broker=broker.broker, user=s.user, role=s.role,
                                branch=s.branch, level=s.level) for s in broker.staff]
    for entry in day.instruments:
        fields = {f: getattr(entry, f) for f in Instrument.__struct_fields__}
        commands.append(c.ListInstrument(at=at, instrument=Instrument(**fields),
                                         reference=entry.reference,
                                         previous_close=entry.previous_close))
    for account in day.accounts:
        commands.append(c.OpenAccount(
            at=at, account=account.account, broker=account.broker, branch=account.branch,
            name=account.name, margin=account.margin, trading_limit=account.trading_limit,
            credit_limit=account.credit_limit, discount_bp=account.discount_bp,
            day_trading=account.day_trading))
        commands += [c.SetHolding(at=at, account=account.account, symbol=symbol, shares=shares)
                     for symbol, shares in account.holdings.items()]
    return commands
