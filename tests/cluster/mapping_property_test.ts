/**
 * The `client-consistent` policy (weighted rendezvous hashing), by its properties: consistency, spread,
 * minimal movement, weights, rack precedence. Then the same properties against mutants of the function,
 * each of which must fail at least one of them (so the properties bite).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  brokerPort,
  type BrokerRef,
  brokerToNodeMapping,
  clientKey,
  clientRackFromClientId,
  clientTurn,
  clusterMapping,
  type Endpoint,
  type GatewayNodeRef,
  type MappingRequest,
  nodeWeight,
  rendezvousDraw,
  rendezvousMapping,
} from "../../src/cluster/mapping.ts";
import {
  type Mapper,
  MIN_BROKER_ID,
  movement,
  plainBrokers,
  plainNodes,
  policyMapper,
  PORT_START,
  syntheticClients,
  worstSpread,
} from "./mapping_figures.ts";

const consistent = policyMapper("client-consistent");

// Arbitraries: few racks so that rack matches and misses both happen often; weights with zeros.
const rackArb = fc.constantFrom<string | null>(null, "r1", "r2", "r3");
const clientRackArb = fc.constantFrom<string | null>(null, "r1", "r2", "r3", "r-none");
const weightArb = fc.constantFrom<number | undefined>(undefined, undefined, 1, 2, 3, 0.5, 0);
const positiveWeightArb = fc.constantFrom<number | undefined>(undefined, 1, 2, 3, 0.5);

function nodesArbOf(weight: fc.Arbitrary<number | undefined>, minLength = 1): fc.Arbitrary<GatewayNodeRef[]> {
  return fc.uniqueArray(
    fc.record({ id: fc.string({ minLength: 1, maxLength: 4 }), rack: rackArb, weight }),
    { minLength, maxLength: 7, selector: (n) => n.id },
  ).map((list) =>
    list.map(({ id, rack, weight }) => ({
      id,
      host: `h/${id}`,
      rack,
      ...(weight === undefined ? {} : { weight }),
    }))
  );
}
const nodesArb = nodesArbOf(weightArb);
const brokersArb = fc.uniqueArray(
  fc.record({ nodeId: fc.integer({ min: 0, max: 40 }), rack: rackArb }),
  { maxLength: 8, selector: (b) => b.nodeId },
).map((list) => list.map(({ nodeId, rack }) => ({ nodeId, rack })));
const hostArb = fc.oneof(fc.ipV4(), fc.ipV6().map((ip) => `[${ip}]`), fc.domain());
const clientIdArb = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom("app,kgate_rack=r1", "svc kgate_rack=r2", "kgate_rack=r-none"),
);
const tcpPortArb = fc.integer({ min: 0, max: 65535 });
const clientArb = fc.record({
  clientId: fc.option(clientIdArb, { nil: null }),
  host: hostArb,
  ports: fc.tuple(tcpPortArb, tcpPortArb),
  clientRack: fc.option(clientRackArb, { nil: undefined }),
});

function permutation<T>(items: readonly T[]): fc.Arbitrary<T[]> {
  return fc.shuffledSubarray([...items], { minLength: items.length, maxLength: items.length });
}

function sorted(endpoints: Map<number, Endpoint>): [number, Endpoint][] {
  return [...endpoints].sort(([a], [b]) => a - b);
}

/** The nodes `client-consistent` may choose from: weight above 0, or all when none has. */
function eligibleOf(nodes: readonly GatewayNodeRef[]): GatewayNodeRef[] {
  const positive = nodes.filter((n) => nodeWeight(n) > 0);
  return positive.length > 0 ? positive : [...nodes];
}

/** What the client's rack is in the mapping: the explicit one, else the one in its client id. */
function rackOfRequest(request: MappingRequest): string | null {
  return request.clientRack !== undefined ? request.clientRack : clientRackFromClientId(request.clientId);
}

