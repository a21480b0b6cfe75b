"""The auth API's limits, attacked as the review attacked them, over raw HTTP from one address: code guessing,
anonymous sign-in floods, password guessing, mail floods, and stalled or silent sockets.

The suite's shared stack raises the auth limits (tests/conftest.py); these tests start a second gateway on the same
database with supabase/config.toml's limits as they are, so every count below is the project's configuration."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from oncore_cli.local import mail
from oncore_cli.local.gateway.auth.limits import MAX_CODE_GUESSES, RateLimits
from oncore_cli.local.paths import supabase_dir

LIMITS = RateLimits.load(supabase_dir() / "config.toml")
NEW_ERRORS = {"X-Supabase-Api-Version": "2024-01-01"}  # GoTrue's {"code": "<error_code>", "message"} shape


@pytest.fixture
def gateway(extra_gateway, stack):
    """Factory: a gateway on the shared database with config.toml's auth limits and the given settings over them."""

    def start(**settings) -> SimpleNamespace:
        timeouts = {k: v for k, v in settings.items() if k.endswith("_timeout")}
        gw = extra_gateway(rate_limits={k: v for k, v in settings.items() if not k.endswith("_timeout")}, **timeouts)
        auth = httpx.Client(base_url=f"{gw.url}/auth/v1", headers={"apikey": stack.anon_key, **NEW_ERRORS}, timeout=60)
        return SimpleNamespace(url=gw.url, port=gw.port, auth=auth)

    return start


