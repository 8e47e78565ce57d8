/** The broker-to-node mapping: rack precedence, round-robin, client racks and the stateful adapter. */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  brokerPort,
  type BrokerRef,
  brokerToNodeMapping,
  CLIENT_RACK_KEY,
  clientRackFromClientId,
  clientTurn,
  clusterMapping,
  type Endpoint,
  type GatewayNodeRef,
  type MappingPolicy,
  type MappingRequest,
  type NodeMappingInput,
  singleHostMapping,
} from "../../src/cluster/mapping.ts";

const PORT_START = 9000;
const MIN_BROKER_ID = 1;

function node(id: string, rack: string | null = null): GatewayNodeRef {
  return { id, host: `host-${id}`, rack };
}

function broker(nodeId: number, rack: string | null = null): BrokerRef {
  return { nodeId, rack };
}

function input(
  brokers: readonly BrokerRef[],
  nodes: readonly GatewayNodeRef[],
  counter = 0,
  clientRack: string | null = null,
): NodeMappingInput {
  return { brokers, nodes, counter, clientRack, portStart: PORT_START, minBrokerId: MIN_BROKER_ID };
}

/** Broker id → host, the part of the mapping the rules decide. */
function hosts(endpoints: Map<number, Endpoint>): Record<number, string> {
  return Object.fromEntries([...endpoints].map(([id, endpoint]) => [id, endpoint.host]));
}

/** The candidates of a broker, spelled out independently of the implementation. */
function candidatesOf(
  nodes: readonly GatewayNodeRef[],
  brokerRack: string | null,
  clientRack: string | null,
): GatewayNodeRef[] {
  const sorted = [...nodes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const rack of [clientRack, brokerRack]) {
    if (rack === null) continue;
    const inRack = sorted.filter((n) => n.rack === rack);
    if (inRack.length > 0) return inRack;
  }
  return sorted;
}

const request: MappingRequest = { clientId: "app", clientAddress: "10.0.0.1:5000" };

// Arbitraries: few racks so that rack matches and misses both happen often.
const rackArb = fc.constantFrom<string | null>(null, "r1", "r2", "r3");
const clientRackArb = fc.constantFrom<string | null>(null, "r1", "r2", "r3", "r-none");
const nodesArb = fc.uniqueArray(
  fc.record({ id: fc.string({ minLength: 1, maxLength: 4 }), rack: rackArb }),
  { minLength: 1, maxLength: 6, selector: (n) => n.id },
).map((list) => list.map(({ id, rack }) => ({ id, host: `h/${id}`, rack })));
const brokersArb = fc.uniqueArray(
  fc.record({ nodeId: fc.integer({ min: 0, max: 40 }), rack: rackArb }),
  { maxLength: 8, selector: (b) => b.nodeId },
).map((list) => list.map(({ nodeId, rack }) => ({ nodeId, rack })));
const counterArb = fc.oneof(fc.nat(100), fc.maxSafeNat());

function permutation<T>(items: readonly T[]): fc.Arbitrary<T[]> {
  return fc.shuffledSubarray([...items], { minLength: items.length, maxLength: items.length });
}

Deno.test("existing exports keep their behaviour", () => {
  assert.equal(brokerPort(6969, 0, 2), 6971);
  assert.equal(brokerPort(9000, 100, 103), 9003);
  const mapper = singleHostMapping({ host: "gw.example", portStart: 6969, minBrokerId: 0 });
  // A request without the new optional fields still type-checks.
  const endpoints = mapper([broker(0), broker(2, "r1")], { clientId: null, clientAddress: "" });
  assert.deepEqual([...endpoints], [[0, { host: "gw.example", port: 6969 }], [2, {
    host: "gw.example",
    port: 6971,
  }]]);
});

