/**
 * This node in its gateway cluster: its group membership (counted in the metrics), and the live
 * nodes the brokers are mapped to.
 *
 * @module
 */
import type { GatewayNodeRef } from "../cluster/mapping.ts";
import { GroupMembership, type MembershipView } from "../cluster/membership.ts";
import type { GatewayConfig } from "../config/mod.ts";
import type { GatewayMetrics } from "../metrics.ts";
import type { NodeState } from "./node_state.ts";
import { publishedIdentity, selfRef } from "./node_identity.ts";

/** A node's membership and what it makes of it. */
export interface ClusterPresence {
  /** The node's membership (not started: {@link GroupMembership.start} joins). */
  readonly membership: GroupMembership;
  /**
   * The nodes brokers are mapped to: the group's live members, and this node while it serves (it may
   * not have joined yet, or Kafka may be unreachable). A draining node has left: it sends clients to
   * the others, or to itself when it is the last. With `listener`, each node's host is its advertised
   * host on that listener (a node that publishes none: its one host).
   */
  liveNodes(listener?: string): GatewayNodeRef[];
}

/**
 * The membership of the node described by `config` and `node`; its views update the cluster-size
 * gauge and the rebalance counter of `metrics`.
 *
 * @example
 * ```ts
 * const { membership, liveNodes } = clusterPresence(config, node, metrics);
 * membership.start();
 * ```
 */
export function clusterPresence(
  config: GatewayConfig,
  node: NodeState,
  metrics: GatewayMetrics,
): ClusterPresence {
  const liveNodes = (listener?: string): GatewayNodeRef[] => {
    const self = selfRef(config, listener);
    const others: GatewayNodeRef[] = membership.view().members
      .filter((m) => m.id !== self.id)
      .map((m) => ({
        id: m.id,
        host: (listener === undefined ? undefined : m.listenerHosts?.[listener]) ?? m.host,
        rack: m.rack,
        // Nodes that predate weights publish none: the mapping counts them as 1.
        ...(m.weight !== undefined ? { weight: m.weight } : {}),
      }));
    if (node.draining) return others.length > 0 ? others : [self];
    return [...others, self];
  };
  const membership = new GroupMembership(config, publishedIdentity(config, node), {
    onChange: membershipMetrics(metrics, liveNodes),
  });
  metrics.clusterSize.set(1);
  return { membership, liveNodes };
}

/** A view listener: counts rebalances (a new generation) and sets the cluster size. */
function membershipMetrics(
  metrics: GatewayMetrics,
  liveNodes: () => readonly GatewayNodeRef[],
): (view: MembershipView) => void {
  let generation: number | null = null;
  return (view) => {
    if (view.generation !== generation) {
      if (view.generation !== null) metrics.rebalances.inc();
      generation = view.generation;
    }
    metrics.clusterSize.set(liveNodes().length);
  };
}
