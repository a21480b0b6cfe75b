"""GET /user, PUT /user, POST /logout, GET /reauthenticate (GoTrue `user.go`, `logout.go`)."""

from __future__ import annotations

import psycopg
from starlette.requests import Request
from starlette.responses import Response

from oncore_cli.local.gateway.auth import limits, outbox, passwords, pkce, policy, store
from oncore_cli.local.gateway.auth.errors import AuthError
from oncore_cli.local.gateway.auth.guard import (auth_pool, endpoint, field, merge_metadata, read_json,
                                                 require_user, valid_email)
from oncore_cli.local.gateway.auth.models import user_json
from oncore_cli.local.gateway.auth.respond import json_response

LOGOUT_SCOPES = ("global", "local", "others")


@endpoint
async def get_user(request: Request) -> Response:
    async with auth_pool(request).connection() as conn:
        claims, user, _ = await require_user(request, conn)
        if claims.get("aud") != (user.get("aud") or "authenticated"):
            raise AuthError(400, "validation_failed", "Token audience doesn't match request audience")
        return json_response(user_json(user, await store.get_identities(conn, user["id"])))


@endpoint
async def update_user(request: Request) -> Response:
    async with auth_pool(request).connection() as conn:
        _, user, session = await require_user(request, conn)
        limits.check(request, "user")
        data = await read_json(request)
        email = field(data, "email", str, "")
        phone = field(data, "phone", str, "")
        password = field(data, "password", str, None)
        metadata = field(data, "data", dict, None)
        if field(data, "app_metadata", dict, None) is not None:
            raise AuthError(403, "not_admin", "Updating app_metadata requires admin privileges")
        if phone:
            raise AuthError(422, "phone_provider_disabled", "Phone logins are disabled")
        if email:
            email = valid_email(email, 422)
        changing_email = bool(email) and email != (user.get("email") or "")
        if user["is_anonymous"] and password and not changing_email and not user.get("email"):
            raise AuthError(422, "validation_failed",
                            "Updating password of an anonymous user without an email or phone is not allowed")
        if changing_email and await store.email_taken(conn, email, user["id"]):
            raise AuthError(422, "email_exists", "A user with this email address has already been registered")
        challenge = pkce.challenge_of(data) if changing_email else None
    hashed = None
    if password:  # hashing without a pooled connection held
        passwords.check_strength(password)
        if await passwords.verify_password(password, user.get("encrypted_password")):
            raise AuthError(422, "same_password", "New password should be different from the old password.")
        hashed = await passwords.hash_password(password)
    async with auth_pool(request).connection() as conn:
        try:
            user = await _apply_update(request, conn, user, session, hashed, metadata,
                                       email if changing_email else "", challenge)
        except psycopg.errors.UniqueViolation as e:  # a concurrent request took the address
            raise AuthError(422, "email_exists", "A user with this email address has already been registered") from e
        return json_response(user_json(user, await store.get_identities(conn, user["id"])))


async def _apply_update(request: Request, conn, user: dict, session: dict | None, hashed: str | None,
                        metadata: dict | None, new_email: str, challenge: tuple[str, str] | None = None) -> dict:
    async with conn.transaction():
        user = await store.get_user(conn, user["id"], lock=True)
        if hashed is not None:
            user = await store.update_user(conn, user["id"], encrypted_password=hashed)
            # a new password ends every other session, as GoTrue's UpdatePassword does
            await store.delete_sessions(conn, user["id"], keep=session["id"] if session else None)
        if metadata is not None:
            user = await store.update_user(conn, user["id"], raw_user_meta_data=merge_metadata(
                user.get("raw_user_meta_data"), metadata))
        if new_email:
            if user["is_anonymous"] and policy.MAILER_AUTOCONFIRM:
                user = await confirm_email_change(conn, user, new_email)
            else:
                user = await store.update_user(conn, user["id"], email_change=new_email)
                if challenge:  # the PKCE flow: the link will come back with ?code= for this flow state
                    await pkce.save_flow_state(conn, user["id"], challenge, "email_change")
                await outbox.send(request, conn, user, "email_change", to=new_email, pkce=bool(challenge))
                user = await store.get_user(conn, user["id"])
    return user


async def confirm_email_change(conn, user: dict, email: str) -> dict:
    """Make `email` the user's confirmed address (GoTrue emailChangeVerify): email identity, not anonymous any more."""
    app = dict(user.get("raw_app_meta_data") or {})
    providers = list(app.get("providers") or [])
    if "email" not in providers:
        providers.append("email")
    app.update({"provider": app.get("provider") or "email", "providers": providers})
    user_meta = {**(user.get("raw_user_meta_data") or {}), "email_verified": True}
    user = await store.update_user(
        conn, user["id"], email=email, email_change="", email_change_token_new="", email_change_token_current="",
        email_change_confirm_status=0, is_anonymous=False, raw_app_meta_data=app, raw_user_meta_data=user_meta,
        email_confirmed_at=user.get("email_confirmed_at") or store.now())
    await store.upsert_email_identity(conn, user["id"], email, True)
    await outbox.clear(conn, user["id"])
    return user


@endpoint
async def logout(request: Request) -> Response:
    async with auth_pool(request).connection() as conn:
        _, user, session = await require_user(request, conn)
        scope = request.query_params.get("scope") or "global"
        if scope not in LOGOUT_SCOPES:
            raise AuthError(400, "validation_failed", f"Unsupported logout scope {scope!r}")
        async with conn.transaction():
            if scope == "global":
                await store.delete_sessions(conn, user["id"])
            elif session is not None and scope == "local":
                await store.delete_sessions(conn, user["id"], only=session["id"])
            elif session is not None:
                await store.delete_sessions(conn, user["id"], keep=session["id"])
    return Response(status_code=204)


@endpoint
async def reauthenticate(request: Request) -> Response:
    async with auth_pool(request).connection() as conn:
        await require_user(request, conn)
    return json_response({})
