"""GoTrue's two error shapes (chosen by the request's X-Supabase-Api-Version), its headers, bad input that must
be a 4xx and never a 500, the apikey gate, /settings and /health."""

from __future__ import annotations

import httpx
import pytest
from supabase import create_client
from supabase_auth.errors import AuthApiError

NEW = {"X-Supabase-Api-Version": "2024-01-01"}


@pytest.fixture
def auth(stack):
    with httpx.Client(base_url=f"{stack.api_url}/auth/v1", headers={"apikey": stack.anon_key}) as http:
        yield http


def _wrong_password(auth, headers=None) -> httpx.Response:
    return auth.post("/token", params={"grant_type": "password"}, headers=headers,
                     json={"email": "nobody@example.com", "password": "whatever"})


def test_new_shape_when_the_request_asks_for_it(auth):
    r = _wrong_password(auth, NEW)
    assert r.status_code == 400
    assert r.json() == {"code": "invalid_credentials", "message": "Invalid login credentials"}
    assert r.headers["X-Supabase-Api-Version"] == "2024-01-01"
    assert r.headers["x-sb-error-code"] == "invalid_credentials"
    assert r.headers["content-type"].startswith("application/json")


def test_old_shape_otherwise(auth):
    for headers in (None, {"X-Supabase-Api-Version": "2023-05-01"}, {"X-Supabase-Api-Version": "garbage"}):
        r = _wrong_password(auth, headers)
        assert r.status_code == 400
        assert r.json() == {"code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials"}
        assert "X-Supabase-Api-Version" not in r.headers
        assert r.headers["x-sb-error-code"] == "invalid_credentials"


def test_supabase_py_reads_the_code_from_the_new_shape(stack):
    with pytest.raises(AuthApiError) as err:
        create_client(stack.api_url, stack.anon_key).auth.sign_in_with_password(
            {"email": "nobody@example.com", "password": "whatever"})
    assert (err.value.status, err.value.code, err.value.message) == (400, "invalid_credentials",
                                                                     "Invalid login credentials")


@pytest.mark.parametrize("path, kwargs", [
    ("/signup", {"content": b"{not json"}),
    ("/signup", {"content": b""}),
    ("/signup", {"content": b"[1, 2]"}),
    ("/signup", {"json": {"email": 42, "password": "s3cret-pw"}}),
    ("/signup", {"data": {"email": "form@example.com", "password": "s3cret-pw"}}),  # wrong content type
    ("/token?grant_type=password", {"content": b"\xff\xfe"}),
    ("/otp", {"json": {"email": "a@example.com", "data": "not an object"}}),
    ("/verify", {"content": b"true"}),
    ("/recover", {"json": {"email": ["list"]}}),
])
def test_bad_json_is_400_bad_json(auth, path, kwargs):
    r = auth.post(path, headers=NEW, **kwargs)
    assert r.status_code == 400 and r.json()["code"] == "bad_json", r.text
    assert r.json()["message"].startswith("Could not parse request body as JSON")


@pytest.mark.parametrize("grant", ["", "client_credentials", "password%00"])
def test_unknown_grant_type(auth, grant):
    r = auth.post(f"/token?grant_type={grant}", json={})
    assert r.status_code == 400 and r.json()["error_code"] == "invalid_credentials"
    assert r.json()["msg"] == "unsupported_grant_type"


@pytest.mark.parametrize("body, status, code", [
    ({"email": "not-an-email", "password": "s3cret-pw"}, 400, "validation_failed"),
    ({"email": "x" * 250 + "@example.com", "password": "s3cret-pw"}, 400, "validation_failed"),
    ({"email": "ok@example.com"}, 422, "validation_failed"),
    ({"email": "ok@example.com", "password": "p" * 73}, 422, "validation_failed"),
    ({"phone": "+4712345678", "password": "s3cret-pw"}, 400, "phone_provider_disabled"),
])
def test_signup_validation(auth, body, status, code):
    r = auth.post("/signup", json=body)
    assert r.status_code == status and r.json()["error_code"] == code, r.text


