"""Passwordless e-mail: POST /otp (code + magic link), POST/GET /verify, POST /recover, POST /resend
(GoTrue `otp.go`, `magic_link.go`, `verify.go`, `recover.go`, `resend.go`). Mails go to the local outbox."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from oncore_cli.local.gateway.auth import limits, outbox, pkce, policy, store, tokens
from oncore_cli.local.gateway.auth.errors import AuthError
from oncore_cli.local.gateway.auth.guard import auth_pool, endpoint, field, merge_metadata, read_json, valid_email
from oncore_cli.local.gateway.auth.respond import json_response
from oncore_cli.local.gateway.auth.signup import create_email_user
from oncore_cli.local.gateway.auth.user import confirm_email_change

EMAIL_TYPES = ("signup", "invite", "magiclink", "recovery", "email_change", "email")
TOKEN_EXPIRED = "Token has expired or is invalid"
LINK_EXPIRED = "Email link is invalid or has expired"


@endpoint
async def otp(request: Request) -> Response:
    limits.check(request, "magiclink" if request.url.path.endswith("/magiclink") else "otp")
    data = await read_json(request)
    email = field(data, "email", str, "")
    phone = field(data, "phone", str, "")
    create_user = field(data, "create_user", bool, True)
    metadata = field(data, "data", dict, {})
    if email and phone:
        raise AuthError(400, "validation_failed", "Only an email address or phone number should be provided")
    if phone:
        raise AuthError(400, "phone_provider_disabled", "Unsupported phone provider")
    if not email:
        raise AuthError(400, "validation_failed", "One of email or phone must be set")
    email = valid_email(email)
    challenge = pkce.challenge_of(data)
    async with auth_pool(request).connection() as conn:
        try:
            async with conn.transaction():
                user = await store.get_user_by_email(conn, email)
                if user is None:
                    if not create_user:
                        raise AuthError(422, "otp_disabled", "Signups not allowed for otp")
                    user = await create_email_user(conn, email, "", metadata, confirmed=policy.MAILER_AUTOCONFIRM)
                kind = "magiclink" if user.get("email_confirmed_at") else "signup"
                if challenge:  # GoTrue: a magic link's flow state, or the sign-up's one for an unconfirmed user
                    await pkce.save_flow_state(conn, user["id"], challenge, pkce.AUTH_METHODS[kind],
                                               "magiclink" if kind == "magiclink" else "email")
                await outbox.send(request, conn, user, kind, pkce=bool(challenge))
        except psycopg.errors.UniqueViolation as e:
            raise AuthError(422, "user_already_exists", "User already registered") from e
    return json_response({})


@endpoint
async def recover(request: Request) -> Response:
    limits.check(request, "recover")
    data = await read_json(request)
    email = field(data, "email", str, "")
    if not email:
        raise AuthError(422, "validation_failed", "Password recovery requires an email")
    email = valid_email(email)
    challenge = pkce.challenge_of(data)
    async with auth_pool(request).connection() as conn:
        async with conn.transaction():
            user = await store.get_user_by_email(conn, email)
            if user is not None:  # an unknown address gets the same answer: no account enumeration
                if challenge:
                    await pkce.save_flow_state(conn, user["id"], challenge, "recovery")
                await outbox.send(request, conn, user, "recovery", pkce=bool(challenge))
    return json_response({})


@endpoint
async def resend(request: Request) -> Response:
    limits.check(request, "resend")
    data = await read_json(request)
    kind = field(data, "type", str, "")
    email = field(data, "email", str, "")
    phone = field(data, "phone", str, "")
    if kind not in ("signup", "email_change", "sms", "phone_change"):
        raise AuthError(400, "validation_failed", "Missing one of these types: signup, email_change, sms, phone_change")
    if kind in ("sms", "phone_change") or phone:
        raise AuthError(400, "phone_provider_disabled", "Phone logins are disabled")
    email = valid_email(email)
    challenge = pkce.challenge_of(data)
    async with auth_pool(request).connection() as conn:
        async with conn.transaction():
            user = await store.get_user_by_email(conn, email)
            if user is not None:
                if kind == "signup" and not user.get("email_confirmed_at"):
                    if challenge:
                        await pkce.save_flow_state(conn, user["id"], challenge, "email/signup")
                    await outbox.send(request, conn, user, "signup", pkce=bool(challenge))
                elif kind == "email_change" and user.get("email_change"):
                    if challenge:
                        await pkce.save_flow_state(conn, user["id"], challenge, "email_change")
                    await outbox.send(request, conn, user, "email_change", to=user["email_change"],
                                      pkce=bool(challenge))
    return json_response({})


@endpoint
async def verify_post(request: Request) -> Response:
    limits.check(request, "verify")
    data = await read_json(request)
    kind = field(data, "type", str, "")
    token = field(data, "token", str, "")
    hashed = field(data, "token_hash", str, "")
    email = field(data, "email", str, "")
    phone = field(data, "phone", str, "")
    if not kind:
        raise AuthError(400, "validation_failed", "Verify requires a verification type")
    if bool(token) == bool(hashed):
        raise AuthError(400, "validation_failed", "Verify requires either a token or a token hash")
    if token and phone and not email:
        raise AuthError(400, "phone_provider_disabled", "Phone logins are disabled")
    if token and not email:
        raise AuthError(400, "validation_failed", "Only an email address or phone number should be provided on verify")
    if hashed and (email or phone or field(data, "redirect_to", str, "")):
        raise AuthError(400, "validation_failed", "Only the token_hash and type should be provided")
    if kind not in EMAIL_TYPES:
        raise AuthError(400, "validation_failed", "Unsupported verification type")
    if token:
        email = valid_email(email, 422)
        hashed = outbox.token_hash(email, token)
    try:
        async with auth_pool(request).connection() as conn:
            async with conn.transaction():
                user, kind = await _find(conn, kind, hashed, email or None)
                user = await _apply(conn, user, kind)
                session = await tokens.sign_in(request, conn, user, "otp")
    except AuthError as error:
        if token and error.code == "otp_expired":
            await _wrong_code(request, email)
        raise
    limits.limits_of(request).new_code(user["id"])
    return json_response(session)


async def _wrong_code(request: Request, email: str) -> None:
    """Count a wrong code typed for `email`; the last allowed guess ends every code pending for that address."""
    async with auth_pool(request).connection() as conn:
        async with conn.transaction():
            async with store.cursor(conn) as cur:
                await cur.execute("select id from auth.users where (lower(email) = %s or lower(email_change) = %s) "
                                  "and aud = 'authenticated'", (email, email))
                users = await cur.fetchall()
            for user in users:
                if limits.limits_of(request).wrong_code(user["id"]):
                    await store.update_user(conn, user["id"], confirmation_token="", recovery_token="",
                                            email_change_token_new="", email_change_token_current="")
                    await outbox.clear(conn, user["id"])


@endpoint
async def verify_get(request: Request) -> Response:
    """A clicked link: 303 to redirect_to with the session (or the error) in the URL fragment; a PKCE link (its
    token starts with `pkce_`) gets `?code=<auth_code>` instead, and its errors in the query as well."""
    kind = request.query_params.get("type", "")
    token = request.query_params.get("token", "")
    redirect_to = outbox.redirect_target(request)
    limits.check(request, "verify")
    if not kind:
        raise AuthError(400, "validation_failed", "Verify requires a verification type")
    if not token:
        raise AuthError(400, "validation_failed", "Verify requires a token or a token hash")
    is_pkce = token.startswith(pkce.PREFIX)
    try:
        if kind not in EMAIL_TYPES or kind == "email":
            raise AuthError(400, "validation_failed", "Unsupported verification type")
        async with auth_pool(request).connection() as conn:
            async with conn.transaction():
                user, kind = await _find(conn, kind, token, None)
                user = await _apply(conn, user, kind)
                if is_pkce:
                    code = await pkce.issue_auth_code(conn, user["id"], kind)
                else:
                    session = await tokens.sign_in(request, conn, user, "otp")
    except AuthError as error:
        fragment = {"error": _OAUTH_ERRORS.get(error.status, ""), "error_code": error.code,
                    "error_description": error.message, "sb": ""}
        url = _with_fragment(redirect_to, fragment)
        if is_pkce:
            url = _with_query(url, {k: v for k, v in fragment.items() if k != "sb" and v})
        return RedirectResponse(url, status_code=303)
    if is_pkce:
        return RedirectResponse(_with_query(redirect_to, {"code": code}), status_code=303)
    fragment = {"access_token": session["access_token"], "expires_at": str(session["expires_at"]),
                "expires_in": str(session["expires_in"]), "refresh_token": session["refresh_token"],
                "sb": "", "token_type": session["token_type"], "type": kind}
    return RedirectResponse(_with_fragment(redirect_to, fragment), status_code=303)


_OAUTH_ERRORS = {400: "invalid_request", 401: "unauthorized_client", 403: "access_denied", 500: "server_error"}


def _with_fragment(url: str, values: dict[str, str]) -> str:
    parts = urlsplit(url)
    fragment = urlencode(sorted((k, v) for k, v in values.items() if v is not None))  # Go's Values.Encode sorts
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, fragment))


def _with_query(url: str, values: dict[str, str]) -> str:
    """`url` with each of `values` set in its query (replacing a parameter of the same name), sorted as Go does."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in values]
    query = sorted(query + list(values.items()), key=lambda kv: kv[0])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


