"""PKCE for e-mail links (GoTrue `pkce.go`, `models/flow_state.go`, the pkce grant of `token.go`).

A request carrying `code_challenge` saves a flow state for the user and marks the mailed token with `pkce_`; the
clicked link then redirects with `?code=<auth_code>` instead of a session, and `POST /token?grant_type=pkce`
trades that code plus the code verifier for a session, once."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import psycopg
from starlette.requests import Request
from starlette.responses import Response

from oncore_cli.local.gateway.auth import policy, store, tokens
from oncore_cli.local.gateway.auth.errors import AuthError
from oncore_cli.local.gateway.auth.guard import auth_pool, field, read_json
from oncore_cli.local.gateway.auth.respond import json_response

PREFIX = "pkce_"
_CHALLENGE = re.compile(r"^[a-zA-Z._~0-9-]+$")  # RFC 7636 section 4.2
_METHODS = ("s256", "plain")

# verification type of a link → the flow state's authentication_method (GoTrue AuthenticationMethod.String())
AUTH_METHODS = {"signup": "email/signup", "invite": "invite", "magiclink": "magiclink", "recovery": "recovery",
                "email_change": "email_change"}


@asynccontextmanager
async def _flow_states() -> AsyncIterator[None]:
    """The bootstrap SQL runs once per cluster: a stack created before auth.flow_state existed says how to get it."""
    try:
        yield
    except psycopg.errors.UndefinedTable as e:
        raise AuthError(500, "unexpected_failure", "auth.flow_state is missing: this local database predates PKCE "
                        "support; `oncore local reset` recreates it") from e


def challenge_of(data: dict[str, Any]) -> tuple[str, str] | None:
    """(code_challenge, method) when the body asks for the PKCE flow, None for the implicit flow; GoTrue's
    validatePKCEParams decides what is malformed."""
    challenge = field(data, "code_challenge", str, "")
    method = field(data, "code_challenge_method", str, "")
    if bool(challenge) != bool(method):
        raise AuthError(400, "validation_failed", "PKCE flow requires code_challenge_method and code_challenge")
    if not challenge:
        return None
    if not 43 <= len(challenge) <= 128:
        raise AuthError(400, "validation_failed", "code challenge has to be between 43 and 128 characters")
    if not _CHALLENGE.match(challenge):
        raise AuthError(400, "validation_failed", "code challenge can only contain alphanumeric characters, "
                        "hyphens, periods, underscores and tildes")
    if method.lower() not in _METHODS:
        # GoTrue fails later (NewFlowState) with a 500; refused up front here, before any mail goes out
        raise AuthError(400, "validation_failed", f"unsupported code_challenge method {method!r}")
    return challenge, method.lower()


async def save_flow_state(conn, user_id: uuid.UUID | str, challenge: tuple[str, str], authentication_method: str,
                          provider_type: str | None = None) -> None:
    code, method = challenge
    async with _flow_states(), conn.cursor() as cur:
        # GoTrue's cleanup of abandoned flows, a hundred at a time
        await cur.execute("delete from auth.flow_state where id in (select id from auth.flow_state "
                          "where created_at < now() - interval '24 hours' limit 100 for update skip locked)")
        await cur.execute(
            """insert into auth.flow_state (id, user_id, auth_code, code_challenge_method, code_challenge,
                 provider_type, authentication_method, created_at, updated_at)
               values (%s, %s, %s, %s, %s, %s, %s, now(), now())""",
            (uuid.uuid4(), str(user_id), str(uuid.uuid4()), method, code, provider_type or authentication_method,
             authentication_method))


async def issue_auth_code(conn, user_id: uuid.UUID | str, kind: str) -> str:
    """The auth code of the user's latest flow state for a verified link of `kind` (GoTrue issueAuthCode)."""
    async with _flow_states(), store.cursor(conn) as cur:
        await cur.execute("select * from auth.flow_state where user_id = %s and authentication_method = %s "
                          "order by created_at desc, id desc limit 1", (str(user_id), AUTH_METHODS.get(kind, kind)))
        flow = await cur.fetchone()
        if flow is None or not flow["code_challenge"]:
            raise AuthError(400, "flow_state_not_found", "No associated flow state found. No valid flow state found "
                            "for user.")
        await cur.execute("update auth.flow_state set auth_code_issued_at = now(), updated_at = now() where id = %s",
                          (flow["id"],))
    return flow["auth_code"]


def verifier_matches(challenge: str, method: str, verifier: str) -> bool:
    if method.lower() == "s256":
        digest = hashlib.sha256(verifier.encode()).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    else:
        expected = verifier
    return secrets.compare_digest(challenge.encode(), expected.encode())


def is_expired(flow: dict[str, Any]) -> bool:
    """GoTrue's FlowState.IsExpired: magic links count from the code's issue, everything else from creation."""
    start = flow["created_at"]
    if flow.get("auth_code_issued_at") and flow["authentication_method"] == "magiclink":
        start = flow["auth_code_issued_at"]
    return store.now() > start + timedelta(seconds=policy.FLOW_STATE_SECONDS)


async def grant(request: Request) -> Response:
    """POST /token?grant_type=pkce: {auth_code, code_verifier} → Session; the flow state is consumed."""
    data = await read_json(request)
    auth_code = field(data, "auth_code", str, "")
    verifier = field(data, "code_verifier", str, "")
    if not auth_code or not verifier:
        raise AuthError(400, "validation_failed", "invalid request: both auth code and code verifier should be "
                        "non-empty")
    async with auth_pool(request).connection() as conn, _flow_states():
        async with conn.transaction():
            async with store.cursor(conn) as cur:
                # the row lock makes a second exchange of the same code wait, then find it gone
                await cur.execute("select * from auth.flow_state where auth_code = %s limit 1 for update",
                                  (auth_code,))
                flow = await cur.fetchone()
            user = await store.get_user(conn, flow["user_id"]) if flow and flow["user_id"] else None
            if user is None:
                raise AuthError(404, "flow_state_not_found", "invalid flow state, no valid flow state found")
            if is_expired(flow):
                raise AuthError(422, "flow_state_expired", "invalid flow state, flow state has expired")
            if not flow["code_challenge"] or not verifier_matches(flow["code_challenge"],
                                                                  flow["code_challenge_method"] or "", verifier):
                raise AuthError(400, "bad_code_verifier",
                                "code challenge does not match previously saved code verifier")
            session = await tokens.sign_in(request, conn, user, flow["authentication_method"])
            async with conn.cursor() as cur:
                await cur.execute("delete from auth.flow_state where id = %s", (flow["id"],))
    return json_response(session)
