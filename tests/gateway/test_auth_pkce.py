"""The PKCE flow for e-mail links with unmodified supabase-py in `flow_type="pkce"`: the client keeps the code
verifier, the clicked link redirects with `?code=`, and `exchange_code_for_session` trades the code for a session."""

from __future__ import annotations

import base64
import hashlib
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt as pyjwt
import psycopg
import pytest
from supabase import ClientOptions, create_client
from supabase_auth.errors import AuthApiError

from oncore_cli.local import mail

CALLBACK = "http://localhost:3000/auth/callback"


def _pkce_client(stack):
    return create_client(stack.api_url, stack.anon_key, options=ClientOptions(flow_type="pkce"))


def _last(stack, to: str) -> dict:
    messages = mail.list_messages(Path(stack.data_dir), to=to)
    assert messages, f"no mail to {to}"
    return messages[-1]


def _click(link: str) -> httpx.Response:
    """A browser following the mailed link, stopped at GoTrue's redirect."""
    clicked = httpx.get(link, follow_redirects=False)
    assert clicked.status_code == 303, clicked.text
    return clicked


def _code(link: str) -> str:
    target = urlsplit(_click(link).headers["location"])
    assert target.fragment == "", "PKCE: no tokens in the fragment"
    query = parse_qs(target.query)
    assert list(query) == ["code"], query
    return query["code"][0]


def _amr(stack, token: str) -> list[str]:
    claims = pyjwt.decode(token, stack.jwt_secret, algorithms=["HS256"], audience="authenticated")
    return [entry["method"] for entry in claims["amr"]]


def _auth(stack) -> httpx.Client:
    return httpx.Client(base_url=f"{stack.api_url}/auth/v1", headers={"apikey": stack.anon_key})


def test_magic_link_code_exchanges_for_a_session_once(stack, unique):
    email = f"pkce-magic-{unique}@example.com"
    app = _pkce_client(stack)
    app.auth.sign_in_with_otp({"email": email, "options": {"email_redirect_to": CALLBACK}})
    message = _last(stack, email)
    assert message["kind"] == "magiclink" and message["token_hash"].startswith("pkce_")
    clicked = urlsplit(_click(message["link"]).headers["location"])
    assert (clicked.netloc, clicked.path) == ("localhost:3000", "/auth/callback")
    code = parse_qs(clicked.query)["code"][0]

    res = app.auth.exchange_code_for_session({"auth_code": code})
    assert res.session and res.user.email == email and res.user.email_confirmed_at
    assert _amr(stack, res.session.access_token) == ["magiclink"]
    assert app.auth.get_user().user.id == res.user.id

    with pytest.raises(AuthApiError) as err:  # a code works once
        _pkce_client(stack).auth.exchange_code_for_session({"auth_code": code, "code_verifier": "v" * 43})
    assert err.value.status == 404 and err.value.code == "flow_state_not_found"


def test_clicking_a_spent_pkce_link_redirects_with_the_error_in_query_and_fragment(stack, unique):
    email = f"pkce-twice-{unique}@example.com"
    _pkce_client(stack).auth.sign_in_with_otp({"email": email, "options": {"email_redirect_to": CALLBACK}})
    link = _last(stack, email)["link"]
    _code(link)
    target = urlsplit(_click(link).headers["location"])
    query, fragment = parse_qs(target.query), parse_qs(target.fragment, keep_blank_values=True)
    assert query["error_code"] == ["otp_expired"] and query["error"] == ["access_denied"]
    assert fragment["error_code"] == ["otp_expired"] and "sb" in fragment and "code" not in query


def test_password_reset_link_exchanges_for_a_session_that_can_set_the_password(stack, unique):
    email = f"pkce-reset-{unique}@example.com"
    _pkce_client(stack).auth.sign_up({"email": email, "password": "old-s3cret"})
    app = _pkce_client(stack)
    app.auth.reset_password_for_email(email, {"redirect_to": CALLBACK})
    message = _last(stack, email)
    assert message["kind"] == "recovery" and message["token_hash"].startswith("pkce_")

    res = app.auth.exchange_code_for_session({"auth_code": _code(message["link"])})
    assert res.session and res.user.email == email
    assert _amr(stack, res.session.access_token) == ["recovery"]
    app.auth.update_user({"password": "new-s3cret"})
    assert _pkce_client(stack).auth.sign_in_with_password({"email": email, "password": "new-s3cret"}).session


def test_wrong_code_verifier_is_refused_and_leaves_the_code_usable(stack, unique):
    email = f"pkce-verifier-{unique}@example.com"
    app = _pkce_client(stack)
    app.auth.sign_in_with_otp({"email": email})
    code = _code(_last(stack, email)["link"])
    with pytest.raises(AuthApiError) as err:
        _pkce_client(stack).auth.exchange_code_for_session({"auth_code": code, "code_verifier": "x" * 64})
    assert err.value.status == 400 and err.value.code == "bad_code_verifier"
    assert app.auth.exchange_code_for_session({"auth_code": code}).session  # GoTrue keeps it for the right one


