"""A small HTTP/1.1 client for the gateway → worker hop: kept-alive connections to one worker, the response head
parsed by httptools (what uvicorn parses with), the body relayed as it arrives. A general client (httpx) costs more
per request than the function itself on loopback."""

from __future__ import annotations

import asyncio
from collections import deque

import httptools


class UpstreamClosed(Exception):
    """The worker closed the connection or died before a complete answer."""


class _Parser:
    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.status = 0
        self.head_done = False
        self.done = False
        self.keep_alive = False
        self.chunks: deque[bytes] = deque()
        self.p = httptools.HttpResponseParser(self)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.status = self.p.get_status_code()
        self.head_done = True

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        self.done = True
        self.keep_alive = self.p.should_keep_alive()


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, pool: "Pool") -> None:
        self.reader, self.writer, self.pool = reader, writer, pool
        self.parser = _Parser()

    async def _feed(self) -> None:
        data = await self.reader.read(65536)
        if not data:
            if self.parser.head_done and not self.parser.done:
                self.parser.p.feed_data(b"")  # let a read-until-close body end
            raise UpstreamClosed
        try:
            self.parser.p.feed_data(data)
        except httptools.HttpParserError as e:
            raise UpstreamClosed(str(e)) from e

    async def head(self) -> tuple[int, list[tuple[bytes, bytes]]]:
        while not self.parser.head_done:
            await self._feed()
        return self.parser.status, self.parser.headers

    async def body(self):
        """The body's chunks as they arrive; the connection goes back to the pool when the answer is complete."""
        parser = self.parser
        try:
            while True:
                while parser.chunks:
                    yield parser.chunks.popleft()
                if parser.done:
                    break
                await self._feed()
        except BaseException:
            self.close()
            raise
        if parser.keep_alive:
            self.parser = _Parser()
            self.pool.release(self)
        else:
            self.close()

    def close(self) -> None:
        self.writer.close()


class Pool:
    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[Connection] = []

    def release(self, conn: Connection) -> None:
        if len(self.idle) < 32:
            self.idle.append(conn)
        else:
            conn.close()

    async def send(self, method: str, target: str, headers: list[tuple[str, str]],
                   body: bytes) -> tuple[Connection, bool]:
        """Write the request on an idle connection, else a new one; returns (connection, reused). A reused
        connection may turn out closed by the worker meanwhile: the caller may send again on a new one."""
        head = [f"{method} {target} HTTP/1.1\r\nhost: 127.0.0.1:{self.port}\r\n"]
        head += [f"{name}: {value}\r\n" for name, value in headers]
        head.append(f"content-length: {len(body)}\r\n\r\n" if body or method not in ("GET", "HEAD", "OPTIONS")
                    else "\r\n")
        data = "".join(head).encode("latin-1") + body
        while self.idle:
            conn = self.idle.pop()
            if conn.writer.is_closing() or conn.reader.at_eof():
                conn.close()
                continue
            conn.writer.write(data)
            return conn, True
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        conn = Connection(reader, writer, self)
        writer.write(data)
        return conn, False

    def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()