// ---------------------------------------------------------------------------------------------------
// The properties, each a function of the mapper under test; they throw when it breaks them.

type Property = (mapper: Mapper, params: fc.Parameters<unknown>) => void;

const clients10k = syntheticClients(10_000);

const PROPERTIES: Record<string, Property> = {
  "one endpoint per broker, at brokerPort, on a live node": (mapper, params) => {
    fc.assert(
      fc.property(brokersArb, nodesArb, clientArb, (brokers, nodes, c) => {
        const got = mapper(brokers, nodes, {
          clientId: c.clientId,
          clientAddress: `${c.host}:${c.ports[0]}`,
          clientRack: c.clientRack,
        });
        assert.deepEqual(
          [...got.keys()].sort((a, b) => a - b),
          brokers.map((b) => b.nodeId).sort((a, b) => a - b),
        );
        const hosts = new Set(nodes.map((n) => n.host));
        for (const [id, endpoint] of got) {
          assert.equal(endpoint.port, brokerPort(PORT_START, MIN_BROKER_ID, id));
          assert.ok(hosts.has(endpoint.host));
        }
      }),
      params,
    );
  },

  "consistency: any connection of the client, any order of the view and of the brokers": (mapper, params) => {
    fc.assert(
      fc.property(
        brokersArb.chain((b) => fc.tuple(fc.constant(b), permutation(b))),
        nodesArb.chain((n) => fc.tuple(fc.constant(n), permutation(n))),
        clientArb,
        ([brokers, brokersShuffled], [nodes, nodesShuffled], c) => {
          const at = (port: number) => ({
            clientId: c.clientId,
            clientAddress: `${c.host}:${port}`,
            clientRack: c.clientRack,
          });
          const here = mapper(brokers, nodes, at(c.ports[0]));
          assert.deepEqual(sorted(mapper(brokersShuffled, nodesShuffled, at(c.ports[1]))), sorted(here));
          assert.deepEqual(sorted(mapper(brokers, nodes, at(c.ports[0]))), sorted(here));
        },
      ),
      params,
    );
  },

  "spread: each node's share of each broker within 3 points of its weight share (10,000 clients)": (
    mapper,
  ) => {
    const brokers = plainBrokers(3);
    for (const weights of [[1, 1], [1, 1, 1], [1, 1, 1, 1, 1], [1, 2, 3], [3, 1, 1, 2], [0.5, 1]]) {
      const worst = worstSpread(mapper, brokers, plainNodes(weights), clients10k);
      assert.ok(worst <= 0.03, `weights ${weights}: worst deviation ${worst}`);
    }
  },

  "independence: a client's two brokers share a node as often as chance says (10,000 clients)": (mapper) => {
    for (const weights of [[1, 1, 1], [1, 2, 3]]) {
      const nodes = plainNodes(weights);
      const total = weights.reduce((a, b) => a + b);
      const expected = weights.reduce((sum, w) => sum + (w / total) ** 2, 0);
      let same = 0;
      for (const client of clients10k) {
        const got = mapper(plainBrokers(2), nodes, client);
        if (got.get(MIN_BROKER_ID)!.host === got.get(MIN_BROKER_ID + 1)!.host) same++;
      }
      const share = same / clients10k.length;
      assert.ok(Math.abs(share - expected) <= 0.03, `weights ${weights}: ${share} vs ${expected}`);
    }
  },

  "minimal movement on leave: when a node leaves or drains (weight 0), only its assignments move": (
    mapper,
    params,
  ) => {
    fc.assert(
      fc.property(
        brokersArb,
        nodesArbOf(positiveWeightArb, 2),
        fc.nat(),
        fc.array(clientArb, { minLength: 1, maxLength: 20 }),
        (brokers, nodes, pick, clients) => {
          const gone = nodes[pick % nodes.length];
          const without = nodes.filter((n) => n !== gone);
          const drained = nodes.map((n) => (n === gone ? { ...n, weight: 0 } : n));
          for (const c of clients) {
            const request = {
              clientId: c.clientId,
              clientAddress: `${c.host}:${c.ports[0]}`,
              clientRack: c.clientRack,
            };
            const before = mapper(brokers, nodes, request);
            for (const after of [mapper(brokers, without, request), mapper(brokers, drained, request)]) {
              for (const [id, endpoint] of before) {
                if (endpoint.host !== gone.host) {
                  assert.equal(after.get(id)!.host, endpoint.host, `broker ${id}`);
                } else assert.notEqual(after.get(id)!.host, gone.host);
              }
            }
          }
        },
      ),
      params,
    );
  },

  "minimal movement on join: only the new node's weight share moves, all of it to the new node": (mapper) => {
    const brokers = plainBrokers(3);
    for (
      const [weights, added] of [[[1], 1], [[1, 1], 1], [[1, 1, 1], 1], [[1, 1, 1, 1], 1], [
        [1, 2, 3],
        2,
      ]] as const
    ) {
      const before = plainNodes(weights);
      const after = plainNodes([...weights, added]);
      const moved = movement(mapper, brokers, before, after, clients10k);
      const expected = added / (weights.reduce((a, b) => a + b, 0) + added);
      const share = moved.moved / moved.total;
      assert.ok(
        Math.abs(share - expected) <= 0.02,
        `${weights} + ${added}: moved ${share}, expected ${expected}`,
      );
      assert.equal(moved.toNew, moved.moved, `${weights} + ${added}: moves between old nodes`);
    }
  },

  "weights: a node of weight 0 takes no share; all weights 0 is all weights 1": (mapper, params) => {
    fc.assert(
      fc.property(brokersArb, nodesArb, clientArb, (brokers, nodes, c) => {
        const request = {
          clientId: c.clientId,
          clientAddress: `${c.host}:${c.ports[0]}`,
          clientRack: c.clientRack,
        };
        const got = mapper(brokers, nodes, request);
        const zero = new Set(nodes.filter((n) => nodeWeight(n) === 0).map((n) => n.host));
        if (zero.size < nodes.length) { for (const e of got.values()) assert.ok(!zero.has(e.host), e.host); }
        const allZero = nodes.map((n) => ({ ...n, weight: 0 }));
        const allOne = nodes.map((n) => ({ ...n, weight: 1 }));
        assert.deepEqual(sorted(mapper(brokers, allZero, request)), sorted(mapper(brokers, allOne, request)));
      }),
      params,
    );
  },

  "rack precedence: client rack, then broker rack, then any node (among the eligible nodes)": (
    mapper,
    params,
  ) => {
    fc.assert(
      fc.property(brokersArb, nodesArb, clientArb, (brokers, nodes, c) => {
        const request = {
          clientId: c.clientId,
          clientAddress: `${c.host}:${c.ports[0]}`,
          clientRack: c.clientRack,
        };
        const got = mapper(brokers, nodes, request);
        const eligible = eligibleOf(nodes);
        const rackOf = new Map(nodes.map((n) => [n.host, n.rack]));
        const has = (rack: string | null) => rack !== null && eligible.some((n) => n.rack === rack);
        const clientRack = rackOfRequest(request);
        for (const b of brokers) {
          const chosen = rackOf.get(got.get(b.nodeId)!.host);
          if (has(clientRack)) assert.equal(chosen, clientRack);
          else if (has(b.rack)) assert.equal(chosen, b.rack);
        }
      }),
      params,
    );
  },
};

