"""Who a Storage request runs as, and its transactions.

Storage connects as `supabase_storage_admin` (the owner of the storage tables) and, per request, switches to the
caller's role with the same setup statement PostgREST requests use (`rest/transaction.py`: `set_config('role')`,
`request.jwt.claims`, the request GUCs), plus Storage's own `storage.operation` and
`storage.allow_delete_query` — the setting that lets the API, and only the API, delete rows."""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import dataclass
from typing import Any, AsyncIterator

import jwt as pyjwt
import psycopg
from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request

from oncore_cli.local.gateway.rest import transaction
from oncore_cli.local.gateway.rest.auth import Identity
from oncore_cli.local.gateway.storage import errors

ADMIN_ROLE = "supabase_storage_admin"


@dataclass(frozen=True)
class Caller:
    identity: Identity
    sub: str | None

    @property
    def owner_uuid(self) -> str | None:
        """`objects.owner` is a uuid (deprecated): set only when `sub` is one; `owner_id` always carries `sub`."""
        try:
            return str(uuid.UUID(self.sub)) if self.sub else None
        except ValueError:
            return None

    @property
    def is_service(self) -> bool:
        return self.identity.role == "service_role"


def caller(request: Request, *, anon_ok: bool = False) -> Caller:
    """The verified JWT of `Authorization` (Kong fills it from `apikey` when absent). A bad token is Storage's
    AccessDenied (statusCode 403 in a 400), or the anon role on routes that allow anonymous reads."""
    header = request.headers.get("authorization")
    token = None
    if header:
        scheme, _, value = header.strip().partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else None
    elif request.headers.get("apikey"):
        token = request.headers["apikey"]
    try:
        if not token:
            raise errors.invalid_jwt("No authorization token was found")
        claims = verify_jwt(token, request.app.state.config.jwt_secret)
        role = claims.get("role") or "anon"
        if not isinstance(role, str):
            raise errors.invalid_jwt("Invalid role claim")
    except errors.StorageError as e:
        if anon_ok:
            return Caller(Identity("anon", json.dumps({"role": "anon"})), None)
        raise errors.access_denied(e.message) from None
    sub = claims.get("sub") if isinstance(claims.get("sub"), str) else None
    return Caller(Identity(role, json.dumps({**claims, "role": role}, separators=(",", ":"))), sub)


def verify_jwt(token: str, secret: str) -> dict:
    """HS256 verification as Storage's `jose` does it (no clock leeway), with jose's messages."""
    try:
        return pyjwt.decode(token, secret, algorithms=["HS256"], options={"verify_aud": False, "require": []})
    except pyjwt.ExpiredSignatureError:
        raise errors.invalid_jwt('"exp" claim timestamp check failed') from None
    except pyjwt.InvalidSignatureError:
        raise errors.invalid_jwt("signature verification failed") from None
    except pyjwt.PyJWTError:
        raise errors.invalid_jwt("Invalid Compact JWS") from None


class Tx:
    """A transaction on one connection; statements use `$n` placeholders (psycopg's raw cursor)."""

    def __init__(self, conn: psycopg.AsyncConnection) -> None:
        self.conn = conn

    async def rows(self, query: str, *params: Any) -> list[tuple]:
        cur = psycopg.AsyncRawCursor(self.conn)
        await cur.execute(query, params)
        return await cur.fetchall() if cur.description else []

    async def row(self, query: str, *params: Any) -> tuple | None:
        rows = await self.rows(query, *params)
        return rows[0] if rows else None


class Storage:
    """The connection pool and the request transactions."""

    def __init__(self, conninfo: str) -> None:
        self.pool = AsyncConnectionPool(conninfo, min_size=1, max_size=4, open=False, kwargs={"autocommit": True})

    async def open(self) -> None:
        await self.pool.open(wait=True, timeout=30)

    async def close(self) -> None:
        await self.pool.close()

    @contextlib.asynccontextmanager
    async def transaction(self, request: Request, who: Caller, operation: str, *, as_admin: bool = False,
                          rollback: bool = False, duplicate=errors.key_exists) -> AsyncIterator[Tx]:
        """One request transaction as the caller (RLS applies) or as the storage admin (it does not); `rollback`
        runs a permission test whose writes are undone, as Storage's `testPermission` does."""
        role = ADMIN_ROLE if as_admin else who.identity.role
        ctx = transaction.RequestContext(
            identity=Identity(role, who.identity.claims_json), method=request.method, path=request.url.path,
            headers_json=transaction.headers_json(request.headers), cookies_json="{}", role_settings={},
            extra_settings={"storage.operation": operation, "storage.allow_delete_query": "true",
                            "request.jwt.claim.sub": who.sub or "", "request.jwt.claim.role": who.identity.role})
        setup, params = transaction.setup_statement(ctx, read_only=False)
        try:
            async with self.pool.connection() as conn:
                try:
                    await conn.execute("BEGIN")
                    tx = Tx(conn)
                    await tx.rows(setup.decode(), *params)
                    yield tx
                    await conn.execute("ROLLBACK" if rollback else "COMMIT")
                except BaseException:
                    if not conn.closed and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                        await conn.execute("ROLLBACK")
                    raise
        except psycopg.errors.UniqueViolation:
            raise duplicate() from None
        except psycopg.Error as e:
            raise errors.from_database(e) from None
