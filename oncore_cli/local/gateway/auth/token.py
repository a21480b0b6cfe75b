"""POST /token: grant_type=password, refresh_token and pkce (GoTrue `token.go`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from oncore_cli.local.gateway.auth import limits, passwords, pkce, store, tokens
from oncore_cli.local.gateway.auth.errors import AuthError, OAuthError
from oncore_cli.local.gateway.auth.guard import auth_pool, endpoint, field, read_json
from oncore_cli.local.gateway.auth.respond import json_response

INVALID_LOGIN = "Invalid login credentials"


@endpoint
async def token(request: Request) -> Response:
    grant = request.query_params.get("grant_type", "")
    if grant in ("password", "refresh_token", "pkce"):  # GoTrue: every known grant, before its own work
        limits.check(request, "token")
    if grant == "password":
        return await _password(request)
    if grant == "refresh_token":
        return await _refresh(request)
    if grant == "pkce":
        return await pkce.grant(request)
    raise AuthError(400, "invalid_credentials", "unsupported_grant_type")


async def _password(request: Request) -> Response:
    data = await read_json(request)
    email = field(data, "email", str, "")
    phone = field(data, "phone", str, "")
    password = field(data, "password", str, "")
    if email and phone:
        raise AuthError(400, "validation_failed", "Only an email address or phone number should be provided on login.")
    if phone:
        raise AuthError(422, "phone_provider_disabled", "Phone logins are disabled")
    if not email:
        raise AuthError(400, "validation_failed", "missing email or phone")
    async with auth_pool(request).connection() as conn:
        user = await store.get_user_by_email(conn, email)
    if user is None or not user.get("encrypted_password"):
        raise AuthError(400, "invalid_credentials", INVALID_LOGIN)
    if store.is_banned(user):
        raise AuthError(400, "user_banned", "User is banned")
    # no pooled connection is held during the hash: slow sign-ins must not starve other requests
    if not await passwords.verify_password(password, user["encrypted_password"]):
        raise AuthError(400, "invalid_credentials", INVALID_LOGIN)
    if user.get("email_confirmed_at") is None:
        raise AuthError(400, "email_not_confirmed", "Email not confirmed")
    async with auth_pool(request).connection() as conn:
        session = await tokens.sign_in(request, conn, user, "password")
    return json_response(session)


async def _refresh(request: Request) -> Response:
    data = await read_json(request)
    presented = field(data, "refresh_token", str, "")
    if not presented:
        raise OAuthError("invalid_request", "refresh_token required")
    async with auth_pool(request).connection() as conn:
        session = await tokens.refresh(request, conn, presented)
    return json_response(session)
