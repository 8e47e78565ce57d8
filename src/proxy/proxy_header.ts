/**
 * Reading the PROXY protocol header at the start of a connection: bounded in size and time, nothing
 * forwarded before the whole header is valid, the bytes after it handed to the Kafka pipeline.
 *
 * @module
 */
import { formatEndpoint, parseProxyHeader, type ProxyTlvs } from "../proxy_protocol/mod.ts";
import type { ByteSource } from "./frame_pump.ts";

/** What a PROXY header says about the original connection. */
export interface ProxiedConnection {
  /** `PROXY` (addresses relayed) or `LOCAL` (the proxy's own connection: use the real endpoints). */
  command: "PROXY" | "LOCAL";
  /** Original source, `ip:port`. */
  source?: string;
  /** Original destination, `ip:port`. */
  destination?: string;
  /** Decoded TLVs (v2), for the audit log. */
  tlvs?: Record<string, unknown>;
}

/** The outcome of parsing the bytes received so far. */
export type ProxyHeaderOutcome =
  | { kind: "incomplete" }
  | { kind: "header"; connection: ProxiedConnection; consumed: number }
  | { kind: "error"; message: string };

/** Parses the bytes received so far (stateless: called with all of them each time). */
export type ProxyHeaderParser = (bytes: Uint8Array) => ProxyHeaderOutcome;

/** A header that is missing, malformed, too slow or from an untrusted peer. */
export class ProxyHeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProxyHeaderError";
  }
}

/** The largest possible header: v2's 16 bytes plus a 65535-byte length. */
const MAX_HEADER_BYTES = 16 + 65535;

/**
 * Reads a PROXY header from `conn` within `timeoutMs`. Returns the header and the bytes that followed
 * it. The caller closes the connection on error (which also ends a pending read).
 *
 * @throws {ProxyHeaderError}
 */
export async function readProxyHeader(
  conn: ByteSource,
  parse: ProxyHeaderParser,
  timeoutMs: number,
): Promise<{ connection: ProxiedConnection; rest: Uint8Array }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ProxyHeaderError(`no complete PROXY protocol header within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([readUntilParsed(conn, parse), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function readUntilParsed(
  conn: ByteSource,
  parse: ProxyHeaderParser,
): Promise<{ connection: ProxiedConnection; rest: Uint8Array }> {
  let buffer = new Uint8Array(512);
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      const bigger = new Uint8Array(Math.min(buffer.length * 4, MAX_HEADER_BYTES + 4096));
      bigger.set(buffer);
      buffer = bigger;
    }
    const n = await conn.read(buffer.subarray(length));
    if (n === null) {
      throw new ProxyHeaderError(
        length === 0
          ? "connection closed before a PROXY protocol header"
          : "connection closed inside the PROXY protocol header",
      );
    }
    length += n;
    const outcome = parse(buffer.subarray(0, length));
    if (outcome.kind === "error") throw new ProxyHeaderError(`bad PROXY protocol header: ${outcome.message}`);
    if (outcome.kind === "header") {
      return { connection: outcome.connection, rest: buffer.slice(outcome.consumed, length) };
    }
    if (length >= MAX_HEADER_BYTES) throw new ProxyHeaderError("PROXY protocol header too long");
  }
}

/** A source that yields `first` before reading from `source`. */
export function prefixedSource(first: Uint8Array, source: ByteSource): ByteSource {
  let pending: Uint8Array | null = first.length > 0 ? first : null;
  return {
    read(p) {
      if (pending === null) return source.read(p);
      const n = Math.min(p.length, pending.length);
      p.set(pending.subarray(0, n));
      pending = n < pending.length ? pending.subarray(n) : null;
      return Promise.resolve(n);
    },
  };
}

/** kgate's PROXY protocol v1/v2 parser (`src/proxy_protocol/`), as the listeners consume it. */
export const proxyProtocolParser: ProxyHeaderParser = (bytes) => {
  const result = parseProxyHeader(bytes);
  if (result.kind !== "header") {
    return result.kind === "incomplete" ? result : { kind: "error", message: result.error.message };
  }
  const { header, consumed } = result;
  return {
    kind: "header",
    consumed,
    connection: {
      command: header.command,
      source: header.source ? formatEndpoint(header.source) : undefined,
      destination: header.destination ? formatEndpoint(header.destination) : undefined,
      tlvs: auditTlvs(header.tlvs),
    },
  };
};

/** TLVs as JSON-friendly values (bytes as hex, 64-bit ids as text); undefined when there are none. */
function auditTlvs(tlvs: ProxyTlvs): Record<string, unknown> | undefined {
  const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  const out: Record<string, unknown> = {};
  if (tlvs.alpn !== undefined) out.alpn = tlvs.alpn;
  if (tlvs.authority !== undefined) out.authority = tlvs.authority;
  if (tlvs.crc32c) out.crc32c = { valid: true, value: tlvs.crc32c.value };
  if (tlvs.uniqueId) out.uniqueId = tlvs.uniqueId.hex;
  if (tlvs.ssl) {
    const { unknown, ...ssl } = tlvs.ssl;
    out.ssl = { ...ssl, unknown: unknown.map((t) => ({ type: t.type, value: hex(t.value) })) };
  }
  if (tlvs.netns !== undefined) out.netns = tlvs.netns;
  if (tlvs.aws) out.aws = tlvs.aws;
  if (tlvs.azure) out.azure = tlvs.azure;
  if (tlvs.gcp) out.gcp = { pscConnectionId: tlvs.gcp.pscConnectionIdText };
  if (tlvs.unknown.length > 0) out.unknown = tlvs.unknown.map((t) => ({ type: t.type, value: hex(t.value) }));
  return Object.keys(out).length > 0 ? out : undefined;
}
