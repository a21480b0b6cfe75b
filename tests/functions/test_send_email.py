"""send-email end to end through the local stack: an advancing invite from a member lands in the outbox with the
session's code (or goes to Resend's API when RESEND_API_KEY is set — a local server stands in for Resend);
outsiders and anonymous callers are refused; the per-organization limit answers 429."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest
from supabase import create_client
from supabase_functions.errors import FunctionsHttpError

from oncore_cli.local import mail


def _invoke(stack, token: str, body: dict):
    client = create_client(stack.api_url, stack.anon_key)
    client.functions.set_auth(token)
    return client.functions.invoke("send-email", {"body": body, "responseType": "json"})


def test_an_invite_lands_in_the_outbox_with_the_code(stack, stack_home, owner, session, unique):
    to = f"venue-{unique}@example.com"
    sent = _invoke(stack, owner.token, {"template": "advancing_invite", "session_id": session.id,
                                        "access_code": session.code, "to": to})
    assert sent["sent"] is True and sent["transport"] == "outbox"
    [message] = mail.list_messages(stack_home / "local", to=to)
    assert message["kind"] == "advancing_invite" and message["access_code"] == session.code
    assert session.code in message["text"] and session.code in message["html"]
    assert session.venue in message["subject"] and "2027-05-02" in message["text"]


def test_a_wrong_code_or_an_outsider_is_refused_and_nothing_is_sent(stack, stack_home, owner, session, unique):
    to = f"nobody-{unique}@example.com"
    with pytest.raises(FunctionsHttpError) as e:
        _invoke(stack, owner.token, {"template": "advancing_invite", "session_id": session.id,
                                     "access_code": "ABCD-EFGH-JKMN", "to": to})
    assert e.value.status == 400
    outsider = create_client(stack.api_url, stack.anon_key)
    token = outsider.auth.sign_up({"email": f"out-{unique}@example.com",
                                   "password": "correct horse battery"}).session.access_token
    with pytest.raises(FunctionsHttpError) as e:
        _invoke(stack, token, {"template": "advancing_invite", "session_id": session.id,
                               "access_code": session.code, "to": to})
    assert e.value.status == 404  # RLS hides the session from non-members
    r = httpx.post(f"{stack.api_url}/functions/v1/send-email", headers={"apikey": stack.anon_key},
                   json={"template": "advancing_invite", "session_id": session.id, "access_code": session.code,
                         "to": to})
    assert r.status_code == 401
    r = httpx.post(f"{stack.api_url}/functions/v1/send-email", json={})
    assert r.status_code == 401 and r.json() == {"msg": "Error: Missing authorization header"}
    assert mail.list_messages(stack_home / "local", to=to) == []


def test_the_per_org_limit_answers_429(stack, stack_home, stack_secrets, owner, session, unique):
    stack_secrets(EMAIL_RATE_LIMIT_PER_HOUR="2")
    body = {"template": "advancing_invite", "session_id": session.id, "access_code": session.code}
    for n in range(2):
        _invoke(stack, owner.token, {**body, "to": f"v{n}-{unique}@example.com"})
    r = httpx.post(f"{stack.api_url}/functions/v1/send-email", json={**body, "to": f"v3-{unique}@example.com"},
                   headers={"apikey": stack.anon_key, "Authorization": f"Bearer {owner.token}"}, timeout=60)
    assert r.status_code == 429 and "2 an hour" in r.json()["error"]
    assert 0 < int(r.headers["retry-after"]) <= 3600
    assert mail.list_messages(stack_home / "local", to=f"v3-{unique}@example.com") == []


class _FakeResend(BaseHTTPRequestHandler):
    seen: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["content-length"]))
        _FakeResend.seen.append({"auth": self.headers["authorization"], "body": json.loads(body)})
        reply = b'{"id":"re_fake_1"}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


def test_with_resend_configured_the_mail_goes_to_its_api(stack, stack_home, stack_secrets, owner, session, unique):
    server = HTTPServer(("127.0.0.1", 0), _FakeResend)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        stack_secrets(RESEND_API_KEY="re_test_key", RESEND_API_URL=f"http://127.0.0.1:{server.server_port}/emails")
        to = f"resend-{unique}@example.com"
        sent = _invoke(stack, owner.token, {"template": "advancing_invite", "session_id": session.id,
                                            "access_code": session.code, "to": to})
        assert sent["transport"] == "resend" and sent["id"] == "re_fake_1"
        [request] = [s for s in _FakeResend.seen if s["body"]["to"] == [to]]
        assert request["auth"] == "Bearer re_test_key" and session.code in request["body"]["text"]
        assert mail.list_messages(stack_home / "local", to=to) == []
    finally:
        server.shutdown()
