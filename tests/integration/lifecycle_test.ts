/**
 * Gateway lifecycle against real faults, with the gateway as a real child process (HOST_A and
 * HOST_B) and the real cluster:
 *
 * - bad configuration, `--help`, `--version`, unknown flags (exit codes and the one stderr line);
 * - unreachable bootstrap servers at start (not ready, retries with growing backoff), then a TCP relay
 *   to a real broker comes up on that address and the node becomes ready;
 * - SIGTERM / SIGINT with clients connected, and SIGTERM while the cluster is still unreachable;
 * - a broker stopped (SIGTERM) and a broker killed (SIGKILL) under connected clients: only the
 *   connections to that broker close (logged once each), clients retry and continue, the node serves.
 *
 * Every wait is bounded; stopped brokers are restarted in `finally`. The bad-configuration runs (all at
 * once) and the node under broker faults (with its background producer) are file fixtures shared by
 * their tests.
 */
import assert from "node:assert/strict";
import {
  createTopic,
  freePort,
  type KafkaCluster,
  runKcat,
  sleep,
  testKafka,
  uniqueTopic,
} from "../harness/mod.ts";
import { SETTINGS } from "../../src/config/mod.ts";
import { GatewayProcess, projectVersion } from "../support/gateway_process.ts";
import {
  assertServes,
  expectExit,
  expectOneLogLine,
  kcatMetadata,
  KcatStream,
  runMain,
} from "../support/faults_gateway.ts";
import { BlackHole, TcpRelay } from "../support/faults_relay.ts";
import { apiVersionsV0, fetchV4, RawClient, withDeadline } from "../support/faults_wire.ts";
import { fileFixture, sharedTest } from "../support/fixture.ts";
import { loopbackHosts } from "../support/loopback.ts";
import { kafkajsProducer } from "../support/kafkajs.ts";

const [HOST_A, HOST_B] = loopbackHosts("lifecycle", 2);
/** A bootstrap list the config tests never get to use (the config is rejected first). */
const UNUSED_BOOTSTRAP = "127.0.0.1:1";
/** "A few seconds": the bound on every shutdown. */
const EXIT_WITHIN_MS = 5_000;

/** The one line of `stderr`; fails unless there is exactly one. */
function oneLine(stderr: string, what: string): string {
  const lines = stderr.split("\n").filter((l) => l.trim() !== "");
  assert.equal(lines.length, 1, `${what}: expected exactly one stderr line, got:\n${stderr}`);
  return lines[0];
}

/** Asserts nothing accepts TCP connections at `hostname:port`. */
async function assertRefused(hostname: string, port: number): Promise<void> {
  try {
    const conn = await withDeadline(
      Deno.connect({ hostname, port }),
      5_000,
      `connect to ${hostname}:${port}`,
    );
    conn.close();
  } catch (error) {
    assert.ok(error instanceof Deno.errors.ConnectionRefused, `connect to ${hostname}:${port}: ${error}`);
    return;
  }
  assert.fail(`${hostname}:${port} accepts connections`);
}

/** Timestamps (ms) of the text log lines matching `pattern`, in order. */
function logTimes(logs: string, pattern: RegExp): { time: number; line: string }[] {
  return logs.split("\n").filter((l) => pattern.test(l)).map((line) => {
    const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) ([+-]\d\d:\d\d)/.exec(line);
    assert.ok(m, `no timestamp in ${line}`);
    return { time: Date.parse(`${m[1]}T${m[2]}${m[3]}`), line };
  });
}

/** Sends `signal` with a client connected and checks the shutdown: bounded exit 0, client closed, port closed. */
async function signalWithClientConnected(
  gateway: GatewayProcess,
  signal: "SIGTERM" | "SIGINT",
): Promise<void> {
  const client = await RawClient.connect(gateway.host, gateway.portStart);
  try {
    await client.roundTrip(apiVersionsV0(1), 1).catch((error) => {
      throw new Error(`${error.message}; gateway logs:\n${gateway.logs}`);
    });
    const t0 = Date.now();
    gateway.child.kill(signal);
    const status = await expectExit(gateway, EXIT_WITHIN_MS);
    const elapsed = Date.now() - t0;
    assert.equal(status.code, 0, `exit status ${JSON.stringify(status)}; logs:\n${gateway.logs}`);
    assert.ok(elapsed < EXIT_WITHIN_MS, `exit took ${elapsed} ms`);
    await client.closedByPeer(1_000);
  } finally {
    client.close();
  }
  await gateway.waitForLog(new RegExp(`${signal} received: shutting down`), 1_000);
  await gateway.waitForLog(/\bstopped\b/, 1_000);
  await assertRefused(gateway.host, gateway.portStart);
}

