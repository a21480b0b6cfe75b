// WOFF 1.0 → the TrueType/OpenType font it wraps. fontkit reads WOFF itself but inflates its tables in JavaScript
// on every use (over a second for a CJK font); inflated here once with the runtime's own zlib, the font embeds
// as fast as a plain TTF.
export async function woffToSfnt(woff: Uint8Array): Promise<Uint8Array> {
  const view = new DataView(woff.buffer, woff.byteOffset, woff.byteLength);
  if (view.getUint32(0) !== 0x774f4646) throw new Error("not a WOFF font");  // "wOFF"
  const numTables = view.getUint16(12);
  const tables: { tag: number; checksum: number; data: Uint8Array }[] = [];
  for (let i = 0; i < numTables; i++) {
    const at = 44 + i * 20;  // after the 44-byte header: tag, offset, compLength, origLength, origChecksum
    const [tag, offset, compLength, origLength, checksum] = [0, 4, 8, 12, 16].map((k) => view.getUint32(at + k));
    const stored = woff.subarray(offset, offset + compLength);
    const data = compLength < origLength ? await inflate(stored) : stored;
    if (data.length !== origLength) throw new Error("a WOFF table does not inflate to its declared length");
    tables.push({ tag, checksum, data });
  }
  const headerSize = 12 + 16 * numTables;
  const out = new Uint8Array(tables.reduce((size, t) => size + pad4(t.data.length), headerSize));
  const sfnt = new DataView(out.buffer);
  const power = 2 ** Math.floor(Math.log2(numTables));
  sfnt.setUint32(0, view.getUint32(4));  // the flavor: 0x00010000 TrueType, "OTTO" CFF
  sfnt.setUint16(4, numTables);
  sfnt.setUint16(6, 16 * power);  // searchRange, entrySelector, rangeShift
  sfnt.setUint16(8, Math.log2(power));
  sfnt.setUint16(10, 16 * (numTables - power));
  let offset = headerSize;
  tables.forEach((t, i) => {
    sfnt.setUint32(12 + 16 * i, t.tag);
    sfnt.setUint32(16 + 16 * i, t.checksum);
    sfnt.setUint32(20 + 16 * i, offset);
    sfnt.setUint32(24 + 16 * i, t.data.length);
    out.set(t.data, offset);
    offset += pad4(t.data.length);
  });
  return out;
}

const pad4 = (n: number) => (n + 3) & ~3;

async function inflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
