/**
 * The gateway cluster against the real 3-broker cluster (brokers 1, 2, 3 in rack-a, rack-b, rack-c):
 * membership through the Kafka group, round-robin and rack-aware mapping, join / SIGTERM / kill -9
 * times, external load balancer mode, and a rolling restart under a kafkajs producer and consumer.
 *
 * The nodes of a test with several behaviours (round-robin, racks, join/leave) are a file fixture
 * shared by that test's behaviours.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { Kafka, logLevel } from "kafkajs";
import { runKcat, testKafka } from "../harness/mod.ts";
import { fetchMetadata } from "../harness/mod.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { kcatMetadata } from "../support/faults_gateway.ts";
import { type FileFixture, fileFixture, sharedTest } from "../support/fixture.ts";
import { showMapping as show, uniqueClusterId, untilClusterIs } from "../support/gateway_cluster.ts";
import { loopbackHosts } from "../support/loopback.ts";
import { waitUntil } from "../support/wait.ts";

const kafka = await testKafka();
const PORT_START = 6969;
/** One address per node of this file's tests. */
const [
  RR_A,
  RR_B,
  RACK_A,
  RACK_B,
  RACK_C,
  LIFE_A,
  LIFE_B,
  JOINER,
  EXT_LB,
  EXT_B,
  ROLL_1,
  ROLL_2,
  ROLL_3,
  STICKY_A,
  STICKY_B,
  UNREACHABLE_UPSTREAM,
  UNREACHABLE_A,
  UNREACHABLE_B,
] = loopbackHosts("cluster", 18);

/** broker id → advertised "host:port", from one Metadata request on a connection of its own. */
async function metadataMapping(bootstrap: string, clientId = "cluster-test"): Promise<Map<number, string>> {
  const { brokers } = await fetchMetadata(bootstrap, [], 10_000, clientId);
  return new Map(brokers.map((b) => [b.nodeId, `${b.host}:${b.port}`]));
}

function hostsOf(mapping: Map<number, string>): Set<string> {
  return new Set([...mapping.values()].map((e) => e.split(":")[0]));
}

async function startNode(
  host: string,
  cluster: string,
  env: Record<string, string> = {},
): Promise<GatewayProcess> {
  const node = await GatewayProcess.start({
    host,
    kafka,
    portStart: PORT_START,
    env: { GATEWAY_CLUSTER_ID: cluster, ...env },
  });
  await node.waitUntilReady();
  return node;
}

/** Every broker's endpoint keeps its port; the two mappings differ and together use both hosts per broker. */
function assertRoundRobin(first: Map<number, string>, second: Map<number, string>, hosts: string[]): void {
  assert.equal(first.size, 3, show(first));
  assert.notDeepEqual(first, second, `two successive mappings are equal: ${show(first)}`);
  for (const [id, endpoint] of first) {
    assert.equal(endpoint.split(":")[1], String(PORT_START + id), show(first));
    const pair = new Set([endpoint.split(":")[0], second.get(id)!.split(":")[0]]);
    assert.deepEqual(pair, new Set(hosts), `broker ${id}: ${show(first)} then ${show(second)}`);
  }
}

function kcatMapping(brokers: { id: number; name: string }[]): Map<number, string> {
  return new Map(brokers.map((b) => [b.id, b.name]));
}

/** Nodes of one gateway cluster, each ready, all seeing each other; stopped after the file. */
function nodesFixture(
  name: string,
  nodes: { host: string; env?: Record<string, string> }[],
): FileFixture<{ cluster: string; nodes: GatewayProcess[] }> {
  return fileFixture(async (stack) => {
    const cluster = uniqueClusterId(name);
    const started: GatewayProcess[] = [];
    stack.defer(async () => {
      await Promise.all(started.map((n) => n.stop()));
    });
    for (const { host, env } of nodes) started.push(await startNode(host, cluster, env));
    await untilClusterIs(started, started.map((n) => n.host));
    return { cluster, nodes: started };
  });
}

