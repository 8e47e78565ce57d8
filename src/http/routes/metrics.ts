/**
 * Prometheus metrics. Authenticated when `GATEWAY_SECURED_METRICS` is true.
 *
 * @module
 */
import { z } from "zod";
import type { NodeView } from "../node_view.ts";
import { defineRoute, type RouteModule } from "../route.ts";

/** The metrics route; `secured` requires basic auth on it. */
export function metricsRoutes(view: NodeView, options: { secured: boolean }): RouteModule {
  return {
    tag: "metrics",
    description: options.secured
      ? "Prometheus metrics (HTTP basic auth required: GATEWAY_SECURED_METRICS=true)."
      : "Prometheus metrics (open: GATEWAY_SECURED_METRICS=false).",
    auth: options.secured,
    routes: [
      defineRoute({
        method: "GET",
        path: "/metrics",
        operationId: "getMetrics",
        summary: "Prometheus text exposition of the node's metrics",
        responses: {
          200: {
            description: "The metrics",
            contentType: "text/plain; version=0.0.4; charset=utf-8",
            schema: z.string(),
          },
        },
        handler: async (c) => {
          const { contentType, body } = await view.metrics();
          return c.body(body, 200, { "Content-Type": contentType });
        },
      }),
    ],
  };
}
