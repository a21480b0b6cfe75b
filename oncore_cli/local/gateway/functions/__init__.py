"""/functions/v1/<name>: edge functions run by Deno, answering as the supabase CLI's edge runtime does.

The gateway plays Kong and edge-runtime's main service (see the wire reference in docs/backend.md): it fills
`Authorization` from `apikey` when absent, checks the caller's JWT unless the function has `verify_jwt = false`
(OPTIONS never), and forwards the original request — path still `/<name>/…`, headers, body — to the
function's warm Deno worker, streaming the answer back. Failures answer with edge-runtime's codes: unknown function
404, missing or bad JWT 401, a worker that cannot boot 503 BOOT_ERROR, one that dies mid-request 546 WORKER_LIMIT,
one that sends no answer within the time limit 504 (Kong's upstream timeout; the worker is killed)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from oncore_cli.local.functions import deno_binary, read_secrets, secrets_path
from oncore_cli.local.gateway.functions.registry import Function, discover
from oncore_cli.local.gateway.functions.upstream import UpstreamClosed
from oncore_cli.local.gateway.functions.workers import BootError, Worker
from oncore_cli.local.gateway.jwt import JWTError, decode

_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                         "transfer-encoding", "upgrade", "host", "content-length"})


class Runtime:
    def __init__(self, config) -> None:
        self.config = config
        self.deno = deno_binary()
        self.functions: dict[str, Function] = discover(config.supabase_dir)
        self.workers: dict[str, Worker] = {}
        self.log_path = Path(config.data_dir) / "logs" / "functions.log"
        self.timeout = config.function_timeout
        self._secrets_stamp = self._stamp()
        self._secrets = read_secrets(config.data_dir)
        self._warming: asyncio.Task | None = None

    def _stamp(self) -> tuple[int, int] | None:
        with contextlib.suppress(OSError):
            st = os.stat(secrets_path(self.config.data_dir))
            return st.st_mtime_ns, st.st_size
        return None

    def env(self) -> dict[str, str]:
        c = self.config
        from oncore_cli.local.postgres import POSTGRES_PASSWORD, POSTGRES_USER

        return {**self._secrets, "SUPABASE_URL": c.api_url, "SUPABASE_ANON_KEY": c.anon_key,
                "SUPABASE_SERVICE_ROLE_KEY": c.service_role_key,
                "SUPABASE_DB_URL": f"postgresql://{POSTGRES_USER}:{POSTGRES_PASSWORD}@127.0.0.1:{c.db_port}/postgres",
                # the local outbox, for functions that send mail (send-email); hosted projects have none
                "ONCORE_OUTBOX_DIR": str(Path(c.data_dir) / "mail")}

    async def _refresh_secrets(self) -> None:
        """New secrets reach functions as they do after `supabase secrets set`: running workers start again."""
        stamp = self._stamp()
        if stamp == self._secrets_stamp:
            return
        self._secrets_stamp = stamp
        self._secrets = read_secrets(self.config.data_dir)
        for worker in list(self.workers.values()):
            await worker.stop()
        self.workers.clear()

    def function(self, name: str) -> Function | None:
        if name not in self.functions:  # added since the gateway started
            self.functions = discover(self.config.supabase_dir)
        return self.functions.get(name)

    def worker(self, function: Function) -> Worker:
        worker = self.workers.get(function.name)
        if worker is None or worker.function != function:
            worker = self.workers[function.name] = Worker(function, self.deno or "deno", self.env(), self.log_path)
        return worker

    def warm(self) -> None:
        """Boot every function in the background: Deno fills its cache (npm packages) now, not on a first call."""
        async def boot_all() -> None:
            for function in list(self.functions.values()):
                with contextlib.suppress(BootError, OSError):
                    await self.worker(function).ready()

        if self.deno and self.functions:
            self._warming = asyncio.create_task(boot_all())

    async def close(self) -> None:
        if self._warming:
            self._warming.cancel()
            with contextlib.suppress(BaseException):
                await self._warming
        for worker in self.workers.values():
            await worker.stop()


async def startup(app) -> None:
    runtime = app.state.functions = Runtime(app.state.config)
    runtime.warm()


async def shutdown(app) -> None:
    await app.state.functions.close()


def _error(status: int, code: str, message: str) -> Response:
    return JSONResponse({"code": code, "message": message}, status_code=status)


def _verify(headers: dict[str, str], secret: str) -> Response | None:
    authorization = headers.get("authorization")
    if not authorization:
        return JSONResponse({"msg": "Error: Missing authorization header"}, status_code=401)
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return JSONResponse({"msg": "Error: Auth header is not 'Bearer {token}'"}, status_code=401)
    try:
        decode(token.strip(), secret)
    except JWTError:
        return JSONResponse({"msg": "Invalid JWT"}, status_code=401)
    return None


async def invoke(request: Request) -> Response:
    runtime: Runtime = request.app.state.functions
    name = request.path_params["path"].split("/", 1)[0]
    function = runtime.function(name)
    if function is None:
        return PlainTextResponse("Function not found", status_code=404)
    headers = [(k, v) for k, v in request.headers.items() if k not in _HOP_BY_HOP]
    named = dict(headers)
    if "authorization" not in named and "apikey" in named:  # Kong's request transformer
        named["authorization"] = f"Bearer {named['apikey']}"
        headers.append(("authorization", named["authorization"]))
    if function.verify_jwt and request.method != "OPTIONS":
        refused = _verify(named, runtime.config.jwt_secret)
        if refused is not None:
            return refused
    if runtime.deno is None:
        return JSONResponse({"code": "BOOT_ERROR", "message": "Deno is not installed: pip install deno, or set "
                             "ONCORE_DENO"}, status_code=503, headers={"x-relay-error": "true"})
    await runtime._refresh_secrets()
    worker = runtime.worker(function)
    try:
        await worker.ready()
    except BootError as e:
        _log(runtime, f"[{name}] worker failed to boot: {e}")
        return _error(503, "BOOT_ERROR", "Worker failed to boot (please check logs)")
    target = "/" + request.path_params["path"] + (f"?{request.url.query}" if request.url.query else "")
    body = await request.body()  # bounded by the gateway's body limit
    pool = worker.upstream
    for _ in range(2):
        try:
            conn, reused = await pool.send(request.method, target, headers, body)
        except OSError:
            conn, reused = None, False
        try:
            if conn is None:
                raise UpstreamClosed
            status, response_headers = await asyncio.wait_for(conn.head(), runtime.timeout)
            break
        except asyncio.TimeoutError:
            conn.close()
            await worker.stop()
            _log(runtime, f"[{name}] no response within {runtime.timeout:g}s: worker stopped")
            return _error(504, "WORKER_TIMEOUT", f"The function did not answer within {runtime.timeout:g} seconds")
        except (UpstreamClosed, OSError):
            if conn is not None:
                conn.close()
            await asyncio.sleep(0)
            if reused and worker.alive:
                continue  # a kept-alive connection the worker had closed: once more on a new one
            await worker.stop()
            _log(runtime, f"[{name}] worker ended during the request")
            return _error(546, "WORKER_LIMIT", "Worker ended early: the function crashed or hit a resource limit")
    return _Relay(status, [(k, v) for k, v in response_headers
                           if k.lower().decode("latin-1") not in _HOP_BY_HOP or k.lower() == b"content-length"],
                  conn, request.method == "HEAD")


class _Relay:
    """The worker's answer, streamed to the client as it arrives (ASGI directly: no per-chunk wrapping)."""

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], conn, head_only: bool) -> None:
        self.status, self.headers, self.conn, self.head_only = status, headers, conn, head_only

    async def __call__(self, scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        try:
            async for chunk in self.conn.body():
                if not self.head_only:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except UpstreamClosed:
            pass  # the worker died mid-body: the client sees a short body, as from edge-runtime
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _log(runtime: Runtime, line: str) -> None:
    with contextlib.suppress(OSError):
        with open(runtime.log_path, "a") as f:
            f.write(line + "\n")


routes = [Route("/{path:path}", invoke, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])]
