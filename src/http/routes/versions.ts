/**
 * Versions of kgate, its runtime and the Kafka protocol versions it supports.
 *
 * @module
 */
import { z } from "zod";
import { apiName } from "../../protocol/mod.ts";
import { KGATE_VERSION } from "../../version.ts";
import { defineRoute, type RouteModule } from "../route.ts";
import { sendJson } from "../errors.ts";

/** An inclusive version range. */
export interface ApiVersionRange {
  /** Lowest version. */
  min: number;
  /** Highest version. */
  max: number;
}

/** Where `/versions` gets what it shows. */
export interface VersionsSource {
  /** kgate version; defaults to {@link KGATE_VERSION}. */
  kgate?: string;
  /** Kafka API versions the gateway supports now, by API key (e.g. the broker directory's ranges). */
  kafkaProtocolVersions(): ReadonlyMap<number, ApiVersionRange>;
}

const RangeSchema = z.object({ min: z.number().int(), max: z.number().int() });

/** Body of `/versions`. */
export const VersionsBodySchema = z.object({
  kgate: z.string(),
  deno: z.string(),
  v8: z.string(),
  typescript: z.string(),
  kafkaProtocol: z.record(z.string(), RangeSchema).meta({
    description: "Supported versions by Kafka API name, in API key order (empty before the cluster answered)",
  }),
});

/** The `/versions` route. */
export function versionsRoutes(source: VersionsSource): RouteModule {
  return {
    tag: "versions",
    description: "Versions of kgate, its runtime and the Kafka protocol (not authenticated).",
    auth: false,
    routes: [
      defineRoute({
        method: "GET",
        path: "/versions",
        operationId: "getVersions",
        summary: "kgate, Deno, V8 and TypeScript versions and the supported Kafka API versions",
        responses: {
          200: {
            description: "The versions",
            contentType: "application/json",
            schema: VersionsBodySchema,
            schemaName: "Versions",
          },
        },
        handler: (c) => {
          const kafkaProtocol: Record<string, ApiVersionRange> = {};
          const ranges = [...source.kafkaProtocolVersions()].sort(([a], [b]) => a - b);
          for (const [key, { min, max }] of ranges) kafkaProtocol[apiName(key)] = { min, max };
          return sendJson(c, {
            kgate: source.kgate ?? KGATE_VERSION,
            deno: Deno.version.deno,
            v8: Deno.version.v8,
            typescript: Deno.version.typescript,
            kafkaProtocol,
          });
        },
      }),
    ],
  };
}
