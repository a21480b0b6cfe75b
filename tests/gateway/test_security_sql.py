"""The project's SQL rules attacked over /rest/v1 the way the attack review made them, with real clients for every
party: the access-code throttle under GET and under concurrency, a confirmed section, direct section writes,
deleting a show with sessions, two owners leaving at once, and putting someone into an organization unasked."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest

from oncore_cli.local.gateway.jwt import encode
from test_rest_support import User, assert_postgrest_error, make_user, rest_headers


def _guest(stack) -> User:
    """An anonymous (venue) user, as GoTrue's anonymous sign-in makes one."""
    user_id = str(uuid.uuid4())
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        conn.execute("insert into auth.users (id, aud, role, is_anonymous) "
                     "values (%s, 'authenticated', 'authenticated', true)", (user_id,))
    token = encode({"sub": user_id, "role": "authenticated", "aud": "authenticated", "exp": int(time.time()) + 3600,
                    "session_id": str(uuid.uuid4()), "is_anonymous": True}, stack.jwt_secret)
    return User(user_id, "", token)


class Api:
    """Raw HTTP to /rest/v1 as one user."""

    def __init__(self, stack, user: User) -> None:
        self.user = user
        self.http = httpx.Client(base_url=f"{stack.api_url}/rest/v1", timeout=60,
                                 headers=rest_headers(stack, user.token))

    def rpc(self, name: str, args: dict, method: str = "POST") -> httpx.Response:
        if method == "GET":
            return self.http.get(f"/rpc/{name}", params=args)
        return self.http.post(f"/rpc/{name}", json=args)

    def ok(self, name: str, args: dict):
        response = self.rpc(name, args)
        assert response.status_code < 300, response.text
        return response.json()


def _join(owner: Api, member: Api, org: str, role: str) -> None:
    owner.ok("add_org_member", {"org_id": org, "email": member.user.email, "role": role})
    member.ok("accept_org_invitation", {"org_id": org})


@pytest.fixture
def tour(stack, unique):
    """An owner, a member and a venue guest admitted to a session of the owner's organization."""
    owner, member = Api(stack, make_user(stack, "own" + unique)), Api(stack, make_user(stack, "mem" + unique))
    org = owner.ok("create_organization", {"name": f"Sec {unique}", "slug": f"sec-{unique}"})["id"]
    _join(owner, member, org, "member")
    venue = owner.http.post("/venues", json={"org_id": org, "name": "Hall", "timezone": "Europe/Berlin"},
                            headers={"Prefer": "return=representation"}).json()[0]
    show = owner.http.post("/shows", json={"org_id": org, "venue_id": venue["id"], "date": "2027-06-01"},
                           headers={"Prefer": "return=representation"}).json()[0]
    session = owner.ok("create_advancing_session", {"show_id": show["id"]})
    guest = Api(stack, _guest(stack))
    guest.ok("claim_access_code", {"code": session["access_code"]})
    yield {"owner": owner, "member": member, "guest": guest, "org": org, "show": show["id"],
           "session": session["session_id"], "code": session["access_code"]}
    for api in (owner, member, guest):
        api.http.close()


def _attempts(stack, user_id: str) -> int:
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        return conn.execute("select count(*) from private.code_attempts where user_id = %s", (user_id,)).fetchone()[0]


# -- 2: the access-code throttle ----------------------------------------------------------------------------------
@pytest.mark.parametrize("function", ["verify_access_code", "claim_access_code"])
def test_code_functions_refuse_get(stack, tour, function):
    attacker = Api(stack, _guest(stack))
    for code in ("WRNG-WRNG-WRNG", tour["code"]):  # a wrong code and the right one answer alike: nothing learnt
        response = attacker.rpc(function, {"code": code}, method="GET")
        body = assert_postgrest_error(response, 405, "25006")
        assert "POST" in body["message"] and tour["session"] not in response.text
    assert _attempts(stack, attacker.user.id) == 0
    assert attacker.rpc(function, {"code": "WRNG-WRNG-WRNG"}).status_code in (200, 404)  # POST counts
    assert _attempts(stack, attacker.user.id) == 1