/** Bad configurations: each exits 2 with one stderr line matching `expect` (and never showing `never`). */
const base = { KAFKA_BOOTSTRAP_SERVERS: UNUSED_BOOTSTRAP };
const BAD_CONFIGS: {
  name: string;
  args?: string[];
  env: Record<string, string>;
  expect: RegExp[];
  never?: string;
}[] = [
  {
    name: "GATEWAY_PORT_START=abc",
    env: { ...base, GATEWAY_PORT_START: "abc" },
    expect: [/GATEWAY_PORT_START/, /"abc"|\babc\b/, /integer from 1 to 65535/],
  },
  {
    name: "GATEWAY_PORT_START=70000",
    env: { ...base, GATEWAY_PORT_START: "70000" },
    expect: [/GATEWAY_PORT_START/, /70000/, /integer from 1 to 65535/],
  },
  {
    name: "GATEWAY_MAX_FRAME_BYTES=12",
    env: { ...base, GATEWAY_MAX_FRAME_BYTES: "12" },
    expect: [/GATEWAY_MAX_FRAME_BYTES/, /\b12\b/, /1024 to 2147483647/],
  },
  {
    name: "GATEWAY_LOG_LEVEL=verbose",
    env: { ...base, GATEWAY_LOG_LEVEL: "verbose" },
    expect: [/GATEWAY_LOG_LEVEL/, /verbose/, /debug/, /info/],
  },
  {
    name: "KAFKA_BOOTSTRAP_SERVERS without a port",
    env: { KAFKA_BOOTSTRAP_SERVERS: "localhost" },
    expect: [/KAFKA_BOOTSTRAP_SERVERS/, /localhost/, /host:port/],
  },
  {
    name: "KAFKA_BOOTSTRAP_SERVERS missing",
    env: {},
    expect: [/KAFKA_BOOTSTRAP_SERVERS/, /required/, /host:port/],
  },
  {
    name: "--port-start abc (flag)",
    args: ["--port-start", "abc"],
    env: base,
    expect: [/GATEWAY_PORT_START|--port-start/, /abc/, /integer from 1 to 65535/],
  },
  {
    name: "a bad secret is named but never printed",
    env: { ...base, KAFKA_SASL_JAAS_CONFIG: "not-a-jaas-line-s3cr3t" },
    expect: [/KAFKA_SASL_JAAS_CONFIG/],
    never: "s3cr3t",
  },
  { name: "unknown flag", args: ["--no-such-flag"], env: base, expect: [/--no-such-flag|no-such-flag/] },
  { name: "unexpected positional argument", args: ["extra"], env: base, expect: [/extra/] },
];

/** Every bad configuration, `--help` and `--version` run at once: each is a short deno start. */
const mainRuns = fileFixture(async () => {
  // All at once: each is a short deno start.
  const [badResults, help, version, expectedVersion] = await Promise.all([
    Promise.all(BAD_CONFIGS.map((c) => runMain(c.args ?? [], c.env, 15_000))),
    runMain(["--help"], {}, 15_000),
    runMain(["--version"], {}, 15_000),
    projectVersion(),
  ]);

  return { badResults, help, version, expectedVersion };
});

for (const [i, c] of BAD_CONFIGS.entries()) {
  Deno.test(`bad configuration ${c.name}: exit 2, one stderr line`, async () => {
    const r = (await mainRuns.get()).badResults[i];
    assert.equal(r.code, 2, `${c.name}: exit code ${r.code}\nstdout:${r.stdout}\nstderr:${r.stderr}`);
    const line = oneLine(r.stderr, c.name);
    for (const re of c.expect) assert.match(line, re, `${c.name}: ${line}`);
    if (c.never) {
      assert.ok(!r.stderr.includes(c.never) && !r.stdout.includes(c.never), `secret printed: ${line}`);
    }
    assert.equal(r.stdout, "", `${c.name}: nothing on stdout`);
  });
}

