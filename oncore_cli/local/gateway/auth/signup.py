"""POST /signup: e-mail + password (autoconfirm → a Session), or anonymous sign-in when neither email nor phone."""

from __future__ import annotations

import uuid

import psycopg
from starlette.requests import Request
from starlette.responses import Response

from oncore_cli.local.gateway.auth import limits, passwords, pkce, policy, store, tokens
from oncore_cli.local.gateway.auth.errors import AuthError
from oncore_cli.local.gateway.auth.guard import auth_pool, endpoint, field, read_json, valid_email
from oncore_cli.local.gateway.auth.respond import json_response

EMAIL_APP_METADATA = {"provider": "email", "providers": ["email"]}


@endpoint
async def signup(request: Request) -> Response:
    data = await read_json(request)
    email = field(data, "email", str, "")
    phone = field(data, "phone", str, "")
    password = field(data, "password", str, "")
    metadata = field(data, "data", dict, {})
    if not email and not phone:
        return await _anonymous(request, metadata)
    limits.check(request, "signup")
    if email and phone:
        raise AuthError(400, "validation_failed", "Only an email address or phone number should be provided on signup.")
    if phone:
        raise AuthError(400, "phone_provider_disabled", "Phone signups are disabled")
    email = valid_email(email)
    if not password:
        raise AuthError(422, "validation_failed", "Signup requires a valid password")
    passwords.check_strength(password)
    pkce.challenge_of(data)  # validated as GoTrue does; with autoconfirm the answer is a session in either flow
    async with auth_pool(request).connection() as conn:
        if await store.get_user_by_email(conn, email) is not None:
            raise AuthError(422, "user_already_exists", "User already registered")
    hashed = await passwords.hash_password(password)  # without a pooled connection: it takes tens of ms
    async with auth_pool(request).connection() as conn:
        try:
            async with conn.transaction():
                user = await create_email_user(conn, email, hashed, metadata, confirmed=policy.MAILER_AUTOCONFIRM)
                session = await tokens.sign_in(request, conn, user, "password")
        except psycopg.errors.UniqueViolation as e:  # a concurrent sign-up with the same address won
            raise AuthError(422, "user_already_exists", "User already registered") from e
    return json_response(session)


async def create_email_user(conn, email: str, hashed: str, metadata: dict, *, confirmed: bool,
                            app_metadata: dict | None = None, role: str = "authenticated", user_id=None,
                            banned_until=None, phone: str | None = None) -> dict:
    """A user with an `email` identity; confirming adds `email_verified: true` to user_metadata, as GoTrue does."""
    user_id = user_id or uuid.uuid4()
    user_metadata = {**metadata, "email_verified": True} if confirmed else dict(metadata)
    app = {**EMAIL_APP_METADATA, **(app_metadata or {})}
    user = await store.insert_user(conn, user_id=user_id, email=email, phone=phone, encrypted_password=hashed,
                                   app_metadata=app, user_metadata=user_metadata, role=role,
                                   email_confirmed=confirmed, banned_until=banned_until)
    await store.upsert_email_identity(conn, user_id, email, confirmed)
    return user


async def _anonymous(request: Request, metadata: dict) -> Response:
    if not policy.ANONYMOUS_USERS:
        raise AuthError(422, "anonymous_provider_disabled", "Anonymous sign-ins are disabled")
    limits.check(request, "anonymous")
    async with auth_pool(request).connection() as conn:
        async with conn.transaction():
            user = await store.insert_user(conn, user_id=uuid.uuid4(), email=None, encrypted_password="",
                                           app_metadata={}, user_metadata=metadata, is_anonymous=True)
            session = await tokens.sign_in(request, conn, user, "anonymous")
    return json_response(session)
