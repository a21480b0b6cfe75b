// send-email: the project's mails, from templates only (a member cannot make it send arbitrary text), to members'
// chosen recipients. The caller's JWT decides everything through RLS: who they are, what they may read; the
// service-role key only counts the organization's quota.
//
// POST {template: "advancing_invite", session_id, access_code, to}   a venue's invitation to advance a show
// POST {template: "org_invitation", org_id, to}                       an invitation to join an organization
//
// Transport: Resend's HTTP API when RESEND_API_KEY is set (RESEND_FROM, default "oncore <onboarding@resend.dev>"),
// else the local stack's outbox (ONCORE_OUTBOX_DIR, which `oncore local start` provides), else 503.

export interface Mail {
  to: string;
  subject: string;
  text: string;
  html: string;
  kind: string;
  extra?: Record<string, unknown>;
}

export interface Env {
  supabaseUrl: string;
  anonKey: string;
  serviceKey: string;
  resendKey?: string;
  resendFrom?: string;
  resendUrl?: string;
  outboxDir?: string;
  perHour: number;
  appUrl?: string;
}

export function envFromDeno(): Env {
  const get = (name: string) => Deno.env.get(name) || undefined;
  return {
    supabaseUrl: get("SUPABASE_URL")!, anonKey: get("SUPABASE_ANON_KEY")!, serviceKey: get("SUPABASE_SERVICE_ROLE_KEY")!,
    resendKey: get("RESEND_API_KEY"), resendFrom: get("RESEND_FROM"), resendUrl: get("RESEND_API_URL"),
    outboxDir: get("ONCORE_OUTBOX_DIR"), perHour: Number(get("EMAIL_RATE_LIMIT_PER_HOUR") ?? 30),
    appUrl: get("ONCORE_APP_URL"),
  };
}

class HttpError extends Error {
  constructor(public status: number, message: string, public headers: Record<string, string> = {}) {
    super(message);
  }
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });

const EMAIL = /^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function formatCode(code: string): string {
  const bare = code.replace(/[-\s]/g, "").toUpperCase();
  return bare.length === 12 ? `${bare.slice(0, 4)}-${bare.slice(4, 8)}-${bare.slice(8)}` : code;
}

export function advancingInvite(to: string, code: string, preview: Record<string, any>): Mail {
  const org = preview.organization?.name ?? "The touring party";
  const venue = preview.venue ? [preview.venue.name, preview.venue.city].filter(Boolean).join(", ") : "your venue";
  const show = preview.show ?? {};
  const what = [show.title, show.date].filter(Boolean).join(" on ") || "the show";
  const pretty = formatCode(code);
  const subject = `${org}: advance ${what} at ${venue}`;
  const steps = [
    `Your access code: ${pretty}`,
    "",
    "How to join (no account needed):",
    "  1. Open the advancing page your tour manager sent, or run `oncore advancing join " + pretty + "`.",
    "  2. Enter the code above; it admits you to this show's advance only.",
    "  3. Fill in hospitality, technical and production, and submit each section.",
    "",
    `The code expires on ${String(preview.expires_at ?? "").slice(0, 10) || "its expiry date"}.`,
  ];
  const text = `${org} invites ${venue} to advance ${what}.\n\n${steps.join("\n")}\n`;
  const html = `<p>${escapeHtml(org)} invites <strong>${escapeHtml(venue)}</strong> to advance ${escapeHtml(what)}.</p>` +
    `<p>Your access code: <strong style="font-family:monospace;font-size:1.3em">${escapeHtml(pretty)}</strong></p>` +
    `<p>How to join (no account needed):</p><ol>` +
    `<li>Open the advancing page your tour manager sent, or run <code>oncore advancing join ${escapeHtml(pretty)}</code>.</li>` +
    `<li>Enter the code above; it admits you to this show's advance only.</li>` +
    `<li>Fill in hospitality, technical and production, and submit each section.</li></ol>`;
  return { to, subject, text, html, kind: "advancing_invite",
           extra: { access_code: pretty, session_id: preview.session_id } };
}

export function orgInvitation(to: string, org: { name: string; slug: string }, role: string): Mail {
  const subject = `You are invited to join ${org.name} on oncore`;
  const text = `You have been invited to join ${org.name} as ${role}.\n\nHow to join:\n` +
    `  1. Sign up or log in with this address (${to}): \`oncore signup\` or \`oncore login\`.\n` +
    `  2. Accept: \`oncore orgs accept ${org.slug}\` (\`oncore orgs invitations\` lists yours).\n`;
  const html = `<p>You have been invited to join <strong>${escapeHtml(org.name)}</strong> as ${escapeHtml(role)}.</p>` +
    `<ol><li>Sign up or log in with this address (${escapeHtml(to)}).</li>` +
    `<li>Accept: <code>oncore orgs accept ${escapeHtml(org.slug)}</code></li></ol>`;
  return { to, subject, text, html, kind: "org_invitation", extra: { org_slug: org.slug } };
}

/** Calls the project's API as the caller (their JWT) or as the service (the service-role key). */
function api(env: Env, token: string) {
  return async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${env.supabaseUrl}${path}`, {
      ...init,
      headers: { apikey: env.anonKey, Authorization: `Bearer ${token}`, "Content-Type": "application/json",
                 ...(init.headers ?? {}) },
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new HttpError(response.status >= 500 ? 502 : response.status, body?.message ?? body?.msg ??
      `${path} answered ${response.status}`);
    return body;
  };
}

const ROLE_RANK: Record<string, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

async function requireMember(caller: ReturnType<typeof api>, orgId: string, least = "member"): Promise<void> {
  const user = await caller("/auth/v1/user");
  const rows = await caller(`/rest/v1/org_members?select=role&org_id=eq.${orgId}&user_id=eq.${user.id}`);
  if (!rows.length || ROLE_RANK[rows[0].role] < ROLE_RANK[least]) {
    throw new HttpError(403, `only the organization's members (${least} or above) may send its mail`);
  }
}

