/**
 * Who this node is in its gateway cluster: the reference the mapping uses, and the identity it
 * publishes in the membership group.
 *
 * @module
 */
import type { GatewayNodeRef } from "../cluster/mapping.ts";
import type { MemberIdentity } from "../cluster/member_identity.ts";
import type { GatewayConfig } from "../config/mod.ts";
import { KGATE_VERSION } from "../version.ts";
import type { NodeState } from "./node_state.ts";

/**
 * This node as the broker mapping sees it (with `listener`, its advertised host on that listener); its
 * weight is published with it.
 *
 * @example
 * ```ts
 * selfRef(config); // { id: "node-1", host: "gw1.example.com", rack: "eu-west-1a", weight: 1 }
 * ```
 */
export function selfRef(config: GatewayConfig, listener?: string): GatewayNodeRef {
  return {
    id: config.nodeId,
    host: config.listeners.find((l) => l.name === listener)?.advertisedHost ?? config.advertisedHost,
    rack: config.rackId ?? null,
    weight: config.nodeWeight,
  };
}

/**
 * What the node publishes when it (re)joins its group, read at each join: the port range and HTTP
 * URL become known during the start.
 *
 * @example
 * ```ts
 * const membership = new GroupMembership(config, publishedIdentity(config, node));
 * ```
 */
export function publishedIdentity(
  config: GatewayConfig,
  node: NodeState,
): () => Omit<MemberIdentity, "joinedAt"> {
  const self = selfRef(config);
  return () => ({
    ...self,
    listenerHosts: Object.fromEntries(config.listeners.map((l) => [l.name, l.advertisedHost])),
    ports: { first: config.portStart, last: config.portStart + Math.max(node.portCount, 1) - 1 },
    httpUrl: node.httpUrl,
    version: KGATE_VERSION,
    startedAt: node.startedAt.toISOString(),
  });
}
