/**
 * Host (SNI) routing composed with load balancers, through real gateway processes in front of the
 * plaintext test cluster:
 *
 * 1. External load balancer: a real HAProxy (TCP mode, TLS passthrough, `send-proxy-v2`, round robin)
 *    listens on one port (LB_PORT) in front of two nodes in host mode that listen on another
 *    (NODE_SNI_PORT), with internal load balancing off, the PROXY header required, and both
 *    advertising the load balancer's host at the load balancer's port (node A:
 *    `GATEWAY_ADVERTISED_SNI_PORT`; node B: a listener with `PORTS=<LB_PORT>:<NODE_SNI_PORT>`).
 *    Metadata through either node, and the HTTP API's mapping preview, name every broker
 *    `broker<id>.<lb host>:LB_PORT`, no real broker address; kcat and kafkajs produce and consume
 *    through the load balancer's name; every connection HAProxy relayed (to either node) has an OPEN
 *    audit entry on that node naming the client's own address (from the PROXY header) and HAProxy's
 *    as the TCP peer.
 * 2. Internal load balancing: two nodes in one gateway cluster, each with an INTERNAL (plaintext, port
 *    routing) and an EXTERNAL (TLS, SNI) listener. Metadata through either node's EXTERNAL listener names
 *    each broker under the EXTERNAL host of the node the mapping chose (both nodes' hosts appear), the
 *    same answer on both nodes and what the HTTP API's mapping preview shows; INTERNAL answers with the
 *    port-routed endpoints of the same nodes. kcat produces through one node's EXTERNAL listener and
 *    consumes through the other's.
 *
 * Names resolve as in host_routing_test.ts: libnss-wrapper for kcat, a socket factory for kafkajs.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { createTopic, deleteTopic, runKcat, type RunResult, testKafka, uniqueTopic } from "../harness/mod.ts";
import { makeLeafCert, makeTestCa } from "../support/certs.ts";
import { assertRan, gatewayProblems, realAddressesIn } from "../support/clients_util.ts";
import {
  brokerNames,
  brokersListed,
  nssWrapperEnv,
  sniKcat,
  sniSocketFactory,
} from "../support/sni_names.ts";
import { fileFixture, sharedTest } from "../support/fixture.ts";
import { uniqueClusterId } from "../support/gateway_cluster.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { auditEntries, waitForAudit } from "../support/haproxy_audit.ts";
import { HaproxyProcess } from "../support/haproxy_process.ts";
import { HttpApi } from "../support/http_api.ts";
import { consumeValues, quietKafkajsTimerWarnings } from "../support/kafkajs.ts";
import { loopbackHosts } from "../support/loopback.ts";
import { waitUntil } from "../support/wait.ts";

quietKafkajsTimerWarnings();

/**
 * NODE_A, NODE_B: the gateway nodes (part 1 and, on other ports, part 2). LB: HAProxy (also its source
 * address towards the nodes). CLIENT: the kafkajs clients' source address.
 */
const [NODE_A, NODE_B, LB, CLIENT] = loopbackHosts("host_routing_lb", 4);
const DOMAIN = "kgate-lb.test";
const LB_NAME = `lb.${DOMAIN}`;
const HOST_A = `a.${DOMAIN}`;
const HOST_B = `b.${DOMAIN}`;
/**
 * Part 1: the port HAProxy listens on (and the nodes advertise; not a harness broker port, 19092+ by
 * default, since those in output count as a leak), and the nodes' own TLS port.
 */
const LB_PORT = 9443;
const NODE_SNI_PORT = 9093;
/** Part 2: each node's INTERNAL port range, EXTERNAL TLS port and HTTP port (8888 is part 1's). */
const INTERNAL_PORT_START = 7969;
const EXTERNAL_PORT = 9094;
const INTERNAL_HTTP_PORT = 8889;
const ADMIN = { username: "admin", password: "kgate" };

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/**
 * The one warning allowed: kafkajs (from CLIENT, through HAProxy) may hang up in the middle of a TLS
 * handshake when it disconnects while a connection it no longer needs is being set up.
 */
