/**
 * kcat (librdkafka) through the gateway against the real cluster: produce and consume 10,000 records,
 * metadata rewriting, and SASL/PLAIN passthrough. The node is a file fixture shared by the tests.
 */
import assert from "node:assert/strict";
import { createTopic, kcatSaslArgs, runKcat, testKafka, uniqueTopic } from "../harness/mod.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { fileFixture, sharedTest } from "../support/fixture.ts";
import { loopbackHosts } from "../support/loopback.ts";

/** SASL_HOST: the node in front of the SASL listener. */
const [HOST, SASL_HOST] = loopbackHosts("kcat", 2);

interface KcatBroker {
  id: number;
  name: string;
}

/** The node in front of the cluster's plaintext listener. */
const node = fileFixture(async (stack) => {
  const kafka = await testKafka();
  const gateway = await GatewayProcess.start({ host: HOST, kafka });
  stack.defer(async () => {
    const status = await gateway.stop();
    assert.equal(status.code, 0, gateway.logs);
  });
  return { kafka, gateway };
});

sharedTest("kcat through the gateway: kcat -L shows only gateway endpoints", async () => {
  const { kafka, gateway } = await node.get();

  const result = await runKcat(["-L", "-J", "-b", gateway.bootstrap]);
  assert.equal(result.code, 0, result.stderr);
  const metadata = JSON.parse(result.stdout) as { brokers: KcatBroker[] };
  assert.deepEqual(
    metadata.brokers.map((b) => b.name).sort(),
    kafka.brokers.map((b) => `${HOST}:${6969 + b.id}`).sort(),
  );
  for (const broker of kafka.brokers) {
    assert.ok(!result.stdout.includes(`:${broker.port}`), result.stdout);
  }
  assert.ok(!result.stdout.includes("127.0.0.1"), result.stdout);
});

sharedTest(
  "kcat through the gateway: 10,000 records produced and consumed, content and order per partition equal",
  async () => {
    const { gateway } = await node.get();

    const topic = uniqueTopic("kcat");
    await createTopic(topic, 3, 3);
    const records = Array.from(
      { length: 10_000 },
      (_, i) => `key-${i % 17}\tvalue-${i}-${"x".repeat(i % 50)}`,
    );
    const produced = await runKcat(
      ["-P", "-b", gateway.bootstrap, "-t", topic, "-K", "\t", "-X", "acks=all", "-X", "linger.ms=5"],
      { stdin: records.join("\n") + "\n", timeoutMs: 60_000 },
    );
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await runKcat(
      ["-C", "-b", gateway.bootstrap, "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%p\t%k\t%s\n"],
      { timeoutMs: 60_000 },
    );
    assert.equal(consumed.code, 0, consumed.stderr);
    const byPartition = new Map<string, string[]>();
    for (const line of consumed.stdout.trimEnd().split("\n")) {
      const [partition, key, value] = line.split("\t");
      byPartition.set(partition, [...(byPartition.get(partition) ?? []), `${key}\t${value}`]);
    }
    assert.equal([...byPartition.values()].reduce((n, l) => n + l.length, 0), records.length);
    // Same key, same partition: each partition holds its keys' records in produce order.
    for (const [partition, lines] of byPartition) {
      const keys = new Set(lines.map((l) => l.split("\t")[0]));
      const expected = records.filter((r) => keys.has(r.split("\t")[0]));
      assert.deepEqual(lines, expected, `partition ${partition}`);
    }
  },
);

sharedTest("kcat through the gateway: SASL/PLAIN passes through untouched", async () => {
  const kafka = await testKafka();

  const sasl = await GatewayProcess.start({
    host: SASL_HOST,
    env: {
      KAFKA_BOOTSTRAP_SERVERS: kafka.saslBootstrapServers,
      KAFKA_SECURITY_PROTOCOL: "SASL_PLAINTEXT",
      KAFKA_SASL_MECHANISM: "PLAIN",
      KAFKA_SASL_JAAS_CONFIG:
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret";',
    },
  });
  try {
    const topic = uniqueTopic("sasl");
    await createTopic(topic, 1, 3);
    const produced = await runKcat(["-P", "-b", sasl.bootstrap, "-t", topic, ...kcatSaslArgs()], {
      stdin: "one\ntwo\nthree\n",
    });
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await runKcat([
      "-C",
      "-b",
      sasl.bootstrap,
      "-t",
      topic,
      "-e",
      "-q",
      ...kcatSaslArgs(),
    ]);
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.deepEqual(consumed.stdout.trim().split("\n"), ["one", "two", "three"]);
    const denied = await runKcat(
      ["-L", "-b", sasl.bootstrap, ...kcatSaslArgs("alice", "wrong-password"), "-m", "5"],
      { timeoutMs: 20_000 },
    );
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /Authentication failed|SASL authentication error/i);
  } finally {
    await sasl.stop();
  }
});
