"""Unmodified supabase-js (pinned in tests/js/package-lock.json) against the per-run stack: each script in tests/js
drives /auth/v1 and /rest/v1 the way a web app does and prints what it observed as one JSON object; these tests
assert on that report. One node process per area (auth, rest, venue guest, browser page) keeps the added time small."""

from __future__ import annotations

import httpx
import jwt as pyjwt
import psycopg
import pytest

ERROR_KEYS = ["code", "details", "hint", "message"]


@pytest.fixture(scope="module")
def auth_report(run_js) -> dict:
    return run_js("auth.mjs")


@pytest.fixture(scope="module")
def rest_report(run_js) -> dict:
    return run_js("rest.mjs")


@pytest.fixture(scope="module")
def guest_report(run_js) -> dict:
    return run_js("guest.mjs")


@pytest.fixture(scope="module")
def browser_report(run_js) -> dict:
    return run_js("browser.mjs")


def _claims(stack, token: str) -> dict:
    return pyjwt.decode(token, stack.jwt_secret, algorithms=["HS256"], audience="authenticated")


# --- /auth/v1 -------------------------------------------------------------------------------------------------------

def test_js_sign_up_and_password_sign_in(auth_report, stack):
    sign_up, sign_in = auth_report["signUp"], auth_report["signIn"]
    assert sign_up["hasSession"], "autoconfirm: signUp signs in"
    assert sign_up["email"] == auth_report["email"] and sign_up["metadata"] == {"name": "Ada", "email_verified": True}
    assert sign_in["userId"] == sign_up["userId"] and sign_in["tokenType"] == "bearer"
    assert sign_in["expiresIn"] == 3600 and sign_in["hasRefresh"]
    claims = _claims(stack, sign_in["accessToken"])
    assert claims["sub"] == sign_up["userId"] and claims["exp"] == sign_in["expiresAt"]
    assert auth_report["getSessionMatches"]


def test_js_get_user(auth_report):
    user = auth_report["getUser"]
    assert user["id"] == auth_report["signUp"]["userId"] and user["email"] == auth_report["email"]
    assert (user["role"], user["aud"], user["isAnonymous"], user["providers"]) == (
        "authenticated", "authenticated", False, ["email"])


def test_js_refresh_session_rotates_the_refresh_token(auth_report, stack):
    refresh = auth_report["refresh"]
    assert refresh["userId"] == auth_report["signUp"]["userId"] and refresh["expiresIn"] == 3600
    assert refresh["newRefresh"]
    assert _claims(stack, refresh["accessToken"])["session_id"] == _claims(
        stack, auth_report["signIn"]["accessToken"])["session_id"]
    # GoTrue's reuse interval: the parent token presented again at once answers with the current child.
    assert auth_report["replayedGetsCurrent"]


def test_js_sign_out_ends_the_session_on_the_server(auth_report):
    assert auth_report["signOutError"] is None and auth_report["sessionAfterSignOut"] is None
    # auth-js turns GoTrue's session_not_found into AuthSessionMissingError.
    assert auth_report["revokedUser"]["name"] == "AuthSessionMissingError"
    refresh = auth_report["revokedRefresh"]
    assert (refresh["name"], refresh["status"], refresh["code"]) == ("AuthApiError", 400, "refresh_token_not_found")


def test_js_auth_errors_carry_status_and_code(auth_report):
    wrong = auth_report["wrongPassword"]
    assert (wrong["name"], wrong["status"], wrong["code"], wrong["message"]) == (
        "AuthApiError", 400, "invalid_credentials", "Invalid login credentials")
    duplicate = auth_report["duplicate"]
    assert (duplicate["status"], duplicate["code"]) == (422, "user_already_exists")
    weak = auth_report["weak"]  # auth-js builds its own error class from the code and `weak_password.reasons`
    assert (weak["name"], weak["status"], weak["code"], weak["reasons"]) == (
        "AuthWeakPasswordError", 422, "weak_password", ["length"])


def test_js_sign_in_anonymously(auth_report, stack):
    anon = auth_report["anonymous"]
    assert anon["hasSession"] and anon["isAnonymous"] is True and anon["email"] == ""
    assert anon["getUserId"] == anon["userId"] and anon["getUserAnonymous"] is True
    with psycopg.connect(stack.db_url) as conn:
        row = conn.execute("select is_anonymous from auth.users where id = %s", (anon["userId"],)).fetchone()
    assert row == (True,)


