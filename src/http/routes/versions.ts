/**
 * Versions of kgate, its runtime and the Kafka protocol versions it supports.
 *
 * @module
 */
import { apiName } from "../../protocol/mod.ts";
import type { VersionRange } from "../../lib/version_range.ts";
import { KGATE_VERSION } from "../../version.ts";
import { moduleRoute, type RouteModule } from "../route.ts";
import { VersionsBodySchema } from "../schemas.ts";

/** Where `/versions` gets what it shows. */
export interface VersionsSource {
  /** kgate version; defaults to {@link KGATE_VERSION}. */
  kgate?: string;
  /** Kafka API versions the gateway supports now, by API key (e.g. the broker directory's ranges). */
  kafkaProtocolVersions(): ReadonlyMap<number, VersionRange>;
}

/** The `/versions` route. */
export function versionsRoutes(source: VersionsSource): RouteModule {
  const module = {
    tag: "versions",
    description: "Versions of kgate, its runtime and the Kafka protocol (not authenticated).",
    guards: [],
  };
  const versions = moduleRoute(module, {
    method: "get",
    path: "/versions",
    operationId: "getVersions",
    summary: "kgate, Deno, V8 and TypeScript versions and the supported Kafka API versions",
    responses: {
      200: { description: "The versions", content: { "application/json": { schema: VersionsBodySchema } } },
    },
  });
  return {
    ...module,
    register(app) {
      app.openapi(versions, (c) => {
        const ranges = [...source.kafkaProtocolVersions()].sort(([a], [b]) => a - b);
        return c.json({
          kgate: source.kgate ?? KGATE_VERSION,
          deno: Deno.version.deno,
          v8: Deno.version.v8,
          typescript: Deno.version.typescript,
          kafkaProtocol: Object.fromEntries(
            ranges.map(([key, { min, max }]) => [apiName(key), { min, max }]),
          ),
        }, 200);
      });
    },
  };
}