Deno.test("clientRackFromClientId", async (t) => {
  assert.equal(CLIENT_RACK_KEY, "kgate_rack");

  await t.step("finds the rack wherever it is delimited", () => {
    const cases: [string, string][] = [
      ["kgate_rack=rack-a", "rack-a"],
      ["billing,kgate_rack=eu-west-1a", "eu-west-1a"],
      ["app kgate_rack=r1;x", "r1"],
      ["kgate_rack=r1 app", "r1"],
      ["a-kgate_rack=r.1:2_x", "r.1:2_x"],
      ["x/kgate_rack=z/y", "z"],
      [".kgate_rack=Z9", "Z9"],
      ["kgate_rack=a,b", "a"],
      ["é kgate_rack=eu", "eu"],
      ["kgate_rack=eu€", "eu"],
    ];
    for (const [clientId, rack] of cases) assert.equal(clientRackFromClientId(clientId), rack, clientId);
  });

  await t.step("first well-formed occurrence wins", () => {
    assert.equal(clientRackFromClientId("kgate_rack=a kgate_rack=b"), "a");
    assert.equal(clientRackFromClientId("mykgate_rack=x,kgate_rack=y"), "y");
    assert.equal(clientRackFromClientId("kgate_rack=;kgate_rack=y"), "y");
  });

  await t.step("null when absent, glued to a word, or empty", () => {
    const cases: (string | null)[] = [
      null,
      "",
      "app",
      "mykgate_rack=x",
      "_kgate_rack=x",
      "1kgate_rack=x",
      "Xkgate_rack=x",
      "kgate_rack=",
      "kgate_rack",
      "kgate_rack=;x",
      "kgate_rack= x",
      "kgate_rack =x",
      "kgate_rack:x",
      "KGATE_RACK=x",
      "kgate-rack=x",
    ];
    for (const clientId of cases) assert.equal(clientRackFromClientId(clientId), null, String(clientId));
  });

  await t.step("property: a delimited key yields exactly its value", () => {
    const rackChar = fc.constantFrom(..."abcXYZ019._:-");
    const delimiter = fc.constantFrom(..." ,;/=+@!é");
    fc.assert(fc.property(
      fc.option(fc.tuple(fc.string({ maxLength: 6 }), delimiter).map(([s, d]) => s + d), { nil: "" }),
      fc.string({ unit: rackChar, minLength: 1, maxLength: 12 }),
      fc.option(fc.tuple(delimiter, fc.string({ maxLength: 6 })).map(([d, s]) => d + s), { nil: "" }),
      (prefix, rack, suffix) => {
        fc.pre(!prefix.includes(`${CLIENT_RACK_KEY}=`));
        assert.equal(clientRackFromClientId(`${prefix}${CLIENT_RACK_KEY}=${rack}${suffix}`), rack);
      },
    ));
  });

  await t.step("property: no key, no rack", () => {
    fc.assert(fc.property(fc.string({ maxLength: 30 }), (clientId) => {
      fc.pre(!clientId.includes(`${CLIENT_RACK_KEY}=`));
      assert.equal(clientRackFromClientId(clientId), null);
    }));
  });
});

