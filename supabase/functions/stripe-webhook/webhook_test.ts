// deno test for the Stripe webhook: real HMAC signatures, event mapping, and — when the test run provides a local
// stack (ONCORE_TEST_SUPABASE_URL, ONCORE_TEST_SERVICE_ROLE_KEY, ONCORE_TEST_ORG_ID; set by tests/functions) —
// idempotency and out-of-order events through the real apply_stripe_event RPC.
import {
  applyThroughRpc, makeHandler, mapEvent, sign, SignatureError, StripeEvent, SubscriptionChange, timingSafeEqual,
  verifySignature,
} from "./webhook.ts";

function assert(condition: unknown, message = "assertion failed"): asserts condition {
  if (!condition) throw new Error(message);
}
function assertEquals(actual: unknown, expected: unknown) {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  if (a !== e) throw new Error(`expected ${e}, got ${a}`);
}
async function rejects(promise: Promise<unknown>, text: string) {
  try {
    await promise;
  } catch (e) {
    assert(e instanceof SignatureError && e.message.includes(text), `wrong error: ${e}`);
    return;
  }
  throw new Error("expected a SignatureError");
}

const SECRET = "whsec_test_secret";
const NOW = 1_700_000_000;

Deno.test("HMAC-SHA256 over `t.payload` matches Stripe's (vector from Python's hmac)", async () => {
  assertEquals(await sign('{"id":"evt_1"}', SECRET, NOW),
    "248a374f50f943a28b0f6ab50faf9a7e7e29b710fa26df9fb1618b9bf8ea9c9a");
});

Deno.test("a valid signature passes; any of several v1 may match; v0 never counts", async () => {
  const payload = '{"id":"evt_1"}';
  const good = await sign(payload, SECRET, NOW);
  assertEquals(await verifySignature(payload, `t=${NOW},v1=${good}`, SECRET, NOW), NOW);
  assertEquals(await verifySignature(payload, `t=${NOW},v1=${"0".repeat(64)},v1=${good},v0=x`, SECRET, NOW), NOW);
  await rejects(verifySignature(payload, `t=${NOW},v0=${good}`, SECRET, NOW), "no v1 signature");
  await rejects(verifySignature(payload, `v1=${good}`, SECRET, NOW), "timestamp");
  await rejects(verifySignature(payload, null, SECRET, NOW), "missing");
});

Deno.test("a changed payload, timestamp or secret fails", async () => {
  const payload = '{"id":"evt_1"}';
  const good = await sign(payload, SECRET, NOW);
  await rejects(verifySignature('{"id":"evt_2"}', `t=${NOW},v1=${good}`, SECRET, NOW), "no signature matches");
  await rejects(verifySignature(payload, `t=${NOW + 1},v1=${good}`, SECRET, NOW), "no signature matches");
  await rejects(verifySignature(payload, `t=${NOW},v1=${good}`, "whsec_other", NOW), "no signature matches");
});

Deno.test("timestamps older than 5 minutes are refused, even correctly signed", async () => {
  const payload = "{}";
  const old = NOW - 301;
  await rejects(verifySignature(payload, `t=${old},v1=${await sign(payload, SECRET, old)}`, SECRET, NOW), "tolerance");
  const edge = NOW - 300;
  assertEquals(await verifySignature(payload, `t=${edge},v1=${await sign(payload, SECRET, edge)}`, SECRET, NOW), edge);
});

Deno.test("timingSafeEqual", () => {
  assert(timingSafeEqual("abc", "abc"));
  assert(!timingSafeEqual("abc", "abd"));
  assert(!timingSafeEqual("abc", "abcd"));
});

const ORG = "0b6f7f53-5c8a-4c1e-9a51-2d0e6f0a9b11";

function event(type: string, object: Record<string, unknown>, created = NOW, id = `evt_${crypto.randomUUID()}`):
  StripeEvent {
  return { id, type, created, data: { object } };
}

