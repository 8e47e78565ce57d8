/**
 * Figures of the broker-to-node mapping over synthetic clients: each node's share of each broker, and
 * how many (client, broker) assignments move when a node joins or leaves, per policy. Used by the
 * property tests; run it to print the figures:
 *
 * ```sh
 * deno run tests/cluster/mapping_figures.ts
 * ```
 *
 * @module
 */
import {
  type BrokerRef,
  type ClientIdentity,
  clusterMapping,
  type Endpoint,
  type GatewayNodeRef,
  type MappingPolicy,
  type MappingRequest,
} from "../../src/cluster/mapping.ts";

/** A mapping function under test: the live nodes and one client's request in, broker → endpoint out. */
export type Mapper = (
  brokers: readonly BrokerRef[],
  nodes: readonly GatewayNodeRef[],
  request: MappingRequest,
) => Map<number, Endpoint>;

/** Port of broker `MIN_BROKER_ID` in the figures. */
export const PORT_START = 9000;
/** Lowest broker id in the figures. */
export const MIN_BROKER_ID = 1;

/** The mapping a fresh node running `policy` gives (no history: `round-robin` is at counter 0). */
export function policyMapper(policy: MappingPolicy, clientIdentity?: ClientIdentity): Mapper {
  return (brokers, nodes, request) =>
    clusterMapping({
      nodes: () => nodes,
      portStart: PORT_START,
      minBrokerId: MIN_BROKER_ID,
      policy,
      clientIdentity,
    })
      .peek(brokers, request);
}

/** `count` distinct clients: 200 hosts, one client id per client. */
export function syntheticClients(count: number, prefix = "app"): MappingRequest[] {
  return Array.from({ length: count }, (_, i) => ({
    clientId: `${prefix}-${i}`,
    clientAddress: `10.${(i % 200) >> 8}.${Math.floor((i % 200) / 16)}.${i % 16}:${40000 + (i % 20000)}`,
  }));
}

/** Nodes `n1`…`nN` without racks, with the given weights (undefined = the default). */
export function plainNodes(weights: readonly (number | undefined)[]): GatewayNodeRef[] {
  return weights.map((weight, i) => ({
    id: `n${i + 1}`,
    host: `gw-${i + 1}`,
    rack: null,
    ...(weight === undefined ? {} : { weight }),
  }));
}

/** Brokers `MIN_BROKER_ID`… without racks. */
export function plainBrokers(count: number): BrokerRef[] {
  return Array.from({ length: count }, (_, i) => ({ nodeId: MIN_BROKER_ID + i, rack: null }));
}

/** For each broker, each node host's fraction of the clients. */
export function shares(
  mapper: Mapper,
  brokers: readonly BrokerRef[],
  nodes: readonly GatewayNodeRef[],
  clients: readonly MappingRequest[],
): Map<number, Map<string, number>> {
  const counts = new Map<number, Map<string, number>>(
    brokers.map((b) => [b.nodeId, new Map(nodes.map((n) => [n.host, 0]))]),
  );
  for (const client of clients) {
    for (const [brokerId, endpoint] of mapper(brokers, nodes, client)) {
      const perHost = counts.get(brokerId)!;
      perHost.set(endpoint.host, (perHost.get(endpoint.host) ?? 0) + 1);
    }
  }
  for (const perHost of counts.values()) {
    for (const [host, count] of perHost) perHost.set(host, count / clients.length);
  }
  return counts;
}

/** The largest distance between a node's share of a broker and its weight share (weights as `client-consistent` reads them). */
export function worstSpread(
  mapper: Mapper,
  brokers: readonly BrokerRef[],
  nodes: readonly GatewayNodeRef[],
  clients: readonly MappingRequest[],
): number {
  const total = nodes.reduce((sum, n) => sum + (n.weight ?? 1), 0);
  let worst = 0;
  for (const perHost of shares(mapper, brokers, nodes, clients).values()) {
    for (const node of nodes) {
      worst = Math.max(worst, Math.abs(perHost.get(node.host)! - (node.weight ?? 1) / total));
    }
  }
  return worst;
}

/** Assignments of (client, broker) that changed node between two views. */
export interface Movement {
  /** Assignments whose node changed. */
  moved: number;
  /** All assignments (clients × brokers). */
  total: number;
  /** Moved assignments that were on a node absent from `after`. */
  fromGone: number;
  /** Moved assignments that went to a node absent from `before`. */
  toNew: number;
}

