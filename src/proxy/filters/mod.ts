/**
 * The gateway's standard filter chain, and the API versions it can proxy.
 *
 * @module
 */
import type { VersionRange } from "../../lib/version_range.ts";
import type { GatewayMetrics } from "../../metrics.ts";
import { type Filter, understoodVersions } from "../filter.ts";
import { ADDRESS_REWRITE_UNDERSTANDS, addressRewrite, type RewriteContext } from "./address_rewrite.ts";
import { API_VERSIONS_UNDERSTANDS, apiVersionsCap, supportedVersions } from "./api_versions_cap.ts";
import { metricsFilter } from "./metrics.ts";
import { requestGuard } from "./request_guard.ts";

export {
  addressRewrite,
  type AnsweredRequest,
  type RewriteContext,
  rewriteResponse,
} from "./address_rewrite.ts";
export { apiVersionsCap, capApiVersionsResponse, type SupportedVersions } from "./api_versions_cap.ts";
export { metricsFilter } from "./metrics.ts";
export { requestGuard, type RequestGuardOptions } from "./request_guard.ts";

/**
 * The versions clients may use for an API key through the standard chain, given what the upstream
 * cluster supports (undefined: the key is unknown to the gateway or the cluster).
 *
 * @example
 * ```ts ignore
 * supportedVersionRange(ApiKey.DescribeQuorum, { min: 0, max: 2 }); // { min: 0, max: 1 }
 * ```
 */
export const supportedVersionRange: (
  apiKey: number,
  upstream: VersionRange | undefined,
) => VersionRange | undefined = supportedVersions(
  understoodVersions([ADDRESS_REWRITE_UNDERSTANDS, API_VERSIONS_UNDERSTANDS]),
);

/** What the standard chain of one connection needs. */
export interface GatewayFilterOptions {
  /** The versions clients may use, per API key (undefined: refused). */
  supportedVersions(apiKey: number): VersionRange | undefined;
  /** Per-API metrics; none when undefined. */
  metrics?: Pick<GatewayMetrics, "api">;
  /** The connection's address rewriting. */
  rewrite: RewriteContext;
}

/**
 * The standard chain of one connection: request guard, metrics, ApiVersions cap, address rewrite.
 *
 * @example
 * ```ts ignore
 * const filters = gatewayFilters({ supportedVersions, metrics, rewrite: { clientAddress, mapper, knownBrokers } });
 * ```
 */
export function gatewayFilters(options: GatewayFilterOptions): Filter[] {
  const { clientAddress, ...rewrite } = options.rewrite;
  return gatewayFilterChain({ ...options, rewrite })(clientAddress);
}

/** What the standard chains of a listener's connections share: everything but the client's address. */
export interface GatewayFilterChainOptions extends Omit<GatewayFilterOptions, "rewrite"> {
  /** The address rewriting, but for the client's address. */
  rewrite: Omit<RewriteContext, "clientAddress">;
}

/**
 * The standard chain for each connection of a listener: the filters that hold nothing of a connection
 * (request guard, metrics, ApiVersions cap) are made once and shared; only the address rewrite, which
 * maps for one client, is made per connection.
 *
 * @example
 * ```ts ignore
 * const chainFor = gatewayFilterChain({ supportedVersions, metrics, rewrite: { mapper, knownBrokers } });
 * const filters = chainFor("10.0.0.7:50122");
 * ```
 */
export function gatewayFilterChain(options: GatewayFilterChainOptions): (clientAddress: string) => Filter[] {
  const before = [
    requestGuard({ supportedVersions: options.supportedVersions }),
    ...(options.metrics ? [metricsFilter(options.metrics)] : []),
    apiVersionsCap(supportedVersionRange),
  ];
  const { mapper, knownBrokers, onUnknownBroker } = options.rewrite;
  return (clientAddress) => [
    ...before,
    addressRewrite({ clientAddress, mapper, knownBrokers, onUnknownBroker }),
  ];
}
