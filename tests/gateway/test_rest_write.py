"""/rest/v1 writes and RPC through unmodified supabase-py: insert (single, bulk, upsert, defaults), update,
delete, constraint errors, RLS on writes, and functions of every result shape."""

from __future__ import annotations

import pytest
from postgrest.exceptions import APIError

from test_rest_support import client_for, make_org, make_user


@pytest.fixture
def owner(stack, unique):
    user = make_user(stack, unique)
    client = client_for(stack, user)
    org = make_org(client, unique)
    return client, org, user


def test_insert_single_returns_the_row_with_defaults(owner):
    client, org, _ = owner
    row = client.table("venues").insert({"org_id": org["id"], "name": "Huxleys", "city": "Berlin"}).execute().data[0]
    assert row["name"] == "Huxleys" and row["contacts"] == [] and len(row["id"]) == 36
    assert row["created_at"].endswith("+00:00")


def test_bulk_insert_is_one_statement_and_missing_keys_follow_prefer_missing(owner):
    client, org, _ = owner
    rows = client.table("venues").insert([
        {"org_id": org["id"], "name": "One", "city": "Oslo"},
        {"org_id": org["id"], "name": "Two"},
    ]).execute().data
    assert [(r["name"], r["city"]) for r in rows] == [("One", "Oslo"), ("Two", None)]
    # Missing `contacts` in one row: NULL by default (refused by the schema), DEFAULT with missing=default.
    with pytest.raises(APIError) as err:
        client.table("venues").insert([{"org_id": org["id"], "name": "A", "contacts": []},
                                       {"org_id": org["id"], "name": "B"}]).execute()
    assert err.value.code in ("23502", "23514")
    rows = client.table("venues").insert([{"org_id": org["id"], "name": "A", "contacts": [{"n": 1}]},
                                          {"org_id": org["id"], "name": "B"}], default_to_null=False).execute().data
    assert [r["contacts"] for r in rows] == [[{"n": 1}], []]
    # A failing row rolls back the whole bulk insert.
    with pytest.raises(APIError):
        client.table("venues").insert([{"org_id": org["id"], "name": "ok"},
                                       {"org_id": org["id"], "name": "bad", "capacity": -1}]).execute()
    assert client.table("venues").select("id").eq("name", "ok").eq("org_id", org["id"]).execute().data == []


def test_upsert_merge_and_ignore_duplicates(owner):
    client, org, _ = owner
    base = {"org_id": org["id"], "name": "Venue", "external_ref": "ext-1", "city": "Rome"}
    first = client.table("venues").upsert(base, on_conflict="org_id,external_ref").execute().data[0]
    merged = client.table("venues").upsert({**base, "city": "Milan"}, on_conflict="org_id,external_ref").execute()
    assert merged.data[0]["id"] == first["id"] and merged.data[0]["city"] == "Milan"
    ignored = client.table("venues").upsert({**base, "city": "Turin"}, on_conflict="org_id,external_ref",
                                            ignore_duplicates=True).execute()
    assert ignored.data == []
    rows = client.table("venues").select("city").eq("external_ref", "ext-1").eq("org_id", org["id"]).execute()
    assert rows.data == [{"city": "Milan"}]


def test_update_and_delete_with_filters(owner):
    client, org, _ = owner
    client.table("venues").insert([{"org_id": org["id"], "name": n} for n in ("u1", "u2", "u3")]).execute()
    updated = client.table("venues").update({"city": "Lyon"}).eq("org_id", org["id"]).in_(
        "name", ["u1", "u2"]).execute().data
    assert sorted(r["name"] for r in updated) == ["u1", "u2"] and {r["city"] for r in updated} == {"Lyon"}
    deleted = client.table("venues").delete().eq("org_id", org["id"]).eq("city", "Lyon").execute().data
    assert len(deleted) == 2
    left = client.table("venues").select("name").eq("org_id", org["id"]).execute().data
    assert left == [{"name": "u3"}]


