"""/rest/v1 through supabase-py's async client (`acreate_client`), as async users call it."""

from __future__ import annotations

import asyncio

import pytest
from postgrest.exceptions import APIError
from supabase import acreate_client

from test_rest_support import make_user


def test_async_client_crud_rpc_and_concurrency(stack, unique):
    user = make_user(stack, unique)

    async def scenario():
        client = await acreate_client(stack.api_url, stack.anon_key)
        client.postgrest.auth(user.token)
        org = (await client.rpc("create_organization", {"name": f"Async {unique}", "slug": f"async-{unique}"})
               .execute()).data
        venue = (await client.table("venues").insert({"org_id": org["id"], "name": "Async hall"}).execute()).data[0]
        await client.table("shows").insert([{"org_id": org["id"], "venue_id": venue["id"],
                                             "date": f"2027-07-{d:02d}", "title": f"A{d}"} for d in range(1, 11)]).execute()
        # 20 concurrent reads on one client: every one answered, all consistent.
        results = await asyncio.gather(*[
            client.table("shows").select("title,venues(name)", count="exact").eq("org_id", org["id"])
            .order("date").range(i % 5, i % 5 + 1).execute() for i in range(20)])
        assert all(r.count == 10 and len(r.data) == 2 for r in results)
        assert results[0].data[0] == {"title": "A1", "venues": {"name": "Async hall"}}
        updated = (await client.table("shows").update({"status": "confirmed"}).eq("org_id", org["id"])
                   .lte("date", "2027-07-03").execute()).data
        assert len(updated) == 3
        members = (await client.rpc("list_org_members", {"org_id": org["id"]}).execute()).data
        assert [m["role"] for m in members] == ["owner"]
        with pytest.raises(APIError) as err:
            await client.table("shows").select("nope").execute()
        assert err.value.code == "42703"
        deleted = (await client.table("shows").delete().eq("org_id", org["id"]).execute()).data
        assert len(deleted) == 10

    asyncio.run(scenario())
