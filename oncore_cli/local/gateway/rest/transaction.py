"""One transaction per request, as PostgREST runs it (`MainTx.hs`, `Query/PreQuery.hs`): one statement that sets
the role and the request GUCs, then the main statement.

Reads and other requests whose outcome cannot change the commit decision send both statements in one pipeline
without BEGIN: the extended protocol runs everything before the Sync in one implicit transaction, committed at
the Sync or rolled back on error, so the request costs one round trip. Mutations that must be checked first
(single object, max-affected) open the transaction explicitly and COMMIT or ROLLBACK after the check."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

import psycopg

from oncore_cli.local.gateway.pool import PoolTimeout, RestPool
from oncore_cli.local.gateway.rest import wire
from oncore_cli.local.gateway.rest.auth import Identity
from oncore_cli.local.gateway.rest.errors import PostgRESTError, from_database

SEARCH_PATH = '"public", "extensions"'
_BEGIN = b"BEGIN ISOLATION LEVEL READ COMMITTED"
# What the request's functions asked for (PostgREST reads these GUCs after the main statement).
_RESPONSE_GUCS = b"select current_setting('response.status', true), current_setting('response.headers', true)"
_setup_cache: dict[tuple[str, ...], bytes] = {}
_HEADERS_CACHE_SIZE = 64   # header blocks are capped at 64 KiB by the gateway: at most 4 MiB kept
_headers_json: dict[tuple, str] = {}


@dataclass
class RequestContext:
    identity: Identity
    method: str
    path: str
    headers_json: str
    cookies_json: str
    role_settings: dict[str, str]
    extra_settings: dict[str, str] | None = None   # e.g. timezone from Prefer


def setup_statement(ctx: RequestContext, read_only: bool) -> tuple[bytes, list[Any]]:
    """`select set_config(...), ...`: read-only mode, search_path, the role's own settings (ALTER ROLE ... SET),
    role, claims and the request GUCs, all local to the transaction."""
    settings = {"transaction_read_only": "on"} if read_only else {}
    settings.update(ctx.role_settings)
    if ctx.extra_settings:
        settings.update(ctx.extra_settings)
    keys = tuple(settings)
    query = _setup_cache.get(keys)
    count = 2 * len(keys) + 7
    if query is None:
        calls = ["set_config('search_path', $1, true)"]
        calls += [f"set_config(${2 + 2 * i}, ${3 + 2 * i}, true)" for i in range(len(keys))]
        names = ["role", "request.jwt.claims", "request.method", "request.path", "request.headers",
                 "request.cookies"]
        calls += [f"set_config('{name}', ${count - len(names) + 1 + i}, true)" for i, name in enumerate(names)]
        query = ("select " + ", ".join(calls)).encode()
        _setup_cache[keys] = query
    params: list[Any] = [SEARCH_PATH]
    for key in keys:
        params += [key, settings[key]]
    params += [ctx.identity.role, ctx.identity.claims_json, ctx.method, ctx.path, ctx.headers_json,
               ctx.cookies_json]
    return query, params


Decision = Callable[[tuple], None]   # raises PostgRESTError to roll back


async def run(pool: RestPool, ctx: RequestContext, query: bytes, params: dict[str, Any], *,
              read_only: bool, decide: Decision | None = None, gucs_in_row: bool = False) -> tuple[tuple, tuple]:
    """Run the main statement in the request's transaction; return its first row as
    (total | None, page_total, body, *rest), and the (response.status, response.headers) GUCs."""
    setup, setup_params = setup_statement(ctx, read_only)
    main, names = wire.to_positional(query)
    commands = [(setup, setup_params), (main, [params[n] for n in names])]
    if not gucs_in_row:   # the main statement does not carry them as its last two columns: ask separately
        commands.append((_RESPONSE_GUCS, []))
    if decide is not None:
        commands.insert(0, (_BEGIN, []))
    try:
        conn = await pool.getconn()
        try:
            try:
                results = await wire.pipeline(conn, commands)
            except psycopg.errors.InvalidSqlStatementName:
                wire.forget(conn)
                if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    await conn.rollback()
                results = await wire.pipeline(conn, commands)
            if gucs_in_row:
                values = wire.row_values(results[-1])
                row, gucs = _typed(values[:-2]), values[-2:]
            else:
                row, gucs = _typed(wire.row_values(results[-2])), wire.row_values(results[-1])
            if decide is not None:
                try:
                    decide(row)
                except PostgRESTError:
                    await wire.pipeline(conn, [(b"ROLLBACK", [])])
                    raise
                await wire.pipeline(conn, [(b"COMMIT", [])])
        except psycopg.Error:
            if not conn.closed and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                await conn.rollback()
            raise
        except BaseException:
            # cancelled mid-pipeline (client went away): the protocol state is unknown, drop the connection
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE or conn.pgconn.is_busy():
                await conn.close()
            raise
        finally:
            pool.putconn(conn)
    except PoolTimeout:
        raise PostgRESTError(504, "PGRST003", "Timed out acquiring connection from connection pool.") from None
    except psycopg.OperationalError as e:
        if getattr(e, "sqlstate", None):
            raise from_database(e, ctx.identity.anonymous) from None
        raise PostgRESTError(503, "PGRST001", "Database client error. Retrying the connection.", str(e)) from None
    except psycopg.Error as e:
        raise from_database(e, ctx.identity.anonymous) from None
    return row, gucs


async def run_statements(pool: RestPool, ctx: RequestContext, statements: list[tuple[bytes, list[Any]]]) -> list:
    """Read-only statements (`$n` placeholders) in one request transaction as `ctx`'s role and claims, one round
    trip; their results in order. Realtime asks this way which changed rows a subscriber may see."""
    setup, setup_params = setup_statement(ctx, True)
    conn = await pool.getconn()
    try:
        try:
            results = await wire.pipeline(conn, [(setup, setup_params), *statements])
        except psycopg.errors.InvalidSqlStatementName:
            wire.forget(conn)
            results = await wire.pipeline(conn, [(setup, setup_params), *statements])
    except BaseException:
        if not conn.closed and (conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
                                or conn.pgconn.is_busy()):
            await conn.close()
        raise
    finally:
        pool.putconn(conn)
    return results[1:]


def _typed(values: tuple) -> tuple:
    total, page_total, body, *rest = values
    return (int(total) if total is not None else None, int(page_total), body,
            *[(v == "t") if v in ("t", "f") else v for v in rest])


def headers_json(headers) -> str:
    """`request.headers` as JSON, cached by the raw header list: a client sends the same headers on every call."""
    key = tuple(headers.raw)
    text = _headers_json.get(key)
    if text is None:
        text = json.dumps({k: v for k, v in headers.items() if k != "cookie"}, separators=(",", ":"))
        if len(_headers_json) >= _HEADERS_CACHE_SIZE:
            _headers_json.clear()
        _headers_json[key] = text
    return text


def cookies_json(cookies: dict[str, str]) -> str:
    return json.dumps(cookies, separators=(",", ":")) if cookies else "{}"
