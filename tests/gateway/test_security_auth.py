"""/auth/v1 under hostile input: bodies nested too deep, forged or misused tokens, and links whose redirect would
hand a session to another host."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from oncore_cli.local import mail
from oncore_cli.local.gateway.jwt import encode


@pytest.fixture
def auth(stack):
    with httpx.Client(base_url=f"{stack.api_url}/auth/v1", headers={"apikey": stack.anon_key}, timeout=30) as client:
        yield client


DEEP_ARRAY = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 50_000 + b"1" + b"}" * 50_000


@pytest.mark.parametrize("path", ["/signup", "/token?grant_type=password", "/otp", "/verify"])
@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["array", "object"])
def test_deeply_nested_json_body_is_400_bad_json(auth, path, body):
    response = auth.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "bad_json"
    assert auth.get("/health").status_code == 200


def _claims(**extra) -> dict:
    return {"role": "authenticated", "aud": "authenticated", "exp": int(time.time()) + 600, **extra}


@pytest.mark.parametrize("kind", ["alg_none", "wrong_secret", "hs512", "no_signature"])
def test_forged_tokens_are_refused_on_user_and_admin(auth, stack, kind):
    claims = _claims(sub=str(uuid.uuid4()), role="service_role")
    token = {
        "alg_none": "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.",
        "wrong_secret": encode(claims, "not-the-project-secret-" * 2),
        "hs512": __import__("jwt").encode(claims, stack.jwt_secret, algorithm="HS512"),
        "no_signature": encode(claims, stack.jwt_secret).rsplit(".", 1)[0] + ".",
    }[kind]
    for method, path in (("GET", "/user"), ("GET", "/admin/users")):
        response = auth.request(method, path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code in (401, 403), response.text
        assert response.json()["error_code"] in ("bad_jwt", "no_authorization")


@pytest.mark.parametrize("role", ["authenticated", "anon", "postgres", "supabase_auth_admin", "authenticator"])
def test_admin_endpoints_need_service_role(auth, stack, role):
    token = encode(_claims(sub=str(uuid.uuid4()), role=role), stack.jwt_secret)
    response = auth.get("/admin/users", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403 and response.json()["error_code"] == "not_admin"


def _last(stack, to: str) -> dict:
    messages = mail.list_messages(Path(stack.data_dir), to=to)
    assert messages, f"no mail to {to}"
    return messages[-1]


@pytest.mark.parametrize("target", ["https://attacker.example/steal", "//attacker.example/x",
                                    "javascript:alert(document.cookie)", "http://127.0.0.1.attacker.example/"])
def test_magic_link_never_redirects_a_session_to_a_foreign_host(auth, stack, unique, target):
    """GoTrue only redirects to the site URL's host or the allow list; anything else falls back to the site URL."""
    email = f"redirect-{unique}@example.com"
    assert auth.post("/otp", params={"redirect_to": target}, json={"email": email}).status_code == 200
    message = _last(stack, email)
    assert message["redirect_to"] == "http://127.0.0.1:3000"
    clicked = httpx.get(message["link"])
    assert clicked.status_code == 303
    assert urlsplit(clicked.headers["location"]).netloc == "127.0.0.1:3000"
    forged = httpx.get(f"{stack.auth_url}/verify", params={"type": "magiclink", "token": message["token_hash"],
                                                           "redirect_to": target})
    location = urlsplit(forged.headers["location"])
    assert forged.status_code == 303 and location.netloc == "127.0.0.1:3000"


@pytest.mark.parametrize("target", ["http://localhost:3000/welcome", "http://127.0.0.1:5173/cb",
                                    "http://[::1]:8080/x"])
def test_magic_link_redirects_to_local_hosts(auth, stack, unique, target):
    email = f"local-redirect-{unique}@example.com"
    assert auth.post("/otp", params={"redirect_to": target}, json={"email": email}).status_code == 200
    message = _last(stack, email)
    assert message["redirect_to"] == target
    clicked = httpx.get(message["link"])
    fragment = parse_qs(urlsplit(clicked.headers["location"]).fragment)
    assert clicked.headers["location"].startswith(target + "#") and fragment["token_type"] == ["bearer"]


def test_users_cannot_grant_themselves_a_role(auth, stack, unique):
    """`role` and `app_metadata` are the admin's; user metadata named `role` never becomes the token's role."""
    import jwt as pyjwt

    email = f"self-role-{unique}@example.com"
    escalate = {"role": "service_role", "app_metadata": {"role": "service_role"}, "data": {"role": "service_role"}}
    signed_up = auth.post("/signup", json={"email": email, "password": "s3cret-pw-1", **escalate})
    assert signed_up.status_code == 200, signed_up.text
    session = signed_up.json()
    claims = pyjwt.decode(session["access_token"], stack.jwt_secret, algorithms=["HS256"], audience="authenticated")
    assert claims["role"] == "authenticated" and claims["app_metadata"].get("role") is None
    bearer = {"Authorization": f"Bearer {session['access_token']}"}
    auth.put("/user", json={"role": "service_role", "data": {"role": "service_role"}}, headers=bearer)
    auth.put("/user", json={"app_metadata": {"role": "service_role"}}, headers=bearer)
    refreshed = auth.post("/token", params={"grant_type": "refresh_token"},
                          json={"refresh_token": session["refresh_token"]}).json()
    claims = pyjwt.decode(refreshed["access_token"], stack.jwt_secret, algorithms=["HS256"], audience="authenticated")
    assert claims["role"] == "authenticated" and claims["app_metadata"].get("role") is None
    admin_view = auth.get("/admin/users", headers={"Authorization": f"Bearer {refreshed['access_token']}"})
    assert admin_view.status_code == 403
