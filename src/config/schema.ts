/**
 * The gateway's settings: one zod schema. Each field is a setting (value type, environment variable,
 * description, default, secrecy); the object's refinements are the rules between settings. The
 * {@link GatewayConfig} type, {@link SETTINGS} (flags, `--help`, the README table, masking) all derive from it.
 *
 * @module
 */
import { z } from "zod";
import { JaasError, jaasLine, SASL_MECHANISMS, saslCredentials } from "./jaas.ts";
import {
  computedDefault,
  optional,
  required,
  settingDocs,
  type SettingMeta,
  withDefault,
} from "./setting.ts";
import {
  bool,
  cidrList,
  decimal,
  hostPortList,
  integer,
  KAFKA_NAME,
  matching,
  nonEmpty,
  oneOf,
  port,
  replicationFactor,
  userList,
} from "./values.ts";

function defaultHostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "localhost";
  }
}

/** The default user of the HTTP API (fine on a laptop; the gateway warns about it at start). */
export const DEFAULT_ADMIN_USER: { readonly username: string; readonly password: string } = Object.freeze({
  username: "admin",
  password: "kgate",
});

const NODE_ID = /^[A-Za-z0-9.:_-]{1,200}$/;
const nodeIdChars = "letters, digits, '.', ':', '_' and '-'";
const kafkaName = matching(KAFKA_NAME, "letters, digits, '.', '_' and '-'");
const topicName = matching(KAFKA_NAME, "a Kafka topic name (letters, digits, '.', '_', '-')");

/** As Kafka's `ssl.endpoint.identification.algorithm`: `https`, or empty for no host name check. */
const endpointIdentification = {
  schema: z.enum(["https", ""]),
  allowed: "https, or empty (no host name check)",
};

