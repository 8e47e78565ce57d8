/** Test helpers: hex <-> bytes. Whitespace, `|` and `#...` comments (to end of line) are ignored. */

/** Parse annotated hex into bytes. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/#[^\n]*/g, "").replace(/[\s|]/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex: ${s}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Render bytes as space-separated hex. */
export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
}
