"""/auth/v1: GoTrue-compatible auth (placeholder until the auth module lands)."""

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"version": "oncore-local", "name": "GoTrue",
                         "description": "GoTrue is a user registration and authentication API"})


routes = [Route("/health", health)]