Deno.test("--help lists every setting with its flag and default, exit 0", async () => {
  const { help } = await mainRuns.get();
  assert.equal(help.code, 0, help.stderr);
  const text = help.stdout;
  for (const s of SETTINGS) {
    const flag = `--${s.env.replace(/^GATEWAY_/, "").toLowerCase().replaceAll("_", "-")}`;
    const at = text.indexOf(`${flag}  (${s.env})`);
    assert.ok(at >= 0, `--help does not list ${flag} (${s.env}):\n${text}`);
    const entry = text.slice(at).split("\n").slice(0, 2).join("\n");
    const def = s.required ? "required" : s.defaultText ? `default: ${s.defaultText}` : "default: unset";
    assert.ok(entry.includes(def), `--help entry of ${s.env} lacks "${def}":\n${entry}`);
  }
  // Independent of the table: the documented defaults.
  for (
    const expected of [
      /--kafka-bootstrap-servers\s+\(KAFKA_BOOTSTRAP_SERVERS\)\n.*required/,
      /--port-start\s+\(GATEWAY_PORT_START\)\n.*default: 6969/,
      /--bind-host\s+\(GATEWAY_BIND_HOST\)\n.*default: 0\.0\.0\.0/,
      /--max-frame-bytes\s+\(GATEWAY_MAX_FRAME_BYTES\)\n.*default: 104857600/,
      /--help/,
      /--version/,
    ]
  ) assert.match(text, expected);
});

Deno.test("--version prints `kgate <version>`, exit 0", async () => {
  const { version, expectedVersion } = await mainRuns.get();
  assert.equal(version.code, 0, version.stderr);
  assert.equal(version.stdout, `kgate ${expectedVersion}\n`);
});

Deno.test({
  name:
    "unreachable bootstrap servers: not ready, retries with growing backoff, ready once reachable; SIGINT",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const kafka: KafkaCluster = await testKafka();
  const port = freePort();
  const servers = `127.0.0.1:${port}`;
  const portStart = 7022;
  const gateway = await GatewayProcess.start({
    host: HOST_A,
    portStart,
    env: { KAFKA_BOOTSTRAP_SERVERS: servers },
    waitReady: false,
  });
  let relay: TcpRelay | undefined;
  try {
    const retry = new RegExp(
      `cannot reach the Kafka cluster at ${servers.replaceAll(".", "\\.")}: .*retrying in (\\d+) ms`,
    );
    const retryLines = () => logTimes(gateway.logs, retry);
    const deadline = Date.now() + 10_000;
    while (retryLines().length < 3) {
      assert.ok(Date.now() < deadline, `fewer than 3 retries logged within 10 s:\n${gateway.logs}`);
      assert.ok(await gateway.running(), `the gateway exited:\n${gateway.logs}`);
      await sleep(50);
    }
    const lines = retryLines();
    // The error names the servers and the cause.
    assert.match(lines[0].line, /ERR|error/i);
    assert.match(lines[0].line, /refused/i);
    const backoffs = lines.map((l) => Number(l.line.match(retry)![1]));
    assert.ok(
      backoffs[0] > 0 && backoffs[1] > backoffs[0] && backoffs[2] > backoffs[1],
      `backoffs ${backoffs}`,
    );
    // The waits between attempts are the announced backoffs (allow scheduling slack).
    assert.ok(lines[1].time - lines[0].time >= backoffs[0] - 50, JSON.stringify(lines));
    assert.ok(lines[2].time - lines[1].time >= backoffs[1] - 50, JSON.stringify(lines));
    // Not ready: no Kafka port accepts connections.
    assert.doesNotMatch(gateway.logs, /listening on/);
    await assertRefused(HOST_A, portStart);
    await assertRefused(HOST_A, portStart + 1);

    // The bootstrap address comes up: a relay to a real broker.
    const broker = kafka.brokers[0];
    relay = TcpRelay.start({ hostname: "127.0.0.1", port }, { hostname: broker.host, port: broker.port });
    await gateway.waitForLog(
      new RegExp(`listening on ${HOST_A.replaceAll(".", "\\.")} ports ${portStart}-`),
      40_000,
    );
    assert.ok(relay.accepted >= 1, "the gateway never used the bootstrap address");
    await assertServes(gateway, kafka);
    const topic = uniqueTopic("lifecycle-late");
    await createTopic(topic, 1, 2);
    const produced = await runKcat(["-P", "-b", gateway.bootstrap, "-t", topic], {
      stdin: "late-1\nlate-2\n",
    });
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await runKcat(["-C", "-b", gateway.bootstrap, "-t", topic, "-e", "-q"]);
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.deepEqual(consumed.stdout.trim().split("\n"), ["late-1", "late-2"]);

    await signalWithClientConnected(gateway, "SIGINT");
  } finally {
    if (await gateway.running()) await gateway.kill();
    await relay?.close();
  }
});

