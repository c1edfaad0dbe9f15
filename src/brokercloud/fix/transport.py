"""Starting FIX sessions over TCP: an acceptor server and an initiator connection."""

from __future__ import annotations

import asyncio

from brokercloud.fix.session import LOGON_TIMEOUT_S, FixSession, Resolver, SessionBinding


async def start_acceptor(host: str, port: int, resolver: Resolver,
                         logon_timeout: float = LOGON_TIMEOUT_S) -> asyncio.Server:
    """Listen for FIX initiators; each connection's Logon is resolved to a session, and a
    connection that sends none within ``logon_timeout`` seconds is closed."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: FixSession(resolver=resolver, logon_timeout=logon_timeout), host, port)


async def connect_initiator(host: str, port: int, binding: SessionBinding,
                            timeout: float = 5.0) -> FixSession:
    """Connect and log on; raises LogonRefusedError with the peer's reason if refused, and
    TimeoutError (after hanging up) if no Logon answers ours within ``timeout``."""
    loop = asyncio.get_running_loop()
    _, session = await loop.create_connection(
        lambda: FixSession(binding, initiator=True), host, port)
    try:
        await asyncio.wait_for(asyncio.shield(session.logged_on), timeout)
    except TimeoutError:
        session.disconnect()
        raise
    return session
