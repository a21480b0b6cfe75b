"""WHERE-less writes through /rest/v1 are refused as hosted Supabase refuses them (the safeupdate extension
preloaded for API requests): PostgREST's 400 with `21000` and safeupdate's message, and nothing written. With any
filter the same writes go through."""

from __future__ import annotations

import httpx
import pytest
from postgrest.exceptions import APIError

from test_rest_support import assert_postgrest_error, client_for, make_org, make_user, rest_headers


@pytest.fixture
def owner(stack, unique):
    user = make_user(stack, unique)
    client = client_for(stack, user)
    org = make_org(client, unique)
    client.table("venues").insert([{"org_id": org["id"], "name": n, "notes": "kept"} for n in ("a", "b")]).execute()
    return client, org, user


def _names_and_notes(client, org) -> list[tuple[str, str]]:
    rows = client.table("venues").select("name, notes").eq("org_id", org["id"]).order("name").execute().data
    return [(r["name"], r["notes"]) for r in rows]


@pytest.mark.parametrize("method, command", [("PATCH", "UPDATE"), ("DELETE", "DELETE")])
def test_raw_http_without_filter_is_refused_and_writes_nothing(stack, owner, method, command):
    client, org, user = owner
    with httpx.Client(base_url=stack.rest_url, headers=rest_headers(stack, user.token)) as http:
        answer = http.request(method, "/venues", json={"notes": "x"} if method == "PATCH" else None,
                              headers={"Prefer": "return=representation"})
        body = assert_postgrest_error(answer, 400, "21000")
        assert body == {"code": "21000", "message": f"{command} requires a WHERE clause", "details": None,
                        "hint": None}
        # Only select/order/limit-style parameters: still no filter, still refused.
        assert http.request(method, "/venues?select=name", json={"notes": "x"} if method == "PATCH" else None
                            ).status_code == 400
    assert _names_and_notes(client, org) == [("a", "kept"), ("b", "kept")]


def test_supabase_py_without_filter_is_refused(owner):
    client, org, _ = owner
    with pytest.raises(APIError) as err:
        client.table("venues").delete().execute()
    assert err.value.code == "21000" and err.value.message == "DELETE requires a WHERE clause"
    with pytest.raises(APIError) as err:
        client.table("venues").update({"notes": "x"}).execute()
    assert err.value.code == "21000" and err.value.message == "UPDATE requires a WHERE clause"
    assert _names_and_notes(client, org) == [("a", "kept"), ("b", "kept")]


def test_any_filter_lets_the_write_through(owner):
    client, org, _ = owner
    assert len(client.table("venues").update({"notes": "x"}).eq("org_id", org["id"]).execute().data) == 2
    assert len(client.table("venues").update({"notes": "y"}).neq("name", "a").execute().data) == 1
    assert _names_and_notes(client, org) == [("a", "x"), ("b", "y")]
    assert [r["name"] for r in client.table("venues").delete().eq("org_id", org["id"]).execute().data] != []
    assert _names_and_notes(client, org) == []