/** How many (client, broker) assignments change node when the live nodes go from `before` to `after`. */
export function movement(
  mapper: Mapper,
  brokers: readonly BrokerRef[],
  before: readonly GatewayNodeRef[],
  after: readonly GatewayNodeRef[],
  clients: readonly MappingRequest[],
): Movement {
  const beforeHosts = new Set(before.map((n) => n.host));
  const afterHosts = new Set(after.map((n) => n.host));
  const result: Movement = { moved: 0, total: 0, fromGone: 0, toNew: 0 };
  for (const client of clients) {
    const was = mapper(brokers, before, client);
    const now = mapper(brokers, after, client);
    for (const [brokerId, endpoint] of was) {
      result.total++;
      const next = now.get(brokerId)!;
      if (next.host === endpoint.host) continue;
      result.moved++;
      if (!afterHosts.has(endpoint.host)) result.fromGone++;
      if (!beforeHosts.has(next.host)) result.toNew++;
    }
  }
  return result;
}

function percent(x: number): string {
  return `${(100 * x).toFixed(1)} %`;
}

if (import.meta.main) {
  const clients = syntheticClients(10_000);
  const brokers = plainBrokers(3);
  const consistent = policyMapper("client-consistent");
  const sticky = policyMapper("client-sticky");
  console.log(`${clients.length} synthetic clients, ${brokers.length} brokers\n`);

  console.log("Spread (client-consistent): worst |node's share of a broker - its weight share|");
  for (const weights of [[1, 1], [1, 1, 1], [1, 1, 1, 1, 1], [1, 2, 3], [0, 1, 1]]) {
    const nodes = plainNodes(weights);
    const perBroker = shares(consistent, brokers, nodes, clients);
    const first = [...perBroker.get(MIN_BROKER_ID)!.values()].map(percent).join(" / ");
    console.log(
      `  weights ${weights.join(",").padEnd(10)} worst ${
        percent(worstSpread(consistent, brokers, nodes, clients))
      }` +
        `   (broker ${MIN_BROKER_ID}: ${first})`,
    );
  }

  console.log("\nMoved (client, broker) assignments, client-consistent vs client-sticky ((turn + i) mod n):");
  for (let n = 1; n <= 6; n++) {
    const before = plainNodes(Array(n).fill(undefined));
    const after = plainNodes(Array(n + 1).fill(undefined));
    const c = movement(consistent, brokers, before, after, clients);
    const s = movement(sticky, brokers, before, after, clients);
    console.log(
      `  join  ${n}→${n + 1}: ideal ${percent(1 / (n + 1))}, client-consistent ${
        percent(c.moved / c.total)
      }` +
        ` (all to the new node: ${c.toNew === c.moved}), client-sticky ${percent(s.moved / s.total)}`,
    );
  }
  for (let n = 2; n <= 6; n++) {
    const before = plainNodes(Array(n).fill(undefined));
    for (const gone of [0, n - 1]) {
      const after = before.filter((_, i) => i !== gone);
      const c = movement(consistent, brokers, before, after, clients);
      const s = movement(sticky, brokers, before, after, clients);
      console.log(
        `  leave ${n}→${n - 1} (${before[gone].id}): ideal ${percent(1 / n)}, client-consistent ${
          percent(c.moved / c.total)
        } (all from the gone node: ${c.fromGone === c.moved}), client-sticky ${percent(s.moved / s.total)}`,
      );
    }
  }

  console.log("\nRolling restart of 3 nodes (each leaves, then comes back): moved assignments per step");
  const three = plainNodes([undefined, undefined, undefined]);
  for (const [name, mapper] of [["client-consistent", consistent], ["client-sticky", sticky]] as const) {
    const steps: string[] = [];
    let sum = 0;
    for (const restarted of three) {
      const without = three.filter((n) => n !== restarted);
      const leave = movement(mapper, brokers, three, without, clients);
      const back = movement(mapper, brokers, without, three, clients);
      steps.push(
        `${restarted.id}: ${percent(leave.moved / leave.total)} + ${percent(back.moved / back.total)}`,
      );
      sum += leave.moved + back.moved;
    }
    console.log(
      `  ${name.padEnd(17)} ${steps.join(", ")}; total ${sum} moves of ${
        clients.length * brokers.length
      } assignments`,
    );
  }

  console.log("\nDrain: one of 3 nodes set to weight 0 (client-consistent)");
  const drained = three.map((n, i) => (i === 0 ? { ...n, weight: 0 } : n));
  const d = movement(consistent, brokers, three, drained, clients);
  const left = [...shares(consistent, brokers, drained, clients).values()].map((m) => m.get(three[0].host)!);
  console.log(
    `  moved ${percent(d.moved / d.total)}, all of them from the drained node: ${
      d.moved === [...shares(consistent, brokers, three, clients).values()]
        .reduce((sum, m) => sum + Math.round(m.get(three[0].host)! * clients.length), 0)
    }; its share after: ${left.map(percent).join(" / ")}`,
  );
}
