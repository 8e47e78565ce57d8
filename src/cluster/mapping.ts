/**
 * The broker-to-node mapping: which gateway endpoint a client is told to use for each broker.
 *
 * Every rewritten response (Metadata, DescribeCluster, FindCoordinator, NodeEndpoints) asks one
 * {@link BrokerEndpointMapper}; the port of broker b is always `portStart + (b - minBrokerId)`.
 *
 * A single node (or one behind a load balancer) advertises one host: {@link singleHostMapping}. A
 * cluster of gateway nodes spreads brokers over its live nodes ({@link brokerToNodeMapping}, made
 * stateful by {@link clusterMapping}). Each broker's candidate nodes are chosen by precedence:
 *
 * 1. client rack: the nodes in the client's rack (`?rack=` or `kgate_rack=<rack>` in its client.id);
 * 2. broker rack: the nodes in the broker's rack;
 * 3. any node.
 *
 * Within the candidates a turn picks the node. With the `round-robin` policy (the default) the turn is
 * a per-node counter advanced by every Metadata response, so successive requests spread over the
 * nodes. With `client-sticky` the turn is a hash of the client's host and client id: every node gives
 * one client the same mapping until the membership changes (clients that reconnect whenever a broker's
 * address changes, such as kafkajs and librdkafka, then keep their connections), and different
 * clients still spread over the nodes.
 *
 * @module
 */

/** A broker as the mapping sees it. */
export interface BrokerRef {
  /** Broker (node) id. */
  nodeId: number;
  /** Broker rack, when it has one. */
  rack: string | null;
}

/** Who is asking: the client behind the request being answered. */
export interface MappingRequest {
  /** The request's client id. */
  clientId: string | null;
  /** The client's address, `host:port`. */
  clientAddress: string;
  /** True when the response answers a Metadata request: only those advance the round-robin counter. */
  advance?: boolean;
  /**
   * The client's rack given explicitly (the HTTP API's `?rack=`), null for none; when undefined it
   * comes from the client id ({@link clientRackFromClientId}).
   */
  clientRack?: string | null;
}

/** A host and port advertised to clients. */
export interface Endpoint {
  /** Host name or IP address. */
  host: string;
  /** TCP port. */
  port: number;
}

/** Chooses the advertised endpoint of every broker for one response. */
export type BrokerEndpointMapper = (
  brokers: readonly BrokerRef[],
  request: MappingRequest,
) => Map<number, Endpoint>;

/** The gateway port that serves `brokerId`. */
export function brokerPort(portStart: number, minBrokerId: number, brokerId: number): number {
  return portStart + (brokerId - minBrokerId);
}

/**
 * A mapper that advertises one host for every broker (a single node, or an external load balancer).
 *
 * @example
 * ```ts
 * const mapper = singleHostMapping({ host: "gw.example", portStart: 6969, minBrokerId: 0 });
 * mapper([{ nodeId: 2, rack: null }], { clientId: null, clientAddress: "" }).get(2); // { host: "gw.example", port: 6971 }
 * ```
 */
export function singleHostMapping(
  options: { host: string; portStart: number; minBrokerId: number },
): BrokerEndpointMapper {
  return (brokers) => {
    const endpoints = new Map<number, Endpoint>();
    for (const broker of brokers) {
      endpoints.set(broker.nodeId, {
        host: options.host,
        port: brokerPort(options.portStart, options.minBrokerId, broker.nodeId),
      });
    }
    return endpoints;
  };
}

/** The client.id key a client uses to name its rack: `kgate_rack=<rack>`. */
export const CLIENT_RACK_KEY = "kgate_rack";

// The key must not be glued to a preceding word (`mykgate_rack=` is someone else's key); the value's
// character class already stops at any other delimiter, so no end anchor is needed.
const CLIENT_RACK_PATTERN = new RegExp(`(?:^|[^A-Za-z0-9_])${CLIENT_RACK_KEY}=([A-Za-z0-9._:-]+)`);

/**
 * The rack a client names in its client.id, or null.
 *
 * The id may carry `kgate_rack=<rack>` anywhere, delimited from other text by the start or end of the
 * id or by any character that is not a letter, digit or `_`. The rack is one or more of
 * `[A-Za-z0-9._:-]`. The first well-formed occurrence wins.
 *
 * @example
 * ```ts
 * clientRackFromClientId("billing,kgate_rack=eu-west-1a"); // "eu-west-1a"
 * clientRackFromClientId("mykgate_rack=x"); // null
 * ```
 */
