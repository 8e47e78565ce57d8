/**
 * Rolling restart of a 3-node gateway cluster under the default policy (`client-consistent`), with the
 * three big client families at once: a kafkajs idempotent producer and consumer, four librdkafka
 * idempotent producers (python3-confluent-kafka from Debian) and Kafka's Java console producer (idempotent) and
 * consumer. Every acknowledged record is consumed by both consumers; no record is in the topic twice.
 * For each restart step it prints how many client connections the nodes accepted (connections that
 * moved), beside the same run under the old `client-sticky` `(turn + i) mod n` scheme.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { createTopic, deleteTopic, runKcat, terminate, testKafka, uniqueTopic } from "../harness/mod.ts";
import { deadline, settleWithin, sleep } from "../../src/lib/deadline.ts";
import { uniqueClusterId, untilClusterIs } from "../support/gateway_cluster.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { auditEntries } from "../support/haproxy_audit.ts";
import { quietKafkajsTimerWarnings } from "../support/kafkajs.ts";
import { loopbackHosts } from "../support/loopback.ts";
import { waitUntil } from "../support/wait.ts";

quietKafkajsTimerWarnings();
const kafka = await testKafka();
const PORT_START = 6969;
/** The three nodes of each run: client-consistent, then client-sticky. */
const CONSISTENT_HOSTS = loopbackHosts("rolling_restart_policy").slice(0, 3);
const STICKY_HOSTS = loopbackHosts("rolling_restart_policy").slice(3, 6);
/** Every client refreshes its metadata this often, so it sees a changed mapping within the settle time. */
const METADATA_MAX_AGE_MS = 3000;
/** After a restarted node is back in every node's view: time for every client to refresh and move. */
const SETTLE_MS = 2 * METADATA_MAX_AGE_MS;
const DRAIN_MS = 3000;
const PYTHON = "/usr/bin/python3";

/**
 * `LIBRDKAFKA_PRODUCERS` librdkafka idempotent producers (client ids `<id>-0`, `<id>-1`, ...; more
 * clients, more connections, a clearer count of the ones that move): prints `ACK <value>` per delivery
 * report, stops on SIGTERM.
 */
const LIBRDKAFKA_PRODUCERS = 4;
const PYTHON_PRODUCER = `
import signal, sys
from confluent_kafka import Producer
bootstrap, topic, client_id = sys.argv[1:4]
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
producers = [Producer({"bootstrap.servers": bootstrap, "client.id": "%s-%d" % (client_id, i),
                       "enable.idempotence": True, "acks": "all",
                       "topic.metadata.refresh.interval.ms": ${METADATA_MAX_AGE_MS},
                       "metadata.max.age.ms": ${3 * METADATA_MAX_AGE_MS}, "message.timeout.ms": 120000,
                       "linger.ms": 5}) for i in range(${LIBRDKAFKA_PRODUCERS})]
def report(err, msg):
    print(("ACK " if err is None else "ERR ") + msg.value().decode() + ("" if err is None else " " + str(err)), flush=True)
n = 0
while not stop:
    for p in producers:
        for _ in range(2):
            p.produce(topic, value=("py-%d" % n).encode(), on_delivery=report)
            n += 1
        p.poll(0)
    producers[0].poll(0.05)
left = sum(p.flush(60) for p in producers)
print("DONE %d %d" % (n, left), flush=True)
`;

/** A child process whose stdout lines are collected (and whose stdin may be written). */
class LineProcess {
  readonly lines: string[] = [];
  stderr = "";
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  readonly #reading: Promise<void>;

  constructor(command: string, args: string[], withStdin: boolean) {
    const child = new Deno.Command(command, {
      args,
      stdin: withStdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#writer = withStdin ? child.stdin.getWriter() : undefined;
    this.#reading = Promise.all([
      (async () => {
        let rest = "";
        for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
          const parts = (rest + chunk).split("\n");
          rest = parts.pop()!;
          this.lines.push(...parts);
        }
      })(),
      (async () => {
        for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
          this.stderr += chunk;
        }
      })(),
    ]).then(() => {});
  }

  async write(text: string): Promise<void> {
    await this.#writer!.write(new TextEncoder().encode(text));
  }

  /** Closes stdin (a console producer then flushes and exits); waits for the exit, bounded. */
  async endInput(timeoutMs: number): Promise<Deno.CommandStatus> {
    await this.#writer?.close().catch(() => {});
    return await this.#exit(timeoutMs);
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<Deno.CommandStatus> {
    const status = await terminate(this.#child, timeoutMs);
    await this.#reading;
    return status;
  }

  /** The exit status; SIGKILL after `timeoutMs`. */
  async #exit(timeoutMs: number): Promise<Deno.CommandStatus> {
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch { /* exited */ }
    }, timeoutMs);
    try {
      return await this.#child.status;
    } finally {
      clearTimeout(timer);
      await this.#reading;
    }
  }
}

