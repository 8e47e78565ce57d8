/**
 * Under the default policy (`client-consistent`) every rewritten response a client receives — Metadata,
 * DescribeCluster, FindCoordinator, the NodeEndpoints of Produce and Fetch, ShareFetch and
 * ShareAcknowledge — names the same node for a broker, from any node of the cluster and whatever other
 * requests came before: by construction (no per-request turn), shown here on real responses captured
 * from Kafka (tests/protocol/fixtures), rewritten by the production rewrite path.
 */
import assert from "node:assert/strict";
import {
  type BrokerEndpointMapper,
  type BrokerRef,
  clusterMapping,
  type GatewayNodeRef,
  type MappingPolicy,
} from "../../src/cluster/mapping.ts";
import {
  ApiKey,
  decodeMessage,
  decodeNodeEndpoints,
  DescribeClusterResponse,
  FetchResponse,
  FindCoordinatorResponse,
  locateTopLevelTaggedFields,
  type MessageSpec,
  MetadataResponse,
  NODE_ENDPOINTS_TAG,
  ProduceResponse,
  responseHeaderLength,
  ShareAcknowledgeResponse,
  ShareFetchResponse,
} from "../../src/protocol/mod.ts";
import { addressRewrite, rewriteResponse } from "../../src/proxy/filters/address_rewrite.ts";
import { joinFrame } from "../../src/proxy/frame_pieces.ts";
import { fixtureVersionDirs, loadFixtureIndex } from "../protocol/fixture_support.ts";

// The production rewrite path, in one place (the only use of src/proxy in this file): the address
// rewrite filter's declared responses, and its rewrite function.
const ADDRESS_RESPONSES =
  addressRewrite({ clientAddress: "", mapper: () => new Map(), knownBrokers: () => [] })
    .responses ?? [];
/** Whether responses of this API version are rewritten (may carry broker addresses). */
const rewritten = (apiKey: number, version: number): boolean =>
  ADDRESS_RESPONSES.some((i) =>
    i.apiKey === apiKey && version >= i.versions.min && version <= i.versions.max
  );
/**
 * One response body rewritten as the node's connection would for `clientId` at `clientAddress`: the
 * size-prefixed frame, or null when it names no address (it goes out unchanged).
 */
function rewriteAddresses(
  response: { apiKey: number; version: number; body: Uint8Array },
  client: { clientId: string; clientAddress: string },
  mapper: BrokerEndpointMapper,
  known: readonly BrokerRef[],
): Uint8Array | null {
  const frame = rewriteResponse(
    { apiKey: response.apiKey, apiVersion: response.version, clientId: client.clientId },
    response.body,
    { clientAddress: client.clientAddress, mapper, knownBrokers: () => known },
  );
  return frame === null ? null : joinFrame(frame);
}

const FIXTURES = new URL("../protocol/fixtures/", import.meta.url);
const PORT_START = 6969;

/** Broker endpoints a response names: broker id → `host:port`. */
type Named = Map<number, string>;

const API: Record<string, { apiKey: number; schema: MessageSpec<unknown> }> = {
  MetadataResponse: { apiKey: ApiKey.Metadata, schema: MetadataResponse as MessageSpec<unknown> },
  DescribeClusterResponse: {
    apiKey: ApiKey.DescribeCluster,
    schema: DescribeClusterResponse as MessageSpec<unknown>,
  },
  FindCoordinatorResponse: {
    apiKey: ApiKey.FindCoordinator,
    schema: FindCoordinatorResponse as MessageSpec<unknown>,
  },
  ProduceResponse: { apiKey: ApiKey.Produce, schema: ProduceResponse as MessageSpec<unknown> },
  FetchResponse: { apiKey: ApiKey.Fetch, schema: FetchResponse as MessageSpec<unknown> },
  ShareFetchResponse: { apiKey: ApiKey.ShareFetch, schema: ShareFetchResponse as MessageSpec<unknown> },
  ShareAcknowledgeResponse: {
    apiKey: ApiKey.ShareAcknowledge,
    schema: ShareAcknowledgeResponse as MessageSpec<unknown>,
  },
};

interface Captured {
  file: string;
  message: string;
  apiKey: number;
  version: number;
  body: Uint8Array;
  brokers: BrokerRef[];
}

/** Every captured response of the APIs above (size prefix removed), with its cluster's brokers. */
function capturedResponses(): Captured[] {
  const out: Captured[] = [];
  for (const dir of fixtureVersionDirs(FIXTURES)) {
    const index = JSON.parse(Deno.readTextFileSync(new URL("index.json", dir))) as {
      cluster: { brokers: { nodeId: number; rack: string | null }[] };
    };
    const brokers = index.cluster.brokers.map((b) => ({ nodeId: b.nodeId, rack: b.rack }));
    for (const entry of loadFixtureIndex(dir)) {
      const api = API[entry.message];
      // Only versions that may carry addresses are rewritten (as the connection does).
      if (!api || entry.frame !== "response" || !rewritten(api.apiKey, entry.version)) continue;
      const bytes = Deno.readFileSync(new URL(entry.file, dir));
      out.push({
        file: `${dir.pathname.split("/").at(-2)}/${entry.file}`,
        message: entry.message,
        apiKey: api.apiKey,
        version: entry.version,
        body: entry.sizePrefixed ? bytes.subarray(4) : bytes,
        brokers,
      });
    }
  }
  return out;
}