const HANDSHAKE_HANGUP = "TLS handshake failed: connection closed during the TLS handshake";
const KAFKAJS_HANGUP = new RegExp(
  `closing connection from \\S+ \\(original source: \\[${
    escapeRegExp(CLIENT)
  }:\\d+\\].*: ${HANDSHAKE_HANGUP}$`,
);
const hostOf = (address: string) => address.slice(0, address.lastIndexOf(":"));

/** The names of one host-routing endpoint: the host and a name per broker. */

const fixture = fileFixture(async (stack) => {
  const kafka = await testKafka();
  const brokerIds = kafka.brokers.map((b) => b.id);
  const ca = await makeTestCa();
  stack.defer(() => Deno.remove(ca.dir, { recursive: true }).catch(() => {}));
  const sans = [LB_NAME, HOST_A, HOST_B].flatMap((h) => [`DNS:${h}`, `DNS:*.${h}`]);
  const cert = await makeLeafCert(ca, { commonName: LB_NAME, subjectAltNames: sans, usage: "server" });

  // The load balancer's names resolve to HAProxy; each node's EXTERNAL names to that node.
  const addresses = new Map<string, string>();
  for (const name of brokerNames(LB_NAME, brokerIds)) addresses.set(name, LB);
  for (const name of brokerNames(HOST_A, brokerIds)) addresses.set(name, NODE_A);
  for (const name of brokerNames(HOST_B, brokerIds)) addresses.set(name, NODE_B);
  const resolving = await nssWrapperEnv(ca.dir, addresses);

  const started: GatewayProcess[] = [];
  stack.defer(async () => {
    for (const gw of started) {
      const status = await gw.stop();
      assert.equal(status.code, 0, gw.logs);
      assert.deepEqual(gatewayProblems(gw.logs, [KAFKAJS_HANGUP]), [], gw.logs);
    }
  });
  const start = async (host: string, portStart: number, env: Record<string, string>, tlsOnly: boolean) => {
    const gw = await GatewayProcess.start({
      host,
      kafka,
      portStart,
      // A TLS (and PROXY header) port is watched for its log line: a bare TCP probe would be refused.
      waitReady: !tlsOnly,
      env: { GATEWAY_LOG_LEVEL: "info", ...env },
    });
    started.push(gw);
    if (tlsOnly) {
      await gw.waitForLog(new RegExp(`listening on ${escapeRegExp(host)} ports ${portStart}-`), 30_000);
    }
    return gw;
  };

  // Part 1: host routing behind HAProxy, every name under the load balancer's host; node A from the
  // single-listener settings, node B from the listener settings (`<advertised port>:<listening port>`).
  const lbCluster = uniqueClusterId("host-routing-lb");
  const behindLb = (nodeId: string, listener: Record<string, string>) => ({
    GATEWAY_CLUSTER_ID: lbCluster,
    GATEWAY_NODE_ID: nodeId,
    GATEWAY_FEATURE_FLAGS_INTERNAL_LOAD_BALANCING: "false",
    GATEWAY_FEATURE_FLAGS_HAPROXY_PROTOCOL: "true",
    GATEWAY_PROXY_PROTOCOL_TRUSTED_CIDRS: `${LB}/32`,
    ...listener,
  });
  const singleListener = {
    GATEWAY_ADVERTISED_HOST: LB_NAME,
    GATEWAY_ROUTING_MECHANISM: "host",
    GATEWAY_ADVERTISED_SNI_PORT: String(LB_PORT),
    GATEWAY_SECURITY_PROTOCOL: "SSL",
    GATEWAY_SSL_CERT_FILE: cert.certFile,
    GATEWAY_SSL_KEY_FILE: cert.keyFile,
  };
  const namedListener = {
    GATEWAY_ADVERTISED_HOST: "",
    GATEWAY_PORT_START: "",
    GATEWAY_LISTENER_LB_PORTS: `${LB_PORT}:${NODE_SNI_PORT}`,
    GATEWAY_LISTENER_LB_ADVERTISED_HOST: LB_NAME,
    GATEWAY_LISTENER_LB_ROUTING: "sni",
    GATEWAY_LISTENER_LB_SECURITY_PROTOCOL: "SSL",
    GATEWAY_LISTENER_LB_SSL_CERT_FILE: cert.certFile,
    GATEWAY_LISTENER_LB_SSL_KEY_FILE: cert.keyFile,
  };
  // Part 2: internal load balancing, two listeners per node.
  const ilbCluster = uniqueClusterId("host-routing-ilb");
  const twoListeners = (ip: string, externalHost: string) => ({
    GATEWAY_CLUSTER_ID: ilbCluster,
    GATEWAY_HTTP_PORT: String(INTERNAL_HTTP_PORT),
    GATEWAY_ADVERTISED_HOST: "",
    GATEWAY_PORT_START: "",
    GATEWAY_LISTENER_INTERNAL_BIND_ADDRESS: ip,
    GATEWAY_LISTENER_INTERNAL_PORTS: `${INTERNAL_PORT_START}-${INTERNAL_PORT_START + 5}`,
    GATEWAY_LISTENER_INTERNAL_ADVERTISED_HOST: ip,
    GATEWAY_LISTENER_INTERNAL_ROUTING: "port",
    GATEWAY_LISTENER_EXTERNAL_BIND_ADDRESS: ip,
    GATEWAY_LISTENER_EXTERNAL_PORTS: String(EXTERNAL_PORT),
    GATEWAY_LISTENER_EXTERNAL_ADVERTISED_HOST: externalHost,
    GATEWAY_LISTENER_EXTERNAL_ROUTING: "sni",
    GATEWAY_LISTENER_EXTERNAL_SECURITY_PROTOCOL: "SSL",
    GATEWAY_LISTENER_EXTERNAL_SSL_CERT_FILE: cert.certFile,
    GATEWAY_LISTENER_EXTERNAL_SSL_KEY_FILE: cert.keyFile,
  });
  const [lbA, lbB, ilbA, ilbB] = await Promise.all([
    start(NODE_A, NODE_SNI_PORT, behindLb("lb-node-a", singleListener), true),
    start(NODE_B, NODE_SNI_PORT, behindLb("lb-node-b", namedListener), true),
    start(NODE_A, INTERNAL_PORT_START, twoListeners(NODE_A, HOST_A), false),
    start(NODE_B, INTERNAL_PORT_START, twoListeners(NODE_B, HOST_B), false),
  ]);
  const haproxy = await HaproxyProcess.start({
    mode: "v2",
    routes: [{
      bind: LB,
      ports: [LB_PORT, LB_PORT],
      target: [NODE_A, NODE_B],
      targetPort: NODE_SNI_PORT,
      source: LB,
    }],
  });
  stack.defer(() => haproxy.stop());

  // Each cluster's two nodes see each other before anything is asked.
  const members = async (gw: GatewayProcess) => {
    const res = await new HttpApi(gw.httpUrl).get("/api/v1/cluster", { auth: ADMIN });
    return (JSON.parse(res.body) as { members: unknown[] }).members.length;
  };
  await waitUntil(
    async () => (await Promise.all([lbA, lbB, ilbA, ilbB].map(members))).every((n) => n === 2),
    30_000,
    "two members in each gateway cluster",
  );
  const topics: string[] = [];
  stack.defer(() => deleteTopic(...topics).catch(() => {}));
  return { kafka, ca, addresses, resolving, lbA, lbB, ilbA, ilbB, haproxy, topics };
});

