/**
 * Kafka's own Java tools (the 4.x clients from the cluster's jars) through the gateway against the real
 * cluster: ProducerPerformance + ConsoleConsumer, a transactional ProducerPerformance, a console
 * producer/consumer roundtrip, and the admin tools that print broker endpoints (ClusterTool
 * list-endpoints = DescribeCluster, BrokerApiVersionsCommand = Metadata + ApiVersions).
 *
 * Every TCP peer of the Java processes is sampled from /proc: they must only ever talk to the gateway.
 */
import assert from "node:assert/strict";
import { createTopic, deleteTopic, kafkaMajor, testKafka, uniqueTopic } from "../harness/mod.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import {
  assertRan,
  gatewayEndpoints,
  gatewayProblems,
  realAddressesIn,
  watchTcpPeers,
} from "../support/clients_util.ts";
import { fileFixture, sharedTest } from "../support/fixture.ts";
import { loopbackHost } from "../support/loopback.ts";

const HOST = loopbackHost("java_clients");

/** Asserts that no real broker address (127.0.0.1, real ports) appears in a tool's output. */
function assertNoRealAddress(text: string, kafka: Awaited<ReturnType<typeof testKafka>>, what: string): void {
  const found = realAddressesIn(text, kafka);
  assert.deepEqual(found, [], `${what} shows real broker addresses:\n${text.slice(0, 4000)}`);
}

/** The node, and a sampler of the TCP peers of every Java tool started with its bootstrap address. */
const node = fileFixture(async (stack) => {
  const kafka = await testKafka();
  // Kafka 4 renamed some tools and options; 3.9 keeps the old ones.
  const kafka4 = kafkaMajor(kafka.version) >= 4;
  const brokerApiVersionsCommand = kafka4
    ? "org.apache.kafka.tools.BrokerApiVersionsCommand"
    : "kafka.admin.BrokerApiVersionsCommand";
  const gateway = await GatewayProcess.start({ host: HOST, kafka });
  stack.defer(async () => {
    const status = await gateway.stop();
    assert.equal(status.code, 0, gateway.logs);
    assert.deepEqual(gatewayProblems(gateway.logs), [], gateway.logs);
  });
  const bootstrap = gateway.bootstrap;
  const expected = gatewayEndpoints(HOST, kafka);
  // Every Java tool of this file has the gateway's bootstrap address on its command line.
  const peers = watchTcpPeers(bootstrap);
  stack.defer(() => peers.stop());
  const topics: string[] = [];
  stack.defer(() => deleteTopic(...topics).catch(() => {}));
  return { kafka, kafka4, brokerApiVersionsCommand, gateway, bootstrap, expected, peers, topics };
});

sharedTest(
  "Java clients (Kafka tools) through the gateway: ProducerPerformance 20,000 x 1 KiB (acks=all), then ConsoleConsumer reads them all",
  async () => {
    const { kafka, bootstrap, topics } = await node.get();

    const topic = uniqueTopic("java-perf");
    topics.push(topic);
    await createTopic(topic, 3, 3);
    const produced = await kafka.runJava("org.apache.kafka.tools.ProducerPerformance", [
      "--topic",
      topic,
      "--num-records",
      "20000",
      "--record-size",
      "1024",
      "--throughput",
      "-1",
      "--producer-props",
      `bootstrap.servers=${bootstrap}`,
      "acks=all",
      "linger.ms=5",
    ], { timeoutMs: 90_000 });
    assertRan(produced, "ProducerPerformance");
    const summary = produced.stdout.trim().split("\n").at(-1) ?? "";
    assert.match(summary, /^20000 records sent, /, produced.stdout);
    const consumed = await kafka.runJava("org.apache.kafka.tools.consumer.ConsoleConsumer", [
      "--bootstrap-server",
      bootstrap,
      "--topic",
      topic,
      "--from-beginning",
      "--max-messages",
      "20000",
      "--timeout-ms",
      "30000",
    ], { timeoutMs: 90_000 });
    assertRan(consumed, "ConsoleConsumer");
    const lines = consumed.stdout.split("\n").filter((l) => l.length > 0);
    assert.equal(lines.length, 20_000);
    assert.ok(lines.every((l) => l.length === 1024), "every record is 1024 bytes");
    assert.match(consumed.stderr, /Processed a total of 20000 messages/);
  },
);

