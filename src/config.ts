/**
 * Gateway configuration: one declarative table of settings, read from environment variables
 * (Conduktor Gateway names) and equal CLI flags, validated with zod.
 *
 * The CLI flag of a setting is its variable name in kebab case without the `GATEWAY_` prefix:
 * `GATEWAY_PORT_START` is `--port-start`, `KAFKA_BOOTSTRAP_SERVERS` is `--kafka-bootstrap-servers`.
 * A flag wins over the variable.
 *
 * @module
 */
import { z } from "zod";
import { parseCidr } from "./proxy/cidr.ts";

/** Log output formats. */
export type LogFormat = "text" | "json";
/** Log levels accepted by `GATEWAY_LOG_LEVEL`. */
export type LogLevelName = "trace" | "debug" | "info" | "warning" | "error" | "fatal";
/** Security protocols the gateway's own upstream connections support. */
export type UpstreamSecurityProtocol = "PLAINTEXT" | "SASL_PLAINTEXT";

/** The validated configuration of one gateway node. */
export interface GatewayConfig {
  /** Upstream bootstrap servers, `host:port` each. */
  kafkaBootstrapServers: { host: string; port: number }[];
  /** Security protocol of the gateway's own connections (metadata discovery). */
  kafkaSecurityProtocol: UpstreamSecurityProtocol;
  /** SASL mechanism of the gateway's own connections. */
  kafkaSaslMechanism: "PLAIN";
  /** JAAS configuration carrying the gateway's own SASL credentials (secret). */
  kafkaSaslJaasConfig: string | undefined;
  /** Address the Kafka listeners bind to. */
  bindHost: string;
  /** Host advertised to clients for every broker. */
  advertisedHost: string;
  /** First Kafka port. */
  portStart: number;
  /** Number of Kafka ports; undefined = derived from the discovered brokers. */
  portCount: number | undefined;
  /** Broker id served by `portStart`. */
  minBrokerId: number;
  /** HTTP API port. */
  httpPort: number;
  /** Gateway cluster id (nodes with the same id form one cluster). */
  clusterId: string;
  /** Rack (zone) of this node. */
  rackId: string | undefined;
  /** Map brokers to live nodes (true) or advertise `advertisedHost` for all (false). */
  internalLoadBalancing: boolean;
  /** How a client's turn in the broker-to-node mapping is chosen. */
  loadBalancingPolicy: "round-robin" | "client-sticky";
  /** Kafka consumer group of the gateway nodes; undefined = `_kgate_<clusterId>`. */
  groupId: string | undefined;
  /** Internal topic the membership group subscribes to; undefined = `_kgate_<clusterId>_members`. */
  membersTopic: string | undefined;
  /** Replication factor of a created members topic; -1 = the cluster's default. */
  membersTopicReplicationFactor: number;
  /** Membership group session timeout, in milliseconds. */
  groupSessionTimeoutMs: number;
  /** Membership group heartbeat interval, in milliseconds. */
  groupHeartbeatIntervalMs: number;
  /** How long a stopping node keeps serving its connected clients after leaving the group, in milliseconds. */
  drainMs: number;
  /** Require a PROXY protocol header on every Kafka connection. */
  haproxyProtocol: boolean;
  /** Largest request frame a client may send, in bytes. */
  maxFrameBytes: number;
  /** How often the upstream broker list is refreshed, in milliseconds. */
  metadataRefreshMs: number;
  /** Timeout for connecting to a broker, in milliseconds. */
  upstreamConnectTimeoutMs: number;
  /** This node's id (audit entries, cluster membership). */
  nodeId: string;
  /** How long a client may take to send its PROXY header, in milliseconds. */
  proxyProtocolTimeoutMs: number;
  /** Peers allowed to send a PROXY header; undefined = any peer. */
  proxyProtocolTrustedCidrs: string[] | undefined;
  /** Produce audit events to Kafka (they are always logged). */
  auditKafkaEnabled: boolean;
  /** Audit topic; undefined = `_kgate_<clusterId>_auditlogs`. */
  auditTopic: string | undefined;
  /** Replication factor of a created audit topic; -1 = the cluster's default. */
  auditTopicReplicationFactor: number;
  /** Most audit events waiting to be produced; more are dropped and counted. */
  auditQueueSize: number;
  /** Users of the HTTP API (basic auth on /api/* and, when secured, /metrics). */
  adminApiUsers: { username: string; password: string }[];
  /** Require authentication on /metrics. */
  securedMetrics: boolean;
  /** PEM certificate file: the HTTP API serves HTTPS when it and the key are set. */
  httpsCertFile: string | undefined;
  /** PEM private key file of the HTTPS certificate. */
  httpsKeyFile: string | undefined;
  /** Log level. */
  logLevel: LogLevelName;
  /** Log format. */
  logFormat: LogFormat;
}

