"""Run a request's statements in one libpq pipeline and one network round trip.

psycopg's pipeline flushes every `execute` on its own; on the hot path the request's statements (setup and
main query, each prepared once per connection) are instead queued with libpq's pipeline API, followed by a Sync,
sent with one flush and read back in one go. Values travel as bound parameters of unknown type, exactly as
psycopg sends `str` (PostgreSQL coerces them to the column's type)."""

from __future__ import annotations

import asyncio
import itertools
import re
import weakref
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg import pq

_PLACEHOLDER = re.compile(rb"%\((p\d+)\)s|%%")
_MAX_PREPARED = 256   # per connection; statements beyond that run unnamed
# Larger statements (a 1,000-item `or=`, say) are one-offs: caching them, here and as server-side prepared
# statements in every backend, would let a client fill memory with distinct query strings
MAX_CACHED_QUERY_BYTES = 16 * 1024
_prepared: "weakref.WeakKeyDictionary[Any, dict[bytes, bytes]]" = weakref.WeakKeyDictionary()
_converted: dict[bytes, tuple[bytes, tuple[str, ...]]] = {}
_names = itertools.count()


def to_positional(query: bytes) -> tuple[bytes, tuple[str, ...]]:
    """`... %(p0)s ... %%` → `... $1 ... %` plus the parameter names in `$n` order (cached per query text)."""
    hit = _converted.get(query)
    if hit is not None:
        return hit
    names: list[str] = []

    def replace(match: re.Match) -> bytes:
        if match.group(0) == b"%%":
            return b"%"
        name = match.group(1).decode()
        if name not in names:
            names.append(name)
        return b"$%d" % (names.index(name) + 1)

    result = (_PLACEHOLDER.sub(replace, query), tuple(names))
    if len(query) <= MAX_CACHED_QUERY_BYTES:
        if len(_converted) > 2048:
            _converted.clear()
        _converted[query] = result
    return result


def forget(conn: psycopg.AsyncConnection) -> None:
    """The server lost our prepared statements (DEALLOCATE ALL, DISCARD ALL): prepare again from scratch."""
    _prepared.pop(conn, None)


def encode_param(value: Any) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return b"true" if value else b"false"
    encoded = value if isinstance(value, bytes) else str(value).encode()
    if b"\x00" in encoded:
        # libpq ends a text parameter at its first NUL: refuse it as PostgreSQL refuses NUL in text, rather than
        # silently running the request with a truncated value
        raise pg_errors.CharacterNotInRepertoire('invalid byte sequence for encoding "UTF8": 0x00')
    return encoded


async def _wait(fd: int, write: bool) -> None:
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def ready() -> None:
        if not future.done():
            future.set_result(None)

    (loop.add_writer if write else loop.add_reader)(fd, ready)
    try:
        await future
    finally:
        (loop.remove_writer if write else loop.remove_reader)(fd)


async def pipeline(conn: psycopg.AsyncConnection, commands: list[tuple[bytes, list[Any]]]) -> list[pq.abc.PGresult]:
    """Send every (query, params) followed by one Sync; return the last result of each command.

    Raises the first error as psycopg would (the server then skips the remaining commands up to the Sync)."""
    pgconn = conn.pgconn
    prepared = _prepared.get(conn)
    if prepared is None:
        # psycopg's own automatic preparation would DEALLOCATE ALL after a rollback, taking ours with it
        conn.prepare_threshold = None
        prepared = _prepared[conn] = {}
    pending_names: list[bytes | None] = []
    encoded = [[encode_param(p) for p in params] for _, params in commands]   # may refuse a value: before sending
    pgconn.enter_pipeline_mode()
    try:
        for (query, _), values in zip(commands, encoded):
            name = prepared.get(query)
            new_name = None
            if name is None and len(prepared) < _MAX_PREPARED and len(query) <= MAX_CACHED_QUERY_BYTES:
                new_name = b"oncore_%d" % next(_names)
                pgconn.send_prepare(new_name, query)
                name = new_name
            if name is not None:
                pgconn.send_query_prepared(name, values)
            else:
                pgconn.send_query_params(query, values)
            pending_names.append(new_name)
        pgconn.pipeline_sync()
        fd = pgconn.socket
        while pgconn.flush() == 1:
            await _wait(fd, True)
        results = await _read_until_sync(pgconn, fd)
    finally:
        if pgconn.pipeline_status != pq.PipelineStatus.OFF:
            try:
                pgconn.exit_pipeline_mode()
            except psycopg.OperationalError:
                pass
    # results: per command [prepare result], [query result]; then PIPELINE_SYNC
    index = 0
    last: list[pq.abc.PGresult] = []
    error = None
    encoding = conn.info.encoding
    for (query, _), new_name in zip(commands, pending_names):
        if new_name is not None:
            prep = results[index]
            index += 1
            if prep.status == pq.ExecStatus.COMMAND_OK:
                prepared[query] = new_name
            elif error is None and prep.status == pq.ExecStatus.FATAL_ERROR:
                error = pg_errors.error_from_result(prep, encoding=encoding)
        res = results[index]
        index += 1
        if error is None and res.status == pq.ExecStatus.FATAL_ERROR:
            error = pg_errors.error_from_result(res, encoding=encoding)
        last.append(res)
    if error is not None:
        raise error
    return last


async def _read_until_sync(pgconn: pq.abc.PGconn, fd: int) -> list[pq.abc.PGresult]:
    results: list[pq.abc.PGresult] = []
    while True:
        pgconn.consume_input()
        while not pgconn.is_busy():
            res = pgconn.get_result()
            if res is None:   # the end of one command's results; the next command's may follow
                continue
            if res.status == pq.ExecStatus.PIPELINE_SYNC:
                return results
            results.append(res)
        await _wait(fd, False)


def row_values(res: pq.abc.PGresult) -> tuple:
    """The first row as text values (None for NULL); an empty tuple when there is no row."""
    if res.ntuples == 0:
        return ()
    return tuple(None if (v := res.get_value(0, i)) is None else v.decode() for i in range(res.nfields))
