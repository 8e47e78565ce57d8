/**
 * The default mapping policy (`client-consistent`) against the real 3-broker cluster, with real clients:
 *
 * - 20 kcat (librdkafka) clients with distinct client ids through a 2-node cluster (plus a third node of
 *   weight 0): each client gets one mapping, the same from every node and the same as the HTTP preview;
 *   across the clients every broker is served by both nodes; the weight-0 node is in the cluster view and
 *   never in a mapping.
 * - A kafkajs producer and a 3-member kafkajs consumer group (metadataMaxAge 3 s) through 2 nodes for
 *   60 s: no crash, every record consumed once, and the connections each node accepts stay flat after the
 *   warm-up. The same run under `round-robin` (on two other nodes, at the same time) is printed beside it.
 *
 * - Behind a PROXY protocol header the client's host is the header's source: Metadata, DescribeCluster and
 *   FindCoordinator on one connection name the same node per broker, equal to the HTTP preview for that
 *   source, from either node.
 *
 * Every test starts nodes of its own (each a cluster of its own).
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { createTopic, deleteTopic, RawClient, runKcat, testKafka, uniqueTopic } from "../harness/mod.ts";
import {
  DescribeClusterRequest,
  DescribeClusterResponse,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  MetadataRequest,
  MetadataResponse,
} from "../../src/protocol/mod.ts";
import { DEFAULT_ADMIN_USER as ADMIN } from "../../src/config/mod.ts";
import { deadline, settleWithin, sleep } from "../../src/lib/deadline.ts";
import { showMapping as show, uniqueClusterId, untilClusterIs } from "../support/gateway_cluster.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { auditEntries } from "../support/haproxy_audit.ts";
import { HttpApi } from "../support/http_api.ts";
import { quietKafkajsTimerWarnings } from "../support/kafkajs.ts";
import { loopbackHosts } from "../support/loopback.ts";
import { waitUntil } from "../support/wait.ts";

quietKafkajsTimerWarnings();
const kafka = await testKafka();
const PORT_START = 6969;
/** One address per node of this file's tests. */
const [
  KCAT_A,
  KCAT_B,
  KCAT_WEIGHT_0,
  STEADY_CONSISTENT_A,
  STEADY_CONSISTENT_B,
  RR_A,
  RR_B,
  PROXY_A,
  PROXY_B,
] = loopbackHosts("mapping_policy", 9);

async function startNodes(
  hosts: string[],
  cluster: string,
  env: Record<string, string> = {},
  perNode: Record<string, string>[] = [],
): Promise<GatewayProcess[]> {
  const nodes = await Promise.all(hosts.map((host, i) =>
    GatewayProcess.start({
      host,
      kafka,
      portStart: PORT_START,
      env: { GATEWAY_CLUSTER_ID: cluster, GATEWAY_AUDIT_KAFKA_ENABLED: "false", ...env, ...perNode[i] },
    })
  ));
  await Promise.all(nodes.map((n) => n.waitUntilReady()));
  // Every node sees every node.
  await untilClusterIs(nodes, hosts, 30_000);
  return nodes;
}

/** broker id → advertised `host:port`, from `kcat -L` with this client id through `bootstrap`. */
async function kcatMapping(bootstrap: string, clientId: string): Promise<Map<number, string>> {
  const result = await runKcat(["-L", "-J", "-b", bootstrap, "-m", "10", "-X", `client.id=${clientId}`]);
  assert.equal(result.code, 0, `kcat -L through ${bootstrap} failed: ${result.stderr}`);
  const { brokers } = JSON.parse(result.stdout) as { brokers: { id: number; name: string }[] };
  return new Map(brokers.map((b) => [b.id, b.name]));
}

