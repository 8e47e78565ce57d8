/**
 * Facts about every Kafka API key, from the generated table (`generated/api_keys.ts`, made by
 * `tools/generate_protocol.ts` from Kafka's message JSON): names, versions, the first flexible version
 * of each request (so request and response header versions can be derived for any API, including ones
 * the data path never decodes) and the request/response specs.
 *
 * @module
 */

import { API_KEY_TABLE, ApiKey } from "./generated/api_keys.ts";
import type { MessageSpec } from "./schema.ts";

export { API_KEY_TABLE, ApiKey };

/** An API key number of the table, e.g. `ApiKey.Metadata`. */
export type ApiKeyNumber = (typeof ApiKey)[keyof typeof ApiKey];

/** Static facts about one API key. */
export interface ApiKeyInfo {
  /** API key number. */
  readonly key: number;
  /** Kafka's message name without the Request/Response suffix. */
  readonly name: string;
  /** First flexible version, or `null` when the API is never flexible. */
  readonly flexibleFrom: number | null;
  /** The request spec, or undefined for a key known by name only (newer than the Kafka jar read). */
  readonly request?: MessageSpec<unknown>;
  /** The response spec, or undefined for a key known by name only. */
  readonly response?: MessageSpec<unknown>;
}

/** All known API keys, indexed by key. */
export const API_KEYS: readonly ApiKeyInfo[] = API_KEY_TABLE.map((row) => ({
  key: row.key,
  name: row.name,
  flexibleFrom: row.firstFlexible,
  request: row.request,
  response: row.response,
}));

/** Highest API key in {@link API_KEYS}. */
export const MAX_API_KEY: number = API_KEYS.length - 1;

/**
 * True when `apiKey` is in the table.
 *
 * @example
 * ```ts
 * isKnownApiKey(ApiKey.Metadata); // true
 * ```
 */
export function isKnownApiKey(apiKey: number): boolean {
  return Number.isInteger(apiKey) && apiKey >= 0 && apiKey <= MAX_API_KEY;
}

/**
 * Kafka name of an API key, or `Unknown(<key>)`.
 *
 * @example
 * ```ts
 * apiName(3); // "Metadata"
 * ```
 */
export function apiName(apiKey: number): string {
  return isKnownApiKey(apiKey) ? API_KEYS[apiKey].name : `Unknown(${apiKey})`;
}

/**
 * True when `apiVersion` of `apiKey` uses the flexible encoding. Unknown (newer) API keys are assumed
 * flexible from v0, as every API added since KIP-482 is.
 *
 * @example
 * ```ts
 * isFlexibleApiVersion(ApiKey.Metadata, 9); // true
 * ```
 */
export function isFlexibleApiVersion(apiKey: number, apiVersion: number): boolean {
  if (!isKnownApiKey(apiKey)) return true;
  const from = API_KEYS[apiKey].flexibleFrom;
  return from !== null && apiVersion >= from;
}

/**
 * Request header version for a request: 2 when the request version is flexible, else 1, except
 * ControlledShutdown v0 (a broker-to-controller request, gone from Kafka 4), which uses header v0
 * (no client id).
 *
 * @example
 * ```ts
 * requestHeaderVersion(ApiKey.Metadata, 12); // 2
 * ```
 */
export function requestHeaderVersion(apiKey: number, apiVersion: number): 0 | 1 | 2 {
  if (apiKey === ApiKey.ControlledShutdown && apiVersion === 0) return 0;
  return isFlexibleApiVersion(apiKey, apiVersion) ? 2 : 1;
}

/**
 * Response header version: 1 when the version is flexible, else 0. ApiVersions responses always use
 * header v0 (clients must read them before they know the broker's versions).
 *
 * @example
 * ```ts
 * responseHeaderVersion(ApiKey.ApiVersions, 3); // 0
 * ```
 */
export function responseHeaderVersion(apiKey: number, apiVersion: number): 0 | 1 {
  if (apiKey === ApiKey.ApiVersions) return 0;
  return isFlexibleApiVersion(apiKey, apiVersion) ? 1 : 0;
}
