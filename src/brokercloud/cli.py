"""The ``brokercloud`` command."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from brokercloud.client import commands as client_commands

BENCHMARKS = {
    "matching": "brokercloud.bench.matching",
    "auction": "brokercloud.bench.auction",
    "fix": "brokercloud.bench.fix",
    "core": "brokercloud.bench.core",
    "replay": "brokercloud.bench.replay",
    "lines": "brokercloud.bench.lines",
    "api": "brokercloud.bench.api",
    "settlement": "brokercloud.bench.settlement",
    "booking": "brokercloud.bench.booking",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="brokercloud", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve", help="start the platform on loopback: exchange simulator, middle office, "
                      "shared lines and the AP server, with demo data")
    serve.add_argument("--data-dir", default="brokercloud-data")
    serve.add_argument("--port", type=int, default=8000, help="HTTP port of the AP server")
    serve.add_argument("--seed", type=int, default=1, help="the simulated market's seed")
    serve.add_argument("--lines-per-broker", type=int, default=2,
                       help="exchange lines each demo broker brings to the shared pool "
                            "(20 messages a second each)")
    simulate = commands.add_parser(
        "simulate", help="run whole trading days of the exchange simulator on its simulated "
                         "clock and print the closing board")
    simulate.add_argument("--seed", type=int, default=1, help="the day's random seed")
    simulate.add_argument("--rate", type=int, default=20,
                          help="simulated orders per second across all symbols")
    simulate.add_argument("--days", type=int, default=1,
                          help="simulated days to run, 0 = forever")
    exchange = commands.add_parser(
        "exchange", help="run the exchange simulator alone: FIX acceptor and market data feed")
    exchange.add_argument("--data-dir", default="brokercloud-data/exchange")
    exchange.add_argument("--host", default="127.0.0.1")
    exchange.add_argument("--fix-port", type=int, default=9878)
    exchange.add_argument("--md-port", type=int, default=9879)
    exchange.add_argument("--registry", default="",
                          help="line registry JSON file (default: demo lines)")
    exchange.add_argument("--clock", choices=("simulated", "wall"), default="simulated")
    exchange.add_argument("--speed", type=float, default=60.0,
                          help="simulated clock: how many times faster than real time")
    exchange.add_argument("--start", default="08:30", help="simulated clock: start time HH:MM")
    exchange.add_argument("--trading-date", default="", help="simulated clock: YYYY-MM-DD")
    exchange.add_argument("--seed", type=int, default=1)
    exchange.add_argument("--price-stabilization", action=argparse.BooleanOptionalAction,
                          default=True, help="TWSE's 3.5%% pause rule (default on)")
    exchange.add_argument("--rate-limit", type=int, default=None,
                          help="messages/s per line for every line (0 = off)")
    exchange.add_argument("--lines-per-broker", type=int, default=2,
                          help="demo registry: lines each demo broker brings")
    exchange.add_argument("--market-orders-per-s", type=int, default=0,
                          help="simulated other members' orders a second (0 = none)")
    exchange.add_argument("--stop-with-stdin", action=argparse.BooleanOptionalAction,
                          default=False,
                          help="stop when standard input ends (the starting process is gone)")
    exchange.add_argument("--log-level", choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                          default="INFO")
    office = commands.add_parser(
        "middle-office", help="run the core and the line pool against an exchange, placing a "
                              "deterministic order flow (resumes after a restart)")
    office.add_argument("--data-dir", default="brokercloud-data/middle-office")
    office.add_argument("--exchange-port", type=int, required=True)
    office.add_argument("--orders", type=int, default=10_000)
    office.add_argument("--line-rate", type=float, default=2_000)
    load = commands.add_parser("load", help="journal a start-of-day file into the middle office")
    load.add_argument("file", help="the start-of-day JSON file (format: brokercloud.core.loader)")
    load.add_argument("--data-dir", default="brokercloud-data/core")
    statement = commands.add_parser(
        "statement", help="write one account's monthly statement (對帳單) as a PDF from a "
                          "platform's data directory")
    statement.add_argument("account")
    statement.add_argument("--month", required=True, help="YYYY-MM")
    statement.add_argument("--data-dir", default="brokercloud-data",
                           help="the platform's data directory (serve --data-dir)")
    statement.add_argument("-o", "--output", required=True, help="the PDF file to write")
    bench = commands.add_parser("bench", help="run one benchmark; the last line is JSON")
    bench.add_argument("name", choices=sorted(BENCHMARKS))
    client_commands.add_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command in client_commands.COMMANDS:
        return client_commands.run(args)
    if args.command == "bench":
        importlib.import_module(BENCHMARKS[args.name]).run()
        return 0
    if args.command == "middle-office":
        from brokercloud import middle_office  # noqa: PLC0415

        return middle_office.main(middle_office.Options(
            data_dir=args.data_dir, exchange_port=args.exchange_port, orders=args.orders,
            line_rate=args.line_rate))
    if args.command == "load":
        from brokercloud.core.load_command import load  # noqa: PLC0415

        return load(args.file, args.data_dir)
    if args.command == "statement":
        from brokercloud.backoffice.statement_command import write_statement  # noqa: PLC0415

        return write_statement(args.account, args.month, args.data_dir, args.output)
    if args.command == "exchange":
        from brokercloud.exchange.standalone import StandaloneOptions, run  # noqa: PLC0415

        options = {k: v for k, v in vars(args).items() if k != "command"}
        return run(StandaloneOptions(**options))
    if args.command == "simulate":
        from brokercloud.simulate import simulate  # noqa: PLC0415

        return simulate(seed=args.seed, rate=args.rate, days=args.days)
    from brokercloud.platform import ServeOptions, serve  # noqa: PLC0415 (lean start-up)

    return serve(ServeOptions(data_dir=args.data_dir, http_port=args.port, seed=args.seed,
                              lines_per_broker=args.lines_per_broker))


if __name__ == "__main__":
    sys.exit(main())