def test_insert_then_select_single(owner):
    client, org, _ = owner
    row = client.table("venues").insert({"org_id": org["id"], "name": "Solo"}).select("name").single().execute()
    assert row.data == {"name": "Solo"}


def test_constraint_errors_map_to_postgrest_statuses(owner, stack, unique):
    client, org, _ = owner
    with pytest.raises(APIError) as err:   # check constraint / trigger → 400
        client.table("venues").insert({"org_id": org["id"], "name": "X", "country": "de"}).execute()
    assert err.value.code == "23514" and "ISO 3166" in err.value.message
    with pytest.raises(APIError) as err:   # unique → 409
        client.rpc("create_organization", {"name": "Dup", "slug": org["slug"]}).execute()
    assert err.value.code == "23505"
    with pytest.raises(APIError) as err:   # invalid uuid → 400
        client.table("shows").insert({"org_id": "not-a-uuid", "date": "2027-01-01"}).execute()
    assert err.value.code == "22P02"
    with pytest.raises(APIError) as err:   # unknown column → PGRST204
        client.table("venues").insert({"org_id": org["id"], "name": "X", "nope": 1}).execute()
    assert err.value.code == "PGRST204"


def test_rls_blocks_writes_across_orgs(owner, stack, unique):
    client_a, org_a, _ = owner
    venue = client_a.table("venues").insert({"org_id": org_a["id"], "name": "Mine"}).execute().data[0]
    intruder = client_for(stack, make_user(stack, "x" + unique))
    with pytest.raises(APIError) as err:
        intruder.table("venues").insert({"org_id": org_a["id"], "name": "Theirs"}).execute()
    assert err.value.code == "42501"
    assert intruder.table("venues").update({"name": "Hacked"}).eq("id", venue["id"]).execute().data == []
    assert intruder.table("venues").delete().eq("id", venue["id"]).execute().data == []
    still = client_a.table("venues").select("name").eq("id", venue["id"]).single().execute().data
    assert still == {"name": "Mine"}
    with pytest.raises(APIError) as err:
        client_for(stack).table("venues").insert({"org_id": org_a["id"], "name": "Anon"}).execute()
    assert err.value.code == "42501"


def test_rpc_shapes(owner, stack, unique):
    client, org, user = owner
    assert org["slug"] == f"org-{unique}" and org["created_by"] == user.id        # composite → object
    members = client.rpc("list_org_members", {"org_id": org["id"]}).execute().data   # TABLE → array
    assert members == [{"user_id": user.id, "email": user.email, "role": "owner",
                        "created_at": members[0]["created_at"]}]
    filtered = client.rpc("list_org_members", {"org_id": org["id"]}).eq("role", "admin").execute().data
    assert filtered == []
    via_get = client.rpc("list_org_members", {"org_id": org["id"]}, get=True).select("email").execute().data
    assert via_get == [{"email": user.email}]
    other = make_user(stack, "m" + unique)
    invited = client.rpc("add_org_member", {"org_id": org["id"], "email": other.email}).execute().data
    assert (invited["role"], invited["email"]) == ("member", other.email)                  # composite → object
    added = client_for(stack, other).rpc("accept_org_invitation", {"org_id": org["id"]}).execute().data
    assert added["role"] == "member" and added["user_id"] == other.id
    removed = client.rpc("remove_org_member", {"org_id": org["id"], "user_id": other.id}).execute()   # void
    assert removed.data in ([], None)
    assert len(client.rpc("list_org_members", {"org_id": org["id"]}).execute().data) == 1


def test_rpc_resolution_errors(owner):
    client, org, _ = owner
    with pytest.raises(APIError) as err:
        client.rpc("no_such_function", {}).execute()
    assert err.value.code == "PGRST202"
    with pytest.raises(APIError) as err:
        client.rpc("list_org_members", {"org": org["id"]}).execute()
    assert err.value.code == "PGRST202"
    with pytest.raises(APIError) as err:   # custom SQLSTATE PT404 → 404
        client.rpc("set_org_member_role", {"org_id": org["id"], "user_id": org["id"], "role": "admin"}).execute()
    assert err.value.code == "PT404"
