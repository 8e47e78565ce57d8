/**
 * No real broker address ever reaches a client through the gateway, including the KIP-951
 * NodeEndpoints that Produce (v10+) and Fetch (v16+) responses carry after a leader change.
 *
 * (a) Wire level, deterministic: raw requests to the gateway port of a broker that does NOT lead a
 *     partition (so the broker answers NOT_LEADER_OR_FOLLOWER with CurrentLeader + NodeEndpoints), plus
 *     Metadata, FindCoordinator (v0-3 single, v4+ batched) and DescribeCluster at every version. Each
 *     response through the gateway must name only gateway endpoints and its bytes must hold no real
 *     address; the same request sent straight to the broker must hold the real address (the check can fail).
 * (b) Real clients, real leader change: a Java ProducerPerformance (Produce v12/13) and ConsoleConsumer
 *     (Fetch v17/18) and a kafkajs consumer run through the gateway while the partition leader is stopped.
 *     All records arrive, and the TCP peers of the Java processes (from /proc) and the addresses kafkajs
 *     dials are only ever gateway endpoints.
 * (c) A gateway node that learnt the cluster while a broker was down routes that broker's port to it
 *     once it is back (its own broker stop, independent of (b)).
 *
 * The gateway node is a file fixture shared by the three tests; its log is checked for unexpected
 * problems when the file's tests are done.
 */
import assert from "node:assert/strict";
import { type EachBatchPayload, Kafka, logLevel } from "kafkajs";
import {
  createTopic,
  deleteTopic,
  type KafkaCluster,
  RawClient,
  type RawResponse,
  testKafka,
  uniqueTopic,
  withDeadline,
} from "../harness/mod.ts";
import {
  DescribeClusterRequest,
  DescribeClusterResponse,
  FetchRequest,
  FetchResponse,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  type FindCoordinatorResponseData,
  type MessageSpec,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  ProduceResponse,
  type Struct,
} from "../../src/protocol/mod.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import {
  gatewayEndpoints,
  gatewayProblems,
  realAddressesInBytes,
  recordingSocketFactory,
  watchTcpPeers,
} from "../support/clients_util.ts";
import { buildRecordBatch } from "../protocol/record_batch.ts";
import { fileFixture, sharedTest } from "../support/fixture.ts";
import { waitUntil } from "../support/wait.ts";
import { loopbackHost } from "../support/loopback.ts";
import { quietKafkajsTimerWarnings } from "../support/kafkajs.ts";

const HOST = loopbackHost("no_address_leak");
const NOT_LEADER_OR_FOLLOWER = 6;
const COORDINATOR_NOT_AVAILABLE = 15;
const COORDINATOR_LOAD_IN_PROGRESS = 14;

quietKafkajsTimerWarnings();

interface Endpoint {
  nodeId: number;
  host: string;
  port: number;
}

type VersionMap = Map<number, { min: number; max: number }>;

function versionsOf(versions: VersionMap, apiKey: number, from = 0, to = Number.MAX_SAFE_INTEGER): number[] {
  const range = versions.get(apiKey);
  if (!range) return [];
  const out: number[] = [];
  for (let v = Math.max(range.min, from); v <= Math.min(range.max, to); v++) out.push(v);
  return out;
}

/** Through the gateway: endpoints present, all `HOST:6969+id`, and no real address in the bytes. */
function assertGatewayOnly(
  kafka: KafkaCluster,
  what: string,
  response: RawResponse<unknown>,
  endpoints: Endpoint[],
) {
  assert.ok(endpoints.length > 0, `${what}: the response carries endpoints`);
  for (const e of endpoints) {
    assert.deepEqual(
      { host: e.host, port: e.port },
      { host: HOST, port: 6969 + e.nodeId },
      `${what}: node ${e.nodeId}`,
    );
  }
  assert.deepEqual(
    realAddressesInBytes(response.bytes, kafka),
    [],
    `${what}: real broker address in the response bytes`,
  );
}

