// The advance sheet as a PDF, from get_advance_sheet's content model (the same document the CLI's reportlab sheet
// renders). pdf-lib draws it with DejaVu Sans (fonts/, free licence in fonts/LICENSE) embedded and subset, so
// Cyrillic, Greek, Hebrew, Armenian, Georgian and accented Latin venue names render as written.
import { PDFDocument, PDFFont, rgb } from "npm:pdf-lib@1.17.1";
import fontkit from "npm:@pdf-lib/fontkit@1.1.1";

const FONT_DIR = new URL("./fonts/", import.meta.url);
const PAGE: [number, number] = [595.28, 841.89];  // A4 in points
const MARGIN = 50;
const HIDDEN = new Set(["id", "session_id", "org_id", "created_at", "updated_at", "external_ref", "venue_id"]);

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
  out.push(["text", `Generated ${sheet.generated_at ?? new Date().toISOString()}`]);
  return out;
}

function wrap(text: string, font: PDFFont, size: number, width: number): string[] {
  const words = text.split(/\s+/);
  const result: string[] = [];
  let line = "";
  for (const word of words) {
    const candidate = line ? `${line} ${word}` : word;
    if (font.widthOfTextAtSize(candidate, size) <= width || !line) {
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
  doc.registerFontkit(fontkit);
  const regular = await doc.embedFont(await Deno.readFile(new URL("DejaVuSans.ttf", FONT_DIR)), { subset: true });
  const bold = await doc.embedFont(await Deno.readFile(new URL("DejaVuSans-Bold.ttf", FONT_DIR)), { subset: true });
  doc.setTitle(`Advance sheet ${sheet.show?.date ?? ""} ${sheet.venue?.name ?? ""}`.trim());
  doc.setProducer("oncore generate-advancing-pdf");
  let page = doc.addPage(PAGE);
  let y = PAGE[1] - MARGIN;
  for (const [style, text] of lines(sheet)) {
    const size = style === "title" ? 18 : style === "heading" ? 13 : 10;
    const font = style === "text" ? regular : bold;
    if (style === "heading") y -= 8;
    for (const piece of wrap(text, font, size, PAGE[0] - 2 * MARGIN)) {
      if (y < MARGIN + size) {
        page = doc.addPage(PAGE);
        y = PAGE[1] - MARGIN;
      }
      page.drawText(piece, { x: MARGIN, y: y - size, size, font, color: rgb(0.1, 0.1, 0.1) });
      y -= size * 1.45;
    }
  }
  return await doc.save({ useObjectStreams: false });  // plain objects: every PDF reader, and greppable
}
