"""/auth/v1 sign-up, password sign-in, anonymous sign-in and the user endpoints, through unmodified supabase-py
(sync and async) over real HTTP to the per-run stack; the issued JWT checked against PostgreSQL's auth.uid()."""

from __future__ import annotations

import json

import jwt as pyjwt
import psycopg
import pytest
from supabase import acreate_client, create_client
from supabase_auth.errors import AuthApiError, AuthWeakPasswordError


@pytest.fixture
def client(stack):
    return create_client(stack.api_url, stack.anon_key)


@pytest.fixture
def anyio_backend():
    return "asyncio"


def _claims(stack, token: str) -> dict:
    return pyjwt.decode(token, stack.jwt_secret, algorithms=["HS256"], audience="authenticated")


def test_sign_up_returns_a_session_with_gotrue_claims(client, stack, unique):
    email = f"Signup-{unique}@Example.com"
    res = client.auth.sign_up({"email": email, "password": "s3cret-pw", "options": {"data": {"name": "Ada"}}})
    user, session = res.user, res.session
    assert session is not None, "autoconfirm is on: sign-up signs in"
    assert user.email == email.lower()
    assert user.aud == "authenticated" and user.role == "authenticated" and not user.is_anonymous
    assert user.app_metadata == {"provider": "email", "providers": ["email"]}
    assert user.user_metadata == {"name": "Ada", "email_verified": True}
    assert user.email_confirmed_at is not None
    assert [i.provider for i in user.identities] == ["email"]
    assert user.identities[0].id == user.id and user.identities[0].identity_data["email"] == email.lower()
    assert session.token_type == "bearer" and 3500 < session.expires_in <= 3600

    claims = _claims(stack, session.access_token)
    assert list(claims)[:5] == ["iss", "sub", "aud", "exp", "iat"]
    assert claims["iss"] == f"{stack.api_url}/auth/v1"
    assert claims["sub"] == user.id and claims["role"] == "authenticated" and claims["aud"] == "authenticated"
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["email"] == email.lower() and claims["phone"] == ""
    assert claims["aal"] == "aal1" and claims["is_anonymous"] is False
    assert claims["amr"][0]["method"] == "password" and isinstance(claims["amr"][0]["timestamp"], int)
    assert claims["user_metadata"]["name"] == "Ada" and claims["app_metadata"]["provider"] == "email"
    assert claims["session_id"]


def test_sign_up_twice_is_user_already_exists(client, stack, unique):
    email = f"twice-{unique}@example.com"
    client.auth.sign_up({"email": email, "password": "s3cret-pw"})
    with pytest.raises(AuthApiError) as err:
        create_client(stack.api_url, stack.anon_key).auth.sign_up({"email": email, "password": "other-pw"})
    assert err.value.status == 422 and err.value.code == "user_already_exists"


def test_weak_password_is_refused_with_reasons(client, unique):
    with pytest.raises(AuthWeakPasswordError) as err:
        client.auth.sign_up({"email": f"weak-{unique}@example.com", "password": "123"})
    assert err.value.status == 422 and err.value.code == "weak_password" and err.value.reasons == ["length"]


def test_password_sign_in_and_wrong_password(client, stack, unique):
    email = f"signin-{unique}@example.com"
    client.auth.sign_up({"email": email, "password": "right-pw-1"})
    other = create_client(stack.api_url, stack.anon_key)
    res = other.auth.sign_in_with_password({"email": email.upper(), "password": "right-pw-1"})
    assert res.session and res.user.email == email and res.user.last_sign_in_at is not None
    assert other.auth.get_user().user.id == res.user.id
    for wrong in ({"email": email, "password": "wrong-pw-1"}, {"email": f"nobody-{unique}@example.com",
                                                                 "password": "right-pw-1"}):
        with pytest.raises(AuthApiError) as err:
            create_client(stack.api_url, stack.anon_key).auth.sign_in_with_password(wrong)
        assert err.value.status == 400 and err.value.code == "invalid_credentials"
        assert err.value.message == "Invalid login credentials"


def test_each_sign_in_is_its_own_session(client, stack, unique):
    email = f"sessions-{unique}@example.com"
    first = client.auth.sign_up({"email": email, "password": "s3cret-pw"}).session
    second = create_client(stack.api_url, stack.anon_key).auth.sign_in_with_password(
        {"email": email, "password": "s3cret-pw"}).session
    assert _claims(stack, first.access_token)["session_id"] != _claims(stack, second.access_token)["session_id"]
    assert first.refresh_token != second.refresh_token


def test_anonymous_sign_in_then_upgrade_with_email(client, stack, unique):
    res = client.auth.sign_in_anonymously({"options": {"data": {"venue": "Paradiso"}}})
    user = res.user
    assert user.is_anonymous and user.email == "" and user.identities == [] and user.app_metadata == {}
    claims = _claims(stack, res.session.access_token)
    assert claims["is_anonymous"] is True and claims["amr"][0]["method"] == "anonymous"

    with pytest.raises(AuthApiError) as err:  # a password needs an address first
        client.auth.update_user({"password": "anon-pw-1"})
    assert err.value.status == 422 and err.value.code == "validation_failed"

    email = f"upgraded-{unique}@example.com"
    upgraded = client.auth.update_user({"email": email, "password": "anon-pw-1"}).user
    assert upgraded.id == user.id and upgraded.email == email and not upgraded.is_anonymous
    assert upgraded.app_metadata["providers"] == ["email"] and [i.provider for i in upgraded.identities] == ["email"]
    again = create_client(stack.api_url, stack.anon_key).auth.sign_in_with_password(
        {"email": email, "password": "anon-pw-1"})
    assert again.user.id == user.id and again.user.user_metadata["venue"] == "Paradiso"


