// POST {session_id, expires_in?} with the caller's JWT → {path, signed_url, expires_in, bytes}. The caller's rights
// decide everything: get_advance_sheet reads only what RLS lets them read, and the upload to the private
// `advancing` bucket (<org_id>/<session_id>/advance-sheet.pdf) and the signed URL go through the Storage API as them.
import { render } from "./sheet.ts";

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function makeHandler(supabaseUrl: string, anonKey: string) {
  return async (req: Request): Promise<Response> => {
    if (req.method !== "POST") return json({ error: "use POST" }, 405);
    const auth = req.headers.get("authorization") ?? "";
    if (!auth || auth === `Bearer ${anonKey}`) return json({ error: "sign in first: the sheet is private" }, 401);
    let body: Record<string, any>;
    try {
      body = await req.json();
    } catch {
      return json({ error: "the body must be a JSON object" }, 400);
    }
    const sessionId = String(body?.session_id ?? "");
    if (!UUID.test(sessionId)) return json({ error: "`session_id` must be a UUID" }, 400);
    const expiresIn = Number(body?.expires_in ?? 3600);
    if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > 7 * 86400) {
      return json({ error: "`expires_in` must be 1 to 604800 seconds" }, 400);
    }
    const headers = { apikey: anonKey, Authorization: auth };
    const sheetResponse = await fetch(`${supabaseUrl}/rest/v1/rpc/get_advance_sheet`, {
      method: "POST", headers: { ...headers, "Content-Type": "application/json" },
      body: JSON.stringify({ session_id: sessionId }),
    });
    const sheet = await sheetResponse.json().catch(() => null);
    if (!sheetResponse.ok) {
      const status = [401, 403, 404].includes(sheetResponse.status) ? sheetResponse.status : 502;
      return json({ error: sheet?.message ?? "could not read the advance sheet" }, status);
    }
    const pdf = await render(sheet);
    const path = `${sheet.organization.id}/${sessionId}/advance-sheet.pdf`;
    const upload = await fetch(`${supabaseUrl}/storage/v1/object/advancing/${path}`, {
      method: "POST", headers: { ...headers, "Content-Type": "application/pdf", "x-upsert": "true" }, body: new Blob([pdf as Uint8Array<ArrayBuffer>]),
    });
    if (!upload.ok) {
      const detail = await upload.json().catch(() => ({}));
      return json({ error: `could not store the PDF: ${detail?.message ?? upload.status}` },
                  upload.status === 403 || upload.status === 400 ? 403 : 502);
    }
    const signed = await fetch(`${supabaseUrl}/storage/v1/object/sign/advancing/${path}`, {
      method: "POST", headers: { ...headers, "Content-Type": "application/json" },
      body: JSON.stringify({ expiresIn }),
    });
    const signedBody = await signed.json().catch(() => ({}));
    if (!signed.ok || !signedBody.signedURL) return json({ error: "could not sign the PDF's URL" }, 502);
    const relative = String(signedBody.signedURL);
    const signedUrl = relative.startsWith("http") ? relative : `${supabaseUrl}/storage/v1${relative}`;
    return json({ path: `advancing/${path}`, signed_url: signedUrl, expires_in: expiresIn, bytes: pdf.length });
  };
}
