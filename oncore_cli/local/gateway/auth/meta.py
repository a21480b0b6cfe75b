"""GET /health, GET /settings, GET /.well-known/jwks.json and GoTrue's JSON 404 for unknown paths."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from oncore_cli.local.gateway.auth import policy
from oncore_cli.local.gateway.auth.errors import AuthError
from oncore_cli.local.gateway.auth.guard import endpoint
from oncore_cli.local.gateway.auth.respond import json_response


@endpoint
async def health(request: Request) -> Response:
    return json_response({"version": policy.VERSION, "name": "GoTrue",
                          "description": "GoTrue is a user registration and authentication API"})


@endpoint
async def settings(request: Request) -> Response:
    return json_response(policy.settings_json())


@endpoint
async def jwks(request: Request) -> Response:
    return json_response({"keys": []})  # HS256 only: clients never need a public key


def fallback(routes):
    """Unknown path → 404, known path with another method → 405, both in GoTrue's error shape."""

    @endpoint
    async def not_found(request: Request) -> Response:
        scope = dict(request.scope, path=request.scope.get("path", ""))
        for route in routes:
            if route.name != "fallback" and route.matches(scope)[0] == Match.PARTIAL:
                raise AuthError(405, "method_not_allowed", "Method Not Allowed")
        raise AuthError(404, "not_found", "Not Found")

    return not_found
