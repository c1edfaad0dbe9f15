"""A lean HTTP/1.1 keep-alive client for load generators.

A benchmark's client must cost less than the server it measures: on two cores, httpx spends
more CPU per request than the AP server does, so the bench measured its own client. This one
writes each request as one prepared byte string and reads the answer by its Content-Length --
all a JSON API over keep-alive needs, and nothing a general client does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class HttpError(Exception):
    """An answer this client cannot read (no Content-Length, a closed connection)."""


class KeepAliveConnection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 host: str) -> None:
        self._reader = reader
        self._writer = writer
        self._host = host

    @classmethod
    async def open(cls, host: str, port: int) -> KeepAliveConnection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, host)

    async def post(self, path: str, body: bytes, token: str) -> tuple[int, bytes]:
        """POST a JSON body; (status, response body)."""
        self._writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self._host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body)
        try:
            head = await self._reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as error:
            raise HttpError("the server closed the connection") from error
        status = int(head[9:12])
        marker = head.lower().find(b"\r\ncontent-length:")
        if marker < 0:
            raise HttpError(f"answer {status} without Content-Length")
        end = head.index(b"\r\n", marker + 2)
        length = int(head[marker + 17:end])
        return status, await self._reader.readexactly(length)

    async def close(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()


class ConnectionPool:
    """Connections lent to one request at a time."""

    def __init__(self) -> None:
        self._idle: asyncio.Queue[KeepAliveConnection] = asyncio.Queue()
        self._all: list[KeepAliveConnection] = []

    async def fill(self, host: str, port: int, size: int) -> None:
        for _ in range(size):
            connection = await KeepAliveConnection.open(host, port)
            self._all.append(connection)
            self._idle.put_nowait(connection)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[KeepAliveConnection]:
        connection = await self._idle.get()
        try:
            yield connection
        finally:
            self._idle.put_nowait(connection)

    async def close(self) -> None:
        for connection in self._all:
            await connection.close()
