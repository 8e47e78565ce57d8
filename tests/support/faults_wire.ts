/**
 * Raw Kafka wire helpers for fault-injection tests: byte builders for the INVALID input the tests send on
 * purpose (bad sizes, headers the codec would refuse to write, garbage, a TLS ClientHello), valid
 * requests encoded with kgate's codec, and the raw TCP client of the harness ({@link RawClient}, every
 * wait bounded), re-exported here.
 *
 * ```ts
 * const client = await RawClient.connect("127.0.0.21", 6969);
 * await client.roundTrip(apiVersionsV0(1), 1);
 * await client.sendTolerant(int32(-1));
 * assert.equal(await client.closedByPeer(5_000), "eof");
 * ```
 */
import { ApiVersionsRequest, encodeRequestFrame, FetchRequest } from "../../src/protocol/mod.ts";
import { SaslHandshakeRequest } from "../../src/protocol/messages/sasl.ts";

export { RawClient, withDeadline } from "../harness/kafka_wire.ts";

const encoder = new TextEncoder();

/** A big-endian int32. */
export function int32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n);
  return b;
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Minimal big-endian writer for hand-built (invalid) frames. */
export class Bytes {
  readonly #parts: number[] = [];
  int8(v: number): this {
    this.#parts.push(v & 0xff);
    return this;
  }
  int16(v: number): this {
    return this.int8(v >> 8).int8(v);
  }
  int32(v: number): this {
    return this.int8(v >>> 24).int8(v >>> 16).int8(v >>> 8).int8(v);
  }
  /** STRING / NULLABLE_STRING (int16 length, -1 = null). */
  string(s: string | null): this {
    if (s === null) return this.int16(-1);
    const b = encoder.encode(s);
    return this.int16(b.length).raw(b);
  }
  raw(b: Uint8Array): this {
    for (const x of b) this.#parts.push(x);
    return this;
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.#parts);
  }
}

/** Client id of the frames built here. */
const CLIENT_ID = "kgate-faults";

/** A request header, for {@link requestFrame}. */
export interface RequestHeaderFields {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId?: string | null;
  /** Header v2: append an empty tagged-field section (flexible request versions). */
  flexible?: boolean;
}

/**
 * A whole request frame built by hand: size prefix, header v1 (or v2 when `flexible`), then `body`. For
 * frames the codec refuses to build (unknown API keys or versions, a header version that does not fit the
 * API version); valid requests are encoded with the codec (below).
 */
export function requestFrame(header: RequestHeaderFields, body: Uint8Array = new Uint8Array()): Uint8Array {
  const h = new Bytes().int16(header.apiKey).int16(header.apiVersion).int32(header.correlationId)
    .string(header.clientId === undefined ? CLIENT_ID : header.clientId);
  if (header.flexible) h.int8(0);
  const head = h.finish();
  return concat(int32(head.length + body.length), head, body);
}

/** ApiVersions v0 (empty body): every broker answers it. */
export function apiVersionsV0(correlationId: number): Uint8Array {
  return encodeRequestFrame({ correlationId, clientId: CLIENT_ID }, ApiVersionsRequest, 0, {});
}

/** Fetch v4 of one partition: a long poll when `minBytes` is not reached before `maxWaitMs`. */
export function fetchV4(
  correlationId: number,
  topic: string,
  partition: number,
  offset: bigint,
  maxWaitMs: number,
  minBytes: number,
): Uint8Array {
  return encodeRequestFrame({ correlationId, clientId: CLIENT_ID }, FetchRequest, 4, {
    replicaId: -1,
    maxWaitMs,
    minBytes,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    topics: [{ topic, partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 1 << 20 }] }],
  });
}

/** SaslHandshake (v0 or v1, never flexible) asking for `mechanism`. */
export function saslHandshake(version: number, correlationId: number, mechanism = "PLAIN"): Uint8Array {
  return encodeRequestFrame({ correlationId, clientId: CLIENT_ID }, SaslHandshakeRequest, version, {
    mechanism,
  });
}

/** Deterministic pseudo-random bytes (xorshift32), so a failing case can be replayed. */
export function pseudoRandomBytes(seed: number, length: number): Uint8Array {
  let x = seed >>> 0 || 1;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** The start of a TLS 1.2 ClientHello record, as a TLS client sends it to a plaintext port. */
export function tlsClientHello(): Uint8Array {
  const random = pseudoRandomBytes(7, 32);
  const hello = new Bytes()
    .int16(0x0303) // client version TLS 1.2
    .raw(random)
    .int8(0) // session id
    .int16(4).int16(0x1301).int16(0xc02f) // cipher suites
    .int8(1).int8(0) // compression: null
    .int16(0) // no extensions
    .finish();
  const handshake = concat(Uint8Array.of(0x01, 0, (hello.length >> 8) & 0xff, hello.length & 0xff), hello);
  return concat(Uint8Array.of(0x16, 0x03, 0x01, handshake.length >> 8, handshake.length & 0xff), handshake);
}