const PASSING: fc.Parameters<unknown> = { numRuns: 100 };

Deno.test("client-consistent: properties", async (t) => {
  for (const [name, property] of Object.entries(PROPERTIES)) {
    await t.step(name, () => property(consistent, PASSING));
  }
});

// ---------------------------------------------------------------------------------------------------
// A reference model, spelled out from the documentation with the public draw, and the mutants built
// from it by changing one thing.

interface Candidate {
  node: GatewayNodeRef;
  weight: number;
  /** Position in the view as given (mutants only). */
  viewIndex: number;
}

/** Chooses a broker's node among its (non-empty) candidates, in sorted node order. */
type Choose = (candidates: Candidate[], broker: BrokerRef, key: string, index: number) => GatewayNodeRef;

function compareIds(a: GatewayNodeRef, b: GatewayNodeRef): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Eligibility and rack precedence as documented; `choose` decides among the candidates. */
function modelMapper(choose: Choose): Mapper {
  return (brokers, nodes, request) => {
    const allZero = nodes.every((n) => nodeWeight(n) === 0);
    const eligible = nodes
      .map((node, viewIndex) => ({ node, weight: allZero ? 1 : nodeWeight(node), viewIndex }))
      .filter((c) => c.weight > 0)
      .sort((a, b) => compareIds(a.node, b.node));
    const clientRack = rackOfRequest(request);
    const inRack = (rack: string | null) => eligible.filter((c) => rack !== null && c.node.rack === rack);
    const key = clientKey(request);
    const endpoints = new Map<number, Endpoint>();
    [...brokers].sort((a, b) => a.nodeId - b.nodeId).forEach((broker, index) => {
      const byClient = inRack(clientRack);
      const byBroker = inRack(broker.rack);
      const candidates = byClient.length > 0 ? byClient : byBroker.length > 0 ? byBroker : eligible;
      const node = choose(candidates, broker, key, index);
      endpoints.set(broker.nodeId, {
        host: node.host,
        port: brokerPort(PORT_START, MIN_BROKER_ID, broker.nodeId),
      });
    });
    return endpoints;
  };
}