Deno.test("brokerToNodeMapping: rules", async (t) => {
  await t.step("round-robin over nodes without racks", () => {
    const nodes = [node("b"), node("a")];
    const brokers = [broker(3), broker(1), broker(2)];
    const at0 = hosts(brokerToNodeMapping(input(brokers, nodes, 0)));
    const at1 = hosts(brokerToNodeMapping(input(brokers, nodes, 1)));
    // Sorted: nodes a, b; brokers 1, 2, 3 at indices 0, 1, 2.
    assert.deepEqual(at0, { 1: "host-a", 2: "host-b", 3: "host-a" });
    assert.deepEqual(at1, { 1: "host-b", 2: "host-a", 3: "host-b" });
    assert.notDeepEqual(at0, at1);
    const both = (id: 1 | 2 | 3) => new Set([at0[id], at1[id]]);
    for (const id of [1, 2, 3] as const) assert.deepEqual(both(id), new Set(["host-a", "host-b"]));
    assert.deepEqual(hosts(brokerToNodeMapping(input(brokers, nodes, 2))), at0);
  });

  await t.step("ports are brokerPort", () => {
    const endpoints = brokerToNodeMapping(input([broker(5), broker(1), broker(2)], [node("a")], 7));
    assert.deepEqual([...endpoints].sort(([a], [b]) => a - b), [
      [1, { host: "host-a", port: 9000 }],
      [2, { host: "host-a", port: 9001 }],
      [5, { host: "host-a", port: 9004 }],
    ]);
  });

  await t.step("broker rack: every broker stays in its rack for every counter", () => {
    const nodes = [node("n3", "rack-c"), node("n1", "rack-a"), node("n2", "rack-b")];
    const brokers = [broker(1, "rack-a"), broker(2, "rack-b"), broker(3, "rack-c")];
    for (let counter = 0; counter < 10; counter++) {
      assert.deepEqual(hosts(brokerToNodeMapping(input(brokers, nodes, counter))), {
        1: "host-n1",
        2: "host-n2",
        3: "host-n3",
      });
    }
  });

  await t.step("broker rack: round-robin within the rack's nodes", () => {
    const nodes = [node("a1", "a"), node("a2", "a"), node("b1", "b")];
    const brokers = [broker(1, "a"), broker(2, "a")];
    assert.deepEqual(hosts(brokerToNodeMapping(input(brokers, nodes, 0))), { 1: "host-a1", 2: "host-a2" });
    assert.deepEqual(hosts(brokerToNodeMapping(input(brokers, nodes, 1))), { 1: "host-a2", 2: "host-a1" });
  });

  await t.step("broker rack without a node falls back to all nodes", () => {
    const nodes = [node("a", "x"), node("b", "y")];
    const brokers = [broker(1, "z"), broker(2, null)];
    assert.deepEqual(hosts(brokerToNodeMapping(input(brokers, nodes, 0))), { 1: "host-a", 2: "host-b" });
    assert.deepEqual(hosts(brokerToNodeMapping(input(brokers, nodes, 1))), { 1: "host-b", 2: "host-a" });
  });

  await t.step("client rack beats broker rack", () => {
    const nodes = [node("n1", "rack-a"), node("n2", "rack-b"), node("n3", "rack-c")];
    const brokers = [broker(1, "rack-a"), broker(2, "rack-b"), broker(3, "rack-c")];
    for (let counter = 0; counter < 5; counter++) {
      assert.deepEqual(hosts(brokerToNodeMapping(input(brokers, nodes, counter, "rack-b"))), {
        1: "host-n2",
        2: "host-n2",
        3: "host-n2",
      });
    }
  });

  await t.step("client rack round-robins within its nodes", () => {
    const nodes = [node("b2", "b"), node("a1", "a"), node("b1", "b")];
    const brokers = [broker(1, "a"), broker(2, "a"), broker(3, null)];
    assert.deepEqual(hosts(brokerToNodeMapping(input(brokers, nodes, 0, "b"))), {
      1: "host-b1",
      2: "host-b2",
      3: "host-b1",
    });
    assert.deepEqual(hosts(brokerToNodeMapping(input(brokers, nodes, 1, "b"))), {
      1: "host-b2",
      2: "host-b1",
      3: "host-b2",
    });
  });

  await t.step("client rack without a node falls back to broker rack, then any node", () => {
    const nodes = [node("a1", "a"), node("b1", "b")];
    const brokers = [broker(1, "a"), broker(2, "b"), broker(3, "c")];
    assert.deepEqual(hosts(brokerToNodeMapping(input(brokers, nodes, 0, "zz"))), {
      1: "host-a1",
      2: "host-b1",
      3: "host-a1",
    });
    assert.deepEqual(hosts(brokerToNodeMapping(input(brokers, nodes, 1, "zz"))), {
      1: "host-a1",
      2: "host-b1",
      3: "host-b1",
    });
  });

  await t.step("nodes sort by string id, not numerically or by locale", () => {
    const nodes = [node("10"), node("9"), node("B"), node("a")];
    // Code-unit order: "10" < "9" < "B" < "a".
    const brokers = [broker(1), broker(2), broker(3), broker(4)];
    assert.deepEqual(hosts(brokerToNodeMapping(input(brokers, nodes, 0))), {
      1: "host-10",
      2: "host-9",
      3: "host-B",
      4: "host-a",
    });
  });

  await t.step("duplicate broker ids: the last one wins", () => {
    const nodes = [node("a", "x"), node("b", "y")];
    const endpoints = brokerToNodeMapping(input([broker(1, "x"), broker(1, "y")], nodes, 0));
    assert.deepEqual([...endpoints], [[1, { host: "host-b", port: 9000 }]]);
  });

  await t.step("no brokers, no endpoints", () => {
    assert.equal(brokerToNodeMapping(input([], [node("a")], 3)).size, 0);
  });

  await t.step("large counters keep their precision", () => {
    const nodes = [node("a"), node("b"), node("c")];
    const brokers = [broker(1), broker(2), broker(3)];
    // MAX_SAFE_INTEGER % 3 === 1; a naive (counter + 2) % 3 rounds 2^53 + 1 to 2^53 and answers 2.
    assert.equal(Number.MAX_SAFE_INTEGER % 3, 1);
    assert.deepEqual(hosts(brokerToNodeMapping(input(brokers, nodes, Number.MAX_SAFE_INTEGER))), {
      1: "host-b",
      2: "host-c",
      3: "host-a",
    });
  });

  await t.step("no live node is a RangeError", () => {
    assert.throws(() => brokerToNodeMapping(input([broker(1)], [])), {
      name: "RangeError",
      message: "no live gateway node",
    });
    assert.throws(() => brokerToNodeMapping(input([], [])), RangeError);
  });

  await t.step("counter must be a non-negative safe integer", () => {
    for (const counter of [-1, 0.5, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER + 1]) {
      assert.throws(() => brokerToNodeMapping(input([broker(1)], [node("a")], counter)), RangeError);
    }
    for (const counter of [0, 1, Number.MAX_SAFE_INTEGER]) {
      assert.equal(brokerToNodeMapping(input([broker(1)], [node("a")], counter)).size, 1);
    }
  });

  await t.step("exhaustive small cases match the spelled-out rules", () => {
    const racks = [null, "a", "b"];
    const brokerRacks = [null, "a", "b", "c"];
    let checked = 0;
    for (let nodeCount = 1; nodeCount <= 3; nodeCount++) {
      for (const nodeRacks of combinations(racks, nodeCount)) {
        const nodes = nodeRacks.map((rack, i) => node(`n${nodeCount - i}`, rack));
        for (const bRacks of combinations(brokerRacks, 3)) {
          const brokers = bRacks.map((rack, i) => broker(3 - i + MIN_BROKER_ID, rack));
          for (const clientRack of [null, "a", "c"]) {
            for (let counter = 0; counter < 4; counter++) {
              const got = brokerToNodeMapping(input(brokers, nodes, counter, clientRack));
              const sorted = [...brokers].sort((x, y) => x.nodeId - y.nodeId);
              assert.equal(got.size, sorted.length);
              sorted.forEach((b, i) => {
                const c = candidatesOf(nodes, b.rack, clientRack);
                assert.deepEqual(got.get(b.nodeId), {
                  host: c[(counter + i) % c.length].host,
                  port: brokerPort(PORT_START, MIN_BROKER_ID, b.nodeId),
                });
              });
              checked++;
            }
          }
        }
      }
    }
    assert.equal(checked, (3 + 9 + 27) * 64 * 3 * 4);
  });
});

