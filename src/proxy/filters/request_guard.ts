/**
 * The request guard: the first filter. Refuses, by closing the connection, requests the gateway
 * cannot proxy safely: unknown API keys, versions outside what both the cluster and the gateway
 * support, and SaslHandshake v0 (followed by unframed SASL tokens the proxy cannot delimit).
 * Frame sizes are bounded by the pump, before any frame is buffered.
 *
 * @module
 */
import type { VersionRange } from "../../lib/version_range.ts";
import { ApiKey, apiName, isKnownApiKey } from "../../protocol/mod.ts";
import type { Filter } from "../filter.ts";
import { FrameError } from "../pump.ts";

/** What the guard needs to know. */
export interface RequestGuardOptions {
  /** Supported version range of an API key, or undefined when the gateway does not know the key. */
  supportedVersions(apiKey: number): VersionRange | undefined;
}

/**
 * The request guard filter.
 *
 * @example
 * ```ts ignore
 * const guard = requestGuard({ supportedVersions: (apiKey) => versions.get(apiKey) });
 * ```
 */
export function requestGuard(options: RequestGuardOptions): Filter {
  return {
    name: "request-guard",
    admitRequest(apiKey, apiVersion) {
      const range = isKnownApiKey(apiKey) ? options.supportedVersions(apiKey) : undefined;
      if (range === undefined) throw new FrameError(`unknown API key ${apiKey}`);
      // ApiVersions of any version is answered (a too new one with the v0 fallback).
      if (apiKey !== ApiKey.ApiVersions && (apiVersion < range.min || apiVersion > range.max)) {
        throw new FrameError(
          `unsupported ${apiName(apiKey)} version ${apiVersion} (supported ${range.min}-${range.max})`,
        );
      }
    },
    requestHeader(header) {
      // v0 is followed by unframed SASL tokens the proxy cannot delimit. librdkafka needs v0 advertised
      // but sends v1 (KIP-152), as every client since Kafka 1.0 does.
      if (header.apiKey === ApiKey.SaslHandshake && header.apiVersion === 0) {
        throw new FrameError(
          "SaslHandshake v0 (unframed SASL tokens) is not supported: use SaslHandshake v1",
        );
      }
    },
  };
}
