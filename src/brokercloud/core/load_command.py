"""``brokercloud load FILE``: journal a start-of-day file into the middle office and say what
was accepted and what was refused (with each refusal's code and sentence)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.console import Console

from brokercloud.codes import describe
from brokercloud.core.events import CommandRejected
from brokercloud.core.loader import read_start_of_day, to_commands
from brokercloud.core.sequencer import Core


def load(path: str, data_dir: str, console: Console | None = None) -> int:
    console = console or Console()
    try:
        commands = to_commands(read_start_of_day(path))
    except ValueError as error:
        console.print(f"[red]{error}[/red]")
        return 2
    core = Core(Path(data_dir))
    try:
        results = core.execute(commands)
    finally:
        core.close()
    refused = [(command, event) for command, events in zip(commands, results, strict=True)
               for event in events if isinstance(event, CommandRejected)]
    kinds = Counter(type(command).__name__ for command in commands)
    console.print(f"loaded {len(commands) - len(refused)} of {len(commands)} records into "
                  f"{data_dir}: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
    for command, event in refused:
        console.print(f"  refused {type(command).__name__}: [{int(event.code)}] "
                      f"{describe(event.code)}")
    return 1 if refused else 0
