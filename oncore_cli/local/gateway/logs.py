"""The gateway's log lines carry request lines, and clients put secrets in query strings (Realtime's `apikey` and
`access_token`, Storage's signed-URL `token`): they are masked before a line is written."""

from __future__ import annotations

import asyncio
import http
import logging
import re
import sys
import time
from typing import TextIO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_SECRET = re.compile(r"((?:apikey|access_token|token|jwt)=)[^&\s\"']+", re.IGNORECASE)
_PHRASES = {status.value: status.phrase for status in http.HTTPStatus}


def redact(text: str) -> str:
    return _SECRET.sub(r"\1[redacted]", text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


class AccessLog:
    """One line per HTTP request, as uvicorn's access log writes it (`2026-05-02 20:15:00,123 127.0.0.1:50124
    "GET /rest/v1/shows?select=id HTTP/1.1" 200 OK`), formatted here in one f-string: a LogRecord, a Formatter and
    a Filter per request cost more than a warm edge function call. The path is the one the client sent; secrets in
    the query string are masked. A line is written once the response's head is handed on, and flushed at the end of
    that event-loop iteration, after the response itself has left (see http.CoalescingTransport)."""

    def __init__(self, app: ASGIApp, stream: TextIO | None = None) -> None:
        self.app = app
        self.stream = stream or sys.stdout
        self._second = -1
        self._stamp = ""
        self._flushing = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_logged(message: Message) -> None:
            try:
                await send(message)
            finally:
                if message["type"] == "http.response.start":
                    self.write(scope, message["status"])

        await self.app(scope, receive, send_logged)

    def write(self, scope: Scope, status: int) -> None:
        now = time.time()
        second = int(now)
        if second != self._second:  # strftime once a second
            self._second, self._stamp = second, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        client = scope.get("client")
        address = "%s:%d" % client if client else ""
        target = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        if "=" in target:
            target = redact(target)
        self.stream.write(f'{self._stamp},{int((now - second) * 1000):03d} {address} "{scope["method"]} {target} '
                          f'HTTP/{scope["http_version"]}" {status} {_PHRASES.get(status, "")}\n')
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._flushing = False
        self.stream.flush()