export function clientRackFromClientId(clientId: string | null): string | null {
  if (clientId === null) return null;
  return CLIENT_RACK_PATTERN.exec(clientId)?.[1] ?? null;
}

/** A live gateway node. */
export interface GatewayNodeRef {
  /** Node id, unique in the cluster; the sort key every node agrees on. */
  id: string;
  /** Host advertised to clients for brokers mapped to this node. */
  host: string;
  /** The node's rack, when it has one. */
  rack: string | null;
}

/** Everything {@link brokerToNodeMapping} depends on; it reads nothing else. */
export interface NodeMappingInput {
  /** Live brokers. */
  brokers: readonly BrokerRef[];
  /** Live gateway nodes, at least one. */
  nodes: readonly GatewayNodeRef[];
  /** Round-robin position, a non-negative safe integer. */
  counter: number;
  /** The client's rack, or null. */
  clientRack: string | null;
  /** Gateway port of broker `minBrokerId`. */
  portStart: number;
  /** Lowest broker id; see {@link brokerPort}. */
  minBrokerId: number;
}

// Plain code-unit order, not localeCompare: every node must agree whatever its locale.
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareNodes(a: GatewayNodeRef, b: GatewayNodeRef): number {
  // Host and rack only break ties between duplicate ids, so input order never matters.
  return compareStrings(a.id, b.id) || compareStrings(a.host, b.host) ||
    compareStrings(a.rack ?? "", b.rack ?? "") || Number(a.rack !== null) - Number(b.rack !== null);
}

/**
 * Maps every broker to the gateway node a client should reach it through.
 *
 * Nodes are sorted by id (string order, so every node of the cluster computes the same answer) and
 * brokers by id; inputs are not mutated. Duplicate broker ids: the last one wins. The broker at sorted
 * index `i` chooses from candidates `C`, by precedence:
 *
 * 1. client rack: the nodes whose rack is `clientRack`, when `clientRack` is non-null and any exist;
 * 2. broker rack: the nodes whose rack is the broker's, when it is non-null and any exist;
 * 3. any node: all nodes.
 *
 * It gets `C[(counter + i) % C.length]` at port {@link brokerPort}. Consecutive counters shift every
 * broker to the next candidate, so `C.length` consecutive counters visit each candidate once.
 *
 * @example
 * ```ts
 * const nodes = [{ id: "a", host: "gw-a", rack: null }, { id: "b", host: "gw-b", rack: null }];
 * const brokers = [{ nodeId: 1, rack: null }, { nodeId: 2, rack: null }];
 * const input = { brokers, nodes, clientRack: null, portStart: 9000, minBrokerId: 1 };
 * brokerToNodeMapping({ ...input, counter: 0 }); // 1 → gw-a:9000, 2 → gw-b:9001
 * brokerToNodeMapping({ ...input, counter: 1 }); // 1 → gw-b:9000, 2 → gw-a:9001
 * ```
 *
 * @throws {RangeError} When `nodes` is empty or `counter` is not a non-negative safe integer.
 */
export function brokerToNodeMapping(input: NodeMappingInput): Map<number, Endpoint> {
  const { counter, clientRack, portStart, minBrokerId } = input;
  if (input.nodes.length === 0) throw new RangeError("no live gateway node");
  if (!Number.isSafeInteger(counter) || counter < 0) {
    throw new RangeError(`round-robin counter must be a non-negative safe integer, got ${counter}`);
  }
  const nodes = [...input.nodes].sort(compareNodes);
  const byId = new Map<number, BrokerRef>();
  for (const broker of input.brokers) byId.set(broker.nodeId, broker);
  const brokers = [...byId.values()].sort((a, b) => a.nodeId - b.nodeId);

  const inRack = (rack: string | null): GatewayNodeRef[] | undefined => {
    if (rack === null) return undefined;
    const matching = nodes.filter((node) => node.rack === rack);
    return matching.length > 0 ? matching : undefined;
  };
  const clientCandidates = inRack(clientRack);
  const rackCandidates = new Map<string, GatewayNodeRef[] | undefined>();

  const endpoints = new Map<number, Endpoint>();
  brokers.forEach((broker, i) => {
    let candidates = clientCandidates;
    if (candidates === undefined && broker.rack !== null) {
      if (!rackCandidates.has(broker.rack)) rackCandidates.set(broker.rack, inRack(broker.rack));
      candidates = rackCandidates.get(broker.rack);
    }
    candidates ??= nodes;
    const n = candidates.length;
    // Reduce each term first: counter + i could pass MAX_SAFE_INTEGER and lose precision.
    const node = candidates[(counter % n + i % n) % n];
    endpoints.set(broker.nodeId, {
      host: node.host,
      port: brokerPort(portStart, minBrokerId, broker.nodeId),
    });
  });
  return endpoints;
}