/** Round-robin is no longer the default policy: the tests of it ask for it explicitly. */
const ROUND_ROBIN = { GATEWAY_LOAD_BALANCING_POLICY: "round-robin" };

/** Two nodes with the round-robin policy. */
const roundRobin = nodesFixture("rr", [RR_A, RR_B].map((host) => ({ host, env: ROUND_ROBIN })));

for (const [index, host] of [RR_A, RR_B].entries()) {
  const name = (what: string) =>
    `two nodes: successive Metadata requests round-robin brokers over both nodes: ${what}`;
  sharedTest(name(`raw Metadata requests through ${host}`), async () => {
    const { nodes } = await roundRobin.get();
    const node = nodes[index];
    const hosts = nodes.map((n) => n.host);
    const first = await metadataMapping(node.bootstrap);
    const second = await metadataMapping(node.bootstrap);
    assertRoundRobin(first, second, hosts);
    // The rotation has period 2 with two nodes.
    assert.deepEqual(await metadataMapping(node.bootstrap), first);
  });
  sharedTest(name(`kafkajs admin describeCluster through ${host}`), async () => {
    const { nodes } = await roundRobin.get();
    const node = nodes[index];
    const hosts = nodes.map((n) => n.host);
    // The admin's socket factory dials this node whatever host a broker is advertised at (any node
    // serves any broker port), so every request it sends turns this node's counter. kafkajs sends two
    // Metadata requests per describeCluster (a refresh, then the call): one other request in between
    // moves the next call to the other turn.
    const admin = new Kafka({
      brokers: [node.bootstrap],
      logLevel: logLevel.NOTHING,
      socketFactory: ({ port, onConnect }) => net.connect({ host: node.host, port }, onConnect),
    }).admin();
    await admin.connect();
    try {
      const asMapping = (brokers: { nodeId: number; host: string; port: number }[]) =>
        new Map(brokers.map((x) => [x.nodeId, `${x.host}:${x.port}`]));
      const first = asMapping((await admin.describeCluster()).brokers);
      await metadataMapping(node.bootstrap);
      const second = asMapping((await admin.describeCluster()).brokers);
      assertRoundRobin(first, second, hosts);
    } finally {
      await admin.disconnect();
    }
  });
  sharedTest(name(`kcat -L through ${host}`), async () => {
    const { nodes } = await roundRobin.get();
    const node = nodes[index];
    const hosts = nodes.map((n) => n.host);
    // librdkafka sends two Metadata requests per `kcat -L` (brokers on connect, then the listing),
    // so with two nodes back-to-back runs land on the same turn: one other request in between
    // moves the next run to the other turn.
    const first = kcatMapping((await kcatMetadata(node.bootstrap)).brokers);
    await metadataMapping(node.bootstrap);
    const second = kcatMapping((await kcatMetadata(node.bootstrap)).brokers);
    assertRoundRobin(first, second, hosts);
  });
}