/** One row of the settings table. */
export interface SettingSpec {
  /** Environment variable name. */
  env: string;
  /** Key in {@link GatewayConfig}. */
  key: keyof GatewayConfig;
  /** One-line description for `--help` and the README. */
  description: string;
  /** Default shown in `--help` (undefined = no default). */
  defaultText?: string;
  /** What values are allowed, for error messages. */
  allowed: string;
  /** Parser from the raw string (a zod schema); its failure means the value is not allowed. */
  schema: { safeParse(value: string): { success: true; data: unknown } | { success: false } };
  /** The value must be given. */
  required?: boolean;
  /** The value is a secret and is never printed. */
  secret?: boolean;
  /** Computes the default when the setting is absent. */
  defaultValue?: () => unknown;
}

const port = z.coerce.number().int().min(1).max(65535);
const bool = z.enum(["true", "false"]).transform((v) => v === "true");
const hostPort = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;

function parseHostPort(entry: string): { host: string; port: number } | undefined {
  const m = hostPort.exec(entry.trim());
  if (!m) return undefined;
  const portNumber = Number(m[2]);
  if (portNumber < 1 || portNumber > 65535) return undefined;
  return { host: m[1].replace(/^\[|\]$/g, ""), port: portNumber };
}

const bootstrapServers = z.string().transform((raw, ctx) => {
  const entries = raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  const parsed = entries.map(parseHostPort);
  if (entries.length === 0 || parsed.some((p) => p === undefined)) {
    ctx.addIssue({ code: "custom", message: "bad host:port list" });
    return z.NEVER;
  }
  return parsed as { host: string; port: number }[];
});

function defaultHostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "localhost";
  }
}

