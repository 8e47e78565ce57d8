/**
 * kafkajs (Node.js client, run by Deno) through the gateway against the real cluster: bulk produce and
 * consume, a 3-member consumer group, idempotent and transactional producers, and admin metadata.
 * Every socket kafkajs opens is recorded: it must only ever dial gateway endpoints. The node and the
 * kafkajs client are a file fixture shared by every test.
 */
import assert from "node:assert/strict";
import { AssignerProtocol, type Consumer, type EachBatchPayload, Kafka, logLevel } from "kafkajs";
import { createTopic, deleteTopic, testKafka, uniqueTopic, withDeadline } from "../harness/mod.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { gatewayEndpoints, gatewayProblems, recordingSocketFactory } from "../support/clients_util.ts";
import { fileFixture, sharedTest } from "../support/fixture.ts";
import { waitUntil } from "../support/wait.ts";
import { loopbackHost } from "../support/loopback.ts";
import { quietKafkajsTimerWarnings } from "../support/kafkajs.ts";

const HOST = loopbackHost("kafkajs");

quietKafkajsTimerWarnings();

interface Received {
  partition: number;
  offset: string;
  key: string;
  value: string;
  member?: string;
}

/** Consumes `topic` from the beginning with one consumer until `count` records arrived (bounded). */
async function consumeAll(
  kafka: Kafka,
  topic: string,
  count: number,
  opts: { readUncommitted?: boolean; timeoutMs?: number } = {},
): Promise<Received[]> {
  const consumer = kafka.consumer({
    groupId: uniqueTopic("kafkajs-g"),
    readUncommitted: opts.readUncommitted ?? false,
    heartbeatInterval: 500,
    maxWaitTimeInMs: 200,
  });
  const received: Received[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let done: () => void;
    const finished = new Promise<void>((resolve) => done = resolve);
    await consumer.run({
      eachBatch: async ({ batch }: EachBatchPayload) => {
        for (const m of batch.messages) {
          received.push({
            partition: batch.partition,
            offset: m.offset,
            key: m.key?.toString() ?? "",
            value: m.value?.toString() ?? "",
          });
        }
        if (received.length >= count) done();
        await Promise.resolve();
      },
    });
    await withDeadline(
      finished,
      opts.timeoutMs ?? 60_000,
      `consuming ${count} records of ${topic} (got ${received.length})`,
    );
  } finally {
    await consumer.disconnect();
  }
  return received;
}

/** The node and one kafkajs client of it that records every address it dials. */
const node = fileFixture(async (stack) => {
  const cluster = await testKafka();
  const gateway = await GatewayProcess.start({ host: HOST, kafka: cluster });
  stack.defer(async () => {
    const status = await gateway.stop();
    assert.equal(status.code, 0, gateway.logs);
    assert.deepEqual(gatewayProblems(gateway.logs), [], gateway.logs);
  });
  const dialled = new Set<string>();
  const kafka = new Kafka({
    clientId: "kgate-kafkajs-test",
    brokers: [gateway.bootstrap],
    logLevel: logLevel.NOTHING,
    socketFactory: recordingSocketFactory(dialled),
    retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 2_000 },
  });
  const topics: string[] = [];
  stack.defer(() => deleteTopic(...topics).catch(() => {}));
  const expectedEndpoints = gatewayEndpoints(HOST, cluster);
  return { cluster, gateway, dialled, kafka, topics, expectedEndpoints };
});

sharedTest(
  "kafkajs through the gateway: 10,000 records produced (acks -1) and consumed: content and order per partition equal",
  async () => {
    const { kafka, topics } = await node.get();

    const topic = uniqueTopic("kafkajs-bulk");
    topics.push(topic);
    await createTopic(topic, 3, 3);
    const records = Array.from({ length: 10_000 }, (_, i) => ({
      key: `key-${i % 23}`,
      value: `value-${i}-${"x".repeat(i % 64)}`,
    }));
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      for (let i = 0; i < records.length; i += 1_000) {
        await withDeadline(
          producer.send({ topic, acks: -1, messages: records.slice(i, i + 1_000) }),
          30_000,
          `producing records ${i}..${i + 999}`,
        );
      }
    } finally {
      await producer.disconnect();
    }
    const received = await consumeAll(kafka, topic, records.length);
    assert.equal(received.length, records.length);
    const byPartition = new Map<number, Received[]>();
    for (const r of received) {
      byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r]);
    }
    assert.deepEqual([...byPartition.keys()].sort(), [0, 1, 2], "keys spread over all 3 partitions");
    for (const [partition, list] of byPartition) {
      // Offsets are contiguous from 0, and each key lives in one partition in produce order.
      assert.deepEqual(
        list.map((r) => Number(r.offset)),
        list.map((_, i) => i),
        `offsets of partition ${partition}`,
      );
      const keys = new Set(list.map((r) => r.key));
      const expected = records.filter((r) => keys.has(r.key));
      assert.deepEqual(
        list.map((r) => ({ key: r.key, value: r.value })),
        expected,
        `partition ${partition}`,
      );
    }
  },
);

