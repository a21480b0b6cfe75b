"""Retries against a real (tiny) HTTP server: idempotent calls retry 429/5xx, others never do."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from oncore_cli.core import client as client_module
from oncore_cli.core.client import Api
from oncore_cli.core.config import Settings
from oncore_cli.core.credentials import CredentialStore
from oncore_cli.core.errors import OncoreError

USER_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln"  # a JWT without exp: {"sub": "u"}


class Flaky(BaseHTTPRequestHandler):
    failures_left = 0
    seen: list = []

    def _answer(self):
        Flaky.seen.append((self.command, self.headers.get("Authorization"), self.headers.get("apikey")))
        if Flaky.failures_left > 0:
            Flaky.failures_left -= 1
            status, body = 503, {"message": "try later"}
        else:
            status, body = 200, [{"ok": True}]
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setattr(client_module, "RETRY_DELAYS", (0.01, 0.01, 0.01))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Flaky.seen = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _api(url, tmp_path):
    settings = Settings(profile="t", url=url, anon_key="anon", org=None, access_token=USER_TOKEN,
                        service_role_key=None)
    return Api(settings, CredentialStore(tmp_path))


def test_get_is_retried_until_it_succeeds(server, tmp_path):
    Flaky.failures_left = 2
    assert _api(server, tmp_path).select("shows") == [{"ok": True}]
    assert [s[0] for s in Flaky.seen] == ["GET", "GET", "GET"]
    assert Flaky.seen[0][1:] == (f"Bearer {USER_TOKEN}", "anon")


def test_post_is_not_retried(server, tmp_path):
    Flaky.failures_left = 1
    with pytest.raises(OncoreError, match="try later"):
        _api(server, tmp_path).rpc("create_organization", {"name": "x", "slug": "x"})
    assert [s[0] for s in Flaky.seen] == ["POST"]


def test_retries_give_up(server, tmp_path):
    Flaky.failures_left = 10
    with pytest.raises(OncoreError):
        _api(server, tmp_path).select("shows")
    assert len(Flaky.seen) == len(client_module.RETRY_DELAYS) + 1


class Paged(BaseHTTPRequestHandler):
    total = 7
    queries: list = []

    def do_GET(self):
        from urllib.parse import parse_qs, urlsplit

        query = parse_qs(urlsplit(self.path).query)
        Paged.queries.append(query)
        offset, limit = int(query["offset"][0]), int(query["limit"][0])
        data = json.dumps([{"n": n} for n in range(offset, min(offset + limit, Paged.total))]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_select_reads_every_page(tmp_path):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Paged)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        api = _api(f"http://127.0.0.1:{httpd.server_address[1]}", tmp_path)
        assert [r["n"] for r in api.select("shows", {"select": "*"}, page_size=3)] == list(range(7))
        assert [q["offset"][0] for q in Paged.queries] == ["0", "3", "6"]
        assert all(q["select"] == ["*"] for q in Paged.queries)
    finally:
        httpd.shutdown()
        httpd.server_close()