/** Every sequence of `length` items drawn from `items`. */
function combinations<T>(items: readonly T[], length: number): T[][] {
  if (length === 0) return [[]];
  return combinations(items, length - 1).flatMap((rest) => items.map((item) => [item, ...rest]));
}

Deno.test("brokerToNodeMapping: properties", async (t) => {
  await t.step("one endpoint per broker, at brokerPort, on a live node's host", () => {
    fc.assert(fc.property(
      brokersArb,
      nodesArb,
      counterArb,
      clientRackArb,
      (brokers, nodes, counter, clientRack) => {
        const endpoints = brokerToNodeMapping(input(brokers, nodes, counter, clientRack));
        assert.deepEqual(
          [...endpoints.keys()].sort((a, b) => a - b),
          brokers.map((b) => b.nodeId).sort((a, b) => a - b),
        );
        const liveHosts = new Set(nodes.map((n) => n.host));
        for (const b of brokers) {
          const endpoint = endpoints.get(b.nodeId)!;
          assert.equal(endpoint.port, brokerPort(PORT_START, MIN_BROKER_ID, b.nodeId));
          assert.ok(liveHosts.has(endpoint.host));
        }
      },
    ));
  });

  await t.step("rack precedence: client rack, then broker rack, then any node", () => {
    fc.assert(fc.property(
      brokersArb,
      nodesArb,
      counterArb,
      clientRackArb,
      (brokers, nodes, counter, clientRack) => {
        const endpoints = brokerToNodeMapping(input(brokers, nodes, counter, clientRack));
        const rackOf = new Map(nodes.map((n) => [n.host, n.rack]));
        const has = (rack: string | null) => rack !== null && nodes.some((n) => n.rack === rack);
        for (const b of brokers) {
          const chosenRack = rackOf.get(endpoints.get(b.nodeId)!.host);
          if (has(clientRack)) assert.equal(chosenRack, clientRack);
          else if (has(b.rack)) assert.equal(chosenRack, b.rack);
        }
      },
    ));
  });

  await t.step("round-robin fairness: C.length consecutive counters visit each candidate once", () => {
    fc.assert(fc.property(
      brokersArb,
      nodesArb,
      fc.oneof(
        fc.nat(100),
        fc.integer({ min: Number.MAX_SAFE_INTEGER - 100, max: Number.MAX_SAFE_INTEGER - 6 }),
      ),
      clientRackArb,
      (brokers, nodes, start, clientRack) => {
        const runs = Array.from(
          { length: nodes.length },
          (_, k) => brokerToNodeMapping(input(brokers, nodes, start + k, clientRack)),
        );
        for (const b of brokers) {
          const candidates = candidatesOf(nodes, b.rack, clientRack).map((n) => n.host);
          const visited = runs.slice(0, candidates.length).map((run) => run.get(b.nodeId)!.host);
          assert.deepEqual([...visited].sort(), [...candidates].sort());
          // And the cycle repeats after exactly C.length counters.
          for (let k = candidates.length; k < runs.length; k++) {
            assert.equal(runs[k].get(b.nodeId)!.host, visited[k % candidates.length]);
          }
        }
      },
    ));
  });

  await t.step("does not depend on the order of nodes or brokers", () => {
    fc.assert(fc.property(
      brokersArb.chain((brokers) => fc.tuple(fc.constant(brokers), permutation(brokers))),
      nodesArb.chain((nodes) => fc.tuple(fc.constant(nodes), permutation(nodes))),
      counterArb,
      clientRackArb,
      ([brokers, brokersShuffled], [nodes, nodesShuffled], counter, clientRack) => {
        const a = brokerToNodeMapping(input(brokers, nodes, counter, clientRack));
        const b = brokerToNodeMapping(input(brokersShuffled, nodesShuffled, counter, clientRack));
        assert.deepEqual(
          new Map([...a].sort(([x], [y]) => x - y)),
          new Map([...b].sort(([x], [y]) => x - y)),
        );
      },
    ));
  });

  await t.step("does not mutate its inputs", () => {
    fc.assert(fc.property(
      brokersArb,
      nodesArb,
      counterArb,
      clientRackArb,
      (brokers, nodes, counter, clientRack) => {
        const before = structuredClone({ brokers, nodes });
        const mappingInput = input(brokers, nodes, counter, clientRack);
        brokerToNodeMapping(mappingInput);
        assert.deepEqual({ brokers, nodes }, before);
        assert.equal(mappingInput.counter, counter);
        assert.equal(mappingInput.clientRack, clientRack);
      },
    ));
  });
});