def test_update_user_merges_metadata_and_changes_password(client, stack, unique):
    email = f"update-{unique}@example.com"
    client.auth.sign_up({"email": email, "password": "first-pw-1", "options": {"data": {"a": 1, "b": 2}}})
    user = client.auth.update_user({"data": {"b": None, "c": {"d": 3}}}).user
    assert user.user_metadata == {"a": 1, "c": {"d": 3}, "email_verified": True}
    assert client.auth.get_user().user.user_metadata == user.user_metadata

    with pytest.raises(AuthApiError) as err:
        client.auth.update_user({"password": "first-pw-1"})
    assert err.value.status == 422 and err.value.code == "same_password"
    client.auth.update_user({"password": "second-pw-2"})
    fresh = create_client(stack.api_url, stack.anon_key)
    with pytest.raises(AuthApiError):
        fresh.auth.sign_in_with_password({"email": email, "password": "first-pw-1"})
    assert fresh.auth.sign_in_with_password({"email": email, "password": "second-pw-2"}).session


def test_update_user_refuses_app_metadata_and_taken_email(client, stack, unique):
    taken = f"taken-{unique}@example.com"
    create_client(stack.api_url, stack.anon_key).auth.sign_up({"email": taken, "password": "s3cret-pw"})
    client.auth.sign_up({"email": f"mover-{unique}@example.com", "password": "s3cret-pw"})
    with pytest.raises(AuthApiError) as err:
        client.auth.update_user({"email": taken})
    assert err.value.status == 422 and err.value.code == "email_exists"
    token = client.auth.get_session().access_token
    import httpx

    r = httpx.put(f"{stack.api_url}/auth/v1/user", json={"app_metadata": {"role": "admin"}},
                  headers={"apikey": stack.anon_key, "Authorization": f"Bearer {token}"})
    assert r.status_code == 403 and r.json()["error_code"] == "not_admin"


def test_issued_token_drives_auth_uid_under_rls(client, stack, db_url, unique):
    """PostgREST sets request.jwt.claims from the token and switches role; auth.uid() and RLS then see the user."""
    res = client.auth.sign_up({"email": f"rls-{unique}@example.com", "password": "s3cret-pw"})
    claims = _claims(stack, res.session.access_token)
    with psycopg.connect(db_url) as conn:
        conn.execute("create temp table owned (owner uuid not null, note text)")
        conn.execute("alter table owned enable row level security")
        conn.execute("create policy own on owned using (owner = (select auth.uid()))")
        conn.execute("grant select on owned to authenticated")
        conn.execute("insert into owned values (%s, 'mine'), (gen_random_uuid(), 'theirs')", (res.user.id,))
        conn.execute(f"set local role {claims['role']}")
        conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
        uid, role, email = conn.execute("select auth.uid()::text, auth.role(), auth.email()").fetchone()
        assert (uid, role, email) == (res.user.id, "authenticated", res.user.email)
        assert conn.execute("select note from owned").fetchall() == [("mine",)]
        conn.rollback()


@pytest.mark.anyio
async def test_async_client_sign_up_sign_in_and_sign_out(stack, unique):
    client = await acreate_client(stack.api_url, stack.anon_key)
    email = f"async-{unique}@example.com"
    res = await client.auth.sign_up({"email": email, "password": "s3cret-pw"})
    assert res.session and res.user.email == email
    await client.auth.sign_out()
    assert await client.auth.get_session() is None
    res = await client.auth.sign_in_with_password({"email": email, "password": "s3cret-pw"})
    assert (await client.auth.get_user()).user.id == res.user.id
    refreshed = await client.auth.refresh_session()
    assert refreshed.session.refresh_token != res.session.refresh_token


@pytest.mark.anyio
async def test_async_client_anonymous_sign_in(stack):
    client = await acreate_client(stack.api_url, stack.anon_key)
    res = await client.auth.sign_in_anonymously()
    assert res.user.is_anonymous and res.session.user.id == res.user.id


def test_tokens_drive_rls_through_rest(stack, unique):
    """A session from /auth/v1 is what /rest/v1 sees: auth.uid() owns the org, another user sees nothing of it,
    and an anonymous (venue guest) token is refused by create_organization."""
    owner = create_client(stack.api_url, stack.anon_key)
    owner.auth.sign_up({"email": f"rest-owner-{unique}@example.com", "password": "s3cret-pw"})
    org = owner.rpc("create_organization", {"name": f"Org {unique}", "slug": f"org-{unique}"}).execute().data
    assert owner.table("organizations").select("id").eq("id", org["id"]).execute().data == [{"id": org["id"]}]

    stranger = create_client(stack.api_url, stack.anon_key)
    stranger.auth.sign_up({"email": f"rest-stranger-{unique}@example.com", "password": "s3cret-pw"})
    assert stranger.table("organizations").select("id").eq("id", org["id"]).execute().data == []

    guest = create_client(stack.api_url, stack.anon_key)
    guest.auth.sign_in_anonymously()
    from postgrest.exceptions import APIError

    with pytest.raises(APIError) as err:
        guest.rpc("create_organization", {"name": "Nope", "slug": f"nope-{unique}"}).execute()
    assert err.value.code == "42501"
