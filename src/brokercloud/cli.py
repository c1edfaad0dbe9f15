"""The ``brokercloud`` command."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

BENCHMARKS = {
    "matching": "brokercloud.bench.matching",
    "auction": "brokercloud.bench.auction",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="brokercloud", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve", help="start the platform (for now: the exchange simulator running a demo day)")
    serve.add_argument("--seed", type=int, default=1, help="the day's random seed")
    serve.add_argument("--rate", type=int, default=20,
                       help="simulated orders per second across all symbols")
    serve.add_argument("--days", type=int, default=1, help="simulated days to run, 0 = forever")
    bench = commands.add_parser("bench", help="run one benchmark; the last line is JSON")
    bench.add_argument("name", choices=sorted(BENCHMARKS))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "bench":
        importlib.import_module(BENCHMARKS[args.name]).run()
        return 0
    from brokercloud.demo import serve  # noqa: PLC0415 (keeps `bench` start-up lean)

    return serve(seed=args.seed, rate=args.rate, days=args.days)


if __name__ == "__main__":
    sys.exit(main())
