/**
 * The Kafka listeners of a node: one proxy server per listener (its ports, TLS and routing) over the
 * node's broker directory, metrics and audit log; each answers with its own listener's mapping.
 *
 * @module
 */
import type { AuditLog } from "../audit/audit_log.ts";
import { brokerOfServerName } from "../cluster/listener_endpoints.ts";
import type { BrokerEndpointMapper } from "../cluster/mapping.ts";
import type { GatewayConfig, ListenerConfig } from "../config/mod.ts";
import { settleWithin } from "../lib/deadline.ts";
import type { GatewayMetrics } from "../metrics.ts";
import { parseCidr } from "../lib/cidr.ts";
import { proxyProtocolParser } from "../proxy/transport/proxy_header.ts";
import { gatewayFilterChain, supportedVersionRange } from "../proxy/filters/mod.ts";
import {
  type NodeConnections,
  nodeConnections,
  ProxyServer,
  type TlsServerOptions,
  type TlsSessionInfo,
} from "../proxy/server.ts";
import type { BrokerDirectory } from "../upstream/broker_directory.ts";
import { upstreamConnector } from "../proxy/transport/upstream.ts";
import { upstreamSecurity } from "../upstream/security.ts";
import { proxyEventsToMetricsAndAudit } from "./proxy_events.ts";
import { logger } from "../log.ts";

const log = logger("proxy");

/** A connection to an unknown broker's port refreshes the broker list at most this often. */
const UNKNOWN_BROKER_REFRESH_MS = 1000;
/** The longest a connection waits for that refresh before it is routed with what the node knows. */
const UNKNOWN_BROKER_REFRESH_WAIT_MS = 2000;

/** One listener as the node assembled it. */
export interface ListenerParts {
  /** Its configuration. */
  readonly listener: ListenerConfig;
  /** How many ports it listens on (host routing: 1). */
  readonly portCount: number;
  /** Advertised endpoints of the brokers in responses on this listener. */
  readonly mapper: BrokerEndpointMapper;
  /** Its TLS; plaintext when undefined. */
  readonly tls?: TlsServerOptions;
}

/** What the listeners are assembled from. */
export interface KafkaListenerParts {
  /** The node's configuration (limits, PROXY protocol, min broker id). */
  readonly config: GatewayConfig;
  /** The listeners, in configuration order. */
  readonly listeners: readonly ListenerParts[];
  /** The upstream brokers, their API versions, and refreshes. */
  readonly directory: BrokerDirectory;
  /** Connection, byte, request and mapping metrics. */
  readonly metrics: GatewayMetrics;
  /** CONNECTION entries. */
  readonly audit: AuditLog;
}

/** The Kafka listeners of a node, not yet listening. */
export interface KafkaListeners {
  /** Binds every port of every listener; fails (closing what was bound) if one cannot be bound. */
  listen(): void;
  /** Stops every listener and its connections. */
  close(): Promise<void>;
  /** Every port listened on. */
  readonly ports: number[];
  /** The ports of each listener, by name. */
  readonly listenerPorts: Record<string, number[]>;
}

/**
 * The broker a connection on `listener` asks for: port routing = the broker of its port; host routing =
 * the broker named by its TLS server name, undefined (any broker: bootstrap) for the advertised host
 * itself, an unknown name or none.
 *
 * @example
 * ```ts
 * const route = listenerRoute(listener, 0);
 * route(6970); // port routing from 6969: broker 1
 * ```
 */
export function listenerRoute(
  listener: ListenerConfig,
  minBrokerId: number,
): (port: number, tls?: TlsSessionInfo) => number | undefined {
  if (listener.routing === "port") return (port) => minBrokerId + (port - listener.portStart);
  const names = { prefix: listener.advertisedHostPrefix, host: listener.advertisedHost };
  return (_port, tls) => brokerOfServerName(tls?.serverName, names);
}

/**
 * The listeners of a node, not yet listening (`listen()` binds every port, `close()` stops).
 *
 * @example
 * ```ts
 * const listeners = kafkaListeners({ config, listeners: parts, directory, metrics, audit });
 * listeners.listen();
 * ```
 */
export function kafkaListeners(
  { config, listeners, directory, metrics, audit }: KafkaListenerParts,
): KafkaListeners {
  // One tracker for the node: the caps count every listener's connections.
  const connections = nodeConnections({
    maxConnections: config.maxConnections,
    maxConnectionsPerIp: config.maxConnectionsPerIp,
    idleMs: config.connectionsMaxIdleMs,
    firstFrameMs: config.firstFrameTimeoutMs,
  }, config.badPeerLogLimit);
  metrics.countClientConnections(() => connections.tracker.size);
  const servers = listeners.map((parts) => ({
    name: parts.listener.name,
    server: proxyServer(config, parts, { directory, metrics, audit, connections }),
  }));
  return {
    listen() {
      const bound: ProxyServer[] = [];
      try {
        for (const { server } of servers) {
          server.listen();
          bound.push(server);
        }
        for (const { listener } of listeners) {
          log.info("listener {name}: {how}", { name: listener.name, how: describe(listener) });
        }
      } catch (error) {
        for (const server of bound) void server.close();
        throw error;
      }
    },
    async close() {
      await Promise.all(servers.map(({ server }) => server.close()));
    },
    get ports() {
      return servers.flatMap(({ server }) => server.ports);
    },
    get listenerPorts() {
      return Object.fromEntries(servers.map(({ name, server }) => [name, server.ports]));
    },
  };
}

function proxyServer(
  config: GatewayConfig,
  { listener, portCount, mapper, tls }: ListenerParts,
  { directory, metrics, audit, connections }: {
    directory: BrokerDirectory;
    metrics: GatewayMetrics;
    audit: AuditLog;
    connections: NodeConnections;
  },
): ProxyServer {
  return new ProxyServer({
    bindHost: listener.bindHost,
    portStart: listener.portStart,
    portCount,
    minBrokerId: config.minBrokerId,
    route: listenerRoute(listener, config.minBrokerId),
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
    // One chain per listener: per connection only its address rewrite is made.
    filters: gatewayFilterChain({
      supportedVersions: (apiKey) => supportedVersionRange(apiKey, directory.apiVersions().get(apiKey)),
      metrics,
      rewrite: {
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
    events: proxyEventsToMetricsAndAudit(metrics, audit, () => connections.badPeers.count("REJECT audit")),
    connections,
  });
}

/** One line on how a listener serves: routing, security, what it advertises. */
function describe(listener: ListenerConfig): string {
  const security = listener.tls ? "SSL" : "PLAINTEXT";
  if (listener.routing === "port") {
    return `${security}, port routing on ${listener.bindHost}:${listener.portStart}+, advertised as ${listener.advertisedHost}`;
  }
  return `${security}, host (SNI) routing on ${listener.bindHost}:${listener.portStart}, advertised as ` +
    `${listener.advertisedHost}:${listener.advertisedSniPort} and ${listener.advertisedHostPrefix}<id>.${listener.advertisedHost}:${listener.advertisedSniPort}`;
}
