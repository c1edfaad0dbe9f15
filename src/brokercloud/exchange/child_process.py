"""The exchange simulator as a child process of the platform (``serve``).

The exchange is another system: in production the platform reaches it over the network and
shares no CPU with it. Run inside the platform's process, the simulator's matching, its FIX
sessions and its store took about a seventh of the one event-loop thread that serves every
order (``bench api``); as a child it runs on the other core, behind the same FIX connection.

The child is ``brokercloud exchange`` with ``--stop-with-stdin``: it stops when the platform
closes the pipe, and just as surely when the platform dies, so no simulator outlives its
platform. It runs in its own session, so a Ctrl-C at the terminal reaches only the platform,
which logs its lines out before it lets the exchange go.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator

import msgspec

from brokercloud.exchange.standalone import StandaloneOptions

log = logging.getLogger("brokercloud.exchange.child")

STOP_S = 10.0  # a clean stop commits the journal and logs the lines out well within this


class ExchangeStartError(RuntimeError):
    """The simulator ended before it said it was ready (its own error is on stderr)."""


class ExchangeEndpoints(msgspec.Struct, frozen=True):
    fix_port: int
    md_port: int
    pid: int  # the simulator's process


def command_line(options: StandaloneOptions) -> list[str]:
    """``brokercloud exchange`` with these options, every field spelled out."""
    arguments = [sys.executable, "-m", "brokercloud.cli", "exchange"]
    for field in msgspec.structs.fields(options):
        value = getattr(options, field.name)
        flag = "--" + field.name.replace("_", "-")
        if isinstance(value, bool):
            arguments.append(flag if value else "--no-" + flag[2:])
        elif value is not None:
            arguments += [flag, str(value)]
    return arguments


@contextlib.asynccontextmanager
async def exchange_process(options: StandaloneOptions) -> AsyncIterator[ExchangeEndpoints]:
    """The simulator started with ``options`` (ports 0: it picks them and says which), until
    the block ends."""
    child = await asyncio.create_subprocess_exec(
        *command_line(msgspec.structs.replace(options, stop_with_stdin=True)),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, start_new_session=True)
    assert child.stdin is not None and child.stdout is not None
    try:
        endpoints = await _ready(child.stdout, child.pid)
        if endpoints is None:
            raise ExchangeStartError(f"the exchange simulator did not start "
                                     f"(exit code {await child.wait()})")
        watching = asyncio.create_task(_watch(child))
        try:
            yield endpoints
        finally:
            watching.cancel()
    finally:
        await _stop(child)


async def _ready(stdout: asyncio.StreamReader, pid: int) -> ExchangeEndpoints | None:
    """The ports from the child's ``READY <fix> <md>`` line; None if it ended first."""
    while line := await stdout.readline():
        if line.startswith(b"READY"):
            _, fix_port, md_port = line.split()
            return ExchangeEndpoints(int(fix_port), int(md_port), pid)
    return None


async def _watch(child: asyncio.subprocess.Process) -> None:
    """Read what the child prints (a full pipe would block it) until it ends. An end before
    the platform let it go is an error for the operator to see: the lines stay down."""
    assert child.stdout is not None
    while await child.stdout.read(65536):
        continue
    code = await child.wait()
    log.error("the exchange simulator exited (code %s) while the platform runs: its lines "
              "stay down until the platform is restarted", code)


async def _stop(child: asyncio.subprocess.Process) -> None:
    assert child.stdin is not None
    if child.returncode is not None:  # it ended already (``_watch`` said so)
        return
    child.stdin.close()  # the child's signal to stop (``--stop-with-stdin``)
    try:
        code = await asyncio.wait_for(child.wait(), STOP_S)
    except TimeoutError:
        log.error("the exchange simulator did not stop within %s s; killed", STOP_S)
        child.kill()
        await child.wait()
        return
    if code != 0:
        log.error("the exchange simulator ended with exit code %s", code)
