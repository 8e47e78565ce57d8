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
 * Within the candidates a policy ({@link MappingPolicy}) picks the node:
 *
 * - `round-robin` ({@link clusterMapping}'s default when no policy is given; the gateway's setting
 *   `GATEWAY_LOAD_BALANCING_POLICY` defaults to `client-consistent`): a turn, a per-node counter advanced
 *   by every Metadata response, so successive requests spread over the nodes; broker `i` gets
 *   candidate `(turn + i) mod n`.
 * - `client-sticky`: the turn is a hash of the client's host and client id instead: every node gives
 *   one client the same mapping until the membership changes (clients that reconnect whenever a
 *   broker's address changes, such as kafkajs and librdkafka, then keep their connections), and
 *   different clients still spread over the nodes. But when the node count changes, `(turn + i) mod n`
 *   moves nearly every broker of every client.
 * - `client-consistent`: weighted rendezvous (highest-random-weight) hashing of (client, broker, node),
 *   {@link rendezvousMapping}: one mapping per client, the same on every node and every connection,
 *   spread over the nodes in proportion to their weights; when a node leaves only the brokers mapped
 *   to it move, when one joins only its weight share (about 1/(n+1)) moves to it.
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
  /**
   * The node's share weight, a finite number ≥ 0; 1 when absent. Only `client-consistent` reads it: a
   * node gets a share of each broker proportional to its weight; 0 takes no share (a node being
   * drained) unless every node has weight 0.
   */
  weight?: number;
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
  /** How a broker's node is chosen among its candidates (default `round-robin`); see {@link MappingPolicy}. */
  policy?: MappingPolicy;
  /** What identifies a client to `client-consistent` (default `host-and-client-id`); see {@link clientKey}. */
  clientIdentity?: ClientIdentity;
}

/**
 * How a broker's node is chosen among its candidates (see the module documentation):
 *
 * - `round-robin`: a per-node counter, advanced by every Metadata response;
 * - `client-sticky`: a hash of the client (host, client id) as the turn, `(turn + i) mod n`;
 * - `client-consistent`: weighted rendezvous hashing of (client, broker, node), {@link rendezvousMapping}.
 */
export type MappingPolicy = "round-robin" | "client-sticky" | "client-consistent";

/**
 * What identifies a client to the `client-consistent` policy: its host (without the port) and client
 * id, or the client id alone (clients behind one NAT address, or whose address changes).
 */
export type ClientIdentity = "host-and-client-id" | "client-id";