Deno.test("client-consistent (default): 20 kcat clients, one mapping each from every node, brokers spread over both nodes", async () => {
  const hosts = [KCAT_A, KCAT_B, KCAT_WEIGHT_0];
  // The third node has weight 0: in the cluster, answering clients, but given no broker.
  const nodes = await startNodes(hosts, uniqueClusterId("consistent-kcat"), {}, [{}, {}, {
    GATEWAY_NODE_WEIGHT: "0",
  }]);
  try {
    const cluster = await new HttpApi(nodes[0].httpUrl).json<
      { members: { host: string; weight?: number }[] }
    >(
      "/api/v1/cluster",
      { auth: ADMIN },
    );
    assert.deepEqual(
      cluster.json.members.map((m) => [m.host, m.weight]).sort(),
      [[hosts[0], 1], [hosts[1], 1], [hosts[2], 0]],
      cluster.body,
    );
    const servedBy = new Map<number, Set<string>>();
    const perClient: string[] = [];
    for (let i = 0; i < 20; i++) {
      const clientId = `kcat-${i}`;
      // Through the first node, then the second, then the weight-0 node: one answer.
      const [first, second, drained] = await Promise.all(
        nodes.map((node) => kcatMapping(node.bootstrap, clientId)),
      );
      assert.equal(first.size, kafka.brokers.length, show(first));
      assert.equal(show(second), show(first), `${clientId}: node B differs from node A`);
      assert.equal(show(drained), show(first), `${clientId}: the weight-0 node differs from node A`);
      // The HTTP preview, asked with the client's host (kcat connects from 127.0.0.1) and id, agrees.
      const preview = await new HttpApi(nodes[1].httpUrl).json<
        { brokers: { brokerId: number; host: string; port: number }[] }
      >(`/api/v1/mapping?clientId=${clientId}&clientHost=127.0.0.1`, { auth: ADMIN });
      assert.equal(
        show(new Map(preview.json.brokers.map((b) => [b.brokerId, `${b.host}:${b.port}`]))),
        show(first),
        `${clientId}: the HTTP preview differs from what kcat received`,
      );
      for (const [id, endpoint] of first) {
        const [host, port] = endpoint.split(":");
        assert.equal(Number(port), PORT_START + id, show(first));
        assert.notEqual(host, hosts[2], `${clientId}: broker ${id} mapped to the weight-0 node`);
        if (!servedBy.has(id)) servedBy.set(id, new Set());
        servedBy.get(id)!.add(host);
      }
      perClient.push(`${clientId}: ${show(first)}`);
    }
    const share = hosts.map((h) => `${h} ${perClient.join(" ").split(`${h}:`).length - 1}`).join(", ");
    console.log(`(client, broker) pairs per node: ${share} of ${20 * kafka.brokers.length}`);
    const spread = [...servedBy].sort(([a], [b]) => a - b).map(([id, h]) => `broker ${id}: ${[...h].sort()}`);
    console.log(
      `client-consistent, 20 kcat clients through 2 nodes (+1 of weight 0):\n  ${perClient.join("\n  ")}`,
    );
    for (const [id, servers] of servedBy) {
      assert.deepEqual(
        servers,
        new Set(hosts.slice(0, 2)),
        `broker ${id} served by ${[...servers]}: ${spread}`,
      );
    }
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});

Deno.test("round-robin, printed beside: 20 kcat -L runs through one of 2 nodes", async () => {
  const hosts = [RR_A, RR_B];
  const nodes = await startNodes(hosts, uniqueClusterId("rr-kcat"), {
    GATEWAY_LOAD_BALANCING_POLICY: "round-robin",
  });
  try {
    const mappings = new Map<string, number>();
    const pairs = new Map(hosts.map((h) => [h, 0]));
    for (let i = 0; i < 20; i++) {
      const mapping = await kcatMapping(nodes[0].bootstrap, `kcat-${i}`);
      mappings.set(show(mapping), (mappings.get(show(mapping)) ?? 0) + 1);
      for (const endpoint of mapping.values()) {
        const host = endpoint.split(":")[0];
        pairs.set(host, (pairs.get(host) ?? 0) + 1);
      }
    }
    console.log(
      `round-robin, 20 kcat -L through ${hosts[0]}: ${mappings.size} distinct mapping(s): ` +
        [...mappings].map(([m, n]) => `${n} × ${m}`).join("; ") +
        `; (client, broker) pairs per node: ${[...pairs].map(([h, n]) => `${h} ${n}`).join(", ")}`,
    );
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});

/**
 * Metadata, DescribeCluster and FindCoordinator on one connection that starts with a PROXY v1 header
 * naming `source`: broker id → endpoint from each.
 */
async function answersBehindProxy(
  node: GatewayProcess,
  source: string,
  clientId: string,
): Promise<{ metadata: string; describeCluster: string; coordinator: [number, string] }> {
  const client = await RawClient.connect(node.host, PORT_START, 10_000, clientId);
  try {
    await client.send(new TextEncoder().encode(`PROXY TCP4 ${source} ${node.host} 40000 ${PORT_START}\r\n`));
    type Endpoint = { host: string; port: number };
    const metadata = (await client.request(MetadataRequest, MetadataResponse, 4, {
      topics: [],
      allowAutoTopicCreation: false,
    })).body as unknown as { brokers: (Endpoint & { nodeId: number })[] };
    const cluster = (await client.request(DescribeClusterRequest, DescribeClusterResponse, 0, {
      includeClusterAuthorizedOperations: false,
    })).body as unknown as { brokers: (Endpoint & { brokerId: number })[] };
    const coordinator = (await client.request(FindCoordinatorRequest, FindCoordinatorResponse, 3, {
      key: `${clientId}-group`,
      keyType: 0,
    })).body as unknown as Endpoint & { nodeId: number };
    const asMapping = (brokers: { id: number; host: string; port: number }[]) =>
      show(new Map(brokers.map((b) => [b.id, `${b.host}:${b.port}`])));
    return {
      metadata: asMapping(
        metadata.brokers.map((b) => ({ ...b, id: b.nodeId })),
      ),
      describeCluster: asMapping(
        cluster.brokers.map((b: { brokerId: number; host: string; port: number }) => ({
          ...b,
          id: b.brokerId,
        })),
      ),
      coordinator: [coordinator.nodeId, `${coordinator.host}:${coordinator.port}`],
    };
  } finally {
    client.close();
  }
}

Deno.test("client-consistent behind a PROXY header: the header's source is the client's host; Metadata, DescribeCluster and FindCoordinator agree", async () => {
  const hosts = [PROXY_A, PROXY_B];
  const nodes = await startNodes(hosts, uniqueClusterId("consistent-proxy"), {
    GATEWAY_FEATURE_FLAGS_HAPROXY_PROTOCOL: "true",
  });
  try {
    const clientId = "proxied-app";
    const distinct = new Set<string>();
    for (let i = 1; i <= 8; i++) {
      const source = `10.0.0.${i}`;
      const preview = await new HttpApi(nodes[0].httpUrl).json<
        { brokers: { brokerId: number; host: string; port: number }[] }
      >(`/api/v1/mapping?clientId=${clientId}&clientHost=${source}`, { auth: ADMIN });
      const expected = show(new Map(preview.json.brokers.map((b) => [b.brokerId, `${b.host}:${b.port}`])));
      for (const node of nodes) {
        const answers = await answersBehindProxy(node, source, clientId);
        const label = `source ${source} through ${node.host}`;
        assert.equal(answers.metadata, expected, `${label}: Metadata differs from the preview`);
        assert.equal(answers.describeCluster, expected, `${label}: DescribeCluster differs`);
        const [coordinatorId, coordinatorEndpoint] = answers.coordinator;
        assert.ok(
          expected.includes(`${coordinatorId}→${coordinatorEndpoint}`),
          `${label}: ${answers.coordinator}`,
        );
      }
      distinct.add(expected);
    }
    // The host is part of the identity: one client id from eight sources does not get one mapping.
    assert.ok(distinct.size > 1, `eight sources, one mapping: ${[...distinct]}`);
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});

/** What one 60 s kafkajs run through two nodes gave. */
interface SteadyRun {
  policy: string;
  produced: number;
  consumedDistinct: number;
  consumedTwice: number;
  missing: number;
  crashes: string[];
  /** Connections each node accepted during the warm-up and after it. */
  accepted: { node: string; warmUp: number; after: number }[];
  afterTimeline: string;
  /** Group joins (rebalances seen by a member) after the warm-up. */
  joinsAfterWarmUp: number;
  warmUpSeconds: number;
}

/** The whole run: a warm-up of at least {@link WARM_UP_MS}, then {@link MEASURED_MS} measured. */
const STEADY_MS = 60_000;
/**
 * The warm-up lasts at least this, and until for {@link GROUP_STABLE_MS} no member joined the group and
 * no node accepted a connection (a late rebalance makes a consumer connect to its new partitions'
 * leaders: settling, not the policy moving clients).
 */
const WARM_UP_MS = 15_000;
/** Longest warm-up: a group that never settles (round-robin) is measured from then on. */
const MAX_WARM_UP_MS = 30_000;
const GROUP_STABLE_MS = 5_000;
const MEASURED_MS = STEADY_MS - WARM_UP_MS;
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
/** `MAPPING_DEBUG=1`: progress lines on stderr. */
const debug = Deno.env.get("MAPPING_DEBUG") ? (line: string) => console.error(line) : () => {};

async function steadyRun(policy: string, hosts: string[]): Promise<SteadyRun> {
  const nodes = await startNodes(hosts, uniqueClusterId(`steady-${policy}`), {
    GATEWAY_LOAD_BALANCING_POLICY: policy,
  });
  const topic = uniqueTopic(`steady-${policy}`);
  await createTopic(topic, 6, 3);
  const client = (clientId: string) =>
    new Kafka({
      clientId,
      brokers: nodes.map((n) => n.bootstrap),
      logLevel: logLevel.NOTHING,
      retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 2000 },
    });
  const producer = client("steady-producer").producer({ metadataMaxAge: 3000 });
  const consumers = [1, 2, 3].map((i) =>
    client(`steady-consumer-${i}`).consumer({
      groupId: `${topic}-group`,
      metadataMaxAge: 3000,
      sessionTimeout: 30_000,
      heartbeatInterval: 3000,
    })
  );
  const crashes: string[] = [];
  const consumed = new Map<string, number>();
  const acked: string[] = [];
  let stop = false;
  let producing: Promise<void> | undefined;
  let consumersUp: Promise<void> | undefined;
  const joinedAt: (number | undefined)[] = consumers.map(() => undefined);
  let joins = 0;
  const started = performance.now();
  const offsets = () => nodes.map((n) => n.logs.length);
  const opensSince = (from: number[]) =>
    nodes.map((n, i) => auditEntries(n.logs, from[i]).filter((e) => e.action === "OPEN").length);
  const start = offsets();
  try {
    await producer.connect();
    producing = (async () => {
      let sequence = 0;
      while (!stop) {
        const batch = Array.from({ length: 10 }, () => `s-${sequence++}`);
        try {
          await producer.send({ topic, acks: -1, messages: batch.map((value) => ({ value })) });
          acked.push(...batch);
        } catch {
          // not acknowledged: not expected to be consumed
        }
        await sleep(50);
      }
    })();
    // The consumers join at once (kafkajs' run() returns once the member joined its group, or keeps
    // retrying): the steady-state clock runs meanwhile, whatever the policy.
    consumersUp = Promise.all(consumers.map(async (consumer, i) => {
      consumer.on(consumer.events.GROUP_JOIN, () => {
        joinedAt[i] = performance.now();
        joins++;
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        crashes.push(
          `consumer ${i + 1} at ${((performance.now() - started) / 1000).toFixed(1)} s: ${payload.error}`,
        );
      });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: ({ message }) => {
          const value = message.value!.toString();
          consumed.set(value, (consumed.get(value) ?? 0) + 1);
          return Promise.resolve();
        },
      });
    })).then(() => {});
    // Warm-up: every consumer joined and no join for a while (on a loaded machine the group may take
    // longer than the minimum to settle).
    const elapsed = () => performance.now() - started;
    let opened = 0;
    let lastOpenAt = performance.now();
    while (
      elapsed() < MAX_WARM_UP_MS &&
      (elapsed() < WARM_UP_MS || joinedAt.some((t) => t === undefined) ||
        performance.now() - Math.max(...joinedAt.map((t) => t ?? 0)) < GROUP_STABLE_MS ||
        performance.now() - lastOpenAt < GROUP_STABLE_MS)
    ) {
      await sleep(200);
      const openedNow = sum(opensSince(start));
      if (openedNow !== opened) [opened, lastOpenAt] = [openedNow, performance.now()];
    }
    const joinsAtWarmUpEnd = joins;
    const warmUpSeconds = elapsed() / 1000;
    debug(`${policy}: warm-up over, ${acked.length} acknowledged, ${consumed.size} consumed`);
    const afterWarmUp = offsets();
    const warmUp = opensSince(start);
    // Per 15 s slice after the warm-up: how many connections the nodes accepted.
    const slices: number[] = [];
    let sliceStart = afterWarmUp;
    for (let slice = 0; slice < MEASURED_MS / 15_000; slice++) {
      await sleep(15_000);
      const now = offsets();
      slices.push(sum(opensSince(sliceStart)));
      sliceStart = now;
    }
    const after = opensSince(afterWarmUp);
    debug(`${policy}: steady state over, ${acked.length} acknowledged, ${consumed.size} consumed`);
    stop = true;
    await settleWithin(producing, deadline(10_000));
    debug(`${policy}: producer stopped`);
    await waitUntil(() => acked.every((v) => consumed.has(v)), 30_000, "every acknowledged record consumed")
      .catch(() => {});
    return {
      policy,
      produced: acked.length,
      consumedDistinct: consumed.size,
      consumedTwice: [...consumed.values()].filter((n) => n > 1).length,
      missing: acked.filter((v) => !consumed.has(v)).length,
      crashes,
      accepted: nodes.map((n, i) => ({ node: n.host, warmUp: warmUp[i], after: after[i] })),
      afterTimeline: slices.join(" / "),
      joinsAfterWarmUp: joins - joinsAtWarmUpEnd,
      warmUpSeconds,
    };
  } finally {
    debug(`${policy}: cleaning up`);
    stop = true;
    // Bounded: a kafkajs client stuck in its retries must not hold the test.
    await settleWithin(Promise.all([producing, consumersUp]), deadline(10_000));
    await settleWithin(Promise.all([...consumers, producer].map((c) => c.disconnect())), deadline(10_000));
    debug(`${policy}: clients disconnected`);
    await Promise.all(nodes.map((n) => n.stop()));
    await deleteTopic(topic).catch(() => {});
    debug(`${policy}: done`);
  }
}

