"""The admin API (service_role only): /admin/users list, create, get, update, delete; /admin/generate_link;
/invite (GoTrue `admin.go`, `pagination.go`, `invite.go`)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import psycopg
from starlette.requests import Request
from starlette.responses import Response

from oncore_cli.local.gateway.auth import outbox, passwords, store
from oncore_cli.local.gateway.auth.errors import AuthError
from oncore_cli.local.gateway.auth.guard import (as_uuid, auth_pool, endpoint, field, merge_metadata, read_json,
                                                 require_admin, valid_email)
from oncore_cli.local.gateway.auth.models import user_json
from oncore_cli.local.gateway.auth.respond import json_response
from oncore_cli.local.gateway.auth.signup import create_email_user

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 1000
EMAIL_EXISTS = "A user with this email address has already been registered"
_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
_E164 = re.compile(r"^[1-9]\d{7,14}$")


async def _users_json(conn, users: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = [u["id"] for u in users]
    by_user: dict[Any, list] = {i: [] for i in ids}
    async with store.cursor(conn) as cur:
        await cur.execute("select * from auth.identities where user_id = any(%s) order by created_at, id", (ids,))
        for identity in await cur.fetchall():
            by_user[identity["user_id"]].append(identity)
    return [user_json(u, by_user[u["id"]]) for u in users]


def _page_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name, "")
    if raw == "":  # supabase-py always sends `?page=&per_page=`
        return default
    if not raw.isdigit():
        raise AuthError(400, "validation_failed", "Bad Pagination Parameters")
    return int(raw)


@endpoint
async def list_users(request: Request) -> Response:
    require_admin(request)
    page = max(1, _page_param(request, "page", 1))
    per_page = min(MAX_PER_PAGE, _page_param(request, "per_page", DEFAULT_PER_PAGE) or DEFAULT_PER_PAGE)
    search = request.query_params.get("filter", "")
    where = "instance_id = %s and aud = 'authenticated'"
    params: list[Any] = [store.NIL_UUID]
    if search:
        where += " and (email ilike %s or raw_user_meta_data->>'full_name' ilike %s)"
        like = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params += [like, like]
    async with auth_pool(request).connection() as conn:
        async with store.cursor(conn) as cur:
            await cur.execute(f"select count(*) as n from auth.users where {where}", params)
            total = (await cur.fetchone())["n"]
            await cur.execute(f"select * from auth.users where {where} order by created_at desc, id "
                              "limit %s offset %s", (*params, per_page, (page - 1) * per_page))
            users = await cur.fetchall()
        body = {"users": await _users_json(conn, users), "aud": "authenticated"}
    last = (total + per_page - 1) // per_page
    links = []
    if page < last:
        links.append(f'</admin/users?page={page + 1}&per_page={per_page}>; rel="next"')
    links.append(f'</admin/users?page={last}&per_page={per_page}>; rel="last"')
    return json_response(body, headers={"X-Total-Count": str(total), "Link": ", ".join(links)})


async def _path_user(request: Request, conn, *, lock: bool = False) -> dict[str, Any]:
    user_id = as_uuid(request.path_params["user_id"])
    if user_id is None:
        raise AuthError(404, "validation_failed", "user_id must be an UUID")
    user = await store.get_user(conn, user_id, lock=lock)
    if user is None:
        raise AuthError(404, "user_not_found", "User not found")
    return user


@endpoint
async def get_user(request: Request) -> Response:
    require_admin(request)
    async with auth_pool(request).connection() as conn:
        user = await _path_user(request, conn)
        return json_response(user_json(user, await store.get_identities(conn, user["id"])))


def _ban_until(value: str) -> datetime | None | bool:
    """Go duration ("24h", "1h30m") → the end of the ban; "none" → None (lift it); False when invalid."""
    if value == "none":
        return None
    parts = _GO_DURATION.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        raise AuthError(400, "validation_failed", "invalid format for ban duration: "
                        f"time: invalid duration \"{value}\"")
    return store.now() + timedelta(seconds=sum(float(n) * _GO_UNITS[u] for n, u in parts))


async def _password_hash(data: dict[str, Any]) -> str | None:
    password = field(data, "password", str, "")
    password_hash = field(data, "password_hash", str, "")
    if password and password_hash:
        raise AuthError(400, "validation_failed", "Only a password or a password hash should be provided")
    if password_hash:
        if not passwords.is_bcrypt_hash(password_hash):
            raise AuthError(400, "validation_failed", "Invalid password hash format")
        return password_hash
    if password:
        passwords.check_strength(password)
        return await passwords.hash_password(password)
    return None


def _phone(data: dict[str, Any]) -> str | None:
    phone = field(data, "phone", str, "")
    if not phone:
        return None
    digits = re.sub(r"[\s()+-]", "", phone)
    if not _E164.match(digits):
        raise AuthError(400, "validation_failed", "Invalid phone number format (E.164 required)")
    return digits


@endpoint
async def create_user(request: Request) -> Response:
    require_admin(request)
    data = await read_json(request)
    email = field(data, "email", str, "")
    phone = _phone(data)
    if not email and not phone:
        raise AuthError(400, "validation_failed", "Cannot create a user without either an email or phone")
    email = valid_email(email) if email else None
    user_id = field(data, "id", str, "")
    if user_id:
        user_id = as_uuid(user_id)
        if user_id is None or user_id.int == 0:
            raise AuthError(400, "validation_failed", "ID must be a valid UUID")
    banned_until = _ban_until(field(data, "ban_duration", str, "")) if field(data, "ban_duration", str, "") else None
    app_metadata = field(data, "app_metadata", dict, {})
    user_metadata = field(data, "user_metadata", dict, {})
    role = field(data, "role", str, "") or "authenticated"
    email_confirm = field(data, "email_confirm", bool, False)
    phone_confirm = field(data, "phone_confirm", bool, False)
    hashed = await _password_hash(data) or ""
    async with auth_pool(request).connection() as conn:
        try:
            async with conn.transaction():
                if email and await store.email_taken(conn, email):
                    raise AuthError(422, "email_exists", EMAIL_EXISTS)
                if email:
                    user = await create_email_user(conn, email, hashed, user_metadata, confirmed=email_confirm,
                                                   app_metadata=app_metadata, role=role, user_id=user_id,
                                                   banned_until=banned_until, phone=phone)
                else:
                    app = {"provider": "phone", "providers": ["phone"], **app_metadata}
                    user = await store.insert_user(conn, user_id=user_id or uuid.uuid4(), email=None, phone=phone,
                                                   encrypted_password=hashed, app_metadata=app,
                                                   user_metadata=user_metadata, role=role,
                                                   banned_until=banned_until)
                if phone and phone_confirm:
                    user = await store.update_user(conn, user["id"], phone_confirmed_at=store.now())
        except psycopg.errors.UniqueViolation as e:
            if "phone" in str(e):
                raise AuthError(422, "phone_exists", "A user with this phone number has already been registered") from e
            raise AuthError(422, "email_exists", EMAIL_EXISTS) from e
        return json_response(user_json(user, await store.get_identities(conn, user["id"])))


@endpoint
async def update_user(request: Request) -> Response:
    require_admin(request)
    async with auth_pool(request).connection() as conn:
        await _path_user(request, conn)
    data = await read_json(request)
    hashed = await _password_hash(data)  # without a pooled connection held
    async with auth_pool(request).connection() as conn:
        try:
            async with conn.transaction():
                user = await _path_user(request, conn, lock=True)
                columns: dict[str, Any] = {}
                email = field(data, "email", str, "")
                if email:
                    email = valid_email(email)
                    if email != user.get("email") and await store.email_taken(conn, email, user["id"]):
                        raise AuthError(422, "email_exists", EMAIL_EXISTS)
                    columns["email"] = email
                phone = _phone(data)
                if phone:
                    columns["phone"] = phone
                if hashed is not None:
                    columns["encrypted_password"] = hashed
                if field(data, "role", str, ""):
                    columns["role"] = data["role"]
                if "user_metadata" in data:
                    columns["raw_user_meta_data"] = merge_metadata(user.get("raw_user_meta_data"),
                                                                   field(data, "user_metadata", dict))
                if "app_metadata" in data:
                    columns["raw_app_meta_data"] = merge_metadata(user.get("raw_app_meta_data"),
                                                                  field(data, "app_metadata", dict))
                if field(data, "email_confirm", bool, False) and not user.get("email_confirmed_at"):
                    columns["email_confirmed_at"] = store.now()
                    columns["raw_user_meta_data"] = merge_metadata(
                        columns.get("raw_user_meta_data", user.get("raw_user_meta_data")), {"email_verified": True})
                if field(data, "phone_confirm", bool, False) and not user.get("phone_confirmed_at"):
                    columns["phone_confirmed_at"] = store.now()
                if field(data, "ban_duration", str, ""):
                    columns["banned_until"] = _ban_until(data["ban_duration"])
                if columns:
                    user = await store.update_user(conn, user["id"], **columns)
                if email:
                    await store.upsert_email_identity(conn, user["id"], email, bool(user.get("email_confirmed_at")))
        except psycopg.errors.UniqueViolation as e:
            if "phone" in str(e):
                raise AuthError(422, "phone_exists", "A user with this phone number has already been registered") from e
            raise AuthError(422, "email_exists", EMAIL_EXISTS) from e
        return json_response(user_json(user, await store.get_identities(conn, user["id"])))


@endpoint
async def delete_user(request: Request) -> Response:
    require_admin(request)
    body = await request.body()
    data = await read_json(request) if body.strip() else {}
    soft = field(data, "should_soft_delete", bool, False)
    async with auth_pool(request).connection() as conn:
        async with conn.transaction():
            user = await _path_user(request, conn, lock=True)
            if soft:
                await store.delete_sessions(conn, user["id"])
                async with conn.cursor() as cur:
                    await cur.execute("delete from auth.identities where user_id = %s", (user["id"],))
                await store.update_user(conn, user["id"], deleted_at=store.now(), email=None, phone=None,
                                        encrypted_password="", raw_user_meta_data={}, raw_app_meta_data={})
            else:
                await store.delete_user(conn, user["id"])
    return json_response({})


LINK_TYPES = ("signup", "invite", "magiclink", "recovery")


@endpoint
async def generate_link(request: Request) -> Response:
    """Like the mailer, without the mail: the user plus action_link, email_otp, hashed_token, redirect_to."""
    require_admin(request)
    data = await read_json(request)
    kind = field(data, "type", str, "")
    if kind not in LINK_TYPES:
        raise AuthError(400, "validation_failed", "Invalid email action link type requested: " + (kind or '""'))
    email = valid_email(field(data, "email", str, ""))
    metadata = field(data, "data", dict, {})
    hashed = None
    if kind == "signup":
        password = field(data, "password", str, "")
        if not password:
            raise AuthError(422, "validation_failed", "Signup requires a valid password")
        passwords.check_strength(password)
        hashed = await passwords.hash_password(password)
    async with auth_pool(request).connection() as conn:
        async with conn.transaction():
            user = await store.get_user_by_email(conn, email)
            if kind in ("signup", "invite"):
                if user is not None and user.get("email_confirmed_at"):
                    raise AuthError(422, "email_exists", EMAIL_EXISTS)
                if user is None:
                    user = await create_email_user(conn, email, hashed or "", metadata, confirmed=False)
                if kind == "invite":
                    user = await store.update_user(conn, user["id"], invited_at=store.now())
            elif user is None:
                raise AuthError(404, "user_not_found", "User with this email not found")
            link = await outbox.prepare(request, conn, user, kind, email)
            user = await store.get_user(conn, user["id"])
        body = user_json(user, await store.get_identities(conn, user["id"]))
    body.update({"action_link": link["action_link"], "email_otp": link["otp"], "hashed_token": link["hashed_token"],
                 "redirect_to": link["redirect_to"], "verification_type": kind})
    return json_response(body)


@endpoint
async def invite(request: Request) -> Response:
    require_admin(request)
    data = await read_json(request)
    email = valid_email(field(data, "email", str, ""))
    metadata = field(data, "data", dict, {})
    async with auth_pool(request).connection() as conn:
        async with conn.transaction():
            user = await store.get_user_by_email(conn, email)
            if user is not None and user.get("email_confirmed_at"):
                raise AuthError(422, "email_exists", EMAIL_EXISTS)
            if user is None:
                user = await create_email_user(conn, email, "", metadata, confirmed=False)
            user = await store.update_user(conn, user["id"], invited_at=store.now())
            await outbox.send(request, conn, user, "invite")
            user = await store.get_user(conn, user["id"])
        return json_response(user_json(user, await store.get_identities(conn, user["id"])))
