/**
 * Per-API request metrics: requests received, responses delivered, upstream and gateway time, and
 * responses rewritten. Observes headers only: it never makes a frame be decoded.
 *
 * @module
 */
import type { GatewayMetrics } from "../../metrics.ts";
import type { Filter } from "../filter.ts";

/**
 * The metrics filter, counting into `metrics`.
 *
 * @example
 * ```ts ignore
 * const filters = [requestGuard(guardOptions), metricsFilter(new GatewayMetrics())];
 * ```
 */
export function metricsFilter(metrics: Pick<GatewayMetrics, "api">): Filter {
  return {
    name: "metrics",
    requestHeader(header) {
      metrics.api(header.apiKey).requests.inc();
    },
    responseDelivered(request, upstreamSeconds, gatewaySeconds, rewritten) {
      const api = metrics.api(request.apiKey);
      api.responses.inc();
      api.upstreamSeconds.observe(upstreamSeconds);
      api.gatewaySeconds.observe(gatewaySeconds);
      if (rewritten) api.rewritten.inc();
    },
  };
}
