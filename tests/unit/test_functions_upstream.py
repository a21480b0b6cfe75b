"""The gateway → worker hop (functions/upstream.py) against a real TCP server on loopback that answers with bytes
written for each case: kept-alive reuse, HEAD answers, bodies larger than the read buffer, a worker that dies."""

from __future__ import annotations

import asyncio

import pytest

from oncore_cli.local.gateway.functions.upstream import Pool, UpstreamClosed


async def _server(answer):
    """A server that reads one request head at a time and writes `await answer(request_head)` back."""
    connections = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                reply = await answer(head, writer)
                if reply is None:
                    writer.close()
                    return
                writer.write(reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], connections


async def _read(conn) -> bytes:
    status, _ = await conn.head()
    assert status == 200
    whole = conn.whole_body()
    if whole is not None:
        return whole
    return b"".join([chunk async for chunk in conn.body()])


def test_kept_alive_connection_is_reused_and_head_answers_end_at_their_headers():
    async def answer(head, writer):
        # a HEAD answer announces the GET body's length and sends none, as Deno.serve does
        return b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n" + (b"" if head.startswith(b"HEAD") else b"hello")

    async def main():
        server, port, connections = await _server(answer)
        pool = Pool(port)
        conn, reused = await pool.send("GET", b"/f", [b"x-a: 1\r\n"], b"")
        assert not reused and await _read(conn) == b"hello"
        conn, reused = await pool.send("HEAD", b"/f", [], b"")
        assert reused and await _read(conn) == b""   # complete without waiting for 5 bytes that never come
        conn, reused = await pool.send("POST", b"/f", [], b"{}")
        assert reused and await _read(conn) == b"hello"
        assert len(connections) == 1
        pool.close()
        server.close()

    asyncio.run(asyncio.wait_for(main(), 30))  # a hang fails rather than blocks the run


def test_a_large_chunked_body_arrives_whole_to_a_slow_reader():
    part = bytes(range(256)) * 1024  # 256 KiB per chunk, 8 chunks: past the pause threshold

    async def answer(head, writer):
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        for _ in range(8):
            writer.write(b"%x\r\n" % len(part) + part + b"\r\n")
            await writer.drain()
        return b"0\r\n\r\n"

    async def main():
        server, port, _ = await _server(answer)
        pool = Pool(port)
        conn, _ = await pool.send("GET", b"/big", [], b"")
        assert (await conn.head())[0] == 200
        received = []
        async for chunk in conn.body():
            received.append(chunk)
            await asyncio.sleep(0.001)  # a slow client: reading from the worker pauses meanwhile
        assert b"".join(received) == part * 8
        assert pool.idle == [conn]    # the answer was complete: kept for the next request
        pool.close()
        server.close()

    asyncio.run(asyncio.wait_for(main(), 30))  # a hang fails rather than blocks the run


def test_a_worker_that_dies_mid_body_or_closes_an_idle_connection():
    calls = 0

    async def answer(head, writer):
        nonlocal calls
        calls += 1
        if calls == 1:
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part")
            await writer.drain()
            return None  # closes: the body stays short
        return b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"

    async def main():
        server, port, connections = await _server(answer)
        pool = Pool(port)
        conn, _ = await pool.send("GET", b"/", [], b"")
        await conn.head()
        assert conn.whole_body() is None
        with pytest.raises(UpstreamClosed):
            async for _ in conn.body():
                pass
        conn, reused = await pool.send("GET", b"/", [], b"")
        assert not reused and await _read(conn) == b"ok"
        assert pool.idle == []        # `connection: close`: not kept
        assert len(connections) == 2
        server.close()

    asyncio.run(asyncio.wait_for(main(), 30))  # a hang fails rather than blocks the run
