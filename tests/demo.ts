/**
 * `deno task demo`: starts the local Kafka harness (brokers 1, 2, 3 in racks rack-a, rack-b, rack-c) and
 * a gateway cluster of three kgate nodes on 127.0.0.2, 127.0.0.3 (both rack-a) and 127.0.0.4 (rack-b),
 * shows the broker-to-node mapping clients receive (the default client-consistent policy, rack-aware),
 * prints how to connect kcat
 * and the HTTP API, and runs until Ctrl-C or SIGTERM.
 *
 * `KGATE_KAFKA_PORT_BASE` moves the Kafka brokers (default 16092).
 */
import process from "node:process";
import { clientRackFromClientId } from "../src/cluster/mapping.ts";
import { parseConfig } from "../src/config/mod.ts";
import { type Gateway, startGateway } from "../src/node/start.ts";
import { setUpLogging } from "../src/log.ts";
import { KafkaCluster } from "./harness/kafka_cluster.ts";
import { fetchMetadata } from "./harness/kafka_wire.ts";

const PORT_START = 6969;
const HTTP_PORT = 8888;
const CLUSTER_ID = "demo";
/** Each node binds and advertises its own loopback address, like a host of its own. */
const NODES = [
  { host: "127.0.0.2", rack: "rack-a" },
  { host: "127.0.0.3", rack: "rack-a" },
  { host: "127.0.0.4", rack: "rack-b" },
] as const;
const JOIN_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;

// kafkajs 2.2.4 (the membership group's client) arms timers with negative delays (harmless, clamped to
// 1 ms); keep the output quiet.
process.removeAllListeners("warning");
process.on("warning", (warning) => {
  if (warning.name !== "TimeoutNegativeWarning") console.error(warning);
});

const abort = new AbortController();
let kafka: KafkaCluster | undefined;
const gateways: Gateway[] = [];
let stopping: Promise<void> | undefined;

/** Closes the gateways, then the Kafka cluster, then exits; once only (later signals are ignored). */
function stop(code: number): Promise<void> {
  stopping ??= (async () => {
    abort.abort();
    console.log("demo: stopping");
    const closed = await Promise.allSettled(gateways.map((g) => g.close({ drainMs: 0 })));
    for (const result of closed) {
      if (result.status === "rejected") console.error(`demo: closing a gateway failed: ${result.reason}`);
    }
    // Interrupted while the cluster was still starting: the harness's watchdog kills its brokers once
    // this process is gone.
    await kafka?.stop();
    console.log("demo: stopped");
    Deno.exit(code);
  })();
  return stopping;
}

Deno.addSignalListener("SIGINT", () => void stop(0));
Deno.addSignalListener("SIGTERM", () => void stop(0));

try {
  await main();
} catch (error) {
  if (!stopping) {
    console.error(`demo: ${error instanceof Error ? error.message : error}`);
    await stop(1);
  }
}