/** Builds the mail a request asks for, checking the caller's right to send it; returns [org_id, mail]. */
export async function compose(env: Env, token: string, body: Record<string, any>): Promise<[string, Mail]> {
  const caller = api(env, token);
  const to = String(body.to ?? "").trim();
  if (!EMAIL.test(to)) throw new HttpError(400, "`to` must be one e-mail address");
  if (body.template === "advancing_invite") {
    if (!UUID.test(String(body.session_id ?? ""))) throw new HttpError(400, "`session_id` must be a UUID");
    if (typeof body.access_code !== "string" || !body.access_code) throw new HttpError(400, "`access_code` is required");
    const sessions = await caller(`/rest/v1/advancing_sessions?select=org_id&id=eq.${body.session_id}`);
    if (!sessions.length) throw new HttpError(404, "advancing session not found");
    const orgId = sessions[0].org_id;
    await requireMember(caller, orgId);
    const preview = await caller("/rest/v1/rpc/verify_access_code", {
      method: "POST", body: JSON.stringify({ code: body.access_code }),
    });
    if (!preview?.valid || preview.session_id !== body.session_id) {
      throw new HttpError(400, "the access code does not open this session (rotate it to get a new one)");
    }
    return [orgId, advancingInvite(to, body.access_code, preview)];
  }
  if (body.template === "org_invitation") {
    if (!UUID.test(String(body.org_id ?? ""))) throw new HttpError(400, "`org_id` must be a UUID");
    await requireMember(caller, body.org_id, "admin");
    const invitations = await caller(`/rest/v1/org_invitations?select=role&org_id=eq.${body.org_id}` +
      `&email=eq.${encodeURIComponent(to.toLowerCase())}`);
    if (!invitations.length) throw new HttpError(404, `no pending invitation for ${to}`);
    const [org] = await caller(`/rest/v1/organizations?select=name,slug&id=eq.${body.org_id}`);
    return [body.org_id, orgInvitation(to, org, invitations[0].role)];
  }
  throw new HttpError(400, "`template` must be advancing_invite or org_invitation");
}

export async function deliver(env: Env, mail: Mail): Promise<{ transport: string; id: string }> {
  if (env.resendKey) {
    const response = await fetch(env.resendUrl ?? "https://api.resend.com/emails", {
      method: "POST",
      headers: { Authorization: `Bearer ${env.resendKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ from: env.resendFrom ?? "oncore <onboarding@resend.dev>", to: [mail.to],
                             subject: mail.subject, text: mail.text, html: mail.html }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new HttpError(502, `Resend refused the mail (${response.status}): ${body?.message ?? ""}`);
    return { transport: "resend", id: body.id };
  }
  if (env.outboxDir) {
    // the local outbox's format (oncore_cli/local/mail.py): one JSON file per message, written then renamed
    const now = new Date();
    const id = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, "0")).join("");
    const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.(\d{3})Z$/, "$1000Z");
    const message = { id, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html, kind: mail.kind,
                      created_at: now.toISOString(), ...(mail.extra ?? {}) };
    await Deno.mkdir(env.outboxDir, { recursive: true });
    const tmp = `${env.outboxDir}/.${stamp}-${id}.json.tmp`;
    await Deno.writeTextFile(tmp, JSON.stringify(message, null, 2), { mode: 0o600 });
    await Deno.rename(tmp, `${env.outboxDir}/${stamp}-${id}.json`);
    return { transport: "outbox", id };
  }
  throw new HttpError(503, "no mail transport: set the RESEND_API_KEY secret");
}

export function makeHandler(env: Env) {
  return async (req: Request): Promise<Response> => {
    if (req.method === "OPTIONS") {
      return new Response("ok", { headers: { "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Headers": "authorization, x-client-info, apikey, content-type" } });
    }
    if (req.method !== "POST") return json({ error: "use POST" }, 405);
    const token = (req.headers.get("authorization") ?? "").replace(/^Bearer\s+/i, "");
    if (!token || token === env.anonKey) return json({ error: "sign in first: send-email needs a user's JWT" }, 401);
    let body: Record<string, any>;
    try {
      body = await req.json();
    } catch {
      return json({ error: "the body must be a JSON object" }, 400);
    }
    try {
      const [orgId, mail] = await compose(env, token, body ?? {});
      const quota = await api(env, env.serviceKey)("/rest/v1/rpc/take_email_quota", {
        method: "POST", body: JSON.stringify({ org_id: orgId, kind: mail.kind, per_hour: env.perHour }),
        headers: { apikey: env.serviceKey },
      });
      if (!quota.allowed) {
        throw new HttpError(429, `too many mails: this organization may send ${env.perHour} an hour; ` +
          `try again in ${quota.retry_after} s`, { "Retry-After": String(quota.retry_after) });
      }
      const sent = await deliver(env, mail);
      return json({ sent: true, to: mail.to, kind: mail.kind, ...sent });
    } catch (e) {
      if (e instanceof HttpError) return json({ error: e.message }, e.status, e.headers);
      console.error(`send-email: ${e}`);
      return json({ error: "could not send the mail" }, 500);
    }
  };
}
