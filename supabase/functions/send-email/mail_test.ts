// deno test for send-email: the templates, the outbox file, and Resend's HTTP API (a local server stands in for
// api.resend.com, the one thing that cannot run here).
import { advancingInvite, deliver, Env, escapeHtml, makeHandler, orgInvitation } from "./mail.ts";

function assert(condition: unknown, message = "assertion failed"): asserts condition {
  if (!condition) throw new Error(message);
}

const preview = {
  valid: true, session_id: "5d1c7a8e-0000-4000-8000-000000000001", expires_at: "2027-04-01T00:00:00Z",
  organization: { name: "Northern Lights <Touring>" }, show: { date: "2027-03-14", title: "Spring tour" },
  venue: { name: "Lokerse Feesten & Co", city: "Lokeren", country: "BE" },
};

const env = (extra: Partial<Env> = {}): Env => ({
  supabaseUrl: "http://127.0.0.1:9", anonKey: "anon", serviceKey: "service", perHour: 30, ...extra,
});

Deno.test("the advancing invite names the code, the show, the venue and how to join, in text and HTML", () => {
  const mail = advancingInvite("venue@example.com", "abcd2345efgh", preview);
  assert(mail.text.includes("ABCD-2345-EFGH") && mail.html.includes("ABCD-2345-EFGH"));
  assert(mail.subject.includes("Lokerse Feesten & Co") && mail.subject.includes("2027-03-14"));
  assert(mail.text.includes("How to join") && mail.html.includes("<ol>"));
  assert(mail.html.includes("Northern Lights &lt;Touring&gt;") && !mail.html.includes("<Touring>"), "escaped");
  assert(mail.extra?.access_code === "ABCD-2345-EFGH");
});

Deno.test("the member invitation says how to accept", () => {
  const mail = orgInvitation("pm@example.com", { name: "NLT", slug: "nlt" }, "admin");
  assert(mail.text.includes("oncore orgs accept nlt") && mail.text.includes("as admin"));
  assert(escapeHtml(`<a href="x">'`) === "&lt;a href=&quot;x&quot;&gt;&#39;");
});

Deno.test("without Resend, mail lands in the outbox as one JSON file", async () => {
  const dir = await Deno.makeTempDir();
  const mail = advancingInvite("venue@example.com", "ABCD2345EFGH", preview);
  const sent = await deliver(env({ outboxDir: dir }), mail);
  const files = [...Deno.readDirSync(dir)].map((e) => e.name);
  assert(sent.transport === "outbox" && files.length === 1 && /^\d{8}T\d{12}Z-[0-9a-f]{16}\.json$/.test(files[0]),
    files.join());
  const stored = JSON.parse(await Deno.readTextFile(`${dir}/${files[0]}`));
  assert(stored.to === "venue@example.com" && stored.access_code === "ABCD-2345-EFGH" && stored.id === sent.id);
  assert(((await Deno.stat(`${dir}/${files[0]}`)).mode! & 0o777) === 0o600);
});

Deno.test("with RESEND_API_KEY, the mail goes to Resend's API", async () => {
  const seen: { auth: string | null; body: any }[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    seen.push({ auth: req.headers.get("authorization"), body: await req.json() });
    return Response.json({ id: "re_123" });
  });
  try {
    const mail = advancingInvite("venue@example.com", "ABCD2345EFGH", preview);
    const sent = await deliver(env({ resendKey: "re_key", resendUrl: `http://127.0.0.1:${server.addr.port}/emails`,
                                     resendFrom: "Tour <tour@example.com>" }), mail);
    assert(sent.transport === "resend" && sent.id === "re_123");
    assert(seen.length === 1 && seen[0].auth === "Bearer re_key");
    assert(seen[0].body.to[0] === "venue@example.com" && seen[0].body.from === "Tour <tour@example.com>");
    assert(seen[0].body.text.includes("ABCD-2345-EFGH") && seen[0].body.html.includes("ABCD-2345-EFGH"));
  } finally {
    await server.shutdown();
  }
});

Deno.test("no transport at all answers 503; no user token answers 401", async () => {
  let failed = false;
  try {
    await deliver(env(), advancingInvite("v@example.com", "ABCD2345EFGH", preview));
  } catch (e) {
    failed = (e as { status?: number }).status === 503;
  }
  assert(failed);
  const handler = makeHandler(env());
  const anon = await handler(new Request("http://x/send-email", {
    method: "POST", headers: { Authorization: "Bearer anon" }, body: "{}",
  }));
  assert(anon.status === 401);
});
