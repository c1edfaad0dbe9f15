"""The load generator's HTTP client against a real socket: requests go out as HTTP/1.1 with the
token and body, answers are read by Content-Length on a kept-alive connection, and an answer it
cannot frame is an error, not a hang."""

from __future__ import annotations

import asyncio

import pytest

from brokercloud.bench.http_load import ConnectionPool, HttpError, KeepAliveConnection


async def _server(answers: list[bytes], seen: list[bytes]) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for answer in answers:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            seen.append(head + await reader.readexactly(length))
            writer.write(answer)
            await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


def test_post_when_two_requests_on_one_connection_then_both_answers_read_in_order() -> None:
    seen: list[bytes] = []

    async def scenario() -> list[tuple[int, bytes]]:
        server = await _server([b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}",
                                b"HTTP/1.1 422 Unprocessable\r\ncontent-length: 5\r\n\r\n[1,2]"],
                               seen)
        port = server.sockets[0].getsockname()[1]
        pool = ConnectionPool()
        await pool.fill("127.0.0.1", port, 1)
        answers = []
        for body in (b'{"a":1}', b'{"b":2}'):
            async with pool.connection() as connection:
                answers.append(await connection.post("/api/v1/orders", body, "tok"))
        await pool.close()
        server.close()
        return answers

    assert asyncio.run(scenario()) == [(201, b"{}"), (422, b"[1,2]")]
    assert seen[0].startswith(b"POST /api/v1/orders HTTP/1.1\r\n")
    assert b"\r\nAuthorization: Bearer tok\r\n" in seen[0]
    assert seen[0].endswith(b'\r\n\r\n{"a":1}')
    assert seen[1].endswith(b'\r\n\r\n{"b":2}')


@pytest.mark.parametrize("answer", [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                                    b""])
def test_post_when_answer_unframed_or_connection_closed_then_http_error(answer: bytes) -> None:
    async def scenario() -> None:
        server = await _server([answer], [])
        connection = await KeepAliveConnection.open("127.0.0.1",
                                                    server.sockets[0].getsockname()[1])
        try:
            with pytest.raises(HttpError):
                await connection.post("/x", b"{}", "tok")
        finally:
            await connection.close()
            server.close()

    asyncio.run(scenario())
