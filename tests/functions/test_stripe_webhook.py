"""stripe-webhook end to end through the local stack: Stripe's request (no JWT, a Stripe-Signature header) over
plain HTTP and through supabase-py's functions.invoke; what reaches `subscriptions`, and what must not."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

import httpx
import psycopg
import pytest

SECRET = "whsec_" + uuid.uuid4().hex


def _signed(payload: str, secret: str = SECRET, at: int | None = None) -> dict:
    at = int(time.time()) if at is None else at
    signature = hmac.new(secret.encode(), f"{at}.{payload}".encode(), hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={at},v1={signature}", "Content-Type": "application/json"}


def _event(org_id: str, status: str = "active", created: int | None = None, sub: str | None = None) -> dict:
    sub = sub or f"sub_{uuid.uuid4().hex[:12]}"
    return {"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": "customer.subscription.updated",
            "created": created or int(time.time()),
            "data": {"object": {"id": sub, "object": "subscription", "customer": f"cus_{sub}", "status": status,
                                "metadata": {"org_id": org_id},
                                "items": {"data": [{"price": {"id": "price_1", "lookup_key": "tour"},
                                                    "current_period_end": int(time.time()) + 30 * 86400}]}}}}


@pytest.fixture
def webhook(stack, stack_secrets):
    stack_secrets(STRIPE_WEBHOOK_SECRET=SECRET)
    url = f"{stack.api_url}/functions/v1/stripe-webhook"

    def post(payload: str, headers: dict) -> httpx.Response:
        return httpx.post(url, content=payload.encode(), headers=headers, timeout=60)

    return post


def _row(db_url: str, org_id: str):
    with psycopg.connect(db_url) as conn:
        return conn.execute("select status, plan, stripe_subscription_id, last_event_at from public.subscriptions "
                            "where org_id = %s", (org_id,)).fetchone()


def _recorded(db_url: str, event_id: str) -> bool:
    with psycopg.connect(db_url) as conn:
        return conn.execute("select 1 from private.stripe_events where id = %s", (event_id,)).fetchone() is not None


def test_a_signed_event_updates_the_row_and_owners_read_it(webhook, owner, db_url):
    event = _event(owner.org_id)
    payload = json.dumps(event)
    r = webhook(payload, _signed(payload))
    assert r.status_code == 200 and r.json() == {"received": True, "outcome": "applied"}
    assert _row(db_url, owner.org_id)[:3] == ("active", "tour", event["data"]["object"]["id"])
    rows = owner.client.table("subscriptions").select("status,plan").eq("org_id", owner.org_id).execute().data
    assert rows == [{"status": "active", "plan": "tour"}]


def test_bad_signature_stale_timestamp_and_missing_header_write_nothing(webhook, owner, db_url):
    event = _event(owner.org_id)
    payload = json.dumps(event)
    for headers in (_signed(payload, secret="whsec_wrong"), _signed(payload, at=int(time.time()) - 301),
                    _signed(payload + " "), {"Content-Type": "application/json"}):
        r = webhook(payload, headers)
        assert r.status_code == 400 and "signature" in r.json()["error"].lower() or "header" in r.json()["error"]
    assert _row(db_url, owner.org_id) is None and not _recorded(db_url, event["id"])


def test_a_replayed_event_changes_nothing(webhook, owner, db_url):
    sub = f"sub_{uuid.uuid4().hex[:12]}"
    first = _event(owner.org_id, "active", sub=sub)
    payload = json.dumps(first)
    assert webhook(payload, _signed(payload)).json()["outcome"] == "applied"
    before = _row(db_url, owner.org_id)
    later = _event(owner.org_id, "past_due", created=first["created"] + 5, sub=sub)
    assert webhook(json.dumps(later), _signed(json.dumps(later))).json()["outcome"] == "applied"
    # the first event again, freshly signed (a retry): recognised by its id, the newer state stays
    r = webhook(payload, _signed(payload))
    assert r.status_code == 200 and r.json()["outcome"] == "duplicate"
    assert _row(db_url, owner.org_id)[0] == "past_due" and before[0] == "active"


def test_out_of_order_events_keep_the_newest_state(webhook, owner, db_url):
    sub = f"sub_{uuid.uuid4().hex[:12]}"
    now = int(time.time())
    newer, older = _event(owner.org_id, "canceled", now, sub), _event(owner.org_id, "active", now - 60, sub)
    for event, outcome in ((newer, "applied"), (older, "stale")):
        payload = json.dumps(event)
        assert webhook(payload, _signed(payload)).json()["outcome"] == outcome
    assert _row(db_url, owner.org_id)[0] == "canceled"


def test_unknown_types_are_acknowledged_and_ignored(webhook, owner, db_url):
    event = {**_event(owner.org_id), "type": "charge.refunded"}
    payload = json.dumps(event)
    r = webhook(payload, _signed(payload))
    assert r.status_code == 200 and r.json()["ignored"] == "charge.refunded"
    assert _row(db_url, owner.org_id) is None


def test_supabase_py_invoke_with_a_signature(stack, webhook, owner, db_url):
    from supabase import create_client

    client = create_client(stack.api_url, stack.anon_key)
    event = _event(owner.org_id, "trialing")
    payload = json.dumps(event)
    data = client.functions.invoke("stripe-webhook", {"body": payload, "headers": _signed(payload),
                                                      "responseType": "json"})
    assert data["outcome"] == "applied" and _row(db_url, owner.org_id)[0] == "trialing"


def test_users_cannot_call_the_rpc_or_write_subscriptions(stack, owner):
    body = {"event_id": "evt_forged", "event_type": "customer.subscription.updated",
            "event_created": "2030-01-01T00:00:00Z", "org_id": owner.org_id, "status": "active"}
    headers = {"apikey": stack.anon_key, "Authorization": f"Bearer {owner.token}"}
    r = httpx.post(f"{stack.api_url}/rest/v1/rpc/apply_stripe_event", json=body, headers=headers)
    assert r.status_code in (401, 403, 404), r.text
    r = httpx.post(f"{stack.api_url}/rest/v1/subscriptions", json={"org_id": owner.org_id, "status": "active"},
                   headers=headers)
    assert r.status_code in (401, 403)


def test_the_owner_sees_the_change_live_over_realtime(stack, webhook, owner, db_url):
    import asyncio

    from supabase import acreate_client

    async def scenario():
        client = await acreate_client(stack.api_url, stack.anon_key)
        await client.realtime.set_auth(owner.token)
        events: asyncio.Queue = asyncio.Queue()
        channel = client.channel(f"billing-{uuid.uuid4().hex[:6]}")
        channel.on_postgres_changes("*", schema="public", table="subscriptions", filter=f"org_id=eq.{owner.org_id}",
                                    callback=events.put_nowait)
        subscribed = asyncio.Event()
        await channel.subscribe(lambda status, error=None: subscribed.set())
        await asyncio.wait_for(subscribed.wait(), 30)
        try:
            event = _event(owner.org_id, "active")
            payload = json.dumps(event)
            response = await asyncio.to_thread(webhook, payload, _signed(payload))
            assert response.json()["outcome"] == "applied"
            change = (await asyncio.wait_for(events.get(), 30))["data"]
            assert change["type"] == "INSERT" and change["record"]["status"] == "active"
            assert change["record"]["plan"] == "tour"
        finally:
            await client.realtime.close()

    asyncio.run(scenario())
