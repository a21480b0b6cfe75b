"""What the edge functions add to `oncore orgs` and `members`: the plan from Stripe in `orgs show`, invitation mails."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path

import httpx

from oncore_cli.local.functions import read_secrets, write_secrets


def test_orgs_show_has_the_plan_from_a_signed_stripe_event(oncore, org, stack, stack_home):
    shown = oncore("orgs", "show", "--json")
    assert shown.exit_code == 0 and shown.json["plan"] is None and shown.json["plan_status"] is None

    data_dir = Path(stack_home) / "local"
    before = read_secrets(data_dir)
    secret = "whsec_" + uuid.uuid4().hex
    write_secrets(data_dir, {**before, "STRIPE_WEBHOOK_SECRET": secret})
    try:
        now = int(time.time())
        event = {"id": f"evt_{uuid.uuid4().hex}", "type": "customer.subscription.created", "created": now,
                 "data": {"object": {"id": f"sub_{uuid.uuid4().hex[:10]}", "customer": "cus_x", "status": "active",
                                     "metadata": {"org_id": org["id"]}, "current_period_end": now + 86400,
                                     "items": {"data": [{"price": {"id": "price_9", "lookup_key": "headliner"}}]}}}}
        payload = json.dumps(event)
        signature = hmac.new(secret.encode(), f"{now}.{payload}".encode(), hashlib.sha256).hexdigest()
        r = httpx.post(f"{stack.api_url}/functions/v1/stripe-webhook", content=payload,
                       headers={"Stripe-Signature": f"t={now},v1={signature}"}, timeout=60)
        assert r.status_code == 200, r.text
    finally:
        write_secrets(data_dir, before)

    shown = oncore("orgs", "show", "--json")
    assert (shown.json["plan"], shown.json["plan_status"]) == ("headliner", "active")
    assert shown.json["plan_renews_at"].startswith(time.strftime("%Y-%m-%d", time.gmtime(now + 86400)))
    table = oncore("orgs", "show")
    assert "headliner" in table.stdout and "active" in table.stdout


def test_members_add_mails_the_invitation_through_send_email(oncore, org, stack_home, unique):
    from oncore_cli.local import mail

    invitee = f"invitee-{unique}@example.com"
    result = oncore("members", "add", invitee, "--role", "admin")
    assert result.exit_code == 0 and "Mailed the invitation" in result.stderr, result
    [message] = mail.list_messages(Path(stack_home) / "local", to=invitee)
    assert message["kind"] == "org_invitation" and f"oncore orgs accept {org['slug']}" in message["text"]
    assert "as admin" in message["text"]
    quiet = f"quiet-{unique}@example.com"
    assert oncore("members", "add", quiet, "--no-mail").exit_code == 0
    assert mail.list_messages(Path(stack_home) / "local", to=quiet) == []



def test_invoke_errors_are_typed(stack, tmp_path, unique):
    """What the CLI gets when a function is missing (a hosted project without it deployed) or refuses the input."""
    import pytest
    from supabase import create_client

    from oncore_cli.core.client import Api
    from oncore_cli.core.config import Settings
    from oncore_cli.core.credentials import CredentialStore
    from oncore_cli.core.errors import NotFoundError, UsageError

    token = create_client(stack.api_url, stack.anon_key).auth.sign_up(
        {"email": f"inv-{unique}@example.com", "password": "correct horse battery"}).session.access_token
    settings = Settings(profile="t", url=stack.api_url, anon_key=stack.anon_key, org=None, access_token=token,
                        service_role_key=None)
    api = Api(settings, CredentialStore(tmp_path))
    with pytest.raises(NotFoundError, match="function nope: Function not found"):
        api.invoke("nope", {})
    with pytest.raises(UsageError, match="template"):
        api.invoke("send-email", {"to": "a@example.com"})