def test_js_magic_link_in_the_pkce_flow(auth_report, stack):
    """supabase-js with flowType 'pkce' (as @supabase/ssr): the link redirects with ?code=, the client exchanges it
    with the verifier it kept, and the same code is refused a second time."""
    pkce = auth_report["pkce"]
    assert pkce["verifierKept"] and pkce["tokenHash"].startswith("pkce_")
    assert (pkce["clickStatus"], pkce["callback"], pkce["fragment"], pkce["hasCode"]) == (
        303, "http://localhost:3000/auth/callback", "", True)
    assert pkce["sessionEmail"] == pkce["email"] == pkce["getUserEmail"]
    assert _claims(stack, pkce["accessToken"])["amr"][0]["method"] == "magiclink"
    reused = pkce["reused"]
    assert (reused["name"], reused["status"], reused["code"]) == ("AuthApiError", 404, "flow_state_not_found")


# --- /rest/v1 -------------------------------------------------------------------------------------------------------

def test_js_rpc_create_organization(rest_report, stack):
    org = rest_report["org"]
    assert org["slug"].startswith("js-") and org["name"].startswith("JS Tour ")
    with psycopg.connect(stack.db_url) as conn:
        roles = conn.execute("select role::text from public.org_members where org_id = %s", (org["id"],)).fetchall()
    assert roles == [("owner",)]


def test_js_insert_with_and_without_select(rest_report):
    assert rest_report["inserted"] == {"name": "Huxleys", "city": "Berlin", "contacts": [], "idLength": 36}
    assert rest_report["bulk"] == {"status": 201, "data": None}, "js sends no return= Prefer: minimal"
    assert rest_report["allNames"] == ["Huxleys", "La Cigale", "Paradiso", "Razzmatazz"]
    # defaultToNull: false → missing=default: rows without a status got the column default.
    assert [s["status"] for s in rest_report["shows"]] == ["confirmed", "hold", "confirmed", "hold"]


def test_js_embedded_select(rest_report):
    assert rest_report["embedded"] == [
        {"date": "2027-03-01", "venues": {"name": "Huxleys", "city": "Berlin"}},
        {"date": "2027-03-03", "venues": {"name": "Paradiso", "city": "Amsterdam"}},
        {"date": "2027-03-05", "venues": {"name": "Razzmatazz", "city": "Barcelona"}},
        {"date": "2027-03-07", "venues": {"name": "La Cigale", "city": "Paris"}},
    ]
    # Two levels deep from the organization, ordered and limited inside the embedding.
    assert rest_report["nested"] == {"name": rest_report["org"]["name"], "shows": [
        {"date": "2027-03-01", "venues": {"name": "Huxleys", "city": "Berlin"}},
        {"date": "2027-03-03", "venues": {"name": "Paradiso", "city": "Amsterdam"}},
    ]}


def test_js_filters_order_range_and_exact_count(rest_report):
    filtered = rest_report["filtered"]
    # in(), order desc, range(1, 2): rows 2-3 of 4, the exact total parsed by js from Content-Range.
    assert filtered == {"status": 206, "count": 4, "rows": [{"title": "Barcelona", "date": "2027-03-05"},
                                                            {"title": "Amsterdam", "date": "2027-03-03"}]}
    assert rest_report["ored"] == ["La Cigale", "Paradiso"]
    assert rest_report["iliked"] == ["Razzmatazz"]
    assert rest_report["headCount"] == {"status": 200, "count": 4, "data": None}


def test_js_single_and_maybe_single(rest_report):
    assert rest_report["single"] == {"name": "Huxleys", "city": "Berlin"}
    assert rest_report["maybeNone"] == {"status": 200, "data": None}
    assert rest_report["maybeOne"] == {"name": "La Cigale"}
    many = rest_report["maybeMany"]  # decided by js itself from the array it received
    assert (many["status"], many["code"]) == (406, "PGRST116") and "4 rows" in many["details"]
    none = rest_report["singleNone"]  # decided by the server from the object Accept header
    assert (none["status"], none["code"], none["keys"]) == (406, "PGRST116", ERROR_KEYS)
    assert none["details"] == "The result contains 0 rows"


def test_js_write_without_filter_is_refused_and_writes_nothing(rest_report):
    for key, command in (("unfilteredDelete", "DELETE"), ("unfilteredUpdate", "UPDATE")):
        shape = rest_report[key]
        assert (shape["status"], shape["code"], shape["message"]) == (400, "21000", f"{command} requires a WHERE clause")
        assert shape["keys"] == ERROR_KEYS and shape["data"] is None
    after = rest_report["afterUnfiltered"]
    assert [v["name"] for v in after] == rest_report["left"]["names"] and {v["notes"] for v in after} == {None}


