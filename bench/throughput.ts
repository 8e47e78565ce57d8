/**
 * End-to-end benchmark, in one run on one Kafka cluster: direct to the brokers, through one kgate node,
 * through a 3-node kgate cluster, and through grepplabs kafka-proxy when env KGATE_BENCH_KAFKA_PROXY names
 * a binary (the row is skipped, saying why, otherwise). `--baseline DIR` adds one more node run from another
 * checkout (`DIR/main.ts`, e.g. a worktree of main), as the row `kgate@<its commit>`.
 *
 *   deno task bench:throughput [--quick] [--rounds N] [--records N] [--rate N] [--rate-records N]
 *     [--record-size BYTES] [--connections N] [--idle-seconds N] [--after-close-seconds N]
 *     [--acks all|1] [--replication N] [--paths direct,kgate,kgate-3,kafka-proxy] [--baseline DIR]
 *
 * Uses the Kafka cluster of env KGATE_TEST_KAFKA when set, else starts one. Phases:
 * 1. Memory and idle cost, once per proxy before any traffic: CPU % of a core over `--idle-seconds`, RSS
 *    idle, RSS per connection (`--connections` clients each after one ApiVersions exchange), and RSS
 *    `--after-close-seconds` after they closed.
 * 2. `--rounds` rounds, paths in a rotating order, each with a fresh topic (3 partitions):
 *    full speed (ProducerPerformance `--throughput -1`, then ConsumerPerformance: MB/s and the proxy's
 *    CPU-seconds per GiB, produced plus consumed), and a fixed rate (ProducerPerformance at `--rate`
 *    records/s: latency p50/p95/p99/p99.9, the proxy's CPU-seconds per `--rate-records` records and per
 *    1,000 producer requests).
 * Prints one Markdown table of medians with ratios to direct (stdout); the rounds go to stderr.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { KafkaCluster } from "../tests/harness/kafka_cluster.ts";
import { GatewayProcess } from "../tests/support/gateway_process.ts";
import { uniqueClusterId, untilClusterIs } from "../tests/support/gateway_cluster.ts";
import { loopbackHosts } from "../tests/support/loopback.ts";
import { benchKafka } from "./idle_node.ts";
import { findKafkaProxy, KafkaProxyProcess } from "./kafka_proxy.ts";
import { BaselineNode } from "./baseline_node.ts";
import { openIdleConnections } from "./idle_connections.ts";
import { cpuSeconds, rssBytes, sampleIdle } from "./proc_stats.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
    records: { type: "string" },
    rate: { type: "string", default: "5000" },
    "rate-records": { type: "string" },
    "record-size": { type: "string", default: "1024" },
    connections: { type: "string" },
    "idle-seconds": { type: "string" },
    "after-close-seconds": { type: "string" },
    // The brokers share 2 cores with everything else: the lightest broker work keeps them from setting
    // the pace, so that the proxies' differences show.
    acks: { type: "string", default: "1" },
    replication: { type: "string", default: "1" },
    paths: { type: "string", default: "direct,kgate,kgate-3,kafka-proxy" },
    baseline: { type: "string" },
  },
});
const quick = values.quick;
const opts = {
  rounds: Number(values.rounds ?? (quick ? 1 : 3)),
  records: Number(values.records ?? (quick ? 20_000 : 200_000)),
  rate: Number(values.rate),
  rateRecords: Number(values["rate-records"] ?? (quick ? 10_000 : 60_000)),
  recordSize: Number(values["record-size"]),
  connections: Number(values.connections ?? (quick ? 200 : 1000)),
  idleSeconds: Number(values["idle-seconds"] ?? (quick ? 5 : 30)),
  afterCloseSeconds: Number(values["after-close-seconds"] ?? (quick ? 5 : 60)),
  acks: values.acks,
  replication: Number(values.replication),
  paths: values.paths.split(","),
};

/** A way to the brokers: direct, or through proxy processes (CPU and RSS are summed over them). */
interface Path {
  name: string;
  bootstrap: string;
  /** Processes of the proxy (none for direct). */
  pids: number[];
}

/** What one round measured on one path. */
interface RoundResult {
  produceMBs: number;
  consumeMBs: number;
  cpuPerGiB: number | null;
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  rateRecordsPerSec: number;
  cpuPerRateRun: number | null;
  cpuPer1kRequests: number | null;
}