def test_email_change_link_exchanges_for_a_session_with_the_new_address(stack, unique):
    old, new = f"pkce-old-{unique}@example.com", f"pkce-new-{unique}@example.com"
    app = _pkce_client(stack)
    app.auth.sign_up({"email": old, "password": "s3cret-pw"})
    assert app.auth.update_user({"email": new}).user.new_email == new
    message = _last(stack, new)
    assert message["kind"] == "email_change" and message["token_hash"].startswith("pkce_")
    res = app.auth.exchange_code_for_session({"auth_code": _code(message["link"])})
    assert res.user.email == new and res.user.new_email is None
    assert _amr(stack, res.session.access_token) == ["email_change"]


def test_verify_post_with_a_pkce_token_still_returns_a_session(stack, unique):
    """GoTrue's POST /verify always issues a session: the token hash as mailed, or the address and the code."""
    email = f"pkce-post-{unique}@example.com"
    _pkce_client(stack).auth.sign_in_with_otp({"email": email})
    hashed = _last(stack, email)["token_hash"]
    res = _pkce_client(stack).auth.verify_otp({"token_hash": hashed, "type": "magiclink"})
    assert res.session and res.user.email == email

    _pkce_client(stack).auth.sign_in_with_otp({"email": email})
    otp = _last(stack, email)["otp"]
    assert _pkce_client(stack).auth.verify_otp({"email": email, "token": otp, "type": "email"}).session


def test_plain_challenge_through_the_raw_api(stack, unique):
    email = f"pkce-plain-{unique}@example.com"
    verifier = secrets.token_urlsafe(48)
    with _auth(stack) as auth:
        sent = auth.post("/otp", json={"email": email, "code_challenge": verifier, "code_challenge_method": "plain"})
        assert sent.status_code == 200
        code = _code(_last(stack, email)["link"])
        res = auth.post("/token", params={"grant_type": "pkce"}, json={"auth_code": code, "code_verifier": verifier})
    assert res.status_code == 200 and res.json()["user"]["email"] == email and res.json()["refresh_token"]


def test_expired_flow_state_is_refused(stack, db_url, unique):
    email = f"pkce-expired-{unique}@example.com"
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    with _auth(stack) as auth:
        auth.post("/signup", json={"email": email, "password": "s3cret-pw"}).raise_for_status()
        auth.post("/recover", json={"email": email, "code_challenge": challenge,
                                    "code_challenge_method": "S256"}).raise_for_status()
        code = _code(_last(stack, email)["link"])
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("update auth.flow_state set created_at = now() - interval '6 minutes' where auth_code = %s",
                         (code,))
        res = auth.post("/token", params={"grant_type": "pkce"}, json={"auth_code": code, "code_verifier": verifier},
                        headers={"X-Supabase-Api-Version": "2024-01-01"})
    assert res.status_code == 422 and res.json()["code"] == "flow_state_expired"


@pytest.mark.parametrize("body,message", [
    ({"code_challenge": "a" * 43}, "PKCE flow requires code_challenge_method and code_challenge"),
    ({"code_challenge_method": "s256"}, "PKCE flow requires code_challenge_method and code_challenge"),
    ({"code_challenge": "short", "code_challenge_method": "s256"}, "code challenge has to be between 43 and 128"),
    ({"code_challenge": "a" * 42 + "!", "code_challenge_method": "s256"}, "code challenge can only contain"),
])
def test_malformed_challenges_are_refused_before_any_mail(stack, unique, body, message):
    email = f"pkce-bad-{unique}@example.com"
    with _auth(stack) as auth:
        for path in ("/otp", "/recover"):
            res = auth.post(path, json={"email": email, **body})
            assert res.status_code == 400 and res.json()["error_code"] == "validation_failed"
            assert res.json()["msg"].startswith(message)
    assert mail.list_messages(Path(stack.data_dir), to=email) == []


def test_pkce_grant_input_errors(stack):
    with _auth(stack) as auth:
        missing = auth.post("/token", params={"grant_type": "pkce"}, json={"auth_code": "abc"})
        unknown = auth.post("/token", params={"grant_type": "pkce"},
                            json={"auth_code": "00000000-0000-0000-0000-000000000000", "code_verifier": "v" * 43})
    assert missing.status_code == 400 and missing.json()["error_code"] == "validation_failed"
    assert unknown.status_code == 404 and unknown.json()["error_code"] == "flow_state_not_found"


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _exchange(auth: httpx.Client, code: str, verifier: str) -> httpx.Response:
    return auth.post("/token", params={"grant_type": "pkce"}, json={"auth_code": code, "code_verifier": verifier})


