/**
 * IPv4/IPv6 addresses and CIDR ranges (trusted PROXY protocol peers, and the setting that lists them).
 *
 * @module
 */

/** A parsed CIDR: address bytes (4 or 16) and prefix length. */
export interface Cidr {
  bytes: Uint8Array;
  prefix: number;
}

/** Parses `a.b.c.d/n`, `v6::addr/n` or a bare address (a /32 or /128); undefined when invalid. */
export function parseCidr(text: string): Cidr | undefined {
  const [address, prefixText, ...rest] = text.split("/");
  if (rest.length > 0) return undefined;
  const bytes = parseIp(address);
  if (!bytes) return undefined;
  const max = bytes.length * 8;
  if (prefixText === undefined) return { bytes, prefix: max };
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  return prefix <= max ? { bytes, prefix } : undefined;
}

/** Parses an IPv4 or IPv6 address (IPv4-mapped IPv6 becomes IPv4) into bytes; undefined when invalid. */
export function parseIp(text: string): Uint8Array | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    return parts.every((p) => p <= 255) ? new Uint8Array(parts) : undefined;
  }
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(":")) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
  if (mapped) return parseIp(mapped[1]);
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || (halves.length === 2 && missing < 1)) return undefined;
  const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    const n = parseInt(g, 16);
    bytes[2 * i] = n >> 8;
    bytes[2 * i + 1] = n & 0xff;
  });
  return bytes;
}

/** True when `address` lies in one of `cidrs` (addresses of another family never match). */
export function inCidrs(address: string, cidrs: readonly Cidr[]): boolean {
  const bytes = parseIp(address);
  if (!bytes) return false;
  return cidrs.some((cidr) => {
    if (cidr.bytes.length !== bytes.length) return false;
    for (let bit = 0; bit < cidr.prefix; bit++) {
      const mask = 0x80 >> (bit % 8);
      if ((cidr.bytes[bit >> 3] & mask) !== (bytes[bit >> 3] & mask)) return false;
    }
    return true;
  });
}