/** Straight to the broker: the same response holds the real address (proves the check above can fail). */
function assertRealAddress(
  kafka: KafkaCluster,
  what: string,
  response: RawResponse<unknown>,
  endpoints: Endpoint[],
) {
  assert.ok(endpoints.length > 0, `${what} (direct): the response carries endpoints`);
  for (const e of endpoints) {
    assert.deepEqual(
      { host: e.host, port: e.port },
      { host: "127.0.0.1", port: kafka.broker(e.nodeId).port },
      `${what} (direct): node ${e.nodeId}`,
    );
  }
  assert.notDeepEqual(
    realAddressesInBytes(response.bytes, kafka),
    [],
    `${what} (direct): real address in the bytes`,
  );
}

/** Sends the same request through the gateway and straight to the broker, and checks both. */
async function compare<Req, Res>(
  kafka: KafkaCluster,
  what: string,
  gateway: RawClient,
  direct: RawClient,
  schemas: [MessageSpec<Req>, MessageSpec<Res>],
  version: number,
  body: Req,
  endpointsOf: (body: Res) => Endpoint[],
): Promise<{ viaGateway: Res; viaBroker: Res }> {
  const viaGateway = await gateway.request(schemas[0], schemas[1], version, body);
  assertGatewayOnly(kafka, what, viaGateway, endpointsOf(viaGateway.body));
  const viaBroker = await direct.request(schemas[0], schemas[1], version, body);
  assertRealAddress(kafka, what, viaBroker, endpointsOf(viaBroker.body));
  return { viaGateway: viaGateway.body, viaBroker: viaBroker.body };
}

/** The topic id of `topic`, from Metadata v12 sent straight to a running broker. */
async function topicIdOf(kafka: KafkaCluster, topic: string): Promise<string> {
  const id = kafka.runningBrokers()[0];
  const conn = await RawClient.connect("127.0.0.1", kafka.broker(id).port);
  try {
    const r = await conn.request(MetadataRequest, MetadataResponse, 12, {
      topics: [{ name: topic }],
      allowAutoTopicCreation: false,
    });
    return r.body.topics[0].topicId;
  } finally {
    conn.close();
  }
}

function assertNoLeak(kafka: KafkaCluster, bytes: Uint8Array): void {
  assert.deepEqual(realAddressesInBytes(bytes, kafka), [], "real broker address in the response bytes");
}

function partitionOf(body: { responses: Struct[] }, partitionsField: string): Struct {
  const topics = body.responses;
  assert.equal(topics.length, 1);
  const partitions = topics[0][partitionsField] as Struct[];
  assert.equal(partitions.length, 1);
  return partitions[0];
}

/** Port start of the (c) node (the first node on HOST holds 6969..). */
const LATE_PORT_START = 7069;

/** The gateway node of this file and the topics its tests create (deleted at the end). */
const node = fileFixture(async (stack) => {
  const kafka = await testKafka();
  const topics: string[] = [];
  stack.defer(() => deleteTopic(...topics).catch(() => {}));
  const gateway = await GatewayProcess.start({ host: HOST, kafka });
  stack.defer(async () => {
    const status = await gateway.stop();
    assert.equal(status.code, 0, gateway.logs);
    // A stopped broker makes connections to its port fail; nothing else may go wrong.
    // A stopped broker may be the membership group's coordinator: its failover can take seconds.
    const allowed = [
      /cannot connect to broker|no live broker|metadata refresh failed|cannot reach the gateway group/,
    ];
    assert.deepEqual(gatewayProblems(gateway.logs, allowed), [], gateway.logs);
  });
  return { kafka, gateway, topics };
});