/** Every setting, in `--help` order. */
export const SETTINGS: readonly SettingSpec[] = [
  {
    env: "KAFKA_BOOTSTRAP_SERVERS",
    key: "kafkaBootstrapServers",
    description: "Upstream Kafka bootstrap servers",
    allowed: "a comma-separated list of host:port",
    schema: bootstrapServers,
    required: true,
  },
  {
    env: "KAFKA_SECURITY_PROTOCOL",
    key: "kafkaSecurityProtocol",
    description: "Security protocol of the gateway's own upstream connections",
    defaultText: "PLAINTEXT",
    allowed: "PLAINTEXT or SASL_PLAINTEXT",
    schema: z.enum(["PLAINTEXT", "SASL_PLAINTEXT"]),
    defaultValue: () => "PLAINTEXT",
  },
  {
    env: "KAFKA_SASL_MECHANISM",
    key: "kafkaSaslMechanism",
    description: "SASL mechanism of the gateway's own upstream connections",
    defaultText: "PLAIN",
    allowed: "PLAIN",
    schema: z.enum(["PLAIN"]),
    defaultValue: () => "PLAIN",
  },
  {
    env: "KAFKA_SASL_JAAS_CONFIG",
    key: "kafkaSaslJaasConfig",
    description: "JAAS config with the gateway's own credentials (PlainLoginModule username/password)",
    allowed: 'org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";',
    schema: z.string().regex(/username="[^"]*"/).regex(/password="[^"]*"/),
    secret: true,
  },
  {
    env: "GATEWAY_BIND_HOST",
    key: "bindHost",
    description: "Address the Kafka listeners bind to",
    defaultText: "0.0.0.0",
    allowed: "an IP address or host name",
    schema: z.string().min(1),
    defaultValue: () => "0.0.0.0",
  },
  {
    env: "GATEWAY_ADVERTISED_HOST",
    key: "advertisedHost",
    description: "Host advertised to clients",
    defaultText: "the machine's hostname",
    allowed: "a host name or IP address",
    schema: z.string().min(1).regex(/^[^\s:]+$|^[0-9a-fA-F:]+$/),
    defaultValue: defaultHostname,
  },
  {
    env: "GATEWAY_PORT_START",
    key: "portStart",
    description: "First Kafka port; port start + (brokerId - min) serves that broker",
    defaultText: "6969",
    allowed: "an integer from 1 to 65535",
    schema: port,
    defaultValue: () => 6969,
  },
  {
    env: "GATEWAY_PORT_COUNT",
    key: "portCount",
    description: "Number of Kafka ports",
    defaultText: "max broker id - min broker id + 3",
    allowed: "an integer from 1 to 10000",
    schema: z.coerce.number().int().min(1).max(10000),
  },
  {
    env: "GATEWAY_MIN_BROKERID",
    key: "minBrokerId",
    description: "Broker id served by the first port",
    defaultText: "0",
    allowed: "an integer from 0 to 2147483647",
    schema: z.coerce.number().int().min(0).max(2147483647),
    defaultValue: () => 0,
  },
  {
    env: "GATEWAY_HTTP_PORT",
    key: "httpPort",
    description: "HTTP API port",
    defaultText: "8888",
    allowed: "an integer from 1 to 65535",
    schema: port,
    defaultValue: () => 8888,
  },
  {
    env: "GATEWAY_CLUSTER_ID",
    key: "clusterId",
    description: "Gateway cluster id; nodes with the same id form one cluster",
    defaultText: "gateway",
    allowed: "letters, digits, '.', '_' and '-'",
    schema: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/),
    defaultValue: () => "gateway",
  },
  {
    env: "GATEWAY_RACK_ID",
    key: "rackId",
    description: "Rack (zone) of this node",
    allowed: "a non-empty string",
    schema: z.string().min(1),
  },
  {
    env: "GATEWAY_FEATURE_FLAGS_INTERNAL_LOAD_BALANCING",
    key: "internalLoadBalancing",
    description: "Map brokers to live gateway nodes; false = advertise GATEWAY_ADVERTISED_HOST",
    defaultText: "true",
    allowed: "true or false",
    schema: bool,
    defaultValue: () => true,
  },
  {
    env: "GATEWAY_LOAD_BALANCING_POLICY",
    key: "loadBalancingPolicy",
    description:
      "Internal load balancing: round-robin = every Metadata request takes the next turn; client-sticky = one turn per client host and client id, the same on every node",
    defaultText: "round-robin",
    allowed: "round-robin or client-sticky",
    schema: z.enum(["round-robin", "client-sticky"]),
    defaultValue: () => "round-robin",
  },
  {
    env: "GATEWAY_GROUP_ID",
    key: "groupId",
    description: "Kafka consumer group through which the gateway nodes know each other",
    defaultText: "_kgate_<cluster id>",
    allowed: "letters, digits, '.', '_' and '-'",
    schema: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/),
  },
  {
    env: "GATEWAY_MEMBERS_TOPIC",
    key: "membersTopic",
    description: "Internal topic of the membership group (compacted, 1 partition), created if missing",
    defaultText: "_kgate_<cluster id>_members",
    allowed: "a Kafka topic name (letters, digits, '.', '_', '-')",
    schema: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/),
  },
  {
    env: "GATEWAY_MEMBERS_TOPIC_REPLICATION_FACTOR",
    key: "membersTopicReplicationFactor",
    description: "Replication factor of a created members topic",
    defaultText: "-1 (the cluster's default)",
    allowed: "-1 or an integer from 1 to 32767",
    schema: z.coerce.number().int().min(-1).max(32767).refine((n) => n !== 0),
    defaultValue: () => -1,
  },
  {
    env: "GATEWAY_GROUP_SESSION_TIMEOUT_MS",
    key: "groupSessionTimeoutMs",
    description:
      "Session timeout of the membership group: a node that stops heartbeating is dropped after it",
    defaultText: "10000",
    allowed: "an integer from 1000 to 600000 (within the brokers' group.min/max.session.timeout.ms)",
    schema: z.coerce.number().int().min(1000).max(600000),
    defaultValue: () => 10000,
  },
  {
    env: "GATEWAY_GROUP_HEARTBEAT_INTERVAL_MS",
    key: "groupHeartbeatIntervalMs",
    description: "Heartbeat interval of the membership group",
    defaultText: "3000",
    allowed: "an integer from 100 to 600000, below the session timeout",
    schema: z.coerce.number().int().min(100).max(600000),
    defaultValue: () => 3000,
  },
  {
    env: "GATEWAY_DRAIN_MS",
    key: "drainMs",
    description:
      "On SIGTERM/SIGINT: how long the node keeps serving connected clients after leaving the group",
    defaultText: "5000",
    allowed: "an integer from 0 to 3600000",
    schema: z.coerce.number().int().min(0).max(3600000),
    defaultValue: () => 5000,
  },
  {
    env: "GATEWAY_FEATURE_FLAGS_HAPROXY_PROTOCOL",
    key: "haproxyProtocol",
    description: "Require a PROXY protocol v1/v2 header on every Kafka connection",
    defaultText: "false",
    allowed: "true or false",
    schema: bool,
    defaultValue: () => false,
  },
  {
    env: "GATEWAY_MAX_FRAME_BYTES",
    key: "maxFrameBytes",
    description: "Largest request frame a client may send (as Kafka's socket.request.max.bytes)",
    defaultText: "104857600",
    allowed: "an integer from 1024 to 2147483647",
    schema: z.coerce.number().int().min(1024).max(2147483647),
    defaultValue: () => 104857600,
  },
  {
    env: "GATEWAY_METADATA_REFRESH_MS",
    key: "metadataRefreshMs",
    description: "How often the upstream broker list is refreshed",
    defaultText: "30000",
    allowed: "an integer from 100 to 86400000",
    schema: z.coerce.number().int().min(100).max(86400000),
    defaultValue: () => 30000,
  },
  {
    env: "GATEWAY_UPSTREAM_CONNECT_TIMEOUT_MS",
    key: "upstreamConnectTimeoutMs",
    description: "Timeout for connecting to a broker",
    defaultText: "10000",
    allowed: "an integer from 100 to 600000",
    schema: z.coerce.number().int().min(100).max(600000),
    defaultValue: () => 10000,
  },
  {
    env: "GATEWAY_NODE_ID",
    key: "nodeId",
    description: "This node's id, unique in the gateway cluster",
    defaultText: "<advertised host>:<port start> (external load balancing: <hostname>:<port start>)",
    allowed: "letters, digits, '.', ':', '_' and '-'",
    schema: z.string().regex(/^[A-Za-z0-9.:_-]{1,200}$/),
  },
  {
    env: "GATEWAY_PROXY_PROTOCOL_TIMEOUT_MS",
    key: "proxyProtocolTimeoutMs",
    description: "How long a client may take to send its PROXY protocol header",
    defaultText: "3000",
    allowed: "an integer from 100 to 600000",
    schema: z.coerce.number().int().min(100).max(600000),
    defaultValue: () => 3000,
  },
  {
    env: "GATEWAY_PROXY_PROTOCOL_TRUSTED_CIDRS",
    key: "proxyProtocolTrustedCidrs",
    description: "Peers allowed to send a PROXY protocol header; a header from any other peer is refused",
    defaultText: "any peer",
    allowed: "a comma-separated list of IPv4/IPv6 CIDRs or addresses, e.g. 10.0.0.0/8,::1",
    schema: z.string().transform((raw, ctx) => {
      const entries = raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
      if (entries.length === 0 || entries.some((e) => parseCidr(e) === undefined)) {
        ctx.addIssue({ code: "custom", message: "bad CIDR list" });
        return z.NEVER;
      }
      return entries;
    }),
  },
  {
    env: "GATEWAY_AUDIT_KAFKA_ENABLED",
    key: "auditKafkaEnabled",
    description: "Produce audit events to the audit topic (they are always logged)",
    defaultText: "true",
    allowed: "true or false",
    schema: bool,
    defaultValue: () => true,
  },
  {
    env: "GATEWAY_AUDIT_TOPIC",
    key: "auditTopic",
    description: "Audit topic, created if missing",
    defaultText: "_kgate_<cluster id>_auditlogs",
    allowed: "a Kafka topic name (letters, digits, '.', '_', '-')",
    schema: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/),
  },
  {
    env: "GATEWAY_AUDIT_TOPIC_REPLICATION_FACTOR",
    key: "auditTopicReplicationFactor",
    description: "Replication factor of a created audit topic",
    defaultText: "-1 (the cluster's default)",
    allowed: "-1 or an integer from 1 to 32767",
    schema: z.coerce.number().int().min(-1).max(32767).refine((n) => n !== 0),
    defaultValue: () => -1,
  },
  {
    env: "GATEWAY_AUDIT_QUEUE_SIZE",
    key: "auditQueueSize",
    description: "Most audit events waiting to be produced; beyond it events are dropped and counted",
    defaultText: "10000",
    allowed: "an integer from 1 to 10000000",
    schema: z.coerce.number().int().min(1).max(10000000),
    defaultValue: () => 10000,
  },
  {
    env: "GATEWAY_ADMIN_API_USERS",
    key: "adminApiUsers",
    description: "Users of the HTTP API, as a JSON list (basic auth on /api/* and, when secured, /metrics)",
    defaultText: '[{"username":"admin","password":"kgate"}]',
    allowed: 'a JSON list like [{"username":"admin","password":"secret"}] with at least one user',
    schema: z.string().transform((raw, ctx) => {
      const users = z.array(z.object({ username: z.string().min(1), password: z.string().min(1) })).min(1);
      try {
        const parsed = users.safeParse(JSON.parse(raw));
        if (parsed.success) return parsed.data;
      } catch {
        // not JSON
      }
      ctx.addIssue({ code: "custom", message: "bad user list" });
      return z.NEVER;
    }),
    secret: true,
    defaultValue: () => [{ username: "admin", password: "kgate" }],
  },
  {
    env: "GATEWAY_SECURED_METRICS",
    key: "securedMetrics",
    description: "Require HTTP basic auth on /metrics",
    defaultText: "false",
    allowed: "true or false",
    schema: bool,
    defaultValue: () => false,
  },
  {
    env: "GATEWAY_HTTPS_CERT_FILE",
    key: "httpsCertFile",
    description: "PEM certificate file; with GATEWAY_HTTPS_KEY_FILE the HTTP API serves HTTPS",
    allowed: "a file path",
    schema: z.string().min(1),
  },
  {
    env: "GATEWAY_HTTPS_KEY_FILE",
    key: "httpsKeyFile",
    description: "PEM private key file of the HTTPS certificate",
    allowed: "a file path",
    schema: z.string().min(1),
  },
  {
    env: "GATEWAY_LOG_LEVEL",
    key: "logLevel",
    description: "Log level",
    defaultText: "info",
    allowed: "trace, debug, info, warning, error or fatal",
    schema: z.enum(["trace", "debug", "info", "warning", "error", "fatal"]),
    defaultValue: () => "info",
  },
  {
    env: "GATEWAY_LOG_FORMAT",
    key: "logFormat",
    description: "Log format",
    defaultText: "text",
    allowed: "text or json",
    schema: z.enum(["text", "json"]),
    defaultValue: () => "text",
  },
];