/** Every setting, in `--help` order. */
const settings = z.object({
  kafkaBootstrapServers: required(hostPortList, {
    env: "KAFKA_BOOTSTRAP_SERVERS",
    description: "Upstream Kafka bootstrap servers",
  }),
  kafkaSecurityProtocol: withDefault(
    oneOf(["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]),
    "PLAINTEXT",
    {
      env: "KAFKA_SECURITY_PROTOCOL",
      description: "Security protocol towards the brokers",
      details: "SSL and SASL_SSL: every upstream connection (proxied and the gateway's own) uses TLS; " +
        "SASL is used by the gateway's own connections only (clients' own SASL passes through)",
    },
  ),
  kafkaSslCaFile: optional(nonEmpty("a file path"), {
    env: "KAFKA_SSL_CA_FILE",
    description: "PEM file of the CA certificates that sign the brokers' certificates",
    defaultNote: "the default root CAs",
    details: "trusted in addition to the default roots (Deno's bundled Mozilla roots; " +
      "`DENO_TLS_CA_STORE=system` for the operating system's)",
  }),
  kafkaSslCertFile: optional(nonEmpty("a file path"), {
    env: "KAFKA_SSL_CERT_FILE",
    description: "PEM client certificate (chain) for brokers that require mTLS",
    details: "with KAFKA_SSL_KEY_FILE",
  }),
  kafkaSslKeyFile: optional(nonEmpty("a file path"), {
    env: "KAFKA_SSL_KEY_FILE",
    description: "PEM private key (unencrypted) of KAFKA_SSL_CERT_FILE",
  }),
  kafkaSslEndpointIdentificationAlgorithm: withDefault(endpointIdentification, "https", {
    env: "KAFKA_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM",
    emptyIsValue: true,
    description: "https = check that a broker's certificate names the host connected to; empty = do not",
    details: "empty still verifies the chain; the gateway warns at start",
  }),
  kafkaSaslMechanism: withDefault(oneOf(SASL_MECHANISMS), "PLAIN", {
    env: "KAFKA_SASL_MECHANISM",
    description: "SASL mechanism of the gateway's own upstream connections",
  }),
  kafkaSaslJaasConfig: optional(jaasLine, {
    env: "KAFKA_SASL_JAAS_CONFIG",
    description: "JAAS config with the gateway's own credentials, as for Kafka's clients",
    details: 'PlainLoginModule or ScramLoginModule `username=".." password=".."`; ' +
      'OAuthBearerLoginModule `token="<JWT>"`, `tokenFile="<path>"` (re-read when it changes) or ' +
      '`unsecuredLoginStringClaim_sub="<name>"` (an unsigned test token)',
    secret: true,
  }),
  bindHost: withDefault(nonEmpty("an IP address or host name"), "0.0.0.0", {
    env: "GATEWAY_BIND_HOST",
    description: "Address the Kafka listeners bind to",
  }),
  advertisedHost: computedDefault(
    matching(/^[^\s:]+$|^[0-9a-fA-F:]+$/, "a host name or IP address"),
    defaultHostname,
    {
      env: "GATEWAY_ADVERTISED_HOST",
      description: "Host advertised to clients",
      defaultNote: "the machine's hostname",
    },
  ),
  portStart: withDefault(port, 6969, {
    env: "GATEWAY_PORT_START",
    description: "First Kafka port; port start + (brokerId - min) serves that broker",
  }),
  portCount: optional(integer(1, 10000), {
    env: "GATEWAY_PORT_COUNT",
    description: "Number of Kafka ports",
    defaultNote: "max broker id - min broker id + 3",
    details: "the default is computed from the discovered brokers",
  }),
  minBrokerId: withDefault(integer(0, 2147483647), 0, {
    env: "GATEWAY_MIN_BROKERID",
    description: "Broker id served by the first port",
  }),
  httpPort: withDefault(port, 8888, {
    env: "GATEWAY_HTTP_PORT",
    description: "HTTP API port",
    details: "bound on `GATEWAY_BIND_HOST`",
  }),
  clusterId: withDefault(
    matching(/^[A-Za-z0-9._-]{1,200}$/, "letters, digits, '.', '_' and '-'"),
    "gateway",
    {
      env: "GATEWAY_CLUSTER_ID",
      description: "Gateway cluster id; nodes with the same id form one cluster",
    },
  ),
  rackId: optional(nonEmpty("a non-empty string"), {
    env: "GATEWAY_RACK_ID",
    description: "Rack (zone) of this node",
  }),
  internalLoadBalancing: withDefault(bool, true, {
    env: "GATEWAY_FEATURE_FLAGS_INTERNAL_LOAD_BALANCING",
    description: "Map brokers to live gateway nodes; false = advertise GATEWAY_ADVERTISED_HOST",
    details: "see [Gateway cluster](#gateway-cluster); false suits an external load balancer",
  }),
  loadBalancingPolicy: withDefault(
    oneOf(["client-consistent", "round-robin", "client-sticky"]),
    "client-consistent",
    {
      env: "GATEWAY_LOAD_BALANCING_POLICY",
      description:
        "Internal load balancing: client-consistent = one mapping per client, the same on every node, weighted rendezvous hashing (a node leaving or joining moves only its share); round-robin = every Metadata request takes the next turn; client-sticky = one turn per client host and client id, (turn + i) mod n",
    },
  ),
  nodeWeight: withDefault(decimal(0, 1_000_000), 1, {
    env: "GATEWAY_NODE_WEIGHT",
    description:
      "This node's share of the brokers under client-consistent, relative to the other nodes' weights (published in the membership); 0 = stays in the cluster but takes no new share (drain before maintenance)",
  }),
  clientIdentity: withDefault(oneOf(["host-and-client-id", "client-id"]), "host-and-client-id", {
    env: "GATEWAY_CLIENT_IDENTITY",
    description:
      "What identifies a client under client-consistent: host-and-client-id = its address (the PROXY header's source when there is one) and client.id; client-id = the client.id alone (clients behind NAT). Every node must use the same value",
  }),
  groupId: optional(kafkaName, {
    env: "GATEWAY_GROUP_ID",
    description: "Kafka consumer group through which the gateway nodes know each other",
    defaultNote: "_kgate_<cluster id>",
  }),
  membersTopic: optional(topicName, {
    env: "GATEWAY_MEMBERS_TOPIC",
    description: "Internal topic of the membership group (compacted, 1 partition), created if missing",
    defaultNote: "_kgate_<cluster id>_members",
  }),
  membersTopicReplicationFactor: withDefault(replicationFactor, -1, {
    env: "GATEWAY_MEMBERS_TOPIC_REPLICATION_FACTOR",
    description: "Replication factor of a created members topic",
    defaultNote: "the cluster's default",
  }),
  groupSessionTimeoutMs: withDefault(
    integer(1000, 600000, " (within the brokers' group.min/max.session.timeout.ms)"),
    10000,
    {
      env: "GATEWAY_GROUP_SESSION_TIMEOUT_MS",
      description:
        "Session timeout of the membership group: a node that stops heartbeating is dropped after it",
      details: "e.g. after kill -9 or a network cut",
    },
  ),
  groupHeartbeatIntervalMs: withDefault(integer(100, 600000, ", below the session timeout"), 3000, {
    env: "GATEWAY_GROUP_HEARTBEAT_INTERVAL_MS",
    description: "Heartbeat interval of the membership group",
  }),
  drainMs: withDefault(integer(0, 3600000), 5000, {
    env: "GATEWAY_DRAIN_MS",
    description:
      "On SIGTERM/SIGINT: how long the node keeps serving connected clients after leaving the group",
    details: "a second signal skips it",
  }),
  haproxyProtocol: withDefault(bool, false, {
    env: "GATEWAY_FEATURE_FLAGS_HAPROXY_PROTOCOL",
    description: "Require a PROXY protocol v1/v2 header on every Kafka connection",
    details: "as its first bytes; never guessed",
  }),
  maxFrameBytes: withDefault(integer(1024, 2147483647), 104857600, {
    env: "GATEWAY_MAX_FRAME_BYTES",
    description: "Largest request frame a client may send (as Kafka's socket.request.max.bytes)",
  }),
  metadataRefreshMs: withDefault(integer(100, 86400000), 30000, {
    env: "GATEWAY_METADATA_REFRESH_MS",
    description: "How often the upstream broker list is refreshed",
    details: "also refreshed when a response names an unknown broker",
  }),
  upstreamConnectTimeoutMs: withDefault(integer(100, 600000), 10000, {
    env: "GATEWAY_UPSTREAM_CONNECT_TIMEOUT_MS",
    description: "Timeout for connecting to a broker",
  }),
  connectionsMaxIdleMs: withDefault(integer(0, 2147483647, " (0 = never)"), 600000, {
    env: "GATEWAY_CONNECTIONS_MAX_IDLE_MS",
    description: "A client connection with no bytes either way for this long is closed (as Kafka's " +
      "connections.max.idle.ms)",
    details: "checked every second",
  }),
  firstFrameTimeoutMs: withDefault(integer(100, 600000), 10000, {
    env: "GATEWAY_FIRST_FRAME_TIMEOUT_MS",
    description: "A client connection that has not sent one complete request frame this long after it " +
      "was accepted is closed",
    details: "PROXY header and TLS handshake included; checked every second; no broker connection is " +
      "opened before that first valid frame",
  }),
  maxConnections: withDefault(integer(1, 10000000), 100000, {
    env: "GATEWAY_MAX_CONNECTIONS",
    description: "Most open client connections per node (all Kafka ports); beyond it new ones are closed " +
      "at once",
  }),
  badPeerLogLimit: withDefault(integer(1, 1000000), 10, {
    env: "GATEWAY_BAD_PEER_LOG_LIMIT",
    description: "Log lines about bad peers (refused connections, broken frames, failed handshakes, " +
      "timeouts) written per 10 s; beyond it they are counted and the count logged once per 10 s",
    details: "so that hostile traffic cannot flood the log; every refusal is counted in " +
      "kgate_rejected_connections_total",
  }),
  maxConnectionsPerIp: withDefault(integer(0, 10000000, " (0 = unlimited)"), 0, {
    env: "GATEWAY_MAX_CONNECTIONS_PER_IP",
    description: "Most open client connections per client IP",
    details: "with the PROXY protocol on, the original source IP of the header counts (behind a load " +
      "balancer every connection comes from its IP)",
  }),
  // Unset here; the default is filled in from other settings below.
  nodeId: optional(matching(NODE_ID, nodeIdChars), {
    env: "GATEWAY_NODE_ID",
    description: "This node's id, unique in the gateway cluster",
    defaultNote: "<advertised host>:<port start> (external load balancing: <hostname>:<port start>)",
    details: "used by the membership and in audit entries; behind an external load balancer every node " +
      "advertises the same host, so the default takes the hostname",
  }),
  proxyProtocolTimeoutMs: withDefault(integer(100, 600000), 3000, {
    env: "GATEWAY_PROXY_PROTOCOL_TIMEOUT_MS",
    description: "How long a client may take to send its PROXY protocol header",
  }),
  proxyProtocolTrustedCidrs: optional(cidrList, {
    env: "GATEWAY_PROXY_PROTOCOL_TRUSTED_CIDRS",
    description: "Peers allowed to send a PROXY protocol header; a header from any other peer is refused",
    defaultNote: "any peer",
  }),
  gatewaySecurityProtocol: withDefault(oneOf(["PLAINTEXT", "SSL"]), "PLAINTEXT", {
    env: "GATEWAY_SECURITY_PROTOCOL",
    description: "Security protocol of the Kafka listeners (what clients speak to the gateway)",
    details: "SSL needs `GATEWAY_SSL_CERT_FILE` and `GATEWAY_SSL_KEY_FILE`; see [Security](#security)",
  }),
  gatewaySslCertFile: optional(nonEmpty("a file path"), {
    env: "GATEWAY_SSL_CERT_FILE",
    description: "PEM certificate chain of the Kafka listeners (leaf first)",
    details: "reloaded when the file changes and on SIGHUP",
  }),
  gatewaySslKeyFile: optional(nonEmpty("a file path"), {
    env: "GATEWAY_SSL_KEY_FILE",
    description: "PEM private key of the Kafka listeners' certificate (unencrypted)",
    details: "reloaded with the certificate",
  }),
  gatewaySslCaFile: optional(nonEmpty("a file path"), {
    env: "GATEWAY_SSL_CA_FILE",
    description: "PEM CA certificates that client certificates must be issued by",
    details: "needed when `GATEWAY_SSL_CLIENT_AUTH` is requested or required",
  }),
  gatewaySslClientAuth: withDefault(oneOf(["none", "requested", "required"]), "none", {
    env: "GATEWAY_SSL_CLIENT_AUTH",
    description:
      "Client certificates: none = not asked for; requested = asked for, optional; required = no connection without a valid one",
    details: "the verified subject goes into the CONNECTION audit entries and log lines",
  }),
  gatewaySslHandshakeTimeoutMs: withDefault(integer(100, 600000), 10000, {
    env: "GATEWAY_SSL_HANDSHAKE_TIMEOUT_MS",
    description: "How long a client may take to complete its TLS handshake",
  }),
  auditKafkaEnabled: withDefault(bool, true, {
    env: "GATEWAY_AUDIT_KAFKA_ENABLED",
    description: "Produce audit events to the audit topic (they are always logged)",
  }),
  auditTopic: optional(topicName, {
    env: "GATEWAY_AUDIT_TOPIC",
    description: "Audit topic, created if missing",
    defaultNote: "_kgate_<cluster id>_auditlogs",
    details: "with 3 partitions",
  }),
  auditTopicReplicationFactor: withDefault(replicationFactor, -1, {
    env: "GATEWAY_AUDIT_TOPIC_REPLICATION_FACTOR",
    description: "Replication factor of a created audit topic",
    defaultNote: "the cluster's default",
  }),
  auditQueueSize: withDefault(integer(1, 10000000), 10000, {
    env: "GATEWAY_AUDIT_QUEUE_SIZE",
    description: "Most audit events waiting to be produced; beyond it events are dropped and counted",
    details: "the drops are reported in the log every 10 s",
  }),
  adminApiUsers: withDefault(userList, [DEFAULT_ADMIN_USER], {
    env: "GATEWAY_ADMIN_API_USERS",
    description: "Users of the HTTP API, as a JSON list (basic auth on /api/* and, when secured, /metrics)",
    details: "change the default in production",
    secret: true,
  }),
  securedMetrics: withDefault(bool, false, {
    env: "GATEWAY_SECURED_METRICS",
    description: "Require HTTP basic auth on /metrics",
  }),
  httpsCertFile: optional(nonEmpty("a file path"), {
    env: "GATEWAY_HTTPS_CERT_FILE",
    description: "PEM certificate file; with GATEWAY_HTTPS_KEY_FILE the HTTP API serves HTTPS",
  }),
  httpsKeyFile: optional(nonEmpty("a file path"), {
    env: "GATEWAY_HTTPS_KEY_FILE",
    description: "PEM private key file of the HTTPS certificate",
  }),
  logLevel: withDefault(oneOf(["trace", "debug", "info", "warning", "error", "fatal"]), "info", {
    env: "GATEWAY_LOG_LEVEL",
    description: "Log level",
  }),
  logFormat: withDefault(oneOf(["text", "json"]), "text", {
    env: "GATEWAY_LOG_FORMAT",
    description: "Log format",
    details: "json = JSON lines",
  }),
});

/** The settings as the object schema parses them, before the defaults that depend on other settings. */
type Settings = z.output<typeof settings>;
/** A key of a setting: a field of {@link GatewayConfig}. */
export type SettingKey = keyof GatewayConfig;

/** One setting with its key, as `--help`, the README table and masking read it. */
export interface SettingSpec extends SettingMeta {
  /** Key in {@link GatewayConfig}. */
  key: SettingKey;
}

/** Every setting, in `--help` order. */
export const SETTINGS: readonly SettingSpec[] = Object.entries(settings.shape).map(([key, schema]) => {
  const meta = settingDocs.get(schema);
  if (!meta || !isSettingKey(key)) throw new Error(`setting ${key} has no documentation`);
  return { key, ...meta };
});

function isSettingKey(key: string): key is SettingKey {
  return key in settings.shape;
}

/** The setting stored under `key`. */
export function settingOf(key: SettingKey): SettingSpec {
  const setting = SETTINGS.find((s) => s.key === key);
  if (!setting) throw new Error(`no setting ${key}`);
  return setting;
}

/**
 * A rule between settings was broken: the issue names the setting at fault (its path), the value and
 * what is allowed, carried in the issue's params.
 */
export interface RuleParams {
  /** The raw value at fault; undefined reads "is required". */
  value: string | undefined;
  /** What is allowed. */
  allowed: string;
}

function breaks(ctx: z.RefinementCtx, key: SettingKey, params: RuleParams): void {
  ctx.addIssue({ code: "custom", path: [key], message: params.allowed, params });
}

/** The default node id: behind an external load balancer every node advertises the same host. */
function defaultNodeId(config: Settings): string {
  const host = config.internalLoadBalancing ? config.advertisedHost : defaultHostname();
  return `${host}:${config.portStart}`;
}

/**
 * The settings with the rules between them and the defaults that depend on other settings; the first
 * broken rule is the one reported.
 *
 * Hidden from the docs (`@ignore`): its type is inferred, and documented as {@link GatewayConfig}.
 *
 * @ignore
 */
export const GatewayConfigSchema = settings
  .superRefine((config, ctx) => {
    const nodeId = config.nodeId ?? defaultNodeId(config);
    if (!NODE_ID.test(nodeId)) {
      breaks(ctx, "nodeId", {
        value: undefined,
        allowed: `${nodeIdChars} (the default ${JSON.stringify(nodeId)} has others)`,
      });
    }
  })
  .superRefine((config, ctx) => {
    if ((config.kafkaSslCertFile === undefined) !== (config.kafkaSslKeyFile === undefined)) {
      breaks(ctx, config.kafkaSslCertFile === undefined ? "kafkaSslCertFile" : "kafkaSslKeyFile", {
        value: undefined,
        allowed: "a file path (mTLS to the brokers needs both the certificate and the key)",
      });
    }
  })
  .superRefine((config, ctx) => {
    if (!config.kafkaSecurityProtocol.startsWith("SASL_")) return;
    if (config.kafkaSaslJaasConfig === undefined) {
      // PLAIN without credentials stays allowed (as before: the broker refuses the empty login).
      if (config.kafkaSaslMechanism !== "PLAIN") {
        breaks(ctx, "kafkaSaslJaasConfig", {
          value: undefined,
          allowed: `a JAAS line with the credentials for ${
            settingOf("kafkaSaslMechanism").env
          }=${config.kafkaSaslMechanism}`,
        });
      }
      return;
    }
    try {
      saslCredentials(config.kafkaSaslMechanism, config.kafkaSaslJaasConfig);
    } catch (error) {
      if (!(error instanceof JaasError)) throw error;
      // The message names modules and options, never a value: the JAAS line is a secret.
      breaks(ctx, "kafkaSaslJaasConfig", {
        value: config.kafkaSaslJaasConfig, // masked in the error: a secret
        allowed: `a JAAS line for ${
          settingOf("kafkaSaslMechanism").env
        }=${config.kafkaSaslMechanism}: ${error.message}`,
      });
    }
  })
  .superRefine((config, ctx) => {
    if ((config.httpsCertFile === undefined) !== (config.httpsKeyFile === undefined)) {
      breaks(ctx, config.httpsCertFile === undefined ? "httpsCertFile" : "httpsKeyFile", {
        value: undefined,
        allowed: "a file path (HTTPS needs both the certificate and the key)",
      });
    }
  })
  .superRefine((config, ctx) => {
    if (config.gatewaySecurityProtocol !== "SSL") return;
    for (const key of ["gatewaySslCertFile", "gatewaySslKeyFile"] as const) {
      if (config[key] === undefined) {
        breaks(ctx, key, {
          value: undefined,
          allowed: "a file path (GATEWAY_SECURITY_PROTOCOL=SSL needs a certificate and its key)",
        });
        return;
      }
    }
    if (config.gatewaySslClientAuth !== "none" && config.gatewaySslCaFile === undefined) {
      breaks(ctx, "gatewaySslCaFile", {
        value: undefined,
        allowed: `a file path (GATEWAY_SSL_CLIENT_AUTH=${config.gatewaySslClientAuth} verifies client ` +
          "certificates against it)",
      });
    }
  })
  .superRefine((config, ctx) => {
    const session = config.groupSessionTimeoutMs;
    if (config.groupHeartbeatIntervalMs >= session) {
      breaks(ctx, "groupHeartbeatIntervalMs", {
        value: String(config.groupHeartbeatIntervalMs),
        allowed: `an interval below ${settingOf("groupSessionTimeoutMs").env} (${session})`,
      });
    }
  })
  .transform((config) => ({ ...config, nodeId: config.nodeId ?? defaultNodeId(config) }));

/** The validated configuration of one gateway node. */
export type GatewayConfig = ReturnType<typeof GatewayConfigSchema.parse>;
/** Log output formats. */
export type LogFormat = GatewayConfig["logFormat"];
/** Log levels accepted by `GATEWAY_LOG_LEVEL`. */
export type LogLevelName = GatewayConfig["logLevel"];
/** Security protocols the gateway's own upstream connections support. */
export type UpstreamSecurityProtocol = GatewayConfig["kafkaSecurityProtocol"];
/** Security protocols of the Kafka listeners. */
export type GatewaySecurityProtocol = GatewayConfig["gatewaySecurityProtocol"];
/** Whether the Kafka listeners ask for client certificates. */
export type ClientAuthMode = GatewayConfig["gatewaySslClientAuth"];