/** A Kafka console tool from the cluster's jars, as the harness runs them (quiet logging). */
function javaTool(mainClass: string, args: string[], withStdin: boolean): LineProcess {
  const dir = kafka.info.dir;
  const java = Deno.env.get("JAVA_HOME") ? `${Deno.env.get("JAVA_HOME")}/bin/java` : "java";
  return new LineProcess(java, [
    "-Xmx256m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:-UsePerfData",
    `-Dlog4j2.configurationFile=${dir}/tools-log4j2.xml`,
    `-Dlog4j.configuration=file:${dir}/tools-log4j.properties`,
    "-cp",
    kafka.info.classpath,
    mainClass,
    ...args,
  ], withStdin);
}

function startNode(host: string, cluster: string, policy: string): Promise<GatewayProcess> {
  return GatewayProcess.start({
    host,
    kafka,
    portStart: PORT_START,
    env: {
      GATEWAY_CLUSTER_ID: cluster,
      GATEWAY_LOAD_BALANCING_POLICY: policy,
      GATEWAY_DRAIN_MS: String(DRAIN_MS),
      GATEWAY_AUDIT_KAFKA_ENABLED: "false",
    },
  });
}

/** What one rolling restart gave. */
interface RollingRun {
  policy: string;
  /** Connections the nodes accepted during each step: on the restarted node, on the others. */
  steps: { restarted: number; others: number }[];
  /** Acknowledged records per producer. */
  acked: Record<string, number>;
  /** Acknowledged records a consumer never received, per consumer. */
  missing: Record<string, number>;
  /** Records in the topic more than once, per producer (read straight from Kafka). */
  duplicated: Record<string, number>;
  /** Records a consumer received more than once, per consumer. */
  consumedTwice: Record<string, number>;
  javaSendErrors: number;
  /** The first send error the Java producer reported, if any. */
  javaSendError: string;
  crashes: string[];
  seconds: number;
}

