"""GoTrue's error shapes. The request's `X-Supabase-Api-Version` picks the shape (GoTrue `errors.go`):
2024-01-01 or later → `{"code": "<error_code>", "message": ...}` plus the same header on the response (clients only
trust `code` when that header comes back); older or absent → `{"code": <status>, "error_code": ..., "msg": ...}`.
Both carry `x-sb-error-code`. OAuth-style errors are `{"error", "error_description"}` with status 400."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from oncore_cli.local.gateway.auth.respond import json_response

API_VERSION_HEADER = "X-Supabase-Api-Version"
API_VERSION_2024_01_01 = "2024-01-01"
_API_VERSION = re.compile(r"^2[0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")


class AuthError(Exception):
    """A GoTrue HTTP error: status, machine code (`invalid_credentials`, ...) and the human message."""

    def __init__(self, status: int, code: str, message: str, **payload: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.payload = payload  # extra top-level keys, e.g. weak_password={"reasons": [...]}


class OAuthError(Exception):
    """An OAuth2-style error (`invalid_request` ...), always 400 and without an error code."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def bad_request(code: str, message: str) -> AuthError:
    return AuthError(400, code, message)


def validation_failed(message: str, status: int = 400) -> AuthError:
    return AuthError(status, "validation_failed", message)


def wants_new_shape(request: Request) -> bool:
    version = request.headers.get(API_VERSION_HEADER, "").strip()
    return bool(_API_VERSION.match(version)) and version >= API_VERSION_2024_01_01


def render(request: Request, error: Exception) -> Response:
    if isinstance(error, OAuthError):
        return json_response({"error": error.error, "error_description": error.description}, 400)
    if not isinstance(error, AuthError):
        error = AuthError(500, "unexpected_failure",
                          "Unexpected failure, please check server logs for more information")
    headers = {"x-sb-error-code": error.code}
    if wants_new_shape(request):
        headers[API_VERSION_HEADER] = API_VERSION_2024_01_01
        body: dict[str, Any] = {"code": error.code, "message": error.message}
    else:
        body = {"code": error.status, "error_code": error.code, "msg": error.message}
    body.update(error.payload)
    return json_response(body, error.status, headers=headers)
