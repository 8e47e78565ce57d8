/**
 * Probes: liveness and readiness. Never authenticated.
 *
 * @module
 */
import type { Context } from "hono";
import { accepts } from "hono/accepts";
import { z } from "@hono/zod-openapi";
import type { NodeView } from "../node_view.ts";
import { moduleRoute, type RouteModule } from "../route.ts";
import { LivenessBodySchema, ReadinessBodySchema } from "../schemas.ts";

/** True when the client prefers JSON to plain text (`Accept: application/json`). */
export function wantsJson(c: Context): boolean {
  return accepts(c, {
    header: "Accept",
    supports: ["text/plain", "application/json"],
    default: "text/plain",
  }) === "application/json";
}

const textOrJson = <T extends string>(text: T, json: z.ZodType) => ({
  "text/plain": { schema: z.literal(text) },
  "application/json": { schema: json },
});

/** The probe routes. */
export function healthRoutes(view: NodeView): RouteModule {
  const module = {
    tag: "health",
    description: "Liveness and readiness probes (never authenticated).",
    guards: [],
  };
  const live = moduleRoute(module, {
    method: "get",
    path: "/health/live",
    operationId: "getLiveness",
    summary: "Liveness: 200 LIVE while the process runs",
    description: 'Plain text `LIVE`, or `{"status":"LIVE"}` with `Accept: application/json`.',
    responses: {
      200: { description: "The process is running", content: textOrJson("LIVE", LivenessBodySchema) },
    },
  });
  const ready = moduleRoute(module, {
    method: "get",
    path: "/health/ready",
    operationId: "getReadiness",
    summary: "Readiness: 200 READY when every check passes, else 503 NOTREADY",
    description: "Plain text `READY` / `NOTREADY`, or with `Accept: application/json` the status, each " +
      "check and the reasons the node is not ready.",
    responses: {
      200: { description: "The node can serve clients", content: textOrJson("READY", ReadinessBodySchema) },
      503: {
        description: "The node cannot serve clients",
        content: textOrJson("NOTREADY", ReadinessBodySchema),
      },
    },
  });
  return {
    ...module,
    register(app) {
      app.openapi(live, (c) => {
        c.header("Vary", "Accept");
        return wantsJson(c) ? c.json({ status: "LIVE" as const }, 200) : c.text("LIVE", 200);
      });
      app.openapi(ready, (c) => {
        const readiness = view.readiness();
        const status = readiness.ready ? "READY" : "NOTREADY";
        const code = readiness.ready ? 200 : 503;
        c.header("Vary", "Accept");
        if (!wantsJson(c)) return c.text(status, code);
        return c.json(ReadinessBodySchema.parse({ status, ...readiness }), code);
      });
    },
  };
}
