/**
 * The binary (version 2) header: 12-byte signature, version/command, family/transport, length, address
 * block, TLVs.
 *
 * @module
 */

import { crc32c } from "./crc32c.ts";
import { formatIPv4, formatIPv6 } from "./ip.ts";
import {
  type ProxyEndpoint,
  type ProxyHeader,
  type ProxyParseResult,
  ProxyProtocolError,
  type ProxyProtocolErrorCode,
  type ProxyRawTlv,
  type ProxySslInfo,
  type ProxyTlvs,
  type ProxyUnixAddresses,
} from "./types.ts";

/** The 12-byte v2 signature `0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A`. */
export const V2_SIGNATURE: Uint8Array = Uint8Array.of(
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
);

/** Size of the fixed part of a v2 header (signature, version/command, family/transport, length). */
export const V2_FIXED_LENGTH = 16;

/** Registered and cloud TLV types. */
export const PP2_TYPE = {
  ALPN: 0x01,
  AUTHORITY: 0x02,
  CRC32C: 0x03,
  NOOP: 0x04,
  UNIQUE_ID: 0x05,
  SSL: 0x20,
  NETNS: 0x30,
  GCP: 0xe0,
  AWS: 0xea,
  AZURE: 0xee,
} as const;

/** SSL sub-TLV types (inside PP2_TYPE_SSL). */
export const PP2_SUBTYPE_SSL = {
  VERSION: 0x21,
  CN: 0x22,
  CIPHER: 0x23,
  SIG_ALG: 0x24,
  KEY_ALG: 0x25,
} as const;

/** Address block size by family nibble (UNSPEC, INET, INET6, UNIX). */
export const V2_ADDRESS_LENGTH: readonly number[] = [0, 12, 36, 216];

const FAMILY_NAMES = ["UNSPEC", "INET", "INET6", "UNIX"] as const;
const TRANSPORT_NAMES = ["UNSPEC", "STREAM", "DGRAM"] as const;

/** Maximum PP2_TYPE_UNIQUE_ID value length. */
export const UNIQUE_ID_MAX_LENGTH = 128;

const INCOMPLETE: ProxyParseResult = { kind: "incomplete" };

class Failure {
  constructor(readonly code: ProxyProtocolErrorCode, readonly message: string, readonly offset: number) {}
}

function fail(code: ProxyProtocolErrorCode, message: string, offset: number): ProxyParseResult {
  return { kind: "error", error: new ProxyProtocolError(code, `v2 header: ${message}`, offset) };
}

function hex2(n: number): string {
  return `0x${n.toString(16).padStart(2, "0")}`;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Lenient = new TextDecoder("utf-8", { ignoreBOM: true });

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += bytes[i].toString(16).padStart(2, "0");
  return s;
}

/** Parses `bytes`, which start with the v2 signature (or a prefix of it when shorter: incomplete). */
export function parseV2(bytes: Uint8Array): ProxyParseResult {
  if (bytes.length <= 12) return INCOMPLETE;
  const verCmd = bytes[12];
  if (verCmd >> 4 !== 2) {
    return fail(
      "bad-version",
      `version nibble is ${verCmd >> 4}, only 2 is valid (byte 13 = ${hex2(verCmd)})`,
      12,
    );
  }
  const cmd = verCmd & 0x0f;
  if (cmd > 1) {
    return fail("bad-command", `command ${hex2(cmd)} is neither LOCAL (0x0) nor PROXY (0x1)`, 12);
  }
  if (bytes.length <= 13) return INCOMPLETE;
  const famByte = bytes[13];
  const fam = famByte >> 4;
  const tr = famByte & 0x0f;
  if (fam > 3) {
    return fail(
      "bad-family",
      `address family ${hex2(fam)} is not UNSPEC (0x0), INET (0x1), INET6 (0x2) or UNIX (0x3) ` +
        `(byte 14 = ${hex2(famByte)})`,
      13,
    );
  }
  if (tr > 2) {
    return fail(
      "bad-transport",
      `transport ${hex2(tr)} is not UNSPEC (0x0), STREAM (0x1) or DGRAM (0x2) (byte 14 = ${hex2(famByte)})`,
      13,
    );
  }
  if (bytes.length < V2_FIXED_LENGTH) return INCOMPLETE;
  const length = (bytes[14] << 8) | bytes[15];
  const blockLength = V2_ADDRESS_LENGTH[fam];
  const local = cmd === 0;
  if (!local && length < blockLength) {
    return fail(
      "bad-length",
      `length ${length} is shorter than the ${blockLength}-byte ${FAMILY_NAMES[fam]} address block`,
      14,
    );
  }
  const total = V2_FIXED_LENGTH + length;
  if (bytes.length < total) return INCOMPLETE;
  const header = bytes.subarray(0, total);

  const family = FAMILY_NAMES[fam];
  const transport = TRANSPORT_NAMES[tr];
  // LOCAL: the address block (and the family) is ignored; when the length does not even cover the
  // block of the announced family, there is nothing else to read either.
  const tlvStart = V2_FIXED_LENGTH + blockLength;
  const tlvs = tlvStart <= total ? parseTlvs(header, tlvStart) : { unknown: [] };
  if (tlvs instanceof Failure) return fail(tlvs.code, tlvs.message, tlvs.offset);

  let source: ProxyEndpoint | undefined;
  let destination: ProxyEndpoint | undefined;
  let unix: ProxyUnixAddresses | undefined;
  if (!local && tr !== 0) {
    const a = V2_FIXED_LENGTH;
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    if (fam === 1) {
      source = { address: formatIPv4(header.subarray(a, a + 4)), port: view.getUint16(a + 8) };
      destination = { address: formatIPv4(header.subarray(a + 4, a + 8)), port: view.getUint16(a + 10) };
    } else if (fam === 2) {
      source = { address: formatIPv6(header.subarray(a, a + 16)), port: view.getUint16(a + 32) };
      destination = { address: formatIPv6(header.subarray(a + 16, a + 32)), port: view.getUint16(a + 34) };
    } else if (fam === 3) {
      const sourceRaw = header.slice(a, a + 108);
      const destinationRaw = header.slice(a + 108, a + 216);
      unix = {
        source: unixPath(sourceRaw),
        destination: unixPath(destinationRaw),
        sourceRaw,
        destinationRaw,
      };
    }
  }
  const result: ProxyHeader = {
    version: 2,
    command: local ? "LOCAL" : "PROXY",
    family,
    transport,
    ...(source ? { source, destination } : {}),
    ...(unix ? { unix } : {}),
    tlvs,
  };
  return { kind: "header", header: result, consumed: total };
}

