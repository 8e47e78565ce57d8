/**
 * The {@link NodeView} of a running node: what the HTTP API reads from it (readiness, brokers, the
 * cluster, the mapping, the configuration, the metrics).
 *
 * @module
 */
import type { BrokerEndpointMapper } from "../cluster/mapping.ts";
import type { GroupMembership } from "../cluster/membership.ts";
import { type GatewayConfig, redactedConfig } from "../config/mod.ts";
import { auditTopicName } from "../audit/kafka_sink.ts";
import type { NodeView } from "../http/node_view.ts";
import type { GatewayMetrics } from "../metrics.ts";
import { formatAddress } from "../proxy/server.ts";
import type { BrokerDirectory } from "../upstream/broker_directory.ts";
import type { NodeState } from "./node_state.ts";
import { readiness } from "./readiness.ts";

/** The parts of a node its view reads. */
export interface NodeViewParts {
  /** The node's configuration. */
  readonly config: GatewayConfig;
  /** The node's progress (listening, draining, port count). */
  readonly node: NodeState;
  /** The upstream brokers. */
  readonly directory: BrokerDirectory;
  /** The node's gateway group. */
  readonly membership: GroupMembership;
  /** Each listener's mapping, by listener name in configuration order (`peek` never advances a round-robin). */
  readonly mappings: ReadonlyMap<string, { readonly peek: BrokerEndpointMapper }>;
  /** The node's metrics. */
  readonly metrics: Pick<GatewayMetrics, "render">;
}

/**
 * The view the HTTP API serves for a node assembled from `parts`.
 *
 * @example
 * ```ts
 * const app = createHttpApp(nodeView({ config, node, directory, membership, mappings, metrics }), appOptions);
 * ```
 */
export function nodeView(
  { config, node, directory, membership, mappings, metrics }: NodeViewParts,
): NodeView {
  return {
    readiness: () =>
      readiness(
        directory,
        node,
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
      const name = query.listener ?? config.listeners[0].name;
      const peek = mappings.get(name)?.peek;
      if (peek === undefined) {
        return `unknown listener ${name}: expected ${[...mappings.keys()].join(" or ")}`;
      }
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
      GATEWAY_PORT_COUNT: config.portCount ?? (node.portCount || null),
    }),
    metrics: () => metrics.render(),
  };
}
