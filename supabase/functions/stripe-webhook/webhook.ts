// Stripe webhook logic, apart from Deno.serve so `deno test` drives it directly.
// Signature: https://docs.stripe.com/webhooks/signatures — HMAC-SHA256 over `${t}.${raw body}` with the endpoint
// secret; every v1 in the header is tried (several while a secret is rolled); 300 s tolerance on old timestamps.

export const TOLERANCE_SECONDS = 300;

export class SignatureError extends Error {}

const encoder = new TextEncoder();

function toHex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Equal strings in time that depends only on their length (public: hex SHA-256), not on where they differ. */
export function timingSafeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  if (x.length !== y.length) return false;
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

export async function sign(payload: string, secret: string, timestamp: number): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false,
    ["sign"]);
  return toHex(await crypto.subtle.sign("HMAC", key, encoder.encode(`${timestamp}.${payload}`)));
}

/** Throws SignatureError unless `header` carries a valid v1 signature of `payload` made within the tolerance. */
export async function verifySignature(payload: string, header: string | null, secret: string,
                                      now = Date.now() / 1000, tolerance = TOLERANCE_SECONDS): Promise<number> {
  if (!header) throw new SignatureError("missing Stripe-Signature header");
  let timestamp = NaN;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const [key, ...rest] = part.trim().split("=");
    const value = rest.join("=");
    if (key === "t") timestamp = /^\d+$/.test(value) ? Number(value) : NaN;
    else if (key === "v1") signatures.push(value);
  }
  if (!Number.isFinite(timestamp)) throw new SignatureError("unable to extract timestamp from header");
  if (signatures.length === 0) throw new SignatureError("no v1 signature in header");
  const expected = await sign(payload, secret, timestamp);
  let matched = false;
  for (const candidate of signatures) matched = timingSafeEqual(candidate, expected) || matched;  // try them all
  if (!matched) throw new SignatureError("no signature matches the expected signature for the payload");
  if (tolerance > 0 && timestamp < now - tolerance) throw new SignatureError("timestamp outside the tolerance zone");
  return timestamp;
}

export interface StripeEvent {
  id: string;
  type: string;
  created: number;
  data: { object: Record<string, any> };
}

/** What one event says about an organization's subscription; null fields change nothing. */
export interface SubscriptionChange {
  org_id: string | null;
  customer_id: string | null;
  subscription_id: string | null;
  status: string | null;
  plan: string | null;
  current_period_end: string | null;
}

const id = (value: unknown): string | null =>
  typeof value === "string" ? value : (value && typeof value === "object" && typeof (value as any).id === "string")
    ? (value as any).id : null;
const iso = (seconds: unknown): string | null =>
  typeof seconds === "number" ? new Date(seconds * 1000).toISOString() : null;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const orgId = (value: unknown): string | null => typeof value === "string" && UUID.test(value) ? value : null;

function plan(subscription: Record<string, any>): string | null {
  const price = subscription.items?.data?.[0]?.price ?? subscription.plan;
  return subscription.metadata?.plan ?? price?.lookup_key ?? price?.nickname ?? price?.id ?? null;
}

export const HANDLED = [
  "checkout.session.completed",
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "invoice.payment_succeeded",
  "invoice.payment_failed",
];

/** The subscription change an event carries, or null for event types the webhook ignores. */
export function mapEvent(event: StripeEvent): SubscriptionChange | null {
  const o = event.data?.object ?? {};
  switch (event.type) {
    case "checkout.session.completed":
      if (o.mode !== "subscription") return null;
      return {
        org_id: orgId(o.client_reference_id) ?? orgId(o.metadata?.org_id), customer_id: id(o.customer),
        subscription_id: id(o.subscription),
        status: o.payment_status === "unpaid" ? "incomplete" : "active", plan: o.metadata?.plan ?? null,
        current_period_end: null,
      };
    case "customer.subscription.created":
    case "customer.subscription.updated":
    case "customer.subscription.deleted":
      return {
        org_id: orgId(o.metadata?.org_id), customer_id: id(o.customer), subscription_id: id(o.id),
        status: event.type === "customer.subscription.deleted" ? "canceled" : (o.status ?? null), plan: plan(o),
        current_period_end: iso(o.current_period_end ?? o.items?.data?.[0]?.current_period_end),
      };
    case "invoice.payment_succeeded":
    case "invoice.payment_failed": {
      const subscription = o.subscription ?? o.parent?.subscription_details?.subscription;
      return {
        org_id: orgId(o.subscription_details?.metadata?.org_id ?? o.parent?.subscription_details?.metadata?.org_id),
        customer_id: id(o.customer), subscription_id: id(subscription),
        status: event.type === "invoice.payment_succeeded" ? "active" : "past_due", plan: null,
        current_period_end: event.type === "invoice.payment_succeeded" ? iso(o.lines?.data?.[0]?.period?.end) : null,
      };
    }
    default:
      return null;
  }
}

export type Apply = (event: StripeEvent, change: SubscriptionChange) => Promise<{ outcome: string }>;

/** Writes through the service-role-only RPC apply_stripe_event (idempotent by event id, ordered by `created`). */
export function applyThroughRpc(url: string, serviceKey: string): Apply {
  return async (event, change) => {
    const response = await fetch(`${url}/rest/v1/rpc/apply_stripe_event`, {
      method: "POST",
      headers: { apikey: serviceKey, Authorization: `Bearer ${serviceKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        event_id: event.id, event_type: event.type, event_created: iso(event.created), ...change,
      }),
    });
    if (!response.ok) throw new Error(`apply_stripe_event answered ${response.status}: ${await response.text()}`);
    return await response.json();
  };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

export function makeHandler(secret: string | undefined, apply: Apply, now = () => Date.now() / 1000) {
  return async (req: Request): Promise<Response> => {
    if (req.method !== "POST") return json({ error: "use POST" }, 405);
    if (!secret) return json({ error: "STRIPE_WEBHOOK_SECRET is not set" }, 500);
    const payload = await req.text();  // the raw body: the signature covers it byte for byte
    try {
      await verifySignature(payload, req.headers.get("stripe-signature"), secret, now());
    } catch (e) {
      if (e instanceof SignatureError) return json({ error: `Webhook signature verification failed: ${e.message}` }, 400);
      throw e;
    }
    let event: StripeEvent;
    try {
      event = JSON.parse(payload);
    } catch {
      return json({ error: "the body is not JSON" }, 400);
    }
    if (typeof event?.id !== "string" || typeof event?.type !== "string" || typeof event?.created !== "number") {
      return json({ error: "not a Stripe event: id, type and created are required" }, 400);
    }
    const change = mapEvent(event);
    if (change === null) return json({ received: true, ignored: event.type });
    try {
      const { outcome } = await apply(event, change);
      return json({ received: true, outcome });
    } catch (e) {
      console.error(`stripe-webhook: ${event.id}: ${e}`);
      return json({ error: "could not record the event; Stripe will retry" }, 500);  // non-2xx: Stripe retries
    }
  };
}