sharedTest(
  "Java clients (Kafka tools) through the gateway: transactional ProducerPerformance, read_committed ConsoleConsumer",
  async () => {
    const { kafka, bootstrap, topics } = await node.get();

    const topic = uniqueTopic("java-txn");
    topics.push(topic);
    await createTopic(topic, 3, 3);
    const produced = await kafka.runJava("org.apache.kafka.tools.ProducerPerformance", [
      "--topic",
      topic,
      "--num-records",
      "5000",
      "--record-size",
      "100",
      "--throughput",
      "-1",
      "--transactional-id",
      uniqueTopic("java-txid"),
      "--transaction-duration-ms",
      "300",
      "--producer-props",
      `bootstrap.servers=${bootstrap}`,
      "acks=all",
    ], { timeoutMs: 90_000 });
    assertRan(produced, "transactional ProducerPerformance");
    assert.match(produced.stdout.trim().split("\n").at(-1) ?? "", /^5000 records sent, /, produced.stdout);
    const consumed = await kafka.runJava("org.apache.kafka.tools.consumer.ConsoleConsumer", [
      "--bootstrap-server",
      bootstrap,
      "--topic",
      topic,
      "--from-beginning",
      "--isolation-level",
      "read_committed",
      "--max-messages",
      "5000",
      "--timeout-ms",
      "30000",
    ], { timeoutMs: 90_000 });
    assertRan(consumed, "read_committed ConsoleConsumer");
    assert.equal(consumed.stdout.split("\n").filter((l) => l.length > 0).length, 5_000);
  },
);

sharedTest(
  "Java clients (Kafka tools) through the gateway: ConsoleProducer + ConsoleConsumer roundtrip with exact content",
  async () => {
    const { kafka, kafka4, bootstrap, topics } = await node.get();

    const topic = uniqueTopic("java-console");
    topics.push(topic);
    await createTopic(topic, 1, 3);
    const records = Array.from(
      { length: 200 },
      (_, i) => `key-${i % 7}|value ${i} héllo wörld ✓ ${"z".repeat(i)}`,
    );
    const producerProperty = kafka4 ? "--command-property" : "--producer-property";
    const readerProperty = kafka4 ? "--reader-property" : "--property";
    const produced = await kafka.runJava(kafka.tools.consoleProducer, [
      "--bootstrap-server",
      bootstrap,
      "--topic",
      topic,
      producerProperty,
      "acks=all",
      readerProperty,
      "parse.key=true",
      readerProperty,
      "key.separator=|",
    ], { stdin: records.join("\n") + "\n", timeoutMs: 60_000 });
    assertRan(produced, "ConsoleProducer");
    const consumed = await kafka.runJava("org.apache.kafka.tools.consumer.ConsoleConsumer", [
      "--bootstrap-server",
      bootstrap,
      "--topic",
      topic,
      "--from-beginning",
      "--max-messages",
      String(records.length),
      "--timeout-ms",
      "30000",
      kafka4 ? "--formatter-property" : "--property",
      "print.key=true",
      kafka4 ? "--formatter-property" : "--property",
      "key.separator=|",
    ], { timeoutMs: 60_000 });
    assertRan(consumed, "ConsoleConsumer");
    assert.deepEqual(consumed.stdout.trimEnd().split("\n"), records);
  },
);

