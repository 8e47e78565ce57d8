/**
 * PROXY protocol header builders (v1 text, v2 binary with TLVs and CRC32C), for tests and for a
 * sending side. Unlike the parser, the builders throw a `RangeError` on invalid input.
 *
 * @module
 */

import { crc32c } from "./crc32c.ts";
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "./ip.ts";
import type { ProxyEndpoint, ProxyRawTlv } from "./types.ts";
import { PP2_SUBTYPE_SSL, PP2_TYPE, UNIQUE_ID_MAX_LENGTH, V2_ADDRESS_LENGTH, V2_SIGNATURE } from "./v2.ts";

/** Input of {@link buildProxyV1}. */
export interface ProxyV1Input {
  /** Default: TCP4 or TCP6 from the source address, UNKNOWN without addresses. */
  family?: "TCP4" | "TCP6" | "UNKNOWN";
  /** The original client (optional for UNKNOWN). */
  source?: ProxyEndpoint;
  /** The original destination (optional for UNKNOWN). */
  destination?: ProxyEndpoint;
}

/** The SSL TLV to send. */
export interface ProxySslInput {
  /** The `client` bit field (u8). */
  client: number;
  /** The `verify` field (u32; 0 = client certificate verified). */
  verify: number;
  /** Sub-TLV 0x21 VERSION. */
  version?: string;
  /** Sub-TLV 0x22 CN (UTF-8). */
  cn?: string;
  /** Sub-TLV 0x23 CIPHER. */
  cipher?: string;
  /** Sub-TLV 0x24 SIG_ALG. */
  sigAlg?: string;
  /** Sub-TLV 0x25 KEY_ALG. */
  keyAlg?: string;
  /** Extra sub-TLVs, appended after the known ones. */
  unknown?: readonly ProxyRawTlv[];
}

/** The TLVs to send, written in this order: ALPN .. GCP, `unknown`, NOOP, CRC32C. */
export interface ProxyTlvsInput {
  /** One byte per character (latin1). */
  alpn?: string;
  /** 0x02 AUTHORITY (UTF-8). */
  authority?: string;
  /** 0x05 UNIQUE_ID (at most 128 bytes). */
  uniqueId?: Uint8Array;
  /** 0x20 SSL with its sub-TLVs. */
  ssl?: ProxySslInput;
  /** 0x30 NETNS. */
  netns?: string;
  /** 0xEA AWS, subtype 0x01 (VPC endpoint id). */
  aws?: { vpcEndpointId: string };
  /** 0xEE Azure, subtype 0x01 (private link id, written little-endian). */
  azure?: { privateLinkId: number };
  /** 0xE0 GCP (PSC connection id, written as u64 big-endian). */
  gcp?: { pscConnectionId: bigint };
  /** TLVs written as is. */
  unknown?: readonly ProxyRawTlv[];
  /** A NOOP TLV with this many zero bytes of value. */
  noop?: number;
  /** Append a CRC32C TLV holding the checksum of the whole header. */
  crc32c?: boolean;
}

/** Input of {@link buildProxyV2}. */
export interface ProxyV2Input {
  /** Default PROXY. */
  command?: "PROXY" | "LOCAL";
  /** Default: INET/INET6 from the source address, UNIX with `unix`, else UNSPEC. */
  family?: "UNSPEC" | "INET" | "INET6" | "UNIX";
  /** Default STREAM, or UNSPEC for the UNSPEC family. */
  transport?: "UNSPEC" | "STREAM" | "DGRAM";
  /** Required for INET/INET6 (zeros are written when absent, e.g. for LOCAL). */
  source?: ProxyEndpoint;
  /** Required for INET/INET6 (zeros are written when absent). */
  destination?: ProxyEndpoint;
  /** AF_UNIX paths (at most 108 bytes each, NUL-padded). */
  unix?: { source: string | Uint8Array; destination: string | Uint8Array };
  /** TLVs after the address block. */
  tlvs?: ProxyTlvsInput;
}