def test_magic_link_code_lives_five_minutes_from_the_click(stack, db_url, unique):
    """GoTrue's IsExpired: a magic link's flow state counts from the code's issue (the click), not its creation."""
    email = f"pkce-clicked-{unique}@example.com"
    verifier = secrets.token_urlsafe(48)
    with _auth(stack) as auth, psycopg.connect(db_url, autocommit=True) as conn:
        auth.post("/otp", json={"email": email, "code_challenge": _challenge(verifier),
                                "code_challenge_method": "s256"}).raise_for_status()
        conn.execute("update auth.flow_state set created_at = now() - interval '6 minutes' where user_id = "
                     "(select id from auth.users where email = %s)", (email,))
        first = _code(_last(stack, email)["link"])
        assert _exchange(auth, first, verifier).status_code == 200  # created long ago, clicked just now

        auth.post("/otp", json={"email": email, "code_challenge": _challenge(verifier),
                                "code_challenge_method": "s256"}).raise_for_status()
        second = _code(_last(stack, email)["link"])
        conn.execute("update auth.flow_state set auth_code_issued_at = now() - interval '6 minutes' "
                     "where auth_code = %s", (second,))
        expired = _exchange(auth, second, verifier)
    assert expired.status_code == 422 and expired.json()["error_code"] == "flow_state_expired"


def test_pkce_link_without_its_flow_state_redirects_with_an_error_and_stays_valid(stack, db_url, unique):
    email = f"pkce-lost-{unique}@example.com"
    verifier = secrets.token_urlsafe(48)
    with _auth(stack) as auth, psycopg.connect(db_url, autocommit=True) as conn:
        auth.post("/otp", json={"email": email, "code_challenge": _challenge(verifier),
                                "code_challenge_method": "s256"}).raise_for_status()
        message = _last(stack, email)
        park = "update auth.flow_state set authentication_method = %s where user_id = %s and authentication_method = %s"
        conn.execute(park, ("parked", message["user_id"], "magiclink"))
        target = urlsplit(_click(message["link"]).headers["location"])
        assert parse_qs(target.query)["error_code"] == ["flow_state_not_found"]
        conn.execute(park, ("magiclink", message["user_id"], "parked"))
        # the failed click rolled back: the same link now yields the code
        assert _exchange(auth, _code(message["link"]), verifier).status_code == 200


def test_concurrent_exchanges_of_one_code_yield_one_session(stack, unique):
    from concurrent.futures import ThreadPoolExecutor

    email = f"pkce-race-{unique}@example.com"
    verifier = secrets.token_urlsafe(48)
    with _auth(stack) as auth:
        auth.post("/otp", json={"email": email, "code_challenge": _challenge(verifier),
                                "code_challenge_method": "s256"}).raise_for_status()
        code = _code(_last(stack, email)["link"])
        with ThreadPoolExecutor(8) as pool:
            statuses = sorted(pool.map(lambda _: _exchange(auth, code, verifier).status_code, range(8)))
    assert statuses == [200] + [404] * 7


def test_resend_of_an_email_change_in_the_pkce_flow(stack, unique):
    old, new = f"pkce-resend-{unique}@example.com", f"pkce-resent-{unique}@example.com"
    app = _pkce_client(stack)
    app.auth.sign_up({"email": old, "password": "s3cret-pw"})
    app.auth.update_user({"email": new}, {"email_redirect_to": CALLBACK})
    verifier = secrets.token_urlsafe(48)
    with _auth(stack) as auth:
        auth.post("/resend", json={"type": "email_change", "email": old, "code_challenge": _challenge(verifier),
                                   "code_challenge_method": "s256"}).raise_for_status()
        message = _last(stack, new)
        assert message["token_hash"].startswith("pkce_")
        res = _exchange(auth, _code(message["link"]), verifier)
    assert res.status_code == 200 and res.json()["user"]["email"] == new


def test_a_database_from_before_flow_state_says_how_to_get_it(db_url):
    """Stacks bootstrapped before auth.flow_state existed: a real query on a missing table becomes a clear 500."""
    import asyncio

    from oncore_cli.local.gateway.auth import pkce
    from oncore_cli.local.gateway.auth.errors import AuthError

    async def query_a_missing_table() -> None:
        async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
            async with pkce._flow_states():
                await conn.execute("select * from auth.no_such_flow_state_table")

    with pytest.raises(AuthError) as err:
        asyncio.run(query_a_missing_table())
    assert err.value.status == 500 and "oncore local reset" in err.value.message


def test_sign_up_in_the_pkce_flow_returns_a_session_and_validates_the_challenge(stack, unique):
    """Autoconfirm: sign-up answers a session in either flow, but a malformed challenge is refused as GoTrue does."""
    email = f"pkce-signup-{unique}@example.com"
    assert _pkce_client(stack).auth.sign_up({"email": email, "password": "s3cret-pw"}).session
    with _auth(stack) as auth:
        bad = auth.post("/signup", json={"email": f"pkce-signup-bad-{unique}@example.com", "password": "s3cret-pw",
                                         "code_challenge": "short", "code_challenge_method": "s256"})
    assert bad.status_code == 400 and bad.json()["error_code"] == "validation_failed"
