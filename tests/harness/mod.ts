/**
 * Test harness entry point: the shared real Kafka cluster and small helpers around it.
 *
 * `deno task test` (tests/run.ts) starts ONE 3-broker cluster per test run and passes it to every test
 * file through env KGATE_TEST_KAFKA (JSON `KafkaClusterInfo`). A test file run alone
 * (`deno test -A tests/foo_test.ts`) gets its own cluster from `testKafka()`; it is shared by all test
 * files of that `deno test` process and killed (dir removed) by a watchdog right after the process exits.
 *
 * ```ts
 * import { createTopic, runKcat, testKafka } from "./harness/mod.ts";
 * const kafka = await testKafka();
 * await createTopic("orders", 3, 3);
 * const r = await runKcat(["-P", "-b", kafka.bootstrapServers, "-t", "orders"], { stdin: "a\nb\n" });
 * ```
 */
import { KafkaCluster, type KafkaClusterInfo, SASL_USERS } from "./kafka_cluster.ts";
import { runCommand, type RunOptions, type RunResult } from "./process.ts";
import type { CreateTopicOptions, JavaOptions } from "./kafka_cluster.ts";

export {
  BROKER_IDS,
  type CreateTopicOptions,
  DEFAULT_PORT_BASE,
  HOST,
  type JavaOptions,
  type KafkaBrokerInfo,
  KafkaCluster,
  type KafkaClusterInfo,
  type KafkaClusterOptions,
  type KafkaToolClasses,
  kafkaToolClasses,
  RACKS,
  SASL_USERS,
  saslClientProperties,
  type StartBrokerOptions,
  type StopBrokerOptions,
} from "./kafka_cluster.ts";
export { defaultKafkaVersion, ensureKafkaJars, kafkaLibDir, kafkaMajor } from "./kafka_jars.ts";
export {
  fetchMetadata,
  type Metadata,
  type MetadataBroker,
  type MetadataPartition,
  type MetadataTopic,
  RawClient,
  type RawResponse,
  withDeadline,
} from "./kafka_wire.ts";
export {
  freePort,
  pidAlive,
  portFree,
  runCommand,
  type RunOptions,
  type RunResult,
  sleep,
  terminate,
} from "./process.ts";

/** Name of the env var that carries the JSON `KafkaClusterInfo` of the shared cluster. */
export const KAFKA_ENV = "KGATE_TEST_KAFKA";

let cluster: Promise<KafkaCluster> | undefined;

/**
 * The cluster of this test run: attached from env KGATE_TEST_KAFKA when set (tests/run.ts), else
 * started on first use (ad-hoc `deno test` of single files).
 */
export function testKafka(): Promise<KafkaCluster> {
  if (!cluster) {
    const env = Deno.env.get(KAFKA_ENV);
    if (env) {
      cluster = Promise.resolve(KafkaCluster.fromInfo(JSON.parse(env) as KafkaClusterInfo));
    } else {
      const t0 = performance.now();
      cluster = KafkaCluster.start().then((c) => {
        console.error(
          `harness: started Kafka ${c.version} at ${c.bootstrapServers} in ` +
            `${((performance.now() - t0) / 1000).toFixed(1)}s (stopped when this process exits)`,
        );
        return c;
      });
      cluster.catch(() => cluster = undefined);
    }
  }
  return cluster;
}

/** Runs a Java main class from the Kafka jars of the test cluster (default timeout 120 s). */
export async function runJava(mainClass: string, args: string[], opts: JavaOptions = {}): Promise<RunResult> {
  return await (await testKafka()).runJava(mainClass, args, opts);
}

/** Runs `kcat` (default timeout 30 s; killed on timeout). */
export async function runKcat(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return await runCommand("kcat", args, { timeoutMs: 30_000, ...opts });
}

/** kcat `-X` arguments for the SASL_PLAINTEXT listener with PLAIN credentials (default user alice). */
export function kcatSaslArgs(user = "alice", password?: string): string[] {
  const pw = password ?? SASL_USERS[user] ?? "";
  return [
    "-X",
    "security.protocol=SASL_PLAINTEXT",
    "-X",
    "sasl.mechanisms=PLAIN",
    "-X",
    `sasl.username=${user}`,
    "-X",
    `sasl.password=${pw}`,
  ];
}

/** Creates a topic on the test cluster and waits until all live brokers know its leaders. */
export async function createTopic(
  name: string,
  partitions = 1,
  replicationFactor = 3,
  opts: CreateTopicOptions = {},
): Promise<void> {
  await (await testKafka()).createTopic(name, partitions, replicationFactor, opts);
}

/** Deletes topics on the test cluster (unknown ones are ignored). */
export async function deleteTopic(...names: string[]): Promise<void> {
  await (await testKafka()).deleteTopic(...names);
}

/** A topic name unique to this run: `<prefix>-<time>-<random>`. */
export function uniqueTopic(prefix = "t"): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