/** The highest `score` wins; ties go to the first candidate. */
function highest(candidates: Candidate[], score: (c: Candidate) => number): GatewayNodeRef {
  let best = candidates[0];
  for (const c of candidates) if (score(c) > score(best)) best = c;
  return best.node;
}

const reference = modelMapper((candidates, broker, key) =>
  highest(candidates, (c) => c.weight / -Math.log(rendezvousDraw(key, broker.nodeId, c.node.id)))
);

const MUTANTS: Record<string, Mapper> = {
  "the draw ignores the node": modelMapper((candidates, broker, key) =>
    highest(candidates, (c) => c.weight / -Math.log(rendezvousDraw(key, broker.nodeId, "")))
  ),
  "the draw ignores the broker": modelMapper((candidates, _broker, key) =>
    highest(candidates, (c) => c.weight / -Math.log(rendezvousDraw(key, 0, c.node.id)))
  ),
  "the score ignores the weight": modelMapper((candidates, broker, key) =>
    highest(candidates, (c) => rendezvousDraw(key, broker.nodeId, c.node.id))
  ),
  "the score adds the weight instead of dividing by -ln(draw)": modelMapper((candidates, broker, key) =>
    highest(candidates, (c) => c.weight + rendezvousDraw(key, broker.nodeId, c.node.id))
  ),
  "the draw uses the node's position in the view, not its id": modelMapper((candidates, broker, key) =>
    highest(candidates, (c) => c.weight / -Math.log(rendezvousDraw(key, broker.nodeId, String(c.viewIndex))))
  ),
  "(turn + i) mod n placement (the old client-sticky)": modelMapper((candidates, _broker, key, index) =>
    candidates[(clientTurn({ clientId: key, clientAddress: "" }) + index) % candidates.length].node
  ),
  "the old client-sticky policy itself": policyMapper("client-sticky"),
};

const MUTANT_RUNS: fc.Parameters<unknown> = { numRuns: 100, endOnFailure: true };

