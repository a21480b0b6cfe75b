"""A small HTTP/1.1 client on the standard library, for the calls every command makes (REST, RPC, refresh).

Why not httpx here: importing it costs about 100 ms (it loads its own CLI — click, rich, pygments — and httpcore
loads h2), and its client builds a TLS context even for http:// URLs (another 35 ms), which alone would put
`oncore shows list` past its start-up budget. This client keeps one keep-alive connection per origin and builds
TLS only for https. supabase_auth (and with it httpx) is still used for the login flows.
"""

from __future__ import annotations

import http.client
import json as jsonlib
import socket
from typing import Any
from urllib.parse import urlencode, urlsplit


class TransportError(Exception):
    """The request did not get an HTTP answer. `kind` is connect | timeout | protocol."""

    def __init__(self, kind: str, origin: str, detail: str) -> None:
        super().__init__(f"{kind} error talking to {origin}: {detail}")
        self.kind = kind
        self.origin = origin


class Response:
    def __init__(self, status: int, reason: str, headers: http.client.HTTPMessage, content: bytes) -> None:
        self.status_code = status
        self.reason_phrase = reason
        self.headers = headers  # case-insensitive .get(), .items()
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)


class Client:
    def __init__(self, timeout: float = 30.0, connect_timeout: float = 5.0) -> None:
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._connections: dict[tuple[str, str, int], http.client.HTTPConnection] = {}

    def _connection(self, scheme: str, host: str, port: int) -> tuple[http.client.HTTPConnection, bool]:
        key = (scheme, host, port)
        if key in self._connections:
            return self._connections[key], True
        if scheme == "https":
            import ssl

            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                host, port, timeout=self.connect_timeout, context=ssl.create_default_context())
        else:
            conn = http.client.HTTPConnection(host, port, timeout=self.connect_timeout)
        self._connections[key] = conn
        return conn, False

    def request(self, method: str, url: str, *, params=None, json: Any = None, content=None,
                headers: dict | None = None, sink=None) -> Response:
        """`content`: bytes, or a re-iterable of byte chunks (sent as they come; give Content-Length). `sink`: a
        binary file a 2xx body is written to in chunks (rewound first) instead of being held in memory."""
        parts = urlsplit(url)
        scheme = parts.scheme or "http"
        host = parts.hostname or "localhost"
        port = parts.port or (443 if scheme == "https" else 80)
        origin = f"{scheme}://{parts.netloc}"
        target = parts.path or "/"
        query = parts.query
        if params:
            extra = urlencode(list(params.items()) if isinstance(params, dict) else list(params))
            query = f"{query}&{extra}" if query else extra
        if query:
            target += "?" + query
        all_headers = {"Accept": "application/json", **(headers or {})}
        body = content
        if json is not None:
            body = jsonlib.dumps(json, ensure_ascii=False).encode()
            all_headers.setdefault("Content-Type", "application/json")
        for attempt in (1, 2):
            conn, reused = self._connection(scheme, host, port)
            try:
                if conn.sock is None:
                    conn.connect()
                    conn.sock.settimeout(self.timeout)
                conn.request(method, target, body=body, headers=all_headers)
                answer = conn.getresponse()
                if sink is not None and 200 <= answer.status < 300:
                    data = _drain(answer, sink)
                else:
                    data = answer.read()
                if answer.will_close:
                    self._drop(scheme, host, port)
                return Response(answer.status, answer.reason, answer.headers, data)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                self._drop(scheme, host, port)
                if reused and attempt == 1:
                    continue  # the server closed an idle keep-alive connection: open a new one, once
                raise TransportError("protocol", origin, str(e)) from e
            except (ConnectionRefusedError, socket.gaierror) as e:
                self._drop(scheme, host, port)
                raise TransportError("connect", origin, str(e)) from e
            except TimeoutError as e:
                self._drop(scheme, host, port)
                raise TransportError("timeout" if conn.sock else "connect", origin, str(e)) from e
            except (OSError, http.client.HTTPException) as e:
                self._drop(scheme, host, port)
                raise TransportError("connect" if conn.sock is None else "protocol", origin, str(e)) from e
        raise AssertionError("unreachable")

    def _drop(self, scheme: str, host: str, port: int) -> None:
        conn = self._connections.pop((scheme, host, port), None)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        for conn in self._connections.values():
            conn.close()
        self._connections.clear()


def _drain(answer: http.client.HTTPResponse, sink) -> bytes:
    sink.seek(0)
    sink.truncate()
    while chunk := answer.read(1024 * 1024):
        sink.write(chunk)
    return b""
