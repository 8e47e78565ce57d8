/**
 * One gateway node assembled: the HTTP API, upstream broker discovery, the broker mapping, the audit
 * log, metrics and the Kafka listeners.
 *
 * @module
 */
import {
  type BrokerEndpointMapper,
  clusterMapping,
  type GatewayNodeRef,
  singleHostMapping,
} from "./cluster/mapping.ts";
import { GroupMembership, type MembershipView } from "./cluster/membership.ts";
import { type GatewayConfig, redactedConfig } from "./config.ts";
import { createHttpApp, startHttpServer } from "./http/mod.ts";
import type { NodeView, Readiness } from "./http/node_view.ts";
import { KGATE_VERSION } from "./version.ts";
import { logger } from "./log.ts";
import { formatAddress, ProxyServer } from "./proxy/server.ts";
import { settleWithin, sleep } from "./lib/deadline.ts";
import { AuditLog } from "./audit/audit_log.ts";
import { auditFields } from "./audit/connection_entries.ts";
import { GatewayMetrics } from "./metrics.ts";
import { auditTopicName, KafkaAuditSink } from "./audit/kafka_sink.ts";
import { parseCidr } from "./proxy/cidr.ts";
import { proxyProtocolParser } from "./proxy/transport/proxy_header.ts";
import { gatewayFilters, supportedVersionRange } from "./proxy/filters/mod.ts";
import { BrokerDirectory } from "./upstream/broker_directory.ts";

const log = logger("gateway");

/** A connection to an unknown broker's port refreshes the broker list at most this often. */
const UNKNOWN_BROKER_REFRESH_MS = 1000;
/** The longest a connection waits for that refresh before it is routed with what the node knows. */
const UNKNOWN_BROKER_REFRESH_WAIT_MS = 2000;

/** A running gateway node. */
export interface Gateway {
  /** The configuration it runs with. */
  readonly config: GatewayConfig;
  /** The upstream brokers as last seen. */
  readonly directory: BrokerDirectory;
  /** The Kafka ports listened on. */
  readonly ports: number[];
  /** The HTTP API's base URL. */
  readonly httpUrl: string;
  /** The audit log (CONNECTION events). */
  readonly audit: AuditLog;
  /** The node's metrics, as `/metrics` renders them. */
  readonly metrics: { render(): Promise<{ contentType: string; body: string }> };
  /** The node's membership in its gateway cluster. */
  readonly membership: GroupMembership;
  /**
   * Stops the node: turns NOTREADY, leaves the gateway group (the other nodes stop advertising this
   * one), keeps serving connected clients for the drain period (`GATEWAY_DRAIN_MS`, cut short when
   * `signal` aborts), then closes every connection, the upstream refresh and the HTTP API.
   */
  close(options?: { drainMs?: number; signal?: AbortSignal }): Promise<void>;
}

/** Options of {@link startGateway}. */
export interface StartOptions {
  /** Aborts the start (e.g. SIGTERM while the upstream cluster is still unreachable). */
  signal?: AbortSignal;
  /** Replaces the broker-to-endpoint choice (the cluster mapping). */
  mapper?: BrokerEndpointMapper;
}

/**
 * Starts a gateway node: the HTTP API first (NOTREADY until the rest is up), then waits (retrying
 * with backoff) until the upstream cluster answers, then listens on every Kafka port.
 *
 * @example
 * ```ts
 * const gateway = await startGateway(parseConfig({ KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:9092" }));
 * await gateway.close();
 * ```
 */