Deno.test("client-consistent: the implementation is the documented model", () => {
  fc.assert(
    fc.property(brokersArb, nodesArb.chain((n) => fc.tuple(fc.constant(n), permutation(n))), clientArb, (
      brokers,
      [nodes, shuffled],
      c,
    ) => {
      const request = {
        clientId: c.clientId,
        clientAddress: `${c.host}:${c.ports[0]}`,
        clientRack: c.clientRack,
      };
      assert.deepEqual(
        sorted(consistent(brokers, shuffled, request)),
        sorted(reference(brokers, nodes, request)),
      );
    }),
  );
  // The reference passes the properties too (so a mutant's failure is the mutation's doing).
  for (const [name, property] of Object.entries(PROPERTIES)) {
    if (name.includes("10,000") || name.includes("on join")) continue; // the slow ones, already run above
    property(reference, PASSING);
  }
});

Deno.test("client-consistent: every mutant fails at least one property", () => {
  const report: string[] = [];
  for (const [mutant, mapper] of Object.entries(MUTANTS)) {
    const failed = Object.entries(PROPERTIES).flatMap(([name, property]) => {
      try {
        property(mapper, MUTANT_RUNS);
        return [];
      } catch {
        return [name.split(":")[0]];
      }
    });
    report.push(`  ${mutant}: fails ${failed.length > 0 ? failed.join("; ") : "NOTHING"}`);
    assert.ok(failed.length > 0, `mutant survives: ${mutant}`);
  }
  console.log(`mutants and the properties they fail:\n${report.join("\n")}`);
});

// ---------------------------------------------------------------------------------------------------
// The policy through clusterMapping, the client identity, and fixed answers.

