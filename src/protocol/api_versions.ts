/**
 * ApiVersions response decoding with Kafka's v0 fallback: a broker that does not support the requested
 * ApiVersions version answers UNSUPPORTED_VERSION (35) with a v0 body.
 *
 * @module
 */

import { ByteReader } from "./bytes.ts";
import { decodeMessage, encodeMessage } from "./codec.ts";
import { ProtocolError } from "./errors.ts";
import { ApiVersionsResponse } from "./generated/messages.ts";
import type { ApiVersionsResponseData } from "./generated/types.ts";

/** Kafka error code UNSUPPORTED_VERSION. */
export const UNSUPPORTED_VERSION = 35;

/** A decoded ApiVersions response and the body version actually used. */
export interface ApiVersionsDecoded {
  /** The decoded response body. */
  value: ApiVersionsResponseData;
  /** `version`, or 0 when the broker answered with a v0 fallback body. */
  versionUsed: number;
}

/**
 * Decode an ApiVersions response body that answers a request of `version`. When the error code is
 * UNSUPPORTED_VERSION and `version > 0`, the body is decoded as v0. As in Kafka's client, a body that
 * fails to decode at `version` is retried as v0 before giving up.
 */
export function decodeApiVersionsResponse(version: number, body: Uint8Array): ApiVersionsDecoded {
  const errorCode = new ByteReader(body).int16();
  if (errorCode === UNSUPPORTED_VERSION && version > 0) {
    return { value: decodeWhole(0, body), versionUsed: 0 };
  }
  try {
    return { value: decodeWhole(version, body), versionUsed: version };
  } catch (e) {
    if (version === 0 || !(e instanceof ProtocolError)) throw e;
    try {
      return { value: decodeWhole(0, body), versionUsed: 0 };
    } catch {
      throw e;
    }
  }
}

function decodeWhole(version: number, body: Uint8Array): ApiVersionsResponseData {
  const { value, offset } = decodeMessage(ApiVersionsResponse, version, body);
  if (offset !== body.length) {
    throw new ProtocolError(`ApiVersionsResponse v${version}: ${body.length - offset} trailing byte(s)`);
  }
  return value;
}

/**
 * Encode an ApiVersions response body answering a request of `version`. Mirrors the broker: with
 * error code UNSUPPORTED_VERSION the body is written as v0 (check `versionUsed`).
 */
export function encodeApiVersionsResponse(
  version: number,
  value: ApiVersionsResponseData,
): { bytes: Uint8Array; versionUsed: number } {
  const versionUsed = value.errorCode === UNSUPPORTED_VERSION ? 0 : version;
  return { bytes: encodeMessage(ApiVersionsResponse, versionUsed, value), versionUsed };
}