def test_json_null_body_means_no_fields(auth):
    r = auth.post("/verify", content=b"null")
    assert r.status_code == 400 and r.json()["msg"] == "Verify requires a verification type"


def test_password_grant_validation(auth):
    r = auth.post("/token?grant_type=password", json={"password": "x"})
    assert r.status_code == 400 and r.json()["error_code"] == "validation_failed"
    r = auth.post("/token?grant_type=password", json={"email": "a@b.co", "phone": "123", "password": "x"})
    assert r.status_code == 400 and r.json()["error_code"] == "validation_failed"


def test_unknown_path_and_method(auth):
    r = auth.get("/no-such-endpoint")
    assert r.status_code == 404 and r.json()["error_code"] == "not_found"
    r = auth.delete("/signup")
    assert r.status_code == 405 and r.json()["error_code"] == "method_not_allowed"


def test_apikey_is_required(stack):
    url = f"{stack.api_url}/auth/v1/settings"
    r = httpx.get(url)
    assert r.status_code == 401 and r.json()["message"] == "No API key found in request"
    r = httpx.get(url, headers={"apikey": "not-the-key"})
    assert r.status_code == 401 and r.json()["message"] == "Invalid API key"
    assert httpx.get(url, headers={"apikey": stack.anon_key}).status_code == 200


def test_settings_and_health(auth):
    settings = auth.get("/settings").json()
    assert settings["external"]["email"] is True and settings["external"]["anonymous_users"] is True
    assert settings["external"]["phone"] is False and settings["mailer_autoconfirm"] is True
    assert settings["disable_signup"] is False
    health = auth.get("/health").json()
    assert health["name"] == "GoTrue" and health["version"]
    assert health["description"] == "GoTrue is a user registration and authentication API"


def test_public_endpoints_ignore_a_stale_bearer(auth, unique):
    """supabase-py puts the last user token (maybe expired) on /token and /signup: they must not look at it."""
    r = auth.post("/signup", headers={"Authorization": "Bearer expired.or.garbage"},
                  json={"email": f"stale-{unique}@example.com", "password": "s3cret-pw"})
    assert r.status_code == 200 and r.json()["access_token"]


NASTY = ["\u0000", "a@b.co\u0000", {"k": "\u0000"}, 10**30, -1, 1.5, [], {}, "é" * 300, "😀@example.com"]


@pytest.mark.parametrize("method, path, who", [
    ("POST", "/signup", "anon"), ("POST", "/token?grant_type=password", "anon"),
    ("POST", "/token?grant_type=refresh_token", "anon"), ("POST", "/otp", "anon"), ("POST", "/verify", "anon"),
    ("POST", "/recover", "anon"), ("POST", "/resend", "anon"), ("POST", "/admin/users", "service"),
    ("POST", "/admin/generate_link", "service"),
])
def test_nasty_values_are_4xx_never_5xx(stack, method, path, who):
    key = stack.anon_key if who == "anon" else stack.service_role_key
    headers = {"apikey": key, "Authorization": f"Bearer {key}"}
    fields = ["email", "password", "refresh_token", "token", "token_hash", "type", "data", "user_metadata",
              "ban_duration", "role"]
    with httpx.Client(base_url=f"{stack.api_url}/auth/v1", headers=headers) as http:
        for value in NASTY:
            for name in fields:
                body = {name: value, "email": "nasty@example.com"} if name != "email" else {name: value}
                r = http.request(method, path, json=body)
                assert r.status_code < 500, (name, value, r.status_code, r.text)
        r = http.get("/admin/users", params={"page": "99999999999999999999999999999", "filter": "\u0000"})
        assert r.status_code in (400, 403)


def test_oversized_streamed_body_is_413_not_500(stack):
    def chunks():  # no Content-Length: the cap must trip while the auth handler reads the body
        yield b'{"email": "'
        for _ in range(11):
            yield b"a" * (1024 * 1024)
        yield b'"}'

    r = httpx.post(f"{stack.api_url}/auth/v1/signup", headers={"apikey": stack.anon_key}, content=chunks())
    assert r.status_code == 413