Deno.test("client-consistent through clusterMapping", async (t) => {
  const nodes = plainNodes([1, 2, undefined]);
  const brokers = plainBrokers(4);
  const options = { nodes: () => nodes, portStart: PORT_START, minBrokerId: MIN_BROKER_ID };

  await t.step(
    "any node, whatever its history, gives one client the same mapping; the counter never moves",
    () => {
      fc.assert(fc.property(
        fc.array(clientArb, { maxLength: 10 }),
        clientArb,
        fc.nat(1000),
        (history, c, initialCounter) => {
          const nodeA = clusterMapping({ ...options, policy: "client-consistent" });
          const nodeB = clusterMapping({
            ...options,
            nodes: () => [...nodes].reverse(),
            policy: "client-consistent",
            initialCounter,
          });
          for (const h of history) {
            nodeA.mapper(brokers, { clientId: h.clientId, clientAddress: `${h.host}:1`, advance: true });
          }
          const request = (port: number) => ({
            clientId: c.clientId,
            clientAddress: `${c.host}:${port}`,
            advance: true,
          });
          const onA = nodeA.mapper(brokers, request(c.ports[0]));
          assert.deepEqual(sorted(nodeB.mapper(brokers, request(c.ports[1]))), sorted(onA));
          assert.deepEqual(nodeA.peek(brokers, request(c.ports[1])), onA);
          assert.equal(nodeA.counter, 0);
          assert.equal(nodeB.counter, initialCounter);
        },
      ));
    },
  );

  await t.step("equals rendezvousMapping at the client's key and rack", () => {
    fc.assert(fc.property(brokersArb, nodesArb, clientArb, fc.boolean(), (bs, live, c, idOnly) => {
      const identity = idOnly ? "client-id" as const : "host-and-client-id" as const;
      const mapping = clusterMapping({
        ...options,
        nodes: () => live,
        policy: "client-consistent",
        clientIdentity: identity,
      });
      const request = {
        clientId: c.clientId,
        clientAddress: `${c.host}:${c.ports[0]}`,
        clientRack: c.clientRack,
      };
      assert.deepEqual(
        mapping.mapper(bs, request),
        rendezvousMapping({
          brokers: bs,
          nodes: live,
          clientKey: clientKey(request, identity),
          clientRack: rackOfRequest(request),
          portStart: PORT_START,
          minBrokerId: MIN_BROKER_ID,
        }),
      );
    }));
  });

  await t.step("client identity: host and client id by default; client id alone on request", () => {
    assert.equal(
      clientKey({ clientId: "billing", clientAddress: "10.0.0.7:50211" }),
      "10.0.0.7\u0000billing",
    );
    assert.equal(clientKey({ clientId: "billing", clientAddress: "[::1]:1" }), "[::1]\u0000billing");
    assert.equal(clientKey({ clientId: null, clientAddress: "h:1" }), "h\u0000");
    assert.equal(clientKey({ clientId: "billing", clientAddress: "10.0.0.7:1" }, "client-id"), "billing");
    assert.equal(clientKey({ clientId: null, clientAddress: "10.0.0.7:1" }, "client-id"), "");
    // Behind NAT: one client id from many addresses, one mapping with client-id; it spreads by host otherwise.
    const byId = clusterMapping({ ...options, policy: "client-consistent", clientIdentity: "client-id" });
    const byHost = clusterMapping({ ...options, policy: "client-consistent" });
    const addresses = Array.from({ length: 50 }, (_, i) => `192.0.2.${i}:${1000 + i}`);
    const mappings = (m: typeof byId) =>
      new Set(
        addresses.map((a) => JSON.stringify(sorted(m.peek(brokers, { clientId: "app", clientAddress: a })))),
      );
    assert.equal(mappings(byId).size, 1);
    assert.ok(mappings(byHost).size > 10);
  });

  await t.step("a bad weight is a RangeError; no node is a RangeError", () => {
    for (const weight of [-1, NaN, Infinity, -Infinity]) {
      const mapping = clusterMapping({
        ...options,
        nodes: () => plainNodes([1, weight]),
        policy: "client-consistent",
      });
      assert.throws(
        () => mapping.mapper(brokers, { clientId: "a", clientAddress: "h:1" }),
        RangeError,
        String(weight),
      );
    }
    const none = clusterMapping({ ...options, nodes: () => [], policy: "client-consistent" });
    assert.throws(() => none.mapper(brokers, { clientId: "a", clientAddress: "h:1" }), {
      name: "RangeError",
      message: "no live gateway node",
    });
  });

  await t.step("round-robin and client-sticky ignore weights, as before", () => {
    const weighted = plainNodes([0, 5, 1]);
    const unweighted = plainNodes([undefined, undefined, undefined]);
    const request = { clientId: "billing", clientAddress: "10.0.0.7:50211" };
    for (const policy of ["round-robin", "client-sticky"] as const) {
      assert.deepEqual(
        policyMapper(policy)(brokers, weighted, request),
        policyMapper(policy)(brokers, unweighted, request),
      );
    }
    assert.deepEqual(
      policyMapper("client-sticky")(brokers, weighted, request),
      brokerToNodeMapping({
        brokers,
        nodes: unweighted,
        counter: clientTurn(request),
        clientRack: null,
        portStart: PORT_START,
        minBrokerId: MIN_BROKER_ID,
      }),
    );
  });

  await t.step("fixed answers: nodes of different versions must agree, so the hash never changes", () => {
    // Pinned values: a change here breaks mixed-version clusters (a rolling upgrade would move clients).
    assert.equal(rendezvousDraw("", 0, ""), 0.04573916557737834);
    assert.equal(rendezvousDraw("10.0.0.7\u0000billing", 1, "gw-a"), 0.7661601316446459);
    assert.equal(rendezvousDraw("10.0.0.7\u0000billing", 2, "gw-a"), 0.4991760324195441);
    assert.equal(rendezvousDraw("10.0.0.7\u0000billing", 1, "gw-b"), 0.652721557793026);
    const mapping = clusterMapping({ ...options, policy: "client-consistent" });
    assert.deepEqual(
      Object.fromEntries([...mapping.peek(brokers, { clientId: "billing", clientAddress: "10.0.0.7:50211" })]
        .map(([id, e]) => [id, e.host])),
      { 1: "gw-1", 2: "gw-2", 3: "gw-2", 4: "gw-2" },
    );
  });

  await t.step("the draw is cyrb53 and MurmurHash3 as documented (an independent BigInt spelling)", () => {
    // The reference against cyrb53's published examples.
    const cyrb53 = (text: string) => {
      const [h1, h2] = cyrb53Lanes(text);
      return Number((h2 & 0x1f_ffffn) * U32 + h1);
    };
    assert.equal(cyrb53("a"), 7929297801672961);
    assert.equal(cyrb53("b"), 8684336938537663);
    assert.equal(cyrb53("revenge"), 4051478007546757);
    assert.equal(cyrb53("revenue"), 8309097637345594);
    fc.assert(fc.property(
      fc.string({ unit: "binary", maxLength: 30 }),
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      fc.string({ unit: "binary", maxLength: 12 }),
      (key, brokerId, nodeId) =>
        assert.equal(rendezvousDraw(key, brokerId, nodeId), referenceDraw(key, brokerId, nodeId)),
    ));
  });

  await t.step("draws are in (0, 1) and depend on each of client, broker and node", () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.string(), (k, b, n) => {
        const u = rendezvousDraw(k, b, n);
        assert.ok(u > 0 && u < 1, String(u));
      }),
    );
    const u = rendezvousDraw("c", 1, "n");
    assert.notEqual(rendezvousDraw("d", 1, "n"), u);
    assert.notEqual(rendezvousDraw("c", 2, "n"), u);
    assert.notEqual(rendezvousDraw("c", 1, "m"), u);
  });
});

