"""Hostile query shapes on /rest/v1: deep nesting, long JSON paths, enormous select lists and many embeds are
refused (or served) with a PostgREST-shaped 4xx, never a 500, and the same keep-alive client is served next."""

from __future__ import annotations

import httpx
import pytest

from test_rest_support import assert_postgrest_error, make_user, rest_headers


@pytest.fixture(scope="module")
def user(stack):
    return make_user(stack, "limits")


@pytest.fixture
def rest(stack):
    with httpx.Client(base_url=f"{stack.api_url}/rest/v1", timeout=30) as client:
        yield client


def _still_serving(rest, stack, user) -> None:
    ok = rest.get("/shows", params={"limit": "1"}, headers=rest_headers(stack, user.token))
    assert ok.status_code == 200 and isinstance(ok.json(), list)


@pytest.mark.parametrize("params", [
    {"or": "(" + "or(" * 300 + "id.is.null" + ")" * 300 + ")"},
    {"and": "(" + "not.or(" * 300 + "id.is.null" + ")" * 300 + ")"},
    {"select": "id," + "venues(" * 300 + "id" + ")" * 300},
], ids=["or-tree", "not-or-tree", "select-tree"])
def test_deep_nesting_is_a_parse_error(rest, stack, user, params):
    response = rest.get("/shows", params=params, headers=rest_headers(stack, user.token))
    assert_postgrest_error(response, 400, "PGRST100")
    _still_serving(rest, stack, user)


def test_moderate_nesting_still_works(rest, stack, user):
    params = {"or": "(" + "or(" * 10 + "id.is.null" + ")" * 10 + ")"}
    response = rest.get("/shows", params=params, headers=rest_headers(stack, user.token))
    assert response.status_code == 200 and response.json() == []


@pytest.mark.parametrize("where", ["select", "filter", "order"])
def test_long_json_path_is_not_a_500(rest, stack, user, where):
    path = "schedule" + "->a" * 400
    params = {"select": {"select": path}, "filter": {path: "eq.1"}, "order": {"order": path}}[where]
    response = rest.get("/shows", params=params, headers=rest_headers(stack, user.token))
    assert response.status_code == 200, response.text
    assert response.json() == []
    _still_serving(rest, stack, user)


def test_enormous_select_list_is_a_parse_error(rest, stack, user):
    response = rest.get("/shows", params={"select": ",".join(["id"] * 2000)},
                        headers=rest_headers(stack, user.token))
    assert_postgrest_error(response, 400, "PGRST100")
    _still_serving(rest, stack, user)


def test_too_many_embeds_is_a_parse_error(rest, stack, user):
    select = ",".join(f"v{i}:venues(id)" for i in range(200))
    response = rest.get("/shows", params={"select": select}, headers=rest_headers(stack, user.token))
    assert_postgrest_error(response, 400, "PGRST100")
    _still_serving(rest, stack, user)


def test_long_flat_lists_are_served(rest, stack, user):
    """Width is not depth: a long `in.()` list and a wide `or=()` are bound values, served normally."""
    ids = [f"00000000-0000-0000-0000-{i:012d}" for i in range(1000)]
    headers = rest_headers(stack, user.token)
    assert rest.get("/shows", params={"id": f"in.({','.join(ids)})"}, headers=headers).json() == []
    assert rest.get("/shows", params={"or": "(" + ",".join(f"id.eq.{i}" for i in ids) + ")"},
                    headers=headers).json() == []


DEEP_ARRAY = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 50_000 + b"1" + b"}" * 50_000


@pytest.mark.parametrize("path", ["/shows", "/rpc/verify_access_code"])
@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["array", "object"])
def test_deeply_nested_json_body_is_400(rest, stack, user, path, body):
    response = rest.post(path, content=body, headers=rest_headers(stack, user.token,
                                                                  **{"Content-Type": "application/json"}))
    assert_postgrest_error(response, 400, "PGRST102")
    _still_serving(rest, stack, user)


def test_an_unexpected_error_is_json_and_keeps_the_connection(stack_home, stack, monkeypatch):
    """Defence in depth: a gateway bug answers PostgREST's PGRSTX00 shape without internals, and is logged."""
    from starlette.testclient import TestClient

    from oncore_cli.local.gateway.app import create_app
    from oncore_cli.local.gateway.config import GatewayConfig
    from oncore_cli.local.gateway.rest import endpoints

    async def broken(request, state):
        raise RuntimeError("internal detail /some/path SELECT secret")

    monkeypatch.setattr(endpoints, "_table", broken)
    app = create_app(GatewayConfig.load(stack_home / "local" / "gateway.json"))
    with TestClient(app) as client:
        response = client.get("/rest/v1/shows", headers={"apikey": stack.anon_key})
        body = assert_postgrest_error(response, 500, "PGRSTX00")
        assert "secret" not in response.text and "/some/path" not in response.text and body["hint"] is None
        monkeypatch.undo()
        assert client.get("/rest/v1/shows", params={"limit": "1"}, headers={"apikey": stack.anon_key}).status_code == 200


def test_huge_headers_are_431(rest, stack, user):
    headers = rest_headers(stack, user.token, **{"X-Padding": "a" * 200_000})
    response = rest.get("/shows", headers=headers)
    assert response.status_code == 431 and response.json()["code"] == "PGRST431"
    many = rest_headers(stack, user.token, **{f"X-Pad-{i}": "a" * 1000 for i in range(100)})
    assert rest.get("/shows", headers=many).status_code == 431
    _still_serving(rest, stack, user)



def test_large_statements_are_neither_prepared_nor_cached(stack):
    """Distinct giant query strings must not pile up as prepared statements in every backend (nor in caches)."""
    import asyncio

    import psycopg

    from oncore_cli.local.gateway.rest import wire

    small = b"select $1::text as v"
    big = b"select $1::text as v" + b" " * wire.MAX_CACHED_QUERY_BYTES

    async def run() -> None:
        async with await psycopg.AsyncConnection.connect(stack.db_url, autocommit=True) as conn:
            for query, value in ((small, "a"), (big, "b"), (big, "c")):
                result, = await wire.pipeline(conn, [(query, [value])])
                assert wire.row_values(result) == (value,)
            assert small in wire._prepared[conn] and big not in wire._prepared[conn]
            cur = await conn.execute("select count(*) from pg_prepared_statements")
            assert (await cur.fetchone())[0] == 1

    asyncio.run(run())
    percent_query = b"select %(p0)s" + b" " * wire.MAX_CACHED_QUERY_BYTES
    assert wire.to_positional(percent_query)[1] == ("p0",) and percent_query not in wire._converted
