"""The ``brokercloud`` commands that talk to a running AP server through the SDK: ``login``,
``logout``, ``order``, ``orders``, ``fills``, ``positions``, ``cancel``, ``amend`` and
``settlements``.

``login`` saves the server address and the session token in ``session.json`` under
``~/.config/brokercloud`` (or the file ``$BROKERCLOUD_CONFIG`` names), readable by its owner
only, so the other commands need neither a password nor a URL. An investor's ``--key`` and
``--cert`` given to ``login`` are remembered too (their paths, never the key), so ``order``,
``cancel`` and ``amend`` are signed without naming them again. Refusals print the platform's
code and sentence and exit 1.
"""

from __future__ import annotations

import argparse
import datetime
import getpass
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

COMMANDS = ("login", "logout", "order", "orders", "fills", "positions", "cancel", "amend",
            "settlements")
BOARD_LOT = 1000
ORDER_ID_WIDTH = 17  # YYYYMMDD-nnnnnnnn


def add_parsers(commands: Any) -> None:
    """Add the client commands to ``brokercloud``'s subparsers."""
    login = commands.add_parser("login", help="log in to an AP server and remember the session")
    login.add_argument("user")
    login.add_argument("--url", default="http://127.0.0.1:8000", help="the AP server")
    login.add_argument("--password", help="default: asked for without echo")
    _signing_arguments(login, "remember for signing orders, cancels and amends")
    commands.add_parser("logout", help="end the saved session")
    order = commands.add_parser("order", help="place a limit order in board lots")
    order.add_argument("side", choices=("buy", "sell"))
    order.add_argument("symbol")
    order.add_argument("lots", type=int, help="board lots of 1,000 shares")
    order.add_argument("--price", required=True, help="NT$ as decimal text, e.g. 1085 or 76.2")
    order.add_argument("--account", help="default: the caller's only account")
    _signing_arguments(order, "sign the order with")
    for name, text in (("orders", "list orders"), ("fills", "list fills"),
                       ("positions", "today's positions per account and symbol")):
        listing = commands.add_parser(name, help=text)
        listing.add_argument("--account")
    cancel = commands.add_parser("cancel", help="cancel an order")
    cancel.add_argument("order_id")
    amend = commands.add_parser("amend", help="reduce an order's quantity or change its price")
    amend.add_argument("order_id")
    change = amend.add_mutually_exclusive_group(required=True)
    change.add_argument("--lots", type=int, help="the new total, in board lots (reduce only)")
    change.add_argument("--price", help="the new price, NT$ as decimal text")
    settlements = commands.add_parser(
        "settlements", help="unsettled net amounts per account and date, with totals")
    settlements.add_argument("--account")
    settlements.add_argument("--date", type=datetime.date.fromisoformat,
                             help="one settlement date, YYYY-MM-DD")
    for action in (cancel, amend):
        action.add_argument("--account", help="the order's account (saves a look-up)")
        _signing_arguments(action, f"sign the {action.prog.split()[-1]} with")


def _signing_arguments(parser: Any, purpose: str) -> None:
    parser.add_argument("--key", help=f"investor's private key (PEM) to {purpose}")
    parser.add_argument("--cert", help="the certificate the platform issued for that key")


def config_path() -> Path:
    return Path(os.environ.get("BROKERCLOUD_CONFIG")
                or Path.home() / ".config" / "brokercloud" / "session.json")


