"""SQL on the auth schema (users, identities, sessions, refresh tokens). Every value is a bound parameter."""

from __future__ import annotations

import secrets
import string
import uuid
from datetime import datetime, timezone
from typing import Any

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

NIL_UUID = uuid.UUID(int=0)  # GoTrue writes instance_id = uuid.Nil on every row
_ALPHANUMERIC = string.ascii_letters + string.digits


def cursor(conn):
    return conn.cursor(row_factory=dict_row)


def secure_alphanumeric(length: int) -> str:
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def now() -> datetime:
    return datetime.now(timezone.utc)


def is_banned(user: dict[str, Any]) -> bool:
    until = user.get("banned_until")
    return until is not None and until > now()


# -- users -----------------------------------------------------------------------------------------------------------

async def get_user(conn, user_id: uuid.UUID | str, *, lock: bool = False) -> dict[str, Any] | None:
    async with cursor(conn) as cur:
        await cur.execute("select * from auth.users where id = %s" + (" for update" if lock else ""), (str(user_id),))
        return await cur.fetchone()


async def get_user_by_email(conn, email: str) -> dict[str, Any] | None:
    async with cursor(conn) as cur:
        await cur.execute("select * from auth.users where instance_id = %s and lower(email) = lower(%s) "
                          "and aud = 'authenticated' and is_sso_user = false", (NIL_UUID, email))
        return await cur.fetchone()


async def email_taken(conn, email: str, except_user: uuid.UUID | None = None) -> bool:
    async with cursor(conn) as cur:
        await cur.execute("select 1 from auth.users where lower(email) = lower(%s) and id is distinct from %s",
                          (email, except_user))
        return await cur.fetchone() is not None


async def insert_user(conn, *, user_id: uuid.UUID, email: str | None, phone: str | None = None,
                      encrypted_password: str | None, app_metadata: dict, user_metadata: dict,
                      role: str = "authenticated", email_confirmed: bool = False, phone_confirmed: bool = False,
                      is_anonymous: bool = False, banned_until: datetime | None = None) -> dict[str, Any]:
    async with cursor(conn) as cur:
        await cur.execute(
            """insert into auth.users (instance_id, id, aud, role, email, phone, encrypted_password,
                 email_confirmed_at, phone_confirmed_at, raw_app_meta_data, raw_user_meta_data, is_anonymous,
                 banned_until, confirmation_token, recovery_token, email_change_token_new, email_change,
                 created_at, updated_at)
               values (%s, %s, 'authenticated', %s, %s, %s, %s,
                 case when %s then now() end, case when %s then now() end, %s, %s, %s, %s, '', '', '', '',
                 now(), now())
               returning *""",
            (NIL_UUID, user_id, role, email, phone, encrypted_password, email_confirmed, phone_confirmed,
             Jsonb(app_metadata), Jsonb(user_metadata), is_anonymous, banned_until))
        return await cur.fetchone()


async def update_user(conn, user_id: uuid.UUID | str, **columns: Any) -> dict[str, Any]:
    """Set the given columns (names come from this package only, never from a request) and bump updated_at."""
    from psycopg import sql

    assignments = [sql.SQL("{} = {}").format(sql.Identifier(name), sql.Placeholder()) for name in columns]
    assignments.append(sql.SQL("updated_at = now()"))
    values = [Jsonb(v) if isinstance(v, (dict, list)) else v for v in columns.values()]
    query = sql.SQL("update auth.users set {} where id = %s returning *").format(sql.SQL(", ").join(assignments))
    async with cursor(conn) as cur:
        await cur.execute(query, (*values, str(user_id)))
        return await cur.fetchone()


async def delete_user(conn, user_id: uuid.UUID) -> None:
    async with conn.cursor() as cur:
        # refresh_tokens.user_id is text (GoTrue's schema): remove them explicitly; sessions cascade
        await cur.execute("delete from auth.refresh_tokens where user_id = %s", (str(user_id),))
        await cur.execute("delete from auth.users where id = %s", (user_id,))