type Fixture = Awaited<ReturnType<typeof fixture.get>>;

/** kcat with the names resolved by libnss-wrapper, over TLS trusting the test CA. */
function kcat(f: Fixture, args: string[], stdin?: string): Promise<RunResult> {
  return sniKcat(f.resolving, f.ca.certFile, args, stdin);
}

/** A topic of 3 partitions, deleted at the end. */
async function newTopic(f: Fixture, prefix: string): Promise<string> {
  const topic = uniqueTopic(prefix);
  f.topics.push(topic);
  await createTopic(topic, 3, 3);
  return topic;
}

/** kcat -P then kcat -C: every record comes back. */
async function kcatRoundTrip(
  f: Fixture,
  topic: string,
  produceVia: string,
  consumeVia: string,
): Promise<string[]> {
  const records = Array.from({ length: 100 }, (_, i) => `kcat-${i}`);
  assertRan(
    await kcat(f, ["-P", "-b", produceVia, "-t", topic, "-X", "acks=all"], records.join("\n") + "\n"),
    `kcat -P through ${produceVia}`,
  );
  const consumed = await kcat(f, [
    "-C",
    "-b",
    consumeVia,
    "-t",
    topic,
    "-o",
    "beginning",
    "-e",
    "-q",
    "-f",
    "%s\n",
  ]);
  assertRan(consumed, `kcat -C through ${consumeVia}`);
  const seen = consumed.stdout.split("\n").filter((l) => l.startsWith("kcat-"));
  assert.deepEqual(seen.toSorted(), records.toSorted(), `kcat read back what it wrote through ${consumeVia}`);
  return records;
}

