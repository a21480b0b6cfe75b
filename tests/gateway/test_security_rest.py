"""/rest/v1 under hostile input: values never change the SQL, forged roles never escalate, internal schemas stay
out of reach, and odd-but-valid requests are answered (not a 500)."""

from __future__ import annotations

import time

import httpx
import psycopg
import pytest

from oncore_cli.local.gateway.jwt import encode
from test_rest_support import assert_postgrest_error, make_user, rest_headers


@pytest.fixture(scope="module")
def user(stack):
    return make_user(stack, "security")


@pytest.fixture
def rest(stack):
    with httpx.Client(base_url=f"{stack.api_url}/rest/v1", timeout=30) as client:
        yield client


def _token(stack, role: str) -> str:
    return encode({"role": role, "exp": int(time.time()) + 600}, stack.jwt_secret)


def _wait_for(rest, stack, path: str, **kwargs) -> httpx.Response:
    """The schema cache reloads on NOTIFY in the background: retry while the function is still unknown."""
    for _ in range(50):
        response = rest.get(path, **kwargs)
        if response.status_code != 404:
            return response
        time.sleep(0.1)
    return response


@pytest.fixture
def setof_int_function(stack, unique):
    name = f"sec_probe_ints_{unique}"
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        conn.execute(f"create function public.{name}() returns setof int language sql stable set search_path = '' "
                     "as $$ select 1 union all select 2 $$")
        conn.execute("notify pgrst, 'reload schema'")
    yield name
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        conn.execute(f"drop function public.{name}()")
        conn.execute("notify pgrst, 'reload schema'")


