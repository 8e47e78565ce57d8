/**
 * kgate: a Kafka protocol gateway for Deno.
 *
 * Start a node from a configuration object:
 *
 * ```ts
 * import { parseConfig, startGateway } from "./mod.ts";
 * const gateway = await startGateway(parseConfig({ KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:9092" }));
 * // ... clients bootstrap to <advertised host>:6969 ...
 * await gateway.close();
 * ```
 *
 * The Kafka codec is exported too (`decodeMessage`, `encodeMessage`, the message schemas).
 *
 * @module
 */

/** Start a gateway node; see {@link startGateway}. */
export { type Gateway, startGateway, type StartOptions } from "./src/node/start.ts";
/** Configuration: the settings schema, parsing and validation, `--help` and masking. */
export {
  ConfigError,
  flagName,
  type GatewayConfig,
  GatewayConfigSchema,
  helpText,
  type LogFormat,
  type LogLevelName,
  parseConfig,
  rawSettings,
  redactedConfig,
  type SettingDoc,
  type SettingKey,
  type SettingMeta,
  SETTINGS,
  type SettingSpec,
  type UpstreamSecurityProtocol,
} from "./src/config/mod.ts";
/** The broker-to-node mapping: the pure rack-aware round-robin and rendezvous functions, their stateful form, the single-host mapping. */
export {
  type BrokerEndpointMapper,
  brokerPort,
  type BrokerRef,
  brokerToNodeMapping,
  CLIENT_RACK_KEY,
  type ClientIdentity,
  clientKey,
  clientRackFromClientId,
  clientTurn,
  type ClusterMapping,
  clusterMapping,
  type ClusterMappingOptions,
  type Endpoint,
  type GatewayNodeRef,
  type MappingPolicy,
  type MappingRequest,
  type NodeMappingInput,
  rendezvousDraw,
  rendezvousMapping,
  type RendezvousMappingInput,
  singleHostMapping,
} from "./src/cluster/mapping.ts";
/** Cluster membership through a Kafka consumer group. */
export {
  type GatewayMember,
  GroupMembership,
  MEMBERSHIP_PROTOCOL,
  membershipNames,
  type MembershipOptions,
  type MembershipView,
} from "./src/cluster/membership.ts";
/** A node's identity as it publishes it in the membership group. */
export {
  decodeMemberIdentity,
  encodeMemberIdentity,
  type MemberIdentity,
} from "./src/cluster/member_identity.ts";
/** The audit log of a node (CONNECTION entries). */
export {
  AuditLog,
  type AuditLogOptions,
  type AuditSink,
  type AuditStats,
  type ConnectionAuditEvent,
} from "./src/audit/audit_log.ts";
/** The PROXY protocol v1/v2 parser and builders. */
export * from "./src/proxy_protocol/mod.ts";
/** The upstream broker directory a node keeps. */
export { BrokerDirectory, StartAborted, type UpstreamBrokerInfo } from "./src/upstream/broker_directory.ts";
/** The Kafka protocol codec (pure, no I/O), with every Kafka message's spec and type (generated). */
export * from "./src/protocol/mod.ts";
/** The kgate version. */
export { KGATE_VERSION } from "./src/version.ts";