async function rollingRun(policy: string, hosts: string[]): Promise<RollingRun> {
  const began = performance.now();
  const cluster = uniqueClusterId(`roll-${policy}`);
  const nodes = await Promise.all(hosts.map((h) => startNode(h, cluster, policy)));
  const retired: GatewayProcess[] = [];
  await untilClusterIs(nodes, hosts, 30_000);
  const bootstrap = nodes.map((n) => n.bootstrap).join(",");
  const topic = uniqueTopic(`roll-${policy}`);
  await createTopic(topic, 3, 3);

  const client = (clientId: string) =>
    new Kafka({
      clientId,
      brokers: nodes.map((n) => n.bootstrap),
      logLevel: logLevel.NOTHING,
      retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 2000 },
    });
  const producer = client("rolling-kafkajs-producer").producer({
    idempotent: true,
    maxInFlightRequests: 1,
    metadataMaxAge: METADATA_MAX_AGE_MS,
  });
  const consumer = client("rolling-kafkajs-consumer").consumer({
    groupId: `${topic}-kafkajs`,
    metadataMaxAge: METADATA_MAX_AGE_MS,
    sessionTimeout: 30_000,
    heartbeatInterval: 3000,
  });
  const crashes: string[] = [];
  consumer.on(consumer.events.CRASH, ({ payload }) => crashes.push(`kafkajs consumer: ${payload.error}`));
  const byKafkajs = new Map<string, number>();
  const ackedJs: string[] = [];
  let stopProducing = false;
  let producingJs: Promise<void> | undefined;
  let producingJava: Promise<void> | undefined;
  let python: LineProcess | undefined;
  let javaProducer: LineProcess | undefined;
  let javaConsumer: LineProcess | undefined;
  const javaLines: string[] = [];
  try {
    await producer.connect();
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        const value = message.value!.toString();
        byKafkajs.set(value, (byKafkajs.get(value) ?? 0) + 1);
        return Promise.resolve();
      },
    });
    producingJs = (async () => {
      let sequence = 0;
      while (!stopProducing) {
        // One partition per send: see the rolling-restart test in cluster_test.ts (kafkajs 2.2.4 retries a
        // send spanning brokers with new sequence numbers).
        const partition = (sequence / 10) % 3;
        const batch = Array.from({ length: 10 }, () => `js-${sequence++}`);
        try {
          await producer.send({ topic, acks: -1, messages: batch.map((value) => ({ partition, value })) });
          ackedJs.push(...batch);
        } catch {
          // not acknowledged
        }
        await sleep(50);
      }
    })();
    python = new LineProcess(PYTHON, ["-c", PYTHON_PRODUCER, bootstrap, topic, "rolling-librdkafka"], false);
    const age = `metadata.max.age.ms=${METADATA_MAX_AGE_MS}`;
    javaProducer = javaTool(kafka.tools.consoleProducer, [
      "--bootstrap-server",
      bootstrap,
      "--topic",
      topic,
      "--producer-property",
      "enable.idempotence=true",
      "--producer-property",
      "acks=all",
      "--producer-property",
      age,
      "--producer-property",
      "client.id=rolling-java-producer",
      "--producer-property",
      "delivery.timeout.ms=120000",
    ], true);
    javaConsumer = javaTool(kafka.tools.consoleConsumer, [
      "--bootstrap-server",
      bootstrap,
      "--topic",
      topic,
      "--group",
      `${topic}-java`,
      "--from-beginning",
      "--consumer-property",
      age,
      "--consumer-property",
      "client.id=rolling-java-consumer",
    ], false);
    const jp = javaProducer;
    producingJava = (async () => {
      let sequence = 0;
      while (!stopProducing) {
        const batch = Array.from({ length: 10 }, () => `java-${sequence++}`);
        await jp.write(batch.map((v) => `${v}\n`).join(""));
        javaLines.push(...batch);
        await sleep(100);
      }
    })();
    // Warm-up: every producer acknowledged, both consumers received.
    const jc = javaConsumer;
    const py = python;
    await waitUntil(
      () =>
        ackedJs.length > 0 && py.lines.some((l) => l.startsWith("ACK ")) && byKafkajs.size > 0 &&
        jc.lines.some((l) => l.startsWith("java-")) && jc.lines.some((l) => l.startsWith("py-")),
      60_000,
      "every client under way",
    );
    await sleep(SETTLE_MS);

    const steps: RollingRun["steps"] = [];
    for (let i = 0; i < nodes.length; i++) {
      const all = () => [...retired, ...nodes];
      const from = new Map(all().map((n) => [n, n.logs.length]));
      const status = await nodes[i].stop(20_000);
      assert.equal(status.code, 0, nodes[i].logs);
      retired.push(nodes[i]);
      nodes[i] = await startNode(hosts[i], cluster, policy);
      await untilClusterIs(nodes, hosts, 30_000);
      await sleep(SETTLE_MS);
      const opens = (n: GatewayProcess) =>
        auditEntries(n.logs, from.get(n) ?? 0).filter((e) => e.action === "OPEN").length;
      steps.push({
        restarted: opens(retired.at(-1)!) + opens(nodes[i]),
        others: nodes.filter((_, j) => j !== i).reduce((sum, n) => sum + opens(n), 0),
      });
    }

    stopProducing = true;
    await settleWithin(Promise.all([producingJs, producingJava]), deadline(20_000));
    const javaStatus = await javaProducer.endInput(60_000);
    const pyStatus = await python.stop(90_000);
    const ackedPy = python.lines.filter((l) => l.startsWith("ACK ")).map((l) => l.slice(4));
    const javaSendErrors = (javaProducer.stderr.match(/Error when sending message/g) ?? []).length;
    const javaSendError = /Error when sending message[^\n]*\n([^\n]*)/.exec(javaProducer.stderr)?.[1] ?? "";
    // The console producer reports no per-record acknowledgement: with no send error and a clean exit,
    // every line it read was acknowledged.
    const ackedJava = javaStatus.code === 0 && javaSendErrors === 0 ? javaLines : [];
    assert.equal(pyStatus.code, 0, `python producer: ${python.stderr.slice(-2000)}`);
    const acked = { kafkajs: ackedJs, librdkafka: ackedPy, java: ackedJava };
    const allAcked = [...ackedJs, ...ackedPy, ...ackedJava];
    const byJava = () => {
      const counts = new Map<string, number>();
      for (const line of jc.lines) if (line) counts.set(line, (counts.get(line) ?? 0) + 1);
      return counts;
    };
    await waitUntil(
      () => {
        const java = byJava();
        return allAcked.every((v) => byKafkajs.has(v) && java.has(v));
      },
      60_000,
      "every acknowledged record consumed by both consumers",
    ).catch(() => {});
    const javaCounts = byJava();
    // Straight from Kafka: how often each record is in the topic.
    const read = await runKcat(
      ["-C", "-b", kafka.bootstrapServers, "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%s\n"],
      { timeoutMs: 60_000 },
    );
    assert.equal(read.code, 0, read.stderr);
    const inTopic = new Map<string, number>();
    for (const v of read.stdout.split("\n")) if (v) inTopic.set(v, (inTopic.get(v) ?? 0) + 1);
    const prefixOf = { kafkajs: "js-", librdkafka: "py-", java: "java-" };
    const duplicated: Record<string, number> = {};
    for (const [family, prefix] of Object.entries(prefixOf)) {
      duplicated[family] = [...inTopic].filter(([v, n]) => v.startsWith(prefix) && n > 1).length;
    }
    return {
      policy,
      steps,
      acked: Object.fromEntries(Object.entries(acked).map(([k, v]) => [k, v.length])),
      missing: {
        kafkajs: allAcked.filter((v) => !byKafkajs.has(v)).length,
        java: allAcked.filter((v) => !javaCounts.has(v)).length,
      },
      duplicated,
      consumedTwice: {
        kafkajs: [...byKafkajs.values()].filter((n) => n > 1).length,
        java: [...javaCounts.values()].filter((n) => n > 1).length,
      },
      javaSendErrors,
      javaSendError,
      crashes,
      seconds: (performance.now() - began) / 1000,
    };
  } finally {
    stopProducing = true;
    // Bounded: a kafkajs client stuck in its retries must not hold the test.
    await settleWithin(Promise.all([producingJs, producingJava]), deadline(10_000));
    await Promise.all([
      python?.stop(5000),
      javaProducer?.stop(5000),
      javaConsumer?.stop(5000),
      settleWithin(Promise.all([consumer.disconnect(), producer.disconnect()]), deadline(10_000)),
    ]);
    await Promise.all(nodes.map((n) => n.stop()));
    await deleteTopic(topic).catch(() => {});
  }
}

