"""CORS for every API, as hosted Supabase's Kong does it (its `cors` plugin with the default configuration on each
service): browsers running supabase-js preflight every call (it sends `apikey`, `authorization`, `x-client-info`,
JSON bodies) and may only read a cross-origin response that carries `Access-Control-Allow-Origin`."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Kong's default `methods`; `headers` unset means the requested ones are echoed.
ALLOW_METHODS = "GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT"
# Used when a preflight names no headers: what supabase-js may send.
DEFAULT_ALLOW_HEADERS = ("authorization, apikey, content-type, accept, x-client-info, x-supabase-api-version, prefer, "
                         "range, accept-profile, content-profile, x-retry-count")
# What the clients read from responses: PostgREST's exposed headers (Content-Range for counts) and GoTrue's
# (X-Supabase-Api-Version for error codes, X-Total-Count and Link for admin user lists).
EXPOSE_HEADERS = ("Content-Encoding, Content-Location, Content-Range, Content-Type, Date, Location, Server, "
                  "Transfer-Encoding, Range-Unit, X-Total-Count, Link, X-Supabase-Api-Version")


class CorsMiddleware:
    """Answers preflights before any key check (they carry no `apikey`) and marks every response to a request with
    an `Origin` as readable from any origin."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if "origin" not in headers:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await _preflight(headers)(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                response_headers["Access-Control-Allow-Origin"] = "*"
                if "access-control-expose-headers" not in response_headers:
                    response_headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_cors)


def _preflight(headers: Headers) -> Response:
    return Response(b"", status_code=200, headers={
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": ALLOW_METHODS,
        "Access-Control-Allow-Headers": headers.get("access-control-request-headers") or DEFAULT_ALLOW_HEADERS,
    })
