/**
 * End-to-end throughput: Kafka's ProducerPerformance and ConsumerPerformance (1 KiB records), direct to
 * the brokers and through one kgate node, on a local 3-broker cluster.
 *
 *   deno task bench:throughput [--records N] [--rounds N] [--acks all|1] [--replication N]
 *
 * Prints a Markdown table (the README's figures come from it).
 */
import { parseArgs } from "node:util";
import { KafkaCluster } from "../tests/harness/kafka_cluster.ts";
import { GatewayProcess } from "../tests/support/gateway_process.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    records: { type: "string", default: "200000" },
    rounds: { type: "string", default: "2" },
    acks: { type: "string", default: "all" },
    replication: { type: "string", default: "3" },
  },
});
const records = Number(values.records);
const rounds = Number(values.rounds);
const replication = Number(values.replication);

const kafka = await KafkaCluster.start({ portBase: Number(Deno.env.get("KGATE_KAFKA_PORT_BASE") ?? 18092) });
const gateway = await GatewayProcess.start({
  host: "127.0.0.9",
  kafka,
  env: { GATEWAY_LOG_LEVEL: "warning" },
});

interface Result {
  mbPerSec: number;
  recordsPerSec: number;
  avgLatencyMs?: number;
}

async function produce(bootstrap: string, topic: string): Promise<Result> {
  const r = await kafka.runJava("org.apache.kafka.tools.ProducerPerformance", [
    "--topic",
    topic,
    "--num-records",
    String(records),
    "--record-size",
    "1024",
    "--throughput",
    "-1",
    "--producer-props",
    `bootstrap.servers=${bootstrap}`,
    `acks=${values.acks}`,
  ], { timeoutMs: 300_000 });
  // "200000 records sent, 51234.5 records/sec (50.03 MB/sec), 312.4 ms avg latency, ..."
  const m = /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency/.exec(
    r.stdout,
  );
  if (r.code !== 0 || !m) {
    throw new Error(`ProducerPerformance failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { recordsPerSec: Number(m[2]), mbPerSec: Number(m[3]), avgLatencyMs: Number(m[4]) };
}

async function consume(bootstrap: string, topic: string): Promise<Result> {
  const r = await kafka.runJava("org.apache.kafka.tools.ConsumerPerformance", [
    "--bootstrap-server",
    bootstrap,
    "--topic",
    topic,
    "--messages",
    String(records),
    "--timeout",
    "60000",
  ], { timeoutMs: 300_000 });
  // header: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, ...
  const line = r.stdout.trim().split("\n").at(-1) ?? "";
  const cols = line.split(",").map((s) => s.trim());
  if (r.code !== 0 || cols.length < 6) {
    throw new Error(`ConsumerPerformance failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { mbPerSec: Number(cols[3]), recordsPerSec: Number(cols[5]) };
}

/** CPU seconds (user + system) the gateway process has used so far, from /proc. */
function gatewayCpuSeconds(): number {
  const stat = Deno.readTextFileSync(`/proc/${gateway.child.pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticksPerSecond = 100; // USER_HZ on Linux
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

const rows: string[] = [];
try {
  for (let round = 1; round <= rounds; round++) {
    for (const [path, bootstrap] of [["direct", kafka.bootstrapServers], ["kgate", gateway.bootstrap]]) {
      const topic = `bench-${path}-${round}-${Date.now()}`;
      await kafka.createTopic(topic, 3, replication);
      const cpuBefore = gatewayCpuSeconds();
      const p = await produce(bootstrap, topic);
      const c = await consume(bootstrap, topic);
      // Bytes through the gateway: records produced once and consumed once (1 KiB each).
      const cpu = path === "kgate"
        ? `${((gatewayCpuSeconds() - cpuBefore) / (2 * records * 1024 / 2 ** 30)).toFixed(1)}`
        : "-";
      const row = `| ${round} | ${path} | ${p.mbPerSec.toFixed(1)} | ${p.recordsPerSec.toFixed(0)} | ${
        p.avgLatencyMs?.toFixed(1)
      } | ${c.mbPerSec.toFixed(1)} | ${c.recordsPerSec.toFixed(0)} | ${cpu} |`;
      console.error(row);
      rows.push(row);
    }
  }
} finally {
  await gateway.stop();
  await kafka.stop();
}
console.log(
  `\nProducerPerformance / ConsumerPerformance, ${records} records of 1 KiB, acks=${values.acks}, ` +
    `3 partitions, replication factor ${replication}:\n`,
);
console.log(
  "| round | path | produce MB/s | produce rec/s | produce avg latency ms | consume MB/s | consume rec/s " +
    "| gateway CPU s per GiB |",
);
console.log("|---|---|---|---|---|---|---|---|");
for (const row of rows) console.log(row);
