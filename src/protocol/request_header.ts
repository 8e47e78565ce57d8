/**
 * Data-path request header parsing: reads the header of a request frame without decoding the body,
 * and extracts the `acks` of a Produce request without touching its record data. No bytes are copied.
 *
 * @module
 */

import { ApiKey, requestHeaderVersion } from "./api_keys.ts";
import { ByteReader } from "./bytes.ts";
import { ProtocolError } from "./errors.ts";
import { ProduceRequest } from "./generated/messages.ts";
import { parseVersionRange } from "./schema.ts";

/** The parsed request header of a frame. */
export interface RequestHeaderInfo {
  /** API key of the request. */
  apiKey: number;
  /** API version of the request. */
  apiVersion: number;
  /** Correlation id, echoed by the response. */
  correlationId: number;
  /** Client id, or null when the client sent null. Header v0 has none: `""` then, as in Kafka. */
  clientId: string | null;
  /** Header version used: 1, 2 for flexible request versions, 0 for ControlledShutdown v0. */
  headerVersion: 0 | 1 | 2;
  /** Bytes taken by the header, including the v2 tagged section: the body starts here. */
  headerLength: number;
}

/**
 * Parse the request header at the start of `frame` (the frame body, without the 4-byte size prefix).
 * The header version is derived from the API key and version (see {@link requestHeaderVersion}).
 */
export function readRequestHeader(frame: Uint8Array): RequestHeaderInfo {
  const r = new ByteReader(frame);
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  if (apiKey < 0 || apiVersion < 0) {
    throw new ProtocolError(`invalid request header: api key ${apiKey}, version ${apiVersion}`);
  }
  const headerVersion = requestHeaderVersion(apiKey, apiVersion);
  const clientId = headerVersion === 0 ? "" : r.nullableString();
  if (headerVersion === 2) r.skipTaggedFields();
  return { apiKey, apiVersion, correlationId, clientId, headerVersion, headerLength: r.offset };
}

// Where ProduceRequest's leading TransactionalId starts existing and turns compact, from its spec.
const PRODUCE_FLEXIBLE_FROM = firstVersion(ProduceRequest.flexibleVersions);
const TRANSACTIONAL_ID_FROM = firstVersion(ProduceRequest.fields[0].versions);
if (ProduceRequest.fields[0].name !== "TransactionalId" || ProduceRequest.fields[1].name !== "Acks") {
  throw new Error("ProduceRequest no longer starts with TransactionalId, Acks");
}

function firstVersion(versions: string): number {
  const r = parseVersionRange(versions);
  if (r === undefined) throw new Error(`no version in ${versions}`);
  return r.min;
}

/**
 * Read only the `acks` (int16) of a Produce request: skips `transactional_id` (absent in v0-2,
 * NULLABLE_STRING in v3-8, COMPACT_NULLABLE_STRING in v9+) without decoding anything else.
 */
export function produceRequestAcks(frame: Uint8Array, header: RequestHeaderInfo): number {
  if (header.apiKey !== ApiKey.Produce) {
    throw new ProtocolError(`not a Produce request (api key ${header.apiKey})`);
  }
  const r = new ByteReader(frame, header.headerLength);
  const v = header.apiVersion;
  if (v >= PRODUCE_FLEXIBLE_FROM) {
    const n = r.uvarint();
    if (n > 0) r.skip(n - 1);
  } else if (v >= TRANSACTIONAL_ID_FROM) {
    const n = r.int16();
    if (n < -1) throw new ProtocolError(`invalid transactional id length ${n}`);
    if (n > 0) r.skip(n);
  }
  return r.int16();
}