function describe(run: SteadyRun): string {
  const accepted = run.accepted.map((a) => `${a.node} ${a.warmUp} then ${a.after}`).join(", ");
  return `${run.policy.padEnd(17)} ${run.produced} records acknowledged, ${run.consumedDistinct} consumed ` +
    `(${run.consumedTwice} twice, ${run.missing} missing), ${run.crashes.length} consumer crash(es); ` +
    `connections accepted in the ${run.warmUpSeconds.toFixed(0)} s warm-up then the next ${
      MEASURED_MS / 1000
    } s: ` +
    `${accepted} (per 15 s after the warm-up: ${run.afterTimeline}; ` +
    `${run.joinsAfterWarmUp} group join(s) after the warm-up)` +
    (run.crashes.length ? `\n    crashes: ${run.crashes.slice(0, 5).join("; ")}` : "");
}

Deno.test({
  name:
    "kafkajs producer + 3-member consumer group through 2 nodes, 60 s: client-consistent keeps its connections (round-robin printed beside)",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  // Both policies at once, on two pairs of nodes, to keep the test at 60 s.
  const [consistent, roundRobin] = await Promise.all([
    steadyRun("client-consistent", [STEADY_CONSISTENT_A, STEADY_CONSISTENT_B]),
    steadyRun("round-robin", [RR_A, RR_B]),
  ]);
  console.log(
    `kafkajs steady state, 60 s, metadataMaxAge 3 s:\n  ${describe(consistent)}\n  ${describe(roundRobin)}`,
  );
  assert.deepEqual(consistent.crashes, [], describe(consistent));
  assert.ok(consistent.produced > 1000, describe(consistent));
  assert.equal(consistent.missing, 0, describe(consistent));
  assert.equal(consistent.consumedTwice, 0, describe(consistent));
  for (const node of consistent.accepted) {
    assert.equal(
      node.after,
      0,
      `${node.node} accepted connections after the warm-up: ${describe(consistent)}`,
    );
  }
});
