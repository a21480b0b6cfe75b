"""One transaction per request, as PostgREST runs it (`MainTx.hs`, `Query/PreQuery.hs`): BEGIN, one statement that
sets the role and the request GUCs, the main statement, COMMIT. They travel in one pipeline (one round trip) when
the outcome cannot change the commit decision; otherwise the result is checked before COMMIT or ROLLBACK."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from oncore_cli.local.gateway.rest.auth import Identity
from oncore_cli.local.gateway.rest.errors import PostgRESTError, from_database

SEARCH_PATH = '"public", "extensions"'
_BEGIN_READ_ONLY = b"BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY"
_BEGIN = b"BEGIN ISOLATION LEVEL READ COMMITTED"
_setup_cache: dict[tuple[str, ...], bytes] = {}


@dataclass
class RequestContext:
    identity: Identity
    method: str
    path: str
    headers_json: str
    cookies_json: str
    role_settings: dict[str, str]
    extra_settings: dict[str, str] | None = None   # e.g. timezone from Prefer


def setup_statement(ctx: RequestContext) -> tuple[bytes, list[Any]]:
    """`select set_config(...), ...`: search_path, the role's own settings, role, claims and request GUCs."""
    settings = dict(ctx.role_settings)
    if ctx.extra_settings:
        settings.update(ctx.extra_settings)
    keys = tuple(settings)
    query = _setup_cache.get(keys)
    if query is None:
        calls = ["set_config('search_path', %s, true)"]
        calls += ["set_config(%s, %s, true)"] * len(keys)
        calls += ["set_config('role', %s, true)", "set_config('request.jwt.claims', %s, true)",
                  "set_config('request.method', %s, true)", "set_config('request.path', %s, true)",
                  "set_config('request.headers', %s, true)", "set_config('request.cookies', %s, true)"]
        query = ("select " + ", ".join(calls)).encode()
        _setup_cache[keys] = query
    params: list[Any] = [SEARCH_PATH]
    for key in keys:
        params += [key, settings[key]]
    params += [ctx.identity.role, ctx.identity.claims_json, ctx.method, ctx.path, ctx.headers_json,
               ctx.cookies_json]
    return query, params


Decision = Callable[[tuple], None]   # raises PostgRESTError to roll back


async def run(pool: AsyncConnectionPool, ctx: RequestContext, query: bytes | sql.Composable,
              params: dict[str, Any] | None, *, read_only: bool, decide: Decision | None = None) -> tuple:
    """Run the main statement in the request's transaction and return its single row."""
    setup, setup_params = setup_statement(ctx)
    try:
        async with pool.connection() as conn:
            try:
                async with conn.pipeline():
                    await conn.execute(_BEGIN_READ_ONLY if read_only else _BEGIN)
                    await conn.execute(setup, setup_params)
                    cur = conn.cursor()
                    await cur.execute(query, params)
                    if decide is None:
                        await conn.execute(b"COMMIT")
                row = await cur.fetchone()
                if decide is not None:
                    try:
                        decide(row)
                    except PostgRESTError:
                        await conn.execute(b"ROLLBACK")
                        raise
                    await conn.execute(b"COMMIT")
            except psycopg.Error:
                if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    await conn.rollback()
                raise
    except PoolTimeout:
        raise PostgRESTError(504, "PGRST003", "Timed out acquiring connection from connection pool.") from None
    except psycopg.OperationalError as e:
        if getattr(e, "sqlstate", None):
            raise from_database(e, ctx.identity.anonymous) from None
        raise PostgRESTError(503, "PGRST001", "Database client error. Retrying the connection.", str(e)) from None
    except psycopg.Error as e:
        raise from_database(e, ctx.identity.anonymous) from None
    return row


def headers_json(headers) -> str:
    return json.dumps({k: v for k, v in headers.items() if k != "cookie"}, separators=(",", ":"))


def cookies_json(cookies: dict[str, str]) -> str:
    return json.dumps(cookies, separators=(",", ":")) if cookies else "{}"