sharedTest(
  "no real broker address leaks: (a) raw wire: Metadata, DescribeCluster, FindCoordinator, Produce and Fetch NodeEndpoints",
  async () => {
    const { kafka, topics } = await node.get();

    const topic = uniqueTopic("leak-wire");
    topics.push(topic);
    await createTopic(topic, 1, 3);
    const leader = (await kafka.metadata([topic])).topics[0].partitions[0].leader;
    const follower = kafka.brokers.map((b) => b.id).find((id) => id !== leader)!;
    // An RF=1 partition, and a broker that holds no replica of it.
    const single = uniqueTopic("leak-rf1");
    topics.push(single);
    await createTopic(single, 1, 1);
    const singleLeader = (await kafka.metadata([single])).topics[0].partitions[0].leader;
    const other = kafka.brokers.map((b) => b.id).find((id) => id !== singleLeader)!;
    const viaFollower = await RawClient.connect(HOST, 6969 + follower);
    const toFollower = await RawClient.connect("127.0.0.1", kafka.broker(follower).port);
    const viaLeader = await RawClient.connect(HOST, 6969 + leader);
    const viaOther = await RawClient.connect(HOST, 6969 + other);
    const toOther = await RawClient.connect("127.0.0.1", kafka.broker(other).port);
    try {
      const versions = await viaFollower.apiVersions();
      const brokerVersions = await toFollower.apiVersions();
      // The gateway must not hide the address-carrying versions the broker supports.
      for (const apiKey of [0, 1, 3, 10, 60]) {
        assert.deepEqual(
          versions.get(apiKey)?.max,
          brokerVersions.get(apiKey)?.max,
          `max version of API ${apiKey}`,
        );
      }

      // Metadata, every version: the brokers list; v10+ also gives the topic id used by Produce v13 / Fetch v13+.
      let replicatedId: string | undefined;
      let singleId: string | undefined;
      for (const version of versionsOf(versions, 3)) {
        const { viaGateway } = await compare(
          kafka,
          `Metadata v${version}`,
          viaFollower,
          toFollower,
          [MetadataRequest, MetadataResponse],
          version,
          {
            topics: [{ name: topic }, { name: single }],
            allowAutoTopicCreation: false,
            includeTopicAuthorizedOperations: false,
          },
          (b) => b.brokers,
        );
        assert.deepEqual(
          viaGateway.brokers.map((b) => b.nodeId).sort(),
          kafka.brokers.map((b) => b.id).sort(),
        );
        if (version >= 10) {
          replicatedId = viaGateway.topics.find((x) => x.name === topic)?.topicId;
          singleId = viaGateway.topics.find((x) => x.name === single)?.topicId;
        }
      }
      assert.ok(replicatedId && singleId, "topic ids from Metadata v10+");
      const topicId: string = replicatedId;
      const singleTopicId: string = singleId;

      // DescribeCluster, every version.
      for (const version of versionsOf(versions, 60)) {
        const { viaGateway } = await compare(
          kafka,
          `DescribeCluster v${version}`,
          viaFollower,
          toFollower,
          [DescribeClusterRequest, DescribeClusterResponse],
          version,
          { includeClusterAuthorizedOperations: false, endpointType: 1, includeFencedBrokers: true },
          (b) => b.brokers.map((x) => ({ nodeId: x.brokerId, host: x.host, port: x.port })),
        );
        assert.equal(viaGateway.errorCode, 0);
        assert.deepEqual(
          viaGateway.brokers.map((b) => b.brokerId).sort(),
          kafka.brokers.map((b) => b.id).sort(),
        );
      }

      // FindCoordinator: v0-3 one key at the top level, v4+ batched keys (groups and transactions).
      const groups = [uniqueTopic("leak-g"), uniqueTopic("leak-g"), uniqueTopic("leak-g")];
      const txnIds = [uniqueTopic("leak-tx"), uniqueTopic("leak-tx")];
      for (const version of versionsOf(versions, 10)) {
        const keySets: { keyType: number; keys: string[] }[] = version >= 4
          ? [{ keyType: 0, keys: groups }, { keyType: 1, keys: txnIds }]
          : [
            { keyType: 0, keys: [groups[0]] },
            ...(version >= 1 ? [{ keyType: 1, keys: [txnIds[0]] }] : []),
          ];
        for (const { keyType, keys } of keySets) {
          const body = version >= 4 ? { keyType, coordinatorKeys: keys } : { key: keys[0], keyType };
          const endpointsOf = (b: FindCoordinatorResponseData): Endpoint[] =>
            version >= 4 ? b.coordinators : [b];
          // The coordinator of a new key may not be available at once (internal topic creation/loading).
          await waitUntil(
            async () => {
              const r = await viaFollower.request(
                FindCoordinatorRequest,
                FindCoordinatorResponse,
                version,
                body,
              );
              const codes = version >= 4 ? r.body.coordinators.map((c) => c.errorCode) : [r.body.errorCode];
              if (
                codes.some((c) => c === COORDINATOR_NOT_AVAILABLE || c === COORDINATOR_LOAD_IN_PROGRESS)
              ) return false;
              assert.deepEqual(codes, keys.map(() => 0), `FindCoordinator v${version} errors`);
              return true;
            },
            30_000,
            `coordinators of ${keys} (FindCoordinator v${version})`,
            200,
          );
          await compare(
            kafka,
            `FindCoordinator v${version} key type ${keyType}`,
            viaFollower,
            toFollower,
            [FindCoordinatorRequest, FindCoordinatorResponse],
            version,
            body,
            endpointsOf,
          );
        }
      }

      // Fetch v16+ to a broker that holds no replica of an RF=1 partition: NOT_LEADER_OR_FOLLOWER with
      // CurrentLeader and NodeEndpoints. (A follower of an RF=3 partition would serve a v11+ consumer
      // fetch itself: fetch from follower, KIP-392.)
      const fetchVersions = versionsOf(versions, 1, 16);
      assert.ok(fetchVersions.length > 0, "Fetch v16+ supported through the gateway");
      const fetchBody = (version: number, targets: { name: string; id: string }[]): Struct => ({
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 16 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: targets.map(({ name, id }) => ({
          topic: name,
          topicId: version >= 13 ? id : undefined,
          partitions: [{
            partition: 0,
            currentLeaderEpoch: -1,
            fetchOffset: 0n,
            lastFetchedEpoch: -1,
            logStartOffset: -1n,
            partitionMaxBytes: 8 << 20,
          }],
        })),
        forgottenTopicsData: [],
        rackId: "",
      });
      for (const version of fetchVersions) {
        const { viaGateway, viaBroker } = await compare(
          kafka,
          `Fetch v${version} to a non-replica`,
          viaOther,
          toOther,
          [FetchRequest, FetchResponse],
          version,
          fetchBody(version, [{ name: single, id: singleTopicId }]),
          (b) => b.nodeEndpoints,
        );
        for (const body of [viaGateway, viaBroker]) {
          const partition = partitionOf(body, "partitions");
          assert.equal(partition.errorCode, NOT_LEADER_OR_FOLLOWER, `Fetch v${version} error`);
          assert.equal((partition.currentLeader as { leaderId: number }).leaderId, singleLeader);
          assert.deepEqual(body.nodeEndpoints.map((e) => e.nodeId), [singleLeader]);
        }
      }

      // Produce v10+ (acks=1, one record) to the follower: NOT_LEADER_OR_FOLLOWER with NodeEndpoints;
      // the same to the leader through the gateway (acks=-1) is appended.
      const produceVersions = versionsOf(versions, 0, 10);
      assert.ok(produceVersions.length > 0, "Produce v10+ supported through the gateway");
      const produceBody = (version: number, values: string[], acks = 1): Struct => ({
        transactionalId: null,
        acks,
        timeoutMs: 10_000,
        topicData: [{
          name: topic,
          topicId: version >= 13 ? topicId : undefined,
          partitionData: [{
            index: 0,
            records: buildRecordBatch(
              values.map((v) => ({ key: null, value: new TextEncoder().encode(v) })),
              BigInt(Date.now()),
            ),
          }],
        }],
      });
      let appended = 0;
      for (const version of produceVersions) {
        const { viaGateway, viaBroker } = await compare(
          kafka,
          `Produce v${version} to a follower`,
          viaFollower,
          toFollower,
          [ProduceRequest, ProduceResponse],
          version,
          produceBody(version, [`to-follower-v${version}`]),
          (b) => b.nodeEndpoints,
        );
        for (const body of [viaGateway, viaBroker]) {
          const partition = partitionOf(body, "partitionResponses");
          assert.equal(partition.errorCode, NOT_LEADER_OR_FOLLOWER, `Produce v${version} error`);
          assert.equal((partition.currentLeader as { leaderId: number }).leaderId, leader);
          assert.deepEqual(body.nodeEndpoints.map((e) => e.nodeId), [leader]);
        }
        const ok = await viaLeader.request(
          ProduceRequest,
          ProduceResponse,
          version,
          produceBody(version, [`v${version}`], -1),
        );
        const partition = partitionOf(ok.body, "partitionResponses");
        assert.equal(partition.errorCode, 0, `Produce v${version} to the leader`);
        assert.equal(partition.baseOffset, BigInt(appended++));
        assert.deepEqual(ok.body.nodeEndpoints, []);
        assert.deepEqual(realAddressesInBytes(ok.bytes, kafka), []);
      }
      // The records appended through the gateway read back through it, bytes intact.
      const fetchVersion = fetchVersions.at(-1)!;
      const fetched = await viaLeader.request(
        FetchRequest,
        FetchResponse,
        fetchVersion,
        fetchBody(fetchVersion, [{ name: topic, id: topicId }]),
      );
      const partition = partitionOf(fetched.body, "partitions");
      assert.equal(partition.errorCode, 0);
      assert.equal(partition.highWatermark, BigInt(appended));
      const text = new TextDecoder().decode(partition.records as Uint8Array);
      for (const version of produceVersions) {
        assert.ok(text.includes(`v${version}`), `record of Produce v${version}`);
      }
      assert.ok(!text.includes("to-follower"), "nothing appended by the follower");

      // One Fetch answered with ~600 KB of records for one partition and NOT_LEADER_OR_FOLLOWER (with
      // NodeEndpoints) for another: the rewritten response, larger than the gateway's read buffer,
      // keeps every record byte.
      const big = Array.from({ length: 6 }, (_, i) => `big-${i}-${"y".repeat(100_000)}`);
      const bigAppend = await viaLeader.request(
        ProduceRequest,
        ProduceResponse,
        produceVersions.at(-1)!,
        produceBody(produceVersions.at(-1)!, big, -1),
      );
      assert.equal(partitionOf(bigAppend.body, "partitionResponses").errorCode, 0);
      appended += big.length;
      const mixed = fetchBody(fetchVersion, [{ name: topic, id: topicId }, {
        name: single,
        id: singleTopicId,
      }]);
      // `other` serves the RF=3 partition (as leader or follower) up to its high watermark.
      const direct = await waitUntil(
        async () => {
          const r = await toOther.request(FetchRequest, FetchResponse, fetchVersion, mixed);
          const p = r.body.responses[0].partitions as Struct[];
          return p[0].highWatermark === BigInt(appended) ? r : undefined;
        },
        15_000,
        `broker ${other} has all ${appended} records`,
      );
      const proxied = await viaOther.request(FetchRequest, FetchResponse, fetchVersion, mixed);
      assert.ok(proxied.bytes.length > 600_000, `a large response (${proxied.bytes.length} bytes)`);
      assertGatewayOnly(kafka, `mixed Fetch v${fetchVersion}`, proxied, proxied.body.nodeEndpoints);
      assertRealAddress(kafka, `mixed Fetch v${fetchVersion}`, direct, direct.body.nodeEndpoints);
      const [served, moved] = proxied.body.responses.map((r) => (r.partitions as Struct[])[0]);
      assert.equal(served.errorCode, 0);
      assert.equal(moved.errorCode, NOT_LEADER_OR_FOLLOWER);
      assert.deepEqual(proxied.body.nodeEndpoints.map((e) => e.nodeId), [singleLeader]);
      const directRecords = (direct.body.responses[0].partitions as Struct[])[0].records as Uint8Array;
      assert.ok(directRecords.length > 600_000);
      assert.deepEqual(served.records as Uint8Array, directRecords, "record bytes through the gateway");
      // Apart from the rewritten NodeEndpoints, the whole response is byte-for-byte the broker's.
      // (each host grows from "127.0.0.1" to HOST; every length prefix stays one byte).
      const grown = direct.body.nodeEndpoints.reduce((n, e) => n + HOST.length - e.host.length, 0);
      assert.equal(proxied.bytes.length, direct.bytes.length + grown, "response size");
    } finally {
      viaFollower.close();
      toFollower.close();
      viaLeader.close();
      viaOther.close();
      toOther.close();
    }
  },
);

