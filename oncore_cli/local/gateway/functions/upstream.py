"""A small HTTP/1.1 client for the gateway → worker hop: kept-alive connections to one worker, each an asyncio
Protocol whose bytes go straight into httptools (what uvicorn parses with), the body relayed as it arrives. A
general client (httpx), or even asyncio's streams, cost more per request than the function itself on loopback."""

from __future__ import annotations

import asyncio
from collections import deque

import httptools

_HIGH_WATER = 256 * 1024   # bytes of a response held for a slow client before reading from the worker pauses
_LOW_WATER = 64 * 1024


class UpstreamClosed(Exception):
    """The worker closed the connection or died before a complete answer."""


class Connection(asyncio.Protocol):
    """One connection to a worker; one response at a time is parsed into status, headers and body chunks."""

    def __init__(self, pool: "Pool") -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._paused = False
        self._waiter: asyncio.Future | None = None
        self._reset()

    def _reset(self) -> None:
        self.no_body = False   # the answer to HEAD: its headers may announce a body that never comes
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_done = self.done = self.keep_alive = False
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.parser = httptools.HttpResponseParser(self)

    def request(self, data: bytes, no_body: bool) -> None:
        self.no_body = no_body
        self.transport.write(data)

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.close()
        if self.buffered > _HIGH_WATER and not self._paused and not self.closed:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> None:
        self.closed = True   # a body that ends with the connection is cut short: the worker is treated as gone
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._wake()

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.head_done = True
        if self.no_body:
            self.on_message_complete()

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        self.buffered += len(body)

    def on_message_complete(self) -> None:
        self.done = True
        self.keep_alive = self.parser.should_keep_alive()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def _more(self) -> None:
        if self.closed:
            raise UpstreamClosed
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    async def head(self) -> tuple[int, list[tuple[bytes, bytes]]]:
        while not self.head_done:
            await self._more()
        return self.status, self.headers

    def whole_body(self) -> bytes | None:
        """The body when the answer is already complete (a small answer comes in one read), else None."""
        if not self.done:
            return None
        body = b"".join(self.chunks)
        self._finish()
        return body

    async def body(self):
        """The body's chunks as they arrive; the connection goes back to the pool when the answer is complete."""
        try:
            while True:
                while self.chunks:
                    chunk = self.chunks.popleft()
                    self.buffered -= len(chunk)
                    if self._paused and self.buffered < _LOW_WATER:
                        self._paused = False
                        self.transport.resume_reading()
                    yield chunk
                if self.done:
                    break
                await self._more()
        except BaseException:
            self.close()
            raise
        self._finish()

    def _finish(self) -> None:
        if self.keep_alive and not self.closed:
            self._reset()
            self.pool.release(self)
        else:
            self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Pool:
    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[Connection] = []

    def release(self, conn: Connection) -> None:
        if len(self.idle) < 32:
            self.idle.append(conn)
        else:
            conn.close()

    async def send(self, method: str, target: bytes, headers: list[bytes], body: bytes) -> tuple[Connection, bool]:
        """Write the request (`headers`: `name: value\\r\\n` lines) on an idle connection, else a new one; returns
        (connection, reused). A reused connection may turn out closed by the worker meanwhile: the caller may send
        again on a new one."""
        length = b"content-length: %d\r\n" % len(body) if body or method not in ("GET", "HEAD", "OPTIONS") else b""
        data = b"".join((method.encode(), b" ", target, b" HTTP/1.1\r\nhost: 127.0.0.1:%d\r\n" % self.port,
                         *headers, length, b"\r\n", body))
        while self.idle:
            conn = self.idle.pop()
            if not conn.closed:
                conn.request(data, method == "HEAD")
                return conn, True
        _, conn = await asyncio.get_running_loop().create_connection(lambda: Connection(self), "127.0.0.1", self.port)
        conn.request(data, method == "HEAD")
        return conn, False

    def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()