/** The broker endpoints a rewritten frame (size-prefixed) names. */
function namedIn(captured: Captured, frame: Uint8Array): Named {
  const body = frame.subarray(4);
  const { apiKey, version } = captured;
  const headerEnd = responseHeaderLength(apiKey, version, body);
  const named: Named = new Map();
  const add = (id: number, host: string, port: number) => {
    const endpoint = `${host}:${port}`;
    const before = named.get(id);
    assert.ok(
      before === undefined || before === endpoint,
      `${captured.file}: broker ${id} twice, differently`,
    );
    named.set(id, endpoint);
  };
  const schema = API[captured.message].schema;
  if (apiKey === ApiKey.Produce || apiKey === ApiKey.Fetch) {
    const located = locateTopLevelTaggedFields(schema, version, body, headerEnd);
    const field = located.fields.find((f) => f.tag === NODE_ENDPOINTS_TAG);
    for (const n of field ? decodeNodeEndpoints(field.data) : []) add(n.nodeId, n.host, n.port);
    return named;
  }
  // deno-lint-ignore no-explicit-any
  const value = decodeMessage(schema, version, body, headerEnd).value as any;
  if (apiKey === ApiKey.Metadata) { for (const b of value.brokers) add(b.nodeId, b.host, b.port); }
  if (apiKey === ApiKey.DescribeCluster) { for (const b of value.brokers) add(b.brokerId, b.host, b.port); }
  if (apiKey === ApiKey.FindCoordinator) {
    if (version >= 4) {
      for (const c of value.coordinators) if (c.nodeId >= 0) add(c.nodeId, c.host, c.port);
    } else if (value.nodeId >= 0) add(value.nodeId, value.host, value.port);
  }
  if (apiKey === ApiKey.ShareFetch || apiKey === ApiKey.ShareAcknowledge) {
    for (const n of value.nodeEndpoints) add(n.nodeId, n.host, n.port);
  }
  return named;
}

/** One gateway node's rewrite path with the cluster mapping of `policy` over `nodes` (in this order). */
function gatewayNode(policy: MappingPolicy, nodes: GatewayNodeRef[], known: BrokerRef[]) {
  const { mapper } = clusterMapping({ nodes: () => nodes, portStart: PORT_START, minBrokerId: 0, policy });
  return (captured: Captured, clientId: string, clientAddress: string): Named => {
    const frame = rewriteAddresses(captured, { clientId, clientAddress }, mapper, known);
    // Responses that carry no address (e.g. a Produce without NodeEndpoints) go out unchanged.
    return frame === null ? new Map() : namedIn(captured, frame);
  };
}

const NODES: GatewayNodeRef[] = [
  { id: "gw-a:6969", host: "gw-a", rack: null },
  { id: "gw-b:6969", host: "gw-b", rack: null },
  { id: "gw-c:6969", host: "gw-c", rack: null },
];

/**
 * Runs every captured response, in an order shuffled per client, for 40 clients through three nodes
 * (each with the view in another order); returns, per client, every endpoint named for each broker.
 */
function exercise(
  policy: MappingPolicy,
): { perClient: Map<string, Map<number, Set<string>>>; names: number } {
  const responses = capturedResponses();
  const known = responses[0].brokers;
  const gateways = [
    gatewayNode(policy, NODES, known),
    gatewayNode(policy, [NODES[2], NODES[0], NODES[1]], known),
    gatewayNode(policy, [NODES[1], NODES[2], NODES[0]], known),
  ];
  const perClient = new Map<string, Map<number, Set<string>>>();
  let names = 0;
  for (let c = 0; c < 40; c++) {
    const clientId = `app-${c}`;
    const seen = new Map<number, Set<string>>();
    const order = responses.map((r, i) => ({ r, k: (i * 7919 + c * 104729) % 1009 })).sort((a, b) =>
      a.k - b.k
    );
    order.forEach(({ r }, i) => {
      // Each response through another node and from another connection (port) of the same client host.
      const named = gateways[i % 3](r, clientId, `10.1.2.3:${40000 + i}`);
      for (const [id, endpoint] of named) {
        if (!seen.has(id)) seen.set(id, new Set());
        seen.get(id)!.add(endpoint);
        names++;
      }
    });
    perClient.set(clientId, seen);
  }
  return { perClient, names };
}

Deno.test("client-consistent: every rewritten response of a client names one node per broker, from any node", () => {
  const responses = capturedResponses();
  const kinds = new Set(responses.map((r) => r.message));
  assert.deepEqual(
    [...kinds].sort(),
    Object.keys(API).sort(),
    "captured responses of every rewritten API with addresses",
  );
  const { perClient, names } = exercise("client-consistent");
  assert.ok(names > 40 * 50, `only ${names} broker endpoints named`);
  const hostsUsed = new Set<string>();
  for (const [clientId, seen] of perClient) {
    assert.equal(seen.size, 3, `${clientId}: brokers named ${[...seen.keys()]}`);
    for (const [id, endpoints] of seen) {
      assert.equal(endpoints.size, 1, `${clientId}: broker ${id} named as ${[...endpoints].join(", ")}`);
      const [endpoint] = endpoints;
      assert.equal(endpoint.split(":")[1], String(PORT_START + id));
      hostsUsed.add(`${id}@${endpoint.split(":")[0]}`);
    }
  }
  // Different clients spread: every broker is served by every node across 40 clients.
  assert.equal(hostsUsed.size, 9, [...hostsUsed].join(" "));
});

Deno.test("round-robin, by contrast: the same client is told different nodes for a broker", () => {
  const { perClient } = exercise("round-robin");
  const split = [...perClient.values()].filter((seen) => [...seen.values()].some((e) => e.size > 1));
  assert.ok(split.length > 0, "round-robin gave every client one node per broker");
});