sharedTest(
  "kafkajs through the gateway: acks=0 sends (no response) interleaved with acks=-1 sends keep the connection in step",
  async () => {
    const { kafka, topics } = await node.get();

    const topic = uniqueTopic("kafkajs-acks0");
    topics.push(topic);
    await createTopic(topic, 1, 3);
    const values: string[] = [];
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      for (let round = 0; round < 10; round++) {
        for (const acks of [0, -1]) {
          const batch = Array.from({ length: 100 }, (_, i) => `round-${round}-acks${acks}-${i}`);
          values.push(...batch);
          await withDeadline(
            producer.send({ topic, acks, messages: batch.map((value) => ({ value })) }),
            30_000,
            `acks=${acks} send of round ${round}`,
          );
        }
      }
    } finally {
      await producer.disconnect();
    }
    const received = await consumeAll(kafka, topic, values.length);
    assert.deepEqual(received.map((r) => r.value), values);
  },
);

sharedTest(
  "kafkajs through the gateway: 3-member consumer group on 6 partitions: each partition owned once, each record consumed once",
  async () => {
    const { kafka, topics } = await node.get();

    const topic = uniqueTopic("kafkajs-group");
    topics.push(topic);
    await createTopic(topic, 6, 3);
    const groupId = uniqueTopic("kafkajs-group");
    const consumed: Received[] = [];
    const consumers: Consumer[] = [];
    const admin = kafka.admin();
    try {
      await admin.connect();
      for (let i = 0; i < 3; i++) {
        const consumer = kafka.consumer({
          groupId,
          heartbeatInterval: 300,
          sessionTimeout: 10_000,
          rebalanceTimeout: 10_000,
          maxWaitTimeInMs: 200,
        });
        consumers.push(consumer);
      }
      await Promise.all(consumers.map(async (consumer, i) => {
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ partition, message }) => {
            consumed.push({
              partition,
              offset: message.offset,
              key: message.key?.toString() ?? "",
              value: message.value?.toString() ?? "",
              member: `consumer-${i}`,
            });
            await Promise.resolve();
          },
        });
      }));
      // Wait until the group is stable with all three members owning partitions, before producing,
      // so that no rebalance can replay records.
      const group = await waitUntil(
        async () => {
          const { groups: [g] } = await admin.describeGroups([groupId]);
          if (g.state !== "Stable" || g.members.length !== 3) return undefined;
          const assignments = g.members.map((m) => ({
            memberId: m.memberId,
            assignment: AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {},
          }));
          if (assignments.some((a) => (a.assignment[topic] ?? []).length === 0)) return undefined;
          return assignments;
        },
        30_000,
        "a stable 3-member group",
      );
      const owned = group.flatMap((m) => m.assignment[topic]).sort((a, b) => a - b);
      assert.deepEqual(owned, [0, 1, 2, 3, 4, 5], "every partition assigned to exactly one member");
      for (const m of group) {
        assert.equal(m.assignment[topic].length, 2, `member ${m.memberId} owns 2 partitions`);
      }

      const records = Array.from(
        { length: 3_000 },
        (_, i) => ({ key: `k${i % 61}`, value: `group-${i}` }),
      );
      const producer = kafka.producer();
      await producer.connect();
      try {
        await withDeadline(
          producer.send({ topic, acks: -1, messages: records }),
          30_000,
          "producing 3,000 records",
        );
      } finally {
        await producer.disconnect();
      }
      await waitUntil(
        () => consumed.length >= records.length,
        60_000,
        `3,000 records consumed by the group`,
      );
      // Let a duplicate, if any, show up.
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(consumed.length, records.length, "each record consumed once");
      assert.deepEqual(consumed.map((r) => r.value).sort(), records.map((r) => r.value).sort());
      const members = new Set(consumed.map((r) => r.member));
      assert.equal(members.size, 3, "all three members consumed");
      // Each partition was consumed by a single member only.
      const partitionMember = new Map<number, string>();
      for (const r of consumed) {
        const owner = partitionMember.get(r.partition);
        if (owner === undefined) partitionMember.set(r.partition, r.member!);
        else assert.equal(r.member, owner, `partition ${r.partition} consumed by one member`);
      }
      assert.equal(partitionMember.size, 6);
    } finally {
      await Promise.allSettled(consumers.map((c) => c.disconnect()));
      await admin.disconnect();
    }
  },
);