const encoder = new TextEncoder();

function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`invalid port ${port}`);
  return port;
}

function ipBytes(address: string, size: 4 | 16): Uint8Array {
  const bytes = size === 4 ? parseIPv4(address) : parseIPv6(address);
  if (!bytes) throw new RangeError(`invalid IPv${size === 4 ? 4 : 6} address "${address}"`);
  return bytes;
}

/** Builds a v1 line, e.g. `PROXY TCP4 192.0.2.1 198.51.100.1 56324 9092\r\n` (addresses canonicalized). */
export function buildProxyV1(input: ProxyV1Input): Uint8Array {
  const { source, destination } = input;
  const family = input.family ??
    (source === undefined ? "UNKNOWN" : source.address.includes(":") ? "TCP6" : "TCP4");
  if (family === "UNKNOWN" && (!source || !destination)) return encoder.encode("PROXY UNKNOWN\r\n");
  if (!source || !destination) throw new RangeError(`${family} needs a source and a destination`);
  const render = (address: string) => {
    if (family === "TCP4") return formatIPv4(ipBytes(address, 4));
    if (family === "TCP6") return formatIPv6(ipBytes(address, 16));
    const v4 = parseIPv4(address);
    return v4 ? formatIPv4(v4) : formatIPv6(ipBytes(address, 16));
  };
  const line = `PROXY ${family} ${render(source.address)} ${render(destination.address)} ` +
    `${checkPort(source.port)} ${checkPort(destination.port)}\r\n`;
  return encoder.encode(line);
}

function tlv(type: number, value: Uint8Array): Uint8Array {
  if (value.length > 0xffff) throw new RangeError(`TLV ${type} value of ${value.length} bytes is too long`);
  const out = new Uint8Array(3 + value.length);
  out[0] = type;
  out[1] = value.length >> 8;
  out[2] = value.length & 0xff;
  out.set(value, 3);
  return out;
}

function latin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw new RangeError(`ALPN character U+${c.toString(16)} is not a byte`);
    out[i] = c;
  }
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function sslValue(ssl: ProxySslInput): Uint8Array {
  const head = new Uint8Array(5);
  head[0] = ssl.client;
  new DataView(head.buffer).setUint32(1, ssl.verify >>> 0);
  const subs: Uint8Array[] = [head];
  const strings: [number, string | undefined][] = [
    [PP2_SUBTYPE_SSL.VERSION, ssl.version],
    [PP2_SUBTYPE_SSL.CN, ssl.cn],
    [PP2_SUBTYPE_SSL.CIPHER, ssl.cipher],
    [PP2_SUBTYPE_SSL.SIG_ALG, ssl.sigAlg],
    [PP2_SUBTYPE_SSL.KEY_ALG, ssl.keyAlg],
  ];
  for (const [type, value] of strings) if (value !== undefined) subs.push(tlv(type, encoder.encode(value)));
  for (const sub of ssl.unknown ?? []) subs.push(tlv(sub.type, sub.value));
  return concat(subs);
}

