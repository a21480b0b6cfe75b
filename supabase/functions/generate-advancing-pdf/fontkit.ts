// fontkit for pdf-lib. pdf-lib 1.17.1 ships with @pdf-lib/fontkit 1.1.1, whose TrueType subsetter corrupts the glyph
// data of large CJK fonts (Noto Sans JP's kanji come out blank); fontkit 2 subsets them correctly but hands the
// subset over with `encode()` where pdf-lib asks for `encodeStream()`: this adapter bridges the two.
import * as fontkit2 from "npm:fontkit@2.0.4";

type Listener = (value?: unknown) => void;

export const fontkit = {
  create(data: Uint8Array) {
    // deno-lint-ignore no-explicit-any
    const font = (fontkit2 as any).create(data);
    const createSubset = font.createSubset.bind(font);
    font.createSubset = () => {
      const subset = createSubset();
      subset.encodeStream = () => {  // the events pdf-lib listens to: data (the font file), then end
        const listeners: Record<string, Listener> = {};
        const stream = { on: (event: string, listener: Listener) => ((listeners[event] = listener), stream) };
        queueMicrotask(() => {
          try {
            listeners.data?.(subset.encode());
            listeners.end?.();
          } catch (e) {
            listeners.error?.(e);
          }
        });
        return stream;
      };
      return subset;
    };
    return font;
  },
};
