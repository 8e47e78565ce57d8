/**
 * Strict IPv4/IPv6 text parsing and canonical formatting for the PROXY protocol.
 *
 * @module
 */

import type { ProxyEndpoint } from "./types.ts";

const OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * Parses a dotted quad: exactly 4 decimal numbers 0..255 without leading zeros, separated by single
 * dots. Returns the 4 bytes, or `undefined` when invalid.
 */
export function parseIPv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!OCTET.test(parts[i])) return undefined;
    const n = Number(parts[i]);
    if (n > 255) return undefined;
    bytes[i] = n;
  }
  return bytes;
}

/**
 * Parses IPv6 text (RFC 4291 section 2.2): 8 groups of 1-4 hex digits separated by colons, at most one
 * `::` for one or more zero groups, optionally ending in a dotted quad for the last 32 bits. No zone
 * id, no brackets. Returns the 16 bytes, or `undefined` when invalid.
 */
export function parseIPv6(text: string): Uint8Array | undefined {
  if (text.length < 2 || text.length > 45) return undefined;
  const bytes = new Uint8Array(16);
  let head = text;
  let tailGroups = 0;
  const lastColon = text.lastIndexOf(":");
  if (lastColon < 0) return undefined;
  if (text.indexOf(".", lastColon) >= 0) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (!v4) return undefined;
    bytes.set(v4, 12);
    tailGroups = 2;
    head = text.slice(0, lastColon + 1);
    if (!head.endsWith("::")) head = head.slice(0, -1);
  }
  const groups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    for (const g of part.split(":")) {
      if (!HEX_GROUP.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const dbl = head.indexOf("::");
  let all: number[];
  if (dbl < 0) {
    const g = groups(head);
    if (!g || g.length + tailGroups !== 8) return undefined;
    all = g;
  } else {
    if (head.indexOf("::", dbl + 1) >= 0) return undefined;
    const left = groups(head.slice(0, dbl));
    const right = groups(head.slice(dbl + 2));
    if (!left || !right) return undefined;
    const zeros = 8 - tailGroups - left.length - right.length;
    if (zeros < 1) return undefined;
    all = [...left, ...new Array<number>(zeros).fill(0), ...right];
  }
  for (let i = 0; i < all.length; i++) {
    bytes[2 * i] = all[i] >> 8;
    bytes[2 * i + 1] = all[i] & 0xff;
  }
  return bytes;
}

/** Formats 4 bytes as a dotted quad. */
export function formatIPv4(bytes: Uint8Array): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/**
 * Formats 16 bytes in the RFC 5952 canonical form: lowercase, no leading zeros, the longest run (the
 * first one on a tie) of two or more zero groups replaced by `::`, and IPv4-mapped addresses
 * (`::ffff:0:0/96`) as `::ffff:a.b.c.d` — as Deno (Rust) reports peer addresses.
 */
export function formatIPv6(bytes: Uint8Array): string {
  let mapped = bytes[10] === 0xff && bytes[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) mapped = bytes[i] === 0;
  if (mapped) return `::ffff:${formatIPv4(bytes.subarray(12, 16))}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[2 * i] << 8) | bytes[2 * i + 1]);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

/**
 * Renders an endpoint as `ip:port`, with IPv6 addresses in brackets: `192.0.2.1:443`, `[2001:db8::1]:443`.
 */
export function formatEndpoint(endpoint: ProxyEndpoint): string {
  return endpoint.address.includes(":")
    ? `[${endpoint.address}]:${endpoint.port}`
    : `${endpoint.address}:${endpoint.port}`;
}
