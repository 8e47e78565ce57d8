/**
 * The real Kafka test environment works: 3 brokers with racks, PLAINTEXT, SASL/PLAIN, SSL, SASL_SSL and MTLS
 * listeners, produce/consume roundtrips with kcat, and stopping/starting a broker from this (non-owner) process.
 */
import assert from "node:assert/strict";
import {
  createTopic,
  deleteTopic,
  type KafkaCluster,
  kcatSaslArgs,
  runJava,
  runKcat,
  saslClientProperties,
  sleep,
  testKafka,
  uniqueTopic,
} from "./harness/mod.ts";
import { kcatMetadata } from "./support/faults_gateway.ts";

type KcatMetadata = Awaited<ReturnType<typeof kcatMetadata>>;

function brokerIds(md: KcatMetadata): number[] {
  return md.brokers.map((b) => b.id).sort();
}

async function waitKcatBrokers(kafka: KafkaCluster, bootstrap: string, want: number[], timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let got: number[] = [];
  while (Date.now() < deadline) {
    got = brokerIds(await kcatMetadata(bootstrap));
    if (got.join() === want.join()) return;
    await sleep(250);
  }
  assert.fail(`kcat -L via ${bootstrap} lists [${got}], want [${want}]\n${kafka.logTail(3, 20)}`);
}

async function produce(bootstrap: string, topic: string, lines: string[], extra: string[] = []) {
  const r = await runKcat(["-P", "-b", bootstrap, "-t", topic, "-X", "acks=all", ...extra], {
    stdin: lines.join("\n") + "\n",
    timeoutMs: 30_000,
  });
  assert.equal(r.code, 0, `kcat -P failed: ${r.stderr}`);
}