def _save_session(session: dict[str, str]) -> None:
    """Owner-only from creation: the token is as good as the password until it expires."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump(session, file)


class NotLoggedInError(Exception):
    """No saved session: `brokercloud login` first."""


def _session() -> dict[str, str]:
    try:
        return json.loads(config_path().read_text())
    except (OSError, ValueError):
        raise NotLoggedInError from None


def run(args: argparse.Namespace) -> int:
    """Run one client command; 0 on success, 1 on any refusal or failure, explained."""
    import httpx2  # noqa: PLC0415 (keeps `brokercloud serve` start-up lean)
    from rich.console import Console  # noqa: PLC0415

    from brokercloud.client import ApiError  # noqa: PLC0415

    console, errors = Console(), Console(stderr=True)
    try:
        return _HANDLERS[args.command](args, console)
    except ApiError as error:
        field = f" (field: {error.field})" if error.field else ""
        errors.print(f"[red]error {error.code}[/red]: {error.message}{field}")
    except NotLoggedInError:
        errors.print("[red]not logged in[/red]: run `brokercloud login USER --url URL` first")
    except httpx2.HTTPError as error:
        errors.print(f"[red]cannot reach the AP server[/red]: {error}")
    except (OSError, ValueError) as error:
        errors.print(f"[red]error[/red]: {error}")
    return 1


def _client(args: argparse.Namespace | None = None) -> Any:
    """The SDK on the saved session, signing with the ``--key``/``--cert`` given to this
    command, else with those remembered at login."""
    from brokercloud.client import Client  # noqa: PLC0415

    session = _session()
    key = getattr(args, "key", None) or session.get("key")
    cert = getattr(args, "cert", None) or session.get("cert")
    return Client(session["url"], token=session["token"], key_file=key, certificate_file=cert)


def _login(args: argparse.Namespace, console: Any) -> int:
    from brokercloud.client import Client  # noqa: PLC0415

    if (args.key is None) != (args.cert is None):
        raise ValueError("signing needs both --key and --cert")
    password = args.password if args.password is not None else getpass.getpass("Password: ")
    with Client(args.url) as api:
        result = api.login(args.user, password)
    session = {"url": args.url, "token": result.token}
    if args.key is not None:
        session |= {"key": str(Path(args.key).resolve()), "cert": str(Path(args.cert).resolve())}
    _save_session(session)
    console.print(f"logged in as {result.user_id} ({result.role}, broker {result.broker})")
    return 0


def _logout(_: argparse.Namespace, console: Any) -> int:
    with _client() as api:
        api.logout()
    config_path().unlink(missing_ok=True)
    console.print("logged out")
    return 0


def _order(args: argparse.Namespace, console: Any) -> int:
    from brokercloud.market.prices import parse_price  # noqa: PLC0415

    if args.lots <= 0:
        raise ValueError("lots must be positive")
    with _client(args) as api:
        account = args.account or _only_account(api)
        order = api.place_order(account, args.symbol, args.side, args.lots * BOARD_LOT,
                                parse_price(args.price))
    console.print(_orders_table([order], title="Order placed"))
    return 0


def _only_account(api: Any) -> str:
    """An investor with one account need not name it; anyone else must."""
    accounts = [account.account for account in api.accounts()]
    if len(accounts) != 1:
        raise ValueError(f"name the account with --account: you may trade for "
                         f"{len(accounts)} ({', '.join(accounts[:5])}"
                         f"{', ...' if len(accounts) > 5 else ''})")
    return accounts[0]


def _orders(args: argparse.Namespace, console: Any) -> int:
    with _client() as api:
        console.print(_orders_table(api.orders(args.account), title="Orders"))
    return 0


def _cancel(args: argparse.Namespace, console: Any) -> int:
    with _client(args) as api:
        order = api.cancel(args.order_id, account=args.account)
    console.print(_orders_table([order], title="Cancel requested"))
    return 0


def _amend(args: argparse.Namespace, console: Any) -> int:
    from brokercloud.market.prices import parse_price  # noqa: PLC0415

    if args.lots is not None and args.lots <= 0:
        raise ValueError("lots must be positive")
    qty = args.lots * BOARD_LOT if args.lots is not None else None
    price = parse_price(args.price) if args.price is not None else None
    with _client(args) as api:
        order = api.amend(args.order_id, qty=qty, price=price, account=args.account)
    console.print(_orders_table([order], title="Amend requested"))
    return 0


def _fills(args: argparse.Namespace, console: Any) -> int:
    from rich.table import Table  # noqa: PLC0415

    from brokercloud.market.prices import format_price  # noqa: PLC0415

    with _client() as api:
        fills = api.fills(args.account)
    table = Table(title="Fills")
    for column in ("time", "order id", "account", "exec id", "price", "shares"):
        table.add_column(column, justify="right" if column in ("price", "shares") else "left")
    for fill in fills:
        at = datetime.datetime.fromtimestamp(fill.at / 1000).strftime("%H:%M:%S")
        table.add_row(at, fill.order_id, fill.account, fill.exec_id, format_price(fill.price),
                      f"{fill.qty:,}")
    console.print(table)
    return 0


def _settlements(args: argparse.Namespace, console: Any) -> int:
    """Each account's net per trade date, then the total per settlement date (a salesperson's
    net settlement across its customers). Net > 0: the broker pays the investor."""
    from rich.table import Table  # noqa: PLC0415

    with _client() as api:
        result = api.settlements(args.account, args.date)
    table = Table(title="Settlement amounts (NT$)")
    for column in ("account", "trade date", "settles", "receivable", "payable", "net",
                   "fills"):
        table.add_column(column, justify="left" if column == "account" else "right",
                         no_wrap=True)
    for amount in result.amounts:
        table.add_row(amount.account, *_amount_cells(amount))
    table.add_section()
    for total in result.totals:
        table.add_row(f"total ({total.accounts} accounts)", *_amount_cells(total))
    console.print(table)
    return 0


def _positions(args: argparse.Namespace, console: Any) -> int:
    from rich.table import Table  # noqa: PLC0415

    with _client() as api:
        positions = api.positions(args.account)
    table = Table(title="Positions (shares)")
    table.add_column("account")
    table.add_column("symbol")
    for column in ("holding", "bought", "sold", "position", "open sell"):
        table.add_column(column, justify="right")
    for item in positions:
        table.add_row(item.account, item.symbol, *(f"{shares:,}" for shares in (
            item.holding, item.bought, item.sold, item.position, item.open_sell)))
    console.print(table)
    return 0


def _amount_cells(row: Any) -> tuple[str, ...]:
    return (row.trade_date.isoformat(), row.settle_date.isoformat(), f"{row.receivable:,}",
            f"{row.payable:,}", f"{row.net:,}", f"{row.fills:,}")


def _orders_table(orders: list[Any], title: str) -> Any:
    from rich.table import Table  # noqa: PLC0415

    from brokercloud.market.prices import format_price  # noqa: PLC0415

    table = Table(title=title)
    for column in ("order id", "account", "symbol", "side", "shares", "price", "state",
                   "filled", "open"):
        right = column in ("shares", "price", "filled", "open")
        # the order ID in full, however narrow the terminal: people copy it to cancel or amend
        table.add_column(column, justify="right" if right else "left", no_wrap=True,
                         min_width=ORDER_ID_WIDTH if column == "order id" else None)
    for order in orders:
        table.add_row(order.order_id, order.account, order.symbol, order.side.name.lower(),
                      f"{order.qty:,}", format_price(order.price) if order.price else "market",
                      order.state, f"{order.cum_qty:,}", f"{order.leaves:,}")
    return table


_HANDLERS: dict[str, Callable[[argparse.Namespace, Any], int]] = {
    "login": _login, "logout": _logout, "order": _order, "orders": _orders,
    "fills": _fills, "positions": _positions, "cancel": _cancel, "amend": _amend,
    "settlements": _settlements}