// The draw spelled out with BigInt arithmetic modulo 2^32, independently of the implementation.
const U32 = 0x1_0000_0000n;
const mul32 = (a: bigint, b: bigint) => (a * b) % U32;
const rotl32 = (x: bigint, r: bigint) => ((x << r) | (x >> (32n - r))) % U32;

/** cyrb53's two lanes (seed 0) over UTF-16 code units. */
function cyrb53Lanes(text: string): [bigint, bigint] {
  let h1 = 0xdeadbeefn;
  let h2 = 0x41c6ce57n;
  for (let i = 0; i < text.length; i++) {
    const unit = BigInt(text.charCodeAt(i));
    h1 = mul32(h1 ^ unit, 2654435761n);
    h2 = mul32(h2 ^ unit, 1597334677n);
  }
  h1 = mul32(h1 ^ (h1 >> 16n), 2246822507n);
  h1 ^= mul32(h2 ^ (h2 >> 13n), 3266489909n);
  h2 = mul32(h2 ^ (h2 >> 16n), 2246822507n);
  h2 ^= mul32(h1 ^ (h1 >> 13n), 3266489909n);
  return [h1, h2];
}

/** MurmurHash3 x86_32 over 32-bit words, without the length step. */
function murmurWords(seed: bigint, words: readonly bigint[]): bigint {
  let h = seed;
  for (const word of words) {
    const k = mul32(rotl32(mul32(word, 0xcc9e2d51n), 15n), 0x1b873593n);
    h = (mul32(rotl32(h ^ k, 13n), 5n) + 0xe6546b64n) % U32;
  }
  h ^= h >> 16n;
  h = mul32(h, 0x85ebca6bn);
  h ^= h >> 13n;
  h = mul32(h, 0xc2b2ae35n);
  return h ^ (h >> 16n);
}

/** (20 bits of the "kgat" lane, 32 bits of the "erdv" lane, + 1/2) / 2^52, over client, broker, node words. */
function referenceDraw(key: string, brokerId: number, nodeId: string): number {
  const words = [...cyrb53Lanes(key), ((BigInt(brokerId) % U32) + U32) % U32, ...cyrb53Lanes(nodeId)];
  const high = murmurWords(0x6b676174n, words) >> 12n;
  const low = murmurWords(0x65726476n, words);
  return (Number(high * U32 + low) + 0.5) / 2 ** 52;
}
