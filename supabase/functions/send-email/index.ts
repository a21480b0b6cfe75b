// Templated mails for an organization's members (advancing invitations, member invitations). verify_jwt stays on:
// only signed-in callers reach it, and mail.ts checks they are members of the organization concerned.
//   supabase secrets set RESEND_API_KEY=re_… RESEND_FROM="Tour <tour@example.com>"  &&  supabase functions deploy send-email
import { envFromDeno, makeHandler } from "./mail.ts";

Deno.serve(makeHandler(envFromDeno()));