/** The CLI flag of a setting: its variable in kebab case, without the `GATEWAY_` prefix. */
export function flagName(env: string): string {
  return env.replace(/^GATEWAY_/, "").toLowerCase().replaceAll("_", "-");
}

/** A configuration value that is missing or not allowed. */
export class ConfigError extends Error {
  /**
   * An error naming the setting at fault.
   *
   * @param variable the environment variable at fault
   * @param value the raw value given (undefined when missing; secrets are masked)
   * @param allowed what is allowed
   */
  constructor(readonly variable: string, readonly value: string | undefined, readonly allowed: string) {
    super(
      value === undefined
        ? `${variable} is required: ${allowed}`
        : `invalid ${variable}=${JSON.stringify(value)}: expected ${allowed}`,
    );
    this.name = "ConfigError";
  }
}

/**
 * Builds a validated configuration from raw values keyed by environment variable name.
 *
 * @example
 * ```ts
 * const config = parseConfig({ KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:9092" });
 * console.log(config.portStart); // 6969
 * ```
 * @throws {ConfigError} naming the first variable that is missing or not allowed
 */
export function parseConfig(raw: Record<string, string | undefined>): GatewayConfig {
  const config: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const value = raw[setting.env];
    if (value === undefined || value === "") {
      if (setting.required) throw new ConfigError(setting.env, undefined, setting.allowed);
      config[setting.key] = setting.defaultValue?.();
      continue;
    }
    const result = setting.schema.safeParse(value);
    if (!result.success) {
      throw new ConfigError(setting.env, setting.secret ? "<redacted>" : value, setting.allowed);
    }
    config[setting.key] = result.data;
  }
  const gateway = config as unknown as GatewayConfig;
  if (gateway.nodeId === undefined) {
    // Behind an external load balancer every node advertises the same host: the machine name tells them apart.
    const host = gateway.internalLoadBalancing ? gateway.advertisedHost : defaultHostname();
    gateway.nodeId = `${host}:${gateway.portStart}`;
    if (!/^[A-Za-z0-9.:_-]{1,200}$/.test(gateway.nodeId)) {
      throw new ConfigError(
        "GATEWAY_NODE_ID",
        undefined,
        `letters, digits, '.', ':', '_' and '-' (the default ${JSON.stringify(gateway.nodeId)} has others)`,
      );
    }
  }
  if ((gateway.httpsCertFile === undefined) !== (gateway.httpsKeyFile === undefined)) {
    const missing = gateway.httpsCertFile === undefined
      ? "GATEWAY_HTTPS_CERT_FILE"
      : "GATEWAY_HTTPS_KEY_FILE";
    throw new ConfigError(missing, undefined, "a file path (HTTPS needs both the certificate and the key)");
  }
  if (gateway.groupHeartbeatIntervalMs >= gateway.groupSessionTimeoutMs) {
    throw new ConfigError(
      "GATEWAY_GROUP_HEARTBEAT_INTERVAL_MS",
      String(gateway.groupHeartbeatIntervalMs),
      `an interval below GATEWAY_GROUP_SESSION_TIMEOUT_MS (${gateway.groupSessionTimeoutMs})`,
    );
  }
  return gateway;
}