Deno.test("clusterMapping", async (t) => {
  const nodes = [node("a"), node("b")];
  const brokers = [broker(1), broker(2)];
  const options = { nodes: () => nodes, portStart: PORT_START, minBrokerId: MIN_BROKER_ID };

  await t.step("advances only on advance: true, after computing", () => {
    const mapping = clusterMapping(options);
    assert.equal(mapping.counter, 0);
    assert.deepEqual(hosts(mapping.mapper(brokers, request)), { 1: "host-a", 2: "host-b" });
    assert.deepEqual(hosts(mapping.mapper(brokers, { ...request, advance: false })), {
      1: "host-a",
      2: "host-b",
    });
    assert.equal(mapping.counter, 0);
    assert.deepEqual(hosts(mapping.mapper(brokers, { ...request, advance: true })), {
      1: "host-a",
      2: "host-b",
    });
    assert.equal(mapping.counter, 1);
    assert.deepEqual(hosts(mapping.mapper(brokers, request)), { 1: "host-b", 2: "host-a" });
    assert.deepEqual(hosts(mapping.mapper(brokers, { ...request, advance: true })), {
      1: "host-b",
      2: "host-a",
    });
    assert.equal(mapping.counter, 2);
  });

  await t.step("peek never advances and matches the next mapper call", () => {
    const mapping = clusterMapping(options);
    for (let round = 0; round < 4; round++) {
      const peeked = mapping.peek(brokers, { ...request, advance: true });
      assert.deepEqual(mapping.peek(brokers, request), peeked);
      assert.equal(mapping.counter, round);
      assert.deepEqual(mapping.mapper(brokers, { ...request, advance: true }), peeked);
      assert.equal(mapping.counter, round + 1);
    }
  });

  await t.step("agrees with brokerToNodeMapping at the current counter", () => {
    fc.assert(fc.property(
      brokersArb,
      nodesArb,
      fc.array(fc.record({ advance: fc.option(fc.boolean(), { nil: undefined }), peek: fc.boolean() }), {
        maxLength: 12,
      }),
      (brokers, live, calls) => {
        const mapping = clusterMapping({ ...options, nodes: () => live });
        let expected = 0;
        for (const call of calls) {
          const req = { ...request, advance: call.advance };
          const got = call.peek ? mapping.peek(brokers, req) : mapping.mapper(brokers, req);
          assert.deepEqual(got, brokerToNodeMapping(input(brokers, live, expected)));
          if (!call.peek && call.advance === true) expected++;
          assert.equal(mapping.counter, expected);
        }
      },
    ));
  });

  await t.step("client rack: explicit beats client id; null means none", () => {
    const racked = [node("a", "r1"), node("b", "r2"), node("c", "r3")];
    const mapping = clusterMapping({ ...options, nodes: () => racked });
    const rackedBrokers = [broker(1, "r1"), broker(2, "r2"), broker(3, "r3")];
    const fromId = { clientId: "svc,kgate_rack=r2", clientAddress: "10.0.0.1:5000" };
    assert.deepEqual(hosts(mapping.peek(rackedBrokers, fromId)), { 1: "host-b", 2: "host-b", 3: "host-b" });
    assert.deepEqual(hosts(mapping.peek(rackedBrokers, { ...fromId, clientRack: "r3" })), {
      1: "host-c",
      2: "host-c",
      3: "host-c",
    });
    assert.deepEqual(hosts(mapping.peek(rackedBrokers, { ...fromId, clientRack: null })), {
      1: "host-a",
      2: "host-b",
      3: "host-c",
    });
    assert.deepEqual(hosts(mapping.peek(rackedBrokers, { ...fromId, clientRack: undefined })), {
      1: "host-b",
      2: "host-b",
      3: "host-b",
    });
  });

  await t.step("reads the live view on every call", () => {
    let live = [node("a")];
    const mapping = clusterMapping({ ...options, nodes: () => live });
    assert.deepEqual(hosts(mapping.peek([broker(1)], request)), { 1: "host-a" });
    live = [node("z")];
    assert.deepEqual(hosts(mapping.mapper([broker(1)], request)), { 1: "host-z" });
  });

  await t.step("no live node throws and does not advance", () => {
    const mapping = clusterMapping({ ...options, nodes: () => [] });
    assert.throws(() => mapping.mapper(brokers, { ...request, advance: true }), {
      name: "RangeError",
      message: "no live gateway node",
    });
    assert.throws(() => mapping.peek(brokers, request), RangeError);
    assert.equal(mapping.counter, 0);
  });

  await t.step("wraps at MAX_SAFE_INTEGER back to 0", () => {
    const mapping = clusterMapping({ ...options, initialCounter: Number.MAX_SAFE_INTEGER - 1 });
    mapping.mapper(brokers, { ...request, advance: true });
    assert.equal(mapping.counter, Number.MAX_SAFE_INTEGER);
    assert.deepEqual(
      mapping.mapper(brokers, { ...request, advance: true }),
      brokerToNodeMapping(input(brokers, nodes, Number.MAX_SAFE_INTEGER)),
    );
    assert.equal(mapping.counter, 0);
    mapping.mapper(brokers, { ...request, advance: true });
    assert.equal(mapping.counter, 1);
  });

  await t.step("initialCounter must be a non-negative safe integer", () => {
    for (const initialCounter of [-1, 1.5, NaN, Number.MAX_SAFE_INTEGER + 1]) {
      assert.throws(() => clusterMapping({ ...options, initialCounter }), RangeError);
    }
    assert.equal(clusterMapping({ ...options, initialCounter: 5 }).counter, 5);
  });
});