function describe(run: RollingRun): string {
  const steps = run.steps.map((s, i) =>
    `step ${i + 1}: ${s.restarted + s.others} (${s.restarted} + ${s.others})`
  )
    .join(", ");
  const total = run.steps.reduce((sum, s) => sum + s.restarted + s.others, 0);
  const fmt = (r: Record<string, number>) => Object.entries(r).map(([k, v]) => `${k} ${v}`).join(", ");
  return `${run.policy.padEnd(17)} connections accepted per step (on the restarted node + on the others): ` +
    `${steps}; total ${total}\n` +
    `${"".padEnd(17)} acknowledged: ${fmt(run.acked)}; not consumed: ${fmt(run.missing)}; ` +
    `in the topic twice: ${fmt(run.duplicated)}; consumed twice: ${fmt(run.consumedTwice)}; ` +
    `java send errors ${run.javaSendErrors}; crashes ${run.crashes.length}; ${run.seconds.toFixed(0)} s` +
    (run.javaSendError
      ? `\n${"".padEnd(17)} first java send error: ${run.javaSendError.slice(0, 200)}`
      : "") +
    (run.crashes.length ? `\n${"".padEnd(17)} ${run.crashes.slice(0, 3).join("; ")}` : "");
}

const runs: RollingRun[] = [];

Deno.test({
  name:
    "rolling restart of 3 nodes (client-consistent): kafkajs, librdkafka and Java clients lose nothing, idempotent producers write nothing twice",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const run = await rollingRun("client-consistent", CONSISTENT_HOSTS);
  runs.push(run);
  console.log(`rolling restart:\n  ${describe(run)}`);
  assert.equal(run.javaSendErrors, 0, describe(run));
  for (const [family, n] of Object.entries(run.acked)) assert.ok(n > 100, `${family}: ${describe(run)}`);
  assert.deepEqual(run.missing, { kafkajs: 0, java: 0 }, describe(run));
  assert.deepEqual(run.duplicated, { kafkajs: 0, librdkafka: 0, java: 0 }, describe(run));
});

Deno.test({
  name: "rolling restart of 3 nodes under the old client-sticky (turn + i) mod n, printed beside",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const run = await rollingRun("client-sticky", STICKY_HOSTS);
  runs.push(run);
  console.log(`rolling restart, both policies:\n  ${runs.map(describe).join("\n  ")}`);
});