# -- identities ------------------------------------------------------------------------------------------------------

async def get_identities(conn, user_id: uuid.UUID | str) -> list[dict[str, Any]]:
    async with cursor(conn) as cur:
        await cur.execute("select * from auth.identities where user_id = %s order by created_at, id", (str(user_id),))
        return await cur.fetchall()


async def upsert_email_identity(conn, user_id: uuid.UUID, email: str, verified: bool) -> None:
    data = {"sub": str(user_id), "email": email, "email_verified": verified, "phone_verified": False}
    async with conn.cursor() as cur:
        await cur.execute(
            """insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at,
                 created_at, updated_at)
               values (%s, %s, %s, 'email', now(), now(), now())
               on conflict (provider_id, provider) do update
                 set identity_data = auth.identities.identity_data || excluded.identity_data, updated_at = now()""",
            (str(user_id), user_id, Jsonb(data)))


# -- sessions and refresh tokens -------------------------------------------------------------------------------------

# A session's `amr` claim, from its rows in auth.mfa_amr_claims (GoTrue keeps it there, not on the session)
_SESSION = """select s.*, coalesce((
      select jsonb_agg(jsonb_build_object('method', c.authentication_method,
                                          'timestamp', extract(epoch from c.updated_at)::bigint) order by c.updated_at)
      from auth.mfa_amr_claims c where c.session_id = s.id), '[]') as amr
    from auth.sessions s where s.id = %s"""


async def get_session(conn, session_id: uuid.UUID, *, lock: bool = False) -> dict[str, Any] | None:
    async with cursor(conn) as cur:
        await cur.execute(_SESSION + (" for update of s" if lock else ""), (session_id,))
        return await cur.fetchone()


async def create_session(conn, user_id: uuid.UUID, method: str, user_agent: str | None,
                         ip: str | None) -> dict[str, Any]:
    """A session (aal1) and its one `amr` claim, in the caller's transaction."""
    session_id = uuid.uuid4()
    async with cursor(conn) as cur:
        await cur.execute(
            """insert into auth.sessions (id, user_id, created_at, updated_at, aal, user_agent, ip)
               values (%s, %s, now(), now(), 'aal1', %s, %s)""", (session_id, user_id, user_agent, ip))
        await cur.execute(
            """insert into auth.mfa_amr_claims (id, session_id, created_at, updated_at, authentication_method)
               values (gen_random_uuid(), %s, now(), now(), %s)""", (session_id, method))
        await cur.execute(_SESSION, (session_id,))
        return await cur.fetchone()


async def insert_refresh_token(conn, user_id: uuid.UUID | str, session_id: uuid.UUID,
                               parent: str | None = None) -> dict[str, Any]:
    async with cursor(conn) as cur:
        await cur.execute(
            """insert into auth.refresh_tokens (instance_id, token, user_id, revoked, parent, session_id,
                 created_at, updated_at)
               values (%s, %s, %s, false, %s, %s, now(), now()) returning *""",
            (NIL_UUID, secure_alphanumeric(12), str(user_id), parent, session_id))
        return await cur.fetchone()


async def delete_sessions(conn, user_id: uuid.UUID, *, only: uuid.UUID | None = None,
                          keep: uuid.UUID | None = None) -> None:
    """Logout: delete sessions (their refresh tokens cascade), all of them, one (`only`) or all but one (`keep`)."""
    async with conn.cursor() as cur:
        if only is not None:
            await cur.execute("delete from auth.sessions where user_id = %s and id = %s", (user_id, only))
        else:
            await cur.execute("delete from auth.sessions where user_id = %s and id is distinct from %s",
                              (user_id, keep))
        if only is None and keep is None:
            await cur.execute("delete from auth.refresh_tokens where user_id = %s", (str(user_id),))
