/**
 * Which endpoint each broker is advertised at on one listener: the cluster mapping picks the gateway
 * node (internal load balancing), or this node alone (an external load balancer in front); then the
 * listener turns (node, broker) into its endpoint: port routing = the node's advertised host on that
 * listener at the broker's port, host routing = `<prefix><b>.<that host>` at the listener's SNI port.
 *
 * @module
 */
import { hostRoutedMapper } from "../cluster/listener_endpoints.ts";
import {
  type BrokerEndpointMapper,
  clusterMapping,
  type GatewayNodeRef,
  singleHostMapping,
} from "../cluster/mapping.ts";
import type { GatewayConfig, ListenerConfig } from "../config/mod.ts";

/** The mapper of rewritten responses, and `peek` for the HTTP API (the same answer, never advancing). */
export interface NodeBrokerMapping {
  /** Maps the brokers of one response (advances the round-robin). */
  readonly mapper: BrokerEndpointMapper;
  /** What `mapper` would answer now, without advancing it. */
  readonly peek: BrokerEndpointMapper;
}

/**
 * The mapping `config` asks for on `listener`; `override` (tests, embedding) replaces the choice of
 * node (its endpoints' hosts), the listener's routing still applies.
 *
 * @example
 * ```ts
 * const { mapper, peek } = brokerMapping(config, config.listeners[0], liveNodes);
 * ```
 */
export function brokerMapping(
  config: GatewayConfig,
  listener: ListenerConfig,
  liveNodes: (listener: string) => GatewayNodeRef[],
  override?: BrokerEndpointMapper,
): NodeBrokerMapping {
  const nodes = nodeMapping(config, listener, liveNodes, override);
  if (listener.routing === "port") return nodes;
  const names = { prefix: listener.advertisedHostPrefix, port: listener.advertisedSniPort };
  return { mapper: hostRoutedMapper(nodes.mapper, names), peek: hostRoutedMapper(nodes.peek, names) };
}

function nodeMapping(
  config: GatewayConfig,
  listener: ListenerConfig,
  liveNodes: (listener: string) => GatewayNodeRef[],
  override?: BrokerEndpointMapper,
): NodeBrokerMapping {
  if (override) return { mapper: override, peek: override };
  // External load balancer mode: membership shows the cluster but does not change what is advertised.
  if (!config.internalLoadBalancing) {
    const single = singleHostMapping({
      host: listener.advertisedHost,
      portStart: listener.portStart,
      minBrokerId: config.minBrokerId,
    });
    return { mapper: single, peek: single };
  }
  const { mapper, peek } = clusterMapping({
    nodes: () => liveNodes(listener.name),
    portStart: listener.portStart,
    minBrokerId: config.minBrokerId,
    policy: config.loadBalancingPolicy,
    clientIdentity: config.clientIdentity,
  });
  return { mapper, peek };
}
