"""The admin users API with the service_role key, through supabase-py's `auth.admin` and raw httpx for headers."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from supabase import create_client
from supabase_auth.errors import AuthApiError


@pytest.fixture
def admin(stack):
    return create_client(stack.api_url, stack.service_role_key).auth.admin


@pytest.fixture
def http(stack):
    headers = {"apikey": stack.service_role_key, "Authorization": f"Bearer {stack.service_role_key}"}
    with httpx.Client(base_url=f"{stack.api_url}/auth/v1", headers=headers) as client:
        yield client


def test_create_get_update_delete(admin, stack, unique):
    email = f"admin-made-{unique}@example.com"
    created = admin.create_user({"email": email, "password": "s3cret-pw", "email_confirm": True,
                                 "user_metadata": {"name": "Bo", "tmp": 1}, "app_metadata": {"plan": "pro"}}).user
    assert created.email == email and created.email_confirmed_at is not None
    assert created.app_metadata == {"provider": "email", "providers": ["email"], "plan": "pro"}
    assert created.user_metadata == {"name": "Bo", "tmp": 1, "email_verified": True}
    assert admin.get_user_by_id(created.id).user.email == email

    updated = admin.update_user_by_id(created.id, {"user_metadata": {"tmp": None, "city": "Oslo"},
                                                   "app_metadata": {"plan": "free"}, "password": "n3w-password"}).user
    assert updated.user_metadata == {"name": "Bo", "city": "Oslo", "email_verified": True}
    assert updated.app_metadata["plan"] == "free"
    session = create_client(stack.api_url, stack.anon_key).auth.sign_in_with_password(
        {"email": email, "password": "n3w-password"}).session
    assert session.user.app_metadata["plan"] == "free"

    admin.delete_user(created.id)
    with pytest.raises(AuthApiError) as err:
        admin.get_user_by_id(created.id)
    assert err.value.status == 404 and err.value.code == "user_not_found"


def test_unconfirmed_admin_user_cannot_sign_in_until_confirmed(admin, stack, unique):
    email = f"unconfirmed-{unique}@example.com"
    user = admin.create_user({"email": email, "password": "s3cret-pw"}).user
    assert user.email_confirmed_at is None
    client = create_client(stack.api_url, stack.anon_key)
    with pytest.raises(AuthApiError) as err:
        client.auth.sign_in_with_password({"email": email, "password": "s3cret-pw"})
    assert err.value.status == 400 and err.value.code == "email_not_confirmed"
    admin.update_user_by_id(user.id, {"email_confirm": True})
    assert client.auth.sign_in_with_password({"email": email, "password": "s3cret-pw"}).session


def test_ban_blocks_sign_in_and_refresh(admin, stack, unique):
    email = f"banned-{unique}@example.com"
    user = admin.create_user({"email": email, "password": "s3cret-pw", "email_confirm": True}).user
    client = create_client(stack.api_url, stack.anon_key)
    session = client.auth.sign_in_with_password({"email": email, "password": "s3cret-pw"}).session
    banned = admin.update_user_by_id(user.id, {"ban_duration": "24h"}).user
    assert banned.banned_until is not None
    with pytest.raises(AuthApiError) as err:
        create_client(stack.api_url, stack.anon_key).auth.sign_in_with_password(
            {"email": email, "password": "s3cret-pw"})
    assert err.value.code == "user_banned"
    r = httpx.post(f"{stack.api_url}/auth/v1/token?grant_type=refresh_token", headers={"apikey": stack.anon_key},
                   json={"refresh_token": session.refresh_token})
    assert r.status_code == 400 and r.json()["error_code"] == "user_banned"
    admin.update_user_by_id(user.id, {"ban_duration": "none"})
    assert create_client(stack.api_url, stack.anon_key).auth.sign_in_with_password(
        {"email": email, "password": "s3cret-pw"}).session


def test_create_errors(admin, http, unique):
    email = f"dup-{unique}@example.com"
    admin.create_user({"email": email, "password": "s3cret-pw"})
    with pytest.raises(AuthApiError) as err:
        admin.create_user({"email": email.upper(), "password": "s3cret-pw"})
    assert err.value.status == 422 and err.value.code == "email_exists"
    r = http.post("/admin/users", json={"password": "s3cret-pw"})
    assert r.status_code == 400 and r.json()["error_code"] == "validation_failed"
    r = http.get("/admin/users/not-a-uuid")
    assert r.status_code == 404 and r.json()["msg"] == "user_id must be an UUID"
    r = http.put(f"/admin/users/{uuid.uuid4()}", json={"user_metadata": {}})
    assert r.status_code == 404 and r.json()["error_code"] == "user_not_found"


def test_list_users_pagination_and_headers(admin, http, unique):
    made = [admin.create_user({"email": f"page{i}-{unique}@example.com", "password": "s3cret-pw"}).user.id
            for i in range(3)]
    everyone = admin.list_users()  # supabase-py sends ?page=&per_page=
    assert set(made) <= {u.id for u in everyone}

    r = http.get("/admin/users", params={"page": "", "per_page": ""})
    assert r.status_code == 200 and r.json()["aud"] == "authenticated"
    total = int(r.headers["X-Total-Count"])
    assert total >= 3 and len(r.json()["users"]) == min(total, 50)

    r = http.get("/admin/users", params={"page": 1, "per_page": 2})
    assert len(r.json()["users"]) == 2 and int(r.headers["X-Total-Count"]) == total
    last = (total + 1) // 2
    assert r.headers["Link"] == (f'</admin/users?page=2&per_page=2>; rel="next", '
                                 f'</admin/users?page={last}&per_page=2>; rel="last"')
    r = http.get("/admin/users", params={"page": last, "per_page": 2})
    assert 'rel="next"' not in r.headers["Link"] and re.search(rf"page={last}&", r.headers["Link"])
    newest_first = http.get("/admin/users", params={"per_page": 3}).json()["users"]
    assert [u["id"] for u in newest_first] == made[::-1]
    r = http.get("/admin/users", params={"page": "x"})
    assert r.status_code == 400


def test_admin_routes_require_service_role(stack, unique):
    user_token = create_client(stack.api_url, stack.anon_key).auth.sign_up(
        {"email": f"notadmin-{unique}@example.com", "password": "s3cret-pw"}).session.access_token
    for token in (stack.anon_key, user_token):
        r = httpx.get(f"{stack.api_url}/auth/v1/admin/users",
                      headers={"apikey": stack.anon_key, "Authorization": f"Bearer {token}"})
        assert r.status_code == 403 and r.json()["error_code"] == "not_admin"
    r = httpx.get(f"{stack.api_url}/auth/v1/admin/users", headers={"apikey": stack.anon_key})
    assert r.status_code == 401 and r.json()["error_code"] == "no_authorization"
    with pytest.raises(AuthApiError) as err:
        create_client(stack.api_url, stack.anon_key).auth.admin.create_user({"email": f"x-{unique}@example.com"})
    assert err.value.status == 403 and err.value.code == "not_admin"


def test_generate_link_returns_a_usable_magic_link(admin, stack, unique):
    email = f"genlink-{unique}@example.com"
    admin.create_user({"email": email, "password": "s3cret-pw", "email_confirm": True})
    link = admin.generate_link({"type": "magiclink", "email": email})
    assert link.user.email == email and link.properties.verification_type == "magiclink"
    assert link.properties.hashed_token in link.properties.action_link and len(link.properties.email_otp) == 6
    res = create_client(stack.api_url, stack.anon_key).auth.verify_otp(
        {"token_hash": link.properties.hashed_token, "type": "magiclink"})
    assert res.user.email == email and res.session


def test_soft_delete_keeps_the_row_but_ends_sign_in(admin, stack, unique):
    email = f"soft-{unique}@example.com"
    user = admin.create_user({"email": email, "password": "s3cret-pw", "email_confirm": True}).user
    admin.delete_user(user.id, should_soft_delete=True)
    gone = admin.get_user_by_id(user.id).user
    assert gone.deleted_at is not None and gone.email == "" and gone.identities == []
    with pytest.raises(AuthApiError) as err:
        create_client(stack.api_url, stack.anon_key).auth.sign_in_with_password(
            {"email": email, "password": "s3cret-pw"})
    assert err.value.code == "invalid_credentials"
