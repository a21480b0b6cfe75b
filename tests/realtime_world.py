"""The people of the realtime tests, made through the stack's own APIs: a tour manager who owns an organization with
two shows and an advancing session each, a venue guest admitted to each session (anonymous sign-in +
claim_access_code), and an outsider who belongs to no organization."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import httpx
import psycopg

from oncore_cli.local.gateway.jwt import encode


@dataclass
class RealtimeWorld:
    tm_id: str
    tm_email: str
    tm: str            # access tokens
    guest: str         # venue guest of session
    other_guest: str   # venue guest of other_session
    outsider: str
    org: str
    venue: str
    show: str
    other_show: str
    session: str
    other_session: str


def user_token(stack, user_id: str, *, exp_in: int = 3600, anonymous: bool = False) -> str:
    return encode({"sub": user_id, "role": "authenticated", "aud": "authenticated", "exp": int(time.time()) + exp_in,
                   "session_id": str(uuid.uuid4()), "is_anonymous": anonymous}, stack.jwt_secret)


def make_member(stack, label: str) -> tuple[str, str, str]:
    user_id = str(uuid.uuid4())
    email = f"rt-{label}-{user_id[:8]}@example.test"
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        conn.execute("insert into auth.users (id, aud, role, email, email_confirmed_at) "
                     "values (%s, 'authenticated', 'authenticated', %s, now())", (user_id, email))
    return user_id, email, user_token(stack, user_id)


def rest(stack, token: str, method: str, path: str, body=None, prefer: str = "return=representation"):
    headers = {"apikey": stack.anon_key, "Authorization": f"Bearer {token}", "Prefer": prefer}
    response = httpx.request(method, f"{stack.api_url}/rest/v1/{path}", json=body, headers=headers, timeout=30)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def rpc(stack, token: str, name: str, args: dict):
    return rest(stack, token, "POST", f"rpc/{name}", args)


def venue_guest(stack, code: str) -> str:
    """Anonymous sign-in, then claim the session's code: the venue side's way in."""
    response = httpx.post(f"{stack.api_url}/auth/v1/signup", json={}, headers={"apikey": stack.anon_key}, timeout=30)
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    rpc(stack, token, "claim_access_code", {"code": code})
    return token


def make_world(stack, unique: str) -> RealtimeWorld:
    tm_id, tm_email, tm = make_member(stack, f"tm-{unique}")
    _, _, outsider = make_member(stack, f"out-{unique}")
    org = rpc(stack, tm, "create_organization", {"name": f"Realtime {unique}", "slug": f"rt-{unique}"})["id"]
    venue = rest(stack, tm, "POST", "venues", {"org_id": org, "name": "Gebäude 9", "city": "Köln", "country": "DE",
                                               "timezone": "Europe/Berlin"})[0]["id"]
    shows = rest(stack, tm, "POST", "shows", [{"org_id": org, "venue_id": venue, "date": "2027-03-14",
                                               "status": "confirmed"},
                                              {"org_id": org, "venue_id": venue, "date": "2027-03-15",
                                               "status": "hold"}])
    first = rpc(stack, tm, "create_advancing_session", {"show_id": shows[0]["id"]})
    second = rpc(stack, tm, "create_advancing_session", {"show_id": shows[1]["id"]})
    return RealtimeWorld(tm_id, tm_email, tm, venue_guest(stack, first["access_code"]),
                         venue_guest(stack, second["access_code"]), outsider, org, venue, shows[0]["id"],
                         shows[1]["id"], first["session_id"], second["session_id"])
