/**
 * The composition root: one gateway node assembled from its parts (HTTP API, upstream broker
 * directory, cluster membership and mapping, audit log, metrics, Kafka listeners), each registered for
 * cleanup as it is acquired, so a failed start and {@link Gateway.close} tear down in one order.
 *
 * @module
 */
import type { BrokerEndpointMapper } from "../cluster/mapping.ts";
import type { GroupMembership } from "../cluster/membership.ts";
import type { AuditLog } from "../audit/audit_log.ts";
import type { GatewayConfig } from "../config/mod.ts";
import { GatewayMetrics } from "../metrics.ts";
import { BrokerDirectory } from "../upstream/broker_directory.ts";
import { brokerMapping } from "./broker_mapping.ts";
import { clusterPresence } from "./cluster_presence.ts";
import { drainConnectedClients } from "./drain.ts";
import { advertisedUrl, startHttpApi } from "./http_api.ts";
import { kafkaListeners, type ListenerParts } from "./kafka_listeners.ts";
import { type ClientTls, clientTls } from "./client_tls.ts";
import { nodeAuditLog } from "./node_audit_log.ts";
import { NodeState } from "./node_state.ts";
import { nodeView } from "./node_view.ts";
import { kafkaPortCount } from "./port_count.ts";
import { warnAboutUncoveredNames } from "./san_coverage.ts";
import { warnAboutRiskyDefaults } from "./startup_warnings.ts";
import { upstreamSecurity } from "../upstream/security.ts";

/** A running gateway node. */
export interface Gateway {
  /** The configuration it runs with. */
  readonly config: GatewayConfig;
  /** The upstream brokers as last seen. */
  readonly directory: BrokerDirectory;
  /** The Kafka ports listened on (every listener's). */
  readonly ports: number[];
  /** The Kafka ports of each listener, by listener name (`DEFAULT` for the single-listener settings). */
  readonly listenerPorts: Record<string, number[]>;
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
 * with backoff) until the upstream cluster answers, then listens on every Kafka port and joins the
 * gateway group.
 *
 * Stopping undoes the start in reverse: leave the group, drain, close the listeners, flush the audit
 * log (their CLOSE entries included), stop the broker refresh, and shut the HTTP API last (readiness
 * stays observable throughout). A start that fails undoes the steps it got through, in the same order.
 *
 * @example
 * ```ts
 * const gateway = await startGateway(parseConfig({ KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:9092" }));
 * await gateway.close();
 * ```
 */
export async function startGateway(config: GatewayConfig, options: StartOptions = {}): Promise<Gateway> {
  warnAboutRiskyDefaults(config);
  // Reads the upstream TLS files now: a missing one fails the start, not every connection later.
  upstreamSecurity(config);
  await using resources = new AsyncDisposableStack();
  // The TLS files first: a file that cannot be used stops the start before anything is bound.
  const tlsByListener = new Map<string, ClientTls>();
  for (const listener of config.listeners) {
    const tls = await clientTls(config, listener);
    if (tls) tlsByListener.set(listener.name, resources.use(tls));
  }
  const node = new NodeState();
  const directory = new BrokerDirectory(config);
  const audit = nodeAuditLog(config);
  const metrics = new GatewayMetrics({ auditStats: () => audit.stats });
  const { membership, liveNodes } = clusterPresence(config, node, metrics);
  const mappings = new Map(
    config.listeners.map((l) => [l.name, brokerMapping(config, l, liveNodes, options.mapper)]),
  );

  const view = nodeView({ config, node, directory, membership, mappings, metrics });
  const http = await startHttpApi(config, view, directory);
  resources.defer(() => http.shutdown());
  node.httpUrl = advertisedUrl(http.url, config.advertisedHost);

  await directory.start(options.signal);
  resources.defer(() => directory.close());

  // The audit log holds nothing until the listeners write to it: flushed once they have closed, their
  // CLOSE entries included.
  resources.defer(() => audit.close());
  const brokerIds = directory.brokers().map((b) => b.nodeId);
  const parts = config.listeners.map((listener): ListenerParts => {
    const tls = tlsByListener.get(listener.name);
    if (tls) warnAboutUncoveredNames(listener, tls.credentials.current.certificate, brokerIds);
    return {
      listener,
      portCount: listener.routing === "host"
        ? 1
        : kafkaPortCount({ portCount: listener.portCount, minBrokerId: config.minBrokerId }, brokerIds),
      mapper: mappings.get(listener.name)!.mapper,
      tls: tls?.options,
    };
  });
  // The membership publishes the first listener's port range.
  node.portCount = parts[0].portCount;
  const listeners = kafkaListeners({ config, listeners: parts, directory, metrics, audit });
  listeners.listen();
  resources.defer(() => listeners.close());
  node.listening = true;

  // Stopping a serving node: leave the group, then serve connected clients for the drain period.
  resources.defer(() => drainConnectedClients(node.stopping));
  membership.start();
  resources.defer(() => membership.leave());

  const teardown = resources.move();
  let closing: Promise<void> | undefined;
  return {
    config,
    directory,
    audit,
    metrics,
    membership,
    httpUrl: http.url,
    get ports() {
      return listeners.ports;
    },
    get listenerPorts() {
      return listeners.listenerPorts;
    },
    close(closeOptions = {}) {
      node.stopping ??= { drainMs: closeOptions.drainMs ?? config.drainMs, signal: closeOptions.signal };
      closing ??= teardown.disposeAsync();
      return closing;
    },
  };
}