sharedTest(
  "no real broker address leaks: (b) real clients through a real leader change (leader stopped mid-produce)",
  async () => {
    const { kafka, gateway, topics } = await node.get();

    const topic = uniqueTopic("leak-failover");
    topics.push(topic);
    await createTopic(topic, 1, 3, { configs: { "min.insync.replicas": "2" } });
    const leader = (await kafka.metadata([topic])).topics[0].partitions[0].leader;
    const total = 30_000;
    const expectedEndpoints = gatewayEndpoints(HOST, kafka);
    const isGateway = (address: string) =>
      address === gateway.bootstrap || expectedEndpoints.includes(address);

    // kafkajs consumer (Fetch v11: no NodeEndpoints, but metadata refreshes across the change).
    const dialled = new Set<string>();
    const kafkajs = new Kafka({
      clientId: "kgate-leak-test",
      brokers: [gateway.bootstrap],
      logLevel: logLevel.NOTHING,
      socketFactory: recordingSocketFactory(dialled),
      retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
    const consumer = kafkajs.consumer({
      groupId: uniqueTopic("leak-kafkajs"),
      heartbeatInterval: 500,
      sessionTimeout: 10_000,
      maxWaitTimeInMs: 200,
    });
    const seen = new Set<string>();
    // Java processes get the topic name on their command line: their TCP peers are sampled by it.
    const peers = watchTcpPeers(topic);
    let stopped = false;
    let restart: Promise<void> | undefined;
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachBatch: async ({ batch }: EachBatchPayload) => {
          for (const m of batch.messages) seen.add(m.value?.toString() ?? "");
          await Promise.resolve();
        },
      });
      const javaConsumer = kafka.runJava("org.apache.kafka.tools.consumer.ConsoleConsumer", [
        "--bootstrap-server",
        gateway.bootstrap,
        "--topic",
        topic,
        "--from-beginning",
        "--max-messages",
        String(total),
        "--timeout-ms",
        "60000",
      ], { timeoutMs: 100_000 });
      const producer = kafka.runJava("org.apache.kafka.tools.ProducerPerformance", [
        "--topic",
        topic,
        "--num-records",
        String(total),
        "--payload-monotonic",
        "--throughput",
        "3000",
        "--producer-props",
        `bootstrap.servers=${gateway.bootstrap}`,
        "acks=all",
        "linger.ms=5",
      ], { timeoutMs: 100_000 });

      await waitUntil(
        () => seen.size >= 3_000,
        30_000,
        "kafkajs consumed 3,000 records before the leader change",
      );
      await kafka.stopBroker(leader);
      stopped = true;
      const seenAtStop = seen.size;
      assert.ok(seenAtStop < total, "the leader stopped while the producer was running");
      const newLeader = await waitUntil(
        async () => {
          const p = (await kafka.metadata([topic])).topics[0].partitions[0];
          return p.leader >= 0 && p.leader !== leader ? p.leader : undefined;
        },
        30_000,
        "a new leader",
      );
      assert.notEqual(newLeader, leader);

      const produced = await producer;
      assert.ok(
        produced.success && !produced.timedOut,
        `ProducerPerformance:\n${produced.stdout}\n${produced.stderr}`,
      );
      assert.match(
        produced.stdout.trim().split("\n").at(-1) ?? "",
        new RegExp(`^${total} records sent, `),
        produced.stdout,
      );
      // Retried NOT_LEADER_OR_FOLLOWER warnings are expected; a failed send prints a stack trace.
      assert.doesNotMatch(produced.stderr, /^\s+at |\bERROR\b/m, produced.stderr);
      await kafka.waitForBrokers(kafka.brokers.map((b) => b.id).filter((id) => id !== leader), 30_000);
      // Bring the old leader back while the consumers finish.
      restart = kafka.startBroker(leader);
      restart.catch(() => {}); // awaited (and rethrown) in finally

      const consumed = await javaConsumer;
      assert.ok(consumed.success && !consumed.timedOut, `ConsoleConsumer:\n${consumed.stderr}`);
      const values = consumed.stdout.split("\n").filter((l) => l.length > 0);
      assert.equal(values.length, total);
      assert.equal(new Set(values).size, total, "no duplicates");
      assert.deepEqual(
        values.map(Number).sort((a, b) => a - b),
        Array.from({ length: total }, (_, i) => i),
      );

      await waitUntil(
        () => seen.size >= total,
        60_000,
        `kafkajs consumed all ${total} records (has ${seen.size})`,
      );
      assert.ok(seen.size > seenAtStop, "kafkajs kept consuming after the leader change");
      assert.deepEqual(
        [...seen].map(Number).sort((a, b) => a - b),
        Array.from({ length: total }, (_, i) => i),
      );

      peers.stop();
      assert.ok(peers.peers.size > 0, "sampled the Java clients' connections");
      const leaked = [...peers.peers].filter((p) => !isGateway(p));
      assert.deepEqual(
        leaked,
        [],
        `the Java clients connected to non-gateway addresses; all: ${[...peers.peers]}`,
      );
      // The sampling saw the clients follow the leader change (through the gateway).
      assert.ok(
        peers.peers.has(`${HOST}:${6969 + newLeader}`),
        `new leader's endpoint in ${[...peers.peers]}`,
      );
      const dialledElsewhere = [...dialled].filter((p) => !isGateway(p));
      assert.deepEqual(
        dialledElsewhere,
        [],
        `kafkajs dialled non-gateway addresses; all: ${[...dialled]}`,
      );
    } finally {
      peers.stop();
      await withDeadline(consumer.disconnect(), 30_000, "kafkajs consumer disconnect").catch(() => {});
      if (stopped) await (restart ?? kafka.startBroker(leader));
    }
    await kafka.waitForBrokers(kafka.brokers.map((b) => b.id), 60_000);
  },
);