sharedTest(
  "kafkajs through the gateway: idempotent and transactional producers; read_committed hides aborted records",
  async () => {
    const { kafka, topics } = await node.get();

    const topic = uniqueTopic("kafkajs-txn");
    topics.push(topic);
    await createTopic(topic, 1, 3);
    const idempotent = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await idempotent.connect();
    try {
      for (let i = 0; i < 5; i++) {
        await withDeadline(
          idempotent.send({ topic, acks: -1, messages: [{ key: "idem", value: `idempotent-${i}` }] }),
          30_000,
          "idempotent send",
        );
      }
    } finally {
      await idempotent.disconnect();
    }

    const transactional = kafka.producer({
      transactionalId: uniqueTopic("kafkajs-txid"),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await transactional.connect();
    try {
      const inTransaction = async (values: string[], commit: boolean) => {
        const txn = await transactional.transaction();
        try {
          await txn.send({ topic, messages: values.map((value) => ({ key: "txn", value })) });
        } catch (error) {
          await txn.abort();
          throw error;
        }
        if (commit) await txn.commit();
        else await txn.abort();
      };
      await withDeadline(
        inTransaction(["committed-1", "committed-2"], true),
        30_000,
        "first transaction",
      );
      await withDeadline(
        inTransaction(["aborted-1", "aborted-2"], false),
        30_000,
        "aborted transaction",
      );
      await withDeadline(inTransaction(["committed-3"], true), 30_000, "last transaction");
    } finally {
      await transactional.disconnect();
    }

    const committed = [
      "idempotent-0",
      "idempotent-1",
      "idempotent-2",
      "idempotent-3",
      "idempotent-4",
      "committed-1",
      "committed-2",
      "committed-3",
    ];
    const readCommitted = await consumeAll(kafka, topic, committed.length);
    assert.deepEqual(readCommitted.map((r) => r.value), committed);
    // read_uncommitted shows the aborted records: the check above can fail.
    const readUncommitted = await consumeAll(kafka, topic, committed.length + 2, {
      readUncommitted: true,
    });
    assert.deepEqual(
      readUncommitted.map((r) => r.value),
      [...committed.slice(0, 7), "aborted-1", "aborted-2", "committed-3"],
    );
  },
);

sharedTest(
  "kafkajs through the gateway: admin describeCluster and fetchTopicMetadata show only gateway endpoints",
  async () => {
    const { cluster, kafka, topics, expectedEndpoints } = await node.get();

    const topic = uniqueTopic("kafkajs-admin");
    topics.push(topic);
    await createTopic(topic, 3, 3);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const described = await withDeadline(admin.describeCluster(), 20_000, "describeCluster");
      assert.deepEqual(
        described.brokers.map((b) => `${b.host}:${b.port}`).sort(),
        expectedEndpoints,
      );
      for (const b of described.brokers) assert.equal(b.port, 6969 + b.nodeId);
      assert.ok(
        cluster.brokers.some((b) => b.id === described.controller),
        `controller ${described.controller}`,
      );
      assert.equal(typeof described.clusterId, "string");
      const { topics: [meta] } = await withDeadline(
        admin.fetchTopicMetadata({ topics: [topic] }),
        20_000,
        "fetchTopicMetadata",
      );
      assert.equal(meta.name, topic);
      assert.deepEqual(meta.partitions.map((p) => p.partitionId).sort(), [0, 1, 2]);
      const ids = cluster.brokers.map((b) => b.id).sort();
      for (const p of meta.partitions) {
        assert.ok(ids.includes(p.leader), `leader ${p.leader}`);
        assert.deepEqual([...p.replicas].sort(), ids);
        assert.deepEqual([...p.isr].sort(), ids);
      }
    } finally {
      await admin.disconnect();
    }
  },
);

sharedTest("kafkajs through the gateway: kafkajs only ever dialled gateway endpoints", async () => {
  const { gateway, dialled, kafka, expectedEndpoints } = await node.get();

  // Its own use of kafkajs (the earlier tests' sockets count too).
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.fetchTopicMetadata({ topics: [] });
  } finally {
    await admin.disconnect();
  }

  assert.ok(dialled.size > 0);
  for (const address of dialled) {
    assert.ok(
      address === gateway.bootstrap || expectedEndpoints.includes(address),
      `kafkajs dialled ${address} (expected only ${gateway.bootstrap} and ${expectedEndpoints.join(", ")})`,
    );
  }
});