Deno.test("SIGTERM while the cluster is unreachable (connection refused) exits 0 promptly", async () => {
  const servers = `127.0.0.1:${freePort()}`;
  const gateway = await GatewayProcess.start({
    host: HOST_A,
    portStart: 7122,
    env: { KAFKA_BOOTSTRAP_SERVERS: servers },
    waitReady: false,
  });
  try {
    await gateway.waitForLog(/cannot reach the Kafka cluster/, 10_000);
    const t0 = Date.now();
    gateway.child.kill("SIGTERM");
    const status = await expectExit(gateway, EXIT_WITHIN_MS);
    assert.equal(status.code, 0, gateway.logs);
    assert.ok(Date.now() - t0 < EXIT_WITHIN_MS);
    await gateway.waitForLog(/stopped before the upstream cluster was reachable/, 1_000);
  } finally {
    if (await gateway.running()) await gateway.kill();
  }
});

Deno.test("SIGTERM while a bootstrap server accepts but never answers exits 0 promptly", async () => {
  // A hung bootstrap server (e.g. a load balancer in front of a dead cluster): the start attempt is
  // in flight when the signal comes.
  const hole = BlackHole.start({ hostname: "127.0.0.1", port: 0 });
  const gateway = await GatewayProcess.start({
    host: HOST_A,
    portStart: 7222,
    env: { KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${hole.port}` },
    waitReady: false,
  });
  try {
    const deadline = Date.now() + 10_000;
    while (hole.accepted === 0) {
      assert.ok(
        Date.now() < deadline,
        `the gateway never connected to the bootstrap server:\n${gateway.logs}`,
      );
      await sleep(25);
    }
    await sleep(200);
    const t0 = Date.now();
    gateway.child.kill("SIGTERM");
    const status = await expectExit(gateway, EXIT_WITHIN_MS).catch((error) => {
      throw new Error(
        `SIGTERM during an in-flight bootstrap attempt was not honoured within ${EXIT_WITHIN_MS} ms (the ` +
          `attempt runs to its GATEWAY_UPSTREAM_CONNECT_TIMEOUT_MS timeout, per bootstrap server): ${error.message}`,
      );
    });
    const elapsed = Date.now() - t0;
    assert.equal(status.code, 0, gateway.logs);
    assert.ok(elapsed < EXIT_WITHIN_MS, `exit took ${elapsed} ms`);
    await gateway.waitForLog(/stopped before the upstream cluster was reachable/, 1_000);
  } finally {
    if (await gateway.running()) await gateway.kill();
    await hole.close();
  }
});

Deno.test({
  name: "SIGTERM with clients connected: stops accepting, closes connections, exits 0 promptly",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const kafka = await testKafka();
  const gateway = await GatewayProcess.start({ host: HOST_B, kafka, portStart: 7069 });
  const producer = kafkajsProducer(gateway.bootstrap, "kgate-lifecycle", 12);
  let consumer: KcatStream | undefined;
  try {
    const topic = uniqueTopic("lifecycle-term");
    await createTopic(topic, 3, 2);
    await withDeadline(producer.connect(), 20_000, "kafkajs connect");
    await withDeadline(producer.send({ topic, messages: [{ value: "before SIGTERM" }] }), 20_000, "produce");
    // A kcat consumer long-polling through the node when the signal comes.
    consumer = KcatStream.consume(gateway.bootstrap, topic);
    await consumer.waitForLines(["before SIGTERM"], 20_000);
    await signalWithClientConnected(gateway, "SIGTERM");
  } finally {
    await consumer?.stop();
    if (await gateway.running()) await gateway.kill();
    await withDeadline(producer.disconnect(), 10_000, "kafkajs disconnect").catch(() => {});
  }
});

/**
 * A node (HOST_B, long metadata refresh interval: each broker's port stays mapped to that broker while
 * it is down) on a whole cluster, with a kafkajs producer sending small batches through it in the
 * background (failures recorded, not thrown).
 */
const faults = fileFixture(async (stack) => {
  const kafka = await testKafka();
  const all = kafka.brokers.map((b) => b.id);
  // Start from a whole cluster (a broker left stopped would make every check below meaningless).
  await kafka.startAllBrokers();
  await kafka.waitForBrokers(all, 60_000);
  const topic = uniqueTopic("lifecycle-faults");
  await createTopic(topic, 3, 3);
  // A long refresh interval keeps each broker's port mapped to that broker while it is down.
  const gateway = await GatewayProcess.start({
    host: HOST_B,
    kafka,
    env: { GATEWAY_METADATA_REFRESH_MS: "600000" },
  });
  const portOf = (id: number) => gateway.portStart + id;
  stack.defer(async () => {
    const status = await gateway.stop();
    assert.equal(status.code, 0, gateway.logs);
  });
  const producer = kafkajsProducer(gateway.bootstrap, "kgate-lifecycle", 12);
  stack.defer(() => withDeadline(producer.disconnect(), 10_000, "kafkajs disconnect").catch(() => {}));
  stack.defer(() => kafka.startAllBrokers().catch((error) => console.error(`restarting brokers: ${error}`)));
  const sent: string[] = [];
  // Produces small batches until stopped; records failures instead of throwing.
  const background = { stop: false, batches: 0, errors: [] as string[] };
  let producing: Promise<void> = Promise.resolve();
  stack.defer(async () => {
    background.stop = true;
    await withDeadline(producing, 35_000, "the background producer").catch(() => {});
  });
  await withDeadline(producer.connect(), 20_000, "kafkajs connect");
  producing = (async () => {
    for (let batch = 0; !background.stop; batch++) {
      const values = Array.from({ length: 5 }, (_, i) => `b${batch}-${i}`);
      // One partition per send: kafkajs 2.2.4 drops the messages of a failed partition when its new
      // leader already answered within the same send (tulios/kafkajs PR #1798), which this test
      // would otherwise report as lost acknowledged records.
      const messages = values.map((value) => ({ value, partition: batch % 3 }));
      try {
        await withDeadline(producer.send({ topic, messages }), 30_000, "produce");
        sent.push(...values);
        background.batches++;
      } catch (error) {
        background.errors.push(`batch ${batch}: ${(error as Error).message}`);
      }
      await sleep(50);
    }
  })();
  const progressAfter = async (what: string, batches = 3) => {
    const target = background.batches + batches;
    const deadline = Date.now() + 30_000;
    while (background.batches < target) {
      assert.ok(Date.now() < deadline, `kafkajs made no progress ${what}; errors: ${background.errors}`);
      await sleep(50);
    }
  };
  await progressAfter("at start");
  return { kafka, all, topic, gateway, portOf, sent, background, producing: () => producing, progressAfter };
});

sharedTest(
  "brokers stopped and killed under connected clients: broker 2 stopped (SIGTERM): its client connection closes, new ones are refused",
  async () => {
    const { kafka, all, gateway, portOf, progressAfter } = await faults.get();

    const victim = await RawClient.connect(HOST_B, portOf(2));
    const from = gateway.logs.length;
    try {
      await victim.roundTrip(apiVersionsV0(1), 1);
      await kafka.stopBroker(2, { timeoutMs: 30_000 });
      await victim.closedByPeer(10_000);
      await expectOneLogLine(gateway, from, victim.address, /broker 2 closed the connection of/);
      // Broker 2 is down: a new connection to its port is closed with the reason.
      const fromRefused = gateway.logs.length;
      const refused = await RawClient.connect(HOST_B, portOf(2));
      // The broker connection opens with the first valid request (none for a silent connection).
      await refused.sendTolerant(apiVersionsV0(2));
      await refused.closedByPeer(10_000);
      await expectOneLogLine(
        gateway,
        fromRefused,
        refused.address,
        /cannot connect to broker 2 at 127\.0\.0\.1:\d+: .*refused/i,
      );
      // The node serves, the producer continues without broker 2.
      await kafka.waitForBrokers([1, 3], 30_000);
      await assertServes(gateway, [1, 3]);
      await progressAfter("with broker 2 stopped");
    } finally {
      victim.close();
      await kafka.startBroker(2);
      await kafka.waitForBrokers(all, 60_000);
    }
    await assertServes(gateway, all);
    const back = await RawClient.connect(HOST_B, portOf(2));
    try {
      await back.roundTrip(apiVersionsV0(2), 2);
    } finally {
      back.close();
    }
    await progressAfter("after broker 2 is back");
  },
);

sharedTest(
  "brokers stopped and killed under connected clients: broker 3 killed (SIGKILL) during a long-poll fetch: that connection closes, logged once",
  async () => {
    const { kafka, all, gateway, portOf, progressAfter } = await faults.get();

    // A fresh topic spreads its leaders over the three brokers: find broker 3's partition.
    const pollTopic = uniqueTopic("lifecycle-poll");
    await createTopic(pollTopic, 3, 3);
    const led = (await kafka.metadata([pollTopic])).topics[0].partitions.find((p) => p.leader === 3);
    assert.ok(led, "broker 3 leads no partition of a fresh 3-partition topic");
    const victim = await RawClient.connect(HOST_B, portOf(3));
    const bystander = await RawClient.connect(HOST_B, portOf(1));
    const from = gateway.logs.length;
    try {
      await victim.roundTrip(apiVersionsV0(1), 1);
      await bystander.roundTrip(apiVersionsV0(1), 1);
      // Waits up to 20 s for data that never comes: the request is in flight when the broker dies.
      await victim.send(fetchV4(2, pollTopic, led.partition, 0n, 20_000, 1));
      await sleep(300);
      await kafka.stopBroker(3, { kill: true });
      await victim.closedByPeer(5_000);
      await expectOneLogLine(gateway, from, victim.address, /broker 3 closed the connection of/);
      // A connection to another broker is untouched and still served.
      await bystander.roundTrip(apiVersionsV0(3), 3);
      // kcat -L works right away (bootstrap connections that land on the dead broker are retried).
      await kcatMetadata(gateway.bootstrap);
      await kafka.waitForBrokers([1, 2], 30_000);
      await assertServes(gateway, [1, 2]);
      await progressAfter("with broker 3 killed");
    } finally {
      victim.close();
      bystander.close();
      await kafka.startBroker(3);
      await kafka.waitForBrokers(all, 60_000);
    }
    await assertServes(gateway, all);
    await progressAfter("after broker 3 is back");
  },
);

sharedTest(
  "brokers stopped and killed under connected clients: everything kafkajs produced through the faults was stored",
  async () => {
    const { topic, gateway, sent, background, producing } = await faults.get();
    try {
      background.stop = true;
      await withDeadline(producing(), 40_000, "the background producer");
      assert.deepEqual(background.errors, [], "kafkajs sends failed for good");
      const consumed = await runKcat(["-C", "-b", gateway.bootstrap, "-t", topic, "-e", "-q"], {
        timeoutMs: 30_000,
      });
      assert.equal(consumed.code, 0, consumed.stderr);
      const stored = new Set(consumed.stdout.trim().split("\n"));
      const missing = sent.filter((v) => !stored.has(v));
      assert.deepEqual(missing, [], `${missing.length} of ${sent.length} acknowledged records missing`);
    } finally {
      // The producer has stopped: a later test gets a new one.
      await faults.reset();
    }
  },
);