/** Configuration of {@link clusterMapping}. */
export interface ClusterMappingOptions {
  /** The current live nodes; the gateway keeps it non-empty (empty throws, as in {@link brokerToNodeMapping}). */
  nodes: () => readonly GatewayNodeRef[];
  /** Gateway port of broker `minBrokerId`. */
  portStart: number;
  /** Lowest broker id; see {@link brokerPort}. */
  minBrokerId: number;
  /** Starting round-robin counter, a non-negative safe integer; 0 by default. */
  initialCounter?: number;
  /** How a client's turn is chosen (default `round-robin`); see the module documentation. */
  policy?: MappingPolicy;
}

/** How a client's turn is chosen: a per-request counter, or a hash of the client (host, client id). */
export type MappingPolicy = "round-robin" | "client-sticky";

/**
 * The `client-sticky` turn of a client: FNV-1a of its host (the address without the port) and client id,
 * so it is the same on every node and across the client's connections.
 *
 * @example
 * ```ts
 * clientTurn({ clientId: "billing", clientAddress: "10.0.0.7:50211" }) ===
 *   clientTurn({ clientId: "billing", clientAddress: "10.0.0.7:41000" }); // true
 * ```
 */
export function clientTurn(request: Pick<MappingRequest, "clientId" | "clientAddress">): number {
  const colon = request.clientAddress.lastIndexOf(":");
  const host = colon < 0 ? request.clientAddress : request.clientAddress.slice(0, colon);
  const key = `${host}\u0000${request.clientId ?? ""}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The gateway's stateful mapping: {@link brokerToNodeMapping} with a round-robin counter. */
export interface ClusterMapping {
  /** The mapper for rewritten responses: uses the current counter, then advances it when `request.advance`. */
  readonly mapper: BrokerEndpointMapper;
  /** What a client would receive now, without advancing. */
  peek(brokers: readonly BrokerRef[], request: MappingRequest): Map<number, Endpoint>;
  /** The current counter value. */
  readonly counter: number;
}

/**
 * A {@link ClusterMapping} over the live nodes that `options.nodes` reports.
 *
 * The client rack is `request.clientRack` when defined (null meaning none), else the one in the
 * client id ({@link clientRackFromClientId}). Only Metadata answers (`advance: true`) advance the
 * counter, so a client's other responses agree with its last Metadata; it wraps to 0 after
 * `Number.MAX_SAFE_INTEGER`.
 *
 * @example
 * ```ts
 * const mapping = clusterMapping({
 *   nodes: () => [{ id: "a", host: "gw-a", rack: null }, { id: "b", host: "gw-b", rack: null }],
 *   portStart: 9000,
 *   minBrokerId: 1,
 * });
 * const request = { clientId: "app", clientAddress: "10.0.0.1:5000", advance: true };
 * mapping.mapper([{ nodeId: 1, rack: null }], request).get(1); // { host: "gw-a", port: 9000 }
 * mapping.mapper([{ nodeId: 1, rack: null }], request).get(1); // { host: "gw-b", port: 9000 }
 * mapping.counter; // 2
 * ```
 */
export function clusterMapping(options: ClusterMappingOptions): ClusterMapping {
  const { portStart, minBrokerId } = options;
  let counter = options.initialCounter ?? 0;
  if (!Number.isSafeInteger(counter) || counter < 0) {
    throw new RangeError(`round-robin counter must be a non-negative safe integer, got ${counter}`);
  }
  const sticky = options.policy === "client-sticky";
  const compute = (brokers: readonly BrokerRef[], request: MappingRequest) =>
    brokerToNodeMapping({
      brokers,
      nodes: options.nodes(),
      counter: sticky ? clientTurn(request) : counter,
      clientRack: request.clientRack !== undefined
        ? request.clientRack
        : clientRackFromClientId(request.clientId),
      portStart,
      minBrokerId,
    });
  return {
    mapper: (brokers, request) => {
      const endpoints = compute(brokers, request);
      // Advance only after a successful mapping: a failed response must not skip a position.
      if (request.advance === true && !sticky) counter = counter >= Number.MAX_SAFE_INTEGER ? 0 : counter + 1;
      return endpoints;
    },
    peek: compute,
    get counter() {
      return counter;
    },
  };
}
