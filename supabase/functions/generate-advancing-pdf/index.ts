// Renders a session's advance sheet to PDF, stores it in the `advancing` bucket and answers a signed URL.
// Deploy: `supabase functions deploy generate-advancing-pdf` (the fonts travel as static_files, config.toml).
import { makeHandler } from "./handler.ts";

Deno.serve(makeHandler(Deno.env.get("SUPABASE_URL")!, Deno.env.get("SUPABASE_ANON_KEY")!));
