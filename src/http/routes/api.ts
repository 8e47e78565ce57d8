/**
 * The admin API under `/api/v1` (HTTP basic auth: `GATEWAY_ADMIN_API_USERS`): the cluster view, the
 * upstream brokers, the mapping a client would get, and the effective configuration.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import type { NodeView } from "../node_view.ts";
import { moduleRoute, type RouteModule } from "../route.ts";
import {
  BrokersBodySchema,
  ClusterBodySchema,
  ConfigBodySchema,
  ErrorBodySchema,
  MappingBodySchema,
} from "../schemas.ts";

/** Longest `rack` / `clientId` query value, in characters (code points). */
export const MAX_QUERY_VALUE_LENGTH = 255;

/**
 * 1 to 255 printable characters: no Unicode "other" characters (controls, format characters, surrogates,
 * private use, unassigned) and no line or paragraph separators.
 */
export const PRINTABLE_VALUE: RegExp = new RegExp(
  `^[^\\p{C}\\p{Zl}\\p{Zp}]{1,${MAX_QUERY_VALUE_LENGTH}}$`,
  "u",
);

/**
 * An optional query parameter: `expected` is both the error message of a bad value (the 400 body says
 * "expected <it>") and part of the parameter's documentation.
 */
function queryParam(pattern: RegExp, description: string, expected: string, example: string) {
  return z.string().regex(pattern, { error: expected }).optional().openapi({
    // The generator writes a regex's flags into `pattern`; JSON Schema patterns are ECMA-262 "u" mode.
    pattern: pattern.source,
    param: { description: `${description} (${expected})`, example },
  });
}

const printable = (description: string, example: string) =>
  queryParam(PRINTABLE_VALUE, description, `1 to ${MAX_QUERY_VALUE_LENGTH} printable characters`, example);

/** Query of `/api/v1/mapping`; every parameter is optional and may be given once. */
export const MappingQuerySchema = z.object({
  rack: printable("Rack (zone) of the client", "rack-a"),
  clientId: printable("Kafka client id of the client", "billing-consumer"),
  clientHost: queryParam(
    /^[A-Za-z0-9.:_-]{1,255}$/,
    "The client's IP address or host (client-consistent and client-sticky hash it with the client id)",
    "an IPv4 or IPv6 address or a host name",
    "10.0.0.7",
  ),
  // Any printable text: a name that is not a listener gets a 400 naming the listeners.
  listener: printable("The listener whose endpoints to show (default: the first)", "EXTERNAL"),
});

const json = <S extends z.ZodType>(description: string, schema: S) => ({
  200: { description, content: { "application/json": { schema } } },
});

/** The admin API routes. */
export function apiRoutes(view: NodeView): RouteModule {
  const module = {
    tag: "api",
    description: "Admin API (HTTP basic auth: GATEWAY_ADMIN_API_USERS).",
    guards: ["/api/*"],
  };
  const cluster = moduleRoute(module, {
    method: "get",
    path: "/api/v1/cluster",
    operationId: "getCluster",
    summary: "The gateway cluster as this node sees it",
    responses: json("The cluster view", ClusterBodySchema),
  });
  const brokers = moduleRoute(module, {
    method: "get",
    path: "/api/v1/brokers",
    operationId: "getBrokers",
    summary: "The upstream brokers (id, host, port, rack) as last seen",
    responses: json("The upstream brokers", BrokersBodySchema),
  });
  const mapping = moduleRoute(module, {
    method: "get",
    path: "/api/v1/mapping",
    operationId: "getMapping",
    summary: "The broker endpoints a client with this rack / client id would be given now",
    description:
      "Does not advance the round-robin of the mapping. Under the default policy (client-consistent) a client's mapping depends on its client id and, unless GATEWAY_CLIENT_IDENTITY=client-id, its host: give clientHost to see what that client receives.",
    request: { query: MappingQuerySchema },
    responses: {
      ...json("The mapping", MappingBodySchema),
      400: {
        description: "A bad query parameter (an unknown listener among them)",
        content: { "application/json": { schema: ErrorBodySchema } },
      },
    },
  });
  const config = moduleRoute(module, {
    method: "get",
    path: "/api/v1/config",
    operationId: "getConfig",
    summary: "The effective configuration, secrets redacted",
    responses: json("The configuration", ConfigBodySchema),
  });
  return {
    ...module,
    register(app) {
      app.openapi(cluster, (c) => c.json(ClusterBodySchema.parse(view.cluster()), 200));
      app.openapi(brokers, (c) => {
        const brokers = view.brokers()
          .map((b) => ({ id: b.nodeId, host: b.host, port: b.port, rack: b.rack }))
          .sort((a, b) => a.id - b.id);
        return c.json(BrokersBodySchema.parse({ brokers }), 200);
      });
      app.openapi(mapping, (c) => {
        const query = c.req.valid("query");
        // Only the parameters given: the view tells "absent" from any value.
        const asked = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined));
        const brokers = view.mapping(asked);
        if (typeof brokers === "string") {
          return c.json({ error: "bad request", parameter: "listener", message: brokers }, 400);
        }
        return c.json(
          MappingBodySchema.parse({
            rack: query.rack ?? null,
            clientId: query.clientId ?? null,
            brokers,
          }),
          200,
        );
      });
      app.openapi(config, (c) => c.json(ConfigBodySchema.parse(view.config()), 200));
    },
  };
}
