"""What every endpoint does before its own work: parse the JSON body the way Go's json.Unmarshal does (unknown keys
ignored, null means absent), read the Bearer token, and check the caller's level (GoTrue `auth.go`)."""

from __future__ import annotations

import functools
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from starlette.requests import Request
from starlette.responses import Response

from oncore_cli.local.gateway import jwt
from oncore_cli.local.gateway.auth import store
from oncore_cli.local.gateway.auth.errors import AuthError, OAuthError, render

log = logging.getLogger("oncore.gateway.auth")

_BEARER = re.compile(r"^(?:B|b)earer\s+(\S+)$")
ADMIN_ROLES = ("service_role", "supabase_admin")


def endpoint(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """Render AuthError/OAuthError in GoTrue's shape; anything else is a logged 500 without a traceback."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except (AuthError, OAuthError) as error:
            return render(request, error)
        except psycopg.DataError as error:  # NUL bytes, numbers out of range, ...: bad input, not a server fault
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            return render(request, AuthError(400, "validation_failed", f"Invalid input: {reason}"))
        except Exception:
            log.exception("unhandled error in %s %s", request.method, request.url.path)
            return render(request, RuntimeError())

    return wrapped


async def read_json(request: Request) -> dict[str, Any]:
    """The body as an object, with `null` values dropped (Go decodes them as "absent")."""
    raw = await request.body()
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:  # RecursionError: nested too deep to decode
        raise AuthError(400, "bad_json", f"Could not parse request body as JSON: {_json_reason(raw, e)}") from e
    if data is None:  # Go decodes `null` into a struct as "nothing set"
        return {}
    if not isinstance(data, dict):
        raise AuthError(400, "bad_json", "Could not parse request body as JSON: json: cannot unmarshal "
                        f"{type(data).__name__} into Go value of type object")
    return {k: v for k, v in data.items() if v is not None}


def _json_reason(raw: bytes, error: Exception) -> str:
    if not raw.strip():
        return "unexpected end of JSON input"
    return str(error)


def field(data: dict[str, Any], name: str, kind: type, default: Any = None) -> Any:
    """A typed field; a value of the wrong JSON type is GoTrue's bad_json (Go fails to unmarshal it)."""
    if name not in data:
        return default
    value = data[name]
    if kind is str and isinstance(value, str) or kind is dict and isinstance(value, dict) \
            or kind is bool and isinstance(value, bool) or kind is list and isinstance(value, list):
        return value
    go_type = {str: "string", dict: "map[string]interface {}", bool: "bool", list: "[]string"}[kind]
    raise AuthError(400, "bad_json", f"Could not parse request body as JSON: json: cannot unmarshal "
                    f"{_json_kind(value)} into Go struct field .{name} of type {go_type}")


def _json_kind(value: Any) -> str:
    return {bool: "bool", int: "number", float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), "value")


def bearer(request: Request) -> str:
    match = _BEARER.match(request.headers.get("authorization", "").strip())
    if not match:
        raise AuthError(401, "no_authorization", "This endpoint requires a valid Bearer token")
    return match.group(1)


def claims_of(request: Request) -> dict[str, Any]:
    """Verified claims of the Bearer token: HS256 with the project secret only (`alg: none` is refused)."""
    token = bearer(request)
    try:
        return jwt.decode(token, request.app.state.config.jwt_secret)
    except jwt.JWTError as e:
        reason = "token has invalid claims: token is expired" if e.expired else e.reason
        raise AuthError(403, "bad_jwt", f"invalid JWT: unable to parse or verify signature, {reason}") from e


def require_admin(request: Request) -> dict[str, Any]:
    claims = claims_of(request)
    if claims.get("role") not in ADMIN_ROLES:
        raise AuthError(403, "not_admin", "User not allowed")
    return claims


async def require_user(request: Request, conn) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """(claims, user row, session row or None) for a valid user token, as GoTrue's requireAuthentication."""
    claims = claims_of(request)
    sub = claims.get("sub")
    if not sub:
        raise AuthError(403, "bad_jwt", "invalid claim: missing sub claim")
    user_id = as_uuid(sub)
    if user_id is None:
        raise AuthError(400, "bad_jwt", "invalid claim: sub claim must be a UUID")
    user = await store.get_user(conn, user_id)
    if user is None:
        raise AuthError(403, "user_not_found", "User from sub claim in JWT does not exist")
    session = None
    session_id = claims.get("session_id")
    if session_id and session_id != str(uuid.UUID(int=0)):
        sid = as_uuid(session_id)
        if sid is None:
            raise AuthError(403, "bad_jwt", "invalid claim: session_id claim must be a UUID")
        session = await store.get_session(conn, sid)
        if session is None:
            raise AuthError(403, "session_not_found", "Session from session_id claim in JWT does not exist")
    if store.is_banned(user):
        raise AuthError(403, "user_banned", "User is banned")
    return claims, user, session


def as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")


def valid_email(email: str, status: int = 400) -> str:
    """GoTrue's validateEmail: required, at most 255 characters, well-formed; returned lower-cased."""
    if not email:
        raise AuthError(status, "validation_failed", "An email address is required")
    if len(email) > 255:
        raise AuthError(status, "validation_failed", "An email address is too long")
    if not _EMAIL.match(email):
        raise AuthError(status, "validation_failed", "Unable to validate email address: invalid format")
    return email.lower()


def merge_metadata(current: dict[str, Any] | None, updates: dict[str, Any]) -> dict[str, Any]:
    """GoTrue's UpdateUserMetaData: set each key, and delete the ones whose new value is null."""
    merged = dict(current or {})
    for key, value in updates.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def auth_pool(request: Request):
    return request.app.state.db.auth
