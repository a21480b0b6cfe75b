"""The /rest/v1 error contract: every failure is PostgREST-shaped ({code, message, details, hint}, code a string)
with PostgREST's status, never a 500 or a traceback, and the gateway keeps serving."""

from __future__ import annotations

import time

import httpx
import pytest

from oncore_cli.local.gateway.jwt import encode
from test_rest_support import assert_postgrest_error, make_user, rest_headers


@pytest.fixture(scope="module")
def user(stack):
    return make_user(stack, "errors")


@pytest.fixture
def rest(stack):
    with httpx.Client(base_url=f"{stack.api_url}/rest/v1", timeout=10) as client:
        yield client


def _jwt(stack, **claims):
    return encode({"role": "authenticated", "exp": int(time.time()) + 600, **claims}, stack.jwt_secret)


CASES = [
    # (method, path, kwargs, status, code)
    ("GET", "/no_such_table", {}, 404, "PGRST205"),
    ("GET", "/shows", {"params": {"select": "nope"}}, 400, "42703"),
    ("GET", "/shows", {"params": {"select": "title,(("}}, 400, "PGRST100"),
    ("GET", "/shows", {"params": {"id": "noop.1"}}, 400, "PGRST100"),
    ("GET", "/shows", {"params": {"id": "eq.not-a-uuid"}}, 400, "22P02"),
    ("GET", "/shows", {"params": {"or": "(id.eq.1"}}, 400, "PGRST100"),
    ("GET", "/shows", {"params": {"order": "title.sideways"}}, 400, "PGRST100"),
    ("GET", "/shows", {"params": {"limit": "many"}}, 400, "PGRST100"),
    ("GET", "/shows", {"params": {"limit": "-1"}}, 416, "PGRST103"),
    ("GET", "/shows", {"params": {"select": "title,nope(id)"}}, 400, "PGRST200"),
    ("GET", "/shows", {"params": {"venues.city": "eq.x"}}, 400, "PGRST108"),
    ("GET", "/shows", {"params": {"select": "title,venues(name)", "venues": "eq.x"}}, 400, "PGRST120"),
    ("GET", "/shows", {"params": {"select": "count()"}}, 400, "PGRST123"),
    ("GET", "/shows", {"params": {"select": "title::nosuchtype"}}, 400, "42704"),
    ("GET", "/shows", {"headers": {"Accept-Profile": "private"}}, 406, "PGRST106"),
    ("POST", "/shows", {"headers": {"Content-Profile": "auth"}, "json": {}}, 406, "PGRST106"),
    ("GET", "/shows", {"headers": {"Accept": "image/png"}}, 406, "PGRST107"),
    ("GET", "/shows", {"headers": {"Accept": "application/vnd.pgrst.object+json"}}, 406, "PGRST116"),
    ("GET", "/shows", {"headers": {"Prefer": "handling=strict, bogus=1"}}, 400, "PGRST122"),
    ("POST", "/shows", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 400, "PGRST102"),
    ("POST", "/shows", {"content": b"", "headers": {"Content-Type": "application/json"}}, 400, "PGRST102"),
    ("POST", "/shows", {"content": b"42", "headers": {"Content-Type": "application/json"}}, 400, "PGRST102"),
    ("POST", "/shows", {"json": [{"title": "a"}, {"date": "2027-01-01"}]}, 400, "PGRST102"),
    ("POST", "/shows", {"content": b"title=x", "headers": {"Content-Type": "text/plain"}}, 400, "PGRST102"),
    ("POST", "/shows", {"json": {"no_such_column": 1}}, 400, "PGRST204"),
    ("PATCH", "/shows", {"json": [1, 2]}, 400, "PGRST102"),
    ("POST", "/rpc/no_such_function", {"json": {}}, 404, "PGRST202"),
    ("GET", "/rpc/list_org_members", {"params": {"wrong": "x"}}, 404, "PGRST202"),
    ("PATCH", "/rpc/list_org_members", {"json": {}}, 405, "PGRST101"),
    ("POST", "/rpc/list_org_members", {"json": {"org_id": "bad-uuid"}}, 400, "22P02"),
    ("GET", "/a/b/c", {}, 404, "PGRST125"),
]


