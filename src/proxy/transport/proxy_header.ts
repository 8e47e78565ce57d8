/**
 * The PROXY protocol stage in front of a client stream: only from trusted peers, bounded in size and
 * time, nothing forwarded before the whole header is valid, the bytes after it handed on as the
 * stream the Kafka pipeline reads.
 *
 * @module
 */
import type { ByteSource } from "../../lib/bytes_io.ts";
import { withTimeout } from "../../lib/deadline.ts";
import { type Cidr, inCidrs } from "../../lib/cidr.ts";
import { formatEndpoint, parseProxyHeader, type ProxyTlvs } from "../../proxy_protocol/mod.ts";
import type { RejectionKind } from "../rejection.ts";
import { type ByteStream, prefixedStream } from "./stream.ts";

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
  /**
   * A header error.
   *
   * @param message what was wrong with the header
   * @param closedBeforeAnyByte the peer closed without sending a byte (a health check, not bad input)
   */
  constructor(message: string, readonly closedBeforeAnyByte = false) {
    super(message);
    this.name = "ProxyHeaderError";
  }
}

/** The largest possible header: v2's 16 bytes plus a 65535-byte length. */
const MAX_HEADER_BYTES = 16 + 65535;

/** PROXY protocol settings of the listeners. */
export interface ProxyProtocolOptions {
  /** The header parser. */
  parse: ProxyHeaderParser;
  /** How long a client has to send the whole header. */
  timeoutMs: number;
  /** Peers allowed to send a header; undefined = any. */
  trusted?: readonly Cidr[];
}

/** The outcome of the PROXY header stage. */
export type ProxyHeaderStage =
  | { ok: true; stream: ByteStream; proxied: ProxiedConnection }
  | { ok: false; reason: string; kind: RejectionKind };

/**
 * Reads the PROXY header at the start of `stream`: the stream that follows it and what it said, or
 * why the connection is refused (the caller closes it, which also ends a pending read).
 *
 * @example
 * ```ts ignore
 * const stage = await proxyHeaderStage(client, { parse: proxyProtocolParser, timeoutMs: 3000 });
 * if (stage.ok) runSession({ client: stage.stream, ... });
 * ```
 */
export async function proxyHeaderStage(
  stream: ByteStream,
  options: ProxyProtocolOptions,
): Promise<ProxyHeaderStage> {
  const peer = stream.remote.hostname;
  if (options.trusted && !inCidrs(peer, options.trusted)) {
    return {
      ok: false,
      reason: `PROXY protocol header refused: ${peer} is not a trusted proxy`,
      kind: "untrusted-source",
    };
  }
  try {
    const { connection, rest } = await readProxyHeader(stream, options.parse, options.timeoutMs);
    return { ok: true, stream: prefixedStream(rest, stream), proxied: connection };
  } catch (error) {
    // A health check of the load balancer's own (connect, close) is no bad header.
    const kind = error instanceof ProxyHeaderError && error.closedBeforeAnyByte
      ? "closed-before-request"
      : "proxy-header";
    return { ok: false, reason: (error as Error).message, kind };
  }
}

/**
 * Reads a PROXY header from `conn` within `timeoutMs`. Returns the header and the bytes that followed
 * it. The caller closes the connection on error (which also ends a pending read).
 *
 * @example
 * ```ts ignore
 * const { connection, rest } = await readProxyHeader(conn, proxyProtocolParser, 3000);
 * ```
 * @throws {ProxyHeaderError} for a bad header, `DeadlineError` when it does not arrive in time
 */
export function readProxyHeader(
  conn: ByteSource,
  parse: ProxyHeaderParser,
  timeoutMs: number,
): Promise<{ connection: ProxiedConnection; rest: Uint8Array }> {
  return withTimeout(
    readUntilParsed(conn, parse),
    timeoutMs,
    `no complete PROXY protocol header within ${timeoutMs} ms`,
  );
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
        length === 0,
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

/**
 * kgate's PROXY protocol v1/v2 parser (`src/proxy_protocol/`), as the listeners consume it: a
 * {@link ProxyHeaderParser}.
 *
 * @example
 * ```ts ignore
 * proxyProtocolParser(new TextEncoder().encode("PROXY TCP4 10.0.0.1 10.0.0.2 5000 9092\r\n"));
 * ```
 */
export function proxyProtocolParser(bytes: Uint8Array): ProxyHeaderOutcome {
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
}

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