export async function startGateway(config: GatewayConfig, options: StartOptions = {}): Promise<Gateway> {
  const startedAt = new Date();
  warnAboutRiskyDefaults(config);
  const directory = new BrokerDirectory(config);
  const audit = new AuditLog({
    nodeId: config.nodeId,
    clusterId: config.clusterId,
    queueSize: config.auditQueueSize,
    sink: config.auditKafkaEnabled ? new KafkaAuditSink(config) : undefined,
  });
  const metrics = new GatewayMetrics({ auditStats: () => audit.stats });
  const state = { listening: false, draining: false, portCount: 0, httpUrl: "" };
  const self: GatewayNodeRef = {
    id: config.nodeId,
    host: config.advertisedHost,
    rack: config.rackId ?? null,
  };
  const membership = new GroupMembership(config, () => ({
    ...self,
    ports: { first: config.portStart, last: config.portStart + Math.max(state.portCount, 1) - 1 },
    httpUrl: state.httpUrl,
    version: KGATE_VERSION,
    startedAt: startedAt.toISOString(),
  }), {
    onChange: (() => {
      let generation: number | null = null;
      return (view: MembershipView) => {
        if (view.generation !== generation) {
          if (view.generation !== null) metrics.rebalances.inc();
          generation = view.generation;
        }
        metrics.clusterSize.set(liveNodes().length);
      };
    })(),
  });
  /**
   * The nodes brokers are mapped to: the group's live members, and this node while it serves (it may
   * not have joined yet, or Kafka may be unreachable). A draining node has left: it sends clients to
   * the others, or to itself when it is the last.
   */
  const liveNodes = (): GatewayNodeRef[] => {
    const others: GatewayNodeRef[] = membership.view().members
      .filter((m) => m.id !== self.id)
      .map((m) => ({ id: m.id, host: m.host, rack: m.rack }));
    if (state.draining) return others.length > 0 ? others : [self];
    return [...others, self];
  };
  metrics.clusterSize.set(1);
  const single = singleHostMapping({
    host: config.advertisedHost,
    portStart: config.portStart,
    minBrokerId: config.minBrokerId,
  });
  // The mapper of rewritten responses, and `peek` for the HTTP API (the same answer, never advancing).
  // External load balancer mode: membership shows the cluster but does not change what is advertised.
  const { mapper, peek }: { mapper: BrokerEndpointMapper; peek: BrokerEndpointMapper } = options.mapper
    ? { mapper: options.mapper, peek: options.mapper }
    : config.internalLoadBalancing
    ? clusterMapping({
      nodes: liveNodes,
      portStart: config.portStart,
      minBrokerId: config.minBrokerId,
      policy: config.loadBalancingPolicy,
    })
    : { mapper: single, peek: single };
  const clientVersions = () => {
    const versions = new Map<number, { min: number; max: number }>();
    for (const [apiKey, range] of directory.apiVersions()) {
      const supported = supportedVersionRange(apiKey, range);
      if (supported) versions.set(apiKey, supported);
    }
    return versions;
  };
  const view: NodeView = {
    readiness: () =>
      readiness(
        directory,
        state,
        config.internalLoadBalancing ? membership.view() : null,
        config.groupSessionTimeoutMs,
      ),
    brokers: () => directory.brokers(),
    cluster: () => {
      const view = membership.view();
      return {
        self: config.nodeId,
        // The route's schema keeps the public fields (no member id, no start time).
        members: [...view.members],
        generation: view.generation,
        lastChange: view.lastChange?.toISOString() ?? null,
      };
    },
    mapping: (query) => {
      const brokers = directory.brokers();
      const endpoints = peek(brokers, {
        clientId: query.clientId ?? null,
        // Shaped like a connection's client address (the port plays no part in the mapping).
        clientAddress: query.clientHost
          ? formatAddress({ transport: "tcp", hostname: query.clientHost, port: 0 })
          : "",
        ...(query.rack !== undefined ? { clientRack: query.rack } : {}),
      });
      return brokers.map((b) => ({ brokerId: b.nodeId, ...endpoints.get(b.nodeId)!, rack: b.rack }));
    },
    config: () => ({
      ...redactedConfig(config),
      // The values in effect where the setting leaves them to the node.
      GATEWAY_AUDIT_TOPIC: auditTopicName(config),
      GATEWAY_PORT_COUNT: config.portCount ?? (state.portCount || null),
    }),
    metrics: () => metrics.render(),
  };
  const http = await startHttpServer(
    createHttpApp(view, {
      users: config.adminApiUsers,
      securedMetrics: config.securedMetrics,
      versions: { kgate: KGATE_VERSION, kafkaProtocolVersions: clientVersions },
    }),
    {
      hostname: config.bindHost,
      port: config.httpPort,
      certFile: config.httpsCertFile,
      keyFile: config.httpsKeyFile,
    },
  );
  state.httpUrl = advertisedUrl(http.url, config.advertisedHost);
  try {
    await directory.start(options.signal);
  } catch (error) {
    await http.shutdown();
    await audit.close(0);
    throw error;
  }
  const brokerIds = directory.brokers().map((b) => b.nodeId);
  const portCount = config.portCount ?? Math.max(...brokerIds) - config.minBrokerId + 3;
  state.portCount = portCount;
  for (const id of brokerIds) {
    const offset = id - config.minBrokerId;
    if (offset < 0 || offset >= portCount) {
      log.error(
        "broker {id} has no gateway port (ports serve broker ids {min}-{max}): clients cannot reach it",
        { id, min: config.minBrokerId, max: config.minBrokerId + portCount - 1 },
      );
    }
  }
  const server = new ProxyServer({
    bindHost: config.bindHost,
    portStart: config.portStart,
    portCount,
    minBrokerId: config.minBrokerId,
    maxFrameBytes: config.maxFrameBytes,
    upstreamConnectTimeoutMs: config.upstreamConnectTimeoutMs,
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
  });
  try {
    server.listen();
  } catch (error) {
    directory.close();
    await audit.close(0);
    await http.shutdown();
    throw error;
  }
  state.listening = true;
  membership.start();
  return {
    config,
    directory,
    audit,
    metrics,
    membership,
    httpUrl: http.url,
    get ports() {
      return server.ports;
    },
    async close(closeOptions = {}) {
      state.draining = true;
      await membership.leave();
      const drainMs = closeOptions.drainMs ?? config.drainMs;
      if (drainMs > 0 && !closeOptions.signal?.aborted) {
        log.info("left the gateway cluster; serving connected clients for {ms} ms", { ms: drainMs });
        await sleep(drainMs, closeOptions.signal);
      }
      directory.close();
      await server.close();
      await audit.close();
      await http.shutdown();
    },
  };
}