sharedTest(
  "external load balancer + SNI: HAProxy (TLS passthrough, PROXY v2) on one port in front of two host-routing nodes; Metadata names only broker<id>.<lb host>:<lb port>",
  async () => {
    const f = await fixture.get();
    const expected = new Map(f.kafka.brokers.map((b) => [b.id, `broker${b.id}.${LB_NAME}:${LB_PORT}`]));
    // HAProxy takes turns: a few bootstrap connections reach both nodes, and each answers the same.
    const answeredBy = new Set<string>();
    for (let attempt = 1; answeredBy.size < 2; attempt++) {
      assert.ok(attempt <= 6, `kcat -L reached only ${[...answeredBy]} through HAProxy`);
      const from = f.haproxy.output.length;
      const metadata = await kcat(f, ["-L", "-b", `${LB_NAME}:${LB_PORT}`]);
      assertRan(metadata, "kcat -L through the load balancer");
      assert.deepEqual(realAddressesIn(metadata.stdout, f.kafka), [], metadata.stdout);
      for (const node of [NODE_A, NODE_B]) assert.ok(!metadata.stdout.includes(node), metadata.stdout);
      assert.ok(
        !metadata.stdout.includes(`:${NODE_SNI_PORT}`),
        "the nodes' own port is not advertised",
      );
      assert.deepEqual(brokersListed(metadata.stdout), expected, metadata.stdout);
      for (const c of f.haproxy.connections(from)) answeredBy.add(hostOf(c.server));
    }
    // The HTTP API's mapping preview says the same on both nodes.
    for (const node of [f.lbA, f.lbB]) {
      const res = await new HttpApi(node.httpUrl).get("/api/v1/mapping", { auth: ADMIN });
      assert.equal(res.status, 200, res.body);
      const body = JSON.parse(res.body) as { brokers: { brokerId: number; host: string; port: number }[] };
      assert.deepEqual(
        new Map(body.brokers.map((b) => [b.brokerId, `${b.host}:${b.port}`])),
        expected,
        res.body,
      );
    }
  },
);