Deno.test("event mapping", () => {
  assertEquals(mapEvent(event("checkout.session.completed", {
    mode: "subscription", client_reference_id: ORG, customer: "cus_1", subscription: "sub_1", payment_status: "paid",
    metadata: { plan: "pro" },
  })), { org_id: ORG, customer_id: "cus_1", subscription_id: "sub_1", status: "active", plan: "pro",
         current_period_end: null });
  assertEquals(mapEvent(event("checkout.session.completed", { mode: "payment" })), null);
  const subscription = {
    id: "sub_1", customer: { id: "cus_1" }, status: "trialing", metadata: { org_id: ORG },
    items: { data: [{ price: { id: "price_1", lookup_key: "band" }, current_period_end: NOW + 86400 }] },
  };
  assertEquals(mapEvent(event("customer.subscription.updated", subscription)), {
    org_id: ORG, customer_id: "cus_1", subscription_id: "sub_1", status: "trialing", plan: "band",
    current_period_end: new Date((NOW + 86400) * 1000).toISOString(),
  });
  assertEquals(mapEvent(event("customer.subscription.deleted", { ...subscription, status: "active" }))?.status,
    "canceled");
  assertEquals(mapEvent(event("invoice.payment_failed", { customer: "cus_1", subscription: "sub_1" })), {
    org_id: null, customer_id: "cus_1", subscription_id: "sub_1", status: "past_due", plan: null,
    current_period_end: null,
  });
  assertEquals(mapEvent(event("invoice.payment_succeeded", {
    customer: "cus_1", parent: { subscription_details: { subscription: "sub_1", metadata: { org_id: ORG } } },
    lines: { data: [{ period: { end: NOW } }] },
  }))?.status, "active");
  assertEquals(mapEvent(event("customer.created", { id: "cus_1" })), null);
  // an org id that is not a UUID is not trusted as one
  assertEquals(mapEvent(event("customer.subscription.created", { id: "sub_1", metadata: { org_id: "x';--" } }))
    ?.org_id, null);
});

async function signedRequest(body: string, at = NOW, secret = SECRET): Promise<Request> {
  return new Request("http://local/stripe-webhook", {
    method: "POST", body, headers: { "Stripe-Signature": `t=${at},v1=${await sign(body, secret, at)}` },
  });
}

Deno.test("the handler writes nothing for a bad signature, and ignores unknown types", async () => {
  const calls: SubscriptionChange[] = [];
  const handler = makeHandler(SECRET, async (_e, change) => (calls.push(change), { outcome: "applied" }), () => NOW);
  const body = JSON.stringify(event("customer.subscription.updated", { id: "sub_1", status: "active" }));
  const bad = await signedRequest(body, NOW, "whsec_wrong");
  assertEquals((await handler(bad)).status, 400);
  assertEquals((await handler(await signedRequest(body, NOW - 600))).status, 400);
  assertEquals(calls.length, 0);
  const unknown = await handler(await signedRequest(JSON.stringify(event("charge.refunded", {}))));
  assertEquals([unknown.status, (await unknown.json()).ignored], [200, "charge.refunded"]);
  assertEquals(calls.length, 0);
  const good = await handler(await signedRequest(body));
  assertEquals([good.status, (await good.json()).outcome, calls.length], [200, "applied", 1]);
  assertEquals((await makeHandler(undefined, async () => ({ outcome: "x" }))(await signedRequest(body))).status, 500);
});

const url = Deno.env.get("ONCORE_TEST_SUPABASE_URL");
const key = Deno.env.get("ONCORE_TEST_SERVICE_ROLE_KEY");
const org = Deno.env.get("ONCORE_TEST_ORG_ID");

Deno.test({
  name: "through apply_stripe_event: replays change nothing, older events lose to newer ones",
  ignore: !(url && key && org),
  fn: async () => {
    const apply = applyThroughRpc(url!, key!);
    const now = Math.floor(Date.now() / 1000);
    const handler = makeHandler(SECRET, apply, () => now);
    const sub = `sub_${crypto.randomUUID().slice(0, 8)}`;
    const send = async (e: StripeEvent) => (await (await handler(await signedRequest(JSON.stringify(e), now))).json());
    const updated = (status: string, created: number, id?: string) => event("customer.subscription.updated", {
      id: sub, customer: `cus_${sub}`, status, metadata: { org_id: org },
      items: { data: [{ price: { id: "price_x", lookup_key: "tour" } }] },
    }, created, id);
    const newest = updated("active", now - 10);
    assertEquals((await send(newest)).outcome, "applied");
    assertEquals((await send(newest)).outcome, "duplicate");                  // Stripe retried the same event
    assertEquals((await send(updated("past_due", now - 20))).outcome, "stale");  // sent earlier, arrived later
    const rows = await (await fetch(`${url}/rest/v1/subscriptions?org_id=eq.${org}&select=status,plan`, {
      headers: { apikey: key!, Authorization: `Bearer ${key}` },
    })).json();
    assertEquals(rows, [{ status: "active", plan: "tour" }]);
    // an invoice names only the customer: the row is found by it
    const failed = event("invoice.payment_failed", { customer: `cus_${sub}` }, now - 5);
    assertEquals((await send(failed)).outcome, "applied");
  },
});
