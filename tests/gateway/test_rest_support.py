"""Shared helpers for the /rest/v1 tests: users minted straight into auth.users (no dependency on /auth/v1),
supabase-py clients acting as them, and organizations created through the `create_organization` RPC."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import psycopg
from supabase import Client, create_client

from oncore_cli.local.gateway.jwt import encode


@dataclass(frozen=True)
class User:
    id: str
    email: str
    token: str


def make_user(stack, unique: str, *, exp_in: int = 3600) -> User:
    user_id = str(uuid.uuid4())
    email = f"rest-{unique}-{user_id[:6]}@example.test"
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        conn.execute("insert into auth.users (id, aud, role, email, email_confirmed_at) "
                     "values (%s, 'authenticated', 'authenticated', %s, now())", (user_id, email))
    return User(user_id, email, token_for(stack, user_id, exp_in=exp_in))


def token_for(stack, user_id: str, *, exp_in: int = 3600, role: str = "authenticated") -> str:
    return encode({"sub": user_id, "role": role, "aud": "authenticated", "exp": int(time.time()) + exp_in,
                   "session_id": str(uuid.uuid4()), "is_anonymous": False}, stack.jwt_secret)


def client_for(stack, user: User | None = None) -> Client:
    client = create_client(stack.api_url, stack.anon_key)
    if user is not None:
        client.postgrest.auth(user.token)
    return client


def make_org(client: Client, unique: str, label: str = "org") -> dict:
    return client.rpc("create_organization", {"name": f"Rest {label} {unique}", "slug": f"{label}-{unique}"}).execute().data


def rest_headers(stack, token: str | None = None, **extra: str) -> dict[str, str]:
    headers = {"apikey": stack.anon_key, "Authorization": f"Bearer {token or stack.anon_key}"}
    headers.update(extra)
    return headers


ERROR_KEYS = {"code", "message", "details", "hint"}


def assert_postgrest_error(response, status: int, code: str | None = None) -> dict:
    """The contract every /rest/v1 error honours: PostgREST's status and its four-key body, code a string."""
    assert response.status_code == status, response.text
    if response.request.method == "HEAD":
        return {}
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert isinstance(body["code"], str) and isinstance(body["message"], str)
    if code is not None:
        assert body["code"] == code, body
    assert "Traceback" not in response.text
    return body
