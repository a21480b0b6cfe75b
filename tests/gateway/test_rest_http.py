"""/rest/v1 wire details supabase-py cannot express: Range headers, Content-Range and 206/416, HEAD, CSV,
Prefer combinations and Preference-Applied, the request GUCs a function sees, and schema-cache reloads."""

from __future__ import annotations

import json
import time

import httpx
import psycopg
import pytest

from test_rest_support import client_for, make_org, make_user, rest_headers


@pytest.fixture(scope="module")
def seeded(stack):
    user = make_user(stack, "http")
    client = client_for(stack, user)
    org = make_org(client, user.id[:8], "http")
    client.table("shows").insert([{"org_id": org["id"], "date": f"2027-05-{d:02d}", "title": f"S{d:02d}"}
                                  for d in range(1, 26)]).execute()
    return user, org


@pytest.fixture
def rest(stack):
    with httpx.Client(base_url=f"{stack.api_url}/rest/v1", timeout=10) as client:
        yield client


def _get(rest, stack, seeded, headers=None, **params):
    user, org = seeded
    return rest.get("/shows", params={"org_id": f"eq.{org['id']}", "select": "title", "order": "date", **params},
                    headers=rest_headers(stack, user.token, **(headers or {})))


def test_range_header_with_count_gives_206_and_content_range(rest, stack, seeded):
    response = _get(rest, stack, seeded, headers={"Range": "0-9", "Range-Unit": "items", "Prefer": "count=exact"})
    assert response.status_code == 206
    assert response.headers["content-range"] == "0-9/25"
    assert [r["title"] for r in response.json()][:2] == ["S01", "S02"]
    assert response.headers["preference-applied"] == "count=exact"


def test_content_range_without_count_and_full_page(rest, stack, seeded):
    assert _get(rest, stack, seeded, limit="5", offset="20").headers["content-range"] == "20-24/*"
    full = _get(rest, stack, seeded, headers={"Prefer": "count=exact"})
    assert full.status_code == 200 and full.headers["content-range"] == "0-24/25"
    empty = _get(rest, stack, seeded, title="eq.none", headers={"Prefer": "count=exact"})
    assert empty.status_code == 200 and empty.headers["content-range"] == "*/0" and empty.json() == []


def test_offset_beyond_total_is_416(rest, stack, seeded):
    response = _get(rest, stack, seeded, offset="30", headers={"Prefer": "count=exact"})
    assert response.status_code == 416
    body = response.json()
    assert body["code"] == "PGRST103"
    assert body["details"] == "An offset of 30 was requested, but there are only 25 rows."


def test_bad_range_header(rest, stack, seeded):
    assert _get(rest, stack, seeded, headers={"Range": "9-2"}).status_code == 416


def test_head_has_headers_and_no_body(rest, stack, seeded):
    user, org = seeded
    response = rest.head("/shows", params={"org_id": f"eq.{org['id']}"},
                         headers=rest_headers(stack, user.token, Prefer="count=exact"))
    assert response.status_code == 200 and response.content == b""
    assert response.headers["content-range"] == "0-24/25"