sharedTest(
  "external load balancer + SNI: kcat and kafkajs produce and consume through the load balancer's name; each node logs the client's own address from the PROXY header",
  async () => {
    const f = await fixture.get();
    const fromHaproxy = f.haproxy.output.length;
    const fromA = f.lbA.logs.length;
    const fromB = f.lbB.logs.length;
    const bootstrap = `${LB_NAME}:${LB_PORT}`;
    const topic = await newTopic(f, "host-routing-lb");
    const kcatRecords = await kcatRoundTrip(f, topic, bootstrap, bootstrap);

    // kafkajs from CLIENT's address: dials each name's address (HAProxy) with the name as SNI.
    const dialled = new Set<string>();
    const socketFactory = sniSocketFactory(f.addresses, f.ca.certFile, dialled, CLIENT);
    const kafka = new Kafka({
      clientId: "kgate-host-routing-lb",
      brokers: [bootstrap],
      ssl: true,
      socketFactory,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 5_000,
    });
    const records = Array.from({ length: 100 }, (_, i) => `kafkajs-${i}`);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: records.map((value) => ({ value })) });
    await producer.disconnect();
    const all = [...kcatRecords, ...records];
    assert.deepEqual(await consumeValues(kafka, topic, all.length, "kgate-host-routing-lb"), all.toSorted());
    const brokerName = new RegExp(`^broker\\d+\\.${escapeRegExp(LB_NAME)}:${LB_PORT}$`);
    const strays = [...dialled].filter((d) => d !== bootstrap && !brokerName.test(d));
    assert.deepEqual(strays, [], `kafkajs dialled ${[...dialled].join(", ")}`);

    // Every connection HAProxy relayed: an OPEN entry on the node it went to, with the client's address
    // (the PROXY header's source) and HAProxy's own as the TCP peer; both nodes served some.
    const relayed = f.haproxy.connections(fromHaproxy);
    assert.ok(relayed.length >= 4, `HAProxy relayed ${relayed.length} connection(s)`);
    const brokersReached = new Set<number>();
    const perNode = new Map<string, number>();
    for (const c of relayed) {
      assert.equal(hostOf(c.backendSource), LB, JSON.stringify(c));
      assert.equal(c.frontend, `${LB}:${LB_PORT}`, JSON.stringify(c));
      const [node, from] = hostOf(c.server) === NODE_A ? [f.lbA, fromA] : [f.lbB, fromB];
      assert.equal(c.server, `${node.host}:${NODE_SNI_PORT}`, JSON.stringify(c));
      const open = await waitForAudit(
        node,
        (e) => e.action !== "CLOSE" && e.connection.remoteAddress === c.backendSource,
        from,
        5_000,
        `OPEN entry of ${JSON.stringify(c)}`,
      );
      assert.equal(open.proxySourceAddress, c.client, JSON.stringify(open));
      assert.equal(open.proxyDestinationAddress, c.frontend, JSON.stringify(open));
      if (open.action === "REJECT") {
        assert.ok(
          hostOf(c.client) === CLIENT && open.reason === HANDSHAKE_HANGUP,
          JSON.stringify(open),
        );
        continue;
      }
      brokersReached.add(open.broker!.id);
      perNode.set(node.host, (perNode.get(node.host) ?? 0) + 1);
    }
    assert.deepEqual([...perNode.keys()].sort(), [NODE_A, NODE_B].sort(), "HAProxy balanced over both nodes");
    assert.deepEqual(
      [...brokersReached].sort(),
      f.kafka.brokers.map((b) => b.id).sort(),
      "the server names reached every broker",
    );
    assert.ok(
      relayed.some((c) => hostOf(c.client) === CLIENT),
      `the kafkajs clients' address reached the nodes: ${relayed.map((c) => c.client)}`,
    );
    // No entry names anyone but HAProxy as the TCP peer: nothing bypassed the load balancer.
    for (const [node, from] of [[f.lbA, fromA], [f.lbB, fromB]] as const) {
      const peers = auditEntries(node.logs, from).map((e) => hostOf(e.connection.remoteAddress));
      assert.deepEqual(peers.filter((p) => p !== LB), [], `${node.host}'s peers`);
    }
  },
);

/** The node a host-routing or port-routing endpoint names (part 2), or undefined. */
function nodeOfEndpoint(endpoint: string, id: number, routing: "sni" | "port"): string | undefined {
  if (routing === "sni") {
    if (endpoint === `broker${id}.${HOST_A}:${EXTERNAL_PORT}`) return NODE_A;
    if (endpoint === `broker${id}.${HOST_B}:${EXTERNAL_PORT}`) return NODE_B;
    return undefined;
  }
  for (const node of [NODE_A, NODE_B]) {
    if (endpoint === `${node}:${INTERNAL_PORT_START + id}`) return node;
  }
  return undefined;
}