def test_js_update_and_delete(rest_report):
    assert rest_report["plainUpdate"] == {"status": 204, "data": None}
    assert rest_report["updated"] == {"name": "Huxleys", "city": "Berlin-Kreuzberg", "capacity": 1500}
    assert rest_report["confirmed"] == [{"title": "Amsterdam", "status": "confirmed"}]
    assert rest_report["deleted"] == [{"title": "Paris"}]
    assert rest_report["plainDelete"] == {"status": 204, "data": None}
    assert rest_report["left"] == {"count": 3, "names": ["Huxleys", "Paradiso", "Razzmatazz"]}


def test_js_rls_hides_and_refuses_another_users_org(rest_report):
    assert rest_report["foreignOrg"] == []
    assert rest_report["foreignVenues"] == {"count": 0, "data": []}
    assert rest_report["ownOrgIds"] == [rest_report["otherOrgId"]]
    refused = rest_report["foreignInsert"]
    assert (refused["status"], refused["code"], refused["keys"]) == (403, "42501", ERROR_KEYS)
    assert 'row-level security policy for table "venues"' in refused["message"]
    assert rest_report["foreignUpdate"] == {"status": 200, "data": [], "error": None}


def test_js_in_filter_keeps_a_bare_quote_inside_a_value(rest_report):
    assert rest_report["inQuoted"] == ["Bar, Tresen", "Club \"Q", "Huxleys"]


@pytest.mark.parametrize(("value", "items"), [
    ('(x"y,La Cigale)', ['x"y', "La Cigale"]),       # js leaves values without `,()` unquoted
    ('("a,b",x"y,z)', ["a,b", 'x"y', "z"]),
    ('("a\\"b",c)', ['a"b', "c"]),                  # escaped quote inside a quoted element
    ('("a"b,c)', ['"a"b', "c"]),                      # a quote that does not end the element is literal
    ("(1,2,3)", ["1", "2", "3"]),
])
def test_in_list_quotes_only_whole_elements(value, items):
    from oncore_cli.local.gateway.rest.query import parse_in_list

    assert parse_in_list(value, "name=in." + value) == items


def test_js_error_shape(rest_report):
    bad = rest_report["badCapacity"]
    assert (bad["status"], bad["code"], bad["message"], bad["keys"]) == (
        400, "23514", "capacity must be >= 0 (got -1)", ERROR_KEYS)
    duplicate = rest_report["duplicateSlug"]
    assert (duplicate["status"], duplicate["code"]) == (409, "23505") and "already taken" in duplicate["message"]
    unknown = rest_report["unknownColumn"]
    assert (unknown["status"], unknown["code"], unknown["data"]) == (400, "42703", None)
    assert unknown["message"] == "column venues.nope does not exist"


# --- venue guest ------------------------------------------------------------------------------------------------------

def test_js_guest_claims_a_code_and_reads_its_show(guest_report):
    assert guest_report["anonymous"]["isAnonymous"] is True
    assert guest_report["showsBeforeClaim"] == []
    session = guest_report["session"]
    assert guest_report["claimed"]["session_id"] == session["id"]
    assert guest_report["claimed"]["show_id"] == guest_report["showId"] == session["showId"]
    assert guest_report["claimed"]["org_id"] == guest_report["orgId"]
    assert guest_report["sheet"] == {"date": "2027-04-02", "status": "confirmed",
                                     "venues": {"name": "Vega", "city": "Copenhagen"}}


def test_js_guest_submits_hospitality(guest_report):
    submitted = guest_report["submitted"]
    assert submitted["sessionId"] == guest_report["session"]["id"] and submitted["guestCount"] == 4
    assert submitted["updatedBy"] == guest_report["anonymous"]["userId"]
    assert guest_report["seenByOwner"] == {"guest_count": 4, "updated_by": guest_report["anonymous"]["userId"]}


def test_js_guest_errors_and_limits(guest_report):
    wrong = guest_report["wrongCode"]  # a soft error: status set by the function, body shaped as PostgREST's
    assert (wrong["status"], wrong["code"], wrong["message"], wrong["keys"]) == (
        404, "PT404", "access code is not valid", ERROR_KEYS)
    unknown = guest_report["unknownField"]
    assert (unknown["status"], unknown["code"]) == (400, "22023") and "champagne" in unknown["message"]
    assert guest_report["guestOrgs"] == []
    assert (guest_report["guestVenueInsert"]["status"], guest_report["guestVenueInsert"]["code"]) == (403, "42501")


# --- from a browser page: CORS --------------------------------------------------------------------------------------

