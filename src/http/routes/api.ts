/**
 * The admin API under `/api/v1`: cluster, upstream brokers, broker mapping, configuration. Always behind
 * HTTP basic auth (`GATEWAY_ADMIN_API_USERS`); the whole `/api/*` prefix is guarded, so unknown paths
 * below it answer 401 to anonymous clients too.
 *
 * @module
 */
import { z } from "zod";
import type { NodeView } from "../node_view.ts";
import { defineRoute, type QueryParamSpec, type RouteModule } from "../route.ts";
import { sendJson } from "../errors.ts";

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

const printable = (description: string, example: string): QueryParamSpec => ({
  description,
  expected: `1 to ${MAX_QUERY_VALUE_LENGTH} printable characters`,
  schema: z.string().regex(PRINTABLE_VALUE),
  example,
});

const ClusterMemberSchema = z.object({
  id: z.string(),
  host: z.string(),
  rack: z.string().nullable(),
  ports: z.object({ first: z.number().int(), last: z.number().int() }).meta({
    description: "Kafka port range, inclusive",
  }),
  httpUrl: z.string(),
  version: z.string(),
  joinedAt: z.string().meta({ description: "ISO 8601" }),
});

/** Body of `/api/v1/cluster`. */
export const ClusterBodySchema = z.object({
  self: z.string().meta({ description: "The id of this node" }),
  members: z.array(ClusterMemberSchema),
  generation: z.number().int().nullable().meta({
    description: "Membership generation, null before the first join",
  }),
  lastChange: z.string().nullable().meta({ description: "When the view last changed, ISO 8601" }),
});

const BrokerSchema = z.object({
  id: z.number().int(),
  host: z.string(),
  port: z.number().int(),
  rack: z.string().nullable(),
});

/** Body of `/api/v1/brokers`. */
export const BrokersBodySchema = z.object({
  brokers: z.array(BrokerSchema).meta({ description: "Upstream brokers as last seen, by id" }),
});

const MappedBrokerSchema = z.object({
  brokerId: z.number().int(),
  host: z.string(),
  port: z.number().int(),
  rack: z.string().nullable(),
});

/** Body of `/api/v1/mapping`. */
export const MappingBodySchema = z.object({
  rack: z.string().nullable().meta({ description: "The rack asked about, or null" }),
  clientId: z.string().nullable().meta({ description: "The client id asked about, or null" }),
  brokers: z.array(MappedBrokerSchema).meta({ description: "Advertised endpoint of each broker" }),
});

/** Body of `/api/v1/config`. */
export const ConfigBodySchema = z.record(z.string(), z.unknown()).meta({
  description: "Effective settings by environment variable name; secrets are `<redacted>`",
});

const json = (description: string, schema: z.ZodType, schemaName: string) => ({
  200: { description, contentType: "application/json", schema, schemaName },
});

/** The admin API routes. */
export function apiRoutes(view: NodeView): RouteModule {
  return {
    tag: "api",
    description: "Admin API (HTTP basic auth: GATEWAY_ADMIN_API_USERS).",
    auth: true,
    guard: "/api/*",
    routes: [
      defineRoute({
        method: "GET",
        path: "/api/v1/cluster",
        operationId: "getCluster",
        summary: "The gateway cluster as this node sees it",
        responses: json("The cluster view", ClusterBodySchema, "Cluster"),
        handler: (c) => sendJson(c, ClusterBodySchema.parse(view.cluster())),
      }),
      defineRoute({
        method: "GET",
        path: "/api/v1/brokers",
        operationId: "getBrokers",
        summary: "The upstream brokers (id, host, port, rack) as last seen",
        responses: json("The upstream brokers", BrokersBodySchema, "Brokers"),
        handler: (c) => {
          const brokers = view.brokers()
            .map((b) => ({ id: b.nodeId, host: b.host, port: b.port, rack: b.rack }))
            .sort((a, b) => a.id - b.id);
          return sendJson(c, BrokersBodySchema.parse({ brokers }));
        },
      }),
      defineRoute({
        method: "GET",
        path: "/api/v1/mapping",
        operationId: "getMapping",
        summary: "The broker endpoints a client with this rack / client id would be given now",
        description: "Does not advance the round-robin of the mapping.",
        query: {
          rack: printable("Rack (zone) of the client", "rack-a"),
          clientId: printable("Kafka client id of the client", "billing-consumer"),
          clientHost: {
            description:
              "The client's IP address or host (the client-sticky policy hashes it with the client id)",
            expected: "an IPv4 or IPv6 address or a host name",
            schema: z.string().regex(/^[A-Za-z0-9.:_-]{1,255}$/),
            example: "10.0.0.7",
          },
        },
        responses: json("The mapping", MappingBodySchema, "Mapping"),
        handler: (c, { query }) => {
          const asked: { rack?: string; clientId?: string; clientHost?: string } = {};
          if (query.rack !== undefined) asked.rack = query.rack;
          if (query.clientId !== undefined) asked.clientId = query.clientId;
          if (query.clientHost !== undefined) asked.clientHost = query.clientHost;
          return sendJson(
            c,
            MappingBodySchema.parse({
              rack: query.rack ?? null,
              clientId: query.clientId ?? null,
              brokers: view.mapping(asked),
            }),
          );
        },
      }),
      defineRoute({
        method: "GET",
        path: "/api/v1/config",
        operationId: "getConfig",
        summary: "The effective configuration, secrets redacted",
        responses: json("The configuration", ConfigBodySchema, "Config"),
        handler: (c) => sendJson(c, ConfigBodySchema.parse(view.config())),
      }),
    ],
  };
}
