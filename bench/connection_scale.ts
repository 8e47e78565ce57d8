/**
 * Connections at scale (issue 13, part 4), full size: silent connections to one node in steps of
 * 1,000, 10,000 and 100,000 (cumulative), then 10,000 more that each made one ApiVersions exchange.
 * After each step: the node's RSS (VmRSS from /proc/<pid>/status) and RSS per open connection, its open
 * descriptors, its established connections to the brokers, and the median time a new client takes to be
 * served (connect, ApiVersions, Metadata). The clients run in this process, the node in its own, so the
 * clients' memory does not count. They bind several loopback source addresses (127.0.0.142-150) and
 * spread over four of the node's ports, which keeps every (source, destination) pair well inside the
 * ephemeral port range.
 *
 *   deno run -A bench/connection_scale.ts [--silent 1000,10000,100000] [--active 10000] [--probes 5]
 *     [--settle-s 60]
 *
 * Last, the node's RSS `--settle-s` seconds after every connection closed (issue 13's goal: within 10 %
 * of the idle figure a minute after).
 *
 * Raises its descriptor limit (prlimit on itself; above the hard limit only as root with
 * CAP_SYS_RESOURCE) to what the sizes need: the node holds every connection plus one broker connection
 * per active client, so the default sizes need about 121,000. Where the hard limit is lower the sizes
 * must fit it, e.g. with a hard limit of 20,000: `--silent 1000,10000,18000 --active 0`, then
 * `--silent 1000 --active 8500`. Needs about 2 GB of free memory, and a Kafka cluster: the one in KGATE_TEST_KAFKA (as `deno task test` sets it) when set, else
 * its own (ports from 18092). The node uses 127.0.0.141 (the connection_scale block: do not run it
 * alongside tests/integration/connection_scale_test.ts). The CI-sized run is that test.
 */
import { parseArgs } from "node:util";
import { KafkaCluster } from "../tests/harness/kafka_cluster.ts";
import { KAFKA_ENV } from "../tests/harness/mod.ts";
import { GatewayProcess } from "../tests/support/gateway_process.ts";
import { loopbackHosts } from "../tests/support/loopback.ts";
import { connectionScale, formatScale, type ScaleStep } from "../tests/support/connection_scale.ts";
import { raiseFileLimit } from "../tests/support/peer_swarm.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    silent: { type: "string", default: "1000,10000,100000" },
    active: { type: "string", default: "10000" },
    probes: { type: "string", default: "5" },
    "settle-s": { type: "string", default: "60" },
  },
});
const silentSteps = values.silent.split(",").map(Number);
const active = Number(values.active);
const total = silentSteps.at(-1)! + active;

const [host, ...sources] = loopbackHosts("connection_scale");
// The node (which inherits this process's limit) holds every connection, and one broker connection per
// active client; this process holds every connection.
const needed = total + active + 1024;
const limit = await raiseFileLimit(Deno.pid, needed);
if (limit < needed) {
  throw new Error(
    `the descriptor limit is ${limit} (the hard limit; raising it needs root with CAP_SYS_RESOURCE), ` +
      `${needed} needed: pass smaller --silent / --active`,
  );
}

const shared = Deno.env.get(KAFKA_ENV);
const kafka = shared
  ? KafkaCluster.fromInfo(JSON.parse(shared))
  : await KafkaCluster.start({ portBase: 18092 });
const gateway = await GatewayProcess.start({
  host,
  kafka,
  env: {
    GATEWAY_LOG_LEVEL: "warning",
    GATEWAY_FIRST_FRAME_TIMEOUT_MS: "600000",
    GATEWAY_CONNECTIONS_MAX_IDLE_MS: "0",
    GATEWAY_MAX_CONNECTIONS: String(total + 1000),
  },
});
try {
  const result = await connectionScale({
    gateway,
    sources,
    ports: 4,
    silentSteps,
    active,
    brokerPorts: kafka.brokers.map((b) => b.port),
    probes: Number(values.probes),
    settleMs: Number(values["settle-s"]) * 1000,
    onStep: (step: ScaleStep) => console.error(`step: ${JSON.stringify(step)}`),
  });
  console.log(formatScale(result));
  const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
  console.log(
    "\n| open connections | node RSS (MiB) | RSS per connection (KiB) | broker connections | new client (ms) |",
  );
  console.log("| --- | --- | --- | --- | --- |");
  console.log(
    `| none (idle node) | ${mib(result.baseRssBytes)} | | ${result.baseBrokerConnections} | ${
      result.baseNewClientMs.toFixed(1)
    } |`,
  );
  for (const s of result.steps) {
    console.log(
      `| ${s.label} | ${mib(s.rssBytes)} | ${
        (s.rssPerConnection / 1024).toFixed(1)
      } | ${s.brokerConnections} | ${s.newClientMs.toFixed(1)} |`,
    );
  }
  console.log(`| all closed, ${values["settle-s"]} s later | ${mib(result.rssAfterCloseBytes)} | | | |`);
} finally {
  await gateway.stop();
  if (!shared) await kafka.stop();
}
