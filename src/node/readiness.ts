/**
 * A node's readiness: the checks behind `/health/ready`, and why it is not ready.
 *
 * @module
 */
import type { MembershipView } from "../cluster/membership.ts";
import type { Readiness } from "../http/node_view.ts";
import type { BrokerDirectory } from "../upstream/broker_directory.ts";

/**
 * Ready when the cluster answered at the last refresh, brokers are known, ports listen, the node is in
 * its gateway group (internal load balancing only: `group` is null otherwise), and no drain.
 *
 * @example
 * ```ts
 * const { ready, reasons } = readiness(directory, node, membership.view(), config.groupSessionTimeoutMs);
 * ```
 */
export function readiness(
  directory: Pick<BrokerDirectory, "status" | "brokers">,
  state: { readonly listening: boolean; readonly draining: boolean },
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
