// deno test for the advance-sheet PDF: what it says (lines) and that the embedded fonts carry non-Latin text.
import { fontkit } from "./fontkit.ts";
import { lines, render, valueText } from "./sheet.ts";
import { woffToSfnt } from "./woff.ts";

function assert(condition: unknown, message = "assertion failed"): asserts condition {
  if (!condition) throw new Error(message);
}

const sheet = {
  version: 1, generated_at: "2027-05-01T10:00:00Z", timezone: "Europe/Moscow",
  session: { status: "in_progress" }, organization: { id: "o", name: "Northern Lights" },
  show: { date: "2027-05-02", title: "Весна" },
  venue: { name: "Ъ Клуб", city: "Москва", country: "RU" },
  schedule: [{ label: "Doors", local_time: "19:00" }],
  contacts: [{ name: "Αλέξης", phone: "+30 210" }],
  hospitality: { id: "x", guest_count: 42, dietary: ["vegan", "halal"], parking: true, notes: null,
                 updated_by: "7d1f0c3e-0000-4000-8000-000000000001" },
  technical: null, production: { runner: "Jan Kowalski" },
};

Deno.test("the lines hold the venue, the schedule and every section field", () => {
  const text = lines(sheet).map(([, t]) => t).join("\n");
  for (const expected of ["Ъ Клуб, Москва, RU", "19:00  Doors", "Guest count: 42", "Dietary: vegan; halal",
                          "Parking: yes", "Notes: —", "Runner: Jan Kowalski", "Αλέξης · +30 210"]) {
    assert(text.includes(expected), `missing ${expected}`);
  }
  assert(!text.includes("Id: x") && !text.includes("7d1f0c3e"), "internal ids stay out");
  assert(text.includes("Generated 2027-05-01 10:00 UTC by oncore"), "the stamp as the CLI's sheet writes it");
  assert(valueText([]) === "—" && valueText(false) === "no");
});

Deno.test("a PDF with the font embedded (not a standard 14 font)", async () => {
  const pdf = await render(sheet);
  const head = new TextDecoder("latin1").decode(pdf.slice(0, 8));
  assert(head.startsWith("%PDF-"));
  const body = new TextDecoder("latin1").decode(pdf);
  assert(body.includes("DejaVuSans") && body.includes("/FontFile2"), "DejaVu embedded as TrueType");
});

Deno.test("long sheets continue on new pages", async () => {
  const long = { ...sheet, schedule: Array.from({ length: 120 }, (_, i) => ({ label: `Item ${i}`, local_time: "10:00" })) };
  const pdf = new TextDecoder("latin1").decode(await render(long));
  assert((pdf.match(/\/Type \/Page\b/g) ?? []).length >= 2);
});

Deno.test("kana and kanji are drawn with the CJK font, loaded only for sheets that need it", async () => {
  const tokyo = { ...sheet, venue: { name: "東京ドーム", city: "東京", country: "JP" }, show: { date: "2027-05-02" } };
  const cjk = new TextDecoder("latin1").decode(await render(tokyo));
  assert(/\/BaseFont \/NotoSansJP\S*/.test(cjk) && cjk.includes("/FontFile2"), "Noto Sans JP embedded");
  assert(cjk.includes("DejaVuSans"), "the rest stays in DejaVu Sans");
  const latin = new TextDecoder("latin1").decode(await render(sheet));
  assert(!latin.includes("NotoSansJP"), "no CJK font in a sheet without CJK text");
});

Deno.test("the WOFF font unwraps to the TrueType font fontkit reads", async () => {
  const woff = await Deno.readFile(new URL("./fonts/NotoSansJP-Regular.woff", import.meta.url));
  const sfnt = await woffToSfnt(woff);
  const view = new DataView(sfnt.buffer);
  assert(view.getUint32(0) === 0x00010000, "TrueType flavor");
  assert(view.getUint16(4) === new DataView(woff.buffer).getUint16(12), "every table kept");
  const font = fontkit.create(sfnt);
  assert(font.postscriptName.startsWith("NotoSansJP") && font["OS/2"].usWeightClass === 400, font.postscriptName);
  for (const ch of "東京ドーム") assert(font.hasGlyphForCodePoint(ch.codePointAt(0)), `a glyph for ${ch}`);
  let refused = false;
  try {
    await woffToSfnt(sfnt);
  } catch {
    refused = true;
  }
  assert(refused, "a font that is not WOFF is refused");
});
