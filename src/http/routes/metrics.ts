/**
 * Prometheus metrics. Authenticated when `GATEWAY_SECURED_METRICS` is true.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import type { NodeView } from "../node_view.ts";
import { moduleRoute, type RouteModule } from "../route.ts";

/** The metrics route; `secured` requires basic auth on it. */
export function metricsRoutes(view: NodeView, options: { secured: boolean }): RouteModule {
  const module = {
    tag: "metrics",
    description: options.secured
      ? "Prometheus metrics (HTTP basic auth required: GATEWAY_SECURED_METRICS=true)."
      : "Prometheus metrics (open: GATEWAY_SECURED_METRICS=false).",
    guards: options.secured ? ["/metrics"] : [],
  };
  const metrics = moduleRoute(module, {
    method: "get",
    path: "/metrics",
    operationId: "getMetrics",
    summary: "Prometheus text exposition of the node's metrics",
    responses: {
      200: {
        description: "The metrics",
        content: { "text/plain; version=0.0.4; charset=utf-8": { schema: z.string() } },
      },
    },
  });
  return {
    ...module,
    register(app) {
      app.openapi(metrics, async (c) => {
        const { contentType, body } = await view.metrics();
        return c.text(body, 200, { "Content-Type": contentType });
      });
    },
  };
}
