/**
 * Probes: liveness and readiness. Never authenticated.
 *
 * @module
 */
import type { Context } from "hono";
import { accepts } from "hono/accepts";
import { z } from "zod";
import type { NodeView } from "../node_view.ts";
import { defineRoute, type RouteModule } from "../route.ts";
import { sendJson } from "../errors.ts";

/** Body of `/health/ready` when JSON is asked for. */
export const ReadinessBodySchema = z.object({
  status: z.enum(["READY", "NOTREADY"]),
  checks: z.record(z.string(), z.boolean()).meta({ description: "Each check and whether it passes" }),
  reasons: z.array(z.string()).meta({ description: "Why the node is not ready (empty when ready)" }),
});

/** Body of `/health/live` when JSON is asked for. */
export const LivenessBodySchema = z.object({ status: z.literal("LIVE") });

/** True when the client prefers JSON to plain text (`Accept: application/json`). */
export function wantsJson(c: Context): boolean {
  return accepts(c, {
    header: "Accept",
    supports: ["text/plain", "application/json"],
    default: "text/plain",
  }) === "application/json";
}

/** The probe routes. */
export function healthRoutes(view: NodeView): RouteModule {
  return {
    tag: "health",
    description: "Liveness and readiness probes (never authenticated).",
    auth: false,
    routes: [
      defineRoute({
        method: "GET",
        path: "/health/live",
        operationId: "getLiveness",
        summary: "Liveness: 200 LIVE while the process runs",
        description: 'Plain text `LIVE`, or `{"status":"LIVE"}` with `Accept: application/json`.',
        responses: {
          200: {
            description: "The process is running",
            contentType: "text/plain",
            schema: z.literal("LIVE"),
            alternatives: [{
              contentType: "application/json",
              schema: LivenessBodySchema,
              schemaName: "Liveness",
            }],
          },
        },
        handler: (c) => {
          c.header("Vary", "Accept");
          return wantsJson(c) ? sendJson(c, { status: "LIVE" }) : c.text("LIVE");
        },
      }),
      defineRoute({
        method: "GET",
        path: "/health/ready",
        operationId: "getReadiness",
        summary: "Readiness: 200 READY when every check passes, else 503 NOTREADY",
        description: "Plain text `READY` / `NOTREADY`, or with `Accept: application/json` the status, each " +
          "check and the reasons the node is not ready.",
        responses: {
          200: {
            description: "The node can serve clients",
            contentType: "text/plain",
            schema: z.literal("READY"),
            alternatives: [
              { contentType: "application/json", schema: ReadinessBodySchema, schemaName: "Readiness" },
            ],
          },
          503: {
            description: "The node cannot serve clients",
            contentType: "text/plain",
            schema: z.literal("NOTREADY"),
            alternatives: [
              { contentType: "application/json", schema: ReadinessBodySchema, schemaName: "Readiness" },
            ],
          },
        },
        handler: (c) => {
          const readiness = view.readiness();
          const status = readiness.ready ? "READY" : "NOTREADY";
          const code = readiness.ready ? 200 : 503;
          c.header("Vary", "Accept");
          if (!wantsJson(c)) return c.text(status, code);
          return sendJson(
            c,
            ReadinessBodySchema.parse({ status, checks: readiness.checks, reasons: readiness.reasons }),
            code,
          );
        },
      }),
    ],
  };
}
