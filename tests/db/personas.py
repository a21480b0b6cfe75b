"""Requests run the way Supabase runs them: a transaction with `set local role` and `request.jwt.claims`; users are
created in auth.users by the superuser, as GoTrue would."""

from __future__ import annotations

import json
import uuid
from contextlib import contextmanager

import psycopg

ANON = None  # persona id meaning "the anon role, no user"


def create_user(conn: psycopg.Connection, email: str | None = None, anonymous: bool = False,
                confirmed: bool = True) -> str:
    """Insert a user into auth.users as GoTrue would (as the superuser) and return its id. An address is confirmed
    unless `confirmed=False` (the project's GoTrue autoconfirms sign-ups)."""
    user_id = str(uuid.uuid4())
    conn.execute(
        "insert into auth.users (id, email, aud, role, is_anonymous, email_confirmed_at) "
        "values (%s, %s, 'authenticated', 'authenticated', %s, case when %s then now() end)",
        (user_id, email, anonymous, bool(email) and confirmed),
    )
    return user_id


def join(conn: psycopg.Connection, org: str, by: str, user_id: str, email: str, role: str = "member"):
    """`by` invites `email` to `org` with `role`, and the user accepts: returns the membership row."""
    call(conn, by, "select add_org_member(%s, %s, %s)", (org, email, role))
    return call(conn, user_id, "select * from accept_org_invitation(%s)", (org,))


def claims(user_id: str | None, anonymous: bool = False) -> dict:
    if user_id is None:
        return {"role": "anon"}
    return {"sub": user_id, "role": "authenticated", "aud": "authenticated", "is_anonymous": anonymous}


def enter(conn: psycopg.Connection, user_id: str | None, anonymous: bool = False) -> None:
    """Inside an open transaction: become the API role for `user_id` (None: anon) as PostgREST does."""
    conn.execute("select set_config('role', %s, true)", ("anon" if user_id is None else "authenticated",))
    conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims(user_id, anonymous)),))


@contextmanager
def request(conn: psycopg.Connection, user_id: str | None, anonymous: bool = False, commit: bool = False):
    """One API request as `user_id`: a transaction rolled back at the end unless `commit`."""
    with conn.transaction():
        enter(conn, user_id, anonymous)
        yield conn
        if not commit:
            raise psycopg.Rollback()


def call(conn: psycopg.Connection, user_id: str | None, sql: str, params=(), anonymous: bool = False,
         commit: bool = True):
    """Run one statement as `user_id` in its own request and return its first row (None if it returns none)."""
    with request(conn, user_id, anonymous=anonymous, commit=commit):
        cur = conn.execute(sql, params)
        return cur.fetchone() if cur.description else None




def call_all(conn: psycopg.Connection, user_id: str | None, sql: str, params=(), anonymous: bool = False):
    """Run one statement as `user_id` in its own (committed) request and return all rows."""
    with request(conn, user_id, anonymous=anonymous, commit=True):
        return conn.execute(sql, params).fetchall()
