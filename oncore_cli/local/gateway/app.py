"""The gateway: one ASGI app on 127.0.0.1 that speaks Supabase's wire protocols.

The routing table is the API map. Each API lives in its own package and renders its own error shape;
what every API shares (the `apikey` check, the body cap) sits here, as hosted Supabase's Kong does it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from oncore_cli.local.gateway.config import GatewayConfig
from oncore_cli.local.gateway.cors import CorsMiddleware
from oncore_cli.local.gateway.db import Database

# Kong's open auth routes: links in mails are clicked in a browser, which sends no apikey
OPEN_PATHS = frozenset({"/auth/v1/verify", "/auth/v1/callback", "/auth/v1/authorize"})
# Kong's functions route has no key-auth: Stripe calls a webhook with no key; each function's verify_jwt decides
FUNCTIONS_PREFIX = "/functions/v1/"
# Storage URLs meant to be shared (public objects, signed URLs) carry no key; Storage checks them itself
OPEN_PREFIXES = ("/storage/v1/object/public/", "/storage/v1/object/info/public/", "/storage/v1/object/sign/",
                 "/storage/v1/object/upload/sign/")
STORAGE_PREFIX = "/storage/v1/"
MAX_BODY_BYTES = 10 * 1024 * 1024  # larger bodies are refused with 413 before they are read into memory
# Kong's nginx refuses oversized header blocks too; here they would also be copied into every request's
# `request.headers` GUC. (Request lines are capped by the HTTP parser itself, at 64 KiB.)
MAX_HEADER_BYTES = 64 * 1024
# APIs whose handlers take a database connection: their bodies are read whole (bounded in size and time) before the
# handler runs, so a client that stalls mid-body holds a socket, never a pooled connection
BUFFERED_PREFIXES = ("/auth/v1/", "/rest/v1/")


class ApiKeyMiddleware:
    """Kong's key-auth: every API request carries `apikey` (header, or query parameter for websockets)."""

    def __init__(self, app: ASGIApp, config: GatewayConfig) -> None:
        self.app = app
        self.keys = {config.anon_key, config.service_role_key}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["method" if scope["type"] == "http" else "type"] == "OPTIONS" \
                or scope.get("path") in OPEN_PATHS or scope.get("path", "").startswith(OPEN_PREFIXES) \
                or scope.get("path", "").startswith(FUNCTIONS_PREFIX):
            await self.app(scope, receive, send)
            return
        key = None
        for name, value in scope.get("headers", []):
            if name == b"apikey":
                key = value.decode("latin-1")
                break
        if key is None:
            from urllib.parse import parse_qs

            key = (parse_qs(scope.get("query_string", b"").decode("latin-1")).get("apikey") or [None])[0]
        if key is None:
            await _kong_error(scope, receive, send, "No API key found in request")
        elif key not in self.keys:
            await _kong_error(scope, receive, send, "Invalid API key")
        else:
            await self.app(scope, receive, send)


async def _kong_error(scope: Scope, receive: Receive, send: Send, message: str) -> None:
    body = {"message": message, "hint": "Double check your Supabase `anon` or `service_role` API key."}
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": message})
        return
    await JSONResponse(body, status_code=401)(scope, receive, send)


class BodyLimitMiddleware:
    """Refuse request bodies over MAX_BODY_BYTES with 413, whether announced by Content-Length or streamed. Bodies of
    the BUFFERED_PREFIXES APIs are read whole before the app sees the request, within `timeout` seconds (else 408
    and the connection is closed)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES, timeout: float = 10.0) -> None:
        self.app = app
        self.limit = limit
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(STORAGE_PREFIX):   # Storage streams uploads and applies its own limits
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await _too_large(scope, receive, send, self.limit)
                return
        if scope.get("path", "").startswith(BUFFERED_PREFIXES):
            await self._buffered(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            await _too_large(scope, receive, send, self.limit)

    async def _buffered(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            body = await asyncio.wait_for(_read_body(receive, self.limit), self.timeout)
        except _BodyTooLarge:
            await _too_large(scope, receive, send, self.limit)
            return
        except asyncio.TimeoutError:
            body = {"code": "PGRST408", "message": "Request Timeout",
                    "details": f"The request body did not arrive within {self.timeout:g} seconds", "hint": None}
            await JSONResponse(body, status_code=408, headers={"connection": "close"})(scope, receive, send)
            return
        if body is None:  # the client went away: nobody to answer
            return
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class _BodyTooLarge(Exception):
    pass


class HeaderLimitMiddleware:
    """Refuse request headers over MAX_HEADER_BYTES in total with 431."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and \
                sum(len(name) + len(value) + 4 for name, value in scope.get("headers", [])) > MAX_HEADER_BYTES:
            message = "Request Header Fields Too Large"
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1009, "reason": message})
                return
            body = {"code": "PGRST431", "message": message,
                    "details": f"The request headers exceed {MAX_HEADER_BYTES} bytes", "hint": None}
            await JSONResponse(body, status_code=431)(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    body = {"code": "PGRST413", "message": "Payload Too Large", "details": f"The request body exceeds {limit} bytes",
            "hint": None}
    await JSONResponse(body, status_code=413)(scope, receive, send)


def create_app(config: GatewayConfig) -> Starlette:
    from oncore_cli.local.gateway import auth, functions, realtime, rest, storage

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        db = Database(config)
        await db.open()
        app.state.db = db
        started = []
        for module in (auth, rest, realtime, storage, functions):
            hook = getattr(module, "startup", None)
            if hook:
                await hook(app)
                started.append(module)
        try:
            yield
        finally:
            for module in reversed(started):
                hook = getattr(module, "shutdown", None)
                if hook:
                    await hook(app)
            await db.close()

    routes = [
        Mount("/auth/v1", routes=auth.routes),
        Mount("/rest/v1", routes=rest.routes),
        Mount("/storage/v1", routes=storage.routes),
        Mount("/realtime/v1", routes=realtime.routes),
        Mount("/functions/v1", app=functions.app),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.config = config
    app.add_middleware(ApiKeyMiddleware, config=config)
    app.add_middleware(BodyLimitMiddleware, timeout=config.body_timeout)
    app.add_middleware(HeaderLimitMiddleware)
    app.add_middleware(CorsMiddleware)  # outermost: preflights need no key, and Kong's errors are readable too
    return app


def json_dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
