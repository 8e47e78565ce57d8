/**
 * The ApiVersions cap: ApiVersions responses advertise only what the gateway can proxy, so clients
 * never send a request the guard would refuse. What the gateway can proxy derives from what the
 * filters declare they understand ({@link Filter.understands}).
 *
 * @module
 */
import type { VersionRange } from "../../lib/version_range.ts";
import {
  ApiKey,
  apiName,
  ApiVersionsResponse,
  type ApiVersionsResponseData,
  decodeApiVersionsResponse,
  isKnownApiKey,
  ProtocolError,
  responseHeaderLength,
  specVersions,
} from "../../protocol/mod.ts";
import { type ApiInterest, type Filter, replaceWith } from "../filter.ts";
import { FrameError } from "../pump.ts";
import type { AnsweredRequest } from "./address_rewrite.ts";
import { encodeFrame } from "./response_frame.ts";

/** The ApiVersions versions the cap understands. */
export const API_VERSIONS_UNDERSTANDS: readonly ApiInterest[] = [
  { apiKey: ApiKey.ApiVersions, versions: specVersions(ApiVersionsResponse) },
];

/** Every ApiVersions response: a request too new for the broker is answered with a v0 body. */
const API_VERSIONS_RESPONSES: readonly ApiInterest[] = [
  { apiKey: ApiKey.ApiVersions, versions: { min: 0, max: 0x7fff } },
];

/**
 * The versions clients may use for an API key, given what the upstream cluster supports; undefined
 * when they may not use the key at all.
 */
export type SupportedVersions = (
  apiKey: number,
  upstream: VersionRange | undefined,
) => VersionRange | undefined;

/**
 * The versions clients may use for an API key: what the upstream cluster supports, narrowed to what
 * the filters understand (`understood`, per key). ApiVersions itself is answered at the versions the
 * gateway understands. Undefined when the key is unknown to the gateway or the cluster.
 *
 * @example
 * ```ts ignore
 * const supported = supportedVersions(understoodVersions(filters.map((f) => f.understands)));
 * supported(ApiKey.Metadata, { min: 0, max: 20 }); // { min: 0, max: 13 }
 * ```
 */
export function supportedVersions(understood: ReadonlyMap<number, VersionRange>): SupportedVersions {
  return (apiKey, upstream) => {
    if (!isKnownApiKey(apiKey)) return undefined;
    const own = understood.get(apiKey);
    if (apiKey === ApiKey.ApiVersions) return own;
    if (upstream === undefined) return undefined;
    let { min, max } = upstream;
    if (own) {
      min = Math.max(min, own.min);
      max = Math.min(max, own.max);
    }
    return min <= max ? { min, max } : undefined;
  };
}

/**
 * The ApiVersions cap filter.
 *
 * @example
 * ```ts ignore
 * const cap = apiVersionsCap(supportedVersionRange);
 * ```
 */
export function apiVersionsCap(supported: SupportedVersions): Filter {
  return {
    name: "api-versions-cap",
    responses: API_VERSIONS_RESPONSES,
    understands: API_VERSIONS_UNDERSTANDS,
    onResponse: ({ request, body }) => replaceWith(capApiVersionsResponse(request, body, supported)),
  };
}

/**
 * Caps one ApiVersions response body (header included, size prefix excluded): returns the new frame
 * with its size prefix.
 *
 * @example
 * ```ts ignore
 * const frame = capApiVersionsResponse({ apiKey: 18, apiVersion: 3, clientId: null }, body, supported);
 * ```
 * @throws {FrameError} when the response cannot be decoded
 */
export function capApiVersionsResponse(
  request: AnsweredRequest,
  body: Uint8Array,
  supported: SupportedVersions,
): Uint8Array {
  try {
    // Always header v0 for ApiVersions; kept byte for byte.
    const headerEnd = responseHeaderLength(request.apiKey, request.apiVersion, body);
    // ApiVersions may answer with a v0 body (the fallback for a version the broker lacks).
    const { value, versionUsed } = decodeApiVersionsResponse(request.apiVersion, body.subarray(headerEnd));
    cap(value, supported);
    return encodeFrame(body.subarray(0, headerEnd), ApiVersionsResponse, versionUsed, value);
  } catch (error) {
    if (error instanceof ProtocolError) {
      throw new FrameError(
        `cannot decode ${apiName(request.apiKey)} v${request.apiVersion} response: ${error.message}`,
      );
    }
    throw error;
  }
}

function cap(value: ApiVersionsResponseData, supported: SupportedVersions): void {
  // A key the gateway does not know, or whose versions do not overlap what it can rewrite, is not
  // advertised at all: clients never send a request the gateway would refuse.
  value.apiKeys = value.apiKeys.filter((key) => {
    if (!isKnownApiKey(key.apiKey)) return false;
    const range = supported(key.apiKey, { min: key.minVersion, max: key.maxVersion });
    if (range === undefined) return false;
    key.minVersion = range.min;
    key.maxVersion = range.max;
    return true;
  });
}