# type → user columns compared with the token hash, in GoTrue's order (type "email" tries signup, then magiclink)
_COLUMNS = {"signup": [("signup", "confirmation_token", "confirmation_sent_at")],
            "invite": [("invite", "confirmation_token", "confirmation_sent_at")],
            "magiclink": [("magiclink", "recovery_token", "recovery_sent_at")],
            "recovery": [("recovery", "recovery_token", "recovery_sent_at")],
            "email_change": [("email_change", "email_change_token_new", "email_change_sent_at")],
            "email": [("signup", "confirmation_token", "confirmation_sent_at"),
                      ("magiclink", "recovery_token", "recovery_sent_at")]}


async def _find(conn, kind: str, hashed: str, email: str | None) -> tuple[dict[str, Any], str]:
    """The user whose stored token for `kind` equals `hashed` and has not expired → (user, resolved type)."""
    message = TOKEN_EXPIRED if email else LINK_EXPIRED
    async with store.cursor(conn) as cur:
        if email:
            await cur.execute("select * from auth.users where (lower(email) = %s or lower(email_change) = %s) "
                              "and aud = 'authenticated' order by (lower(email) = %s) desc limit 1 for update",
                              (email, email, email))
            candidates = [await cur.fetchone()]
        else:
            await cur.execute("select * from auth.users where %s in (confirmation_token, recovery_token, "
                              "email_change_token_new) for update", (hashed,))
            candidates = await cur.fetchall()
    for user in candidates:
        if user is None:
            continue
        for resolved, token_column, sent_column in _COLUMNS[kind]:
            stored, sent_at = user.get(token_column), user.get(sent_column)
            if not stored or sent_at is None or not _same_token(stored, hashed, by_code=bool(email)):
                continue
            if store.now() > sent_at + timedelta(seconds=policy.OTP_SECONDS):
                raise AuthError(403, "otp_expired", message)
            if store.is_banned(user):
                raise AuthError(403, "user_banned", "User is banned")
            return user, resolved
    raise AuthError(403, "otp_expired", message)


def _same_token(stored: str, hashed: str, *, by_code: bool) -> bool:
    """A link's token equals the stored one; a code typed in also matches its PKCE-marked form (isOtpValid)."""
    if by_code and stored.startswith(pkce.PREFIX):
        stored = stored[len(pkce.PREFIX):]
    return secrets.compare_digest(stored.encode(), hashed.encode())


async def _apply(conn, user: dict[str, Any], kind: str) -> dict[str, Any]:
    """What a verified token does: confirm the address, consume the token, or switch to the new address."""
    if kind == "email_change":
        return await confirm_email_change(conn, user, user["email_change"])
    columns: dict[str, Any] = {"recovery_token": ""} if kind in ("magiclink", "recovery") \
        else {"confirmation_token": ""}
    if not user.get("email_confirmed_at"):
        columns["email_confirmed_at"] = store.now()
        columns["raw_user_meta_data"] = merge_metadata(user.get("raw_user_meta_data"), {"email_verified": True})
        await store.upsert_email_identity(conn, user["id"], user["email"], True)
    user = await store.update_user(conn, user["id"], **columns)
    await outbox.clear(conn, user["id"])
    return user