def test_concurrent_wrong_codes_hit_the_throttle(stack, tour):
    attacker = Api(stack, _guest(stack))
    start = threading.Barrier(40)

    def guess(i: int) -> int:
        with httpx.Client(base_url=f"{stack.api_url}/rest/v1", timeout=120,
                          headers=rest_headers(stack, attacker.user.token)) as http:
            start.wait()
            return http.post("/rpc/claim_access_code", json={"code": f"WRNG-CODE-{i:04d}"}).status_code

    with ThreadPoolExecutor(40) as pool:
        statuses = list(pool.map(guess, range(40)))
    assert statuses.count(404) <= 5, statuses
    assert statuses.count(404) + statuses.count(429) == 40, statuses
    assert _attempts(stack, attacker.user.id) <= 5
    # the throttle holds for the right code too, until the minute has passed
    assert attacker.rpc("claim_access_code", {"code": tour["code"]}).status_code == 429


# -- 5: a confirmed section ---------------------------------------------------------------------------------------
def test_confirmed_section_is_read_only_to_the_guest_until_reopened(stack, tour):
    member, guest, session = tour["member"], tour["guest"], tour["session"]
    member.ok("submit_technical", {"session_id": session, "data": {"status": "confirmed", "notes": "final"}})
    response = guest.rpc("submit_technical", {"session_id": session, "data": {"notes": "changed"}})
    body = assert_postgrest_error(response, 403, "42501")
    assert "confirmed" in body["message"]
    patch = guest.http.patch("/technical", params={"session_id": f"eq.{session}"}, json={"notes": "sneaky"})
    assert_postgrest_error(patch, 403, "42501")
    assert member.ok("get_advance_sheet", {"session_id": session})["technical"]["notes"] == "final"
    member.ok("submit_technical", {"session_id": session, "data": {"status": "submitted"}})  # reopened
    row = guest.ok("submit_technical", {"session_id": session, "data": {"notes": "changed"}})
    assert (row["notes"], row["status"]) == ("changed", "submitted")
    log = member.http.get("/activity_log", params={"session_id": f"eq.{session}", "entity": "eq.technical",
                                                   "select": "actor_id,actor_kind,changes", "order": "id"}).json()
    steps = [(e["actor_kind"], e["actor_id"], sorted(e["changes"])) for e in log]
    assert steps == [("member", member.user.id, ["notes", "status"]), ("member", member.user.id, ["status"]),
                     ("venue_guest", guest.user.id, ["notes"])]


# -- 6: direct writes to a section --------------------------------------------------------------------------------
@pytest.mark.parametrize("values", [{"guest_list": "not-a-list"}, {"catering": [1, 2]}, {"hotel": 5}])
def test_direct_patch_obeys_the_rpc_types(stack, tour, values):
    guest, session = tour["guest"], tour["session"]
    via_rpc = guest.rpc("submit_hospitality", {"session_id": session, "data": values})
    assert_postgrest_error(via_rpc, 400, "22023")
    patch = guest.http.patch("/hospitality", params={"session_id": f"eq.{session}"}, json=values)
    assert_postgrest_error(patch, 400, "23514")
    row = tour["member"].ok("get_advance_sheet", {"session_id": session})["hospitality"]
    assert row["guest_list"] == [] and row["catering"] == {}


@pytest.mark.parametrize("key", ["id", "session_id"])
def test_direct_patch_cannot_change_keys(stack, tour, key):
    patch = tour["guest"].http.patch("/hospitality", params={"session_id": f"eq.{tour['session']}"},
                                     json={key: str(uuid.uuid4())})
    assert patch.status_code in (400, 409), patch.text
    assert "cannot change" in patch.json()["message"] or patch.json()["code"] == "23503"


