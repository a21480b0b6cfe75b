"""The REST API's connection pool: ready connections in a deque, waiters served first come, first served.

Every REST request borrows a connection for one round trip, so the borrow itself is on the hot path; psycopg_pool's
general machinery (conditions, per-client waiting objects, background workers) cost more than the request's own
Python. A connection returned broken or inside a transaction is dropped, and a replacement is opened on demand."""

from __future__ import annotations

import asyncio
from collections import deque

import psycopg
from psycopg import pq


class PoolTimeout(Exception):
    """No connection became available within the pool's timeout."""


class RestPool:
    def __init__(self, conninfo: str, size: int, timeout: float = 30.0) -> None:
        self.conninfo = conninfo
        self.size = size
        self.timeout = timeout
        self._idle: deque[psycopg.AsyncConnection] = deque()
        self._waiters: deque[asyncio.Future] = deque()
        self._count = 0        # connections open or being opened
        self._closed = False
        self._tasks: set[asyncio.Task] = set()   # closes and replacements in flight (kept from the GC)

    async def open(self) -> None:
        """Open every connection up front: a fixed-size pool never connects on the hot path."""
        for _ in range(self.size):
            self._count += 1
            try:
                self._idle.append(await self._connect())
            except BaseException:
                self._count -= 1
                raise

    async def close(self) -> None:
        self._closed = True
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(PoolTimeout("the pool is closed"))
        while self._idle:
            await self._idle.popleft().close()

    async def _connect(self) -> psycopg.AsyncConnection:
        return await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)

    async def getconn(self) -> psycopg.AsyncConnection:
        if self._idle:
            return self._idle.pop()   # the most recently used: its backend is the warmest
        if self._closed:
            raise PoolTimeout("the pool is closed")
        if self._count < self.size:
            self._count += 1
            try:
                return await self._connect()
            except BaseException:
                self._count -= 1
                raise
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        timer = loop.call_later(self.timeout, _expire, waiter)
        self._waiters.append(waiter)
        try:
            return await waiter
        except BaseException:
            # cancelled after a connection was handed over: give it back rather than lose it
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.putconn(waiter.result())
            raise
        finally:
            timer.cancel()

    def putconn(self, conn: psycopg.AsyncConnection) -> None:
        if self._closed or conn.closed or conn.pgconn.status != pq.ConnStatus.OK \
                or conn.info.transaction_status != pq.TransactionStatus.IDLE:
            self._count -= 1
            if not conn.closed:
                self._spawn(conn.close())
            if self._waiters and not self._closed:
                self._count += 1
                self._spawn(self._replace())
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        self._idle.append(conn)

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _replace(self) -> None:
        """A dropped connection's replacement, for the client waiting longest (which gets the error if it fails)."""
        try:
            conn = await self._connect()
        except Exception as e:
            self._count -= 1
            while self._waiters:
                waiter = self._waiters.popleft()
                if not waiter.done():
                    waiter.set_exception(e)
                    return
            return
        self.putconn(conn)


def _expire(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_exception(PoolTimeout("Timed out acquiring connection from connection pool."))