def test_csv_and_stripped_nulls(rest, stack, seeded):
    csv = _get(rest, stack, seeded, limit="2", select="title,notes", headers={"Accept": "text/csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines() == ["title,notes", "S01,", "S02,"]
    stripped = _get(rest, stack, seeded, limit="1", select="title,notes",
                    headers={"Accept": "application/vnd.pgrst.array+json;nulls=stripped"})
    assert stripped.json() == [{"title": "S01"}]


def test_prefer_return_variants_and_preference_applied(rest, stack, seeded):
    user, org = seeded
    headers = rest_headers(stack, user.token)
    body = {"org_id": org["id"], "name": "Prefer venue"}
    minimal = rest.post("/venues", json=body, headers={**headers, "Prefer": "return=minimal"})
    assert minimal.status_code == 201 and minimal.content == b""
    assert minimal.headers["preference-applied"] == "return=minimal"
    only = rest.post("/venues", json=body, headers={**headers, "Prefer": "return=headers-only"})
    assert only.status_code == 201 and only.content == b""
    rep = rest.post("/venues", params={"select": "name"}, json=[body, body],
                    headers={**headers, "Prefer": "return=representation,count=exact"})
    assert rep.status_code == 201 and rep.json() == [{"name": "Prefer venue"}] * 2
    assert rep.headers["content-range"] == "*/2"
    assert rep.headers["preference-applied"] == "return=representation, count=exact"
    patched = rest.patch("/venues", params={"org_id": f"eq.{org['id']}", "name": "eq.Prefer venue"},
                         json={"city": "Oslo"}, headers=headers)
    assert patched.status_code == 204 and patched.headers["content-range"] == "0-3/*"
    upsert = rest.post("/venues", json={"org_id": org["id"], "name": "U", "external_ref": "http-u"},
                       params={"on_conflict": "org_id,external_ref"},
                       headers={**headers, "Prefer": "resolution=merge-duplicates,return=representation"})
    assert upsert.status_code == 201
    assert upsert.headers["preference-applied"] == "resolution=merge-duplicates, return=representation"
    again = rest.post("/venues", json={"org_id": org["id"], "name": "U2", "external_ref": "http-u"},
                      params={"on_conflict": "org_id,external_ref"},
                      headers={**headers, "Prefer": "resolution=merge-duplicates,return=representation"})
    assert again.status_code == 200 and again.json()[0]["name"] == "U2"


def test_singular_mutation_rolls_back(rest, stack, seeded):
    user, org = seeded
    headers = rest_headers(stack, user.token, Accept="application/vnd.pgrst.object+json",
                           Prefer="return=representation")
    response = rest.patch("/shows", params={"org_id": f"eq.{org['id']}"}, json={"notes": "all"}, headers=headers)
    assert response.status_code == 406 and response.json()["code"] == "PGRST116"
    check = _get(rest, stack, seeded, notes="eq.all")
    assert check.json() == []


def test_max_affected_with_strict_handling(rest, stack, seeded):
    user, org = seeded
    headers = rest_headers(stack, user.token, Prefer="handling=strict,max-affected=2")
    response = rest.patch("/shows", params={"org_id": f"eq.{org['id']}"}, json={"notes": "many"}, headers=headers)
    assert response.status_code == 400 and response.json()["code"] == "PGRST124"
    assert _get(rest, stack, seeded, notes="eq.many").json() == []


def test_request_gucs_and_schema_reload(rest, stack, seeded):
    """A new function appears after NOTIFY pgrst; it sees the role, claims, method, path and headers."""
    user, _ = seeded
    name = f"rest_guc_probe_{user.id[:8]}"
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        conn.execute(f"""create function public.{name}() returns jsonb language sql stable set search_path = '' as $$
            select jsonb_build_object(
              'role', current_user, 'uid', auth.uid(), 'method', current_setting('request.method', true),
              'path', current_setting('request.path', true),
              'probe', current_setting('request.headers', true)::jsonb ->> 'x-probe',
              'read_only', current_setting('transaction_read_only'),
              'timeout', current_setting('statement_timeout')) $$""")
        conn.execute("notify pgrst, 'reload schema'")
    try:
        headers = rest_headers(stack, user.token, **{"X-Probe": "hello"})
        for _ in range(50):
            response = rest.get(f"/rpc/{name}", headers=headers)
            if response.status_code != 404:
                break
            time.sleep(0.1)
        assert response.status_code == 200, response.text
        assert response.json() == {"role": "authenticated", "uid": user.id, "method": "GET",
                                   "path": f"/rpc/{name}", "probe": "hello", "read_only": "on", "timeout": "8s"}
        posted = rest.post(f"/rpc/{name}", json={}, headers=headers).json()
        assert posted["method"] == "POST" and posted["read_only"] == "on"   # STABLE → read-only
        anon = rest.get(f"/rpc/{name}", headers=rest_headers(stack)).json()
        assert anon["role"] == "anon" and anon["uid"] is None and anon["timeout"] == "3s"
    finally:
        with psycopg.connect(stack.db_url, autocommit=True) as conn:
            conn.execute(f"drop function public.{name}()")
            conn.execute("notify pgrst, 'reload schema'")


def test_service_role_bypasses_rls(rest, stack, seeded):
    _, org = seeded
    headers = {"apikey": stack.service_role_key, "Authorization": f"Bearer {stack.service_role_key}"}
    response = rest.get("/shows", params={"org_id": f"eq.{org['id']}", "select": "title"},
                        headers={**headers, "Prefer": "count=exact"})
    assert response.status_code == 200 and response.headers["content-range"].endswith("/25")


def test_openapi_root(rest, stack):
    response = rest.get("/", headers=rest_headers(stack))
    assert response.status_code == 200 and "/shows" in json.loads(response.text)["paths"]


def test_functions_set_response_status_and_headers(rest, stack, seeded):
    user, _ = seeded
    name = f"rest_status_probe_{user.id[:8]}"
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        conn.execute(f"""create function public.{name}(status int) returns text language sql volatile
            set search_path = '' as $$
            select 'made'::text
            from (select set_config('response.status', status::text, true),
                         set_config('response.headers', '[{{"X-Probe": "yes"}}, {{"Cache-Control": "no-store"}}]',
                                    true)) as _ $$""")
        conn.execute("notify pgrst, 'reload schema'")
    try:
        for _ in range(50):
            response = rest.post(f"/rpc/{name}", json={"status": 202}, headers=rest_headers(stack, user.token))
            if response.status_code != 404:
                break
            time.sleep(0.1)
        assert response.status_code == 202 and response.json() == "made"
        assert response.headers["x-probe"] == "yes" and response.headers["cache-control"] == "no-store"
        bad = rest.post(f"/rpc/{name}", json={"status": 9999}, headers=rest_headers(stack, user.token))
        assert bad.status_code == 500 and bad.json()["code"] == "PGRST112"
    finally:
        with psycopg.connect(stack.db_url, autocommit=True) as conn:
            conn.execute(f"drop function public.{name}(int)")
            conn.execute("notify pgrst, 'reload schema'")


def test_volatile_setof_function_with_count_runs_once(rest, stack, seeded):
    user, _ = seeded
    name = f"rest_calls_probe_{user.id[:8]}"
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        conn.execute(f"""create function public.{name}() returns setof int language plpgsql volatile
            set search_path = '' as $$
            declare n int := coalesce(nullif(current_setting('probe.calls', true), ''), '0')::int + 1;
            begin
              perform set_config('probe.calls', n::text, true);
              perform set_config('response.headers', pg_catalog.format('[{{"X-Calls": "%s"}}]', n), true);
              return query select generate_series(1, 3);
            end $$""")
        conn.execute("notify pgrst, 'reload schema'")
    try:
        headers = rest_headers(stack, user.token, Prefer="count=exact")
        for _ in range(50):
            response = rest.post(f"/rpc/{name}", json={}, params={"limit": "2"}, headers=headers)
            if response.status_code != 404:
                break
            time.sleep(0.1)
        assert response.status_code == 206 and response.json() == [1, 2]
        assert response.headers["content-range"] == "0-1/3" and response.headers["x-calls"] == "1"
    finally:
        with psycopg.connect(stack.db_url, autocommit=True) as conn:
            conn.execute(f"drop function public.{name}()")
            conn.execute("notify pgrst, 'reload schema'")


def test_cors_preflight(rest):
    response = rest.options("/shows", headers={"Origin": "http://localhost:3000",
                                               "Access-Control-Request-Method": "PATCH"})
    assert response.status_code == 200
    assert "PATCH" in response.headers["access-control-allow-methods"]
    assert "prefer" in response.headers["access-control-allow-headers"]


def test_unknown_function_triggers_one_lazy_reload(rest, stack, seeded):
    """Without NOTIFY, a miss reloads the schema cache (at most once a second) and the new function is found."""
    user, _ = seeded
    name = f"rest_lazy_probe_{user.id[:8]}"
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        conn.execute(f"create function public.{name}(n int) returns int language sql immutable "
                     f"set search_path = '' as $$ select n * 2 $$")
    try:
        deadline = time.monotonic() + 10
        while True:
            response = rest.get(f"/rpc/{name}", params={"n": "21"}, headers=rest_headers(stack, user.token))
            if response.status_code == 200 or time.monotonic() > deadline:
                break
            assert response.json()["code"] == "PGRST202"
            time.sleep(0.3)
        assert response.status_code == 200 and response.json() == 42
        head = rest.head(f"/rpc/{name}", params={"n": "1"}, headers=rest_headers(stack, user.token))
        assert head.status_code == 200 and head.content == b""
    finally:
        with psycopg.connect(stack.db_url, autocommit=True) as conn:
            conn.execute(f"drop function public.{name}(int)")
            conn.execute("notify pgrst, 'reload schema'")


def test_hostile_names_are_quoted_not_executed(rest, stack, seeded):
    user, org = seeded
    alias = 'x"; drop table public.shows; --'
    quoted = alias.replace('"', '\\"')
    response = rest.get("/shows", params={"select": f'"{quoted}":title', "org_id": f"eq.{org['id']}",
                                          "limit": "1", "order": "date"},
                        headers=rest_headers(stack, user.token))
    assert response.status_code == 200 and response.json() == [{alias: "S01"}]
    bad_column = rest.get("/shows", params={"select": "title", 'title"; drop table x; --': "eq.1"},
                          headers=rest_headers(stack, user.token))
    assert bad_column.status_code == 400
    assert _get(rest, stack, seeded, limit="1").status_code == 200


def test_put_upserts_one_row_by_primary_key(rest, stack, seeded):
    import uuid

    user, org = seeded
    venue_id = str(uuid.uuid4())
    headers = rest_headers(stack, user.token, Prefer="return=representation")
    body = {"id": venue_id, "org_id": org["id"], "name": "Put hall"}
    created = rest.put("/venues", params={"id": f"eq.{venue_id}"}, json=body, headers=headers)
    assert created.status_code == 200 and created.json()[0]["name"] == "Put hall"
    replaced = rest.put("/venues", params={"id": f"eq.{venue_id}"}, json={**body, "name": "Put hall 2"},
                        headers=rest_headers(stack, user.token))
    assert replaced.status_code == 204
    rows = rest.get("/venues", params={"id": f"eq.{venue_id}", "select": "name"},
                    headers=rest_headers(stack, user.token)).json()
    assert rows == [{"name": "Put hall 2"}]
    mismatch = rest.put("/venues", params={"id": f"eq.{uuid.uuid4()}"}, json=body, headers=headers)
    assert mismatch.status_code == 400 and mismatch.json()["code"] == "PGRST115"
    not_pk = rest.put("/venues", params={"name": "eq.x"}, json=body, headers=headers)
    assert not_pk.status_code == 405 and not_pk.json()["code"] == "PGRST105"
    limited = rest.put("/venues", params={"id": f"eq.{venue_id}", "limit": "1"}, json=body, headers=headers)
    assert limited.status_code == 400 and limited.json()["code"] == "PGRST114"


def test_prefer_timezone_renders_timestamps_in_that_zone(rest, stack, seeded):
    user, org = seeded
    params = {"id": f"eq.{org['id']}", "select": "created_at"}
    utc = rest.get("/organizations", params=params, headers=rest_headers(stack, user.token)).json()[0]
    ny = rest.get("/organizations", params=params,
                  headers=rest_headers(stack, user.token, Prefer="timezone=America/New_York"))
    assert utc["created_at"].endswith("+00:00")
    assert ny.json()[0]["created_at"][-6:] in ("-05:00", "-04:00")
    assert ny.headers["preference-applied"] == "timezone=America/New_York"