def test_js_in_a_browser_page_passes_cors(browser_report):
    """supabase-js with a fetch that enforces CORS as a browser does (tests/js/browser-fetch.mjs)."""
    user_id = browser_report["userId"]
    assert browser_report["signInUserId"] == browser_report["getUserId"] == browser_report["refreshedUserId"] == user_id
    assert browser_report["wrongPassword"]["code"] == "invalid_credentials"
    assert browser_report["counted"] == [{"name": "Doornroosje"}, {"name": "Melkweg"}]
    # Content-Range must be exposed, or js in a browser sees no count.
    assert browser_report["count"] == 3 and browser_report["headCount"] == 3
    assert browser_report["left"] == [{"name": "Doornroosje", "city": None}, {"name": "Vera", "city": "Groningen"}]
    assert browser_report["refused"]["code"] == "42501" and browser_report["refused"]["status"] == 403
    assert browser_report["noKey"] == {"status": 401, "allowOrigin": "*"}
    assert browser_report["signOutError"] is None
    preflighted = {(p["method"], p["path"]) for p in browser_report["preflights"]}
    assert {("POST", "/auth/v1/signup"), ("POST", "/auth/v1/token"), ("GET", "/auth/v1/user"),
            ("POST", "/auth/v1/logout"), ("PATCH", "/rest/v1/venues"), ("DELETE", "/rest/v1/venues")} <= preflighted
    assert all(p["refused"] is None for p in browser_report["preflights"])


ORIGIN = "http://localhost:3000"


@pytest.mark.parametrize("path", ["/auth/v1/token?grant_type=password", "/auth/v1/user", "/rest/v1/venues",
                                  "/functions/v1/hello", "/storage/v1/object/list/advancing"])
def test_preflight_is_answered_for_every_api_without_a_key(stack, path):
    requested = "apikey,authorization,content-type,x-client-info,x-supabase-api-version"
    response = httpx.options(stack.api_url + path, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": requested})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"].split(",")
    assert response.headers["access-control-allow-headers"] == requested  # echoed, as Kong does by default


def test_cross_origin_responses_are_readable(stack):
    auth = httpx.post(f"{stack.api_url}/auth/v1/token?grant_type=password", json={"email": "nobody@example.test",
                      "password": "x"}, headers={"apikey": stack.anon_key, "Origin": ORIGIN})
    assert auth.status_code == 400 and auth.headers["access-control-allow-origin"] == "*"
    assert "X-Supabase-Api-Version" in auth.headers["access-control-expose-headers"]
    rest = httpx.get(f"{stack.api_url}/rest/v1/venues?select=id", headers={
        "apikey": stack.anon_key, "Origin": ORIGIN, "Prefer": "count=exact"})
    assert rest.status_code == 200 and rest.headers["access-control-allow-origin"] == "*"
    assert "Content-Range" in rest.headers["access-control-expose-headers"]
    # Kong's own refusal (no key) is readable by the page too, and requests without Origin are left alone.
    assert httpx.get(f"{stack.api_url}/rest/v1/venues", headers={"Origin": ORIGIN}).headers[
        "access-control-allow-origin"] == "*"
    assert "access-control-allow-origin" not in httpx.get(f"{stack.api_url}/auth/v1/health",
                                                          headers={"apikey": stack.anon_key}).headers


# --- /realtime/v1 ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def realtime_report(run_js) -> dict:
    return run_js("realtime.mjs")


def test_js_realtime_guest_count_story(realtime_report):
    session = realtime_report["sessionId"]
    for who in ("owner", "guest"):
        changes = realtime_report[who]
        assert len(changes) == 1, who
        change = changes[0]
        assert change["eventType"] == "UPDATE" and change["table"] == "hospitality" and change["schema"] == "public"
        assert change["new"]["guest_count"] == 15 and change["new"]["session_id"] == session
        assert change["old"]["guest_count"] is None and change["errors"] is None
    # the outsider got its own insert and nothing else
    assert [(c["table"], c["new"]["org_id"]) for c in realtime_report["outsider"]] == \
        [("shows", realtime_report["outsiderOrg"])]


def test_js_realtime_broadcast_presence_and_system_errors(realtime_report):
    assert realtime_report["sent"] == "ok" and realtime_report["tracked"] == "ok"
    assert realtime_report["broadcast"][0]["event"] == "cue" and realtime_report["broadcast"][0]["payload"] == {"song": 7}
    joined = [j for j in realtime_report["presenceJoins"] if j["key"] == "tm"][0]
    assert joined["newPresences"][0]["role"] == "tour manager" and joined["newPresences"][0]["presence_ref"]
    error = [m for m in realtime_report["system"] if m["status"] == "error"][0]
    assert error["extension"] == "postgres_changes" and error["channel"] == "js-bad"
    assert error["message"] == 'Error parsing `filter` params: ["foo", "hey"]'.replace("hey", "1")