def _sign_up(auth: httpx.Client, email: str, password: str = "correct horse battery") -> dict:
    response = auth.post("/signup", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def _refused(response: httpx.Response, code: str = "over_request_rate_limit") -> bool:
    return response.status_code == 429 and response.json()["code"] == code


def _until_refused(send, per_window: float, window: float, burst: int, most: int = 1000) -> list[httpx.Response]:
    """Send until the first 429; the answers before it. A full bucket lets `burst` through at once and refills at
    `per_window / window` a second, so the count accepted is bounded by what the elapsed time allows."""
    start = time.monotonic()
    accepted: list[httpx.Response] = []
    for _ in range(most):
        response = send()
        if response.status_code == 429:
            assert _refused(response), response.text
            refilled = per_window / window * (time.monotonic() - start)
            assert burst <= len(accepted) <= burst + refilled + 1, (len(accepted), refilled)
            return accepted
        accepted.append(response)
    pytest.fail(f"{most} requests and no 429")


# -- 1: GoTrue's limits per address and per user ------------------------------------------------------------------
def test_anonymous_sign_ins_stop_at_the_hourly_limit(gateway):
    gw = gateway()
    accepted = _until_refused(lambda: gw.auth.post("/signup", json={}), LIMITS.anonymous_users, 3600,
                              int(LIMITS.anonymous_users))
    assert {r.status_code for r in accepted} == {200}
    assert gw.auth.post("/signup", json={}).json()["message"] == "Request rate limit reached"


def test_password_guessing_stops_after_the_burst(gateway, unique):
    gw = gateway()
    email = f"victim-{unique}@example.com"
    _sign_up(gw.auth, email)  # one sign-up request
    guesses = _until_refused(lambda: gw.auth.post("/token", params={"grant_type": "password"},
                                                  json={"email": email, "password": "guess"}),
                             LIMITS.token_refresh, 300, 30)
    assert {r.json()["code"] for r in guesses} == {"invalid_credentials"}
    # the right password is refused as well now: the limit is on the address, not on wrong answers
    right = gw.auth.post("/token", params={"grant_type": "password"},
                         json={"email": email, "password": "correct horse battery"})
    assert _refused(right)


def test_mail_requests_stop_after_the_burst(gateway, unique):
    gw = gateway()
    addresses = (f"flood-{i}-{unique}@example.com" for i in range(1000))
    accepted = _until_refused(lambda: gw.auth.post("/otp", json={"email": next(addresses)}),
                              LIMITS.sign_in_sign_ups, 300, 30)
    assert {r.status_code for r in accepted} == {200}


def test_one_address_gets_one_mail_per_max_frequency(gateway, stack, unique):
    gw = gateway(max_frequency=3600)  # the rule is config.toml's; an hour keeps the test free of timing
    email = f"mailbox-{unique}@example.com"
    _sign_up(gw.auth, email)
    assert gw.auth.post("/otp", json={"email": email, "create_user": False}).status_code == 200
    again = [gw.auth.post("/otp", json={"email": email, "create_user": False}) for _ in range(5)]
    assert all(_refused(r, "over_email_send_rate_limit") for r in again), [r.text for r in again]
    assert "you can only request this after" in again[0].json()["message"]
    assert len(mail.list_messages(Path(stack.data_dir), to=email)) == 1


def test_guessed_code_is_invalidated_after_a_few_wrong_tries(gateway, stack, unique):
    gw = gateway(max_frequency=0)  # a second code is asked for below
    email = f"takeover-{unique}@example.com"
    _sign_up(gw.auth, email)
    assert gw.auth.post("/otp", json={"email": email, "create_user": False}).status_code == 200
    code = mail.list_messages(Path(stack.data_dir), to=email)[-1]["otp"]
    wrong = [f"{(int(code) + i) % 1_000_000:06d}" for i in range(1, MAX_CODE_GUESSES + 1)]
    for guess in wrong:
        response = gw.auth.post("/verify", json={"type": "magiclink", "email": email, "token": guess})
        assert response.status_code == 403 and response.json()["code"] == "otp_expired"
    right = gw.auth.post("/verify", json={"type": "magiclink", "email": email, "token": code})
    assert right.status_code == 403 and right.json()["code"] == "otp_expired"  # the code is gone
    # a new code starts the count again, and fewer wrong guesses leave it usable
    assert gw.auth.post("/otp", json={"email": email, "create_user": False}).status_code == 200
    code = mail.list_messages(Path(stack.data_dir), to=email)[-1]["otp"]
    typo = f"{(int(code) + 1) % 1_000_000:06d}"
    assert gw.auth.post("/verify", json={"type": "magiclink", "email": email, "token": typo}).status_code == 403
    signed_in = gw.auth.post("/verify", json={"type": "magiclink", "email": email, "token": code})
    assert signed_in.status_code == 200 and signed_in.json()["access_token"]


def test_code_guessing_stops_after_the_burst(gateway, unique):
    gw = gateway()
    guesses = iter(range(1000))
    accepted = _until_refused(lambda: gw.auth.post("/verify", json={
        "type": "magiclink", "email": f"nobody-{unique}@example.com", "token": f"{next(guesses):06d}"}),
        LIMITS.token_verifications, 300, 30)
    assert {r.status_code for r in accepted} == {403}
    link = gw.auth.get("/verify", params={"type": "magiclink", "token": "x" * 56})
    assert _refused(link)  # clicked links share the bucket


def test_settings_come_from_config_toml():
    text = (supabase_dir() / "config.toml").read_text()
    assert "[auth.rate_limit]" in text and 'max_frequency = "1s"' in text
    assert (LIMITS.anonymous_users, LIMITS.token_refresh, LIMITS.sign_in_sign_ups, LIMITS.token_verifications,
            LIMITS.email_sent, LIMITS.max_frequency) == (30, 150, 30, 30, 2, 1.0)


# -- 3: stalled bodies and silent sockets -------------------------------------------------------------------------
def _stall(port: int, head: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(head.encode() + b"{")  # Content-Length: 1000, one byte sent
    return sock


def _stalled_request(method: str, path: str, stack, token: str) -> str:
    return (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\napikey: {stack.anon_key}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")


def test_stalled_bodies_hold_no_database_connection(gateway, stack, unique):
    gw = gateway(body_timeout=600)  # the stalls outlast the test: sign-ins must not wait for them
    email = f"stall-{unique}@example.com"
    token = _sign_up(gw.auth, email)["access_token"]
    stalled = [_stall(gw.port, _stalled_request("PUT", "/auth/v1/user", stack, token)) for _ in range(10)]
    stalled += [_stall(gw.port, _stalled_request("PATCH", "/rest/v1/shows?id=eq.0", stack, token)) for _ in range(12)]
    try:
        def sign_in(_: int) -> int:
            return gw.auth.post("/token", params={"grant_type": "password"},
                                json={"email": email, "password": "correct horse battery"}).status_code

        with ThreadPoolExecutor(4) as pool:
            assert list(pool.map(sign_in, range(4))) == [200] * 4
        rest = httpx.get(f"{gw.url}/rest/v1/shows", params={"limit": "1"},
                         headers={"apikey": stack.anon_key, "Authorization": f"Bearer {token}"}, timeout=60)
        assert rest.status_code == 200
        for sock in stalled:  # still waiting for their bodies: nothing was answered
            sock.setblocking(False)
            with pytest.raises(BlockingIOError):
                sock.recv(1)
    finally:
        for sock in stalled:
            sock.close()


def test_a_stalled_body_is_answered_408_and_closed(gateway, stack, unique):
    gw = gateway(body_timeout=1)
    token = _sign_up(gw.auth, f"slow-{unique}@example.com")["access_token"]
    with _stall(gw.port, _stalled_request("PUT", "/auth/v1/user", stack, token)) as sock:
        sock.settimeout(60)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408") and b"PGRST408" in answer


@pytest.mark.parametrize("sent", [b"", b"GET /auth/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "])
def test_silent_or_slow_header_sockets_are_closed(gateway, sent):
    gw = gateway(header_timeout=1)
    with socket.create_connection(("127.0.0.1", gw.port)) as sock:
        sock.sendall(sent)
        sock.settimeout(60)
        assert sock.recv(1) == b""  # closed by the gateway, without an answer
