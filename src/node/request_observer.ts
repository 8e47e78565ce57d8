/**
 * Requests and responses of the data path, counted and timed in the node's metrics.
 *
 * @module
 */
import type { GatewayMetrics } from "../metrics.ts";
import type { RequestObserver } from "../proxy/connection.ts";

/**
 * An observer that counts each API key's requests, responses and rewritten responses, and records the
 * upstream and gateway latencies (the per-key instruments are resolved once, not per frame).
 *
 * @example
 * ```ts
 * const observer = requestObserver(metrics);
 * observer.request(3); // kgate_requests_total{api="Metadata"} + 1
 * ```
 */
export function requestObserver(metrics: GatewayMetrics): RequestObserver {
  return {
    request: (apiKey) => metrics.api(apiKey).requests.inc(),
    response: (apiKey, upstreamSeconds, gatewaySeconds, rewritten) => {
      const api = metrics.api(apiKey);
      api.responses.inc();
      api.upstreamSeconds.observe(upstreamSeconds);
      api.gatewaySeconds.observe(gatewaySeconds);
      if (rewritten) api.rewritten.inc();
    },
  };
}