Deno.test("client-sticky policy: a client gets one mapping from every node; client ids spread", async () => {
  const cluster = uniqueClusterId("sticky");
  const env = { GATEWAY_LOAD_BALANCING_POLICY: "client-sticky" };
  const a = await startNode(STICKY_A, cluster, env);
  const b = await startNode(STICKY_B, cluster, env);
  try {
    await untilClusterIs([a, b], [a.host, b.host]);
    const mappings = new Map<string, string>();
    for (let i = 0; i < 8; i++) {
      const clientId = `app-${i}`;
      const seen = new Set<string>();
      for (const node of [a, b, a, b]) seen.add(show(await metadataMapping(node.bootstrap, clientId)));
      assert.equal(seen.size, 1, `${clientId} got ${[...seen].join(" | ")}`);
      mappings.set(clientId, [...seen][0]);
    }
    // Eight client ids over two turns: both turns are used (a fixed hash; this is not chance).
    assert.equal(new Set(mappings.values()).size, 2, JSON.stringify(Object.fromEntries(mappings)));
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

/** Three nodes, one in each broker's rack. */
const racks = nodesFixture("racks", [
  { host: RACK_A, env: { GATEWAY_RACK_ID: "rack-a" } },
  { host: RACK_B, env: { GATEWAY_RACK_ID: "rack-b" } },
  { host: RACK_C, env: { GATEWAY_RACK_ID: "rack-c" } },
]);
/** Each broker mapped to the node of its rack. */
const RACK_MAPPING = new Map([[1, `${RACK_A}:6970`], [2, `${RACK_B}:6971`], [3, `${RACK_C}:6972`]]);
const racksTest = (what: string) =>
  `three nodes in the brokers' racks: each broker is mapped to the node of its rack: ${what}`;

sharedTest(racksTest("raw Metadata requests, four in a row through each node"), async () => {
  for (const node of (await racks.get()).nodes) {
    for (let i = 0; i < 4; i++) assert.deepEqual(await metadataMapping(node.bootstrap), RACK_MAPPING);
  }
});

sharedTest(racksTest("kcat -L through each node"), async () => {
  for (const node of (await racks.get()).nodes) {
    assert.deepEqual(kcatMapping((await kcatMetadata(node.bootstrap)).brokers), RACK_MAPPING);
  }
});

sharedTest(
  racksTest("a client naming its rack in client.id (kgate_rack=) gets its rack's node first"),
  async () => {
    const { nodes } = await racks.get();
    const inC = new Map([[1, `${RACK_C}:6970`], [2, `${RACK_C}:6971`], [3, `${RACK_C}:6972`]]);
    for (const node of nodes) {
      assert.deepEqual(await metadataMapping(node.bootstrap, "billing,kgate_rack=rack-c"), inC);
    }
    const result = await runKcat([
      "-L",
      "-J",
      "-b",
      nodes[0].bootstrap,
      "-X",
      "client.id=app,kgate_rack=rack-c",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(kcatMapping(JSON.parse(result.stdout).brokers), inC);
    // A rack no node is in: the brokers' racks decide.
    assert.deepEqual(await metadataMapping(nodes[1].bootstrap, "kgate_rack=rack-z"), RACK_MAPPING);
  },
);

/**
 * Two nodes a third one (JOINER) joins and leaves. Round-robin (asked for explicitly, no longer the
 * default): three nodes, three brokers, no racks, so every response names every node and a node's
 * presence shows in any one response.
 */
const lifePair = nodesFixture("life", [LIFE_A, LIFE_B].map((host) => ({ host, env: ROUND_ROBIN })));
const lifeTest = (what: string) =>
  `a node joins within 5 s, leaves on SIGTERM within 2 s, and on kill -9 within session timeout + 2 s: ${what}`;
const inMappingOf = (node: GatewayProcess, host: string) => async () =>
  hostsOf(await metadataMapping(node.bootstrap)).has(host);

/**
 * Starts the joiner (round-robin, as the pair) in the pair's cluster (without waiting for readiness);
 * killed at the end of the test.
 */
async function startJoiner(
  stack: AsyncDisposableStack,
  cluster: string,
  env: Record<string, string> = {},
): Promise<GatewayProcess> {
  const joiner = await GatewayProcess.start({
    host: JOINER,
    kafka,
    portStart: PORT_START,
    env: { GATEWAY_CLUSTER_ID: cluster, ...ROUND_ROBIN, ...env },
  });
  stack.defer(() => joiner.kill().then(() => {}));
  return joiner;
}

sharedTest(lifeTest("join: the new node appears in both nodes' mappings"), async () => {
  const { cluster, nodes: [a, b] } = await lifePair.get();
  await using stack = new AsyncDisposableStack();
  const spawned = performance.now();
  const joiner = await startJoiner(stack, cluster);
  const listening = performance.now();
  // Three nodes, three brokers, no racks: every response names every node.
  await waitUntil(inMappingOf(a, JOINER), 30_000, "joiner in A's mapping");
  await waitUntil(inMappingOf(b, JOINER), 30_000, "joiner in B's mapping");
  const seen = performance.now();
  console.log(
    `cluster timing: join seen by both nodes ${((seen - listening) / 1000).toFixed(2)} s after the ` +
      `new node listened (${((seen - spawned) / 1000).toFixed(2)} s after its process started)`,
  );
  assert.ok(seen - listening <= 5000, `join took ${seen - listening} ms`);
  // Leaves the group (no drain) so that the next test's joiner starts from a two-node cluster.
  await joiner.stop();
  await untilClusterIs([a, b], [a.host, b.host]);
});

sharedTest(lifeTest("SIGTERM: gone from both nodes' mappings, NOTREADY while draining"), async () => {
  const { cluster, nodes: [a, b] } = await lifePair.get();
  await using stack = new AsyncDisposableStack();
  const node = await startJoiner(stack, cluster, { GATEWAY_DRAIN_MS: "5000" });
  await waitUntil(inMappingOf(a, JOINER), 30_000, "joiner in A's mapping");
  await waitUntil(inMappingOf(b, JOINER), 30_000, "joiner in B's mapping");
  const signalled = performance.now();
  node.child.kill("SIGTERM");
  let body: { status: string; reasons: string[] } | undefined;
  await waitUntil(
    async () => {
      const ready = await fetch(`${node.httpUrl}/health/ready`, {
        headers: { Accept: "application/json" },
      });
      body = await ready.json();
      return ready.status === 503;
    },
    2000,
    "NOTREADY after SIGTERM",
  );
  assert.ok(body!.reasons.some((r) => /draining/.test(r)), JSON.stringify(body));
  await waitUntil(async () => !(await inMappingOf(a, JOINER)()), 10_000, "left A's mapping");
  await waitUntil(async () => !(await inMappingOf(b, JOINER)()), 10_000, "left B's mapping");
  const gone = performance.now() - signalled;
  console.log(`cluster timing: SIGTERM to gone from both nodes' mappings ${(gone / 1000).toFixed(2)} s`);
  assert.ok(gone <= 2000, `leaving took ${gone} ms`);
  // Still draining: connected clients keep being served until the drain period ends.
  assert.ok(await node.running(), "the node exited before its drain period");
  const status = await node.stop(15_000);
  assert.equal(status.code, 0, node.logs);
});

sharedTest(lifeTest("kill -9: gone once the session (10 s) times out"), async () => {
  const { cluster, nodes: [a, b] } = await lifePair.get();
  await using stack = new AsyncDisposableStack();
  const joiner = await startJoiner(stack, cluster);
  await joiner.waitUntilReady();
  await waitUntil(inMappingOf(a, JOINER), 10_000, "back in A's mapping");
  await waitUntil(inMappingOf(b, JOINER), 10_000, "back in B's mapping");
  const killed = performance.now();
  await joiner.kill();
  await waitUntil(async () => !(await inMappingOf(a, JOINER)()), 30_000, "dead node left A's mapping");
  await waitUntil(async () => !(await inMappingOf(b, JOINER)()), 30_000, "dead node left B's mapping");
  const gone = performance.now() - killed;
  console.log(`cluster timing: kill -9 to gone from both nodes' mappings ${(gone / 1000).toFixed(2)} s`);
  assert.ok(gone <= 12_000, `a killed node stayed ${gone} ms`);
});

Deno.test("external load balancer mode: every broker advertised at GATEWAY_ADVERTISED_HOST", async () => {
  const cluster = uniqueClusterId("extlb");
  const lb = EXT_LB;
  const env = (id: string) => ({
    GATEWAY_FEATURE_FLAGS_INTERNAL_LOAD_BALANCING: "false",
    GATEWAY_ADVERTISED_HOST: lb,
    GATEWAY_NODE_ID: id,
  });
  // The first node stands in for the load balancer's address; the second is reached only directly.
  const a = await startNode(lb, cluster, env("node-a"));
  const b = await startNode(EXT_B, cluster, env("node-b"));
  try {
    await waitUntil(
      async () => {
        const body = await (await fetch(`${b.httpUrl}/api/v1/cluster`, {
          headers: { Authorization: `Basic ${btoa("admin:kgate")}` },
        })).json() as { members: { id: string }[] };
        return body.members.map((m) => m.id).join() === "node-a,node-b";
      },
      20_000,
      "both nodes in the cluster view",
    );
    const expected = new Map([[1, `${lb}:6970`], [2, `${lb}:6971`], [3, `${lb}:6972`]]);
    for (const node of [a, b]) {
      for (let i = 0; i < 3; i++) assert.deepEqual(await metadataMapping(node.bootstrap), expected);
      assert.deepEqual(kcatMapping((await kcatMetadata(node.bootstrap)).brokers), expected);
    }
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

Deno.test("rolling restart: an idempotent kafkajs producer and a consumer lose nothing and see nothing twice", async () => {
  const cluster = uniqueClusterId("rolling");
  const hosts = [ROLL_1, ROLL_2, ROLL_3];
  const env = {
    GATEWAY_DRAIN_MS: "5000",
    GATEWAY_LOAD_BALANCING_POLICY: Deno.env.get("ROLLING_POLICY") ?? "client-sticky",
  };
  const nodes = [];
  for (const host of hosts) nodes.push(await startNode(host, cluster, env));
  await untilClusterIs(nodes, hosts);
  const topic = uniqueClusterId("rolling-topic");
  await kafka.createTopic(topic, 3, 3);
  const client = new Kafka({
    clientId: "rolling-restart",
    brokers: hosts.map((h) => `${h}:${PORT_START}`),
    logLevel: Deno.env.get("ROLLING_DEBUG") ? logLevel.WARN : logLevel.NOTHING,
    retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 2000 },
  });
  const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 });
  const consumer = client.consumer({
    groupId: `${topic}-group`,
    sessionTimeout: 30_000,
    heartbeatInterval: 3000,
  });
  const consumed = new Map<string, number>();
  const offsetsOf = new Map<string, string[]>();
  consumer.on(consumer.events.CRASH, ({ payload }) => console.log(`consumer crashed: ${payload.error}`));
  consumer.on(consumer.events.GROUP_JOIN, () => console.log(`consumer joined its group`));
  let lastConsumed = performance.now();
  let longestConsumeGap = 0;
  let stopProducing = false;
  let producing: Promise<void> | undefined;
  try {
    await producer.connect();
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message, partition }) => {
        offsetsOf.set(message.value!.toString(), [
          ...(offsetsOf.get(message.value!.toString()) ?? []),
          `${partition}@${message.offset}`,
        ]);
        const now = performance.now();
        if (consumed.size > 0) longestConsumeGap = Math.max(longestConsumeGap, now - lastConsumed);
        lastConsumed = now;
        const value = message.value!.toString();
        consumed.set(value, (consumed.get(value) ?? 0) + 1);
        return Promise.resolve();
      },
    });
    const acked: string[] = [];
    const failed: string[] = [];
    let longestProduceGap = 0;
    producing = (async () => {
      let sequence = 0;
      let lastAck = performance.now();
      while (!stopProducing) {
        // One partition (one broker) per send: kafkajs 2.2.4 retries a send that spans brokers while the
        // other brokers' requests are still in flight, with new sequence numbers, which duplicates them
        // (seen here as a record twice at consecutive offsets). One broker per send keeps its retries exact.
        const partition = (sequence / 10) % 3;
        const batch = Array.from({ length: 10 }, () => `m-${sequence++}`);
        try {
          await producer.send({ topic, acks: -1, messages: batch.map((value) => ({ partition, value })) });
          const now = performance.now();
          longestProduceGap = Math.max(longestProduceGap, now - lastAck);
          lastAck = now;
          acked.push(...batch);
        } catch {
          failed.push(...batch);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    for (let i = 0; i < nodes.length; i++) {
      const status = await nodes[i].stop(20_000);
      assert.equal(status.code, 0, nodes[i].logs);
      nodes[i] = await startNode(hosts[i], cluster, env);
      await untilClusterIs(nodes, hosts);
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
    stopProducing = true;
    await producing;
    assert.ok(acked.length > 500, `only ${acked.length} records acknowledged`);
    await waitUntil(
      () => Promise.resolve(acked.every((v) => consumed.has(v))),
      60_000,
      "every acknowledged record consumed",
    ).catch((error) => {
      const missing = acked.filter((v) => !consumed.has(v));
      throw new Error(
        `${error.message}: ${missing.length} of ${acked.length} acknowledged records not consumed ` +
          `(${consumed.size} consumed), e.g. ${missing.slice(0, 5).join(", ")}`,
      );
    });
    const twice = [...consumed].filter(([, n]) => n > 1).map(([v]) => v);
    assert.deepEqual(
      twice,
      [],
      `consumed more than once: ${twice.slice(0, 10).map((v) => `${v} at ${offsetsOf.get(v)}`).join(", ")}`,
    );
    console.log(
      `rolling restart: ${acked.length} records acknowledged, ${failed.length} not acknowledged (retried sends that ` +
        `gave up), ${consumed.size} consumed; longest pause: producer ${
          (longestProduceGap / 1000).toFixed(2)
        } s, ` +
        `consumer ${(longestConsumeGap / 1000).toFixed(2)} s`,
    );
  } finally {
    stopProducing = true;
    await producing?.catch(() => {});
    await consumer.disconnect().catch(() => {});
    await producer.disconnect().catch(() => {});
    await Promise.all(nodes.map((n) => n.stop()));
    await kafka.deleteTopic(topic).catch(() => {});
  }
});

Deno.test("Kafka unreachable: the nodes keep their last view, say so in log and readiness, and recover", async () => {
  // The two nodes reach Kafka only through a third gateway ("upstream"), which is stopped for a while.
  const upstreamHost = UNREACHABLE_UPSTREAM;
  const startUpstream = () =>
    GatewayProcess.start({
      host: upstreamHost,
      kafka,
      portStart: PORT_START,
      env: { GATEWAY_NODE_ID: "upstream" },
    });
  let upstream = await startUpstream();
  const cluster = uniqueClusterId("unreachable");
  const env = {
    KAFKA_BOOTSTRAP_SERVERS: `${upstreamHost}:${PORT_START}`,
    GATEWAY_METADATA_REFRESH_MS: "1000",
    GATEWAY_UPSTREAM_CONNECT_TIMEOUT_MS: "1000",
  };
  const nodes = [await startNode(UNREACHABLE_A, cluster, env), await startNode(UNREACHABLE_B, cluster, env)];
  const [node] = nodes;
  const readiness = async () => {
    const res = await fetch(`${node.httpUrl}/health/ready`, { headers: { Accept: "application/json" } });
    return {
      status: res.status,
      body: await res.json() as { checks: Record<string, boolean>; reasons: string[] },
    };
  };
  try {
    await untilClusterIs(nodes, nodes.map((n) => n.host));
    await upstream.stop();
    await node.waitForLog(
      /cannot reach the gateway group .*serving with the last known view of 2 node\(s\)/,
      20_000,
    );
    await waitUntil(
      async () => {
        const { status, body } = await readiness();
        return status === 503 && !body.checks.groupJoined &&
          body.reasons.some((r) =>
            /cannot reach the gateway group since .*last known view of 2 node/.test(r)
          );
      },
      30_000,
      "readiness naming the unreachable group",
    ); // a whole session (10 s) after the first failed attempt
    // Still running, still listening, and the view kept.
    assert.ok(await node.running());
    (await Deno.connect({ hostname: node.host, port: PORT_START })).close();
    await untilClusterIs(nodes, nodes.map((n) => n.host), 1000);
    upstream = await startUpstream();
    await node.waitForLog(/the gateway group .* is reachable again/, 30_000);
    await node.waitUntilReady(30_000);
    await untilClusterIs(nodes, nodes.map((n) => n.host), 30_000);
  } finally {
    await Promise.all([...nodes.map((n) => n.stop()), upstream.stop()]);
  }
});