async function main(): Promise<void> {
  const portBase = Number(Deno.env.get("KGATE_KAFKA_PORT_BASE") ?? 16092);
  console.log(
    `demo: starting a 3-broker Kafka cluster on 127.0.0.1:${portBase}-${portBase + 2}` +
      " (first run downloads the jars with mvn)...",
  );
  kafka = await KafkaCluster.start({ portBase });
  await setUpLogging("warning", "text");
  console.log(`demo: starting ${NODES.length} kgate nodes (gateway cluster "${CLUSTER_ID}")...`);
  await Promise.all(NODES.map(async (node, i) => {
    gateways[i] = await startGateway(
      parseConfig({
        KAFKA_BOOTSTRAP_SERVERS: kafka!.bootstrapServers,
        GATEWAY_BIND_HOST: node.host,
        GATEWAY_ADVERTISED_HOST: node.host,
        GATEWAY_PORT_START: String(PORT_START),
        GATEWAY_HTTP_PORT: String(HTTP_PORT),
        GATEWAY_CLUSTER_ID: CLUSTER_ID,
        GATEWAY_RACK_ID: node.rack,
        GATEWAY_LOG_LEVEL: "warning",
        GATEWAY_AUDIT_KAFKA_ENABLED: "false",
      }),
      { signal: abort.signal },
    );
  }));
  await untilEveryNodeSeesAll();

  const node = NODES[0].host;
  const bootstrap = `${node}:${PORT_START}`;
  // Every request first, then one print: the audit lines of the requests' connections come before it.
  // The same client through two nodes, two other clients, and a client naming its rack.
  const requests = [
    { via: NODES[0].host, clientId: "demo" },
    { via: NODES[1].host, clientId: "demo" },
    { via: NODES[0].host, clientId: "billing" },
    { via: NODES[0].host, clientId: "orders" },
    { via: NODES[0].host, clientId: "demo,kgate_rack=rack-b" },
  ];
  console.log(
    `demo: ${requests.length} Metadata requests, one connection each ` +
      "(the JSON lines are the gateway's audit log of those connections):",
  );
  const answers = [];
  for (const { via, clientId } of requests) {
    const through = `${via}:${PORT_START}`;
    answers.push({ through, clientId, brokers: await metadata(through, clientId) });
  }
  await new Promise((resolve) => setTimeout(resolve, 300));

  const nodeList = NODES.map((n) => `${n.host} (${n.rack})`).join(", ");
  const brokerList = kafka.info.brokers.map((b) => `${b.id} (${b.rack})`).join(", ");
  const lines = [
    "",
    `demo: Kafka ${kafka.version}, brokers ${brokerList}: ${kafka.bootstrapServers}`,
    `demo: kgate nodes ${nodeList}, Kafka ports ${PORT_START}-${PORT_START + gateways[0].ports.length - 1}` +
    ` (broker b on port ${PORT_START}+b), HTTP API on port ${HTTP_PORT}`,
    "",
    "For each broker a client is sent to a node in the client's rack (kgate_rack=<rack> in its client.id),",
    "else to a node in the broker's rack, else to any node. Among several candidates the client's hash picks",
    "one (client-consistent: weighted rendezvous hashing of the client's host and client.id, the broker and",
    "the node): every node gives a client the same answer, different clients spread over the nodes.",
  ];
  answers.forEach(({ through, clientId, brokers }, i) => {
    lines.push("", `Metadata request ${i + 1} through ${through}, client.id "${clientId}":`);
    const mapped = brokers.map((b) => `  broker ${b.nodeId} (${b.rack ?? "no rack"}) -> ${b.host}:${b.port}`);
    const width = Math.max(...mapped.map((m) => m.length)) + 3;
    brokers.forEach((b, j) => {
      lines.push(`${mapped[j].padEnd(width)}${why(b.rack, clientRackFromClientId(clientId))}`);
    });
  });
  const users = "-u admin:kgate";
  lines.push(
    "",
    `Connect your clients to any node, e.g. ${bootstrap}:`,
    "",
    `  kcat -b ${bootstrap} -L`,
    `  kcat -b ${bootstrap} -L -X client.id=demo,kgate_rack=rack-b`,
    `  seq 1 10 | kcat -b ${bootstrap} -P -t demo`,
    `  kcat -b ${bootstrap} -C -t demo -o beginning -e`,
    "",
    "HTTP API (user admin, password kgate; the same on every node):",
    "",
    `  curl ${users} http://${node}:${HTTP_PORT}/api/v1/cluster`,
    `  curl ${users} http://${node}:${HTTP_PORT}/api/v1/brokers`,
    `  curl ${users} 'http://${node}:${HTTP_PORT}/api/v1/mapping?rack=rack-b'`,
    `  curl http://${node}:${HTTP_PORT}/health/ready`,
    `  http://${node}:${HTTP_PORT}/docs (API documentation, in a browser)`,
    "",
    "demo: Ctrl-C stops the gateways and the Kafka cluster.",
  );
  console.log(lines.join("\n"));
}

/** Waits (bounded) until every node's membership view lists all the nodes. */
async function untilEveryNodeSeesAll(): Promise<void> {
  const deadline = Date.now() + JOIN_TIMEOUT_MS;
  const sizes = () => gateways.map((g) => g.membership.view().members.length);
  while (!sizes().every((n) => n === NODES.length)) {
    if (Date.now() > deadline) {
      throw new Error(
        `the nodes did not all see each other within ${JOIN_TIMEOUT_MS} ms (members seen: ${
          sizes().join(", ")
        })`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The brokers as one Metadata request on a connection of its own returns them. */
async function metadata(
  bootstrap: string,
  clientId: string,
): Promise<{ nodeId: number; host: string; port: number; rack: string | null }[]> {
  const { brokers } = await fetchMetadata(bootstrap, [], REQUEST_TIMEOUT_MS, clientId);
  return brokers.sort((a, b) => a.nodeId - b.nodeId);
}

/** Why a broker goes where it goes, by the rules of `src/cluster/mapping.ts`. */
function why(brokerRack: string | null, clientRack: string | null): string {
  const inRack = (rack: string | null) => NODES.filter((n) => n.rack === rack).map((n) => n.host);
  const choice = (hosts: string[], rack: string) =>
    hosts.length === 1
      ? `${hosts[0]} is the only node in ${rack}`
      : `hashed over ${rack}'s nodes ${hosts.join(", ")}`;
  if (clientRack !== null && inRack(clientRack).length > 0) {
    return `the client is in ${clientRack}: ${choice(inRack(clientRack), clientRack)}`;
  }
  if (brokerRack !== null && inRack(brokerRack).length > 0) return choice(inRack(brokerRack), brokerRack);
  return `no node in ${brokerRack ?? "the broker's rack"}: hashed over all nodes`;
}
