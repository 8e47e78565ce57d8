/**
 * The Kafka listeners of a node: the proxy server over its broker directory, mapping, metrics and
 * audit log.
 *
 * @module
 */
import type { AuditLog } from "../audit/audit_log.ts";
import type { BrokerEndpointMapper } from "../cluster/mapping.ts";
import type { GatewayConfig } from "../config/mod.ts";
import { settleWithin } from "../lib/deadline.ts";
import type { GatewayMetrics } from "../metrics.ts";
import { parseCidr } from "../lib/cidr.ts";
import { proxyProtocolParser } from "../proxy/transport/proxy_header.ts";
import { gatewayFilters, supportedVersionRange } from "../proxy/filters/mod.ts";
import { nodeConnections, ProxyServer, type TlsServerOptions } from "../proxy/server.ts";
import type { BrokerDirectory } from "../upstream/broker_directory.ts";
import { upstreamConnector } from "../proxy/transport/upstream.ts";
import { upstreamSecurity } from "../upstream/security.ts";
import { proxyEventsToMetricsAndAudit } from "./proxy_events.ts";

/** A connection to an unknown broker's port refreshes the broker list at most this often. */
const UNKNOWN_BROKER_REFRESH_MS = 1000;
/** The longest a connection waits for that refresh before it is routed with what the node knows. */
const UNKNOWN_BROKER_REFRESH_WAIT_MS = 2000;

/** What the listeners are assembled from. */
export interface KafkaListenerParts {
  /** The node's configuration (bind address, ports, limits, PROXY protocol). */
  readonly config: GatewayConfig;
  /** How many ports to listen on (see `kafkaPortCount`). */
  readonly portCount: number;
  /** The upstream brokers, their API versions, and refreshes. */
  readonly directory: BrokerDirectory;
  /** Advertised endpoints of the brokers in rewritten responses. */
  readonly mapper: BrokerEndpointMapper;
  /** Connection, byte, request and mapping metrics. */
  readonly metrics: GatewayMetrics;
  /** CONNECTION entries. */
  readonly audit: AuditLog;
  /** TLS of the listeners (`GATEWAY_SECURITY_PROTOCOL=SSL`); plaintext when undefined. */
  readonly tls?: TlsServerOptions;
}

/**
 * The listeners of a node, not yet listening (`listen()` binds every port, `close()` stops).
 *
 * @example
 * ```ts
 * const listeners = kafkaListeners({ config, portCount, directory, mapper, metrics, audit });
 * listeners.listen();
 * ```
 */
export function kafkaListeners(
  { config, portCount, directory, mapper, metrics, audit, tls }: KafkaListenerParts,
): ProxyServer {
  return new ProxyServer({
    bindHost: config.bindHost,
    portStart: config.portStart,
    portCount,
    minBrokerId: config.minBrokerId,
    maxFrameBytes: config.maxFrameBytes,
    upstreamConnectTimeoutMs: config.upstreamConnectTimeoutMs,
    connectUpstream: upstreamConnector(upstreamSecurity(config).tls),
    broker: (id) => directory.broker(id),
    anyBroker: () => directory.anyBroker(),
    // The broker may be back (or new) since the last refresh: look before routing elsewhere. At most
    // one refresh a second for all such connections, and none waits longer than a bounded time.
    refreshBrokers: async () => {
      await settleWithin(
        directory.refreshIfOlderThan(UNKNOWN_BROKER_REFRESH_MS),
        AbortSignal.timeout(UNKNOWN_BROKER_REFRESH_WAIT_MS),
      );
    },
    filters: (clientAddress) =>
      gatewayFilters({
        supportedVersions: (apiKey) => supportedVersionRange(apiKey, directory.apiVersions().get(apiKey)),
        metrics,
        rewrite: {
          clientAddress,
          mapper: (brokers, request) => {
            metrics.mappingRequests.inc();
            return mapper(brokers, request);
          },
          knownBrokers: () => directory.brokers(),
          onUnknownBroker: () => directory.requestRefresh(),
        },
      }),
    proxyProtocol: config.haproxyProtocol
      ? {
        parse: proxyProtocolParser,
        timeoutMs: config.proxyProtocolTimeoutMs,
        trusted: config.proxyProtocolTrustedCidrs?.map((cidr) => parseCidr(cidr)!),
      }
      : undefined,
    tls,
    events: proxyEventsToMetricsAndAudit(metrics, audit),
    // One tracker for the node: the caps count every listener's connections.
    connections: nodeConnections({
      maxConnections: config.maxConnections,
      maxConnectionsPerIp: config.maxConnectionsPerIp,
      idleMs: config.connectionsMaxIdleMs,
      firstFrameMs: config.firstFrameTimeoutMs,
    }, config.badPeerLogLimit),
  });
}