/** Memory and idle figures of one proxy. */
interface IdleResult {
  idleCpuPercent: number;
  rssIdleMiB: number;
  kibPerConnection: number;
  rssAfterCloseMiB?: number;
}

function totalCpu(path: Path): number {
  return path.pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
}

function totalRss(path: Path): number {
  return path.pids.reduce((sum, pid) => sum + rssBytes(pid), 0);
}

async function produce(kafka: KafkaCluster, bootstrap: string, topic: string, records: number, rate: number) {
  const r = await kafka.runJava("org.apache.kafka.tools.ProducerPerformance", [
    "--topic",
    topic,
    "--num-records",
    String(records),
    "--record-size",
    String(opts.recordSize),
    "--throughput",
    String(rate),
    "--print-metrics",
    "--producer-props",
    `bootstrap.servers=${bootstrap}`,
    `acks=${opts.acks}`,
  ], { timeoutMs: 600_000 });
  // "60000 records sent, 4999.6 records/sec (4.88 MB/sec), 3.1 ms avg latency, 250.00 ms max latency,
  //  2 ms 50th, 5 ms 95th, 9 ms 99th, 20 ms 99.9th."
  const m =
    /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, [\d.]+ ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th/
      .exec(r.stdout);
  const requests = /^producer-metrics:request-total:\{[^}]*\}\s*:\s*([\d.]+)/m.exec(r.stdout);
  if (r.code !== 0 || !m || !requests) {
    throw new Error(`ProducerPerformance failed (${r.code}):\n${r.stdout.slice(-3000)}\n${r.stderr}`);
  }
  return {
    recordsPerSec: Number(m[2]),
    mbPerSec: Number(m[3]),
    p50: Number(m[5]),
    p95: Number(m[6]),
    p99: Number(m[7]),
    p999: Number(m[8]),
    requests: Number(requests[1]),
  };
}

