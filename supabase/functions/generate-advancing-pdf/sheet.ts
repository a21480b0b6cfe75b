// The advance sheet as a PDF, from get_advance_sheet's content model (the same document the CLI's reportlab sheet
// renders). pdf-lib draws it with DejaVu Sans (fonts/, free licence in fonts/LICENSE) embedded and subset, so
// Cyrillic, Greek, Hebrew, Armenian, Georgian and accented Latin venue names render as written; characters DejaVu
// lacks (kana, kanji, hanzi: 東京ドーム) are drawn with Noto Sans JP (fonts/NotoSansJP-Regular.woff, SIL OFL in
// fonts/LICENSE-NotoSansJP; the "japanese" WOFF of npm's @openfonts/noto-sans-jp_japanese@1.44.6, 1.4 MB — an
// `npm:` import would put all nine weights, 21 MB, into the deployed bundle), loaded only by sheets that need it.
import { PDFDocument, PDFFont, rgb } from "npm:pdf-lib@1.17.1";
import { fontkit } from "./fontkit.ts";
import { woffToSfnt } from "./woff.ts";

const FONT_DIR = new URL("./fonts/", import.meta.url);
let cjkFont: Promise<Uint8Array> | undefined;  // inflated once per worker
const PAGE: [number, number] = [595.28, 841.89];  // A4 in points
const MARGIN = 50;
// Bookkeeping, not advance: left out as the CLI's sheet leaves it out (updated_by is a user id).
const HIDDEN = new Set(["id", "session_id", "org_id", "created_at", "updated_at", "updated_by", "external_ref",
                        "venue_id"]);

type Sheet = Record<string, any>;

const label = (key: string) => key.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());

export function valueText(value: unknown): string {
  if (value === null || value === undefined || value === "") return "—";
  if (Array.isArray(value)) {
    return value.length ? value.map((v) => typeof v === "object" && v ? Object.values(v).filter(Boolean).join(" · ")
                                                                      : String(v)).join("; ") : "—";
  }
  if (typeof value === "object") return Object.entries(value).map(([k, v]) => `${label(k)}: ${valueText(v)}`).join("; ");
  if (typeof value === "boolean") return value ? "yes" : "no";
  return String(value);
}

/** When the sheet was made, as the CLI's sheet says it: "2027-03-14 17:05 UTC". */
export function generated(stamp?: string): string {
  const at = stamp ? new Date(stamp) : new Date();
  return `${at.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** The sheet's lines, in order: [style, text]. Kept apart from drawing so tests read what the PDF says. */
export function lines(sheet: Sheet): [("title" | "heading" | "text"), string][] {
  const out: [("title" | "heading" | "text"), string][] = [];
  const show = sheet.show ?? {};
  const venue = sheet.venue ?? {};
  out.push(["title", `Advance sheet — ${sheet.organization?.name ?? ""}`.trim()]);
  out.push(["text", [show.date, show.title].filter(Boolean).join(" · ") || "—"]);
  out.push(["text", [venue.name, venue.city, venue.country].filter(Boolean).join(", ") || "No venue"]);
  out.push(["text", `Times in ${sheet.timezone ?? "UTC"} · session ${sheet.session?.status ?? ""}`]);
  out.push(["heading", "Schedule"]);
  for (const item of sheet.schedule ?? []) out.push(["text", `${item.local_time ?? "--:--"}  ${item.label ?? ""}`]);
  if (!(sheet.schedule ?? []).length) out.push(["text", "—"]);
  if ((sheet.contacts ?? []).length) {
    out.push(["heading", "Contacts"]);
    for (const c of sheet.contacts) out.push(["text", valueText([c])]);
  }
  for (const section of ["hospitality", "technical", "production"]) {
    const data = sheet[section];
    out.push(["heading", label(section)]);
    if (!data) {
      out.push(["text", "—"]);
      continue;
    }
    for (const [key, value] of Object.entries(data)) {
      if (!HIDDEN.has(key)) out.push(["text", `${label(key)}: ${valueText(value)}`]);
    }
  }
  out.push(["text", ""]);
  out.push(["text", `Generated ${generated(sheet.generated_at)} by oncore`]);
  return out;
}

/** A font and the code points it has glyphs for. */
type Face = { font: PDFFont; has: Set<number> };

const face = (font: PDFFont): Face => ({ font, has: new Set(font.getCharacterSet()) });

/** `text` in runs of one font each: a run goes on while its font has the characters (so "東京ドーム, Tokyo" stays
 * one run, one text object: readers copy it as written), else the first of `faces` that has them (else the first). */
function runs(text: string, faces: Face[]): [PDFFont, string][] {
  const out: [Face, string][] = [];
  for (const ch of text) {
    const point = ch.codePointAt(0)!;
    const last = out[out.length - 1];
    if (last && last[0].has.has(point)) {
      last[1] += ch;
      continue;
    }
    const face = faces.find((f) => f.has.has(point)) ?? faces[0];
    if (last && last[0] === face) last[1] += ch;
    else out.push([face, ch]);
  }
  return out.map(([face, run]) => [face.font, run]);
}

const widthOf = (text: string, faces: Face[], size: number) =>
  runs(text, faces).reduce((width, [font, run]) => width + font.widthOfTextAtSize(run, size), 0);

function wrap(text: string, faces: Face[], size: number, width: number): string[] {
  const words = text.split(/\s+/);
  const result: string[] = [];
  let line = "";
  for (const word of words) {
    const candidate = line ? `${line} ${word}` : word;
    if (widthOf(candidate, faces, size) <= width || !line) {
      line = candidate;
    } else {
      result.push(line);
      line = word;
    }
  }
  result.push(line);
  return result;
}

export async function render(sheet: Sheet): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.registerFontkit(fontkit as Parameters<typeof doc.registerFontkit>[0]);
  const regular = face(await doc.embedFont(await Deno.readFile(new URL("DejaVuSans.ttf", FONT_DIR)), { subset: true }));
  const bold = face(await doc.embedFont(await Deno.readFile(new URL("DejaVuSans-Bold.ttf", FONT_DIR)), { subset: true }));
  const content = lines(sheet);
  const fallback: Face[] = [];
  if (content.some(([, text]) => [...text].some((ch) => !regular.has.has(ch.codePointAt(0)!)))) {
    cjkFont ??= Deno.readFile(new URL("NotoSansJP-Regular.woff", FONT_DIR)).then(woffToSfnt);
    fallback.push(face(await doc.embedFont(await cjkFont, { subset: true })));  // one weight: bold runs too
  }
  doc.setTitle(`Advance sheet ${sheet.show?.date ?? ""} ${sheet.venue?.name ?? ""}`.trim());
  doc.setProducer("oncore generate-advancing-pdf");
  let page = doc.addPage(PAGE);
  let y = PAGE[1] - MARGIN;
  for (const [style, text] of content) {
    const size = style === "title" ? 18 : style === "heading" ? 13 : 10;
    const faces = [style === "text" ? regular : bold, ...fallback];
    if (style === "heading") y -= 8;
    for (const piece of wrap(text, faces, size, PAGE[0] - 2 * MARGIN)) {
      if (y < MARGIN + size) {
        page = doc.addPage(PAGE);
        y = PAGE[1] - MARGIN;
      }
      let x = MARGIN;
      for (const [font, run] of runs(piece, faces)) {
        page.drawText(run, { x, y: y - size, size, font, color: rgb(0.1, 0.1, 0.1) });
        x += font.widthOfTextAtSize(run, size);
      }
      y -= size * 1.45;
    }
  }
  return await doc.save({ useObjectStreams: false });  // plain objects: every PDF reader, and greppable
}
