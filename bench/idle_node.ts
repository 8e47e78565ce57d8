/**
 * Idle cost of kgate: one node, and a 3-node gateway cluster, with no clients, against a Kafka cluster:
 * CPU % of a core (utime + stime over the interval) and RSS per node. Membership (the consumer group) and
 * the broker refresh run as in production.
 *
 *   deno run -A bench/idle_node.ts [--seconds 60] [--settle 10] [--nodes 1,3] [--v8-flags FLAGS] [--env K=V ...]
 *
 * `--v8-flags` runs the nodes with DENO_V8_FLAGS=FLAGS, `--env` with more environment (to try heap and
 * allocator settings).
 *
 * Uses the cluster of env KGATE_TEST_KAFKA when set, else starts its own.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { KafkaCluster, type KafkaClusterInfo } from "../tests/harness/kafka_cluster.ts";
import { GatewayProcess } from "../tests/support/gateway_process.ts";
import { uniqueClusterId, untilClusterIs } from "../tests/support/gateway_cluster.ts";
import { loopbackHosts } from "../tests/support/loopback.ts";
import { sampleIdle } from "./proc_stats.ts";

/** The idle figures of one gateway cluster (one or more nodes). */
export interface IdleFigures {
  /** Nodes in the cluster. */
  nodes: number;
  /** CPU % of one core, per node. */
  cpuPercent: number[];
  /** RSS per node in MiB. */
  rssMiB: number[];
}

/** Options of {@link measureIdleCluster}. */
export interface IdleOptions {
  /** Length of the measurement (default 60 s). */
  seconds?: number;
  /** Wait after the cluster formed, before measuring (default 10 s). */
  settleSeconds?: number;
  /** Extra environment of the nodes (e.g. `DENO_V8_FLAGS`). */
  env?: Record<string, string>;
}

/**
 * Starts `hosts.length` nodes as one gateway cluster, waits until each sees all, measures them idle,
 * stops them.
 *
 * @example
 * ```ts
 * const figures = await measureIdleCluster(kafka, loopbackHosts("bench", 3), { seconds: 60 });
 * ```
 */
export async function measureIdleCluster(
  kafka: KafkaCluster,
  hosts: readonly string[],
  options: IdleOptions = {},
): Promise<IdleFigures> {
  const clusterId = uniqueClusterId("bench-idle");
  const nodes: GatewayProcess[] = [];
  try {
    for (const host of hosts) {
      nodes.push(
        await GatewayProcess.start({
          host,
          kafka,
          env: { GATEWAY_CLUSTER_ID: clusterId, GATEWAY_LOG_LEVEL: "warning", ...options.env },
        }),
      );
    }
    await untilClusterIs(nodes, hosts, 60_000);
    await new Promise((resolve) => setTimeout(resolve, (options.settleSeconds ?? 10) * 1000));
    const sample = await sampleIdle(nodes.map((n) => n.child.pid), options.seconds ?? 60);
    return {
      nodes: nodes.length,
      cpuPercent: sample.cpuSeconds.map((s) => 100 * s / sample.seconds),
      rssMiB: sample.rssBytes.map((b) => b / 2 ** 20),
    };
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
}

/** The cluster of env KGATE_TEST_KAFKA, or a fresh one (`owned`: stop it after use). */
export async function benchKafka(): Promise<{ kafka: KafkaCluster; owned: boolean }> {
  const shared = Deno.env.get("KGATE_TEST_KAFKA");
  if (shared) return { kafka: KafkaCluster.fromInfo(JSON.parse(shared) as KafkaClusterInfo), owned: false };
  const portBase = Number(Deno.env.get("KGATE_KAFKA_PORT_BASE") ?? 18092);
  return { kafka: await KafkaCluster.start({ portBase }), owned: true };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      seconds: { type: "string", default: "60" },
      settle: { type: "string", default: "10" },
      nodes: { type: "string", default: "1,3" },
      "v8-flags": { type: "string" },
      env: { type: "string", multiple: true },
    },
  });
  const { kafka, owned } = await benchKafka();
  try {
    for (const n of values.nodes.split(",").map(Number)) {
      const f = await measureIdleCluster(kafka, loopbackHosts("bench", n), {
        seconds: Number(values.seconds),
        settleSeconds: Number(values.settle),
        env: {
          ...Object.fromEntries(
            (values.env ?? []).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
          ),
          ...(values["v8-flags"] ? { DENO_V8_FLAGS: values["v8-flags"] } : {}),
        },
      });
      console.log(
        `${n} node(s), idle ${values.seconds} s: CPU % of a core ${
          f.cpuPercent.map((c) => c.toFixed(2)).join(" / ")
        }, RSS MiB ${f.rssMiB.map((r) => r.toFixed(1)).join(" / ")}`,
      );
    }
  } finally {
    if (owned) await kafka.stop();
  }
}