async function consume(kafka: KafkaCluster, bootstrap: string, topic: string, records: number) {
  const r = await kafka.runJava("org.apache.kafka.tools.ConsumerPerformance", [
    "--bootstrap-server",
    bootstrap,
    "--topic",
    topic,
    "--messages",
    String(records),
    "--timeout",
    "60000",
  ], { timeoutMs: 600_000 });
  // header: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, ...
  const cols = (r.stdout.trim().split("\n").at(-1) ?? "").split(",").map((s) => s.trim());
  if (r.code !== 0 || cols.length < 6) {
    throw new Error(`ConsumerPerformance failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { mbPerSec: Number(cols[3]) };
}

async function runRound(kafka: KafkaCluster, path: Path, round: number): Promise<RoundResult> {
  const proxied = path.pids.length > 0;
  // Topic names allow ASCII alphanumerics, '.', '_' and '-'.
  const prefix = `bench-${path.name.replace(/[^A-Za-z0-9._-]/g, "_")}-${round}`;
  const full = `${prefix}-full-${Date.now()}`;
  const rated = `${prefix}-rate-${Date.now()}`;
  await kafka.createTopic(full, 3, opts.replication);
  await kafka.createTopic(rated, 3, opts.replication);
  try {
    let cpu0 = proxied ? totalCpu(path) : 0;
    const p = await produce(kafka, path.bootstrap, full, opts.records, -1);
    const c = await consume(kafka, path.bootstrap, full, opts.records);
    const gib = 2 * opts.records * opts.recordSize / 2 ** 30;
    const cpuPerGiB = proxied ? (totalCpu(path) - cpu0) / gib : null;
    cpu0 = proxied ? totalCpu(path) : 0;
    const r = await produce(kafka, path.bootstrap, rated, opts.rateRecords, opts.rate);
    const cpuRate = proxied ? totalCpu(path) - cpu0 : null;
    return {
      produceMBs: p.mbPerSec,
      consumeMBs: c.mbPerSec,
      cpuPerGiB,
      p50: r.p50,
      p95: r.p95,
      p99: r.p99,
      p999: r.p999,
      rateRecordsPerSec: r.recordsPerSec,
      cpuPerRateRun: cpuRate,
      cpuPer1kRequests: cpuRate === null ? null : cpuRate / (r.requests / 1000),
    };
  } finally {
    await kafka.deleteTopic(full, rated).catch((error) => console.error(`deleting topics: ${error.message}`));
  }
}

async function measureMemory(path: Path): Promise<IdleResult> {
  const rssIdle = totalRss(path);
  const conns = await openIdleConnections(path.bootstrap, opts.connections);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const rssLoaded = totalRss(path);
  for (const c of conns) c.close();
  return {
    idleCpuPercent: NaN,
    rssIdleMiB: rssIdle / 2 ** 20,
    kibPerConnection: (rssLoaded - rssIdle) / 1024 / opts.connections,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function fmt(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || Number.isNaN(x) ? "-" : x.toFixed(digits);
}

/** The commit of this tree, "+changes" when the code (not the docs or benches) differs from it. */
async function gitCommit(): Promise<string> {
  try {
    const out = await new Deno.Command("git", { args: ["rev-parse", "--short", "HEAD"], stdout: "piped" })
      .output();
    const dirty = await new Deno.Command("git", {
      args: ["status", "--porcelain", "--untracked-files=no", "--", "main.ts", "src", "deno.json"],
      stdout: "piped",
    })
      .output();
    return new TextDecoder().decode(out.stdout).trim() + (dirty.stdout.length > 0 ? "+changes" : "");
  } catch {
    return "unknown";
  }
}

// --- main ---------------------------------------------------------------------------------------------

const [singleHost, ...rest] = loopbackHosts("bench");
const clusterHosts = rest.slice(0, 3);
const proxyHost = rest[3];
const baselineHost = rest[4];
const { kafka, owned } = await benchKafka();
const gateways: GatewayProcess[] = [];
let kafkaProxy: KafkaProxyProcess | undefined;
let baseline: BaselineNode | undefined;
const notes: string[] = [];
const paths: Path[] = [];
async function stopAll(): Promise<void> {
  await Promise.all(gateways.map((g) => g.stop()));
  await kafkaProxy?.stop();
  await baseline?.stop();
  if (owned) await kafka.stop();
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    console.error(`${signal}: stopping the proxies${owned ? " and the Kafka cluster" : ""}`);
    stopAll().finally(() => Deno.exit(130));
  });
}
try {
  const want = (name: string) => opts.paths.includes(name);
  if (want("direct")) paths.push({ name: "direct", bootstrap: kafka.bootstrapServers, pids: [] });
  const env = { GATEWAY_LOG_LEVEL: "warning" };
  if (want("kgate")) {
    const node = await GatewayProcess.start({ host: singleHost, kafka, env });
    gateways.push(node);
    paths.push({ name: "kgate", bootstrap: node.bootstrap, pids: [node.child.pid] });
  }
  if (want("kgate-3")) {
    const clusterId = uniqueClusterId("bench");
    const nodes: GatewayProcess[] = [];
    for (const host of clusterHosts) {
      const node = await GatewayProcess.start({
        host,
        kafka,
        env: { ...env, GATEWAY_CLUSTER_ID: clusterId },
      });
      nodes.push(node);
      gateways.push(node);
    }
    await untilClusterIs(nodes, clusterHosts, 60_000);
    paths.push({ name: "kgate-3", bootstrap: nodes[0].bootstrap, pids: nodes.map((n) => n.child.pid) });
  }
  if (values.baseline) {
    baseline = await BaselineNode.start(values.baseline, baselineHost, kafka.bootstrapServers);
    paths.push({
      name: `kgate@${baseline.commit}`,
      bootstrap: baseline.bootstrap,
      pids: [baseline.child.pid],
    });
  }
  if (want("kafka-proxy")) {
    const binary = await findKafkaProxy();
    if ("skipped" in binary) {
      notes.push(`kafka-proxy row skipped: ${binary.skipped}`);
    } else {
      kafkaProxy = await KafkaProxyProcess.start(binary.path, kafka, proxyHost, 32400);
      paths.push({ name: "kafka-proxy", bootstrap: kafkaProxy.bootstrap, pids: [kafkaProxy.child.pid] });
    }
  }
  for (const note of notes) console.error(note);

  // Phase 1: idle CPU (all proxies side by side), then memory per connection, one proxy at a time.
  const proxies = paths.filter((p) => p.pids.length > 0);
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const idle = await sampleIdle(proxies.flatMap((p) => p.pids), opts.idleSeconds);
  const memory = new Map<string, IdleResult>();
  let pidIndex = 0;
  for (const path of proxies) {
    const cpu = idle.cpuSeconds.slice(pidIndex, pidIndex + path.pids.length).reduce((a, b) => a + b, 0);
    pidIndex += path.pids.length;
    const m = await measureMemory(path);
    // Per node for a cluster: CPU and RSS are sums over its nodes.
    m.idleCpuPercent = 100 * cpu / idle.seconds / path.pids.length;
    m.rssIdleMiB /= path.pids.length;
    memory.set(path.name, m);
    console.error(
      `${path.name}: idle CPU ${fmt(m.idleCpuPercent, 2)} % of a core per node, RSS idle ${
        fmt(m.rssIdleMiB)
      } MiB per node, ${opts.connections} connections: +${fmt(m.kibPerConnection)} KiB each`,
    );
  }
  await new Promise((resolve) => setTimeout(resolve, opts.afterCloseSeconds * 1000));
  for (const path of proxies) {
    memory.get(path.name)!.rssAfterCloseMiB = totalRss(path) / 2 ** 20 / path.pids.length;
  }

  // Phase 2: traffic rounds.
  const results = new Map<string, RoundResult[]>(paths.map((p) => [p.name, []]));
  for (let round = 1; round <= opts.rounds; round++) {
    const shift = (round - 1) % paths.length;
    const order = [...paths.slice(shift), ...paths.slice(0, shift)];
    for (const path of order) {
      const r = await runRound(kafka, path, round);
      results.get(path.name)!.push(r);
      console.error(`round ${round} ${path.name}: ${JSON.stringify(r)}`);
    }
  }

  const med = (name: string, key: keyof RoundResult): number | null => {
    const xs = results.get(name)!.map((r) => r[key]).filter((x): x is number => x !== null);
    return xs.length ? median(xs) : null;
  };
  const ratio = (name: string, key: keyof RoundResult): string => {
    // Without the direct path (`--paths kgate,kafka-proxy`) there is nothing to compare with.
    if (!results.has("direct")) return "-";
    const base = med("direct", key);
    const x = med(name, key);
    return base && x !== null ? `${(x / base).toFixed(2)}×` : "-";
  };
  console.log(
    `\nkgate ${await gitCommit()}, ${
      new Date().toISOString().slice(0, 16)
    }Z, Kafka ${kafka.version}, medians of ${opts.rounds} round(s); ` +
      `${opts.records} records of ${opts.recordSize} B at full speed, ${opts.rateRecords} at ${opts.rate} records/s; ` +
      `acks=${opts.acks}, 3 partitions, replication ${opts.replication}; ${opts.connections} idle connections` +
      (notes.length ? `; ${notes.join("; ")}` : "") + ":\n",
  );
  console.log(
    "| path | produce MB/s | consume MB/s | CPU s per GiB | p50 / p95 / p99 / p99.9 ms at " +
      `${opts.rate}/s | p95, p99 × direct | CPU s per ${opts.rateRecords} records | CPU s per 1,000 requests | ` +
      `idle CPU % per node | RSS idle MiB per node | KiB per connection | RSS ${opts.afterCloseSeconds} s after close MiB |`,
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const path of paths) {
    const n = path.name;
    const m = memory.get(n);
    const ratioOf = (key: keyof RoundResult) => (n === "direct" ? "" : ` (${ratio(n, key)})`);
    console.log(
      `| ${n} | ${fmt(med(n, "produceMBs"))}${ratioOf("produceMBs")} | ${fmt(med(n, "consumeMBs"))}${
        ratioOf("consumeMBs")
      } | ${fmt(med(n, "cpuPerGiB"), 2)} | ${fmt(med(n, "p50"), 0)} / ${fmt(med(n, "p95"), 0)} / ${
        fmt(med(n, "p99"), 0)
      } / ${fmt(med(n, "p999"), 0)} | ${n === "direct" ? "1" : `${ratio(n, "p95")}, ${ratio(n, "p99")}`} | ${
        fmt(med(n, "cpuPerRateRun"), 2)
      } | ${fmt(med(n, "cpuPer1kRequests"), 3)} | ${fmt(m?.idleCpuPercent, 2)} | ${fmt(m?.rssIdleMiB)} | ${
        fmt(m?.kibPerConnection)
      } | ${fmt(m?.rssAfterCloseMiB)} |`,
    );
  }
} finally {
  await stopAll();
}
Deno.exit(0);