sharedTest(
  "internal load balancing + host routing, two listeners per node: EXTERNAL names each broker under the chosen node's host, INTERNAL port-routes to the same node, on both nodes",
  async () => {
    const f = await fixture.get();
    const ids = f.kafka.brokers.map((b) => b.id).sort();
    const nodesSeen = new Set<string>();
    let clientHost: string | undefined;
    // Client-consistent mapping: each client id gets its own (deterministic) choice of nodes.
    for (const clientId of ["lb-app-1", "lb-app-2", "lb-app-3", "lb-app-4", "lb-app-5", "lb-app-6"]) {
      const answers: { via: string; routing: "sni" | "port"; listed: Map<number, string> }[] = [];
      for (const [node, host] of [[f.ilbA, HOST_A], [f.ilbB, HOST_B]] as const) {
        const from = node.logs.length;
        const internal = await runKcat(
          ["-L", "-b", `${node.host}:${INTERNAL_PORT_START}`, "-X", `client.id=${clientId}`],
          { timeoutMs: 30_000 },
        );
        assertRan(internal, `kcat -L through ${node.host}'s INTERNAL listener`);
        clientHost ??= hostOf(
          (await waitForAudit(node, (e) => e.action === "OPEN", from, 5_000, "kcat's OPEN entry"))
            .connection.remoteAddress,
        );
        const external = await kcat(f, [
          "-L",
          "-b",
          `${host}:${EXTERNAL_PORT}`,
          "-X",
          `client.id=${clientId}`,
        ]);
        assertRan(external, `kcat -L through ${host}'s EXTERNAL listener`);
        for (const out of [internal.stdout, external.stdout]) {
          assert.deepEqual(realAddressesIn(out, f.kafka), [], out);
        }
        answers.push({
          via: `${node.host} INTERNAL`,
          routing: "port",
          listed: brokersListed(internal.stdout),
        });
        answers.push({ via: `${host} EXTERNAL`, routing: "sni", listed: brokersListed(external.stdout) });
      }
      // One choice of node per broker: the same through both listeners of both nodes.
      const chosen = new Map<number, string>();
      for (const { via, routing, listed } of answers) {
        assert.deepEqual([...listed.keys()].sort(), ids, `${clientId} through ${via}`);
        for (const [id, endpoint] of listed) {
          const node = nodeOfEndpoint(endpoint, id, routing);
          assert.ok(node, `${clientId} through ${via}: broker ${id} at ${endpoint}`);
          if (!chosen.has(id)) chosen.set(id, node);
          assert.equal(node, chosen.get(id), `${clientId} through ${via}: broker ${id} at ${endpoint}`);
          nodesSeen.add(node);
        }
      }
      // What the HTTP API's preview of each listener shows for this client.
      for (const node of [f.ilbA, f.ilbB]) {
        for (const [listener, routing] of [["EXTERNAL", "sni"], ["INTERNAL", "port"]] as const) {
          const res = await new HttpApi(node.httpUrl).get(
            `/api/v1/mapping?listener=${listener}&clientId=${clientId}&clientHost=${clientHost}`,
            { auth: ADMIN },
          );
          assert.equal(res.status, 200, res.body);
          const body = JSON.parse(res.body) as {
            brokers: { brokerId: number; host: string; port: number }[];
          };
          const preview = new Map(body.brokers.map((b) => [b.brokerId, `${b.host}:${b.port}`]));
          const listed = answers.find((a) => a.routing === routing)!.listed;
          assert.deepEqual(preview, listed, `${node.host}'s preview of ${listener} for ${clientId}`);
        }
      }
      if (nodesSeen.size === 2) break;
    }
    assert.deepEqual([...nodesSeen].sort(), [NODE_A, NODE_B].sort(), "both nodes' hosts were advertised");
  },
);

sharedTest(
  "internal load balancing + host routing: kcat produces through one node's EXTERNAL listener and consumes through the other's",
  async () => {
    const f = await fixture.get();
    const topic = await newTopic(f, "host-routing-ilb");
    await kcatRoundTrip(f, topic, `${HOST_A}:${EXTERNAL_PORT}`, `${HOST_B}:${EXTERNAL_PORT}`);
  },
);