def test_csv_of_a_setof_scalar_function(rest, stack, setof_int_function):
    """PostgREST names the single CSV column after the function."""
    response = _wait_for(rest, stack, f"/rpc/{setof_int_function}", headers=rest_headers(stack, Accept="text/csv"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.splitlines() == [setof_int_function, "1", "2"]
    again = rest.get("/shows", params={"limit": "1"}, headers=rest_headers(stack))
    assert again.status_code == 200


@pytest.mark.parametrize("where", ["filter", "rpc-get-arg", "rpc-post-arg"])
def test_nul_byte_in_a_value_is_refused_not_truncated(rest, stack, user, where):
    """libpq ends text parameters at the first NUL: `eq.abc%00xyz` must not silently become `eq.abc`."""
    headers = rest_headers(stack, user.token)
    if where == "filter":
        response = rest.get("/shows", params={"title": "eq.abc\x00xyz"}, headers=headers)
    elif where == "rpc-get-arg":
        response = rest.get("/rpc/verify_access_code", params={"code": "abc\x00"}, headers=headers)
    else:
        response = rest.post("/rpc/verify_access_code", json={"code": "abc\x00xyz"}, headers=headers)
    body = assert_postgrest_error(response, 400)
    assert body["code"] in ("22021", "22P05")  # a JSON body's \u0000 is refused by PostgreSQL's JSON parser


def test_nul_byte_in_a_role_claim_does_not_become_another_role(rest, stack):
    response = rest.get("/shows", params={"limit": "1"}, headers=rest_headers(stack, _token(stack, "anon\x00x")))
    assert response.status_code in (400, 401), response.text
    assert "code" in response.json()


@pytest.mark.parametrize("role", ["postgres", "supabase_admin", "supabase_auth_admin", "supabase_storage_admin",
                                  "pg_read_all_data", "pg_write_server_files"])
def test_signed_token_with_a_privileged_role_cannot_switch_to_it(rest, stack, role):
    """`authenticator` is a member of anon, authenticated and service_role only."""
    response = rest.get("/shows", params={"limit": "1"}, headers=rest_headers(stack, _token(stack, role)))
    body = assert_postgrest_error(response, 403, "42501")
    assert body["message"] == f'permission denied to set role "{role}"'


@pytest.mark.parametrize("role", ["no_such_role_at_all", "supabase_superuser"])
def test_signed_token_with_an_unknown_role_is_401(rest, stack, role):
    response = rest.get("/shows", params={"limit": "1"}, headers=rest_headers(stack, _token(stack, role)))
    assert_postgrest_error(response, 401, "22023")


def test_authenticator_holds_only_the_api_roles(stack):
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        granted = {r[0] for r in conn.execute(
            "select m.rolname from pg_auth_members a join pg_roles r on r.oid = a.member "
            "join pg_roles m on m.oid = a.roleid where r.rolname = 'authenticator'")}
        flags = conn.execute("select rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolinherit from pg_roles "
                             "where rolname = 'authenticator'").fetchone()
    assert granted == {"anon", "authenticated", "service_role"}
    assert flags == (False, False, False, False, False)


@pytest.mark.parametrize("schema", ["auth", "private", "storage", "supabase_migrations", "pg_catalog", "extensions",
                                    "information_schema", '"public"', "public,auth", "PUBLIC"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_internal_schemas_are_not_exposed(rest, stack, schema, method):
    header = "Accept-Profile" if method == "GET" else "Content-Profile"
    table = {"auth": "users", "private": "access_codes", "storage": "objects",
             "supabase_migrations": "schema_migrations"}.get(schema, "pg_authid")
    response = rest.request(method, f"/{table}", json={} if method == "POST" else None,
                            headers=rest_headers(stack, stack.service_role_key, **{header: schema}))
    assert_postgrest_error(response, 406, "PGRST106")


@pytest.mark.parametrize("path", ["/users", "/refresh_tokens", "/access_codes", "/objects", "/schema_migrations",
                                  "/pg_authid", "/auth.users", '/"auth"."users"', "/rpc/org_ids_with_role"])
def test_internal_relations_are_unknown_in_public(rest, stack, path):
    response = rest.get(path, headers=rest_headers(stack, stack.service_role_key))
    assert response.status_code == 404, response.text


@pytest.mark.parametrize("params", [
    {"select": 'id,"title; drop table public.shows; --"'},
    {"select": 'x:id::"text; select 1"'},
    {"select": "id::pg_catalog.text"},
    {"select": "id,name:title::regclass"},
    {"order": 'title.asc;select 1'},
    {"title": "eq.'); drop table public.shows; --"},
    {"or": "(title.eq.a) or true or (title.eq.b)"},
    {"title": "in.(a,\"b\\\",c\")"},
    {"schedule->>'a' or 1=1 --": "eq.x"},
    {"select": "schedule->>\"a') or true --\""},
], ids=lambda p: next(iter(p)))
def test_injection_attempts_change_nothing(rest, stack, user, params):
    """Either a 4xx, or a 200 whose rows are exactly the caller's (none: this user is in no organization)."""
    response = rest.get("/shows", params=params, headers=rest_headers(stack, user.token))
    assert response.status_code < 500, response.text
    if response.status_code == 200:
        assert response.json() == []
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        assert conn.execute("select to_regclass('public.shows')").fetchone()[0] is not None


@pytest.mark.parametrize("select", ['"a\x00":id', 'id,v:venues("n\x00":name)', '"x\\\x00":id'])
def test_nul_byte_in_a_quoted_alias_is_a_parse_error(rest, stack, user, select):
    """Aliases are the one identifier not found in the schema cache; libpq would cut the SQL text at a NUL."""
    response = rest.get("/shows", params={"select": select}, headers=rest_headers(stack, user.token))
    assert_postgrest_error(response, 400, "PGRST100")


@pytest.fixture
def header_setting_function(stack, unique):
    """A function that copies its argument into `response.headers`, as a careless one might."""
    name = f"sec_probe_header_{unique}"
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        conn.execute(f"create function public.{name}(v text) returns int language sql volatile set search_path = '' "
                     "as $$ select pg_catalog.length(pg_catalog.set_config('response.headers', "
                     "pg_catalog.json_build_array(pg_catalog.json_build_object('X-Echo', v))::text, true)) * 0 $$")
        conn.execute("notify pgrst, 'reload schema'")
    yield name
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        conn.execute(f"drop function public.{name}(text)")
        conn.execute("notify pgrst, 'reload schema'")


@pytest.mark.parametrize("value", ["a\r\nSet-Cookie: session=stolen", "line\nbreak", "euro €"])
def test_a_header_http_cannot_carry_is_pgrst111_not_a_bare_500(rest, stack, header_setting_function, value):
    for _ in range(50):
        response = rest.post(f"/rpc/{header_setting_function}", json={"v": value}, headers=rest_headers(stack))
        if response.status_code != 404:
            break
        time.sleep(0.1)
    assert_postgrest_error(response, 500, "PGRST111")
    assert "set-cookie" not in response.headers
    ok = rest.post(f"/rpc/{header_setting_function}", json={"v": "fine"}, headers=rest_headers(stack))
    assert ok.status_code == 200 and ok.headers["x-echo"] == "fine"