function unixPath(raw: Uint8Array): string {
  const nul = raw.indexOf(0);
  return utf8Lenient.decode(nul < 0 ? raw : raw.subarray(0, nul));
}

function text(value: Uint8Array, what: string, offset: number): string | Failure {
  try {
    return utf8.decode(value);
  } catch {
    return new Failure("tlv-invalid", `${what} is not valid UTF-8`, offset);
  }
}

const TLV_NAMES: Record<number, string> = {
  [PP2_TYPE.ALPN]: "ALPN",
  [PP2_TYPE.AUTHORITY]: "AUTHORITY",
  [PP2_TYPE.CRC32C]: "CRC32C",
  [PP2_TYPE.UNIQUE_ID]: "UNIQUE_ID",
  [PP2_TYPE.SSL]: "SSL",
  [PP2_TYPE.NETNS]: "NETNS",
  [PP2_TYPE.GCP]: "GCP",
  [PP2_TYPE.AWS]: "AWS",
  [PP2_TYPE.AZURE]: "Azure",
  [PP2_SUBTYPE_SSL.VERSION]: "SSL VERSION",
  [PP2_SUBTYPE_SSL.CN]: "SSL CN",
  [PP2_SUBTYPE_SSL.CIPHER]: "SSL CIPHER",
  [PP2_SUBTYPE_SSL.SIG_ALG]: "SSL SIG_ALG",
  [PP2_SUBTYPE_SSL.KEY_ALG]: "SSL KEY_ALG",
};

/** Walks type/length/value entries in `bytes[start, end)`; `offset` maps indexes to input offsets. */
function* walk(
  bytes: Uint8Array,
  start: number,
  end: number,
  container: string,
): Generator<{ type: number; value: Uint8Array; at: number } | Failure> {
  let p = start;
  while (p < end) {
    if (end - p < 3) {
      yield new Failure(
        "tlv-overrun",
        `${end - p} byte(s) left at offset ${p}, less than a TLV type and length, in the ${container}`,
        p,
      );
      return;
    }
    const type = bytes[p];
    const len = (bytes[p + 1] << 8) | bytes[p + 2];
    if (p + 3 + len > end) {
      yield new Failure(
        "tlv-overrun",
        `TLV ${hex2(type)} at offset ${p} has length ${len} but only ${end - p - 3} byte(s) remain in the ` +
          container,
        p,
      );
      return;
    }
    yield { type, value: bytes.subarray(p + 3, p + 3 + len), at: p };
    p += 3 + len;
  }
}

