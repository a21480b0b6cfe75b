"""Typed errors and the one place that turns any exception into `oncore: <one line>` plus an exit code.

Exit codes (the CLI contract): 0 ok · 1 error · 2 usage / bad input · 3 not found · 4 not logged in or forbidden ·
5 conflict. Services raise the typed errors below; library exceptions (httpx, PostgREST, GoTrue) are mapped here,
checked through `sys.modules` so that this module imports nothing heavy.
"""

from __future__ import annotations

import sys


class OncoreError(Exception):
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(OncoreError):
    exit_code = 2


class NotFoundError(OncoreError):
    exit_code = 3


class AuthError(OncoreError):
    """Not logged in, or logged in but refused by the server (RLS, roles)."""

    exit_code = 4


class ConflictError(OncoreError):
    exit_code = 5


class NotLoggedIn(AuthError):
    def __init__(self, message: str = "not logged in: run oncore login") -> None:
        super().__init__(message)


class ConnectionFailed(OncoreError):
    def __init__(self, url: str) -> None:
        hint = "is the local stack running? try oncore local start" if _is_local(url) else "check the URL and your network"
        super().__init__(f"cannot reach {url}: {hint}")


def _is_local(url: str) -> bool:
    return any(host in url for host in ("127.0.0.1", "localhost", "[::1]"))


# PostgREST / PostgreSQL error codes → our classes. Anything not listed falls back to the HTTP status.
_PG_CODES: dict[str, type[OncoreError]] = {
    "42501": AuthError,        # insufficient_privilege (RLS / grants)
    "23505": ConflictError,    # unique_violation
    "23503": ConflictError,    # foreign_key_violation (e.g. deleting a venue that still has shows)
    "23P01": ConflictError,    # exclusion_violation
    "40001": ConflictError,    # serialization_failure
    "22P02": UsageError,       # invalid_text_representation (bad uuid, bad enum)
    "22007": UsageError,       # invalid_datetime_format
    "22008": UsageError,       # datetime_field_overflow
    "22023": UsageError,       # invalid_parameter_value (e.g. unknown time zone)
    "23514": UsageError,       # check_violation
    "23502": UsageError,       # not_null_violation
    "22001": UsageError,       # string too long
    "P0002": NotFoundError,    # no_data_found raised by an RPC
    "PGRST116": NotFoundError, # .single() with no rows
    "PGRST301": NotLoggedIn,   # JWT expired / invalid
    "PGRST302": NotLoggedIn,   # anonymous access disabled
    "PGRST202": NotFoundError, # function not found
    "PGRST205": NotFoundError, # table not found
}


# GoTrue codes meaning the session is over (logged out elsewhere, expired, revoked).
_SESSION_GONE = frozenset({"session_not_found", "session_expired", "bad_jwt", "no_authorization", "user_not_found",
                           "refresh_token_not_found", "refresh_token_already_used"})


def for_status(status: int, message: str) -> OncoreError:
    if status in (401,):
        return NotLoggedIn() if not message else AuthError(message)
    if status == 403:
        return AuthError(message)
    if status == 404:
        return NotFoundError(message)
    if status == 409:
        return ConflictError(message)
    if 400 <= status < 500:
        return UsageError(message)
    return OncoreError(message)


def from_postgrest(status: int, body: object) -> OncoreError:
    """A PostgREST error answer ({code, message, details, hint}) as one typed error."""
    if not isinstance(body, dict):
        return for_status(status, f"server answered {status}")
    code = str(body.get("error_code") or body.get("code") or "")  # GoTrue: error_code; PostgREST: code
    message = str(body.get("message") or body.get("msg") or body.get("error") or f"server answered {status}")
    if code == "user_not_found" or "sub claim in JWT does not exist" in message:
        return NotLoggedIn("this server does not know the user you are logged in as (was the local stack reset?): "
                           "run oncore login again, or oncore signup")
    if code == "42501" and "row-level security" in message:
        return AuthError(f"permission denied: {_rls_hint(message)}")
    if code == "42501" or status == 403:
        message = f"permission denied: {message}" if not message.startswith("permission denied") else message
    if code in ("PGRST301", "PGRST302") or (status == 401 and "JWT" in message) or code in _SESSION_GONE:
        return NotLoggedIn()
    details = body.get("details")
    if code in ("23505", "23503") and details:
        message = f"{message} ({details})"
    cls = _PG_CODES.get(code)
    return cls(message) if cls else for_status(status, message)


# The least role that may write each table (docs/backend.md), for RLS refusals that name only the table.
_WRITERS = {"shows": "member", "venues": "member", "hospitality": "member", "technical": "member",
            "production": "member", "advancing_sessions": "admin", "org_members": "admin", "organizations": "admin"}