/** FNV-1a (32-bit) over UTF-16 code units, spelled out with BigInt, independently of the implementation. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5n;
  for (let i = 0; i < text.length; i++) {
    hash ^= BigInt(text.charCodeAt(i));
    hash = (hash * 0x01000193n) % 0x1_0000_0000n;
  }
  return Number(hash);
}

/** The documented turn: host (the address without its port), a NUL, the client id. */
function expectedTurn(host: string, clientId: string): number {
  return fnv1a(`${host}\u0000${clientId}`);
}

// Hosts as they appear in client addresses: IPv4, bracketed IPv6 (as formatAddress writes them), names.
const hostArb = fc.oneof(
  fc.ipV4(),
  fc.ipV6().map((ip) => `[${ip}]`),
  fc.domain(),
  fc.string({ maxLength: 12 }).filter((s) => !s.includes(":")),
);
const clientIdArb = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: "binary", maxLength: 20 }));
const tcpPortArb = fc.integer({ min: 0, max: 65535 });

Deno.test("clientTurn", async (t) => {
  await t.step("known answers of FNV-1a", () => {
    // FNV-1a of the single byte 0 (empty host, NUL, empty client id) is 0x050c5d1f.
    assert.equal(clientTurn({ clientId: "", clientAddress: "" }), 0x050c5d1f);
    assert.equal(fnv1a("a"), 0xe40c292c); // the reference itself, against the published vector
    assert.equal(clientTurn({ clientId: "billing", clientAddress: "10.0.0.7:50211" }), 2337614720);
  });

  await t.step("property: FNV-1a of host, NUL, client id", () => {
    fc.assert(fc.property(hostArb, tcpPortArb, clientIdArb, (host, port, clientId) => {
      assert.equal(clientTurn({ clientId, clientAddress: `${host}:${port}` }), expectedTurn(host, clientId));
    }));
  });

  await t.step("property: a non-negative 32-bit integer", () => {
    fc.assert(fc.property(
      fc.string({ unit: "binary", maxLength: 40 }),
      fc.option(fc.string({ unit: "binary", maxLength: 40 }), { nil: null }),
      (clientAddress, clientId) => {
        const turn = clientTurn({ clientId, clientAddress });
        assert.ok(Number.isInteger(turn), String(turn));
        assert.ok(turn >= 0 && turn <= 0xffffffff, String(turn));
        // A valid round-robin counter for brokerToNodeMapping.
        assert.ok(Number.isSafeInteger(turn));
      },
    ));
  });

  await t.step("property: the same for every port of one host", () => {
    fc.assert(fc.property(hostArb, tcpPortArb, tcpPortArb, clientIdArb, (host, p1, p2, clientId) => {
      assert.equal(
        clientTurn({ clientId, clientAddress: `${host}:${p1}` }),
        clientTurn({ clientId, clientAddress: `${host}:${p2}` }),
      );
    }));
  });

  await t.step("differs by client id and by host", () => {
    const at = (clientId: string | null, clientAddress: string) => clientTurn({ clientId, clientAddress });
    assert.notEqual(at("billing", "10.0.0.7:1"), at("orders", "10.0.0.7:1"));
    assert.notEqual(at("billing", "10.0.0.7:1"), at("billing", "10.0.0.8:1"));
    assert.notEqual(at("app-1", "h:1"), at("app-2", "h:1"));
    // The NUL keeps host and client id apart: ("ab", "c") is not ("a", "bc").
    assert.notEqual(at("c", "ab:1"), at("bc", "a:1"));
    // Many clients of one host: no two share a turn (32 bits, 1000 deterministic ids).
    const turns = new Set(Array.from({ length: 1000 }, (_, i) => at(`client-${i}`, "10.1.2.3:40000")));
    assert.equal(turns.size, 1000);
    // And they spread over a small node count.
    const residues = new Set([...turns].map((turn) => turn % 3));
    assert.deepEqual(residues, new Set([0, 1, 2]));
  });

  await t.step("IPv6: the host is everything before the last colon, brackets included", () => {
    const app = (clientAddress: string) => clientTurn({ clientId: "app", clientAddress });
    assert.equal(app("[::1]:5000"), expectedTurn("[::1]", "app"));
    assert.equal(app("[::1]:5000"), app("[::1]:6000"));
    // A split at the first colon would leave "[" for every IPv6 client; these must differ.
    assert.notEqual(app("[::1]:5000"), app("[::2]:5000"));
    assert.notEqual(app("[fe80::1]:5000"), app("[fe80::2]:5000"));
    assert.equal(app("[2001:db8::7]:1"), expectedTurn("[2001:db8::7]", "app"));
  });

  await t.step("an address without a port is all host", () => {
    const app = (clientAddress: string) => clientTurn({ clientId: "app", clientAddress });
    assert.equal(app("10.0.0.7"), expectedTurn("10.0.0.7", "app"));
    assert.equal(app("10.0.0.7"), app("10.0.0.7:9092"));
    assert.equal(app(""), expectedTurn("", "app"));
  });

  await t.step("only the client id and address count", () => {
    const base = { clientId: "svc,kgate_rack=r1", clientAddress: "10.0.0.9:1234" };
    const turn = clientTurn(base);
    assert.equal(clientTurn({ ...base, advance: true } as MappingRequest), turn);
    assert.equal(clientTurn({ ...base, clientRack: "r2" } as MappingRequest), turn);
    assert.equal(turn, expectedTurn("10.0.0.9", "svc,kgate_rack=r1"));
  });
});

