"""Refresh-token rotation and reuse detection, logout scopes, and tokens GoTrue must refuse (expired, forged with
`alg: none` or another secret, wrong shape). Raw httpx where supabase-py hides the exact exchange."""

from __future__ import annotations

import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import jwt as pyjwt
import psycopg
import pytest
from supabase import create_client
from supabase_auth.errors import AuthApiError


@pytest.fixture
def auth(stack):
    with httpx.Client(base_url=f"{stack.api_url}/auth/v1", headers={"apikey": stack.anon_key}) as http:
        yield http


def _sign_up(auth, unique: str, tag: str = "tok") -> dict:
    r = auth.post("/signup", json={"email": f"{tag}-{unique}@example.com", "password": "s3cret-pw"})
    assert r.status_code == 200, r.text
    return r.json()


def _refresh(auth, token: str) -> httpx.Response:
    return auth.post("/token", params={"grant_type": "refresh_token"}, json={"refresh_token": token})


def _claims(stack, token: str) -> dict:
    return pyjwt.decode(token, stack.jwt_secret, algorithms=["HS256"], audience="authenticated")


def _age_refresh_token(db_url: str, token: str, seconds: int = 60) -> None:
    """Move a token's last change out of the 10 s reuse interval (as if that much time had passed)."""
    with psycopg.connect(db_url) as conn:
        conn.execute("update auth.refresh_tokens set updated_at = updated_at - make_interval(secs => %s) "
                     "where token = %s", (seconds, token))


def test_refresh_rotates_and_keeps_session_and_amr(auth, stack, unique):
    first = _sign_up(auth, unique)
    r = _refresh(auth, first["refresh_token"])
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"] and len(second["refresh_token"]) == 12
    old, new = _claims(stack, first["access_token"]), _claims(stack, second["access_token"])
    assert new["session_id"] == old["session_id"] and new["amr"] == old["amr"]
    assert second["user"]["id"] == first["user"]["id"] and second["expires_in"] > 3500


def test_lost_response_returns_the_active_child(auth, unique):
    first = _sign_up(auth, unique)
    child = _refresh(auth, first["refresh_token"]).json()["refresh_token"]
    again = _refresh(auth, first["refresh_token"])
    assert again.status_code == 200 and again.json()["refresh_token"] == child


def test_reuse_outside_the_interval_revokes_the_family(auth, stack, db_url, unique):
    first = _sign_up(auth, unique)
    t1 = _refresh(auth, first["refresh_token"]).json()["refresh_token"]
    t2 = _refresh(auth, t1).json()["refresh_token"]  # t0 is now a grandparent: not the lost-response case
    _age_refresh_token(db_url, first["refresh_token"])
    r = _refresh(auth, first["refresh_token"])
    assert r.status_code == 400 and r.json()["error_code"] == "refresh_token_already_used"
    assert r.json()["msg"] == "Invalid Refresh Token: Already Used"
    with psycopg.connect(db_url) as conn:
        revoked = conn.execute("select bool_and(revoked) from auth.refresh_tokens where session_id = %s",
                               (_claims(stack, first["access_token"])["session_id"],)).fetchone()[0]
    assert revoked, "the whole family is revoked, and that revocation is committed"
    _age_refresh_token(db_url, t2)
    r = _refresh(auth, t2)
    assert r.status_code == 400 and r.json()["error_code"] == "refresh_token_already_used"


def test_reuse_inside_the_interval_is_tolerated(auth, unique):
    first = _sign_up(auth, unique)
    t1 = _refresh(auth, first["refresh_token"]).json()["refresh_token"]
    _refresh(auth, t1)
    r = _refresh(auth, first["refresh_token"])  # just rotated twice: still inside the 10 s window
    assert r.status_code == 200 and r.json()["refresh_token"] not in (first["refresh_token"], t1)


def test_concurrent_refreshes_of_one_token_all_get_the_same_child(auth, stack, unique):
    first = _sign_up(auth, unique)

    def one(_):
        with httpx.Client(base_url=f"{stack.api_url}/auth/v1", headers={"apikey": stack.anon_key}) as http:
            return _refresh(http, first["refresh_token"])

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(one, range(8)))
    assert [r.status_code for r in responses] == [200] * 8
    assert len({r.json()["refresh_token"] for r in responses}) == 1


def test_refresh_errors(auth, unique):
    r = auth.post("/token", params={"grant_type": "refresh_token"}, json={})
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_request", "error_description": "refresh_token required"}
    r = _refresh(auth, f"unknown{unique}")
    assert r.status_code == 400 and r.json()["error_code"] == "refresh_token_not_found"


