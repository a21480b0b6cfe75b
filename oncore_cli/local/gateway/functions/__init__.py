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
from urllib.parse import quote

from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from oncore_cli.local.functions import deno_binary, read_secrets, secrets_path
from oncore_cli.local.gateway.functions.registry import Function, discover
from oncore_cli.local.gateway.functions.upstream import Connection, UpstreamClosed
from oncore_cli.local.gateway.functions.workers import BootError, Worker
from oncore_cli.local.gateway.jwt import JWTError, VerifiedTokens

MOUNT = "/functions/v1"
_HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te",
                         b"trailer", b"transfer-encoding", b"upgrade", b"host", b"content-length"})
_NOT_RELAYED = (_HOP_BY_HOP - {b"content-length"}) | {b"date"}  # the gateway's server adds its own Date
_verified = VerifiedTokens()


class Runtime:
    def __init__(self, config) -> None:
        self.config = config
        self.deno = deno_binary()
        self.functions: dict[str, Function] = discover(config.supabase_dir)
        self.workers: dict[str, Worker] = {}
        self.log_path = Path(config.data_dir) / "logs" / "functions.log"
        self.timeout = config.function_timeout
        self._secrets_file = str(secrets_path(config.data_dir))   # stat-ed on every call: a plain string
        self._secrets_stamp = self._stamp()
        self._secrets = read_secrets(config.data_dir)
        self._warming: asyncio.Task | None = None

    def _stamp(self) -> tuple[int, int] | None:
        with contextlib.suppress(OSError):
            st = os.stat(self._secrets_file)
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


def _verify(authorization: bytes | None, secret: str) -> Response | None:
    if not authorization:
        return JSONResponse({"msg": "Error: Missing authorization header"}, status_code=401)
    scheme, _, token = authorization.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer":
        return JSONResponse({"msg": "Error: Auth header is not 'Bearer {token}'"}, status_code=401)
    try:
        _verified.check(token.strip(), secret)
    except JWTError:
        return JSONResponse({"msg": "Invalid JWT"}, status_code=401)
    return None


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body (bounded by the gateway's body limit), or None when the client went away."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def invoke(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI app under /functions/v1 (plain ASGI, no Request object: this is the hot path of every call)."""
    runtime: Runtime = scope["app"].state.functions
    path = scope["path"][len(MOUNT):]   # /<name>/…
    name = path[1:].split("/", 1)[0]
    function = runtime.function(name)
    if function is None:
        return await PlainTextResponse("Function not found", status_code=404)(scope, receive, send)
    headers: list[bytes] = []
    authorization = apikey = None
    for key, value in scope["headers"]:
        if key in _HOP_BY_HOP:
            continue
        if key == b"authorization":
            authorization = value
        elif key == b"apikey":
            apikey = value
        headers.append(b"%s: %s\r\n" % (key, value))
    if authorization is None and apikey is not None:  # Kong's request transformer
        authorization = b"Bearer " + apikey
        headers.append(b"authorization: %s\r\n" % authorization)
    if function.verify_jwt and scope["method"] != "OPTIONS":
        refused = _verify(authorization, runtime.config.jwt_secret)
        if refused is not None:
            return await refused(scope, receive, send)
    if runtime.deno is None:
        return await JSONResponse({"code": "BOOT_ERROR", "message": "Deno is not installed: pip install deno, or "
                                   "set ONCORE_DENO"}, status_code=503, headers={"x-relay-error": "true"})(
            scope, receive, send)
    await runtime._refresh_secrets()
    worker = runtime.worker(function)
    try:
        await worker.ready()
    except BootError as e:
        _log(runtime, f"[{name}] worker failed to boot: {e}")
        return await _error(503, "BOOT_ERROR", "Worker failed to boot (please check logs)")(scope, receive, send)
    raw = scope.get("raw_path") or b""
    target = raw[len(MOUNT):] if raw.startswith(MOUNT.encode() + b"/") else quote(path).encode()
    if scope.get("query_string"):
        target += b"?" + scope["query_string"]
    body = await _read_body(receive)
    if body is None:
        return
    for _ in range(2):
        try:
            conn, reused = await worker.upstream.send(scope["method"], target, headers, body)
        except OSError:
            conn, reused = None, False
        try:
            if conn is None:
                raise UpstreamClosed
            async with asyncio.timeout(runtime.timeout):
                status, response_headers = await conn.head()
            break
        except TimeoutError:
            conn.close()
            await worker.stop()
            _log(runtime, f"[{name}] no response within {runtime.timeout:g}s: worker stopped")
            return await _error(504, "WORKER_TIMEOUT", f"The function did not answer within {runtime.timeout:g} "
                                "seconds")(scope, receive, send)
        except (UpstreamClosed, OSError):
            if conn is not None:
                conn.close()
            await asyncio.sleep(0)
            if reused and worker.alive:
                continue  # a kept-alive connection the worker had closed: once more on a new one
            await worker.stop()
            _log(runtime, f"[{name}] worker ended during the request")
            return await _error(546, "WORKER_LIMIT", "Worker ended early: the function crashed or hit a resource "
                                "limit")(scope, receive, send)
    await _relay(conn, status, response_headers, scope["method"] == "HEAD", send)


async def _relay(conn: Connection, status: int, headers: list[tuple[bytes, bytes]], head_only: bool,
                 send: Send) -> None:
    """The worker's answer to the client: in one message when it is already complete (the usual small answer),
    else streamed as it arrives."""
    await send({"type": "http.response.start", "status": status,
                "headers": [(k, v) for k, v in headers if k.lower() not in _NOT_RELAYED]})
    whole = conn.whole_body()
    if whole is not None:
        await send({"type": "http.response.body", "body": b"" if head_only else whole})
        return
    try:
        async for chunk in conn.body():
            if not head_only:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except UpstreamClosed:
        pass  # the worker died mid-body: the client sees a short body, as from edge-runtime
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def _log(runtime: Runtime, line: str) -> None:
    with contextlib.suppress(OSError):
        with open(runtime.log_path, "a") as f:
            f.write(line + "\n")


app = invoke