Deno.test("clusterMapping: policies", async (t) => {
  const nodes = [node("c"), node("a"), node("b")];
  const brokers = [broker(1), broker(2), broker(3), broker(4)];
  const options = { nodes: () => nodes, portStart: PORT_START, minBrokerId: MIN_BROKER_ID };
  const client = (clientId: string | null, clientAddress: string, advance?: boolean): MappingRequest => ({
    clientId,
    clientAddress,
    advance,
  });
  const callsArb = fc.array(
    fc.record({
      clientId: fc.option(fc.constantFrom("app", "billing", "orders,kgate_rack=r1", "x"), { nil: null }),
      host: fc.constantFrom("10.0.0.1", "10.0.0.2", "[::1]", "gw"),
      port: tcpPortArb,
      advance: fc.option(fc.boolean(), { nil: undefined }),
      peek: fc.boolean(),
    }),
    { maxLength: 15 },
  );

  await t.step("round-robin is the default and advances as before", () => {
    fc.assert(fc.property(brokersArb, nodesArb, callsArb, (brokersIn, live, calls) => {
      const implicit = clusterMapping({ ...options, nodes: () => live });
      const explicit = clusterMapping({ ...options, nodes: () => live, policy: "round-robin" });
      let expected = 0;
      for (const call of calls) {
        const req = client(call.clientId, `${call.host}:${call.port}`, call.advance);
        const a = call.peek ? implicit.peek(brokersIn, req) : implicit.mapper(brokersIn, req);
        const b = call.peek ? explicit.peek(brokersIn, req) : explicit.mapper(brokersIn, req);
        const clientRack = clientRackFromClientId(call.clientId);
        assert.deepEqual(a, brokerToNodeMapping(input(brokersIn, live, expected, clientRack)));
        assert.deepEqual(b, a);
        if (!call.peek && call.advance === true) expected++;
        assert.equal(implicit.counter, expected);
        assert.equal(explicit.counter, expected);
      }
    }));
    // Concretely: two Metadata answers to one client give it two different mappings.
    const mapping = clusterMapping(options);
    const req = client("app", "10.0.0.1:5000", true);
    assert.notDeepEqual(hosts(mapping.mapper(brokers, req)), hosts(mapping.mapper(brokers, req)));
    assert.equal(mapping.counter, 2);
  });

  await t.step("client-sticky never advances and equals brokerToNodeMapping at clientTurn", () => {
    fc.assert(fc.property(
      brokersArb,
      nodesArb,
      callsArb,
      fc.oneof(fc.nat(100), fc.maxSafeNat()),
      (brokersIn, live, calls, initialCounter) => {
        const mapping = clusterMapping({
          ...options,
          nodes: () => live,
          policy: "client-sticky",
          initialCounter,
        });
        for (const call of calls) {
          const req = client(call.clientId, `${call.host}:${call.port}`, call.advance);
          const got = call.peek ? mapping.peek(brokersIn, req) : mapping.mapper(brokersIn, req);
          const turn = expectedTurn(call.host, call.clientId ?? "");
          assert.equal(clientTurn(req), turn);
          assert.deepEqual(
            got,
            brokerToNodeMapping(input(brokersIn, live, turn, clientRackFromClientId(call.clientId))),
          );
          assert.equal(mapping.counter, initialCounter);
        }
      },
    ));
  });

  await t.step("client-sticky: one client, same mapping on two nodes whatever came before", () => {
    fc.assert(fc.property(
      brokersArb,
      nodesArb.chain((live) => fc.tuple(fc.constant(live), permutation(live))),
      callsArb,
      callsArb,
      fc.constantFrom("app", "billing", "orders,kgate_rack=r2"),
      fc.constantFrom("10.9.8.7", "[2001:db8::1]"),
      fc.tuple(tcpPortArb, tcpPortArb),
      (brokersIn, [liveA, liveB], historyA, historyB, clientId, host, [portA, portB]) => {
        // Two gateway nodes: each sees the same members (in its own order) and its own traffic.
        const nodeA = clusterMapping({ ...options, nodes: () => liveA, policy: "client-sticky" });
        const nodeB = clusterMapping({
          ...options,
          nodes: () => liveB,
          policy: "client-sticky",
          initialCounter: 17,
        });
        for (const call of historyA) nodeA.mapper(brokersIn, client(call.clientId, `${call.host}:1`, true));
        for (const call of historyB) nodeB.mapper(brokersIn, client(call.clientId, `${call.host}:2`, true));
        // The client reconnects from another port to the other node.
        const onA = nodeA.mapper(brokersIn, client(clientId, `${host}:${portA}`, true));
        const onB = nodeB.mapper(brokersIn, client(clientId, `${host}:${portB}`, true));
        assert.deepEqual(onA, onB);
        assert.deepEqual(nodeA.mapper(brokersIn, client(clientId, `${host}:${portA}`, true)), onA);
        assert.equal(nodeA.counter, 0);
        assert.equal(nodeB.counter, 17);
      },
    ));
  });

  await t.step("client-sticky: concrete mapping of one client, and clients spread over nodes", () => {
    const mapping = clusterMapping({ ...options, policy: "client-sticky" });
    const req = client("billing", "10.0.0.7:50211", true);
    // clientTurn = 2337614720, 2337614720 % 3 === 2: broker at index i gets sorted node (2 + i) % 3.
    assert.equal(2337614720 % 3, 2);
    const expected = { 1: "host-c", 2: "host-a", 3: "host-b", 4: "host-c" };
    for (let i = 0; i < 5; i++) assert.deepEqual(hosts(mapping.mapper(brokers, req)), expected);
    assert.deepEqual(hosts(mapping.peek(brokers, { ...req, clientAddress: "10.0.0.7:1" })), expected);
    assert.equal(mapping.counter, 0);
    const firstHosts = new Set(
      Array.from(
        { length: 60 },
        (_, i) => mapping.mapper(brokers, client(`c${i}`, "10.0.0.1:1", true)).get(1)!.host,
      ),
    );
    assert.deepEqual(firstHosts, new Set(["host-a", "host-b", "host-c"]));
  });

  await t.step("client-sticky: membership changes move the client", () => {
    let live = [node("a"), node("b")];
    const mapping = clusterMapping({ ...options, nodes: () => live, policy: "client-sticky" });
    const req = client("billing", "10.0.0.7:50211", true);
    assert.deepEqual(mapping.mapper(brokers, req), brokerToNodeMapping(input(brokers, live, 2337614720)));
    live = [node("a"), node("b"), node("c")];
    assert.deepEqual(mapping.mapper(brokers, req), brokerToNodeMapping(input(brokers, live, 2337614720)));
  });

  await t.step("client-sticky: rack precedence still applies", () => {
    const racked = [node("a1", "r1"), node("a2", "r1"), node("b1", "r2"), node("b2", "r2"), node("z", null)];
    const mapping = clusterMapping({ ...options, nodes: () => racked, policy: "client-sticky" });
    const rackedBrokers = [broker(1, "r1"), broker(2, "r2"), broker(3, null), broker(4, "r9")];
    const rackOf = new Map(racked.map((n) => [n.host, n.rack]));
    for (let i = 0; i < 40; i++) {
      // Client rack from the client id: every broker through that rack's nodes.
      const fromId = mapping.mapper(rackedBrokers, client(`c${i},kgate_rack=r2`, `10.0.0.${i}:1`, true));
      for (const b of rackedBrokers) assert.equal(rackOf.get(fromId.get(b.nodeId)!.host), "r2");
      // Explicit client rack wins over the client id.
      const explicit = mapping.mapper(rackedBrokers, {
        ...client(`c${i},kgate_rack=r2`, `10.0.0.${i}:1`, true),
        clientRack: "r1",
      });
      for (const b of rackedBrokers) assert.equal(rackOf.get(explicit.get(b.nodeId)!.host), "r1");
      // No client rack: brokers with a rack stay in it; the others may go anywhere.
      const plain = mapping.mapper(rackedBrokers, client(`c${i}`, `10.0.0.${i}:1`, true));
      assert.equal(rackOf.get(plain.get(1)!.host), "r1");
      assert.equal(rackOf.get(plain.get(2)!.host), "r2");
      assert.equal(mapping.counter, 0);
    }
  });

  await t.step("client-sticky: property, rack precedence on every input", () => {
    fc.assert(
      fc.property(brokersArb, nodesArb, clientRackArb, clientIdArb, hostArb, (bs, live, rack, id, host) => {
        const mapping = clusterMapping({ ...options, nodes: () => live, policy: "client-sticky" });
        const endpoints = mapping.mapper(bs, {
          clientId: id,
          clientAddress: `${host}:1`,
          clientRack: rack,
          advance: true,
        });
        const rackOf = new Map(live.map((n) => [n.host, n.rack]));
        const has = (r: string | null) => r !== null && live.some((n) => n.rack === r);
        for (const b of bs) {
          const chosen = rackOf.get(endpoints.get(b.nodeId)!.host);
          if (has(rack)) assert.equal(chosen, rack);
          else if (has(b.rack)) assert.equal(chosen, b.rack);
          const c = candidatesOf(live, b.rack, rack);
          const i = [...bs].sort((x, y) => x.nodeId - y.nodeId).indexOf(b);
          assert.equal(endpoints.get(b.nodeId)!.host, c[(expectedTurn(host, id) + i) % c.length].host);
        }
      }),
    );
  });

  await t.step("the policy type names exactly the two policies", () => {
    const policies: MappingPolicy[] = ["round-robin", "client-sticky"];
    for (const policy of policies) assert.equal(clusterMapping({ ...options, policy }).counter, 0);
  });
});