async function consume(
  bootstrap: string,
  topic: string,
  count: number,
  extra: string[] = [],
): Promise<string[]> {
  const r = await runKcat(
    ["-C", "-q", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-c", String(count), ...extra],
    { timeoutMs: 30_000 },
  );
  assert.equal(r.code, 0, `kcat -C failed: ${r.stderr}`);
  return r.stdout.split("\n").filter((l) => l.length > 0);
}

Deno.test("harness: Metadata lists 3 brokers on both listeners, with racks", async () => {
  const kafka = await testKafka();
  assert.equal(kafka.brokers.length, 3);
  const plain = await kcatMetadata(kafka.bootstrapServers);
  assert.deepEqual(brokerIds(plain), [1, 2, 3]);
  for (const b of kafka.brokers) {
    assert.equal(plain.brokers.find((x) => x.id === b.id)?.name, `${b.host}:${b.port}`);
  }
  const sasl = await kcatMetadata(kafka.saslBootstrapServers, 20_000, kcatSaslArgs("admin"));
  assert.deepEqual(brokerIds(sasl), [1, 2, 3]);
  for (const b of kafka.brokers) {
    assert.equal(sasl.brokers.find((x) => x.id === b.id)?.name, `${b.host}:${b.saslPort}`);
  }
  // kcat does not show racks: ask Kafka directly.
  const md = await kafka.metadata();
  assert.deepEqual(
    md.brokers.map((b) => [b.nodeId, b.rack]).sort(),
    [[1, "rack-a"], [2, "rack-b"], [3, "rack-c"]],
  );
});

Deno.test("harness: produce + consume roundtrip, PLAINTEXT and SASL_PLAINTEXT/PLAIN", async () => {
  const kafka = await testKafka();
  const topic = uniqueTopic("harness-rt");
  await createTopic(topic, 3, 3);
  const plainMsgs = ["p1", "p2", "p3"];
  await produce(kafka.bootstrapServers, topic, plainMsgs);
  const saslMsgs = ["s1", "s2"];
  await produce(kafka.saslBootstrapServers, topic, saslMsgs, kcatSaslArgs("alice"));
  const all = [...plainMsgs, ...saslMsgs].sort();
  assert.deepEqual((await consume(kafka.bootstrapServers, topic, 5)).sort(), all);
  assert.deepEqual((await consume(kafka.saslBootstrapServers, topic, 5, kcatSaslArgs("alice"))).sort(), all);

  // Wrong password: the SASL listener really authenticates.
  const bad = await runKcat(
    ["-L", "-J", "-m", "2", "-b", kafka.saslBootstrapServers, ...kcatSaslArgs("alice", "wrong")],
    { timeoutMs: 20_000 },
  );
  assert.notEqual(bad.code, 0, "kcat -L with a wrong SASL password must fail");
  assert.match(bad.stderr, /Authentication failed/);
  await deleteTopic(topic);
});

Deno.test("harness: SSL, SASL_SSL (PLAIN) and MTLS listeners serve with the test CA", async () => {
  const kafka = await testKafka();
  const ca = ["-X", `ssl.ca.location=${kafka.caFile}`];
  const ssl = await kcatMetadata(kafka.sslBootstrapServers, 20_000, ["-X", "security.protocol=ssl", ...ca]);
  assert.deepEqual(
    ssl.brokers.map((b) => b.name).sort(),
    kafka.brokers.map((b) => `${b.host}:${b.sslPort}`).sort(),
  );
  const saslSsl = await kcatMetadata(kafka.saslSslBootstrapServers, 20_000, [
    ...kcatSaslArgs("alice"),
    "-X",
    "security.protocol=sasl_ssl",
    ...ca,
  ]);
  assert.deepEqual(brokerIds(saslSsl), [1, 2, 3]);
  const mtls = kafka.info.mtlsBootstrapServers!;
  const withCert = await kcatMetadata(mtls, 20_000, [
    "-X",
    "security.protocol=ssl",
    ...ca,
    "-X",
    `ssl.certificate.location=${kafka.info.clientCertFile}`,
    "-X",
    `ssl.key.location=${kafka.info.clientKeyFile}`,
  ]);
  assert.deepEqual(brokerIds(withCert), [1, 2, 3]);
  const withoutCert = await runKcat(["-L", "-b", mtls, "-m", "5", "-X", "security.protocol=ssl", ...ca], {
    timeoutMs: 20_000,
  });
  assert.notEqual(withoutCert.code, 0, "the MTLS listener served a client without a certificate");
});

Deno.test("harness: stopBroker/startBroker of broker 3", async () => {
  const kafka = await testKafka();
  const b1 = `${kafka.broker(1).host}:${kafka.broker(1).port}`;
  const topic = uniqueTopic("harness-ha");
  await createTopic(topic, 3, 3);
  try {
    await kafka.stopBroker(3);
    assert.equal(kafka.isBrokerRunning(3), false);
    await waitKcatBrokers(kafka, b1, [1, 2]);
    // RF 3 topic: writes with acks=all still succeed with one broker down.
    await produce(b1, topic, ["while-down-1", "while-down-2"]);
  } finally {
    await kafka.startBroker(3);
  }
  assert.equal(kafka.isBrokerRunning(3), true);
  await waitKcatBrokers(kafka, b1, [1, 2, 3]);
  assert.deepEqual((await consume(kafka.bootstrapServers, topic, 2)).sort(), [
    "while-down-1",
    "while-down-2",
  ]);
  await deleteTopic(topic);
});

Deno.test("harness: runJava with the Kafka tools (console producer, SASL console consumer)", async () => {
  const kafka = await testKafka();
  const topic = uniqueTopic("harness-java");
  await createTopic(topic, 1, 3);
  const prod = await runJava(
    kafka.tools.consoleProducer,
    ["--bootstrap-server", kafka.bootstrapServers, "--topic", topic],
    { stdin: "j1\nj2\nj3\n", timeoutMs: 60_000 },
  );
  assert.equal(prod.code, 0, `ConsoleProducer failed: ${prod.stderr}`);
  const cfg = await kafka.writeClientProperties(saslClientProperties("alice"));
  const cons = await runJava(kafka.tools.consoleConsumer, [
    "--bootstrap-server",
    kafka.saslBootstrapServers,
    "--consumer.config",
    cfg,
    "--topic",
    topic,
    "--from-beginning",
    "--max-messages",
    "3",
    "--timeout-ms",
    "20000",
  ], { timeoutMs: 60_000 });
  assert.equal(cons.code, 0, `ConsoleConsumer failed: ${cons.stderr}`);
  // (4.2+ prints a deprecation notice for --consumer.config on stdout; --command-config is not in 3.9)
  assert.deepEqual(cons.stdout.split("\n").filter((l) => /^j\d$/.test(l)), ["j1", "j2", "j3"]);
  await deleteTopic(topic);
});