/**
 * Ready when the cluster answered at the last refresh, brokers are known, ports listen, the node is in
 * its gateway group (internal load balancing only: `group` is null otherwise), and no drain.
 */
function readiness(
  directory: BrokerDirectory,
  state: { listening: boolean; draining: boolean },
  group: MembershipView | null,
  groupSessionTimeoutMs: number,
): Readiness {
  // A coordinator failover (a broker restarting) makes the group unreachable for seconds while the data
  // path works: only once a whole session has passed has the node lost its place in the group.
  const groupLost = group?.unreachableSince != null &&
    Date.now() - group.unreachableSince.getTime() >= groupSessionTimeoutMs;
  const { lastRefresh, lastError } = directory.status;
  const checks: Record<string, boolean> = {
    upstreamReachable: lastRefresh !== null && lastError === null,
    brokersKnown: directory.brokers().length > 0,
    listening: state.listening,
    // In the group as far as the node can tell: joined, and the group not unreachable for a while.
    ...(group ? { groupJoined: group.joined && !groupLost } : {}),
    notDraining: !state.draining,
  };
  const reasons: string[] = [];
  if (!checks.upstreamReachable) {
    reasons.push(
      lastError ? `the Kafka cluster is unreachable: ${lastError}` : "the Kafka cluster has not answered yet",
    );
  }
  if (!checks.brokersKnown) reasons.push("no broker known yet");
  if (!checks.listening) reasons.push("the Kafka ports are not listening yet");
  if (group && groupLost && !state.draining) {
    reasons.push(
      `cannot reach the gateway group since ${group.unreachableSince!.toISOString()} (${group.lastError}); ` +
        `serving with the last known view of ${group.members.length} node(s)`,
    );
  } else if (group && !group.joined && !state.draining) {
    reasons.push(
      group.lastError
        ? `not in the gateway group (${group.lastError}); serving with the last known view of ${group.members.length} node(s)`
        : "not in the gateway group yet",
    );
  }
  if (!checks.notDraining) reasons.push("the node is draining");
  return { ready: reasons.length === 0, checks, reasons };
}

/** Defaults that are fine on a laptop and risky in production get one warning each at start. */
function warnAboutRiskyDefaults(config: GatewayConfig): void {
  if (config.adminApiUsers.some((u) => u.username === "admin" && u.password === "kgate")) {
    log.warn("the HTTP API accepts the default user admin/kgate: set GATEWAY_ADMIN_API_USERS");
  }
  if (config.haproxyProtocol && config.proxyProtocolTrustedCidrs === undefined) {
    log.warn(
      "PROXY protocol headers are believed from any peer: set GATEWAY_PROXY_PROTOCOL_TRUSTED_CIDRS to your load balancers",
    );
  }
}

/** The HTTP API's URL as other nodes and operators reach it (a wildcard bind shows the advertised host). */
function advertisedUrl(url: string, advertisedHost: string): string {
  const parsed = new URL(url);
  if (parsed.hostname === "0.0.0.0" || parsed.hostname === "[::]") {
    parsed.hostname = advertisedHost.includes(":") ? `[${advertisedHost}]` : advertisedHost;
  }
  return parsed.origin;
}
