/**
 * One gateway node assembled: upstream broker discovery, the broker mapping and the Kafka listeners.
 *
 * @module
 */
import { type BrokerEndpointMapper, singleHostMapping } from "./cluster/mapping.ts";
import type { GatewayConfig } from "./config.ts";
import { logger } from "./log.ts";
import { type ConnectionInfo, ProxyServer } from "./proxy/server.ts";
import { AuditLog, type ConnectionAuditEvent } from "./audit/audit_log.ts";
import { GatewayMetrics } from "./metrics.ts";
import { KafkaAuditSink } from "./audit/kafka_sink.ts";
import { parseCidr } from "./proxy/cidr.ts";
import type { ProxyHeaderParser } from "./proxy/proxy_header.ts";
import { formatEndpoint, parseProxyHeader, type ProxyTlvs } from "./proxy_protocol/mod.ts";
import { supportedVersionRange } from "./proxy/rewrite.ts";
import { BrokerDirectory } from "./upstream/broker_directory.ts";

const log = logger("gateway");

/** A connection to an unknown broker's port refreshes the broker list at most this often. */
const UNKNOWN_BROKER_REFRESH_MS = 1000;

/** A running gateway node. */
export interface Gateway {
  /** The configuration it runs with. */
  readonly config: GatewayConfig;
  /** The upstream brokers as last seen. */
  readonly directory: BrokerDirectory;
  /** The Kafka ports listened on. */
  readonly ports: number[];
  /** The audit log (CONNECTION events). */
  readonly audit: AuditLog;
  /** The node's metrics. */
  readonly metrics: GatewayMetrics;
  /** Stops accepting, closes every connection and the upstream refresh. */
  close(): Promise<void>;
}

/** Options of {@link startGateway}. */
export interface StartOptions {
  /** Aborts the start (e.g. SIGTERM while the upstream cluster is still unreachable). */
  signal?: AbortSignal;
  /** Replaces the broker-to-endpoint choice (the cluster mapping). */
  mapper?: BrokerEndpointMapper;
}

/**
 * Starts a gateway node: waits (retrying with backoff) until the upstream cluster answers, then
 * listens on every Kafka port.
 *
 * @example
 * ```ts
 * const gateway = await startGateway(parseConfig({ KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:9092" }));
 * await gateway.close();
 * ```
 */
export async function startGateway(config: GatewayConfig, options: StartOptions = {}): Promise<Gateway> {
  const directory = new BrokerDirectory(config);
  await directory.start(options.signal);
  const brokerIds = directory.brokers().map((b) => b.nodeId);
  const portCount = config.portCount ?? Math.max(...brokerIds) - config.minBrokerId + 3;
  for (const id of brokerIds) {
    const offset = id - config.minBrokerId;
    if (offset < 0 || offset >= portCount) {
      log.error(
        "broker {id} has no gateway port (ports serve broker ids {min}-{max}): clients cannot reach it",
        {
          id,
          min: config.minBrokerId,
          max: config.minBrokerId + portCount - 1,
        },
      );
    }
  }
  const mapper = options.mapper ?? singleHostMapping({
    host: config.advertisedHost,
    portStart: config.portStart,
    minBrokerId: config.minBrokerId,
  });
  const audit = new AuditLog({
    nodeId: config.nodeId,
    clusterId: config.clusterId,
    queueSize: config.auditQueueSize,
    sink: config.auditKafkaEnabled ? new KafkaAuditSink(config) : undefined,
  });
  const metrics = new GatewayMetrics({ auditStats: () => audit.stats });
  const server = new ProxyServer({
    bindHost: config.bindHost,
    portStart: config.portStart,
    portCount,
    minBrokerId: config.minBrokerId,
    maxFrameBytes: config.maxFrameBytes,
    upstreamConnectTimeoutMs: config.upstreamConnectTimeoutMs,
    broker: (id) => directory.broker(id),
    anyBroker: () => directory.anyBroker(),
    refreshBrokers: () => directory.refreshIfOlderThan(UNKNOWN_BROKER_REFRESH_MS),
    requestContext: {
      supportedVersions: (apiKey) => supportedVersionRange(apiKey, directory.apiVersions().get(apiKey)),
      observer: {
        request: (apiKey) => metrics.api(apiKey).requests.inc(),
        response: (apiKey, upstreamSeconds, gatewaySeconds, rewritten) => {
          const api = metrics.api(apiKey);
          api.responses.inc();
          api.upstreamSeconds.observe(upstreamSeconds);
          api.gatewaySeconds.observe(gatewaySeconds);
          if (rewritten) api.rewritten.inc();
        },
      },
    },
    proxyProtocol: config.haproxyProtocol
      ? {
        parse: proxyHeaderParser,
        timeoutMs: config.proxyProtocolTimeoutMs,
        trusted: config.proxyProtocolTrustedCidrs?.map((cidr) => parseCidr(cidr)!),
      }
      : undefined,
    events: {
      opened: (info) => {
        metrics.connectionOpened();
        audit.record({ action: "OPEN", ...auditFields(info) });
      },
      closed: (info, end, bytes) => {
        metrics.connectionClosed();
        if (end.kind) metrics.rejected(end.kind);
        audit.record({
          action: "CLOSE",
          ...auditFields(info),
          durationMs: Math.round(performance.now() - info.acceptedAt),
          bytesIn: bytes.in,
          bytesOut: bytes.out,
          closedBy: end.by,
          reason: end.reason,
        });
      },
      bytesIn: (n) => metrics.bytesIn(n),
      bytesOut: (n) => metrics.bytesOut(n),
      rejected: (info, reason, kind) => {
        if (kind === "upstream") metrics.upstreamError();
        metrics.rejected(kind);
        audit.record({ action: "REJECT", ...auditFields(info), reason });
      },
    },
    rewriteContext: (clientAddress) => ({
      clientAddress,
      mapper,
      knownBrokers: () => directory.brokers(),
      onUnknownBroker: () => directory.requestRefresh(),
    }),
  });
  try {
    server.listen();
  } catch (error) {
    directory.close();
    await audit.close(0);
    throw error;
  }
  return {
    config,
    directory,
    audit,
    metrics,
    get ports() {
      return server.ports;
    },
    async close() {
      directory.close();
      await server.close();
      await audit.close();
    },
  };
}

