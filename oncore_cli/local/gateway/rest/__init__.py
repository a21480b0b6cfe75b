"""/rest/v1: PostgREST-compatible REST (placeholder until the rest module lands)."""

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def root(request: Request) -> JSONResponse:
    return JSONResponse({"swagger": "2.0", "info": {"title": "oncore local"}, "paths": {}})


routes = [Route("/", root)]
