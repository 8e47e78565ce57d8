/**
 * The shapes of the HTTP API's bodies, as zod schemas: the routes validate their answers with them, the
 * OpenAPI document is generated from them (a schema named with `.openapi(name)` becomes a component), and
 * the TypeScript types of the API are inferred from them.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";

/** Body of every error response. */
export const ErrorBodySchema = z.object({
  error: z.string().meta({ description: "Short error name, e.g. `not found`" }),
  message: z.string().optional().meta({ description: "What went wrong" }),
  path: z.string().optional().meta({ description: "The request path (404, 405)" }),
  method: z.string().optional().meta({ description: "The request method (405)" }),
  allow: z.array(z.string()).optional().meta({ description: "Methods the path allows (405)" }),
  parameter: z.string().optional().meta({ description: "The query parameter at fault (400)" }),
}).openapi("Error");
/** Body of every error response. */
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** Body of `/health/live` when JSON is asked for. */
export const LivenessBodySchema = z.object({ status: z.literal("LIVE") }).openapi("Liveness");

/** Body of `/health/ready` when JSON is asked for. */
export const ReadinessBodySchema = z.object({
  status: z.enum(["READY", "NOTREADY"]),
  checks: z.record(z.string(), z.boolean()).meta({ description: "Each check and whether it passes" }),
  reasons: z.array(z.string()).meta({ description: "Why the node is not ready (empty when ready)" }),
}).openapi("Readiness");
/** Body of `/health/ready` when JSON is asked for. */
export type ReadinessBody = z.infer<typeof ReadinessBodySchema>;

/** A member of the cluster view. */
export const ClusterMemberSchema = z.object({
  id: z.string(),
  host: z.string(),
  rack: z.string().nullable(),
  ports: z.object({ first: z.number().int(), last: z.number().int() }).meta({
    description: "Kafka port range, inclusive",
  }),
  httpUrl: z.string(),
  version: z.string(),
  joinedAt: z.string().meta({ description: "ISO 8601" }),
  weight: z.number().optional().meta({
    description: "Share weight in the mapping (GATEWAY_NODE_WEIGHT); absent from nodes that predate it (= 1)",
  }),
});

/** Body of `/api/v1/cluster`: the gateway cluster as this node sees it. */
export const ClusterBodySchema = z.object({
  self: z.string().meta({ description: "The id of this node" }),
  members: z.array(ClusterMemberSchema),
  generation: z.number().int().nullable().meta({
    description: "Membership generation, null before the first join",
  }),
  lastChange: z.string().nullable().meta({ description: "When the view last changed, ISO 8601" }),
}).openapi("Cluster");
/** The gateway cluster as this node sees it (the body of `/api/v1/cluster`). */
export type ClusterView = z.infer<typeof ClusterBodySchema>;
/** A live gateway node as the cluster view shows it. */
export type ClusterMember = z.infer<typeof ClusterMemberSchema>;

const BrokerSchema = z.object({
  id: z.number().int(),
  host: z.string(),
  port: z.number().int(),
  rack: z.string().nullable(),
});

/** Body of `/api/v1/brokers`. */
export const BrokersBodySchema = z.object({
  brokers: z.array(BrokerSchema).meta({ description: "Upstream brokers as last seen, by id" }),
}).openapi("Brokers");

/** One broker endpoint of a mapping. */
export const MappedBrokerSchema = z.object({
  brokerId: z.number().int(),
  host: z.string(),
  port: z.number().int(),
  rack: z.string().nullable(),
});
/** One broker's advertised endpoint in a mapping. */
export type MappedBroker = z.infer<typeof MappedBrokerSchema>;

/** Body of `/api/v1/mapping`. */
export const MappingBodySchema = z.object({
  rack: z.string().nullable().meta({ description: "The rack asked about, or null" }),
  clientId: z.string().nullable().meta({ description: "The client id asked about, or null" }),
  brokers: z.array(MappedBrokerSchema).meta({ description: "Advertised endpoint of each broker" }),
}).openapi("Mapping");

/** Body of `/api/v1/config`. */
export const ConfigBodySchema = z.record(z.string(), z.unknown()).meta({
  description: "Effective settings by environment variable name; secrets are `<redacted>`",
}).openapi("Config");

/** Body of `/versions`. */
export const VersionsBodySchema = z.object({
  kgate: z.string(),
  deno: z.string(),
  v8: z.string(),
  typescript: z.string(),
  kafkaProtocol: z.record(z.string(), z.object({ min: z.number().int(), max: z.number().int() })).meta({
    description: "Supported versions by Kafka API name, in API key order (empty before the cluster answered)",
  }),
}).openapi("Versions");