function tlvBytes(tlvs: ProxyTlvsInput): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (tlvs.alpn !== undefined) out.push(tlv(PP2_TYPE.ALPN, latin1(tlvs.alpn)));
  if (tlvs.authority !== undefined) out.push(tlv(PP2_TYPE.AUTHORITY, encoder.encode(tlvs.authority)));
  if (tlvs.uniqueId !== undefined) {
    if (tlvs.uniqueId.length > UNIQUE_ID_MAX_LENGTH) {
      throw new RangeError(`unique id of ${tlvs.uniqueId.length} bytes (at most ${UNIQUE_ID_MAX_LENGTH})`);
    }
    out.push(tlv(PP2_TYPE.UNIQUE_ID, tlvs.uniqueId));
  }
  if (tlvs.ssl !== undefined) out.push(tlv(PP2_TYPE.SSL, sslValue(tlvs.ssl)));
  if (tlvs.netns !== undefined) out.push(tlv(PP2_TYPE.NETNS, encoder.encode(tlvs.netns)));
  if (tlvs.aws !== undefined) {
    out.push(tlv(PP2_TYPE.AWS, concat([Uint8Array.of(0x01), encoder.encode(tlvs.aws.vpcEndpointId)])));
  }
  if (tlvs.azure !== undefined) {
    const v = new Uint8Array(5);
    v[0] = 0x01;
    new DataView(v.buffer).setUint32(1, tlvs.azure.privateLinkId >>> 0, true);
    out.push(tlv(PP2_TYPE.AZURE, v));
  }
  if (tlvs.gcp !== undefined) {
    const v = new Uint8Array(8);
    new DataView(v.buffer).setBigUint64(0, BigInt.asUintN(64, tlvs.gcp.pscConnectionId));
    out.push(tlv(PP2_TYPE.GCP, v));
  }
  for (const t of tlvs.unknown ?? []) out.push(tlv(t.type, t.value));
  if (tlvs.noop !== undefined) out.push(tlv(PP2_TYPE.NOOP, new Uint8Array(tlvs.noop)));
  return out;
}

const FAMILIES = { UNSPEC: 0, INET: 1, INET6: 2, UNIX: 3 } as const;
const TRANSPORTS = { UNSPEC: 0, STREAM: 1, DGRAM: 2 } as const;

/**
 * Builds a v2 header. With `tlvs.crc32c`, a CRC32C TLV is appended last and filled with the CRC32C of
 * the whole header computed with that field zeroed.
 */
export function buildProxyV2(input: ProxyV2Input): Uint8Array {
  const family = input.family ??
    (input.unix ? "UNIX" : input.source ? (input.source.address.includes(":") ? "INET6" : "INET") : "UNSPEC");
  const transport = input.transport ?? (family === "UNSPEC" ? "UNSPEC" : "STREAM");
  const fam = FAMILIES[family];
  const block = new Uint8Array(V2_ADDRESS_LENGTH[fam]);
  const view = new DataView(block.buffer);
  if (family === "INET" || family === "INET6") {
    const size = family === "INET" ? 4 : 16;
    if (input.source) {
      block.set(ipBytes(input.source.address, size), 0);
      view.setUint16(2 * size, checkPort(input.source.port));
    }
    if (input.destination) {
      block.set(ipBytes(input.destination.address, size), size);
      view.setUint16(2 * size + 2, checkPort(input.destination.port));
    }
  } else if (family === "UNIX" && input.unix) {
    const path = (p: string | Uint8Array) => {
      const bytes = typeof p === "string" ? encoder.encode(p) : p;
      if (bytes.length > 108) throw new RangeError(`AF_UNIX address of ${bytes.length} bytes (at most 108)`);
      return bytes;
    };
    block.set(path(input.unix.source), 0);
    block.set(path(input.unix.destination), 108);
  }
  const tlvs = input.tlvs ?? {};
  const parts = [block, ...tlvBytes(tlvs)];
  if (tlvs.crc32c) parts.push(tlv(PP2_TYPE.CRC32C, new Uint8Array(4)));
  const body = concat(parts);
  if (body.length > 0xffff) throw new RangeError(`v2 header body of ${body.length} bytes exceeds 65535`);
  const out = new Uint8Array(16 + body.length);
  out.set(V2_SIGNATURE, 0);
  out[12] = 0x20 | (input.command === "LOCAL" ? 0 : 1);
  out[13] = (fam << 4) | TRANSPORTS[transport];
  out[14] = body.length >> 8;
  out[15] = body.length & 0xff;
  out.set(body, 16);
  if (tlvs.crc32c) new DataView(out.buffer).setUint32(out.length - 4, crc32c(out));
  return out;
}
