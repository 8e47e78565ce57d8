/**
 * Which endpoint each broker is advertised at: the cluster mapping over the live nodes (internal load
 * balancing), or this node's ports alone (an external load balancer in front).
 *
 * @module
 */
import {
  type BrokerEndpointMapper,
  clusterMapping,
  type GatewayNodeRef,
  singleHostMapping,
} from "../cluster/mapping.ts";
import type { GatewayConfig } from "../config/mod.ts";

/** The mapper of rewritten responses, and `peek` for the HTTP API (the same answer, never advancing). */
export interface NodeBrokerMapping {
  /** Maps the brokers of one response (advances the round-robin). */
  readonly mapper: BrokerEndpointMapper;
  /** What `mapper` would answer now, without advancing it. */
  readonly peek: BrokerEndpointMapper;
}

/**
 * The mapping `config` asks for; `override` (tests, embedding) replaces it.
 *
 * @example
 * ```ts
 * const { mapper, peek } = brokerMapping(config, liveNodes);
 * ```
 */
export function brokerMapping(
  config: GatewayConfig,
  liveNodes: () => GatewayNodeRef[],
  override?: BrokerEndpointMapper,
): NodeBrokerMapping {
  if (override) return { mapper: override, peek: override };
  // External load balancer mode: membership shows the cluster but does not change what is advertised.
  if (!config.internalLoadBalancing) {
    const single = singleHostMapping({
      host: config.advertisedHost,
      portStart: config.portStart,
      minBrokerId: config.minBrokerId,
    });
    return { mapper: single, peek: single };
  }
  const { mapper, peek } = clusterMapping({
    nodes: liveNodes,
    portStart: config.portStart,
    minBrokerId: config.minBrokerId,
    policy: config.loadBalancingPolicy,
    clientIdentity: config.clientIdentity,
  });
  return { mapper, peek };
}