function parseTlvs(header: Uint8Array, start: number): ProxyTlvs | Failure {
  const tlvs: ProxyTlvs = { unknown: [] };
  const seen = new Set<number>();
  let crcAt = -1;
  let crcValue = 0;
  for (const item of walk(header, start, header.length, "header")) {
    if (item instanceof Failure) return item;
    const { type, value, at } = item;
    const valueAt = at + 3;
    const name = TLV_NAMES[type];
    if (name !== undefined && seen.has(type)) {
      return new Failure("tlv-duplicate", `${name} TLV (${hex2(type)}) appears more than once`, at);
    }
    switch (type) {
      case PP2_TYPE.ALPN:
        tlvs.alpn = latin1(value);
        break;
      case PP2_TYPE.AUTHORITY: {
        const s = text(value, "AUTHORITY TLV", valueAt);
        if (s instanceof Failure) return s;
        tlvs.authority = s;
        break;
      }
      case PP2_TYPE.CRC32C:
        if (value.length !== 4) {
          return new Failure("tlv-invalid", `CRC32C TLV has length ${value.length}, expected 4`, at);
        }
        crcAt = valueAt;
        crcValue = ((value[0] << 24) | (value[1] << 16) | (value[2] << 8) | value[3]) >>> 0;
        break;
      case PP2_TYPE.NOOP:
        continue; // may repeat, never reported
      case PP2_TYPE.UNIQUE_ID:
        if (value.length > UNIQUE_ID_MAX_LENGTH) {
          return new Failure(
            "tlv-invalid",
            `UNIQUE_ID TLV has length ${value.length}, at most ${UNIQUE_ID_MAX_LENGTH} allowed`,
            at,
          );
        }
        tlvs.uniqueId = { bytes: value.slice(), hex: toHex(value) };
        break;
      case PP2_TYPE.SSL: {
        const ssl = parseSsl(header, value, valueAt);
        if (ssl instanceof Failure) return ssl;
        tlvs.ssl = ssl;
        break;
      }
      case PP2_TYPE.NETNS: {
        const s = text(value, "NETNS TLV", valueAt);
        if (s instanceof Failure) return s;
        tlvs.netns = s;
        break;
      }
      case PP2_TYPE.AWS: {
        // Subtype 0x01: VPC endpoint id (US-ASCII).
        if (value.length >= 1 && value[0] === 0x01 && value.subarray(1).every((b) => b < 0x80)) {
          tlvs.aws = { vpcEndpointId: latin1(value.subarray(1)) };
        } else {
          tlvs.unknown.push({ type, value: value.slice() });
          continue;
        }
        break;
      }
      case PP2_TYPE.AZURE:
        // Subtype 0x01: private link id, u32 little-endian.
        if (value.length === 5 && value[0] === 0x01) {
          const id = (value[1] | (value[2] << 8) | (value[3] << 16) | (value[4] << 24)) >>> 0;
          tlvs.azure = { privateLinkId: id };
        } else {
          tlvs.unknown.push({ type, value: value.slice() });
          continue;
        }
        break;
      case PP2_TYPE.GCP:
        // PSC connection id, u64 big-endian.
        if (value.length === 8) {
          const id = new DataView(value.buffer, value.byteOffset, 8).getBigUint64(0);
          tlvs.gcp = { pscConnectionId: id, pscConnectionIdText: id.toString() };
        } else {
          tlvs.unknown.push({ type, value: value.slice() });
          continue;
        }
        break;
      default:
        tlvs.unknown.push({ type, value: value.slice() });
        continue;
    }
    seen.add(type);
  }
  if (crcAt >= 0) {
    const zeroed = header.slice();
    zeroed.fill(0, crcAt, crcAt + 4);
    const computed = crc32c(zeroed);
    if (computed !== crcValue) {
      return new Failure(
        "crc-mismatch",
        `CRC32C TLV is 0x${crcValue.toString(16).padStart(8, "0")} but the header checksums to ` +
          `0x${computed.toString(16).padStart(8, "0")}`,
        crcAt,
      );
    }
    tlvs.crc32c = { valid: true, value: crcValue };
  }
  return tlvs;
}

function parseSsl(header: Uint8Array, value: Uint8Array, valueAt: number): ProxySslInfo | Failure {
  if (value.length < 5) {
    return new Failure(
      "tlv-invalid",
      `SSL TLV has length ${value.length}, less than its 5-byte client and verify fields`,
      valueAt - 3,
    );
  }
  const client = value[0];
  const verify = ((value[1] << 24) | (value[2] << 16) | (value[3] << 8) | value[4]) >>> 0;
  const ssl: {
    client: number;
    verify: number;
    version?: string;
    cn?: string;
    cipher?: string;
    sigAlg?: string;
    keyAlg?: string;
    unknown: ProxyRawTlv[];
  } = { client, verify, unknown: [] };
  const seen = new Set<number>();
  // Walk inside the header so offsets are input offsets.
  const start = valueAt + 5;
  const end = valueAt + value.length;
  for (const item of walk(header, start, end, "SSL TLV")) {
    if (item instanceof Failure) return item;
    const { type, value: v, at } = item;
    const name = TLV_NAMES[type];
    if (type >= PP2_SUBTYPE_SSL.VERSION && type <= PP2_SUBTYPE_SSL.KEY_ALG) {
      if (seen.has(type)) {
        return new Failure("tlv-duplicate", `${name} sub-TLV (${hex2(type)}) appears more than once`, at);
      }
      seen.add(type);
      const s = text(v, `${name} sub-TLV`, at + 3);
      if (s instanceof Failure) return s;
      if (type === PP2_SUBTYPE_SSL.VERSION) ssl.version = s;
      else if (type === PP2_SUBTYPE_SSL.CN) ssl.cn = s;
      else if (type === PP2_SUBTYPE_SSL.CIPHER) ssl.cipher = s;
      else if (type === PP2_SUBTYPE_SSL.SIG_ALG) ssl.sigAlg = s;
      else ssl.keyAlg = s;
    } else {
      ssl.unknown.push({ type, value: v.slice() });
    }
  }
  return ssl;
}
