"""What every gateway request passes through, in process: the access log (format, masking, when it is written)
and the cache of verified JWTs (a cached token is still refused once expired, a forged one never enters)."""

from __future__ import annotations

import asyncio
import io
import re
import time

import pytest

from oncore_cli.local.gateway import jwt as gateway_jwt
from oncore_cli.local.gateway.jwt import JWTError, VerifiedTokens, encode
from oncore_cli.local.gateway.logs import AccessLog

SECRET = "super-secret-jwt-token-with-at-least-32-characters"


def _scope(path: bytes, query: bytes = b"", method: str = "GET", kind: str = "http") -> dict:
    return {"type": kind, "method": method, "path": path.decode(), "raw_path": path, "query_string": query,
            "http_version": "1.1", "client": ("127.0.0.1", 50124), "headers": []}


async def _answer(scope, receive, send, status: int = 200) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def test_access_log_line_is_uvicorns_with_secrets_masked():
    file = io.BytesIO()
    stream = io.TextIOWrapper(file, encoding="utf-8")   # buffered, as stdout redirected to gateway.log is
    log = AccessLog(lambda scope, receive, send: _answer(scope, receive, send, 404), stream)
    sent = []

    async def main():
        async def send(message):
            sent.append(message)

        await log(_scope(b"/storage/v1/object/sign/b/a%20b.pdf", b"token=eyJabc.def.ghi&download=1"), None, send)
        assert file.getvalue() == b""      # flushed at the end of the loop iteration, after the response left
        await asyncio.sleep(0)
        await log(_scope(b"/realtime/v1/websocket", b"apikey=k&vsn=1.0.0", kind="websocket"), None, send)
        await asyncio.sleep(0)

    asyncio.run(main())
    text = file.getvalue().decode()
    lines = text.splitlines()
    assert len(lines) == 1 and [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert re.fullmatch(r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} 127\.0\.0\.1:50124 "GET /storage/v1/object/sign/b/'
                        r'a%20b\.pdf\?token=\[redacted\]&download=1 HTTP/1\.1" 404 Not Found', lines[0]), lines[0]
    assert "eyJabc" not in text


def test_access_log_writes_the_line_even_when_the_client_is_gone():
    stream = io.StringIO()

    async def main():
        async def send(message):
            raise OSError("client went away")

        with pytest.raises(OSError):
            await AccessLog(_answer, stream)(_scope(b"/rest/v1/shows", method="POST"), None, send)
        await asyncio.sleep(0)

    asyncio.run(main())
    assert '"POST /rest/v1/shows HTTP/1.1" 200 OK' in stream.getvalue()


def test_verified_tokens_are_remembered_only_until_they_expire(monkeypatch):
    now = time.time()
    tokens = VerifiedTokens()
    token = encode({"role": "authenticated", "exp": int(now) + 60}, SECRET)
    tokens.check(token, SECRET)
    calls = []
    with monkeypatch.context() as patched:
        patched.setattr(gateway_jwt, "decode", lambda *a, **k: calls.append(a) or {})
        tokens.check(token, SECRET)          # from the cache: not verified again
    assert calls == []
    with pytest.raises(JWTError):            # another secret: a new check, which fails for real
        tokens.check(token, "another-secret-of-at-least-32-characters!")
    with monkeypatch.context() as patched:  # past exp + leeway the cache no longer answers: verified again
        patched.setattr(gateway_jwt.time, "time", lambda: now + 60 + gateway_jwt.LEEWAY_SECONDS + 1)
        patched.setattr(gateway_jwt, "decode", lambda *a, **k: calls.append(a) or {"exp": 0})
        tokens.check(token, SECRET)
    assert len(calls) == 1


def test_forged_and_expired_tokens_are_never_remembered():
    tokens = VerifiedTokens(size=2)
    forged = encode({"role": "service_role"}, "not-the-secret-but-at-least-32-characters")
    expired = encode({"role": "anon", "exp": int(time.time()) - 3600}, SECRET)
    for bad in (forged, expired, forged):
        with pytest.raises(JWTError):
            tokens.check(bad, SECRET)
    for i in range(5):   # bounded: it starts over when full
        tokens.check(encode({"n": i}, SECRET), SECRET)
    assert len(tokens._until) <= 2