# -- 7: deleting a show with sessions -----------------------------------------------------------------------------
def test_member_cannot_delete_a_show_with_sessions(stack, tour):
    member, owner, show = tour["member"], tour["owner"], tour["show"]
    response = member.http.delete("/shows", params={"id": f"eq.{show}"})
    body = assert_postgrest_error(response, 403, "42501")
    assert "admin or owner" in body["message"] and "1" in body["message"]
    assert owner.http.get("/advancing_sessions", params={"id": f"eq.{tour['session']}"}).json() != []
    deleted = owner.http.delete("/shows", params={"id": f"eq.{show}"}, headers={"Prefer": "return=representation"})
    assert deleted.status_code == 200 and len(deleted.json()) == 1


def test_member_still_deletes_a_show_without_sessions(stack, tour):
    member = tour["member"]
    show = member.http.post("/shows", json={"org_id": tour["org"], "date": "2027-07-01"},
                            headers={"Prefer": "return=representation"}).json()[0]
    deleted = member.http.delete("/shows", params={"id": f"eq.{show['id']}"},
                                 headers={"Prefer": "return=representation"})
    assert deleted.status_code == 200 and len(deleted.json()) == 1


# -- 8: the last owner under concurrency --------------------------------------------------------------------------
def test_two_owners_leaving_at_once_leave_one(stack, unique):
    for round_ in range(6):
        first = Api(stack, make_user(stack, f"o1{round_}{unique}"))
        second = Api(stack, make_user(stack, f"o2{round_}{unique}"))
        org = first.ok("create_organization", {"name": "Race", "slug": f"race{round_}-{unique}"})["id"]
        _join(first, second, org, "owner")
        start = threading.Barrier(2)

        def leave(api: Api) -> int:
            start.wait()
            return api.rpc("remove_org_member", {"org_id": org, "user_id": api.user.id}).status_code

        with ThreadPoolExecutor(2) as pool:
            statuses = sorted(pool.map(leave, (first, second)))
        assert statuses == [204, 400] or statuses == [200, 400], statuses
        with psycopg.connect(stack.db_url, autocommit=True) as conn:
            owners = conn.execute("select count(*) from org_members where org_id = %s and role = 'owner'",
                                  (org,)).fetchone()[0]
        assert owners == 1
        first.http.close()
        second.http.close()


# -- 9: putting someone into an organization ----------------------------------------------------------------------
def test_outsider_cannot_put_a_victim_into_an_org(stack, unique):
    outsider = Api(stack, make_user(stack, "out" + unique))
    victim = Api(stack, make_user(stack, "vic" + unique))
    org = outsider.ok("create_organization", {"name": "Trap", "slug": f"trap-{unique}"})["id"]
    known = outsider.rpc("add_org_member", {"org_id": org, "email": victim.user.email, "role": "owner"})
    unknown = outsider.rpc("add_org_member", {"org_id": org, "email": f"nobody-{unique}@example.test",
                                              "role": "owner"})
    assert known.status_code == unknown.status_code == 200
    assert set(known.json()) == set(unknown.json()) and victim.user.id not in known.text
    roster = outsider.ok("list_org_members", {"org_id": org})
    assert [m["user_id"] for m in roster] == [outsider.user.id]
    assert victim.user.id not in outsider.http.get("/org_invitations", params={"org_id": f"eq.{org}"}).text
    direct = outsider.http.post("/org_members", json={"org_id": org, "user_id": victim.user.id, "role": "viewer"})
    assert_postgrest_error(direct, 403, "42501")
    # the victim sees the invitation and may decline it (delete) instead of accepting
    assert [i["org_id"] for i in victim.ok("list_my_invitations", {})] == [org]
    declined = victim.http.delete("/org_invitations", params={"org_id": f"eq.{org}"},
                                  headers={"Prefer": "return=representation"})
    assert len(declined.json()) == 1
    assert_postgrest_error(victim.rpc("accept_org_invitation", {"org_id": org}), 404, "PT404")
