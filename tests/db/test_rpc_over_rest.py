"""The RPC contract as clients see it: unmodified supabase-py against the local stack's /rest/v1 (arguments by name,
return shapes, error codes and messages)."""

from __future__ import annotations

import pytest

supabase = pytest.importorskip("supabase")
from postgrest.exceptions import APIError  # noqa: E402


def client(stack):
    return supabase.create_client(stack.api_url, stack.anon_key)


@pytest.fixture
def tour(stack, unique):
    """A signed-in owner with an organization, a venue, a show and an advancing session."""
    owner = client(stack)
    email, password = f"rest-{unique}@example.test", "correct horse battery"
    owner.auth.sign_up({"email": email, "password": password})
    owner.auth.sign_in_with_password({"email": email, "password": password})
    org = owner.rpc("create_organization", {"name": f"Band {unique}", "slug": f"band-{unique}"}).execute().data
    venue = owner.table("venues").insert({"org_id": org["id"], "name": "Club", "city": "Köln", "country": "DE",
                                          "timezone": "Europe/Berlin"}).execute().data[0]
    show = owner.table("shows").insert({"org_id": org["id"], "venue_id": venue["id"],
                                        "date": "2027-02-01"}).execute().data[0]
    session = owner.rpc("create_advancing_session", {"show_id": show["id"], "expires_in": "7 days"}).execute().data
    return {"owner": owner, "org": org, "show": show, "session": session}


def test_create_organization_returns_the_row(tour, unique):
    assert tour["org"]["slug"] == f"band-{unique}" and tour["org"]["id"]


def test_create_session_returns_code_once(tour):
    s = tour["session"]
    assert set(s) >= {"session_id", "access_code", "expires_at"}
    row = tour["owner"].table("advancing_sessions").select("*").eq("id", s["session_id"]).execute().data[0]
    assert s["access_code"] not in str(row) and s["access_code"].replace("-", "") not in str(row)


def test_venue_guest_flow(stack, tour):
    guest = client(stack)
    guest.auth.sign_in_anonymously()
    code, session_id = tour["session"]["access_code"], tour["session"]["session_id"]
    assert guest.rpc("verify_access_code", {"code": code}).execute().data["valid"] is True
    assert guest.rpc("claim_access_code", {"code": code}).execute().data["session_id"] == session_id
    row = guest.rpc("submit_hospitality", {"session_id": session_id, "data": {"guest_count": 6}}).execute().data
    assert row["guest_count"] == 6
    sheet = guest.rpc("get_advance_sheet", {"session_id": session_id}).execute().data
    assert sheet["venue"]["city"] == "Köln" and sheet["hospitality"]["guest_count"] == 6
    assert guest.table("organizations").select("id").execute().data == []


def test_errors_keep_their_codes_and_messages(tour):
    owner, session_id = tour["owner"], tour["session"]["session_id"]
    with pytest.raises(APIError) as err:
        owner.rpc("submit_technical", {"session_id": session_id, "data": {"lasers": True}}).execute()
    assert (err.value.code, err.value.message) == ("22023", "unknown technical field(s): lasers")
    with pytest.raises(APIError) as err:
        owner.table("venues").insert({"org_id": tour["org"]["id"], "name": "X", "capacity": -3}).execute()
    assert (err.value.code, err.value.message) == ("23514", "capacity must be >= 0 (got -3)")
    with pytest.raises(APIError) as err:
        owner.rpc("rotate_access_code", {"session_id": "00000000-0000-0000-0000-000000000000"}).execute()
    assert err.value.code == "PT404"


def test_wrong_code_is_an_error_that_still_counts(stack, tour):
    import psycopg

    guest = client(stack)
    user = guest.auth.sign_in_anonymously().user
    with pytest.raises(APIError) as err:
        guest.rpc("claim_access_code", {"code": "AAAA-BBBB-CCCC"}).execute()
    assert (err.value.code, err.value.message) == ("PT404", "access code is not valid")
    with psycopg.connect(stack.db_url) as conn:  # the failed attempt was committed, for the throttle
        attempts = conn.execute("select count(*) from private.code_attempts where user_id = %s", (user.id,)).fetchone()
    assert attempts == (1,)