sharedTest(
  "Java clients (Kafka tools) through the gateway: ClusterTool list-endpoints (Admin describeCluster) shows only gateway endpoints",
  async () => {
    const { kafka, kafka4, bootstrap } = await node.get();

    if (!kafka4) {
      // 3.9's ClusterTool has no list-endpoints; cluster-id still goes through Admin describeCluster
      // (the DescribeCluster API), and the peer check below proves no real address was used.
      const clusterId = await kafka.runJava("org.apache.kafka.tools.ClusterTool", [
        "cluster-id",
        "--bootstrap-server",
        bootstrap,
      ], { timeoutMs: 60_000 });
      assertRan(clusterId, "ClusterTool cluster-id");
      assert.match(clusterId.stdout, /Cluster ID: \S+/);
      return;
    }
    const listed = await kafka.runJava("org.apache.kafka.tools.ClusterTool", [
      "list-endpoints",
      "--bootstrap-server",
      bootstrap,
      "--include-fenced-brokers",
    ], { timeoutMs: 60_000 });
    assertRan(listed, "ClusterTool list-endpoints");
    assertNoRealAddress(listed.stdout, kafka, "ClusterTool list-endpoints");
    const rows = listed.stdout.trim().split("\n").slice(1).map((l) => l.trim().split(/\s+/));
    assert.deepEqual(
      rows.map(([id, host, port, rack, state, type]) => ({
        id,
        endpoint: `${host}:${port}`,
        rack,
        state,
        type,
      })),
      kafka.brokers.map((b) => ({
        id: String(b.id),
        endpoint: `${HOST}:${6969 + b.id}`,
        rack: b.rack,
        state: "unfenced",
        type: "broker",
      })),
      listed.stdout,
    );
    const clusterId = await kafka.runJava("org.apache.kafka.tools.ClusterTool", [
      "cluster-id",
      "--bootstrap-server",
      bootstrap,
    ], { timeoutMs: 60_000 });
    assertRan(clusterId, "ClusterTool cluster-id");
    assert.match(clusterId.stdout, /Cluster ID: \S+/);
  },
);

sharedTest(
  "Java clients (Kafka tools) through the gateway: BrokerApiVersionsCommand shows only gateway endpoints",
  async () => {
    const { kafka, brokerApiVersionsCommand, bootstrap } = await node.get();

    const result = await kafka.runJava(brokerApiVersionsCommand, [
      "--bootstrap-server",
      bootstrap,
    ], { timeoutMs: 60_000 });
    assertRan(result, "BrokerApiVersionsCommand");
    assertNoRealAddress(result.stdout, kafka, "BrokerApiVersionsCommand");
    const endpoints = [...result.stdout.matchAll(/^(\S+):(\d+) \(id: (\d+) rack: ([^\s)]+)/gm)]
      .map(([, host, port, id, rack]) => ({ endpoint: `${host}:${port}`, id: Number(id), rack }))
      .sort((a, b) => a.id - b.id);
    assert.deepEqual(
      endpoints,
      kafka.brokers.map((b) => ({ endpoint: `${HOST}:${6969 + b.id}`, id: b.id, rack: b.rack })),
      result.stdout,
    );
    assert.match(result.stdout, /Produce\(0\): \d+ to \d+ \[usable: \d+\]/);
  },
);

sharedTest(
  "Java clients (Kafka tools) through the gateway: the Java tools only ever talked to gateway endpoints",
  async () => {
    const { kafka, brokerApiVersionsCommand, bootstrap, expected, peers } = await node.get();

    // A tool of its own (the earlier tests' tools count too).
    assertRan(
      await kafka.runJava(brokerApiVersionsCommand, ["--bootstrap-server", bootstrap], { timeoutMs: 60_000 }),
      "BrokerApiVersionsCommand",
    );

    peers.stop();
    assert.ok(peers.peers.size > 0, "sampled the Java tools' connections");
    for (const peer of peers.peers) {
      assert.ok(
        peer === bootstrap || expected.includes(peer),
        `a Java tool connected to ${peer} (expected only ${bootstrap}, ${expected.join(", ")}); all: ${[
          ...peers.peers,
        ]}`,
      );
    }
  },
);