/** The fields of an audit event that describe the connection. */
function auditFields(info: ConnectionInfo): Pick<
  ConnectionAuditEvent,
  "connection" | "proxySourceAddress" | "proxyDestinationAddress" | "proxyTlvs" | "broker"
> {
  const proxied = info.proxied?.command === "PROXY" ? info.proxied : undefined;
  return {
    connection: { localAddress: info.localAddress, remoteAddress: info.clientAddress },
    proxySourceAddress: proxied?.source,
    proxyDestinationAddress: proxied?.destination,
    proxyTlvs: info.proxied?.tlvs,
    broker: info.broker
      ? { id: info.broker.nodeId, host: info.broker.host, port: info.broker.port }
      : undefined,
  };
}

/** The PROXY protocol parser, as the listeners consume it. */
const proxyHeaderParser: ProxyHeaderParser = (bytes) => {
  const result = parseProxyHeader(bytes);
  if (result.kind !== "header") {
    return result.kind === "incomplete" ? result : { kind: "error", message: result.error.message };
  }
  const { header, consumed } = result;
  return {
    kind: "header",
    consumed,
    connection: {
      command: header.command,
      source: header.source ? formatEndpoint(header.source) : undefined,
      destination: header.destination ? formatEndpoint(header.destination) : undefined,
      tlvs: auditTlvs(header.tlvs),
    },
  };
};

/** TLVs as JSON-friendly values (bytes as hex, 64-bit ids as text); undefined when there are none. */
function auditTlvs(tlvs: ProxyTlvs): Record<string, unknown> | undefined {
  const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  const out: Record<string, unknown> = {};
  if (tlvs.alpn !== undefined) out.alpn = tlvs.alpn;
  if (tlvs.authority !== undefined) out.authority = tlvs.authority;
  if (tlvs.crc32c) out.crc32c = { valid: true, value: tlvs.crc32c.value };
  if (tlvs.uniqueId) out.uniqueId = tlvs.uniqueId.hex;
  if (tlvs.ssl) {
    const { unknown, ...ssl } = tlvs.ssl;
    out.ssl = { ...ssl, unknown: unknown.map((t) => ({ type: t.type, value: hex(t.value) })) };
  }
  if (tlvs.netns !== undefined) out.netns = tlvs.netns;
  if (tlvs.aws) out.aws = tlvs.aws;
  if (tlvs.azure) out.azure = tlvs.azure;
  if (tlvs.gcp) out.gcp = { pscConnectionId: tlvs.gcp.pscConnectionIdText };
  if (tlvs.unknown.length > 0) out.unknown = tlvs.unknown.map((t) => ({ type: t.type, value: hex(t.value) }));
  return Object.keys(out).length > 0 ? out : undefined;
}
