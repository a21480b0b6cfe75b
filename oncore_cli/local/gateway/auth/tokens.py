"""Sessions, access tokens and refresh-token rotation (GoTrue `tokens/service.go`).

A sign-in creates a session row (with its `amr`) and the first refresh token; each refresh revokes the presented
token and issues a child (`parent` = the old token), so a session's tokens form one chain."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

import psycopg
from starlette.requests import Request

from oncore_cli.local.gateway import jwt
from oncore_cli.local.gateway.auth import policy, store
from oncore_cli.local.gateway.auth.errors import AuthError
from oncore_cli.local.gateway.auth.models import user_json


def access_token(config, user: dict[str, Any], session: dict[str, Any]) -> tuple[str, int]:
    """An HS256 access token with GoTrue's claims, in GoTrue's order; returns (token, exp)."""
    iat = int(time.time())
    exp = iat + policy.ACCESS_TOKEN_SECONDS
    claims = {
        "iss": f"{config.api_url}/auth/v1",
        "sub": str(user["id"]),
        "aud": user.get("aud") or "authenticated",
        "exp": exp,
        "iat": iat,
        "email": user.get("email") or "",
        "phone": user.get("phone") or "",
        "app_metadata": user.get("raw_app_meta_data") or {},
        "user_metadata": user.get("raw_user_meta_data") or {},
        "role": user.get("role") or "authenticated",
        "aal": session.get("aal") or "aal1",
        "amr": session.get("amr") or [],
        "session_id": str(session["id"]),
        "is_anonymous": bool(user.get("is_anonymous")),
    }
    return jwt.encode(claims, config.jwt_secret), exp


async def session_response(request: Request, conn, user: dict[str, Any], session: dict[str, Any],
                           refresh_token: str) -> dict[str, Any]:
    identities = await store.get_identities(conn, user["id"])
    token, exp = access_token(request.app.state.config, user, session)
    return {"access_token": token, "token_type": "bearer", "expires_in": exp - int(time.time()), "expires_at": exp,
            "refresh_token": refresh_token, "user": user_json(user, identities)}


async def sign_in(request: Request, conn, user: dict[str, Any], method: str) -> dict[str, Any]:
    """Start a session for `user` (authenticated by `method`: password, otp, anonymous, ...) → Session JSON."""
    client = request.client.host if request.client else None
    async with conn.transaction():
        session = await store.create_session(conn, user["id"], method, request.headers.get("user-agent"), client)
        token = await store.insert_refresh_token(conn, user["id"], session["id"])
        user = await store.update_user(conn, user["id"], last_sign_in_at=store.now())
        return await session_response(request, conn, user, session, token["token"])


async def refresh(request: Request, conn, presented: str) -> dict[str, Any]:
    """The refresh_token grant, with GoTrue's reuse detection; row locks serialise concurrent refreshes."""
    family_revoked = False
    try:
        async with conn.transaction():
            async with conn.cursor() as cur:
                await cur.execute(f"set local lock_timeout = '{policy.LOCK_TIMEOUT}'")
            result = await _rotate(request, conn, presented)
            if result is None:
                family_revoked = True  # committed on purpose: the revocation stands although the request fails
    except psycopg.errors.LockNotAvailable as e:
        raise AuthError(409, "conflict", "Too many concurrent token refresh requests on the same session or "
                        "refresh token") from e
    if family_revoked:
        raise AuthError(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used")
    return result


async def _rotate(request: Request, conn, presented: str) -> dict[str, Any] | None:
    async with store.cursor(conn) as cur:
        await cur.execute("select * from auth.refresh_tokens where token = %s for update", (presented,))
        token = await cur.fetchone()
    if token is None:
        raise AuthError(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found")
    try:
        user = await store.get_user(conn, uuid.UUID(token["user_id"]))
    except (TypeError, ValueError):
        user = None
    if user is None:
        raise AuthError(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found")
    if store.is_banned(user):
        raise AuthError(400, "user_banned", "Invalid Refresh Token: User Banned")
    session = await store.get_session(conn, token["session_id"], lock=True) if token["session_id"] else None
    if session is None:
        raise AuthError(400, "session_not_found", "Invalid Refresh Token: No Valid Session Found")
    if session.get("not_after") and session["not_after"] < store.now():
        raise AuthError(400, "session_expired", "Invalid Refresh Token: Session Expired")

    issued = None
    if token["revoked"]:
        async with store.cursor(conn) as cur:
            await cur.execute("select * from auth.refresh_tokens where session_id = %s and revoked = false "
                              "order by id desc limit 1", (session["id"],))
            active = await cur.fetchone()
        if active is not None and active["parent"] == token["token"]:
            issued = active["token"]  # the client lost the last response: hand back the active token
        elif store.now() > token["updated_at"] + timedelta(seconds=policy.REFRESH_TOKEN_REUSE_SECONDS):
            async with conn.cursor() as cur:
                await cur.execute("update auth.refresh_tokens set revoked = true, updated_at = now() "
                                  "where session_id = %s and revoked = false", (session["id"],))
            return None
    if issued is None:
        async with conn.cursor() as cur:
            await cur.execute("update auth.refresh_tokens set revoked = true, updated_at = now() where id = %s "
                              "and revoked = false", (token["id"],))
        child = await store.insert_refresh_token(conn, user["id"], session["id"], parent=token["token"])
        issued = child["token"]
        user = await store.update_user(conn, user["id"], last_sign_in_at=store.now())
    async with conn.cursor() as cur:
        await cur.execute("update auth.sessions set refreshed_at = now() at time zone 'utc', updated_at = now() "
                          "where id = %s", (session["id"],))
    return await session_response(request, conn, user, session, issued)
