// Stripe → subscriptions. Deploy with verify_jwt = false (Stripe sends no JWT; the signature is the check):
//   supabase secrets set STRIPE_WEBHOOK_SECRET=whsec_…  &&  supabase functions deploy stripe-webhook
import { applyThroughRpc, makeHandler } from "./webhook.ts";

const apply = applyThroughRpc(Deno.env.get("SUPABASE_URL")!, Deno.env.get("SUPABASE_SERVICE_ROLE_KEY")!);

Deno.serve(makeHandler(Deno.env.get("STRIPE_WEBHOOK_SECRET"), apply));