/**
 * Reads the raw settings from the environment, then lets CLI flag values override them.
 *
 * @param env environment variables (e.g. `Deno.env.toObject()`)
 * @param flags values of CLI flags keyed by flag name (without `--`)
 */
export function rawSettings(
  env: Record<string, string>,
  flags: Record<string, string | undefined>,
): Record<string, string | undefined> {
  const raw: Record<string, string | undefined> = {};
  for (const setting of SETTINGS) {
    raw[setting.env] = flags[flagName(setting.env)] ?? env[setting.env];
  }
  return raw;
}

/** Extracts the username and password of a PlainLoginModule JAAS line. */
export function plainCredentials(jaas: string): { username: string; password: string } {
  const username = /username="([^"]*)"/.exec(jaas)?.[1] ?? "";
  const password = /password="([^"]*)"/.exec(jaas)?.[1] ?? "";
  return { username, password };
}

/** The configuration as printable key/values with every secret redacted. */
export function redactedConfig(config: GatewayConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const value = config[setting.key];
    // null, not undefined: an unset setting still shows in JSON.
    out[setting.env] = setting.secret && value !== undefined ? "<redacted>" : value ?? null;
  }
  return out;
}

/** `--help` text listing every setting with its flag and default. */
export function helpText(version: string): string {
  const lines = [
    `kgate ${version}: a Kafka protocol gateway`,
    "",
    "Usage: kgate [--flag value ...]   (every flag has an equal environment variable)",
    "",
    "Settings:",
  ];
  for (const s of SETTINGS) {
    const def = s.required ? "required" : s.defaultText ? `default: ${s.defaultText}` : "default: unset";
    lines.push(`  --${flagName(s.env)}  (${s.env})`);
    lines.push(`      ${s.description}. ${def}. Allowed: ${s.allowed}`);
  }
  lines.push("", "  --help      Show this help", "  --version   Show the version");
  return lines.join("\n");
}