/** The host of a client address `host:port`: everything before the last colon (IPv6 keeps its brackets). */
function hostOf(clientAddress: string): string {
  const colon = clientAddress.lastIndexOf(":");
  return colon < 0 ? clientAddress : clientAddress.slice(0, colon);
}

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
  const key = `${hostOf(request.clientAddress)}\u0000${request.clientId ?? ""}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * The key that identifies a client to `client-consistent`: its host (the address without the port,
 * so every connection of the client agrees), a NUL and its client id; or, with `client-id`, the client
 * id alone. A null client id counts as empty.
 *
 * @example
 * ```ts
 * clientKey({ clientId: "billing", clientAddress: "10.0.0.7:50211" }); // "10.0.0.7\u0000billing"
 * clientKey({ clientId: "billing", clientAddress: "10.0.0.7:50211" }, "client-id"); // "billing"
 * ```
 */
export function clientKey(
  request: Pick<MappingRequest, "clientId" | "clientAddress">,
  identity: ClientIdentity = "host-and-client-id",
): string {
  const clientId = request.clientId ?? "";
  return identity === "client-id" ? clientId : `${hostOf(request.clientAddress)}\u0000${clientId}`;
}

// Hashing. Every node must compute the same numbers: plain 32-bit integer arithmetic (Math.imul),
// nothing that depends on the platform, the locale or the order of the view.

/** Two 32-bit lanes of a string: cyrb53 (bryc, public domain) over UTF-16 code units. */
function hashString(text: string): [number, number] {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ unit, 0x9e3779b1);
    h2 = Math.imul(h2 ^ unit, 0x5f356495);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 0x85ebca6b);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 0x85ebca6b);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 0xc2b2ae35);
  return [h1 | 0, h2 | 0];
}

/** One word into a MurmurHash3 (x86, 32-bit) state. */
function mixWord(state: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  const h = state ^ k;
  return (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
}

/** MurmurHash3's finalizer: every input bit flips each output bit with probability about 1/2. */
function finalize(state: number): number {
  let h = state ^ (state >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

// Two MurmurHash3 lanes with different seeds give the 52 bits of a draw.
const SEED_HIGH = 0x6b676174; // "kgat"
const SEED_LOW = 0x65726476; // "erdv"
const TWO_POW_32 = 0x1_0000_0000;
const TWO_POW_52 = 0x10_0000_0000_0000;

/** A lane's state after the client and broker words, shared by every node of one broker. */
function clientBrokerLane(seed: number, client: readonly [number, number], brokerId: number): number {
  return mixWord(mixWord(mixWord(seed, client[0]), client[1]), brokerId);
}

/**
 * Finishes a draw with the node's words: a number strictly between 0 and 1 (52 random bits).
 *
 * `high` and `low` are the two lanes' states from {@link clientBrokerLane}.
 */
function draw(high: number, low: number, node: readonly [number, number]): number {
  const top = finalize(mixWord(mixWord(high, node[0]), node[1])) >>> 12; // 20 bits
  const bottom = finalize(mixWord(mixWord(low, node[0]), node[1])); // 32 bits
  // (k + 0.5) / 2^52 for k in [0, 2^52): never 0, never 1, exact in a double.
  return (top * TWO_POW_32 + bottom + 0.5) / TWO_POW_52;
}

/**
 * The rendezvous draw of (client, broker, node): a uniform pseudo-random number strictly between 0
 * and 1, the same on every node. {@link rendezvousMapping} gives the broker to the candidate with the
 * highest score `weight / -ln(draw)`.
 *
 * @example
 * ```ts
 * const u = rendezvousDraw("10.0.0.7\u0000billing", 1, "gw-a");
 * u > 0 && u < 1; // true
 * ```
 */
export function rendezvousDraw(clientKey: string, brokerId: number, nodeId: string): number {
  const client = hashString(clientKey);
  return draw(
    clientBrokerLane(SEED_HIGH, client, brokerId | 0),
    clientBrokerLane(SEED_LOW, client, brokerId | 0),
    hashString(nodeId),
  );
}

/** The weight of a node: 1 when absent. */
export function nodeWeight(node: Pick<GatewayNodeRef, "weight">): number {
  return node.weight ?? 1;
}

/** Everything {@link rendezvousMapping} depends on; it reads nothing else. */
export interface RendezvousMappingInput {
  /** Live brokers. */
  brokers: readonly BrokerRef[];
  /** Live gateway nodes, at least one. */
  nodes: readonly GatewayNodeRef[];
  /** The client's identity, {@link clientKey}. */
  clientKey: string;
  /** The client's rack, or null. */
  clientRack: string | null;
  /** Gateway port of broker `minBrokerId`. */
  portStart: number;
  /** Lowest broker id; see {@link brokerPort}. */
  minBrokerId: number;
}

interface Contender {
  node: GatewayNodeRef;
  weight: number;
  hash: [number, number];
}

/**
 * Maps every broker to a node by weighted rendezvous (highest-random-weight) hashing: the policy
 * `client-consistent`.
 *
 * Eligible nodes are those with a weight above 0; when none has, all nodes, as if of weight 1 (a
 * cluster draining every node still serves its clients). The candidates of a broker are chosen among
 * the eligible nodes by the precedence of {@link brokerToNodeMapping} (client rack, broker rack, any
 * node): a weight of 0 is an operator's instruction (drain this node) and beats the rack preference,
 * so draining a rack's last node sends that rack's clients to the next level. With every weight
 * above 0 the candidates are exactly those of {@link brokerToNodeMapping}. Each candidate draws
 * `u = rendezvousDraw(clientKey, broker, node id)` and scores `weight / -ln(u)`; the highest score
 * wins (ties, in practice only between duplicate ids, go to the first in node order). `-ln(u) / weight` is exponentially distributed with rate `weight`, so a node
 * wins with probability `weight / (sum of the candidates' weights)`.
 *
 * So the answer depends on the client key, the set of nodes and their weights, nothing else (not the
 * order of the view, not the node computing it); removing a node moves only the brokers it won;
 * adding one moves to it only the brokers it now wins (its weight share); and a client's brokers are
 * placed independently of one another. Duplicate broker ids: the last one wins.
 *
 * @example
 * ```ts
 * const nodes = [{ id: "a", host: "gw-a", rack: null }, { id: "b", host: "gw-b", rack: null, weight: 2 }];
 * const brokers = [{ nodeId: 1, rack: null }, { nodeId: 2, rack: null }];
 * rendezvousMapping({ brokers, nodes, clientKey: "10.0.0.7\u0000billing", clientRack: null, portStart: 9000, minBrokerId: 1 });
 * // broker 1 → gw-a or gw-b (b twice as likely), at port 9000; broker 2 at port 9001
 * ```
 *
 * @throws {RangeError} When `nodes` is empty or a weight is not a finite number ≥ 0.
 */
export function rendezvousMapping(input: RendezvousMappingInput): Map<number, Endpoint> {
  const { clientRack, portStart, minBrokerId } = input;
  if (input.nodes.length === 0) throw new RangeError("no live gateway node");
  const sorted = [...input.nodes].sort(compareNodes);
  let anyPositive = false;
  for (const node of sorted) {
    const weight = nodeWeight(node);
    if (!(Number.isFinite(weight) && weight >= 0)) {
      throw new RangeError(`node ${node.id}: weight must be a finite number >= 0, got ${weight}`);
    }
    if (weight > 0) anyPositive = true;
  }
  const eligible: Contender[] = [];
  for (const node of sorted) {
    const weight = anyPositive ? nodeWeight(node) : 1;
    if (weight > 0) eligible.push({ node, weight, hash: hashString(node.id) });
  }
  // With one weight for all (the usual case), the highest score is the highest draw: -ln is
  // decreasing and the weight a common factor. Comparing draws saves a logarithm per pair.
  const uniform = eligible.every((c) => c.weight === eligible[0].weight);
  const byId = new Map<number, BrokerRef>();
  for (const broker of input.brokers) byId.set(broker.nodeId, broker);

  const inRack = (rack: string | null): Contender[] | undefined => {
    if (rack === null) return undefined;
    const matching = eligible.filter((c) => c.node.rack === rack);
    return matching.length > 0 ? matching : undefined;
  };
  const clientCandidates = inRack(clientRack);
  const rackCandidates = new Map<string, Contender[] | undefined>();
  const client = hashString(input.clientKey);

  const endpoints = new Map<number, Endpoint>();
  for (const broker of [...byId.values()].sort((a, b) => a.nodeId - b.nodeId)) {
    let candidates = clientCandidates;
    if (candidates === undefined && broker.rack !== null) {
      if (!rackCandidates.has(broker.rack)) rackCandidates.set(broker.rack, inRack(broker.rack));
      candidates = rackCandidates.get(broker.rack);
    }
    candidates ??= eligible;
    const high = clientBrokerLane(SEED_HIGH, client, broker.nodeId | 0);
    const low = clientBrokerLane(SEED_LOW, client, broker.nodeId | 0);
    let best = candidates[0].node;
    let bestScore = -1;
    for (const candidate of candidates) {
      const u = draw(high, low, candidate.hash);
      const score = uniform ? u : candidate.weight / -Math.log(u);
      if (score > bestScore) {
        bestScore = score;
        best = candidate.node;
      }
    }
    endpoints.set(broker.nodeId, {
      host: best.host,
      port: brokerPort(portStart, minBrokerId, broker.nodeId),
    });
  }
  return endpoints;
}

/** The gateway's stateful mapping: its policy, with a round-robin counter (advanced by `round-robin` only). */
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
 * client id ({@link clientRackFromClientId}). With `round-robin`, only Metadata answers
 * (`advance: true`) advance the counter, so a client's other responses agree with its last Metadata;
 * it wraps to 0 after `Number.MAX_SAFE_INTEGER`. `client-sticky` and `client-consistent` never
 * advance it: their answer is a function of the client and the live nodes.
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
  const policy = options.policy ?? "round-robin";
  const identity = options.clientIdentity ?? "host-and-client-id";
  const sticky = policy === "client-sticky";
  const advances = policy !== "client-sticky" && policy !== "client-consistent";
  const compute = (brokers: readonly BrokerRef[], request: MappingRequest) => {
    const clientRack = request.clientRack !== undefined
      ? request.clientRack
      : clientRackFromClientId(request.clientId);
    if (policy === "client-consistent") {
      return rendezvousMapping({
        brokers,
        nodes: options.nodes(),
        clientKey: clientKey(request, identity),
        clientRack,
        portStart,
        minBrokerId,
      });
    }
    return brokerToNodeMapping({
      brokers,
      nodes: options.nodes(),
      counter: sticky ? clientTurn(request) : counter,
      clientRack,
      portStart,
      minBrokerId,
    });
  };
  return {
    mapper: (brokers, request) => {
      const endpoints = compute(brokers, request);
      // Advance only after a successful mapping: a failed response must not skip a position.
      if (request.advance === true && advances) {
        counter = counter >= Number.MAX_SAFE_INTEGER ? 0 : counter + 1;
      }
      return endpoints;
    },
    peek: compute,
    get counter() {
      return counter;
    },
  };
}