def _rls_hint(message: str) -> str:
    """'new row violates row-level security policy for table "shows"' in words a user can act on."""
    import re

    match = re.search(r'table "([^"]+)"', message)
    table = match.group(1) if match else None
    if table in _WRITERS:
        return (f"writing {table.replace('_', ' ')} needs the {_WRITERS[table]} role or higher in this organization "
                f"(see oncore members list)")
    return f"{message} (your role in this organization does not allow it)"


def from_storage(status: int, body: object) -> OncoreError:
    """A Storage API error ({statusCode, error, message}; HTTP 400 carries the real status in `statusCode`)."""
    if not isinstance(body, dict):
        return for_status(status, f"server answered {status}")
    message = str(body.get("message") or body.get("error") or f"server answered {status}")
    try:
        logical = int(str(body.get("statusCode") or status))
    except ValueError:
        logical = status
    if logical == 403 and any(w in message.lower() for w in ("jwt", "exp", "token")) \
            and "row-level security" not in message:
        return NotLoggedIn()
    if logical == 403:
        return AuthError(f"permission denied: {message}")
    return for_status(logical, message)


def describe(exc: BaseException) -> tuple[str, int]:
    """The one line to print (without the `oncore: ` prefix) and the exit code, for any exception."""
    if isinstance(exc, OncoreError):
        return exc.message, exc.exit_code
    transport = sys.modules.get("oncore_cli.core.http")
    if transport is not None and isinstance(exc, transport.TransportError):
        if exc.kind == "connect":
            return ConnectionFailed(exc.origin).message, 1
        if exc.kind == "timeout":
            return f"{exc.origin} did not answer in time: try again", 1
        return f"the connection to {exc.origin} broke: try again", 1
    httpx = sys.modules.get("httpx")
    if httpx is not None:
        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
            url = str(exc.request.url.copy_with(path="/", query=None)).rstrip("/") if _has_request(exc) else "the server"
            return ConnectionFailed(url).message, 1
        if isinstance(exc, httpx.TimeoutException):
            return "the server did not answer in time: try again", 1
        if isinstance(exc, httpx.HTTPError):
            return f"network error: {exc}", 1
    postgrest = sys.modules.get("postgrest.exceptions")
    if postgrest is not None and isinstance(exc, postgrest.APIError):  # if supabase-py's REST client was used
        err = from_postgrest(400, {"code": exc.code, "message": exc.message, "details": exc.details})
        return err.message, err.exit_code
    gotrue = sys.modules.get("supabase_auth.errors")
    if gotrue is not None and isinstance(exc, gotrue.AuthError):
        return auth_error_line(exc)
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", 130
    if isinstance(exc, (PermissionError, FileNotFoundError)):
        return str(exc), 1
    return f"{type(exc).__name__}: {exc} (set ONCORE_DEBUG=1 for the traceback)", 1


def _has_request(exc) -> bool:
    try:
        exc.request  # noqa: B018 - httpx raises RuntimeError when the request is unset
        return True
    except RuntimeError:
        return False


def auth_error_line(exc) -> tuple[str, int]:
    code = getattr(exc, "code", None)
    status = getattr(exc, "status", 0) or 0
    message = getattr(exc, "message", None) or str(exc)
    if code == "invalid_credentials":
        return ("wrong e-mail or password, or no such account: try again, use oncore login --otp for an e-mail "
                "code, or create an account with oncore signup"), 4
    if code in ("otp_disabled", "signup_disabled") and "otp" in message.lower():
        return "no account with that e-mail address: create one with oncore signup", 4
    if code == "user_already_exists":
        return "an account with that e-mail address exists already: run oncore login", 5
    if code == "weak_password":
        return f"password too weak: {message}", 2
    if code in ("refresh_token_not_found", "refresh_token_already_used", "session_not_found", "session_expired",
                "bad_jwt", "no_authorization"):
        return NotLoggedIn().message, 4
    if code == "otp_expired":
        return "the code is wrong or has expired: run oncore login --otp again", 4
    if code in ("email_not_confirmed",):
        return "e-mail not confirmed: open the confirmation mail, then run oncore login", 4
    if code in ("over_request_rate_limit", "over_email_send_rate_limit"):
        return f"too many attempts: {message}", 1
    if status in (401, 403):
        return f"not allowed: {message}", 4
    if 400 <= status < 500:
        return message, 2
    return f"auth server error: {message}", 1


def report(exc: BaseException) -> int:
    """Print the one line (and the traceback when ONCORE_DEBUG is set) on stderr; return the exit code."""
    from oncore_cli.core.config import debug

    if isinstance(exc, BrokenPipeError):
        # The reader went away (`oncore shows list | head`): not an error. Point stdout at /dev/null so the
        # interpreter's final flush does not fail again.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    message, code = describe(exc)
    if debug():
        import traceback

        traceback.print_exception(exc)
    sys.stderr.write(f"oncore: {message}\n")
    sys.stderr.flush()
    return code