@pytest.mark.parametrize("method, path, kwargs, status, code", CASES,
                         ids=[f"{c[0]} {c[1]} {c[4]}" for c in CASES])
def test_error_contract(rest, stack, user, method, path, kwargs, status, code):
    headers = rest_headers(stack, user.token, **kwargs.pop("headers", {}))
    response = rest.request(method, path, headers=headers, **kwargs)
    assert_postgrest_error(response, status, code)


def test_anonymous_write_is_401_and_user_write_is_403(rest, stack, user):
    body = {"org_id": "00000000-0000-0000-0000-000000000000", "name": "x"}
    anon = rest.post("/venues", json=body, headers=rest_headers(stack))
    assert_postgrest_error(anon, 401, "42501")
    signed_in = rest.post("/venues", json=body, headers=rest_headers(stack, user.token))
    assert_postgrest_error(signed_in, 403, "42501")


@pytest.mark.parametrize("token_kind, code, description", [
    ("expired", "PGRST303", "JWT expired"),
    ("wrong_secret", "PGRST301", None),
    ("alg_none", "PGRST301", None),
    ("garbage", "PGRST301", "Expected 3 parts in JWT; got 1"),
])
def test_bad_tokens_are_401_with_www_authenticate(rest, stack, token_kind, code, description):
    token = {
        "expired": encode({"role": "authenticated", "exp": int(time.time()) - 3600}, stack.jwt_secret),
        "wrong_secret": encode({"role": "authenticated", "exp": int(time.time()) + 600}, "not-the-secret" * 3),
        "alg_none": "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.",
        "garbage": "garbage",
    }[token_kind]
    response = rest.get("/shows", headers={"apikey": stack.anon_key, "Authorization": f"Bearer {token}"})
    body = assert_postgrest_error(response, 401, code)
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    if description:
        assert body["message"] == description


def test_unknown_role_claim_is_401(rest, stack):
    response = rest.get("/shows", headers=rest_headers(stack, _jwt(stack, role="no_such_role")))
    assert_postgrest_error(response, 401, "22023")


def test_missing_or_bad_apikey_is_401(rest, stack):
    assert rest.get("/shows").status_code == 401
    response = rest.get("/shows", headers={"apikey": "nope"})
    assert response.status_code == 401 and "message" in response.json()


def test_oversized_body_is_413(rest, stack, user):
    big = b'{"notes": "' + b"x" * (11 * 1024 * 1024) + b'"}'
    response = rest.post("/shows", content=big, headers=rest_headers(stack, user.token,
                                                                     **{"Content-Type": "application/json"}))
    assert response.status_code == 413


def test_gateway_keeps_serving_after_errors(rest, stack, user):
    for method, path, kwargs, status, code in CASES:
        kwargs = dict(kwargs)
        rest.request(method, path, headers=rest_headers(stack, user.token, **kwargs.pop("headers", {})), **kwargs)
    ok = rest.get("/shows", params={"limit": "1"}, headers=rest_headers(stack, user.token))
    assert ok.status_code == 200 and isinstance(ok.json(), list)


def test_raise_pgrst_sets_status_and_headers(stack, rest, user):
    """`RAISE SQLSTATE 'PGRST'` with a JSON message/detail: the function decides the response."""
    import psycopg

    name = f"rest_raise_probe_{user.id[:8]}"
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        conn.execute(f"""create function public.{name}() returns void language plpgsql set search_path = '' as $$
            begin raise sqlstate 'PGRST' using message = '{{"code":"123","message":"Payment Required","details":"x","hint":"y"}}',
            detail = '{{"status":402,"headers":{{"X-Powered-By":"Nerd Rage"}}}}'; end $$""")
        conn.execute("notify pgrst, 'reload schema'")
    try:
        for _ in range(50):
            response = rest.post(f"/rpc/{name}", json={}, headers=rest_headers(stack, user.token))
            if response.status_code != 404:
                break
            time.sleep(0.1)
        body = assert_postgrest_error(response, 402, "123")
        assert body == {"code": "123", "message": "Payment Required", "details": "x", "hint": "y"}
        assert response.headers["x-powered-by"] == "Nerd Rage"
    finally:
        with psycopg.connect(stack.db_url, autocommit=True) as conn:
            conn.execute(f"drop function public.{name}()")
            conn.execute("notify pgrst, 'reload schema'")
