"""The REST connection pool on a real PostgreSQL: waiting, first come first served, timeouts, broken connections
replaced, and no slot lost to a cancelled request."""

from __future__ import annotations

import asyncio

import pytest

from oncore_cli.local.gateway.pool import PoolTimeout, RestPool


def run(coro):
    return asyncio.run(coro)


def test_waiters_are_served_in_order_and_time_out(db_url):
    async def scenario():
        pool = RestPool(db_url, size=1, timeout=0.3)
        await pool.open()
        try:
            held = await pool.getconn()
            order: list[str] = []

            async def borrow(name: str):
                conn = await pool.getconn()
                order.append(name)
                pool.putconn(conn)

            first, second = asyncio.ensure_future(borrow("first")), asyncio.ensure_future(borrow("second"))
            await asyncio.sleep(0.05)
            assert order == []          # both wait: the only connection is taken
            pool.putconn(held)
            await asyncio.gather(first, second)
            assert order == ["first", "second"]

            held = await pool.getconn()
            with pytest.raises(PoolTimeout):
                await pool.getconn()
            pool.putconn(held)
            cursor = await (await pool.getconn()).execute("select 1")
            assert await cursor.fetchone() == (1,)
        finally:
            await pool.close()

    run(scenario())


def test_broken_connections_are_replaced(db_url):
    async def scenario():
        pool = RestPool(db_url, size=2, timeout=2)
        await pool.open()
        try:
            a, b = await pool.getconn(), await pool.getconn()
            waiter = asyncio.ensure_future(pool.getconn())
            await asyncio.sleep(0.05)
            await a.execute("begin")      # handed back mid-transaction: must not be reused
            pool.putconn(a)
            replacement = await waiter
            assert replacement is not a
            assert replacement.info.transaction_status.name == "IDLE"
            await b.close()               # handed back closed
            pool.putconn(b)
            pool.putconn(replacement)
            conns = [await pool.getconn(), await pool.getconn()]
            assert all(not c.closed for c in conns) and len({id(c) for c in conns}) == 2
            for conn in conns:
                assert await (await conn.execute("select 1")).fetchone() == (1,)
                pool.putconn(conn)
            assert pool._count == 2
        finally:
            await pool.close()

    run(scenario())


def test_a_cancelled_waiter_loses_no_connection(db_url):
    async def scenario():
        pool = RestPool(db_url, size=1, timeout=2)
        await pool.open()
        try:
            held = await pool.getconn()
            waiter = asyncio.ensure_future(pool.getconn())
            await asyncio.sleep(0.05)
            waiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiter
            pool.putconn(held)
            again = await asyncio.wait_for(pool.getconn(), 1)
            assert again is held
            pool.putconn(again)
        finally:
            await pool.close()

    run(scenario())


def test_close_fails_waiters(db_url):
    async def scenario():
        pool = RestPool(db_url, size=1, timeout=5)
        await pool.open()
        held = await pool.getconn()
        waiter = asyncio.ensure_future(pool.getconn())
        await asyncio.sleep(0.05)
        await pool.close()
        with pytest.raises(PoolTimeout, match="closed"):
            await waiter
        await held.close()

    run(scenario())