sharedTest(
  "no real broker address leaks: (c) a broker's port reaches that broker once it is back, not another broker",
  async () => {
    const { kafka, topics } = await node.get();
    // An RF=1 partition held only by a broker that is stopped while a new gateway node learns the
    // cluster, then started again.
    const topic = uniqueTopic("leak-solo");
    topics.push(topic);
    await createTopic(topic, 6, 1);
    const partitions = (await kafka.metadata([topic])).topics[0].partitions;
    const brokerId = partitions[0].leader;
    const partition = partitions[0].partition;
    const topicId = await topicIdOf(kafka, topic);
    await using stack = new AsyncDisposableStack();
    await kafka.stopBroker(brokerId);
    const broker: { restart?: Promise<void> } = {};
    stack.defer(async () => {
      await (broker.restart ?? kafka.startBroker(brokerId));
      await kafka.waitForBrokers(kafka.brokers.map((b) => b.id), 60_000);
    });
    // The node learns the cluster now, while broker `brokerId` is down (and fenced).
    await kafka.waitForBrokers(kafka.brokers.map((b) => b.id).filter((id) => id !== brokerId), 30_000);
    const late = await GatewayProcess.start({
      host: HOST,
      kafka,
      portStart: LATE_PORT_START,
      // No periodic refresh during the test: only what clients trigger.
      // Its own HTTP port: the first node on this address holds 8888.
      env: { GATEWAY_METADATA_REFRESH_MS: "600000", GATEWAY_HTTP_PORT: "8889" },
    });
    stack.defer(async () => {
      const status = await late.stop();
      assert.equal(status.code, 0, late.logs);
    });
    assert.doesNotMatch(late.logs, new RegExp(`brokers .*\\b${brokerId}@`), late.logs);
    // The broker comes back (and the cluster is whole) before the checks, the node not told.
    broker.restart = kafka.startBroker(brokerId);
    broker.restart.catch(() => {}); // awaited (and rethrown) by the stack
    await broker.restart;
    await kafka.waitForBrokers(kafka.brokers.map((b) => b.id), 60_000);

    // Reproduces a routing bug: a client connection accepted on the port of a broker the node does not
    // know (yet) is proxied to some other broker (server.ts: `broker(id) ?? anyBroker()`), and stays
    // there for its whole life. The client is told (NodeEndpoints) that the leader is at the very port
    // it is connected to, and retries there forever: NOT_LEADER_OR_FOLLOWER until the connection dies.
    await waitUntil(
      async () => {
        const p = (await kafka.metadata([topic])).topics[0].partitions.find((x) => x.partition === partition);
        return p?.leader === brokerId;
      },
      30_000,
      `broker ${brokerId} leads ${topic}-${partition} again`,
    );
    const fetchOne = async (conn: RawClient) => {
      const version = (await conn.apiVersions()).get(1)!.max;
      const r = await conn.request(FetchRequest, FetchResponse, version, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{
          topic,
          topicId,
          partitions: [{
            partition,
            currentLeaderEpoch: -1,
            fetchOffset: 0n,
            lastFetchedEpoch: -1,
            logStartOffset: -1n,
            partitionMaxBytes: 1 << 20,
          }],
        }],
        forgottenTopicsData: [],
        rackId: "",
      });
      assertNoLeak(kafka, r.bytes);
      const p = partitionOf(r.body, "partitions");
      return { errorCode: p.errorCode as number, nodeEndpoints: r.body.nodeEndpoints };
    };
    const port = LATE_PORT_START + brokerId;
    // Connected before the node refreshed its view: the broker is back, the node does not know it yet.
    const early = await RawClient.connect(HOST, port);
    const fresh: RawClient[] = [];
    try {
      // Acceptable: served by the broker (error 0), or the connection refused/closed so that the client
      // reconnects. Not acceptable: answered by another broker.
      const outcome = async (conn: RawClient) => {
        try {
          const r = await fetchOne(conn);
          return { errorCode: r.errorCode, nodeEndpoints: r.nodeEndpoints };
        } catch (error) {
          if (/connection closed|reset|broken pipe/i.test(String(error))) {
            return { errorCode: "closed" };
          }
          throw error;
        }
      };
      const before = await outcome(early);
      // A Metadata response naming the broker makes the node refresh; then new connections reach it.
      const bootstrap = await RawClient.connect(HOST, LATE_PORT_START);
      fresh.push(bootstrap);
      await bootstrap.request(MetadataRequest, MetadataResponse, 12, {
        topics: [],
        allowAutoTopicCreation: false,
      });
      await waitUntil(
        async () => {
          const conn = await RawClient.connect(HOST, port);
          fresh.push(conn);
          return (await fetchOne(conn)).errorCode === 0;
        },
        15_000,
        `a new connection to ${HOST}:${port} reaches broker ${brokerId}`,
        200,
      );
      const after = before.errorCode === "closed" ? before : await outcome(early);
      const acceptable = (code: number | string) => code === 0 || code === "closed";
      assert.ok(
        acceptable(before.errorCode) && acceptable(after.errorCode),
        `Fetch of ${topic}-${partition} (held only by broker ${brokerId}) on a connection to ${HOST}:${port}, ` +
          `the gateway port of broker ${brokerId}, accepted while the gateway node did not know broker ` +
          `${brokerId} yet: error ${before.errorCode} ` +
          `(${NOT_LEADER_OR_FOLLOWER} = NOT_LEADER_OR_FOLLOWER: proxied to another broker; NodeEndpoints ` +
          `${JSON.stringify(before.nodeEndpoints)} send the client back to this very port); on the same ` +
          `connection once the node knows broker ${brokerId} again: error ${after.errorCode}`,
      );
    } finally {
      early.close();
      for (const conn of fresh) conn.close();
    }
  },
);