def test_supabase_py_refresh_session(stack, unique):
    client = create_client(stack.api_url, stack.anon_key)
    res = client.auth.sign_up({"email": f"pyrefresh-{unique}@example.com", "password": "s3cret-pw"})
    refreshed = client.auth.refresh_session()
    assert refreshed.session.refresh_token != res.session.refresh_token
    assert client.auth.get_session().access_token == refreshed.session.access_token


def test_logout_scopes(auth, stack, unique):
    email = f"logout-{unique}@example.com"
    sessions = [_sign_up(auth, unique, "logout")]
    for _ in range(3):
        sessions.append(auth.post("/token", params={"grant_type": "password"},
                                  json={"email": email, "password": "s3cret-pw"}).json())

    def logout(session, scope):
        return auth.post("/logout", params={"scope": scope} if scope else None,
                         headers={"Authorization": f"Bearer {session['access_token']}"})

    def alive(session):
        return auth.get("/user", headers={"Authorization": f"Bearer {session['access_token']}"}).status_code == 200

    assert logout(sessions[0], "bogus").status_code == 400
    r = logout(sessions[0], "local")
    assert r.status_code == 204 and r.content == b""
    assert [alive(s) for s in sessions] == [False, True, True, True]
    gone = auth.get("/user", headers={"Authorization": f"Bearer {sessions[0]['access_token']}"})
    assert gone.status_code == 403 and gone.json()["error_code"] == "session_not_found"
    assert _refresh(auth, sessions[0]["refresh_token"]).json()["error_code"] == "refresh_token_not_found"
    assert logout(sessions[1], "others").status_code == 204
    assert [alive(s) for s in sessions] == [False, True, False, False]
    assert logout(sessions[1], None).status_code == 204  # no scope means global
    assert not any(alive(s) for s in sessions)


def test_supabase_py_sign_out_ends_the_session_on_the_server(stack, unique):
    client = create_client(stack.api_url, stack.anon_key)
    res = client.auth.sign_up({"email": f"pyout-{unique}@example.com", "password": "s3cret-pw"})
    client.auth.sign_out()
    assert client.auth.get_session() is None
    with pytest.raises(AuthApiError) as err:
        client.auth.get_user(res.session.access_token)
    assert err.value.status == 403 and err.value.code == "session_not_found"


def _forge(claims: dict, secret: str | None, alg: str = "HS256") -> str:
    if secret is None:  # alg none: header and payload, empty signature
        def part(obj):
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
        return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."
    return pyjwt.encode(claims, secret, algorithm=alg)


def test_invalid_expired_and_forged_tokens_are_refused(auth, stack, unique):
    session = _sign_up(auth, unique, "forged")
    claims = _claims(stack, session["access_token"])
    now = int(time.time())
    cases = {
        "expired": _forge({**claims, "iat": now - 7200, "exp": now - 3600}, stack.jwt_secret),
        "alg none": _forge(claims, None),
        "wrong secret": _forge(claims, "another-secret-that-is-long-enough-0123456789"),
        "garbage": "not-a-jwt",
        "tampered": session["access_token"][:-4] + ("AAAA" if not session["access_token"].endswith("AAAA") else "BBBB"),
    }
    client = create_client(stack.api_url, stack.anon_key)
    for name, token in cases.items():
        r = auth.get("/user", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 403 and r.json()["error_code"] == "bad_jwt", name
        with pytest.raises(AuthApiError) as err:
            client.auth.get_user(token)
        assert err.value.status == 403 and err.value.code == "bad_jwt", name
    r = auth.get("/user")
    assert r.status_code == 401 and r.json()["error_code"] == "no_authorization"
    r = auth.get("/user", headers={"Authorization": f"Bearer {stack.anon_key}"})
    assert r.status_code == 403 and r.json()["msg"] == "invalid claim: missing sub claim"
    assert auth.get("/user", headers={"Authorization": f"Bearer {session['access_token']}"}).status_code == 200


def test_token_of_a_deleted_user_is_user_not_found(auth, stack, unique):
    session = _sign_up(auth, unique, "deleted")
    r = httpx.delete(f"{stack.api_url}/auth/v1/admin/users/{session['user']['id']}",
                     headers={"apikey": stack.service_role_key, "Authorization": f"Bearer {stack.service_role_key}"})
    assert r.status_code == 200
    r = auth.get("/user", headers={"Authorization": f"Bearer {session['access_token']}"})
    assert r.status_code == 403 and r.json()["error_code"] == "user_not_found"
    assert _refresh(auth, session["refresh_token"]).json()["error_code"] == "refresh_token_not_found"
